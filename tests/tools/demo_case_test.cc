// The fictional demo case the quick start loads (tools/demo/demo_case.json),
// end to end as the quick start and a reader use it: the real casetraild on a
// loopback port and the real casetrail binary, judged by exit code and output.
// The file appends as written (every event typed, every rule met), reads back
// in full, covers the event types the demo is meant to show, and re-appends as
// "already recorded" without growing the log. The same file with one decision's
// rationale blanked is refused naming the field, and nothing of that append is
// written.

#include <cstdint>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "casetrail/v1/case_log.pb.h"
#include "casetrail/v1/event.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
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

using casetrail::testing::CliResult;
using casetrail::testing::Describe;
using casetrail::testing::ReadWholeFile;
using casetrail::testing::RunCasetrail;
using casetrail::testing::ServerProcess;
using casetrail::testing::TempDir;
using casetrail::testing::WriteWholeFile;
using casetrail::v1::CaseEvent;
using casetrail::v1::RecordedEvent;
using google::protobuf::Value;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// The streams the quick start and README name.
constexpr char kChildProtectionCase[] = "case-NS-0001";
constexpr char kChannelCase[] = "case-NS-0002";

// What the demo is to show, from contact to closure, between its two cases.
constexpr const char* kRequiredTypes[] = {
    "ContactReceived", "HouseholdMemberRecorded", "ReferralDecision",
    "CaseAllocated", "AssessmentStarted", "AssessmentCheckpointReviewed",
    "StrategyDiscussionHeld", "S47Started", "VisitCompleted", "S47Concluded",
    "ConferenceScheduled", "ConferenceHeld", "CoreGroupHeld", "RecordCorrected",
    "AssessmentExtensionRequested", "AssessmentExtensionDecided",
    "AssessmentAuthorised",
    // The Prevent/Channel case.
    "PreventReferralMade", "PoliceGatewayAssessed", "ChannelReferralReceived",
    "VulnerabilityAssessed", "ChannelConsentRecorded", "ChannelPanelHeld",
    "SupportPlanAgreed", "InterventionDelivered", "ChannelExited",
    "CaseClosed"};

// One append of the demo file, as the file states it.
struct DemoAppend {
  std::string stream_id;
  std::vector<std::string> event_ids;
  std::vector<std::string> event_types;
};

// The file's appends in order. Read as plain JSON, not as
// AppendEventsRequests: the file uses the CLI's shorthand ("EXACT" for
// TIME_PRECISION_EXACT), which only the CLI understands.
std::vector<DemoAppend> DemoAppends(const std::string& text) {
  Value root;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &root);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(root.has_list_value()) << "the demo is an array of appends";
  std::vector<DemoAppend> appends;
  for (const Value& a : root.list_value().values()) {
    const auto& fields = a.struct_value().fields();
    DemoAppend append;
    append.stream_id = fields.at("stream_id").string_value();
    for (const Value& e : fields.at("events").list_value().values()) {
      const auto& event = e.struct_value().fields();
      EXPECT_TRUE(event.contains("event_id"))
          << "every demo event has an explicit id, so a re-run is a retry";
      append.event_ids.push_back(event.at("event_id").string_value());
      append.event_types.push_back(event.at("event_type").string_value());
    }
    appends.push_back(std::move(append));
  }
  return appends;
}

// The event ids the file appends to `stream`, in order.
std::vector<std::string> IdsOf(const std::vector<DemoAppend>& appends,
                               const std::string& stream) {
  std::vector<std::string> ids;
  for (const DemoAppend& a : appends) {
    if (a.stream_id == stream) {
      ids.insert(ids.end(), a.event_ids.begin(), a.event_ids.end());
    }
  }
  return ids;
}

size_t EventCount(const std::vector<DemoAppend>& appends) {
  size_t n = 0;
  for (const DemoAppend& a : appends) n += a.event_ids.size();
  return n;
}

std::unique_ptr<ServerProcess> StartServer(const std::string& data_dir) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(data_dir);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

