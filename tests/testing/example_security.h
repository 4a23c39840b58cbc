#ifndef CASETRAIL_TESTS_TESTING_EXAMPLE_SECURITY_H_
#define CASETRAIL_TESTS_TESTING_EXAMPLE_SECURITY_H_

// The shipped example security configuration
// (deploy/security/example.textproto: two local authorities, northshire and
// southvale, each with its identity provider) written into a test's
// directory with fresh Ed25519 keys, and bearer tokens its issuers would
// sign: for tests that run casetraild with security on.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "security/jwt.h"
#include "tests/testing/server_process.h"

namespace casetrail::testing {

struct ExampleSecurity {
  security::KeyPairPem northshire;
  security::KeyPairPem southvale;
  // The configuration file to pass as --security_config.
  std::string config_file;
};

// Writes `example_path`'s configuration, followed by `extra` (text format,
// e.g. a grant), to dir/security.textproto and the issuers' public keys to
// dir/keys/ (mode 0700), as the example names them.
absl::StatusOr<ExampleSecurity> WriteExampleSecurity(
    const TempDir& dir, const std::string& example_path,
    absl::string_view extra = "");

// A token valid for an hour, signed by `tenant`'s issuer ("northshire" or
// "southvale") for `subject` with `role` (e.g. "social_worker") and `team`.
// Empty (with a test failure) if it cannot be signed.
std::string ExampleToken(const ExampleSecurity& security,
                         const std::string& role, const std::string& subject,
                         const std::string& team = "",
                         const std::string& tenant = "northshire",
                         const std::string& token_id = "");

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_EXAMPLE_SECURITY_H_
