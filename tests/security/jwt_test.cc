// JwtVerifier and SignJwt: tokens of each accepted algorithm verify, and each
// way a token can be wrong (malformed, expired, wrong issuer or audience,
// forged, or signed with an algorithm other than its key's) is refused with
// UNAUTHENTICATED. Tokens that the library would never write are built by
// hand here, with OpenSSL, and a token from an independent implementation
// (PyJWT) is checked for interoperability.

#include "security/jwt.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace casetrail::security {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kIssuer[] = "https://idp.northshire.test";
constexpr char kAudience[] = "casetrail";
constexpr char kKeyId[] = "k1";
// 2026-01-01T00:00:00Z.
const absl::Time kNow = absl::FromUnixSeconds(1767225600);

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

KeyPairPem PemOf(EVP_PKEY* key) {
  BioPtr private_bio(BIO_new(BIO_s_mem()));
  BioPtr public_bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PrivateKey(private_bio.get(), key, nullptr, nullptr,
                                     0, nullptr, nullptr),
            1);
  EXPECT_EQ(PEM_write_bio_PUBKEY(public_bio.get(), key), 1);
  return {BioText(private_bio.get()), BioText(public_bio.get())};
}

KeyPairPem EcP256KeyPair() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  EXPECT_NE(key, nullptr);
  return PemOf(key.get());
}

KeyPairPem RsaKeyPair(size_t bits) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
  EXPECT_NE(key, nullptr);
  return PemOf(key.get());
}

KeyPairPem Ed25519KeyPair() {
  absl::StatusOr<KeyPairPem> pair = GenerateEd25519KeyPair();
  EXPECT_TRUE(pair.ok()) << pair.status();
  return *pair;
}

std::string B64(absl::string_view bytes) {
  return absl::WebSafeBase64Escape(bytes);
}

std::string UnB64(absl::string_view text) {
  std::string bytes;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(text, &bytes)) << text;
  return bytes;
}

