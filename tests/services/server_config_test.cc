// casetraild's deadline configuration: the shipped bank holidays and timescale
// rules by default, a local authority's files by flag, and a refusal to start
// (before the store is touched) when a file is missing or malformed.

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cli_process.h"
#include "tests/testing/server_process.h"

namespace casetrail::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kLocalRules[] = R"(
name: "testshire-2026-11"
version: 4
rules {
  id: "assessment-45wd" version: 2 jurisdictions: JURISDICTION_ENGLAND
  trigger_event: "AssessmentStarted" met_by_event: "AssessmentAuthorised"
  working_days: 40 source: "[local]"
}
)";

constexpr char kLocalHolidays[] = R"({"england-and-wales": {"events": [
  {"title": "New Year’s Day", "date": "2031-01-01"},
  {"title": "Christmas Day", "date": "2032-12-27"}]}})";

// Runs casetraild expecting it to refuse to start.
CliResult RefusedStart(const std::string& data_dir,
                       const std::vector<std::string>& flags) {
  std::vector<std::string> args = {
      "--data_dir=" + data_dir, "--listen=127.0.0.1:0", "--plaintext_loopback"};
  args.insert(args.end(), flags.begin(), flags.end());
  return RunProgram(CasetraildPath(), args, absl::Seconds(20));
}

TEST(ServerConfigTest, ShippedRulesAndHolidaysByDefault) {
  TempDir dir;
  auto server = ServerProcess::Start(dir.Sub("data"));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT((*server)->StderrText(),
              HasSubstr("timescale rules casetrail-default version 2 (14 "
                        "rules), bank holidays 2015-2030"));
}

TEST(ServerConfigTest, LocalFilesByFlag) {
  TempDir dir;
  std::ofstream(dir.Sub("rules.textproto")) << kLocalRules;
  std::ofstream(dir.Sub("holidays.json")) << kLocalHolidays;
  ServerProcess::Options options;
  options.data_dir = dir.Sub("data");
  options.extra_flags = {"--timescale_rules_file=" + dir.Sub("rules.textproto"),
                         "--bank_holidays_file=" + dir.Sub("holidays.json")};
  auto server = ServerProcess::Start(std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT((*server)->StderrText(),
              HasSubstr("timescale rules testshire-2026-11 version 4 (1 "
                        "rules), bank holidays 2031-2032"));
}

TEST(ServerConfigTest, MissingOrMalformedFilesRefuseToStart) {
  TempDir dir;
  std::ofstream(dir.Sub("bad.textproto")) << "name: \"x\" version: 1 rules {";
  std::ofstream(dir.Sub("bad.json")) << "{\"england-and-wales\": {}}";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--timescale_rules_file=" + dir.Sub("missing.textproto"),
       "cannot read " + dir.Sub("missing.textproto")},
      {"--timescale_rules_file=" + dir.Sub("bad.textproto"),
       dir.Sub("bad.textproto") + ": timescale rules: line 1"},
      {"--bank_holidays_file=" + dir.Sub("bad.json"),
       dir.Sub("bad.json") + ": bank holidays file"},
  };
  for (const auto& [flag, message] : cases) {
    const CliResult r = RefusedStart(dir.Sub("data"), {flag});
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(message)) << Describe(r);
    EXPECT_THAT(r.err, ::testing::Not(HasSubstr("listening on")));
    // Refused before the store was opened: no data directory was created.
    EXPECT_NE(access(dir.Sub("data").c_str(), F_OK), 0) << flag;
  }
}

}  // namespace
}  // namespace casetrail::testing
