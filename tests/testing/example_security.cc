#include "tests/testing/example_security.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace casetrail::testing {

absl::StatusOr<ExampleSecurity> WriteExampleSecurity(
    const TempDir& dir, const std::string& example_path,
    absl::string_view extra) {
  ExampleSecurity out;
  absl::StatusOr<security::KeyPairPem> north =
      security::GenerateEd25519KeyPair();
  if (!north.ok()) return north.status();
  absl::StatusOr<security::KeyPairPem> south =
      security::GenerateEd25519KeyPair();
  if (!south.ok()) return south.status();
  out.northshire = *std::move(north);
  out.southvale = *std::move(south);
  out.config_file = dir.Sub("security.textproto");
  WriteWholeFile(out.config_file,
                 absl::StrCat(ReadWholeFile(example_path), "\n", extra));
  if (mkdir(dir.Sub("keys").c_str(), 0700) != 0) {
    return absl::InternalError("cannot make " + dir.Sub("keys"));
  }
  WriteWholeFile(dir.Sub("keys/northshire-idp.pub"),
                 out.northshire.public_key_pem);
  WriteWholeFile(dir.Sub("keys/southvale-idp.pub"),
                 out.southvale.public_key_pem);
  return out;
}

std::string ExampleToken(const ExampleSecurity& security,
                         const std::string& role, const std::string& subject,
                         const std::string& team, const std::string& tenant,
                         const std::string& token_id) {
  const bool south = tenant == "southvale";
  security::TokenClaims claims;
  claims.issuer = south ? "https://idp.southvale.example"
                        : "https://idp.northshire.example";
  claims.subject = subject;
  claims.role = role;
  claims.team = team;
  claims.tenant = tenant;
  claims.audience = {"casetrail"};
  claims.issued_at = absl::Now() - absl::Minutes(1);
  claims.expires_at = absl::Now() + absl::Hours(1);
  claims.token_id = token_id;
  absl::StatusOr<std::string> token =
      security::SignJwt(claims,
                        south ? security.southvale.private_key_pem
                              : security.northshire.private_key_pem,
                        south ? "southvale-1" : "northshire-1");
  EXPECT_TRUE(token.ok()) << token.status();
  return token.value_or("");
}

}  // namespace casetrail::testing
