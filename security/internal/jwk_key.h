#ifndef CASETRAIL_SECURITY_INTERNAL_JWK_KEY_H_
#define CASETRAIL_SECURITY_INTERNAL_JWK_KEY_H_

// The OpenSSL 3 side of security/jwks.cc: public keys built from the decoded
// members of a JSON Web Key (RFC 7518 section 6, RFC 8037 section 2) and
// written as PEM "PUBLIC KEY" (SubjectPublicKeyInfo), the form JwtVerifier
// takes. Only jwks.cc uses this. Thread-safe (no shared state).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace casetrail::security::internal {

// An Ed25519 key ("kty": "OKP", "crv": "Ed25519") from its 32-byte "x".
// INVALID_ARGUMENT with a reason, naming the member, if it is not one.
absl::StatusOr<std::string> Ed25519PublicKeyPem(absl::string_view x);

// An EC P-256 key ("kty": "EC", "crv": "P-256") from its 32-byte coordinates
// "x" and "y". INVALID_ARGUMENT if they are not 32 bytes each or not a point
// of the curve.
absl::StatusOr<std::string> P256PublicKeyPem(absl::string_view x,
                                             absl::string_view y);

// An RSA key ("kty": "RSA") from its modulus "n" and exponent "e" (unsigned
// big-endian). INVALID_ARGUMENT if OpenSSL's public-key check refuses them
// (an even modulus, an even or unit exponent, ...). The size is not checked
// here: JwsKey refuses fewer than 2048 bits.
absl::StatusOr<std::string> RsaPublicKeyPem(absl::string_view n,
                                            absl::string_view e);

}  // namespace casetrail::security::internal

#endif  // CASETRAIL_SECURITY_INTERNAL_JWK_KEY_H_
