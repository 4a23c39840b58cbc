// ParseJwks: the keys of a JSON Web Key Set verify tokens exactly as the same
// keys in PEM do, selected by kid; "alg", "use" and "key_ops" are respected;
// and each way a set can be wrong (private members, unsupported key types,
// malformed members, repeated names) is INVALID_ARGUMENT naming the key and
// member without quoting key material.

#include "security/jwks.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security/jwt.h"
#include "tests/testing/test_jwks.h"

namespace casetrail::security {
namespace {

using casetrail::testing::JwkSet;
using casetrail::testing::PublicJwk;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kIssuer[] = "https://idp.northshire.test";
// 2026-01-01T00:00:00Z.
const absl::Time kNow = absl::FromUnixSeconds(1767225600);

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

// A key pair made by OpenSSL ("EC" with "P-256", "RSA" with bits).
template <typename... Args>
KeyPairPem KeyPair(const char* type, Args... args) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, type, args...));
  EXPECT_NE(key, nullptr);
  std::unique_ptr<BIO, BioFree> priv(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, BioFree> pub(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0,
                                     nullptr, nullptr),
            1);
  EXPECT_EQ(PEM_write_bio_PUBKEY(pub.get(), key.get()), 1);
  return {BioText(priv.get()), BioText(pub.get())};
}

KeyPairPem Ed25519() {
  absl::StatusOr<KeyPairPem> pair = GenerateEd25519KeyPair();
  EXPECT_TRUE(pair.ok()) << pair.status();
  return *pair;
}

TokenClaims Claims() {
  TokenClaims claims;
  claims.issuer = kIssuer;
  claims.subject = "ns-sw-1";
  claims.role = "social_worker";
  claims.tenant = "northshire";
  claims.audience = {"casetrail"};
  claims.issued_at = kNow - absl::Minutes(1);
  claims.expires_at = kNow + absl::Hours(1);
  return claims;
}

std::string Sign(const KeyPairPem& key, const std::string& kid) {
  absl::StatusOr<std::string> token =
      SignJwt(Claims(), key.private_key_pem, kid);
  EXPECT_TRUE(token.ok()) << token.status();
  return token.value_or("");
}

absl::StatusOr<JwtVerifier> VerifierOf(std::vector<JwtVerifier::Key> keys) {
  JwtVerifier::Issuer issuer;
  issuer.issuer = kIssuer;
  issuer.audience = "casetrail";
  issuer.keys = std::move(keys);
  return JwtVerifier::Create({std::move(issuer)});
}

// The set is refused with INVALID_ARGUMENT whose message holds `naming`.
void ExpectRefused(const std::string& json, absl::string_view naming) {
  absl::StatusOr<std::vector<JwtVerifier::Key>> keys = ParseJwks(json);
  ASSERT_FALSE(keys.ok()) << "accepted " << json;
  EXPECT_TRUE(absl::IsInvalidArgument(keys.status())) << keys.status();
  EXPECT_THAT(std::string(keys.status().message()), HasSubstr(naming));
}

class JwksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ed25519_ = new KeyPairPem(Ed25519());
    p256_ = new KeyPairPem(KeyPair("EC", "P-256"));
    rsa_ = new KeyPairPem(KeyPair("RSA", size_t{2048}));
  }
  static void TearDownTestSuite() {
    delete ed25519_;
    delete p256_;
    delete rsa_;
  }
  static KeyPairPem* ed25519_;
  static KeyPairPem* p256_;
  static KeyPairPem* rsa_;
};

KeyPairPem* JwksTest::ed25519_ = nullptr;
KeyPairPem* JwksTest::p256_ = nullptr;
KeyPairPem* JwksTest::rsa_ = nullptr;

