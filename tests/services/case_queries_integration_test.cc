// casetrail.v1.CaseQueries end to end: the real casetraild on a loopback port
// with a real data directory, typed events appended over a real gRPC channel
// (CaseLog) and every answer read back over the same channel (CaseQueries).
// Chronologies (read-your-writes, order, paging, filters, a child across
// cases), "as known at T" against "as known now" around a correction, deadline
// status across a due date, decision reconstruction, the demo's Channel panel
// pack, malformed requests and min_position beyond the log; then the read
// models' own life: status, digest, rebuild through the server, restart on
// the same data directory, a deleted read model and another rule set.
// Queries never write to the log: each test checks the log size after them.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "casetrail/v1/case_events.pb.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "casetrail/v1/case_queries.grpc.pb.h"
#include "casetrail/v1/event.pb.h"
#include "casetrail/v1/projections.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/testing/case_events.h"
#include "tests/testing/case_log_client.h"
#include "tests/testing/cli_process.h"
#include "tests/testing/server_process.h"

#ifndef CASETRAIL_DEMO_CASE
#error \
    "CASETRAIL_DEMO_CASE must name tools/demo/demo_case.json (see tests/CMakeLists.txt)"
#endif
#ifndef CASETRAIL_TIMESCALES_FILE
#error \
    "CASETRAIL_TIMESCALES_FILE must name projections/data/timescales.textproto (see tests/CMakeLists.txt)"
#endif

namespace casetrail {
namespace {

namespace v1 = ::casetrail::v1;

using casetrail::testing::BadRequestFields;
using casetrail::testing::CaseLogClient;
using casetrail::testing::CliResult;
using casetrail::testing::Describe;
using casetrail::testing::MakeAppendRequest;
using casetrail::testing::ReadWholeFile;
using casetrail::testing::RunCasetrail;
using casetrail::testing::ServerProcess;
using casetrail::testing::TempDir;
using casetrail::testing::ToString;
using casetrail::testing::WriteWholeFile;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using v1::AppendedEvent;
using v1::CaseEvent;
using v1::CaseQueries;
using v1::ChronologyEntry;
using v1::ExpectedVersion;

constexpr char kCouncil[] = "Northshire County Council (fictional)";
constexpr char kPolice[] = "Northshire Police (fictional)";
// The demo's Channel child and its child protection child (no Prevent
// history).
constexpr char kChannelChild[] = "NS-P-310552";
constexpr char kCpChild[] = "NS-P-204117";
// tools/demo/demo_case.json: 21 events of case-NS-0001, 15 of case-NS-0002.
constexpr uint64_t kDemoEvents = 36;

// --- Typed events -----------------------------------------------------------

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) /
                                    absl::Nanoseconds(1)));
  return ts;
}

absl::Time Parse(const std::string& rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error))
      << rfc3339 << ": " << error;
  return t;
}

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