// The log size, from `casetrail info --json`; -1 if it cannot be read.
int64_t LogSize(const std::string& at_server) {
  const CliResult r = RunCasetrail({at_server, "--json", "info"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  casetrail::v1::GetLogInfoResponse info;
  const auto status = google::protobuf::util::JsonStringToMessage(r.out, &info);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << Describe(r);
  return status.ok() ? static_cast<int64_t>(info.log_size()) : -1;
}

// The events of `args`' output (`read ... --json` or `log --json`), one JSON
// object a line. An event whose payload is opaque, or missing, fails the test.
std::vector<RecordedEvent> TypedEvents(std::vector<std::string> args) {
  const CliResult r = RunCasetrail(args);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  std::vector<RecordedEvent> events;
  const std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  for (const std::string& line : lines) {
    // The CLI prints an opaque JSON payload as "payload", which no message
    // has: look before parsing, for a clear failure.
    Value value;
    if (!google::protobuf::util::JsonStringToMessage(line, &value).ok() ||
        !value.struct_value().fields().contains("event")) {
      ADD_FAILURE() << "not a recorded event: " << line;
      continue;
    }
    const auto& event = value.struct_value().fields().at("event");
    EXPECT_FALSE(event.struct_value().fields().contains("payload")) << line;
    EXPECT_FALSE(event.struct_value().fields().contains("opaque")) << line;
    RecordedEvent recorded;
    const auto status =
        google::protobuf::util::JsonStringToMessage(line, &recorded);
    if (!status.ok()) {
      ADD_FAILURE() << status.ToString() << "\n" << line;
      continue;
    }
    const CaseEvent& e = recorded.event();
    const auto* field =
        CaseEvent::descriptor()->FindFieldByNumber(e.payload_case());
    EXPECT_TRUE(e.payload_case() != CaseEvent::PAYLOAD_NOT_SET &&
                e.payload_case() != CaseEvent::kOpaque)
        << e.event_id() << " has no typed payload";
    if (field != nullptr && field->message_type() != nullptr) {
      EXPECT_EQ(e.event_type(), field->message_type()->name()) << e.event_id();
    }
    EXPECT_EQ(e.jurisdiction(), casetrail::v1::JURISDICTION_ENGLAND)
        << e.event_id();
    events.push_back(std::move(recorded));
  }
  return events;
}

std::vector<std::string> Ids(const std::vector<RecordedEvent>& events) {
  std::vector<std::string> ids;
  for (const auto& e : events) ids.push_back(e.event().event_id());
  return ids;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

constexpr char kAlreadyRecorded[] = "already recorded";

TEST(DemoCaseTest, AppendsTypedEventsReadsBackAndReappendsAsAlreadyRecorded) {
  const std::string demo = ReadWholeFile(CASETRAIL_DEMO_CASE);
  const std::vector<DemoAppend> appends = DemoAppends(demo);
  ASSERT_FALSE(appends.empty());
  const std::vector<std::string> cp_ids = IdsOf(appends, kChildProtectionCase);
  const std::vector<std::string> channel_ids = IdsOf(appends, kChannelCase);
  ASSERT_THAT(cp_ids, Not(IsEmpty()));
  ASSERT_THAT(channel_ids, Not(IsEmpty()));
  ASSERT_EQ(cp_ids.size() + channel_ids.size(), EventCount(appends))
      << "the demo appends to " << kChildProtectionCase << " and "
      << kChannelCase << " only";

  TempDir dir;
  std::unique_ptr<ServerProcess> server = StartServer(dir.Sub("data"));
  ASSERT_NE(server, nullptr);
  const std::string at_server = "--server=" + server->address();

  CliResult r = RunCasetrail({at_server, "append", CASETRAIL_DEMO_CASE});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, Not(HasSubstr(kAlreadyRecorded))) << Describe(r);
  EXPECT_EQ(LogSize(at_server), static_cast<int64_t>(EventCount(appends)));

  // Both cases read back whole, in the file's order, every event typed.
  std::set<std::string> types;
  for (const auto& [stream, ids] :
       {std::pair{std::string(kChildProtectionCase), cp_ids},
        std::pair{std::string(kChannelCase), channel_ids}}) {
    SCOPED_TRACE(stream);
    const std::vector<RecordedEvent> events =
        TypedEvents({at_server, "read", stream, "--json"});
    EXPECT_EQ(events.size(), ids.size());
    EXPECT_THAT(Ids(events), ElementsAreArray(ids));
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].stream_version(), i + 1);
      EXPECT_EQ(events[i].event().stream_id(), stream);
      types.insert(events[i].event().event_type());
    }
  }
  for (const char* type : kRequiredTypes) {
    EXPECT_TRUE(types.contains(type)) << "the demo has no " << type;
  }

  // The table view shows something of each typed payload.
  r = RunCasetrail({at_server, "read", kChildProtectionCase});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("S47_OUTCOME_ICPC"));
  EXPECT_THAT(r.out,
              HasSubstr(absl::StrCat(kChildProtectionCase, ": ", cp_ids.size(),
                                     " of ", cp_ids.size(), " events shown")));
  EXPECT_THAT(r.out, Not(HasSubstr("more from version")));
  // A page that ends before the stream does says where the next one starts.
  r = RunCasetrail({at_server, "read", kChildProtectionCase, "--limit=3"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out,
              HasSubstr(absl::StrCat("more from version 4: casetrail "
                                     "read ",
                                     kChildProtectionCase, " --from=4")));

  // The quick start run again: every append is a retry, the log unchanged.
  r = RunCasetrail({at_server, "append", CASETRAIL_DEMO_CASE});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Count(r.out, kAlreadyRecorded), appends.size()) << Describe(r);
  EXPECT_EQ(LogSize(at_server), static_cast<int64_t>(EventCount(appends)));
}