TEST_F(JwksTest, EachKeyTypeVerifiesTheTokensOfItsKid) {
  absl::StatusOr<std::vector<JwtVerifier::Key>> keys = ParseJwks(
      JwkSet({PublicJwk(ed25519_->public_key_pem, "ed"),
              PublicJwk(p256_->public_key_pem, "ec", R"("alg":"ES256")"),
              PublicJwk(rsa_->public_key_pem, "rsa",
                        R"("alg":"RS256","use":"sig")")}));
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].key_id, "ed");
  // The key is the same key as the PEM it was written from.
  EXPECT_EQ(*JwtKeyId((*keys)[0].public_key_pem),
            *JwtKeyId(ed25519_->public_key_pem));
  EXPECT_EQ(*JwtKeyId((*keys)[1].public_key_pem),
            *JwtKeyId(p256_->public_key_pem));
  EXPECT_EQ(*JwtKeyId((*keys)[2].public_key_pem),
            *JwtKeyId(rsa_->public_key_pem));

  absl::StatusOr<JwtVerifier> verifier = VerifierOf(*keys);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_TRUE(verifier->Verify(Sign(*ed25519_, "ed"), kNow).ok());
  EXPECT_TRUE(verifier->Verify(Sign(*p256_, "ec"), kNow).ok());
  EXPECT_TRUE(verifier->Verify(Sign(*rsa_, "rsa"), kNow).ok());
  // Without a kid, each key is tried.
  EXPECT_TRUE(verifier->Verify(Sign(*p256_, ""), kNow).ok());
  // The kid selects the key: another key's kid does not verify.
  const absl::StatusOr<TokenClaims> swapped =
      verifier->Verify(Sign(*ed25519_, "ec"), kNow);
  EXPECT_TRUE(absl::IsUnauthenticated(swapped.status())) << swapped.status();
  // A kid that is not in the set.
  const absl::StatusOr<TokenClaims> unknown =
      verifier->Verify(Sign(*ed25519_, "ed-2"), kNow);
  EXPECT_TRUE(absl::IsUnauthenticated(unknown.status())) << unknown.status();
  EXPECT_EQ(unknown.status().message(),
            absl::StrCat("bearer token key id 'ed-2' is not one of the keys "
                         "of issuer '",
                         kIssuer, "'"));
}

TEST_F(JwksTest, EncryptionKeysAreSkipped) {
  absl::StatusOr<std::vector<JwtVerifier::Key>> keys = ParseJwks(JwkSet(
      {PublicJwk(rsa_->public_key_pem, "enc", R"("use":"enc")"),
       PublicJwk(p256_->public_key_pem, "wrap", R"("key_ops":["wrapKey"])"),
       PublicJwk(ed25519_->public_key_pem, "sig", R"("key_ops":["verify"])")}));
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].key_id, "sig");
  ExpectRefused(
      JwkSet({PublicJwk(rsa_->public_key_pem, "enc", R"("use":"enc")")}),
      "holds no signing key");
  ExpectRefused(JwkSet({}), "holds no signing key");
}

TEST_F(JwksTest, AlgOtherThanTheKeysIsRefused) {
  ExpectRefused(
      JwkSet({PublicJwk(ed25519_->public_key_pem, "ed", R"("alg":"RS256")")}),
      "key #1 (kid 'ed'): 'alg' is 'RS256', but this key signs with EdDSA");
  ExpectRefused(
      JwkSet({PublicJwk(rsa_->public_key_pem, "r", R"("alg":"PS256")")}),
      "'alg' is 'PS256', but this key signs with RS256");
  ExpectRefused(
      JwkSet({PublicJwk(p256_->public_key_pem, "e", R"("alg":"none")")}),
      "'alg' is 'none'");
}

TEST_F(JwksTest, PrivateKeyMembersAreRefusedWithoutQuotingThem) {
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    SCOPED_TRACE(member);
    const std::string secret = "c2VjcmV0LWtleS1tYXRlcmlhbA";
    const std::string json =
        JwkSet({PublicJwk(ed25519_->public_key_pem, "ed",
                          absl::StrCat("\"", member, "\":\"", secret, "\""))});
    absl::StatusOr<std::vector<JwtVerifier::Key>> keys = ParseJwks(json);
    ASSERT_FALSE(keys.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(keys.status()));
    EXPECT_THAT(std::string(keys.status().message()),
                HasSubstr(absl::StrCat("private-key member '", member, "'")));
    EXPECT_THAT(std::string(keys.status().message()), Not(HasSubstr(secret)));
  }
}

