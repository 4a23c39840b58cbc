// The casetrail CLI's query commands end to end, as a practitioner and an
// operator use them: the real casetraild on a loopback port with the demo
// (tools/demo/demo_case.json) appended by the real casetrail binary, and each
// command judged by its exit code and output. `chronology` (table and JSON,
// pages, filters, a child), `state` with deadlines on a date, `pack` with its
// twelve sections, `decision` with the later correction, `projections status`
// and `rebuild`; usage errors exit 2, refusals 1, an unreachable server 3.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "casetrail/v1/case_queries.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/cli_process.h"
#include "tests/testing/server_process.h"

#ifndef CASETRAIL_DEMO_CASE
#error \
    "CASETRAIL_DEMO_CASE must name tools/demo/demo_case.json (see tests/CMakeLists.txt)"
#endif

namespace casetrail {
namespace {

namespace v1 = ::casetrail::v1;

using casetrail::testing::CliResult;
using casetrail::testing::Describe;
using casetrail::testing::RunCasetrail;
using casetrail::testing::ServerProcess;
using casetrail::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kCpCase[] = "case-NS-0001";
constexpr char kChannelCase[] = "case-NS-0002";
constexpr char kChannelChild[] = "NS-P-310552";
constexpr char kPolice[] = "Northshire Police (fictional)";
// The demo's events: 21 in case-NS-0001 (one a correction, which makes no
// chronology entry of its own) and 15 in case-NS-0002.
constexpr uint64_t kDemoEvents = 36;
constexpr int kCpEntries = 20;

// case-NS-0001's entries in occurred order: the plan change of 20 March is
// dated that day (00:00), before the conference at 10:00 that made it, and
// the correction (017) is shown on its target, not as an entry.
std::vector<std::string> CpEntryIds() {
  std::vector<std::string> ids;
  for (int i : {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                11, 12, 13, 15, 14, 16, 18, 19, 20, 21}) {
    ids.push_back(absl::StrCat("demo-ns0001-", i < 10 ? "00" : "0", i));
  }
  return ids;
}

template <typename Message>
Message ParseJson(const CliResult& r) {
  Message message;
  const auto status = google::protobuf::util::JsonStringToMessage(
      std::string(absl::StripAsciiWhitespace(r.out)), &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << Describe(r);
  return message;
}

std::vector<std::string> EntryIds(const v1::GetChronologyResponse& response) {
  std::vector<std::string> ids;
  for (const auto& e : response.entries()) ids.push_back(e.event_id());
  return ids;
}

// The part of `text` after the first `marker` (empty if none).
std::string After(const std::string& text, const std::string& marker) {
  const size_t at = text.find(marker);
  return at == std::string::npos ? "" : text.substr(at + marker.size());
}

// One casetraild with the demo appended, for the whole suite (started lazily
// from the main thread). The tests only read, except `projections rebuild`,
// which leaves the read model as it was.
class CliQueriesTest : public ::testing::Test {
 protected:
  struct Shared {
    TempDir dir;
    std::unique_ptr<ServerProcess> server;
  };

  static void TearDownTestSuite() {
    if (shared_ != nullptr && shared_->server != nullptr) {
      shared_->server->Stop();
    }
    delete shared_;
    shared_ = nullptr;
  }

  void SetUp() override {
    if (shared_ != nullptr) return;
    auto shared = std::make_unique<Shared>();
    ServerProcess::Options options;
    options.data_dir = shared->dir.Sub("data");
    options.extra_flags = {"--checkpoint_interval=0"};
    auto server = ServerProcess::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    shared->server = *std::move(server);
    const std::string at = "--server=" + shared->server->address();
    CliResult r = RunCasetrail({at, "append", CASETRAIL_DEMO_CASE});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    // Until the read models have folded the whole demo.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    v1::GetProjectionStatusResponse status;
    do {
      r = RunCasetrail({at, "--json", "projections", "status"});
      ASSERT_EQ(r.exit_code, 0) << Describe(r);
      status = ParseJson<v1::GetProjectionStatusResponse>(r);
    } while (status.checkpoint() < kDemoEvents && absl::Now() < deadline);
    ASSERT_EQ(status.checkpoint(), kDemoEvents) << Describe(r);
    ASSERT_EQ(status.log_size(), kDemoEvents) << Describe(r);
    shared_ = shared.release();
  }

  // Runs the CLI against the shared server.
  CliResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), "--server=" + shared_->server->address());
    return RunCasetrail(args);
  }

  static Shared* shared_;
};

CliQueriesTest::Shared* CliQueriesTest::shared_ = nullptr;