TEST(DemoCaseTest, BlankRationaleIsRefusedNamingTheFieldAndNothingOfItWritten) {
  const std::string demo = ReadWholeFile(CASETRAIL_DEMO_CASE);
  const std::vector<DemoAppend> appends = DemoAppends(demo);

  // Blank the S47Concluded decision's rationale.
  const size_t payload = demo.find("\"s47_concluded\"");
  ASSERT_NE(payload, std::string::npos);
  const std::string key = "\"rationale\": \"";
  const size_t start = demo.find(key, payload);
  ASSERT_NE(start, std::string::npos);
  const size_t from = start + key.size();
  const size_t to = demo.find('"', from);
  ASSERT_NE(to, std::string::npos);
  ASSERT_GT(to, from) << "the demo's rationale is already blank";
  ASSERT_EQ(demo.substr(from, to - from).find('\\'), std::string::npos)
      << "the rationale holds an escape; find its end another way";
  const std::string blanked = demo.substr(0, from) + demo.substr(to);

  // The append holding it, and what comes before it in the file.
  size_t refused = appends.size();
  for (size_t i = 0; i < appends.size() && refused == appends.size(); ++i) {
    for (const std::string& type : appends[i].event_types) {
      if (type == "S47Concluded") refused = i;
    }
  }
  ASSERT_LT(refused, appends.size());
  const std::vector<DemoAppend> before(appends.begin(),
                                       appends.begin() + refused);

  TempDir dir;
  const std::string path = dir.Sub("blank_rationale.json");
  ASSERT_NO_FATAL_FAILURE(WriteWholeFile(path, blanked));
  std::unique_ptr<ServerProcess> server = StartServer(dir.Sub("data"));
  ASSERT_NE(server, nullptr);
  const std::string at_server = "--server=" + server->address();

  CliResult r = RunCasetrail({at_server, "append", path});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(r.err, HasSubstr(".s47_concluded.decision.rationale: "));
  EXPECT_THAT(r.err, HasSubstr("rationale is mandatory"));
  EXPECT_THAT(r.err,
              HasSubstr("append to " + appends[refused].stream_id + " failed"));

  // The appends before it are written; it and everything after are not.
  EXPECT_EQ(LogSize(at_server), static_cast<int64_t>(EventCount(before)));
  const std::vector<RecordedEvent> log =
      TypedEvents({at_server, "log", "--json"});
  std::vector<std::string> expected;
  for (const DemoAppend& a : before) {
    expected.insert(expected.end(), a.event_ids.begin(), a.event_ids.end());
  }
  EXPECT_THAT(Ids(log), ElementsAreArray(expected));

  // The file as shipped then completes the log: what was written is retried.
  r = RunCasetrail({at_server, "append", CASETRAIL_DEMO_CASE});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Count(r.out, kAlreadyRecorded), before.size()) << Describe(r);
  EXPECT_EQ(LogSize(at_server), static_cast<int64_t>(EventCount(appends)));
}

}  // namespace
}  // namespace casetrail
