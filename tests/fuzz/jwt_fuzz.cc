// Fuzz target for JwtVerifier, the decoder of bearer tokens from anyone who
// can reach the server. Each input is tried as a whole token, as the payload
// part of a genuine token (raw and base64url-encoded), and as a payload that
// the issuer's key really signed. Besides not crashing: every refusal is
// UNAUTHENTICATED, nothing but the genuine token verifies unsigned, and a
// signed payload verifies only when its claims meet the issuer's rules.

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "security/jwt.h"
#include "tests/fuzz/fuzz_seeds.h"

namespace {

using casetrail::security::JwtVerifier;
using casetrail::security::TokenClaims;

// A fixed Ed25519 key pair (made with `openssl genpkey -algorithm ed25519`)
// so that runs repeat; Ed25519 signatures are deterministic.
constexpr char kPrivateKey[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIG4Mplyngs3yvSkp7U8iLA0/XL/SywP0VflxETmxEj5J\n"
    "-----END PRIVATE KEY-----\n";
constexpr char kPublicKey[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAbt/tfh778mCphEjeXdQ+ZCRrWLhbgBh6YrKS7uu4Fmk=\n"
    "-----END PUBLIC KEY-----\n";
constexpr char kIssuer[] = "https://idp.fuzz.test";
constexpr char kAudience[] = "casetrail";
constexpr absl::Duration kLeeway = absl::Seconds(60);
constexpr absl::Duration kMaxLifetime = absl::Hours(12);
// 2026-01-01T00:00:00Z.
const absl::Time kNow = absl::FromUnixSeconds(1767225600);

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

JwtVerifier MakeVerifier() {
  JwtVerifier::Issuer issuer;
  issuer.issuer = kIssuer;
  issuer.audience = kAudience;
  issuer.keys = {{"fuzz", kPublicKey}};
  issuer.leeway = kLeeway;
  issuer.max_lifetime = kMaxLifetime;
  auto verifier = JwtVerifier::Create({issuer});
  FUZZ_CHECK(verifier.ok());
  return *std::move(verifier);
}

struct Fixture {
  JwtVerifier verifier = MakeVerifier();
  std::unique_ptr<EVP_PKEY, PkeyFree> private_key;
  std::string token;
  std::string header;     // base64url, as in `token`
  std::string payload;    // base64url, as in `token`
  std::string signature;  // base64url, as in `token`

  Fixture() {
    BIO* bio = BIO_new_mem_buf(kPrivateKey, sizeof(kPrivateKey) - 1);
    private_key.reset(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
    BIO_free(bio);
    FUZZ_CHECK(private_key != nullptr);
    TokenClaims claims;
    claims.issuer = kIssuer;
    claims.subject = "u-1001";
    claims.role = "social_worker";
    claims.tenant = "northshire";
    claims.team = "cp-north";
    claims.audience = {kAudience, "other"};
    claims.issued_at = kNow - absl::Minutes(5);
    claims.expires_at = kNow + absl::Hours(1);
    auto signed_token =
        casetrail::security::SignJwt(claims, kPrivateKey, "fuzz");
    FUZZ_CHECK(signed_token.ok());
    token = *signed_token;
    const std::vector<std::string> parts = absl::StrSplit(token, '.');
    FUZZ_CHECK(parts.size() == 3);
    header = parts[0];
    payload = parts[1];
    signature = parts[2];
    FUZZ_CHECK(verifier.Verify(token, kNow).ok());
  }

  // `signed_text` signed by the issuer's key, as a compact token.
  std::string Sign(const std::string& signed_text) const {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    unsigned char sig[64];
    size_t len = sizeof(sig);
    FUZZ_CHECK(ctx != nullptr &&
               EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                                  private_key.get()) == 1 &&
               EVP_DigestSign(
                   ctx.get(), sig, &len,
                   reinterpret_cast<const unsigned char*>(signed_text.data()),
                   signed_text.size()) == 1);
    return absl::StrCat(signed_text, ".",
                        absl::WebSafeBase64Escape(absl::string_view(
                            reinterpret_cast<const char*>(sig), len)));
  }
};

const Fixture& F() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

// Every refusal is UNAUTHENTICATED; returns whether `token` verified.
bool Verifies(absl::string_view token) {
  auto claims = F().verifier.Verify(token, kNow);
  FUZZ_CHECK(claims.ok() || absl::IsUnauthenticated(claims.status()));
  return claims.ok();
}

// Whatever verifies meets the issuer's rules.
void CheckClaims(const TokenClaims& claims) {
  FUZZ_CHECK(claims.issuer == kIssuer);
  FUZZ_CHECK(!claims.subject.empty() && !claims.role.empty() &&
             !claims.tenant.empty());
  FUZZ_CHECK(absl::c_linear_search(claims.audience, kAudience));
  FUZZ_CHECK(kNow <= claims.expires_at + kLeeway);
  FUZZ_CHECK(claims.not_before <= kNow + kLeeway);
  FUZZ_CHECK(claims.issued_at <= kNow + kLeeway);
  const absl::Time start =
      claims.issued_at == absl::InfinitePast() ? kNow : claims.issued_at;
  FUZZ_CHECK(claims.expires_at - start <= kMaxLifetime);
}

}  // namespace

std::vector<std::string> FuzzSeeds() {
  const Fixture& f = F();
  std::string payload_json;
  (void)absl::WebSafeBase64Unescape(f.payload, &payload_json);
  return {
      f.token,
      f.payload,
      payload_json,
      absl::StrCat(f.header, ".", f.payload, "."),
      R"({"iss":"https://idp.fuzz.test","sub":"u-1","aud":["casetrail"],)"
      R"("role":"auditor","tenant":"t","nbf":1767225600,"exp":1767229200})",
      R"({"iss":"https://idp.fuzz.test","sub":"u-1","aud":"casetrail",)"
      R"("role":"auditor","tenant":"t","iat":1.5,"exp":1e11,"jti":null})",
  };
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SilenceProtobufLogs();
  const Fixture& f = F();
  const std::string input(reinterpret_cast<const char*>(data), size);

  // The input as a token: only the genuine one verifies.
  if (Verifies(input)) FUZZ_CHECK(input == f.token);

  // Spliced in as the payload part, raw and base64url-encoded.
  if (Verifies(absl::StrCat(f.header, ".", input, ".", f.signature))) {
    FUZZ_CHECK(input == f.payload);
  }
  if (size > 8192) return 0;
  const std::string encoded = absl::WebSafeBase64Escape(input);
  if (Verifies(absl::StrCat(f.header, ".", encoded, ".", f.signature))) {
    FUZZ_CHECK(encoded == f.payload);
  }

  // As a payload the issuer really signed: accepted only if its claims are.
  auto claims =
      f.verifier.Verify(f.Sign(absl::StrCat(f.header, ".", encoded)), kNow);
  if (claims.ok()) {
    CheckClaims(*claims);
  } else {
    FUZZ_CHECK(absl::IsUnauthenticated(claims.status()));
  }
  return 0;
}
