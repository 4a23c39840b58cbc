#ifndef CASETRAIL_SECURITY_JWKS_H_
#define CASETRAIL_SECURITY_JWKS_H_

// Token signing keys from a JSON Web Key Set (RFC 7517 section 5), the form
// identity providers publish their keys in, for a token issuer's jwks_file
// (proto/casetrail/v1/security_config.proto). The keys become
// JwtVerifier::Key, so they are verified exactly as PEM keys are.

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "security/jwt.h"

namespace casetrail::security {

// The signing keys of the JWK Set `json`: {"keys": [JWK, ...]}.
//
// Accepted keys, each fixing its algorithm as a PEM key does:
//   "kty": "OKP", "crv": "Ed25519", "x"          -> EdDSA (RFC 8037)
//   "kty": "EC",  "crv": "P-256",   "x", "y"     -> ES256
//   "kty": "RSA", "n", "e", at least 2048 bits   -> RS256
// "kid" (optional) becomes the key id tokens select the key by; two keys may
// not share one. "alg", if present, must be the key's algorithm. A key whose
// "use" is not "sig", or whose "key_ops" leaves out "verify", is an
// encryption key and is skipped. Key members are canonical unpadded
// base64url. Certificate members (x5c, x5t, x5u) and members of the set other
// than "keys" are ignored: nothing is fetched.
//
// Errors: INVALID_ARGUMENT naming the key (its position and kid) and the
// member, never a member's value: not a JSON object, a member given twice, no
// "keys" array, an unsupported kty, curve or size, a bad or missing member, a
// private-key member ("d", "p", "q", "dp", "dq", "qi", "oth" or "k": a JWKS
// file for casetraild holds public keys only), a repeated kid, an "alg" that
// is not the key's, or no signing key at all. Thread-safe.
absl::StatusOr<std::vector<JwtVerifier::Key>> ParseJwks(absl::string_view json);

}  // namespace casetrail::security

#endif  // CASETRAIL_SECURITY_JWKS_H_
