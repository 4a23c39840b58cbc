#ifndef CASETRAIL_SECURITY_ISSUER_KEYS_H_
#define CASETRAIL_SECURITY_ISSUER_KEYS_H_

// The token issuers of a security configuration, with their keys read from
// the files it names: PEM public keys (`keys { public_key_file }`) and JWK
// Sets (`jwks_file`, security/jwks.h). SecurityPolicy reads them at start and
// again when casetraild gets SIGHUP.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "casetrail/v1/security_config.pb.h"
#include "security/jwt.h"

namespace casetrail::security {

// Every issuer of `config` with its PEM keys and then its JWKS keys, in the
// order configured. Relative file paths are resolved from `key_dir`.
//
// Errors: INVALID_ARGUMENT naming the issuer, and the file, when an issuer
// lacks issuer, audience, tenants or any key (neither keys nor jwks_file), or
// a key file cannot be read or parsed (ReadNonEmptyFile, ParseJwks). Key
// types, sizes and repeated key ids are checked by JwtVerifier::Create.
// Thread-safe (reads files only).
absl::StatusOr<std::vector<JwtVerifier::Issuer>> ReadTokenIssuers(
    const casetrail::v1::SecurityConfig& config, const std::string& key_dir);

}  // namespace casetrail::security

#endif  // CASETRAIL_SECURITY_ISSUER_KEYS_H_