// An Ed25519 signature over exactly `signed_text`, by hand.
std::string Ed25519Sign(absl::string_view signed_text,
                        const std::string& private_pem) {
  BioPtr bio(BIO_new_mem_buf(private_pem.data(),
                             static_cast<int>(private_pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  EXPECT_NE(key, nullptr);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  unsigned char signature[64];
  size_t len = sizeof(signature);
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()),
            1);
  EXPECT_EQ(
      EVP_DigestSign(ctx.get(), signature, &len,
                     reinterpret_cast<const unsigned char*>(signed_text.data()),
                     signed_text.size()),
      1);
  return std::string(reinterpret_cast<char*>(signature), len);
}

// `signed_text` (any "header.payload" ASCII, canonical or not) with an
// Ed25519 signature over it appended.
std::string SignedOver(absl::string_view signed_text,
                       const std::string& private_pem) {
  return absl::StrCat(signed_text, ".",
                      B64(Ed25519Sign(signed_text, private_pem)));
}

std::string Compact(absl::string_view header_json,
                    absl::string_view payload_json,
                    const std::string& private_pem) {
  return SignedOver(absl::StrCat(B64(header_json), ".", B64(payload_json)),
                    private_pem);
}

constexpr char kEdDsaHeader[] = R"({"alg":"EdDSA","typ":"JWT","kid":"k1"})";

std::string UnixSeconds(absl::Time t) {
  return absl::StrCat(absl::ToUnixSeconds(t));
}

// A well-formed payload's members, in order, with `changes` applied: a member
// set to "" is left out; any other value is its raw JSON.
std::string PayloadJson(
    const std::vector<std::pair<std::string, std::string>>& changes = {}) {
  std::vector<std::pair<std::string, std::string>> members = {
      {"iss", absl::StrCat("\"", kIssuer, "\"")},
      {"sub", R"("u-1001")"},
      {"aud", absl::StrCat("\"", kAudience, "\"")},
      {"role", R"("social_worker")"},
      {"tenant", R"("northshire")"},
      {"iat", UnixSeconds(kNow - absl::Minutes(1))},
      {"exp", UnixSeconds(kNow + absl::Hours(1))},
  };
  for (const auto& [name, value] : changes) {
    bool replaced = false;
    for (auto& member : members) {
      if (member.first == name) {
        member.second = value;
        replaced = true;
      }
    }
    if (!replaced) members.emplace_back(name, value);
  }
  std::string json = "{";
  for (const auto& [name, value] : members) {
    if (value.empty()) continue;
    absl::StrAppend(&json, json.size() > 1 ? "," : "", "\"", name,
                    "\":", value);
  }
  return json + "}";
}

TokenClaims Claims() {
  TokenClaims claims;
  claims.issuer = kIssuer;
  claims.subject = "u-1001";
  claims.role = "social_worker";
  claims.team = "cp-north";
  claims.tenant = "northshire";
  claims.name = "Sam Example";
  claims.token_id = "3f2a9c";
  claims.audience = {kAudience};
  claims.issued_at = kNow - absl::Minutes(1);
  claims.not_before = kNow - absl::Minutes(1);
  claims.expires_at = kNow + absl::Hours(1);
  return claims;
}

JwtVerifier::Issuer IssuerWith(std::vector<JwtVerifier::Key> keys) {
  JwtVerifier::Issuer issuer;
  issuer.issuer = kIssuer;
  issuer.audience = kAudience;
  issuer.keys = std::move(keys);
  return issuer;
}

JwtVerifier VerifierFor(const std::string& public_pem,
                        const std::string& key_id = kKeyId) {
  absl::StatusOr<JwtVerifier> verifier =
      JwtVerifier::Create({IssuerWith({{key_id, public_pem}})});
  EXPECT_TRUE(verifier.ok()) << verifier.status();
  return *std::move(verifier);
}

// A refusal, with `reason` in its message.
void ExpectRefused(const absl::StatusOr<TokenClaims>& result,
                   absl::string_view reason = "") {
  ASSERT_FALSE(result.ok()) << "accepted a token for " << result->subject;
  EXPECT_TRUE(absl::IsUnauthenticated(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(reason));
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { key_ = new KeyPairPem(Ed25519KeyPair()); }
  static void TearDownTestSuite() {
    delete key_;
    key_ = nullptr;
  }

  static const KeyPairPem& Key() { return *key_; }
  static std::string Token(const TokenClaims& claims = Claims()) {
    absl::StatusOr<std::string> token =
        SignJwt(claims, Key().private_key_pem, kKeyId);
    EXPECT_TRUE(token.ok()) << token.status();
    return *token;
  }
  // A hand-made token with `header_json`, signed by the test key.
  static std::string HandMade(absl::string_view payload_json,
                              absl::string_view header_json = kEdDsaHeader) {
    return Compact(header_json, payload_json, Key().private_key_pem);
  }

  JwtVerifier verifier_ = VerifierFor(Key().public_key_pem);

 private:
  static KeyPairPem* key_;
};

KeyPairPem* JwtTest::key_ = nullptr;

TEST_F(JwtTest, ValidEdDsaTokenVerifiesWithItsClaims) {
  const std::string token = Token();
  EXPECT_EQ(UnB64(std::vector<std::string>(absl::StrSplit(token, '.'))[0]),
            kEdDsaHeader);
  absl::StatusOr<TokenClaims> claims = verifier_.Verify(token, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->issuer, kIssuer);
  EXPECT_EQ(claims->subject, "u-1001");
  EXPECT_EQ(claims->role, "social_worker");
  EXPECT_EQ(claims->team, "cp-north");
  EXPECT_EQ(claims->tenant, "northshire");
  EXPECT_EQ(claims->name, "Sam Example");
  EXPECT_EQ(claims->token_id, "3f2a9c");
  EXPECT_THAT(claims->audience, ElementsAre(kAudience));
  EXPECT_EQ(claims->issued_at, kNow - absl::Minutes(1));
  EXPECT_EQ(claims->not_before, kNow - absl::Minutes(1));
  EXPECT_EQ(claims->expires_at, kNow + absl::Hours(1));
}

TEST_F(JwtTest, ValidEs256TokenVerifies) {
  const KeyPairPem ec = EcP256KeyPair();
  absl::StatusOr<std::string> token = SignJwt(Claims(), ec.private_key_pem, "");
  ASSERT_TRUE(token.ok()) << token.status();
  const std::vector<std::string> parts = absl::StrSplit(*token, '.');
  EXPECT_EQ(UnB64(parts[0]), R"({"alg":"ES256","typ":"JWT"})");
  EXPECT_EQ(UnB64(parts[2]).size(), 64u);  // raw r || s, not DER
  absl::StatusOr<TokenClaims> claims =
      VerifierFor(ec.public_key_pem).Verify(*token, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "u-1001");
}

TEST_F(JwtTest, Es256SignatureNotSixtyFourBytesIsRefused) {
  const KeyPairPem ec = EcP256KeyPair();
  const std::string token = *SignJwt(Claims(), ec.private_key_pem, kKeyId);
  const std::vector<std::string> parts = absl::StrSplit(token, '.');
  const JwtVerifier verifier = VerifierFor(ec.public_key_pem);
  const std::string raw = UnB64(parts[2]);
  for (const std::string& signature :
       {raw.substr(0, 63), raw + std::string(1, '\0'),
        std::string(1, '\0') + raw}) {
    ExpectRefused(
        verifier.Verify(
            absl::StrCat(parts[0], ".", parts[1], ".", B64(signature)), kNow),
        "signature does not verify");
  }
}

TEST_F(JwtTest, ValidRs256TokenVerifies) {
  const KeyPairPem rsa = RsaKeyPair(2048);
  absl::StatusOr<std::string> token =
      SignJwt(Claims(), rsa.private_key_pem, kKeyId);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(UnB64(std::vector<std::string>(absl::StrSplit(*token, '.'))[0]),
            R"({"alg":"RS256","typ":"JWT","kid":"k1"})");
  absl::StatusOr<TokenClaims> claims =
      VerifierFor(rsa.public_key_pem).Verify(*token, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->tenant, "northshire");
}

TEST_F(JwtTest, MissingTokenIsRefused) {
  ExpectRefused(verifier_.Verify("", kNow), "missing");
}

TEST_F(JwtTest, MalformedTokensAreRefused) {
  const std::string token = Token();
  const std::vector<std::string> parts = absl::StrSplit(token, '.');
  const std::string header = parts[0];
  const std::string payload = parts[1];
  const std::string& key = Key().private_key_pem;

  std::string padded_payload = B64(PayloadJson());
  ASSERT_NE(padded_payload.size() % 4, 0u);
  while (padded_payload.size() % 4 != 0) padded_payload += "=";

  // The same header bytes spelt non-canonically: the unused low bit of the
  // last character set (needs a length that is not a multiple of 3).
  std::string odd_header = R"({"alg":"EdDSA", "typ":"JWT"})";
  ASSERT_NE(odd_header.size() % 3, 0u);
  std::string non_canonical = B64(odd_header);
  constexpr absl::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  non_canonical.back() = kAlphabet[kAlphabet.find(non_canonical.back()) ^ 1];
  // Spelt canonically, the odd header is fine.
  ASSERT_TRUE(verifier_
                  .Verify(SignedOver(absl::StrCat(B64(odd_header), ".",
                                                  B64(PayloadJson())),
                                     key),
                          kNow)
                  .ok());

  struct Case {
    std::string what;
    std::string token;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"one part", "abc", "three base64url parts"},
      {"two parts", absl::StrCat(header, ".", payload),
       "three base64url parts"},
      {"four parts", token + ".abc", "three base64url parts"},
      {"trailing dot", token + ".", "three base64url parts"},
      {"bad base64 header", SignedOver(absl::StrCat("!!!.", payload), key),
       "header is not canonical unpadded base64url"},
      {"standard base64 alphabet",
       SignedOver(
           absl::StrCat(header, ".", absl::Base64Escape(R"({"a":"???>>>"})")),
           key),
       "payload is not canonical unpadded base64url"},
      {"padding", SignedOver(absl::StrCat(header, ".", padded_payload), key),
       "payload is not canonical unpadded base64url"},
      {"non-canonical base64",
       SignedOver(absl::StrCat(non_canonical, ".", B64(PayloadJson())), key),
       "header is not canonical unpadded base64url"},
      {"header not JSON", HandMade(PayloadJson(), "alg=EdDSA"),
       "header is not valid JSON"},
      {"header a JSON array", HandMade(PayloadJson(), R"(["EdDSA"])"),
       "header is not a JSON object"},
      {"duplicate header member",
       HandMade(PayloadJson(), R"({"alg":"EdDSA","alg":"none"})"),
       "header has a duplicate member 'alg'"},
      {"payload not JSON", HandMade("sub=u-1001"), "payload is not valid JSON"},
      {"payload a JSON string", HandMade(R"("u-1001")"),
       "payload is not a JSON object"},
      {"header with extra member",
       HandMade(PayloadJson(),
                R"({"alg":"EdDSA","typ":"JWT","x5u":"https://evil.test/k"})"),
       "header member 'x5u' is not accepted"},
      {"jwk in header",
       HandMade(PayloadJson(),
                R"({"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519"}})"),
       "header member 'jwk' is not accepted"},
      {"jku in header",
       HandMade(PayloadJson(), R"({"alg":"EdDSA","jku":"https://e.test"})"),
       "header member 'jku' is not accepted"},
      {"crit in header",
       HandMade(PayloadJson(), R"({"alg":"EdDSA","typ":"JWT","crit":["exp"]})"),
       "header member 'crit' is not accepted"},
      {"typ not JWT",
       HandMade(PayloadJson(), R"({"alg":"EdDSA","typ":"JOSE"})"),
       "'typ' is not JWT"},
      {"kid not a string",
       HandMade(PayloadJson(), R"({"alg":"EdDSA","kid":1})"),
       "header 'kid' is not a string"},
      {"no alg", HandMade(PayloadJson(), R"({"typ":"JWT"})"), "no 'alg'"},
      {"too long",
       HandMade(PayloadJson(
           {{"pad", absl::StrCat("\"", std::string(8192, 'x'), "\"")}})),
       "longer than 8192 bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectRefused(verifier_.Verify(c.token, kNow), c.reason);
  }
}

TEST_F(JwtTest, TypIsCaseInsensitiveAndOptional) {
  for (const char* header :
       {R"({"alg":"EdDSA","typ":"jwt"})", R"({"alg":"EdDSA"})"}) {
    SCOPED_TRACE(header);
    EXPECT_TRUE(verifier_.Verify(HandMade(PayloadJson(), header), kNow).ok());
  }
}

TEST_F(JwtTest, ExpiredTokenIsRefusedBeyondLeeway) {
  TokenClaims claims = Claims();
  claims.expires_at = kNow;
  const std::string token = Token(claims);
  EXPECT_TRUE(verifier_.Verify(token, kNow + absl::Seconds(60)).ok());
  ExpectRefused(verifier_.Verify(token, kNow + absl::Seconds(61)),
                "bearer token expired");
}

TEST_F(JwtTest, NotYetValidTokenIsRefusedBeyondLeeway) {
  TokenClaims claims = Claims();
  claims.issued_at = kNow;
  claims.not_before = kNow + absl::Minutes(10);
  const std::string token = Token(claims);
  EXPECT_TRUE(
      verifier_.Verify(token, kNow + absl::Minutes(10) - absl::Seconds(60))
          .ok());
  ExpectRefused(
      verifier_.Verify(token, kNow + absl::Minutes(10) - absl::Seconds(61)),
      "not yet valid");
}

TEST_F(JwtTest, TokenIssuedInTheFutureIsRefused) {
  TokenClaims claims = Claims();
  claims.issued_at = kNow + absl::Minutes(5);
  claims.not_before = absl::InfinitePast();
  ExpectRefused(verifier_.Verify(Token(claims), kNow), "issued in the future");
}

TEST_F(JwtTest, UnknownIssuerIsRefused) {
  TokenClaims claims = Claims();
  claims.issuer = "https://idp.elsewhere.test";
  ExpectRefused(verifier_.Verify(Token(claims), kNow), "unknown issuer");
}

TEST_F(JwtTest, MissingOrMistypedClaimsAreRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sub", ""},
      {"role", ""},
      {"tenant", ""},
      {"iss", ""},
      {"aud", ""},
      {"exp", ""},
      {"sub", R"("")"},
      {"tenant", R"("")"},
      {"role", "7"},
      {"sub", "null"},
      {"team", "[]"},
      {"jti", "false"},
      {"aud", "[\"casetrail\",1]"},
      {"aud", "{}"},
      {"exp", R"("1767229200")"},
      {"exp", "1767229200.5"},
      {"exp", "1e12"},
      {"exp", "-1e12"},
      {"nbf", "true"},
      {"iat", "100000000001"},
  };
  for (const auto& [name, value] : cases) {
    SCOPED_TRACE(absl::StrCat(name, " = ", value.empty() ? "(absent)" : value));
    ExpectRefused(
        verifier_.Verify(HandMade(PayloadJson({{name, value}})), kNow),
        absl::StrCat("'", name, "'"));
  }
  // Unknown claims are ignored; known optional ones may be absent.
  EXPECT_TRUE(verifier_
                  .Verify(HandMade(PayloadJson(
                              {{"iat", ""}, {"azp", R"({"x":[1,2]})"}})),
                          kNow)
                  .ok());
}

TEST_F(JwtTest, WrongAudienceIsRefused) {
  TokenClaims claims = Claims();
  claims.audience = {"billing"};
  ExpectRefused(verifier_.Verify(Token(claims), kNow), "audience");
  claims.audience = {};
  ExpectRefused(verifier_.Verify(Token(claims), kNow), "'aud' is missing");
  claims.audience = {"billing", kAudience};
  absl::StatusOr<TokenClaims> accepted = verifier_.Verify(Token(claims), kNow);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_THAT(accepted->audience, ElementsAre("billing", kAudience));
}

TEST_F(JwtTest, WrongSignatureIsRefused) {
  const std::string token = Token();
  const std::vector<std::string> parts = absl::StrSplit(token, '.');

  const KeyPairPem other = Ed25519KeyPair();
  ExpectRefused(
      verifier_.Verify(*SignJwt(Claims(), other.private_key_pem, kKeyId), kNow),
      "signature does not verify");

  std::string signature = UnB64(parts[2]);
  signature[10] ^= 0x04;
  ExpectRefused(
      verifier_.Verify(
          absl::StrCat(parts[0], ".", parts[1], ".", B64(signature)), kNow),
      "signature does not verify");

  TokenClaims promoted = Claims();
  promoted.role = "administrator";
  const std::string other_payload =
      std::vector<std::string>(absl::StrSplit(Token(promoted), '.'))[1];
  ExpectRefused(
      verifier_.Verify(
          absl::StrCat(parts[0], ".", other_payload, ".", parts[2]), kNow),
      "signature does not verify");
}

TEST_F(JwtTest, AlgNoneIsRefused) {
  for (const char* header : {R"({"alg":"none","typ":"JWT"})",
                             R"({"alg":"none","typ":"JWT","kid":"k1"})"}) {
    SCOPED_TRACE(header);
    const std::string unsigned_token =
        absl::StrCat(B64(header), ".", B64(PayloadJson()), ".");
    ExpectRefused(verifier_.Verify(unsigned_token, kNow),
                  "algorithm 'none' is not accepted");
  }
}

TEST_F(JwtTest, Hs256KeyedWithThePublicKeyIsRefused) {
  const KeyPairPem rsa = RsaKeyPair(2048);
  for (const std::string& public_pem :
       {Key().public_key_pem, rsa.public_key_pem}) {
    const std::string signed_text =
        absl::StrCat(B64(R"({"alg":"HS256","typ":"JWT","kid":"k1"})"), ".",
                     B64(PayloadJson()));
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    ASSERT_NE(
        EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr,
                  public_pem.data(), public_pem.size(),
                  reinterpret_cast<const unsigned char*>(signed_text.data()),
                  signed_text.size(), mac, sizeof(mac), &mac_len),
        nullptr);
    const std::string token = absl::StrCat(
        signed_text, ".",
        B64(absl::string_view(reinterpret_cast<char*>(mac), mac_len)));
    ExpectRefused(VerifierFor(public_pem).Verify(token, kNow),
                  "algorithm 'HS256' is not accepted");
  }
}

TEST_F(JwtTest, AlgorithmOtherThanTheKeysIsRefused) {
  // Signed with the issuer's Ed25519 key, but the header claims ES256.
  ExpectRefused(
      verifier_.Verify(
          HandMade(PayloadJson(), R"({"alg":"ES256","typ":"JWT","kid":"k1"})"),
          kNow),
      "algorithm ES256 is not the one key 'k1' signs with");
  for (const char* header :
       {R"({"alg":"ES256","typ":"JWT"})", R"({"alg":"RS256","typ":"JWT"})"}) {
    SCOPED_TRACE(header);
    ExpectRefused(verifier_.Verify(HandMade(PayloadJson(), header), kNow),
                  "is not one that the issuer's keys sign with");
  }
}

// JSON allows a member twice and parsers differ on which one counts; a token
// that names a claim twice is refused, and the message says which.
TEST_F(JwtTest, DuplicateClaimIsRefusedNamingIt) {
  for (const char* claim : {"sub", "role", "tenant", "iss", "exp"}) {
    SCOPED_TRACE(claim);
    std::string payload = PayloadJson();
    payload.insert(payload.size() - 1,
                   absl::StrCat(",\"", claim, "\":\"auditor\""));
    const absl::StatusOr<TokenClaims> result =
        verifier_.Verify(HandMade(payload), kNow);
    ExpectRefused(result);
    EXPECT_EQ(result.status().message(),
              absl::StrCat("bearer token payload has a duplicate claim '",
                           claim, "'"));
  }
  // In an object nested in a claim.
  ExpectRefused(verifier_.Verify(
                    HandMade(PayloadJson({{"ctx", R"({"a":1,"a":2})"}})), kNow),
                "payload has a duplicate member 'a' in a nested object");
  // A name that is not plain text is not quoted back.
  std::string payload = PayloadJson();
  payload.insert(payload.size() - 1, R"(,"x\ny":1,"x\ny":2)");
  ExpectRefused(verifier_.Verify(HandMade(payload), kNow),
                "payload has a duplicate claim (unprintable)");
}

TEST_F(JwtTest, UnknownKeyIdIsRefused) {
  const absl::StatusOr<TokenClaims> unknown =
      verifier_.Verify(*SignJwt(Claims(), Key().private_key_pem, "k2"), kNow);
  ExpectRefused(unknown);
  EXPECT_EQ(unknown.status().message(),
            absl::StrCat("bearer token key id 'k2' is not one of the keys of "
                         "issuer '",
                         kIssuer, "'"));
  ExpectRefused(
      verifier_.Verify(HandMade(PayloadJson(), R"({"alg":"EdDSA","kid":""})"),
                       kNow),
      "key id");
}

TEST_F(JwtTest, TokenWithoutKeyIdIsTriedAgainstEachKey) {
  const KeyPairPem ec = EcP256KeyPair();
  const KeyPairPem second = Ed25519KeyPair();
  absl::StatusOr<JwtVerifier> verifier =
      JwtVerifier::Create({IssuerWith({{"ec", ec.public_key_pem},
                                       {"first", Key().public_key_pem},
                                       {"second", second.public_key_pem}})});
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  for (const KeyPairPem* key : {&ec, &second, &Key()}) {
    absl::StatusOr<std::string> token =
        SignJwt(Claims(), key->private_key_pem, "");
    ASSERT_TRUE(token.ok()) << token.status();
    EXPECT_TRUE(verifier->Verify(*token, kNow).ok());
  }
  // With a kid, only that key is tried.
  ExpectRefused(verifier->Verify(
                    *SignJwt(Claims(), second.private_key_pem, "first"), kNow),
                "signature does not verify");
}

TEST_F(JwtTest, LifetimeOverMaximumIsRefused) {
  TokenClaims claims = Claims();
  claims.issued_at = kNow;
  claims.expires_at = kNow + absl::Hours(12);
  EXPECT_TRUE(verifier_.Verify(Token(claims), kNow).ok());
  claims.expires_at = kNow + absl::Hours(12) + absl::Seconds(1);
  ExpectRefused(verifier_.Verify(Token(claims), kNow), "lifetime");
  // Without iat, the lifetime left from now counts.
  claims.issued_at = absl::InfinitePast();
  ExpectRefused(verifier_.Verify(Token(claims), kNow), "lifetime");
  EXPECT_TRUE(verifier_.Verify(Token(claims), kNow + absl::Seconds(1)).ok());
}

TEST(JwtVerifierCreateTest, GarbagePemIsInvalidArgument) {
  absl::StatusOr<JwtVerifier> verifier = JwtVerifier::Create(
      {IssuerWith({{"k-garbage",
                    "-----BEGIN PUBLIC KEY-----\nnot base64 "
                    "at all\n-----END PUBLIC KEY-----\n"}})});
  ASSERT_FALSE(verifier.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(verifier.status())) << verifier.status();
  EXPECT_THAT(verifier.status().message(), HasSubstr(kIssuer));
  EXPECT_THAT(verifier.status().message(), HasSubstr("k-garbage"));
  // A private key is not a public key.
  const KeyPairPem pair = Ed25519KeyPair();
  verifier =
      JwtVerifier::Create({IssuerWith({{"k-private", pair.private_key_pem}})});
  ASSERT_FALSE(verifier.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(verifier.status())) << verifier.status();
}

TEST(JwtVerifierCreateTest, Rsa1024KeyIsRefused) {
  absl::StatusOr<JwtVerifier> verifier = JwtVerifier::Create(
      {IssuerWith({{"k-small", RsaKeyPair(1024).public_key_pem}})});
  ASSERT_FALSE(verifier.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(verifier.status())) << verifier.status();
  EXPECT_THAT(verifier.status().message(), HasSubstr("k-small"));
  EXPECT_THAT(verifier.status().message(), HasSubstr("1024"));
}

TEST(JwtVerifierCreateTest, EcKeyOffP256IsRefused) {
  PkeyPtr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  ASSERT_NE(p384, nullptr);
  absl::StatusOr<JwtVerifier> verifier = JwtVerifier::Create(
      {IssuerWith({{"k-p384", PemOf(p384.get()).public_key_pem}})});
  ASSERT_FALSE(verifier.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(verifier.status())) << verifier.status();
  EXPECT_THAT(verifier.status().message(), HasSubstr("P-256"));
}

TEST(JwtVerifierCreateTest, RepeatedIssuerOrKeyIdIsRefused) {
  const KeyPairPem pair = Ed25519KeyPair();
  absl::StatusOr<JwtVerifier> verifier =
      JwtVerifier::Create({IssuerWith({{"a", pair.public_key_pem}}),
                           IssuerWith({{"b", pair.public_key_pem}})});
  ASSERT_FALSE(verifier.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(verifier.status())) << verifier.status();
  verifier = JwtVerifier::Create(
      {IssuerWith({{"a", pair.public_key_pem}, {"a", pair.public_key_pem}})});
  ASSERT_FALSE(verifier.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(verifier.status())) << verifier.status();
}

TEST_F(JwtTest, ConcurrentVerificationFromFourThreads) {
  constexpr int kThreads = 4;
  constexpr int kTokensPerThread = 200;
  std::vector<std::vector<std::string>> tokens(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kTokensPerThread; ++i) {
      TokenClaims claims = Claims();
      claims.subject = absl::StrCat("u-", t, "-", i);
      std::string token = Token(claims);
      // Every tenth token is forged: its last signature byte is changed.
      if (i % 10 == 9) {
        token.back() = token.back() == 'A' ? 'Q' : 'A';
      }
      tokens[t].push_back(std::move(token));
    }
  }
  std::atomic<int> accepted{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTokensPerThread; ++i) {
        absl::StatusOr<TokenClaims> claims =
            verifier_.Verify(tokens[t][i], kNow);
        const bool forged = i % 10 == 9;
        if (claims.ok() && !forged &&
            claims->subject == absl::StrCat("u-", t, "-", i)) {
          ++accepted;
        } else if (claims.ok() == forged) {
          ++wrong;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(accepted.load(), kThreads * kTokensPerThread * 9 / 10);
}

// A token made by PyJWT 2.6.0 (Debian 12's python3-jwt, with
// python3-cryptography 38) from a fixed Ed25519 key:
//   jwt.encode(payload, key, algorithm="EdDSA",
//              headers={"kid": "pyjwt-ed25519"})
// Its header is {"alg":"EdDSA","kid":"pyjwt-ed25519","typ":"JWT"}.
constexpr char kPyJwtPublicKey[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAfHjWrYGgg9373+CGMbjFpEBVue8lOPCOUo2S6kx4bbM=\n"
    "-----END PUBLIC KEY-----\n";
constexpr char kPyJwtToken[] =
    "eyJhbGciOiJFZERTQSIsImtpZCI6InB5and0LWVkMjU1MTkiLCJ0eXAiOiJKV1QifQ."
    "eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlLm9yZyIsInN1YiI6InUtNDcxMSIsImF1ZCI6"
    "WyJjYXNldHJhaWwiLCJvdGhlci1hcGkiXSwicm9sZSI6InNvY2lhbF93b3JrZXIiLCJ0ZW5h"
    "bnQiOiJub3J0aHNoaXJlIiwidGVhbSI6Im5vcnRoLWNwLTEiLCJuYW1lIjoiQXNoYSBWZXJt"
    "YSIsImp0aSI6InB5and0LWludGVyb3AtMDAwMSIsImlhdCI6MTcwMDAwMDAwMCwibmJmIjox"
    "NzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9."
    "165WeKK21IHKsja5Pu6aWgeJK_1ZmTs2jd1y9OxFPyfITrrwYtaVeAr3lUVrv8PSgbg1VMLD"
    "2b-7EFQNtUPcBQ";

TEST(JwtInteropTest, PyJwtEdDsaTokenVerifies) {
  JwtVerifier::Issuer issuer;
  issuer.issuer = "https://idp.example.org";
  issuer.audience = "casetrail";
  issuer.keys = {{"pyjwt-ed25519", kPyJwtPublicKey}};
  issuer.max_lifetime = absl::Hours(24 * 365 * 100);
  absl::StatusOr<JwtVerifier> verifier = JwtVerifier::Create({issuer});
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  absl::StatusOr<TokenClaims> claims = verifier->Verify(kPyJwtToken, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->issuer, "https://idp.example.org");
  EXPECT_EQ(claims->subject, "u-4711");
  EXPECT_THAT(claims->audience, ElementsAre("casetrail", "other-api"));
  EXPECT_EQ(claims->role, "social_worker");
  EXPECT_EQ(claims->tenant, "northshire");
  EXPECT_EQ(claims->team, "north-cp-1");
  EXPECT_EQ(claims->name, "Asha Verma");
  EXPECT_EQ(claims->token_id, "pyjwt-interop-0001");
  EXPECT_EQ(claims->issued_at, absl::FromUnixSeconds(1700000000));
  EXPECT_EQ(claims->not_before, absl::FromUnixSeconds(1700000000));
  EXPECT_EQ(claims->expires_at, absl::FromUnixSeconds(4102444800));

  // One changed character of PyJWT's signature, and it no longer verifies.
  std::string forged = kPyJwtToken;
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  ExpectRefused(verifier->Verify(forged, kNow), "signature does not verify");
}

TEST(JwtKeyTest, GeneratedPairAndKeyId) {
  const KeyPairPem pair = Ed25519KeyPair();
  EXPECT_TRUE(
      absl::StartsWith(pair.private_key_pem, "-----BEGIN PRIVATE KEY-----\n"));
  EXPECT_TRUE(
      absl::StartsWith(pair.public_key_pem, "-----BEGIN PUBLIC KEY-----\n"));
  absl::StatusOr<std::string> from_public = JwtKeyId(pair.public_key_pem);
  absl::StatusOr<std::string> from_private = JwtKeyId(pair.private_key_pem);
  ASSERT_TRUE(from_public.ok()) << from_public.status();
  ASSERT_TRUE(from_private.ok()) << from_private.status();
  EXPECT_EQ(*from_public, *from_private);
  EXPECT_EQ(from_public->size(), 16u);
  EXPECT_NE(*JwtKeyId(Ed25519KeyPair().public_key_pem), *from_public);
  EXPECT_TRUE(absl::IsInvalidArgument(JwtKeyId("garbage").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      SignJwt(Claims(), pair.public_key_pem, "").status()));
}

}  // namespace
}  // namespace casetrail::security