TEST_F(CliQueriesTest, ChronologyTableShowsHeadlinesDecisionsAndCorrections) {
  const CliResult r = Run({"chronology", kCpCase});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("Chronology of ", kCpCase, ": ",
                                            kCpEntries, " of ", kCpEntries,
                                            " entries (as known now")));
  EXPECT_THAT(r.out, HasSubstr("DATE               # AGE    SIG SOURCE"));
  EXPECT_THAT(r.out, HasSubstr("Strategy discussion (video) with"));
  EXPECT_THAT(r.out, HasSubstr("Referral decision: strategy discussion"));
  EXPECT_THAT(r.out, HasSubstr("DECISION by Adaeze Okafor: Maisie has a "
                               "fresh bruise"));
  // The father's date of birth, corrected, shown on the entry that recorded
  // it.
  EXPECT_THAT(r.out, HasSubstr("CORRECTED on "));
  EXPECT_THAT(r.out, HasSubstr("household_member_recorded.date_of_birth: "
                               "{\"year\":1988,\"month\":7,\"day\":21} -> "
                               "{\"year\":1986,\"month\":7,\"day\":12}"));
  const size_t father = r.out.find("Household member recorded: Lee Thornton");
  const size_t corrected = r.out.find("CORRECTED on ");
  const size_t lodger = r.out.find("Household member recorded: Gary Platt");
  ASSERT_NE(father, std::string::npos);
  ASSERT_NE(lodger, std::string::npos);
  EXPECT_LT(father, corrected);
  EXPECT_LT(corrected, lodger) << "the correction is shown under its entry";
  EXPECT_THAT(r.out, Not(HasSubstr("next page:")));
}

