// The casetrail CLI's development token commands, run as the real binary:
// `token keygen` writes a key pair with the right modes and never overwrites
// one, and `token issue` prints a token that JwtVerifier accepts with the
// claims asked for. Usage errors exit 2.

#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security/jwt.h"
#include "tests/testing/cli_process.h"
#include "tests/testing/server_process.h"

namespace casetrail {
namespace {

using casetrail::security::JwtVerifier;
using casetrail::security::TokenClaims;
using casetrail::testing::CliResult;
using casetrail::testing::Describe;
using casetrail::testing::ReadWholeFile;
using casetrail::testing::RunCasetrail;
using casetrail::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kIssuer[] = "https://idp.dev.test";
constexpr char kAudience[] = "casetrail";

int Mode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 07777;
}

std::vector<std::string> IssueArgs(const std::string& key_file,
                                   const std::string& role) {
  return {"token",
          "issue",
          "--signing_key=" + key_file,
          absl::StrCat("--issuer=", kIssuer),
          absl::StrCat("--audience=", kAudience),
          "--subject=u-2002",
          "--role=" + role,
          "--tenant=northshire",
          "--team=cp-south",
          "--name=Jo Example",
          "--ttl=2h"};
}

TEST(CasetrailCliTokenTest, KeygenWritesPrivateKey0600AndPublicKey0644) {
  TempDir dir;
  const std::string keys = dir.Sub("keys");
  CliResult r = RunCasetrail({"token", "keygen", "--out=" + keys});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string private_key = keys + "/jwt_signing.key";
  const std::string public_key = keys + "/jwt_signing.pub";
  EXPECT_EQ(Mode(private_key), 0600);
  EXPECT_EQ(Mode(public_key), 0644);
  const std::string private_pem = ReadWholeFile(private_key);
  const std::string public_pem = ReadWholeFile(public_key);
  EXPECT_TRUE(absl::StartsWith(private_pem, "-----BEGIN PRIVATE KEY-----"));
  EXPECT_TRUE(absl::StartsWith(public_pem, "-----BEGIN PUBLIC KEY-----"));

  absl::StatusOr<std::string> key_id = security::JwtKeyId(public_pem);
  ASSERT_TRUE(key_id.ok()) << key_id.status();
  EXPECT_THAT(r.out, HasSubstr(*key_id));
  EXPECT_EQ(*security::JwtKeyId(private_pem), *key_id);
  EXPECT_THAT(r.out, HasSubstr(private_key));
  EXPECT_THAT(r.out, HasSubstr(public_key));

  r = RunCasetrail(
      {"token", "keygen", "--out=" + dir.Sub("named"), "--key_id=idp-2026"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("idp-2026"));
}

TEST(CasetrailCliTokenTest, KeygenRefusesToOverwrite) {
  TempDir dir;
  CliResult r = RunCasetrail({"token", "keygen", "--out=" + dir.path()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string private_pem = ReadWholeFile(dir.Sub("jwt_signing.key"));
  const std::string public_pem = ReadWholeFile(dir.Sub("jwt_signing.pub"));

  r = RunCasetrail({"token", "keygen", "--out=" + dir.path()});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("refusing to overwrite"));
  EXPECT_EQ(ReadWholeFile(dir.Sub("jwt_signing.key")), private_pem);
  EXPECT_EQ(ReadWholeFile(dir.Sub("jwt_signing.pub")), public_pem);

  // A public key alone also stops it, and no private key is left behind.
  TempDir other;
  testing::WriteWholeFile(other.Sub("jwt_signing.pub"), "keep me\n");
  r = RunCasetrail({"token", "keygen", "--out=" + other.path()});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(ReadWholeFile(other.Sub("jwt_signing.pub")), "keep me\n");
  EXPECT_EQ(Mode(other.Sub("jwt_signing.key")), -1);

  r = RunCasetrail({"token", "keygen"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("--out"));
}

TEST(CasetrailCliTokenTest, IssuedTokenVerifiesWithItsClaims) {
  TempDir dir;
  CliResult r = RunCasetrail({"token", "keygen", "--out=" + dir.path()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string public_pem = ReadWholeFile(dir.Sub("jwt_signing.pub"));
  const std::string key_id = *security::JwtKeyId(public_pem);

  const absl::Time before =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  r = RunCasetrail(IssueArgs(dir.Sub("jwt_signing.key"), "team_manager"));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const absl::Time after = absl::Now();
  // Only the token, on one line.
  ASSERT_TRUE(absl::EndsWith(r.out, "\n")) << Describe(r);
  const std::string token(absl::StripTrailingAsciiWhitespace(r.out));
  EXPECT_THAT(token, MatchesRegex("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\."
                                  "[A-Za-z0-9_-]+"));

  JwtVerifier::Issuer issuer;
  issuer.issuer = kIssuer;
  issuer.audience = kAudience;
  issuer.keys = {{key_id, public_pem}};
  absl::StatusOr<JwtVerifier> verifier = JwtVerifier::Create({issuer});
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  absl::StatusOr<TokenClaims> claims = verifier->Verify(token, absl::Now());
  ASSERT_TRUE(claims.ok()) << claims.status() << "\n" << Describe(r);
  EXPECT_EQ(claims->issuer, kIssuer);
  EXPECT_EQ(claims->subject, "u-2002");
  EXPECT_EQ(claims->role, "team_manager");
  EXPECT_EQ(claims->tenant, "northshire");
  EXPECT_EQ(claims->team, "cp-south");
  EXPECT_EQ(claims->name, "Jo Example");
  EXPECT_THAT(claims->audience, ElementsAre(kAudience));
  EXPECT_THAT(claims->token_id, MatchesRegex("[0-9a-f]{32}"));
  EXPECT_GE(claims->issued_at, before);
  EXPECT_LE(claims->issued_at, after);
  EXPECT_EQ(claims->expires_at - claims->issued_at, absl::Hours(2));
  EXPECT_EQ(claims->not_before, absl::InfinitePast());

  // Each token has its own jti.
  r = RunCasetrail(IssueArgs(dir.Sub("jwt_signing.key"), "team_manager"));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  absl::StatusOr<TokenClaims> second =
      verifier->Verify(absl::StripTrailingAsciiWhitespace(r.out), absl::Now());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(second->token_id, claims->token_id);
}

TEST(CasetrailCliTokenTest, BadRoleExits2) {
  TempDir dir;
  ASSERT_EQ(RunCasetrail({"token", "keygen", "--out=" + dir.path()}).exit_code,
            0);
  CliResult r = RunCasetrail(IssueArgs(dir.Sub("jwt_signing.key"), "root"));
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("--role=root is not one of"));
  EXPECT_EQ(r.out, "");
}

TEST(CasetrailCliTokenTest, MissingFlagOrUnreadableKeyExits2) {
  TempDir dir;
  std::vector<std::string> args =
      IssueArgs(dir.Sub("jwt_signing.key"), "auditor");
  CliResult r = RunCasetrail(args);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("cannot read"));

  args.erase(args.begin() + 7);  // --tenant
  r = RunCasetrail(args);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("--tenant is required"));

  testing::WriteWholeFile(dir.Sub("garbage.key"), "not a key\n");
  r = RunCasetrail(IssueArgs(dir.Sub("garbage.key"), "auditor"));
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace casetrail