v1::CivilDate Date(int year, int month, int day) {
  v1::CivilDate date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

std::string DateText(const v1::CivilDate& d) {
  return absl::StrCat(d.year(), "-", d.month(), "-", d.day());
}

// The envelope every typed event needs to pass validation: England, the
// source's provenance, who recorded it and for which agency.
CaseEvent Envelope(const std::string& id, const std::string& type,
                   const std::string& occurred, const std::string& agency,
                   std::vector<std::string> child_ids,
                   bool significant = false) {
  CaseEvent e;
  e.set_event_id(id);
  e.set_event_type(type);
  *e.mutable_occurred_at()->mutable_time() = Ts(Parse(occurred));
  e.mutable_occurred_at()->set_precision(v1::TIME_PRECISION_EXACT);
  e.mutable_recorded_by()->set_user_id("ns-test-sw");
  e.mutable_recorded_by()->set_role("Social Worker");
  e.mutable_recorded_by()->set_team("Assessment Team Test");
  e.mutable_recorded_by()->set_agency(agency);
  e.mutable_source()->set_system("casetrail-test");
  e.mutable_source()->set_provenance(v1::Source::PROVENANCE_FIRST_HAND);
  e.set_jurisdiction(v1::JURISDICTION_ENGLAND);
  for (std::string& child : child_ids) e.add_child_ids(std::move(child));
  if (significant) {
    e.mutable_significance()->set_significant(true);
    e.mutable_significance()->set_direction(
        v1::Significance::DIRECTION_NEGATIVE);
    e.mutable_significance()->set_why("matters to the child");
  }
  return e;
}

CaseEvent Contact(const std::string& id, const std::string& occurred,
                  std::vector<std::string> child_ids,
                  const std::string& agency = kCouncil,
                  bool significant = false) {
  CaseEvent e = Envelope(id, "ContactReceived", occurred, agency,
                         std::move(child_ids), significant);
  auto& p = *e.mutable_contact_received();
  p.set_source_code("2A");
  p.mutable_referrer()->set_name("Tom Rees");
  p.mutable_referrer()->set_role("class teacher");
  p.mutable_referrer()->set_agency("Elm Park Primary School (fictional)");
  p.set_concern("A bruise on the upper arm, explained as being grabbed.");
  return e;
}

CaseEvent Household(const std::string& id, const std::string& occurred,
                    std::vector<std::string> child_ids,
                    const std::string& person_id, const std::string& name,
                    const std::string& relationship, v1::CivilDate born) {
  CaseEvent e = Envelope(id, "HouseholdMemberRecorded", occurred, kCouncil,
                         std::move(child_ids));
  auto& p = *e.mutable_household_member_recorded();
  p.set_person_id(person_id);
  p.set_name(name);
  *p.mutable_date_of_birth() = born;
  p.set_relationship(relationship);
  p.set_parental_responsibility(relationship != "child");
  p.set_language("English");
  return e;
}

constexpr char kRationale[] =
    "A fresh injury with a disclosure naming an adult in the home: a "
    "multi-agency assessment is needed.";

CaseEvent Referral(const std::string& id, const std::string& occurred,
                   std::vector<std::string> child_ids,
                   const std::vector<std::string>& basis,
                   bool significant = false) {
  CaseEvent e = Envelope(id, "ReferralDecision", occurred, kCouncil,
                         std::move(child_ids), significant);
  auto& p = *e.mutable_referral_decision();
  auto& d = *p.mutable_decision();
  d.mutable_decided_by()->set_id("ns-test-tm");
  d.mutable_decided_by()->set_name("Adaeze Okafor");
  d.mutable_decided_by()->set_role("Team Manager, MASH");
  d.mutable_decided_by()->set_authority_level(v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  d.set_rationale(kRationale);
  for (const std::string& b : basis) {
    d.mutable_information_basis()->add_event_ids(b);
  }
  p.set_outcome(v1::REFERRAL_OUTCOME_ASSESSMENT);
  p.set_primary_need(v1::PRIMARY_NEED_N1_ABUSE_OR_NEGLECT);
  return e;
}

constexpr char kOldDob[] = "{\"year\":1988,\"month\":7,\"day\":21}";
constexpr char kNewDob[] = "{\"year\":1986,\"month\":7,\"day\":12}";
constexpr char kCorrectionReason[] =
    "The date of birth was copied from an old record that had it wrong.";

CaseEvent Correction(const std::string& id, const std::string& occurred,
                     std::vector<std::string> child_ids,
                     const std::string& target) {
  CaseEvent e =
      Envelope(id, "RecordCorrected", occurred, kCouncil, std::move(child_ids));
  auto& p = *e.mutable_record_corrected();
  p.set_target_event_id(target);
  p.set_field_path("household_member_recorded.date_of_birth");
  p.set_old_value(kOldDob);
  p.set_new_value(kNewDob);
  p.set_reason(kCorrectionReason);
  p.mutable_approved_by()->set_id("ns-test-tm2");
  p.mutable_approved_by()->set_name("Mark Brennan");
  p.mutable_approved_by()->set_role("Team Manager");
  p.mutable_approved_by()->set_authority_level(
      v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  return e;
}

// --- Reading answers
// ----------------------------------------------------------

std::vector<std::string> EventIds(
    const google::protobuf::RepeatedPtrField<ChronologyEntry>& entries) {
  std::vector<std::string> ids;
  for (const ChronologyEntry& e : entries) ids.push_back(e.event_id());
  return ids;
}

std::vector<std::string> EventIds(
    const google::protobuf::RepeatedPtrField<v1::RecordedEvent>& events) {
  std::vector<std::string> ids;
  for (const v1::RecordedEvent& e : events) ids.push_back(e.event().event_id());
  return ids;
}

const ChronologyEntry* FindEntry(
    const google::protobuf::RepeatedPtrField<ChronologyEntry>& entries,
    const std::string& event_id) {
  for (const ChronologyEntry& e : entries) {
    if (e.event_id() == event_id) return &e;
  }
  return nullptr;
}

const v1::Deadline* FindDeadline(const v1::CaseState& state,
                                 const std::string& rule_id) {
  for (const v1::Deadline& d : state.deadlines()) {
    if (d.rule_id() == rule_id) return &d;
  }
  return nullptr;
}

std::vector<const v1::PracticeFlag*> FlagsOf(const v1::CaseState& state,
                                             v1::PracticeFlag::Kind kind) {
  std::vector<const v1::PracticeFlag*> flags;
  for (const v1::PracticeFlag& f : state.flags()) {
    if (f.kind() == kind) flags.push_back(&f);
  }
  return flags;
}

// A connection to one casetraild: CaseLog to append, CaseQueries to ask.
class Connection {
 public:
  explicit Connection(const std::string& address)
      : log_(address), queries_(CaseQueries::NewStub(log_.channel())) {}

  bool WaitForConnected() { return log_.WaitForConnected(); }

  // Appends `events` to `case_id` (any version); the test fails if refused.
  std::vector<AppendedEvent> AppendAll(const std::string& case_id,
                                       std::vector<CaseEvent> events) {
    v1::AppendEventsResponse response;
    const grpc::Status status =
        log_.Append(MakeAppendRequest(case_id, ExpectedVersion::KIND_ANY,
                                      std::move(events)),
                    &response);
    EXPECT_TRUE(status.ok()) << ToString(status);
    EXPECT_FALSE(response.deduplicated());
    return {response.events().begin(), response.events().end()};
  }
  AppendedEvent Append(const std::string& case_id, CaseEvent event) {
    std::vector<CaseEvent> events;
    events.push_back(std::move(event));
    const std::vector<AppendedEvent> appended =
        AppendAll(case_id, std::move(events));
    EXPECT_EQ(appended.size(), 1u);
    return appended.empty() ? AppendedEvent() : appended[0];
  }

  uint64_t LogSize() {
    absl::StatusOr<uint64_t> size = log_.LogSize();
    EXPECT_TRUE(size.ok()) << size.status();
    return size.value_or(~uint64_t{0});
  }

  template <typename Request, typename Response>
  grpc::Status Call(grpc::Status (CaseQueries::Stub::*method)(
                        grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    return ((*queries_).*method)(&context, request, response);
  }

  grpc::Status Chronology(const v1::GetChronologyRequest& request,
                          v1::GetChronologyResponse* response) {
    return Call(&CaseQueries::Stub::GetChronology, request, response);
  }
  grpc::Status CaseState(const v1::GetCaseStateRequest& request,
                         v1::GetCaseStateResponse* response) {
    return Call(&CaseQueries::Stub::GetCaseState, request, response);
  }
  grpc::Status Pack(const v1::GetChannelPanelPackRequest& request,
                    v1::GetChannelPanelPackResponse* response) {
    return Call(&CaseQueries::Stub::GetChannelPanelPack, request, response);
  }
  grpc::Status Reconstruct(const v1::ReconstructDecisionRequest& request,
                           v1::ReconstructDecisionResponse* response) {
    return Call(&CaseQueries::Stub::ReconstructDecision, request, response);
  }

  // Must succeed.
  v1::GetChronologyResponse MustChronology(
      const v1::GetChronologyRequest& request) {
    v1::GetChronologyResponse response;
    const grpc::Status status = Chronology(request, &response);
    EXPECT_TRUE(status.ok()) << ToString(status) << "\n"
                             << request.DebugString();
    return response;
  }
  v1::GetCaseStateResponse MustCaseState(
      const v1::GetCaseStateRequest& request) {
    v1::GetCaseStateResponse response;
    const grpc::Status status = CaseState(request, &response);
    EXPECT_TRUE(status.ok()) << ToString(status) << "\n"
                             << request.DebugString();
    return response;
  }
  v1::GetProjectionStatusResponse Status(bool digest = false) {
    v1::GetProjectionStatusRequest request;
    request.set_digest(digest);
    v1::GetProjectionStatusResponse response;
    const grpc::Status status =
        Call(&CaseQueries::Stub::GetProjectionStatus, request, &response);
    EXPECT_TRUE(status.ok()) << ToString(status);
    return response;
  }
  v1::RebuildProjectionsResponse Rebuild() {
    v1::RebuildProjectionsResponse response;
    const grpc::Status status =
        Call(&CaseQueries::Stub::RebuildProjections,
             v1::RebuildProjectionsRequest(), &response);
    EXPECT_TRUE(status.ok()) << ToString(status);
    return response;
  }

  // Polls the projection status until the read model has folded `size`
  // events; the last status either way.
  v1::GetProjectionStatusResponse WaitCaughtUp(uint64_t size) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    v1::GetProjectionStatusResponse status = Status();
    while (status.checkpoint() < size && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
      status = Status();
    }
    EXPECT_EQ(status.checkpoint(), size) << status.DebugString();
    return status;
  }

 private:
  CaseLogClient log_;
  std::unique_ptr<CaseQueries::Stub> queries_;
};

v1::GetChronologyRequest CaseChronology(const std::string& case_id,
                                        uint64_t min_position = 0) {
  v1::GetChronologyRequest request;
  request.set_case_id(case_id);
  request.set_min_position(min_position);
  return request;
}

v1::GetCaseStateRequest StateRequest(const std::string& case_id,
                                     uint64_t min_position = 0) {
  v1::GetCaseStateRequest request;
  request.set_case_id(case_id);
  request.set_min_position(min_position);
  return request;
}

// --- One server for the query tests ----------------------------------------

// One casetraild for the suite (started lazily, from the main thread); each
// test writes its own cases, with ids no other test uses.
class CaseQueriesTest : public ::testing::Test {
 protected:
  struct Shared {
    TempDir dir;
    std::unique_ptr<ServerProcess> server;
    std::unique_ptr<Connection> connection;
  };

  static void TearDownTestSuite() {
    if (shared_ != nullptr) {
      shared_->connection.reset();
      if (shared_->server != nullptr) shared_->server->Stop();
    }
    delete shared_;
    shared_ = nullptr;
  }

  void SetUp() override {
    if (shared_ == nullptr) {
      auto shared = std::make_unique<Shared>();
      ServerProcess::Options options;
      options.data_dir = shared->dir.Sub("data");
      options.extra_flags = {"--checkpoint_interval=0"};
      auto server = ServerProcess::Start(std::move(options));
      ASSERT_TRUE(server.ok()) << server.status();
      shared->server = *std::move(server);
      shared->connection =
          std::make_unique<Connection>(shared->server->address());
      ASSERT_TRUE(shared->connection->WaitForConnected())
          << shared->server->StderrText();
      shared_ = shared.release();
    }
  }

  Connection& c() { return *shared_->connection; }
  ServerProcess& server() { return *shared_->server; }

  static Shared* shared_;
};

CaseQueriesTest::Shared* CaseQueriesTest::shared_ = nullptr;

TEST_F(CaseQueriesTest, ChronologyReadsItsWritesInOccurredOrderAndPages) {
  const std::string kCase = "case-q-chron";
  const std::string kChild = "NS-Q-1001";
  // Appended one at a time, not in occurred order: the police contact of the
  // evening before is recorded last but one.
  const std::vector<std::string> ids = {"q-chron-contact", "q-chron-child",
                                        "q-chron-decision", "q-chron-police",
                                        "q-chron-mother"};
  std::vector<AppendedEvent> appended;
  appended.push_back(c().Append(
      kCase, Contact(ids[0], "2026-03-02T08:40:00Z", {kChild}, kCouncil,
                     /*significant=*/true)));
  appended.push_back(c().Append(
      kCase, Household(ids[1], "2026-03-02T09:30:00Z", {kChild}, kChild,
                       "Maya Test", "child", Date(2016, 11, 4))));
  appended.push_back(
      c().Append(kCase, Referral(ids[2], "2026-03-02T11:05:00Z", {kChild},
                                 {ids[0], ids[1]}, /*significant=*/true)));
  appended.push_back(c().Append(
      kCase, Contact(ids[3], "2026-03-01T22:15:00Z", {kChild}, kPolice,
                     /*significant=*/true)));
  appended.push_back(c().Append(
      kCase, Household(ids[4], "2026-03-03T10:00:00Z", {kChild}, "NS-Q-1002",
                       "Jo Test", "mother", Date(1990, 2, 8))));
  ASSERT_EQ(appended.size(), 5u);
  const uint64_t last = appended.back().position();
  const uint64_t log_size = c().LogSize();
  ASSERT_EQ(log_size, last + 1);

  // Read-your-writes: asked straight after the append, with no wait before.
  v1::GetChronologyResponse all =
      c().MustChronology(CaseChronology(kCase, last + 1));
  // Occurred order: the evening before first, then the day's three in time
  // order, then the next day.
  const std::vector<std::string> expected = {ids[3], ids[0], ids[1], ids[2],
                                             ids[4]};
  ASSERT_THAT(EventIds(all.entries()), ElementsAreArray(expected));
  EXPECT_EQ(all.total_entries(), 5u);
  EXPECT_THAT(all.next_page_token(), IsEmpty());
  std::vector<uint32_t> sequence;
  for (const ChronologyEntry& e : all.entries()) {
    sequence.push_back(e.same_day_sequence());
  }
  EXPECT_THAT(sequence, ElementsAre(1u, 1u, 2u, 3u, 1u));
  EXPECT_EQ(DateText(all.entries(0).occurred_date()), "2026-3-1");
  EXPECT_EQ(DateText(all.entries(1).occurred_date()), "2026-3-2");
  EXPECT_EQ(DateText(all.entries(4).occurred_date()), "2026-3-3");
  EXPECT_GE(all.provenance().position(), last + 1);
  EXPECT_EQ(all.provenance().log_size(), log_size);
  EXPECT_FALSE(all.provenance().has_as_known_at());
  EXPECT_EQ(all.provenance().rule_set(), "casetrail-default");
  EXPECT_EQ(all.provenance().rule_set_version(), 2u);

  // Each entry is its event: position, recorded time, case, children,
  // agency, a headline; the decision carries its marker, nothing else does.
  for (size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(ids[i]);
    const ChronologyEntry* e = FindEntry(all.entries(), ids[i]);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->case_id(), kCase);
    EXPECT_EQ(e->position(), appended[i].position());
    EXPECT_EQ(ToTime(e->recorded_at()), ToTime(appended[i].recorded_at()));
    EXPECT_THAT(e->child_ids(), ElementsAre(kChild));
    EXPECT_EQ(e->agency(), i == 3 ? kPolice : kCouncil);
    EXPECT_FALSE(e->headline().empty());
    EXPECT_EQ(e->has_decision(), i == 2);
    EXPECT_THAT(e->amendments(), IsEmpty());
    EXPECT_FALSE(e->retracted());
  }
  const ChronologyEntry& contact = *FindEntry(all.entries(), ids[0]);
  EXPECT_THAT(contact.headline(), HasSubstr("Contact from Tom Rees"));
  EXPECT_EQ(contact.event_type(), "ContactReceived");
  // The child's age on the day, from the date of birth recorded later.
  ASSERT_EQ(contact.child_ages_size(), 1);
  EXPECT_TRUE(contact.child_ages(0).known());
  EXPECT_EQ(contact.child_ages(0).years(), 9);
  EXPECT_EQ(contact.child_ages(0).months(), 3);
  const ChronologyEntry& decision = *FindEntry(all.entries(), ids[2]);
  EXPECT_THAT(decision.headline(), HasSubstr("Referral decision"));
  EXPECT_EQ(decision.decision().decided_by().name(), "Adaeze Okafor");
  EXPECT_EQ(decision.decision().decided_by().authority_level(),
            v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  EXPECT_EQ(decision.decision().rationale(), kRationale);
  EXPECT_THAT(decision.decision().information_basis_event_ids(),
              ElementsAre(ids[0], ids[1]));
  // Basis position 0 in the event reads as the decision's own position.
  EXPECT_EQ(decision.decision().information_basis_position(),
            appended[2].position());

  {
    SCOPED_TRACE("pages of 2");
    v1::GetChronologyRequest request = CaseChronology(kCase);
    request.set_page_size(2);
    std::vector<std::string> walked;
    std::vector<int> page_sizes;
    for (int page = 0; page < 10; ++page) {
      v1::GetChronologyResponse response = c().MustChronology(request);
      EXPECT_EQ(response.total_entries(), 5u);
      page_sizes.push_back(response.entries_size());
      for (const ChronologyEntry& e : response.entries()) {
        walked.push_back(e.event_id());
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    EXPECT_THAT(page_sizes, ElementsAre(2, 2, 1));
    EXPECT_THAT(walked, ElementsAreArray(expected));
  }
  {
    SCOPED_TRACE("significant only, pages of 2");
    v1::GetChronologyRequest request = CaseChronology(kCase);
    request.set_significant_only(true);
    request.set_page_size(2);
    v1::GetChronologyResponse first = c().MustChronology(request);
    EXPECT_THAT(EventIds(first.entries()), ElementsAre(ids[3], ids[0]));
    EXPECT_EQ(first.total_entries(), 3u);
    ASSERT_FALSE(first.next_page_token().empty());
    request.set_page_token(first.next_page_token());
    v1::GetChronologyResponse second = c().MustChronology(request);
    EXPECT_THAT(EventIds(second.entries()), ElementsAre(ids[2]));
    EXPECT_THAT(second.next_page_token(), IsEmpty());
  }
  {
    SCOPED_TRACE("single-agency views");
    v1::GetChronologyRequest request = CaseChronology(kCase);
    request.set_agency(kPolice);
    v1::GetChronologyResponse police = c().MustChronology(request);
    EXPECT_THAT(EventIds(police.entries()), ElementsAre(ids[3]));
    EXPECT_EQ(police.total_entries(), 1u);
    EXPECT_EQ(police.entries(0).same_day_sequence(), 1u);

    request.set_agency(kCouncil);
    v1::GetChronologyResponse council = c().MustChronology(request);
    EXPECT_THAT(EventIds(council.entries()),
                ElementsAre(ids[0], ids[1], ids[2], ids[4]));
    // Sequence numbers are those of the view, not of the whole case.
    std::vector<uint32_t> council_sequence;
    for (const ChronologyEntry& e : council.entries()) {
      council_sequence.push_back(e.same_day_sequence());
    }
    EXPECT_THAT(council_sequence, ElementsAre(1u, 2u, 3u, 1u));

    request.set_significant_only(true);
    EXPECT_THAT(EventIds(c().MustChronology(request).entries()),
                ElementsAre(ids[0], ids[2]));

    request.set_agency("Northshire Fire Service (fictional)");
    v1::GetChronologyResponse none = c().MustChronology(request);
    EXPECT_THAT(none.entries(), IsEmpty());
    EXPECT_EQ(none.total_entries(), 0u);
  }
  {
    SCOPED_TRACE("largest page");
    v1::GetChronologyRequest request = CaseChronology(kCase);
    request.set_page_size(1000);
    EXPECT_EQ(c().MustChronology(request).entries_size(), 5);
  }
  EXPECT_EQ(c().LogSize(), log_size) << "a query wrote to the log";
}

TEST_F(CaseQueriesTest, ChildChronologySpansEveryCaseTheChildIsIn) {
  const std::string kChild = "NS-Q-3001";
  const std::string kSibling = "NS-Q-3002";
  const std::string kHalfSibling = "NS-Q-3003";
  // First case: the child, a sibling, and a case-level event.
  c().AppendAll(
      "case-q-x1",
      {Contact("q-x1-contact", "2025-06-10T09:00:00Z", {kChild}),
       Household("q-x1-sibling", "2025-06-10T10:00:00Z", {kSibling}, kSibling,
                 "Sam Test", "child", Date(2018, 1, 1)),
       Household("q-x1-mother", "2025-06-11T10:00:00Z", {}, "NS-Q-3009",
                 "Alex Test", "mother", Date(1989, 5, 5))});
  // A re-referral a year on with a half-sibling: one append of events that
  // each name two children, so one fold batch links both to the case.
  const std::vector<AppendedEvent> second = c().AppendAll(
      "case-q-x2",
      {Contact("q-x2-contact", "2026-06-15T09:00:00Z", {kHalfSibling, kChild}),
       Referral("q-x2-decision", "2026-06-15T15:00:00Z", {kHalfSibling, kChild},
                {"q-x2-contact"})});
  ASSERT_EQ(second.size(), 2u);
  const uint64_t log_size = c().LogSize();

  v1::GetChronologyRequest request;
  request.set_child_id(kChild);
  request.set_min_position(second.back().position() + 1);
  v1::GetChronologyResponse child = c().MustChronology(request);
  // The sibling's entry is left out; the case-level one is kept.
  EXPECT_THAT(EventIds(child.entries()),
              ElementsAre("q-x1-contact", "q-x1-mother", "q-x2-contact",
                          "q-x2-decision"));
  std::vector<std::string> cases;
  for (const ChronologyEntry& e : child.entries()) cases.push_back(e.case_id());
  EXPECT_THAT(cases,
              ElementsAre("case-q-x1", "case-q-x1", "case-q-x2", "case-q-x2"));
  EXPECT_EQ(child.total_entries(), 4u);

  request.set_child_id(kHalfSibling);
  EXPECT_THAT(EventIds(c().MustChronology(request).entries()),
              ElementsAre("q-x2-contact", "q-x2-decision"));
  request.set_child_id(kSibling);
  EXPECT_THAT(EventIds(c().MustChronology(request).entries()),
              ElementsAre("q-x1-sibling", "q-x1-mother"))
      << "the contact names only the other child; entries naming no child "
         "are the whole case's";

  // Paging across the two cases.
  request.set_child_id(kChild);
  request.set_page_size(3);
  v1::GetChronologyResponse page = c().MustChronology(request);
  EXPECT_THAT(EventIds(page.entries()),
              ElementsAre("q-x1-contact", "q-x1-mother", "q-x2-contact"));
  ASSERT_FALSE(page.next_page_token().empty());
  request.set_page_token(page.next_page_token());
  EXPECT_THAT(EventIds(c().MustChronology(request).entries()),
              ElementsAre("q-x2-decision"));

  v1::GetChronologyRequest unknown;
  unknown.set_child_id("NS-Q-3999");
  v1::GetChronologyResponse response;
  const grpc::Status status = c().Chronology(unknown, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << ToString(status);
  EXPECT_THAT(status.error_message(), HasSubstr("NS-Q-3999"));
  EXPECT_EQ(c().LogSize(), log_size) << "a query wrote to the log";
}

// A contact, the father recorded, a referral decision relying on both; then,
// after `known_at`, a correction of the father's date of birth, and the mother
// recorded late: she was seen before the decision was taken, but the decision
// maker did not know of her.
struct CorrectionStory {
  std::string case_id;
  std::string child;
  std::string contact, father, decision, correction, mother;
  std::vector<AppendedEvent> before;  // contact, father, decision
  std::vector<AppendedEvent> after;   // correction, mother
  google::protobuf::Timestamp known_at;
};

CorrectionStory AppendCorrectionStory(Connection& c, const std::string& name) {
  CorrectionStory s;
  s.case_id = "case-q-" + name;
  s.child = "NS-Q-" + name;
  s.contact = "q-" + name + "-contact";
  s.father = "q-" + name + "-father";
  s.decision = "q-" + name + "-decision";
  s.correction = "q-" + name + "-correction";
  s.mother = "q-" + name + "-mother";
  s.before.push_back(c.Append(
      s.case_id, Contact(s.contact, "2026-02-02T09:00:00Z", {s.child})));
  s.before.push_back(c.Append(
      s.case_id,
      Household(s.father, "2026-02-02T09:30:00Z", {s.child}, s.child + "-F",
                "Lee Test", "father", Date(1988, 7, 21))));
  s.before.push_back(
      c.Append(s.case_id, Referral(s.decision, "2026-02-02T11:00:00Z",
                                   {s.child}, {s.contact, s.father})));
  // T: when the decision was recorded. What follows is recorded later.
  s.known_at = s.before.back().recorded_at();
  absl::SleepFor(absl::Milliseconds(50));
  s.after.push_back(c.Append(
      s.case_id,
      Correction(s.correction, "2026-02-20T10:00:00Z", {s.child}, s.father)));
  s.after.push_back(c.Append(
      s.case_id,
      Household(s.mother, "2026-02-02T10:15:00Z", {s.child}, s.child + "-M",
                "Jo Test", "mother", Date(1990, 2, 8))));
  EXPECT_GT(ToTime(s.after[0].recorded_at()), ToTime(s.known_at))
      << "the correction must be recorded after T";
  return s;
}

TEST_F(CaseQueriesTest, AsKnownAtShowsTheRecordBeforeALaterCorrection) {
  const CorrectionStory s = AppendCorrectionStory(c(), "known");
  ASSERT_EQ(s.before.size(), 3u);
  ASSERT_EQ(s.after.size(), 2u);
  const uint64_t log_size = c().LogSize();
  const uint64_t latest = s.after.back().position() + 1;

  {
    SCOPED_TRACE("as known now");
    v1::GetChronologyResponse now =
        c().MustChronology(CaseChronology(s.case_id, latest));
    // The correction makes no entry of its own; it is shown on its target.
    EXPECT_THAT(EventIds(now.entries()),
                ElementsAre(s.contact, s.father, s.mother, s.decision));
    const ChronologyEntry* father = FindEntry(now.entries(), s.father);
    ASSERT_NE(father, nullptr);
    ASSERT_EQ(father->amendments_size(), 1);
    const v1::Amendment& a = father->amendments(0);
    EXPECT_EQ(a.kind(), v1::Amendment::KIND_CORRECTED);
    EXPECT_EQ(a.event_id(), s.correction);
    EXPECT_EQ(a.position(), s.after[0].position());
    EXPECT_EQ(ToTime(a.recorded_at()), ToTime(s.after[0].recorded_at()));
    EXPECT_EQ(a.target_event_id(), s.father);
    EXPECT_EQ(a.field_path(), "household_member_recorded.date_of_birth");
    EXPECT_EQ(a.old_value(), kOldDob);
    EXPECT_EQ(a.new_value(), kNewDob);
    EXPECT_EQ(a.text(), kCorrectionReason);
    EXPECT_THAT(a.by(), HasSubstr("Mark Brennan"));
    EXPECT_FALSE(father->retracted());
    for (const ChronologyEntry& e : now.entries()) {
      if (e.event_id() != s.father) {
        EXPECT_THAT(e.amendments(), IsEmpty()) << e.event_id();
      }
    }
  }
  {
    SCOPED_TRACE("as known at T");
    v1::GetChronologyRequest request = CaseChronology(s.case_id);
    *request.mutable_as_known_at() = s.known_at;
    v1::GetChronologyResponse then = c().MustChronology(request);
    EXPECT_THAT(EventIds(then.entries()),
                ElementsAre(s.contact, s.father, s.decision));
    const ChronologyEntry* father = FindEntry(then.entries(), s.father);
    ASSERT_NE(father, nullptr);
    EXPECT_THAT(father->amendments(), IsEmpty());
    EXPECT_EQ(then.total_entries(), 3u);
    ASSERT_TRUE(then.provenance().has_as_known_at());
    EXPECT_EQ(ToTime(then.provenance().as_known_at()), ToTime(s.known_at));
    EXPECT_EQ(then.provenance().position(), s.before.back().position() + 1);
    EXPECT_EQ(then.provenance().log_size(), log_size);

    // Before the first event was recorded, the case did not exist.
    *request.mutable_as_known_at() =
        Ts(ToTime(s.before[0].recorded_at()) - absl::Microseconds(1));
    v1::GetChronologyResponse none;
    const grpc::Status status = c().Chronology(request, &none);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
        << ToString(status);
    EXPECT_THAT(status.error_message(),
                HasSubstr("among the events recorded by then"));
  }
  {
    SCOPED_TRACE("case state now: the decision's basis was corrected");
    v1::GetCaseStateResponse now =
        c().MustCaseState(StateRequest(s.case_id, latest));
    const auto flags =
        FlagsOf(now.state(), v1::PracticeFlag::KIND_DECISION_BASIS_CORRECTED);
    ASSERT_EQ(flags.size(), 1u) << now.state().DebugString();
    EXPECT_EQ(flags[0]->event_id(), s.decision);
    EXPECT_EQ(flags[0]->raised_by_event_id(), s.correction);
    EXPECT_FALSE(flags[0]->cleared());
    EXPECT_THAT(flags[0]->description(), HasSubstr(s.father));
    EXPECT_EQ(now.state().event_count(), 5u);
    EXPECT_EQ(now.state().household_size(), 2);
    EXPECT_EQ(now.state().next_position(), latest);
  }
  {
    SCOPED_TRACE("case state as known at T: no flag yet");
    v1::GetCaseStateRequest request = StateRequest(s.case_id);
    *request.mutable_as_known_at() = s.known_at;
    v1::GetCaseStateResponse then = c().MustCaseState(request);
    EXPECT_THAT(
        FlagsOf(then.state(), v1::PracticeFlag::KIND_DECISION_BASIS_CORRECTED),
        IsEmpty())
        << then.state().DebugString();
    EXPECT_EQ(then.state().event_count(), 3u);
    EXPECT_EQ(then.state().household_size(), 1);
    EXPECT_EQ(then.state().next_position(), s.before.back().position() + 1);
    EXPECT_TRUE(then.provenance().has_as_known_at());
  }
  EXPECT_EQ(c().LogSize(), log_size) << "a query wrote to the log";
}

TEST_F(CaseQueriesTest, DeadlineStatusChangesAcrossItsDueDate) {
  const std::string kCase = "case-q-deadline";
  // Friday 6 March 2026: the referral decision is due the next working day,
  // Monday 9 March.
  const AppendedEvent contact = c().Append(
      kCase,
      Contact("q-deadline-contact", "2026-03-06T10:00:00Z", {"NS-Q-5001"}));
  const google::protobuf::Timestamp before_decision = contact.recorded_at();
  absl::SleepFor(absl::Milliseconds(20));

  auto deadline_on = [&](v1::CivilDate day, uint64_t min_position,
                         const google::protobuf::Timestamp* known_at) {
    v1::GetCaseStateRequest request = StateRequest(kCase, min_position);
    *request.mutable_evaluate_on() = day;
    if (known_at != nullptr) *request.mutable_as_known_at() = *known_at;
    v1::GetCaseStateResponse response = c().MustCaseState(request);
    const v1::Deadline* d =
        FindDeadline(response.state(), "referral-decision-1wd");
    EXPECT_NE(d, nullptr) << response.state().DebugString();
    return d == nullptr ? v1::Deadline() : *d;
  };

  v1::Deadline d =
      deadline_on(Date(2026, 3, 6), contact.position() + 1, nullptr);
  EXPECT_EQ(d.trigger_event_id(), "q-deadline-contact");
  EXPECT_EQ(d.trigger_event_type(), "ContactReceived");
  EXPECT_EQ(DateText(d.trigger_date()), "2026-3-6");
  EXPECT_EQ(DateText(d.due()), "2026-3-9");
  EXPECT_EQ(d.rule_version(), 1u);
  EXPECT_EQ(d.rule_set(), "casetrail-default");
  EXPECT_EQ(d.rule_set_version(), 2u);
  EXPECT_EQ(DateText(d.evaluated_on()), "2026-3-6");
  EXPECT_EQ(d.status(), v1::DEADLINE_STATUS_PENDING);
  // The weekend is not a working day.
  EXPECT_EQ(deadline_on(Date(2026, 3, 8), 0, nullptr).status(),
            v1::DEADLINE_STATUS_PENDING);
  EXPECT_EQ(deadline_on(Date(2026, 3, 9), 0, nullptr).status(),
            v1::DEADLINE_STATUS_DUE_TODAY);
  d = deadline_on(Date(2026, 3, 10), 0, nullptr);
  EXPECT_EQ(d.status(), v1::DEADLINE_STATUS_OVERDUE);
  EXPECT_EQ(d.working_days_late(), 1);

  // The decision, late on the due date: met, but not on days before it.
  const AppendedEvent decision =
      c().Append(kCase, Referral("q-deadline-decision", "2026-03-09T15:00:00Z",
                                 {"NS-Q-5001"}, {"q-deadline-contact"}));
  const uint64_t log_size = c().LogSize();
  d = deadline_on(Date(2026, 3, 10), decision.position() + 1, nullptr);
  EXPECT_EQ(d.status(), v1::DEADLINE_STATUS_MET);
  EXPECT_EQ(d.met_by_event_id(), "q-deadline-decision");
  EXPECT_EQ(DateText(d.met_on()), "2026-3-9");
  EXPECT_EQ(deadline_on(Date(2026, 3, 6), 0, nullptr).status(),
            v1::DEADLINE_STATUS_PENDING);
  // As known before the decision was recorded, it is still overdue.
  EXPECT_EQ(deadline_on(Date(2026, 3, 10), 0, &before_decision).status(),
            v1::DEADLINE_STATUS_OVERDUE);
  EXPECT_EQ(c().LogSize(), log_size) << "a query wrote to the log";
}

TEST_F(CaseQueriesTest, ReconstructDecisionShowsTheCaseAtItsBasis) {
  const CorrectionStory s = AppendCorrectionStory(c(), "reconstruct");
  ASSERT_EQ(s.before.size(), 3u);
  ASSERT_EQ(s.after.size(), 2u);
  const uint64_t log_size = c().LogSize();
  const uint64_t basis = s.before[2].position();

  v1::ReconstructDecisionRequest request;
  request.set_case_id(s.case_id);
  request.set_event_id(s.decision);
  v1::ReconstructDecisionResponse r;
  grpc::Status status = c().Reconstruct(request, &r);
  ASSERT_TRUE(status.ok()) << ToString(status);

  EXPECT_EQ(r.decision_event().event().event_id(), s.decision);
  EXPECT_EQ(r.decision_event().position(), basis);
  EXPECT_EQ(r.decision_event().event().referral_decision().outcome(),
            v1::REFERRAL_OUTCOME_ASSESSMENT);
  EXPECT_EQ(r.marker().rationale(), kRationale);
  EXPECT_EQ(r.marker().decided_by().name(), "Adaeze Okafor");
  EXPECT_EQ(r.marker().information_basis_position(), basis);
  EXPECT_THAT(r.marker().information_basis_event_ids(),
              ElementsAre(s.contact, s.father));

  // Only what lay below the basis: not the decision itself, nor the
  // correction and the mother recorded after it.
  EXPECT_EQ(r.state_at_basis().case_id(), s.case_id);
  EXPECT_EQ(r.state_at_basis().event_count(), 2u);
  EXPECT_LE(r.state_at_basis().next_position(), basis);
  ASSERT_EQ(r.state_at_basis().household_size(), 1);
  EXPECT_EQ(r.state_at_basis().household(0).event_id(), s.father);
  EXPECT_EQ(DateText(r.state_at_basis().household(0).date_of_birth()),
            "1988-7-21");
  EXPECT_THAT(FlagsOf(r.state_at_basis(),
                      v1::PracticeFlag::KIND_DECISION_BASIS_CORRECTED),
              IsEmpty());
  EXPECT_THAT(EventIds(r.chronology_at_basis()),
              ElementsAre(s.contact, s.father));
  for (const ChronologyEntry& e : r.chronology_at_basis()) {
    EXPECT_LT(e.position(), basis) << e.event_id();
    EXPECT_THAT(e.amendments(), IsEmpty()) << e.event_id();
  }
  EXPECT_THAT(EventIds(r.relied_on()), ElementsAre(s.contact, s.father));

  // What was corrected since.
  ASSERT_EQ(r.later_corrections_size(), 1);
  EXPECT_EQ(r.later_corrections(0).kind(), v1::Amendment::KIND_CORRECTED);
  EXPECT_EQ(r.later_corrections(0).event_id(), s.correction);
  EXPECT_EQ(r.later_corrections(0).target_event_id(), s.father);
  EXPECT_EQ(r.later_corrections(0).new_value(), kNewDob);
  EXPECT_EQ(r.provenance().position(), basis);
  EXPECT_EQ(r.provenance().log_size(), log_size);

  // Deadlines at the basis are evaluated on the decision's day by default:
  // the decision itself is not below its basis, so the deadline is open.
  const v1::Deadline* due =
      FindDeadline(r.state_at_basis(), "referral-decision-1wd");
  ASSERT_NE(due, nullptr) << r.state_at_basis().DebugString();
  EXPECT_EQ(DateText(due->evaluated_on()), "2026-2-2");
  EXPECT_EQ(due->status(), v1::DEADLINE_STATUS_PENDING);
  *request.mutable_evaluate_on() = Date(2026, 2, 4);
  status = c().Reconstruct(request, &r);
  ASSERT_TRUE(status.ok()) << ToString(status);
  due = FindDeadline(r.state_at_basis(), "referral-decision-1wd");
  ASSERT_NE(due, nullptr);
  EXPECT_EQ(due->status(), v1::DEADLINE_STATUS_OVERDUE);
  request.clear_evaluate_on();

  // Not a decision; no such event; no such case.
  for (const std::string& not_decision : {s.contact, s.correction}) {
    request.set_event_id(not_decision);
    status = c().Reconstruct(request, &r);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << not_decision << ": " << ToString(status);
    EXPECT_THAT(status.error_message(), HasSubstr("records no decision"));
  }
  request.set_event_id("q-reconstruct-no-such-event");
  status = c().Reconstruct(request, &r);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << ToString(status);
  EXPECT_THAT(status.error_message(), HasSubstr("q-reconstruct-no-such-event"));
  request.set_case_id("case-q-no-such-case");
  request.set_event_id(s.decision);
  status = c().Reconstruct(request, &r);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << ToString(status);
  EXPECT_THAT(status.error_message(), HasSubstr("case-q-no-such-case"));
  EXPECT_EQ(c().LogSize(), log_size) << "a query wrote to the log";
}

TEST_F(CaseQueriesTest, ChannelPanelPackOfTheDemoChannelChild) {
  const uint64_t before = c().LogSize();
  const google::protobuf::Timestamp before_demo = Ts(absl::Now());
  absl::SleepFor(absl::Milliseconds(20));
  const CliResult appended = RunCasetrail(
      {"--server=" + server().address(), "append", CASETRAIL_DEMO_CASE});
  ASSERT_EQ(appended.exit_code, 0) << Describe(appended);
  const uint64_t log_size = c().LogSize();
  ASSERT_EQ(log_size, before + kDemoEvents);

  v1::GetChannelPanelPackRequest request;
  request.set_person_id(kChannelChild);
  *request.mutable_pack_date() = Date(2026, 6, 1);
  request.set_min_position(log_size);
  v1::GetChannelPanelPackResponse response;
  grpc::Status status = c().Pack(request, &response);
  ASSERT_TRUE(status.ok()) << ToString(status);
  const v1::ChannelPanelPack& p = response.pack();
  auto ids =
      [](const google::protobuf::RepeatedPtrField<v1::RecordedEvent>& events) {
        return EventIds(events);
      };

  // 1. Cover: from the panel.
  EXPECT_EQ(p.cover().case_reference(), "CH-NS-2026-007");
  EXPECT_EQ(DateText(p.cover().pack_date()), "2026-6-1");
  EXPECT_EQ(p.cover().chair().name(), "Paul Morrow");
  EXPECT_EQ(p.cover().chair().agency(), kCouncil);
  EXPECT_EQ(p.cover().attendees_size(), 6);
  EXPECT_EQ(p.cover().information_sharing_basis(), "no s38 requests recorded");
  EXPECT_THAT(p.cover().distribution(),
              ElementsAre(kCouncil, kPolice, "Harbour Lane Academy (fictional)",
                          "Northshire NHS Foundation Trust (fictional)",
                          "Northshire Youth Service (fictional)"));
  // 2. The individual, in the one case they appear in.
  EXPECT_EQ(p.individual().person_id(), kChannelChild);
  EXPECT_THAT(p.individual().current_status(),
              ElementsAre("case-NS-0002: CLOSED"));
  ASSERT_EQ(p.individual().parental_responsibility_size(), 1);
  EXPECT_EQ(p.individual().parental_responsibility(0).name(), "Joanne Reeve");
  EXPECT_THAT(p.case_ids(), ElementsAre("case-NS-0002"));
  // 3-9 and 12: the episode's events by section.
  EXPECT_THAT(
      ids(p.referrals()),
      ElementsAre("demo-ns0002-002", "demo-ns0002-005", "demo-ns0002-006"));
  EXPECT_THAT(p.agency_returns(), IsEmpty());
  EXPECT_THAT(ids(p.vulnerability_assessments()),
              ElementsAre("demo-ns0002-007", "demo-ns0002-013"));
  EXPECT_THAT(ids(p.consent()), ElementsAre("demo-ns0002-008"));
  EXPECT_EQ(p.consent(0).event().channel_consent_recorded().status(),
            v1::CONSENT_STATUS_GIVEN);
  EXPECT_THAT(
      ids(p.support_plans()),
      ElementsAre("demo-ns0002-010", "demo-ns0002-011", "demo-ns0002-012"));
  EXPECT_THAT(
      ids(p.decisions()),
      ElementsAre("demo-ns0002-005", "demo-ns0002-009", "demo-ns0002-014"));
  EXPECT_THAT(ids(p.exit()), ElementsAre("demo-ns0002-014"));
  // 10: the significant entries.
  EXPECT_THAT(EventIds(p.chronology_extract()),
              ElementsAre("demo-ns0002-012", "demo-ns0002-014"));
  // 11: no earlier episode.
  EXPECT_THAT(p.prior_episodes(), IsEmpty());
  EXPECT_FALSE(p.repeat_referral());
  EXPECT_EQ(p.current_episode().prevent_referral_id(), "PRV-NS-2026-0042");
  EXPECT_EQ(p.current_episode().channel_case_id(), "CH-NS-2026-007");
  EXPECT_EQ(p.current_episode().stage(), v1::CHANNEL_STAGE_EXITED);
  // 12: post-exit reviews at 6 and 12 months from the exit (14 May 2026),
  // not yet due on the pack's date.
  ASSERT_EQ(p.review_schedule_size(), 2);
  EXPECT_EQ(p.review_schedule(0).rule_id(), "channel-post-exit-6m");
  EXPECT_EQ(DateText(p.review_schedule(0).due()), "2026-11-14");
  EXPECT_EQ(p.review_schedule(0).status(), v1::DEADLINE_STATUS_PENDING);
  EXPECT_EQ(p.review_schedule(1).rule_id(), "channel-post-exit-12m");
  EXPECT_EQ(DateText(p.review_schedule(1).due()), "2027-5-14");
  EXPECT_EQ(p.review_schedule(1).status(), v1::DEADLINE_STATUS_PENDING);
  for (const v1::Deadline& d : p.review_schedule()) {
    EXPECT_EQ(DateText(d.evaluated_on()), "2026-6-1") << d.rule_id();
  }

  // On a later pack date the 6-month review is overdue.
  *request.mutable_pack_date() = Date(2026, 11, 20);
  status = c().Pack(request, &response);
  ASSERT_TRUE(status.ok()) << ToString(status);
  ASSERT_EQ(response.pack().review_schedule_size(), 2);
  EXPECT_EQ(response.pack().review_schedule(0).status(),
            v1::DEADLINE_STATUS_OVERDUE);

  // No Prevent history: the child protection child, an unknown person, and
  // the Channel child as known before the demo was recorded.
  request.clear_pack_date();
  for (const std::string& person :
       {std::string(kCpChild), std::string("NS-P-000000")}) {
    request.set_person_id(person);
    status = c().Pack(request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
        << person << ": " << ToString(status);
    EXPECT_THAT(status.error_message(), HasSubstr(person));
  }
  request.set_person_id(kChannelChild);
  *request.mutable_as_known_at() = before_demo;
  status = c().Pack(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << ToString(status);
  EXPECT_EQ(c().LogSize(), log_size) << "a query wrote to the log";
}

// Each malformed request is INVALID_ARGUMENT naming exactly the bad field.
TEST_F(CaseQueriesTest, MalformedRequestsNameTheField) {
  const AppendedEvent appended = c().Append(
      "case-q-malformed",
      Contact("q-malformed-contact", "2026-03-02T09:00:00Z", {"NS-Q-6001"}));
  const uint64_t log_size = c().LogSize();
  auto expect_field = [](const grpc::Status& status, const std::string& field,
                         const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << ToString(status);
    EXPECT_THAT(BadRequestFields(status), Optional(ElementsAre(field)))
        << ToString(status);
  };

  {
    v1::GetChronologyResponse response;
    v1::GetChronologyRequest r = CaseChronology("case-q-malformed");
    r.set_child_id("NS-Q-6001");
    expect_field(c().Chronology(r, &response), "child_id", "both ids");
    expect_field(c().Chronology(v1::GetChronologyRequest(), &response),
                 "case_id", "neither id");
    r = CaseChronology("case-q-malformed");
    r.set_page_size(1001);
    expect_field(c().Chronology(r, &response), "page_size", "page_size 1001");
    r = CaseChronology("case-q-malformed");
    r.set_page_token("not a token!");
    expect_field(c().Chronology(r, &response), "page_token", "not base64");
    r.set_page_token(absl::WebSafeBase64Escape("1:2"));
    expect_field(c().Chronology(r, &response), "page_token", "too few parts");
    r.set_page_token(absl::WebSafeBase64Escape("x:0:5:case-q-malformed"));
    expect_field(c().Chronology(r, &response), "page_token", "not a number");
    r = CaseChronology("case-q-malformed");
    r.mutable_as_known_at()->set_seconds(-1);
    expect_field(c().Chronology(r, &response), "as_known_at", "before 1970");
    r = CaseChronology(std::string(201, 'c'));
    expect_field(c().Chronology(r, &response), "case_id", "201-byte case id");
  }
  {
    v1::GetCaseStateResponse response;
    v1::GetCaseStateRequest r = StateRequest("case-q-malformed");
    *r.mutable_evaluate_on() = Date(2026, 2, 30);
    expect_field(c().CaseState(r, &response), "evaluate_on", "2026-02-30");
    *r.mutable_evaluate_on() = Date(2026, 13, 1);
    expect_field(c().CaseState(r, &response), "evaluate_on", "month 13");
    expect_field(c().CaseState(v1::GetCaseStateRequest(), &response), "case_id",
                 "no case id");
    r = StateRequest("case-q-malformed");
    r.mutable_as_known_at()->set_nanos(1000000000);
    expect_field(c().CaseState(r, &response), "as_known_at", "nanos 1e9");
  }
  {
    v1::GetChannelPanelPackResponse response;
    expect_field(c().Pack(v1::GetChannelPanelPackRequest(), &response),
                 "person_id", "no person id");
    v1::GetChannelPanelPackRequest r;
    r.set_person_id("NS-Q-6001");
    *r.mutable_pack_date() = Date(2025, 2, 29);
    expect_field(c().Pack(r, &response), "pack_date", "2025-02-29");
  }
  {
    v1::ReconstructDecisionResponse response;
    v1::ReconstructDecisionRequest r;
    r.set_case_id("case-q-malformed");
    expect_field(c().Reconstruct(r, &response), "event_id", "no event id");
    r.set_event_id("q-malformed-contact");
    r.clear_case_id();
    expect_field(c().Reconstruct(r, &response), "case_id", "no case id");
    r.set_case_id("case-q-malformed");
    *r.mutable_evaluate_on() = Date(2026, 4, 31);
    expect_field(c().Reconstruct(r, &response), "evaluate_on", "2026-04-31");
  }

  // The valid limits are answered.
  v1::GetChronologyRequest valid =
      CaseChronology("case-q-malformed", appended.position() + 1);
  valid.set_page_size(1000);
  EXPECT_EQ(c().MustChronology(valid).entries_size(), 1);
  v1::GetCaseStateRequest leap = StateRequest("case-q-malformed");
  *leap.mutable_evaluate_on() = Date(2028, 2, 29);
  EXPECT_EQ(c().MustCaseState(leap).state().event_count(), 1u);
  EXPECT_EQ(c().LogSize(), log_size) << "a query wrote to the log";
}

TEST_F(CaseQueriesTest, MinPositionBeyondTheLogIsUnavailableSayingHowFar) {
  c().Append("case-q-behind", Contact("q-behind-contact",
                                      "2026-03-02T09:00:00Z", {"NS-Q-7001"}));
  const uint64_t log_size = c().LogSize();
  const uint64_t wanted = log_size + 1000;
  // The read model has folded the whole log...
  ASSERT_EQ(c().WaitCaughtUp(log_size).lag_events(), 0u);

  // ...and waits about 2 s for a position the log has not reached.
  auto expect_unavailable = [&](const grpc::Status& status, absl::Duration took,
                                const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << ToString(status);
    EXPECT_THAT(
        status.error_message(),
        HasSubstr(absl::StrCat("the read model is at position ", log_size,
                               ", 1000 events short of the "
                               "requested ",
                               wanted, " (log size ", log_size, ")")));
    EXPECT_GE(took, absl::Milliseconds(1500));
    EXPECT_LT(took, absl::Seconds(10));
  };
  absl::Time start = absl::Now();
  v1::GetChronologyResponse chronology;
  grpc::Status status =
      c().Chronology(CaseChronology("case-q-behind", wanted), &chronology);
  expect_unavailable(status, absl::Now() - start, "chronology");

  start = absl::Now();
  v1::GetCaseStateResponse state;
  status = c().CaseState(StateRequest("case-q-behind", wanted), &state);
  expect_unavailable(status, absl::Now() - start, "case state");

  start = absl::Now();
  v1::GetChannelPanelPackRequest pack_request;
  pack_request.set_person_id("NS-Q-7001");
  pack_request.set_min_position(wanted);
  v1::GetChannelPanelPackResponse pack;
  status = c().Pack(pack_request, &pack);
  expect_unavailable(status, absl::Now() - start, "pack");

  // The position exactly reached is answered at once; an as-known-at query
  // reads the log itself and does not wait.
  start = absl::Now();
  EXPECT_EQ(c().MustChronology(CaseChronology("case-q-behind", log_size))
                .entries_size(),
            1);
  v1::GetChronologyRequest known = CaseChronology("case-q-behind", wanted);
  *known.mutable_as_known_at() = Ts(absl::Now() + absl::Hours(1));
  EXPECT_EQ(c().MustChronology(known).entries_size(), 1);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1500));
  EXPECT_EQ(c().LogSize(), log_size) << "a query wrote to the log";
}

// --- The read models' life across restarts ----------------------------------

class ProjectionLifecycleTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra_flags = {}) {
    connection_.reset();
    ServerProcess::Options options;
    options.data_dir = data_dir();
    options.extra_flags = {"--checkpoint_interval=0"};
    options.extra_flags.insert(options.extra_flags.end(), extra_flags.begin(),
                               extra_flags.end());
    auto server = ServerProcess::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    connection_ = std::make_unique<Connection>(server_->address());
    ASSERT_TRUE(connection_->WaitForConnected()) << server_->StderrText();
  }

  // SIGTERM; our channel is closed first so the graceful stop does not wait
  // for an idle channel to notice.
  void Stop() {
    connection_.reset();
    ASSERT_EQ(server_->Stop(), 0) << server_->StderrText();
  }

  std::string data_dir() const { return dir_.Sub("data"); }
  std::string readmodel_dir() const { return data_dir() + "/readmodels"; }
  Connection& c() { return *connection_; }

  // Two cases, five events, two children in each event of the second.
  void AppendTwoCases() {
    c().AppendAll(
        "case-l-1",
        {Contact("l-1-contact", "2026-03-02T08:40:00Z", {"NS-L-1"}),
         Household("l-1-father", "2026-03-02T09:30:00Z", {"NS-L-1"}, "NS-L-1-F",
                   "Lee Test", "father", Date(1988, 7, 21)),
         Referral("l-1-decision", "2026-03-02T11:05:00Z", {"NS-L-1"},
                  {"l-1-contact", "l-1-father"})});
    c().AppendAll(
        "case-l-2",
        {Contact("l-2-contact", "2026-03-06T10:00:00Z", {"NS-L-2", "NS-L-3"}),
         Correction("l-2-correction", "2026-03-09T10:00:00Z", {"NS-L-2"},
                    "l-2-contact")});
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Connection> connection_;
};

TEST_F(ProjectionLifecycleTest, RebuildRestartAndDeletedReadModelAgree) {
  ASSERT_NO_FATAL_FAILURE(Start());
  AppendTwoCases();
  ASSERT_EQ(c().LogSize(), 5u);

  v1::GetProjectionStatusResponse status = c().WaitCaughtUp(5);
  EXPECT_EQ(status.log_size(), 5u);
  EXPECT_EQ(status.lag_events(), 0u);
  EXPECT_EQ(status.events_applied(), 5u);
  EXPECT_EQ(status.rebuilds(), 0u);
  EXPECT_THAT(status.fingerprint(), HasSubstr("/casetrail-default-v2/"));
  EXPECT_THAT(status.digest(), IsEmpty()) << "digest only when asked";
  const std::string fingerprint = status.fingerprint();

  status = c().Status(/*digest=*/true);
  const std::string digest = status.digest();
  EXPECT_EQ(digest.size(), 32u) << "a SHA-256 digest, as bytes";
  EXPECT_EQ(c().Status(true).digest(), digest) << "stable while idle";

  {
    SCOPED_TRACE("rebuild through the server");
    const v1::RebuildProjectionsResponse rebuilt = c().Rebuild();
    EXPECT_EQ(rebuilt.position(), 5u);
    EXPECT_EQ(rebuilt.cases(), 2u);
    EXPECT_GE(rebuilt.seconds(), 0.0);
    status = c().Status(true);
    EXPECT_EQ(status.digest(), digest) << "a rebuild is byte-identical";
    EXPECT_EQ(status.checkpoint(), 5u);
    EXPECT_EQ(status.rebuilds(), 1u);
    EXPECT_EQ(status.events_applied(), 10u);
    EXPECT_THAT(
        EventIds(c().MustChronology(CaseChronology("case-l-1")).entries()),
        ElementsAre("l-1-contact", "l-1-father", "l-1-decision"));
  }
  {
    SCOPED_TRACE("restart on the same data dir");
    ASSERT_NO_FATAL_FAILURE(Stop());
    ASSERT_NO_FATAL_FAILURE(Start());
    EXPECT_THAT(server_->StderrText(),
                HasSubstr("read models at position 5 of 5"));
    status = c().Status(true);
    EXPECT_EQ(status.checkpoint(), 5u);
    EXPECT_EQ(status.lag_events(), 0u);
    EXPECT_EQ(status.events_applied(), 0u) << "nothing folded again";
    EXPECT_EQ(status.rebuilds(), 0u);
    EXPECT_EQ(status.fingerprint(), fingerprint);
    EXPECT_EQ(status.digest(), digest);
  }
  {
    SCOPED_TRACE("the fold resumes from the stored models");
    const AppendedEvent mother =
        c().Append("case-l-1", Household("l-1-mother", "2026-03-03T10:00:00Z",
                                         {"NS-L-1"}, "NS-L-1-M", "Jo Test",
                                         "mother", Date(1990, 2, 8)));
    ASSERT_EQ(mother.position(), 5u);
    const v1::GetCaseStateResponse state =
        c().MustCaseState(StateRequest("case-l-1", 6));
    EXPECT_EQ(state.state().event_count(), 4u);
    EXPECT_EQ(state.state().household_size(), 2);
    EXPECT_EQ(state.state().children_size(), 1);
    EXPECT_EQ(state.state().next_position(), 6u);
    const v1::Deadline* referral =
        FindDeadline(state.state(), "referral-decision-1wd");
    ASSERT_NE(referral, nullptr);
    EXPECT_EQ(referral->met_by_event_id(), "l-1-decision");
    EXPECT_THAT(
        EventIds(c().MustChronology(CaseChronology("case-l-1")).entries()),
        ElementsAre("l-1-contact", "l-1-father", "l-1-decision", "l-1-mother"));
    v1::GetChronologyRequest child;
    child.set_child_id("NS-L-3");
    EXPECT_THAT(EventIds(c().MustChronology(child).entries()),
                ElementsAre("l-2-contact"));
  }
  std::string digest_after;
  {
    SCOPED_TRACE("the model followed live equals a rebuild");
    status = c().WaitCaughtUp(6);
    EXPECT_EQ(status.events_applied(), 1u);
    digest_after = c().Status(true).digest();
    EXPECT_NE(digest_after, digest);
    EXPECT_EQ(c().Rebuild().position(), 6u);
    EXPECT_EQ(c().Status(true).digest(), digest_after);
  }
  {
    SCOPED_TRACE("read model deleted while stopped");
    ASSERT_NO_FATAL_FAILURE(Stop());
    ASSERT_TRUE(std::filesystem::is_directory(readmodel_dir()));
    std::filesystem::remove_all(readmodel_dir());
    ASSERT_NO_FATAL_FAILURE(Start());
    status = c().WaitCaughtUp(6);
    EXPECT_EQ(status.events_applied(), 6u) << "folded from position zero";
    EXPECT_EQ(status.fingerprint(), fingerprint);
    EXPECT_EQ(c().Status(true).digest(), digest_after);
    EXPECT_TRUE(std::filesystem::is_directory(readmodel_dir()));
  }
  EXPECT_EQ(c().LogSize(), 6u) << "queries and rebuilds wrote to the log";
}

TEST_F(ProjectionLifecycleTest, OtherTimescaleRulesChangeTheFingerprint) {
  ASSERT_NO_FATAL_FAILURE(Start());
  AppendTwoCases();
  v1::GetProjectionStatusResponse status = c().WaitCaughtUp(5);
  const std::string fingerprint = status.fingerprint();
  const std::string digest = c().Status(true).digest();
  ASSERT_FALSE(digest.empty());
  ASSERT_NO_FATAL_FAILURE(Stop());

  // The shipped rules with the set's version raised, as a local authority
  // would after changing a rule.
  std::string rules = ReadWholeFile(CASETRAIL_TIMESCALES_FILE);
  const std::string shipped_version = "\nversion: 2\n";
  ASSERT_NE(rules.find(shipped_version), std::string::npos)
      << "the shipped set is no longer version 2; update this test";
  rules.replace(rules.find(shipped_version), shipped_version.size(),
                "\nversion: 7\n");
  const std::string rules_file = dir_.Sub("timescales-v7.textproto");
  ASSERT_NO_FATAL_FAILURE(WriteWholeFile(rules_file, rules));
  const std::string flag = "--timescale_rules_file=" + rules_file;

  {
    SCOPED_TRACE("started with the new rules");
    ASSERT_NO_FATAL_FAILURE(Start({flag}));
    EXPECT_THAT(server_->StderrText(),
                HasSubstr("timescale rules casetrail-default version 7"));
    status = c().WaitCaughtUp(5);
    EXPECT_NE(status.fingerprint(), fingerprint);
    EXPECT_THAT(status.fingerprint(), HasSubstr("/casetrail-default-v7/"));
    EXPECT_EQ(status.events_applied(), 5u) << "rebuilt from position zero";
    EXPECT_EQ(status.lag_events(), 0u);
    EXPECT_NE(c().Status(true).digest(), digest);
    const v1::GetCaseStateResponse state =
        c().MustCaseState(StateRequest("case-l-2"));
    EXPECT_EQ(state.provenance().rule_set_version(), 7u);
    const v1::Deadline* d =
        FindDeadline(state.state(), "referral-decision-1wd");
    ASSERT_NE(d, nullptr) << state.state().DebugString();
    EXPECT_EQ(d->rule_set_version(), 7u);
    ASSERT_NO_FATAL_FAILURE(Stop());
  }
  {
    SCOPED_TRACE("restarted with the same new rules: kept");
    ASSERT_NO_FATAL_FAILURE(Start({flag}));
    status = c().Status();
    EXPECT_EQ(status.checkpoint(), 5u);
    EXPECT_EQ(status.events_applied(), 0u);
    ASSERT_NO_FATAL_FAILURE(Stop());
  }
  {
    SCOPED_TRACE("back to the shipped rules: rebuilt, byte for byte as before");
    ASSERT_NO_FATAL_FAILURE(Start());
    status = c().WaitCaughtUp(5);
    EXPECT_EQ(status.fingerprint(), fingerprint);
    EXPECT_EQ(status.events_applied(), 5u);
    EXPECT_EQ(c().Status(true).digest(), digest);
  }
  EXPECT_EQ(c().LogSize(), 5u);
}

TEST_F(ProjectionLifecycleTest, ReadModelDirFlagPlacesTheReadModels) {
  const std::string elsewhere = dir_.Sub("elsewhere");
  ASSERT_NO_FATAL_FAILURE(Start({"--readmodel_dir=" + elsewhere}));
  AppendTwoCases();
  EXPECT_EQ(c().WaitCaughtUp(5).lag_events(), 0u);
  EXPECT_TRUE(std::filesystem::is_directory(elsewhere));
  EXPECT_FALSE(std::filesystem::exists(readmodel_dir()));
  EXPECT_THAT(
      EventIds(c().MustChronology(CaseChronology("case-l-1", 5)).entries()),
      ElementsAre("l-1-contact", "l-1-father", "l-1-decision"));
}

}  // namespace
}  // namespace casetrail
