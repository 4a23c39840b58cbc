#ifndef CASETRAIL_TESTS_TESTING_TEST_JWKS_H_
#define CASETRAIL_TESTS_TESTING_TEST_JWKS_H_

// JSON Web Keys (RFC 7517) of test keys, written with OpenSSL independently
// of security/jwks.cc, for the JWKS unit, policy and integration tests.

#include <string>
#include <vector>

namespace casetrail::testing {

// The public JWK of PEM "PUBLIC KEY" `public_key_pem` (Ed25519 as OKP, EC
// P-256, RSA) as JSON text, with "kid" when `kid` is not empty and `extra`
// (raw JSON members, e.g. R"("alg":"EdDSA","use":"sig")") appended. A test
// failure if the key cannot be read.
std::string PublicJwk(const std::string& public_key_pem, const std::string& kid,
                      const std::string& extra = "");

// {"keys":[jwks...]}.
std::string JwkSet(const std::vector<std::string>& jwks);

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_TEST_JWKS_H_
