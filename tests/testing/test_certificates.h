#ifndef CASETRAIL_TESTS_TESTING_TEST_CERTIFICATES_H_
#define CASETRAIL_TESTS_TESTING_TEST_CERTIFICATES_H_

// A throwaway PKI for the TLS tests, made at test time with the openssl
// command (/usr/bin/openssl; tools/install-deps.sh installs it). EC P-256
// keys, valid for two days from now.

#include <string>

#include "absl/status/statusor.h"

namespace casetrail::testing {

// Paths of PEM files. Every private key has mode 0600.
struct TestCertificates {
  // A self-signed test CA.
  std::string ca_cert;
  // Issued by the CA to "localhost": subject CN localhost, SANs DNS:localhost
  // and IP:127.0.0.1, extended key usage serverAuth.
  std::string server_cert;
  std::string server_key;
  // Issued by the CA to a case system: subject CN kClientName, SANs
  // DNS:kClientName, DNS:kClientAltName and IP:10.1.2.3, extended key usage
  // clientAuth.
  std::string client_cert;
  std::string client_key;
  // Self-signed, otherwise like the client certificate: a stranger claiming
  // the case system's name.
  std::string untrusted_cert;
  std::string untrusted_key;
};

inline constexpr char kClientName[] = "mosaic.northshire.test";
inline constexpr char kClientAltName[] = "mosaic-api.northshire.test";

// Makes the files in `dir` (which must exist). Errors: INTERNAL with openssl's
// command line and output if a step fails.
absl::StatusOr<TestCertificates> MakeTestCertificates(const std::string& dir);

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_TEST_CERTIFICATES_H_