TEST_F(CliQueriesTest, ChronologyJsonParsesAsTheResponse) {
  CliResult r = Run({"--json", "chronology", kCpCase});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const auto all = ParseJson<v1::GetChronologyResponse>(r);
  EXPECT_EQ(all.entries_size(), kCpEntries);
  EXPECT_EQ(all.total_entries(), static_cast<uint32_t>(kCpEntries));
  EXPECT_THAT(all.next_page_token(), IsEmpty());
  EXPECT_THAT(EntryIds(all), ElementsAreArray(CpEntryIds()));
  EXPECT_EQ(all.provenance().log_size(), kDemoEvents);
  for (const auto& e : all.entries()) {
    EXPECT_EQ(e.case_id(), kCpCase);
    EXPECT_FALSE(e.headline().empty()) << e.event_id();
    EXPECT_EQ(e.amendments_size(), e.event_id() == "demo-ns0001-003" ? 1 : 0)
        << e.event_id();
  }

  {
    SCOPED_TRACE("one page, then the next by its token");
    r = Run({"--json", "chronology", kCpCase, "--page_size=7"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    const auto first = ParseJson<v1::GetChronologyResponse>(r);
    EXPECT_EQ(first.entries_size(), 7);
    EXPECT_EQ(first.total_entries(), static_cast<uint32_t>(kCpEntries));
    ASSERT_FALSE(first.next_page_token().empty());
    r = Run({"--json", "chronology", kCpCase, "--page_size=7",
             "--page_token=" + first.next_page_token()});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    const auto second = ParseJson<v1::GetChronologyResponse>(r);
    const std::vector<std::string> ids = CpEntryIds();
    EXPECT_THAT(EntryIds(second),
                ElementsAreArray(ids.begin() + 7, ids.begin() + 14));
    // The table says where to go on.
    r = Run({"chronology", kCpCase, "--page_size=7"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(r.out,
                HasSubstr("Chronology of case-NS-0001: 7 of 20 entries"));
    EXPECT_THAT(
        r.out, HasSubstr("next page: --page_token=" + first.next_page_token()));
  }
  {
    SCOPED_TRACE("filters");
    r = Run({"--json", "chronology", kCpCase, "--significant"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(
        EntryIds(ParseJson<v1::GetChronologyResponse>(r)),
        ElementsAre("demo-ns0001-001", "demo-ns0001-011", "demo-ns0001-014"));
    r = Run({"--json", "chronology", kChannelCase,
             absl::StrCat("--agency=", kPolice)});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(
        EntryIds(ParseJson<v1::GetChronologyResponse>(r)),
        ElementsAre("demo-ns0002-005", "demo-ns0002-007", "demo-ns0002-013"));
  }
  {
    SCOPED_TRACE("a child's chronology");
    r = Run({"--json", "chronology", absl::StrCat("--child=", kChannelChild)});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    const auto child = ParseJson<v1::GetChronologyResponse>(r);
    EXPECT_EQ(child.entries_size(), 15);
    for (const auto& e : child.entries()) EXPECT_EQ(e.case_id(), kChannelCase);
  }
  {
    SCOPED_TRACE("as known at");
    r = Run({"--json", "chronology", kCpCase,
             "--as_known_at=2099-01-01T00:00:00Z"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    const auto later = ParseJson<v1::GetChronologyResponse>(r);
    EXPECT_EQ(later.entries_size(), kCpEntries);
    EXPECT_TRUE(later.provenance().has_as_known_at());
    // Nothing had been recorded by the end of 1 January 2000.
    r = Run({"chronology", kCpCase, "--as_known_at=2000-01-01"});
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
    EXPECT_THAT(r.err, HasSubstr("among the events recorded by then"));
  }
}

TEST_F(CliQueriesTest, StatePrintsDeadlinesOnTheDate) {
  const CliResult r = Run({"state", kCpCase, "--on=2026-05-01"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("Case case-NS-0001: "));
  EXPECT_THAT(r.out, HasSubstr("Deadlines (evaluated on 2026-05-01):"));
  const std::string deadlines = After(r.out, "Deadlines (evaluated on");
  EXPECT_THAT(deadlines, HasSubstr("assessment-45wd"));
  EXPECT_THAT(deadlines, HasSubstr("referral-decision-1wd"));
  EXPECT_THAT(deadlines, HasSubstr("icpc-15wd"));
  // The extension granted on 30 April moved the assessment's due date.
  EXPECT_THAT(deadlines, HasSubstr("extended to 2026-05-21"));
  EXPECT_THAT(After(r.out, "Practice flags:"),
              HasSubstr("decision basis corrected: ReferralDecision "
                        "demo-ns0001-005 relied on demo-ns0001-003"));

  // The JSON evaluates every deadline on that day.
  const CliResult json = Run({"--json", "state", kCpCase, "--on=2026-05-01"});
  ASSERT_EQ(json.exit_code, 0) << Describe(json);
  const auto state = ParseJson<v1::GetCaseStateResponse>(json);
  ASSERT_FALSE(state.state().deadlines().empty());
  bool assessment = false;
  for (const auto& d : state.state().deadlines()) {
    EXPECT_EQ(d.evaluated_on().year(), 2026) << d.rule_id();
    EXPECT_EQ(d.evaluated_on().month(), 5) << d.rule_id();
    EXPECT_EQ(d.evaluated_on().day(), 1) << d.rule_id();
    if (d.rule_id() == "assessment-45wd") {
      assessment = true;
      EXPECT_EQ(d.status(), v1::DEADLINE_STATUS_PENDING);
    }
  }
  EXPECT_TRUE(assessment);
}

TEST_F(CliQueriesTest, PackPrintsItsTwelveSections) {
  const CliResult r = Run({"pack", kChannelChild, "--on=2026-06-01"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("CHANNEL PANEL PACK  CH-NS-2026-007"));
  const std::vector<std::string> headings = {
      "\n1. Cover\n",
      "\n2. Individual\n",
      "\n3. Referral\n",
      "\n4. Agency returns\n",
      "\n5. Vulnerability assessment\n",
      "\n6. Safeguarding context\n",
      "\n7. Consent\n",
      "\n8. Support plan\n",
      "\n9. Decisions\n",
      "\n10. Multi-agency chronology (significant entries)\n",
      "\n11. Prior Prevent and Channel history\n",
      "\n12. Exit and closing report\n"};
  size_t previous = 0;
  for (const std::string& heading : headings) {
    const size_t at = r.out.find(heading);
    ASSERT_NE(at, std::string::npos) << heading << "\n" << Describe(r);
    EXPECT_GT(at, previous) << heading << " is out of order";
    previous = at;
  }
  EXPECT_THAT(r.out, HasSubstr("date 2026-06-01; chair Paul Morrow"));
  EXPECT_THAT(After(r.out, "7. Consent"),
              HasSubstr("Consent to Channel support given by Joanne Reeve"));
  EXPECT_THAT(After(r.out, "12. Exit and closing report"),
              HasSubstr("review channel-post-exit-6m due 2026-11-14: pending"));
  EXPECT_THAT(After(r.out, "11. Prior Prevent and Channel history"),
              HasSubstr("(none)"));
}

TEST_F(CliQueriesTest, DecisionPrintsRationaleAndTheLaterCorrection) {
  const CliResult r = Run({"decision", kCpCase, "demo-ns0001-005"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("ReferralDecision demo-ns0001-005, position 4"));
  EXPECT_THAT(r.out, HasSubstr("Decided by Adaeze Okafor"));
  EXPECT_THAT(r.out, HasSubstr("Rationale: Maisie has a fresh bruise"));
  EXPECT_THAT(r.out,
              HasSubstr("Information basis: every event below log position 4; "
                        "relied on demo-ns0001-001, demo-ns0001-002, "
                        "demo-ns0001-003, demo-ns0001-004"));
  const std::string corrections =
      After(r.out, "Later corrections to what the decision relied on:\n");
  EXPECT_THAT(corrections, ::testing::StartsWith("  corrected on "));
  EXPECT_THAT(corrections,
              HasSubstr("demo-ns0001-003 household_member_recorded."
                        "date_of_birth {\"year\":1988,\"month\":7,\"day\":21} "
                        "-> {\"year\":1986,\"month\":7,\"day\":12}"));
  // The chronology as it stood: the four events below the decision, and not
  // the decision itself.
  const std::string then = After(r.out, "Chronology as known then:\n");
  EXPECT_THAT(then, HasSubstr("Household member recorded: Gary Platt"));
  EXPECT_THAT(then, Not(HasSubstr("Referral decision:")));
  EXPECT_THAT(then, Not(HasSubstr("CORRECTED")));

  // The same as JSON.
  const CliResult json =
      Run({"--json", "decision", kCpCase, "demo-ns0001-005"});
  ASSERT_EQ(json.exit_code, 0) << Describe(json);
  const auto response = ParseJson<v1::ReconstructDecisionResponse>(json);
  EXPECT_EQ(response.chronology_at_basis_size(), 4);
  ASSERT_EQ(response.later_corrections_size(), 1);
  EXPECT_EQ(response.later_corrections(0).event_id(), "demo-ns0001-017");
}

TEST_F(CliQueriesTest, ProjectionsStatusAndRebuild) {
  CliResult r = Run({"projections", "status"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("read models at position 36 of 36 (0 behind)"));
  EXPECT_THAT(r.out, HasSubstr("fingerprint casetrail-fold-"));
  EXPECT_THAT(r.out, Not(HasSubstr("digest")));

  auto digest_line = [](const CliResult& r) {
    for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
      if (absl::ConsumePrefix(&line, "digest ")) return std::string(line);
    }
    return std::string();
  };
  r = Run({"projections", "status", "--digest"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string digest = digest_line(r);
  EXPECT_THAT(digest, SizeIs(64)) << "SHA-256 in hex\n" << Describe(r);
  for (char ch : digest) EXPECT_TRUE(absl::ascii_isxdigit(ch)) << digest;

  r = Run({"projections", "rebuild"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("rebuilt 2 cases from 36 events in "));
  r = Run({"projections", "status", "--digest"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(digest_line(r), digest) << "the rebuild is byte-identical";
  EXPECT_THAT(r.out, HasSubstr("(0 behind)"));
  EXPECT_THAT(r.out, HasSubstr("rebuilds 1"));
}

TEST_F(CliQueriesTest, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> usage = {
      {"chronology"},
      {"chronology", kCpCase, "extra"},
      {"chronology", kCpCase, absl::StrCat("--child=", kChannelChild)},
      {"chronology", kCpCase, "--as_known_at=yesterday"},
      {"state"},
      {"state", kCpCase, "--on=2026-02-30"},
      {"state", kCpCase, "--on=1 May 2026"},
      {"pack"},
      {"pack", kChannelChild, "--on=tomorrow"},
      {"decision", kCpCase},
      {"decision", kCpCase, "demo-ns0001-005", "extra"},
      {"projections"},
      {"projections", "refresh"},
  };
  for (const auto& args : usage) {
    const CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("casetrail: ")) << Describe(r);
    EXPECT_THAT(r.out, IsEmpty()) << Describe(r);
  }
}

TEST_F(CliQueriesTest, RefusalsExitOneWithTheCode) {
  struct Refusal {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Refusal> refusals = {
      {{"chronology", "case-NS-9999"}, "NOT_FOUND: no case case-NS-9999"},
      {{"state", "case-NS-9999"}, "NOT_FOUND: no case case-NS-9999"},
      {{"decision", "case-NS-9999", "demo-ns0001-005"},
       "NOT_FOUND: no case case-NS-9999"},
      {{"decision", kCpCase, "demo-ns0001-999"}, "NOT_FOUND"},
      {{"pack", "NS-P-204117"}, "NOT_FOUND"},
      {{"decision", kCpCase, "demo-ns0001-001"}, "FAILED_PRECONDITION"},
      {{"chronology", kCpCase, "--page_size=1001"},
       "INVALID_ARGUMENT: the request is malformed\n  page_size: at most 1000"},
  };
  for (const Refusal& refusal : refusals) {
    const CliResult r = Run(refusal.args);
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(refusal.says)) << Describe(r);
    EXPECT_THAT(r.out, IsEmpty()) << Describe(r);
  }

  // Nothing listening: exit 3.
  const CliResult r = RunCasetrail(
      {"--server=127.0.0.1:1", "--timeout=2", "projections", "status"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("cannot reach casetraild"));
}

}  // namespace
}  // namespace casetrail
