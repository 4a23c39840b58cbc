#ifndef CASETRAIL_SECURITY_JWT_H_
#define CASETRAIL_SECURITY_JWT_H_

// Bearer tokens for people: JSON Web Tokens (RFC 7519) in JWS compact form
// (RFC 7515), signed by an identity provider and verified with its public
// key through OpenSSL 3 (EVP_DigestVerify). Accepted algorithms: EdDSA
// (Ed25519, RFC 8037), ES256 (P-256, RFC 7518 3.4) and RS256. A key's type
// fixes its algorithm, so a token cannot choose a weaker one ("none", or
// HS256 keyed with the public key).

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace casetrail::security {

// What casetrail reads from a verified token.
struct TokenClaims {
  std::string issuer;                            // iss
  std::string subject;                           // sub: the user's id
  std::string role;                              // "role", e.g. "social_worker"
  std::string team;                              // "team" (may be empty)
  std::string tenant;                            // "tenant"
  std::string name;                              // "name" (may be empty)
  std::string token_id;                          // jti (may be empty)
  std::vector<std::string> audience;             // aud (a string or an array)
  absl::Time issued_at = absl::InfinitePast();   // iat (optional)
  absl::Time not_before = absl::InfinitePast();  // nbf (optional)
  absl::Time expires_at = absl::InfiniteFuture();  // exp (required)
};

// Verifies tokens against a fixed set of issuers and keys. Thread-safe:
// immutable after Create(), so Verify() may run on any number of threads at
// once. Keys are changed by making a new verifier (SecurityPolicy::ReloadKeys
// swaps it in).
class JwtVerifier {
 public:
  struct Key {
    // Compared with the header's "kid"; a token without kid is tried against
    // every key of its issuer.
    std::string key_id;
    // PEM "PUBLIC KEY" (SubjectPublicKeyInfo): Ed25519, EC P-256, or RSA of
    // at least 2048 bits.
    std::string public_key_pem;
  };
  struct Issuer {
    std::string issuer;    // iss must equal this
    std::string audience;  // aud must be, or contain, this
    std::vector<Key> keys;
    // Clock skew allowed on exp and nbf.
    absl::Duration leeway = absl::Seconds(60);
    // exp - iat (or exp - now without iat) longer than this is refused.
    absl::Duration max_lifetime = absl::Hours(12);
  };

  // Errors: INVALID_ARGUMENT naming the issuer and key when a key does not
  // parse or is of an unsupported type or size, or an issuer is repeated.
  static absl::StatusOr<JwtVerifier> Create(std::vector<Issuer> issuers);

  JwtVerifier(JwtVerifier&&) noexcept;
  JwtVerifier& operator=(JwtVerifier&&) noexcept;
  ~JwtVerifier();

  // Verifies `token` (compact JWS, at most 8 KiB) at time `now`. Every
  // failure is UNAUTHENTICATED with a short reason that names no key material
  // and quotes token text only when it is short and plain ("bearer token
  // expired", "bearer token payload has a duplicate claim 'role'", "bearer
  // token key id 'k2' is not one of the keys of issuer '...'", ...):
  // malformed base64url, text that is not JSON or not a JSON object, a
  // member named twice in the header or the payload, a header other than
  // {"alg","typ","kid"} ("crit", "jku", ...), an algorithm other than the
  // key's, a kid that is none of the issuer's, a missing or non-string sub /
  // role / tenant, a missing exp, exp in the past or nbf in the future
  // (beyond leeway), a lifetime over max_lifetime, wrong iss or aud.
  absl::StatusOr<TokenClaims> Verify(absl::string_view token,
                                     absl::Time now) const;

 private:
  struct Impl;
  explicit JwtVerifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Signs `claims` as a compact JWS with `private_key_pem` (PEM "PRIVATE KEY";
// Ed25519 -> EdDSA, P-256 -> ES256, RSA -> RS256), putting `key_id` in the
// header when non-empty. Times at InfinitePast/InfiniteFuture are left out.
// For the CLI's development tokens and for tests.
absl::StatusOr<std::string> SignJwt(const TokenClaims& claims,
                                    absl::string_view private_key_pem,
                                    absl::string_view key_id);

struct KeyPairPem {
  std::string private_key_pem;  // PKCS#8 "PRIVATE KEY"
  std::string public_key_pem;   // SubjectPublicKeyInfo "PUBLIC KEY"
};
// A new Ed25519 key pair from OpenSSL's CSPRNG.
absl::StatusOr<KeyPairPem> GenerateEd25519KeyPair();

// A default key id for a key pair: the first 16 hex digits of the SHA-256 of
// its public key's DER SubjectPublicKeyInfo. `pem` is a PEM "PUBLIC KEY" or
// "PRIVATE KEY" (then its public half is used); INVALID_ARGUMENT if neither
// parses as a key of a type JwtVerifier accepts.
absl::StatusOr<std::string> JwtKeyId(absl::string_view pem);

}  // namespace casetrail::security

#endif  // CASETRAIL_SECURITY_JWT_H_