TEST_F(JwksTest, UnsupportedKeysAreRefusedNamingWhy) {
  ExpectRefused(JwkSet({R"({"kty":"oct","kid":"h","k":"c2VjcmV0"})"}),
                "private-key member 'k'");
  ExpectRefused(JwkSet({R"({"kty":"oct","kid":"h"})"}),
                "key #1 (kid 'h'): kty 'oct' is not accepted");
  std::string jwk = PublicJwk(p256_->public_key_pem, "c");
  jwk.replace(jwk.find("P-256"), 5, "P-384");
  ExpectRefused(JwkSet({jwk}), "curve 'P-384' of kty EC is not accepted");
  std::string x25519 = PublicJwk(ed25519_->public_key_pem, "x");
  x25519.replace(x25519.find("Ed25519"), 7, "X25519");
  ExpectRefused(JwkSet({x25519}), "curve 'X25519' of kty OKP");
  const KeyPairPem rsa1024 = KeyPair("RSA", size_t{1024});
  ExpectRefused(JwkSet({PublicJwk(rsa1024.public_key_pem, "small")}),
                "key #1 (kid 'small'): is an RSA key of 1024 bits; at least "
                "2048 are required");
  ExpectRefused(JwkSet({R"({"kid":"no-kty","x":"AA"})"}), "'kty' is missing");
}

TEST_F(JwksTest, MalformedMembersAreRefused) {
  const std::string good = PublicJwk(ed25519_->public_key_pem, "ed");
  std::string padded = good;
  padded.insert(padded.find("\",\"kid\""), "=");
  std::string short_x = good;
  short_x.replace(short_x.find("\"x\":\""), 5 + 43,
                  absl::StrCat("\"x\":\"", absl::WebSafeBase64Escape("short")));
  // A P-256 point moved off the curve.
  std::string off_curve = PublicJwk(p256_->public_key_pem, "ec");
  const size_t y = off_curve.find("\"y\":\"") + 5;
  off_curve[y] = off_curve[y] == 'A' ? 'B' : 'A';
  struct Case {
    const char* what;
    std::string json;
    const char* naming;
  };
  const std::vector<Case> cases = {
      {"not JSON", "keys: []", "not valid JSON"},
      {"an array", "[]", "not a JSON object"},
      {"no keys", R"({"jwks":[]})", "no \"keys\" array"},
      {"keys not an array", R"({"keys":{}})", "no \"keys\" array"},
      {"key not an object", R"({"keys":["abc"]})", "key #1: not a JSON object"},
      {"padded base64url", JwkSet({padded}),
       "'x' is not canonical unpadded base64url"},
      {"x of the wrong size", JwkSet({short_x}), "'x' is 5 bytes"},
      {"x not a string", JwkSet({R"({"kty":"OKP","crv":"Ed25519","x":1})"}),
       "'x' is not a string"},
      {"off the curve", JwkSet({off_curve}), "not a point of P-256"},
      {"kid not a string",
       JwkSet({PublicJwk(ed25519_->public_key_pem, "", R"("kid":7)")}),
       "'kid' is not a string"},
      {"key_ops not strings",
       JwkSet({PublicJwk(ed25519_->public_key_pem, "a", R"("key_ops":[1])")}),
       "'key_ops' is not an array of strings"},
      {"repeated kid", JwkSet({good, PublicJwk(p256_->public_key_pem, "ed")}),
       "key #2 (kid 'ed'): its kid is also another key's"},
      {"member twice in a key",
       JwkSet({PublicJwk(ed25519_->public_key_pem, "ed", R"("kid":"ed2")")}),
       "names the member 'kid' twice in one key"},
      {"member twice in the set", R"({"keys":[],"keys":[]})",
       "names the member 'keys' twice"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectRefused(c.json, c.naming);
  }
}

TEST_F(JwksTest, OtherMembersOfTheSetAndCertificatesAreIgnored) {
  absl::StatusOr<std::vector<JwtVerifier::Key>> keys = ParseJwks(
      absl::StrCat(R"({"issuer":"x","keys":[)",
                   PublicJwk(ed25519_->public_key_pem, "ed",
                             R"("x5u":"https://evil.test/c","x5t":"abc")"),
                   "]}"));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 1u);
}

}  // namespace
}  // namespace casetrail::security
