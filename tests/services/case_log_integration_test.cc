// casetrail.v1.CaseLog end to end: the real casetraild on a loopback port with
// a real RocksDB in a temporary directory, over a real gRPC channel.

#include <signal.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "eventstore/event_store.h"
#include "eventstore/keys.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/sync_stream.h"
#include "gtest/gtest.h"
#include "tests/testing/case_events.h"
#include "tests/testing/case_log_client.h"
#include "tests/testing/event_store_fixture.h"
#include "tests/testing/malformed_appends.h"
#include "tests/testing/server_process.h"

namespace casetrail {
namespace {

using casetrail::testing::BadRequestFields;
using casetrail::testing::CaseLogClient;
using casetrail::testing::MakeAppendRequest;
using casetrail::testing::MakeCaseEvent;
using casetrail::testing::ServerProcess;
using casetrail::testing::ToString;
using casetrail::v1::AppendEventsRequest;
using casetrail::v1::AppendEventsResponse;
using casetrail::v1::CaseEvent;
using casetrail::v1::ExpectedVersion;
using casetrail::v1::RecordedEvent;
using google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::UnorderedElementsAreArray;

// `sent` as the server stores it: stream_id set, schema_version 0 made 1.
CaseEvent Normalised(CaseEvent sent, const std::string& stream_id) {
  sent.set_stream_id(stream_id);
  if (sent.schema_version() == 0) sent.set_schema_version(1);
  return sent;
}

class CaseLogIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer() {
    client_.reset();
    auto server = ServerProcess::Start(dir_.path());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<CaseLogClient>(server_->address());
    ASSERT_TRUE(client_->WaitForConnected()) << server_->StderrText();
  }

  uint64_t LogSize() {
    absl::StatusOr<uint64_t> size = client_->LogSize();
    EXPECT_TRUE(size.ok()) << size.status();
    return size.value_or(~uint64_t{0});
  }

  // Appends and expects success.
  AppendEventsResponse MustAppend(const AppendEventsRequest& request) {
    AppendEventsResponse response;
    grpc::Status status = client_->Append(request, &response);
    EXPECT_TRUE(status.ok()) << ToString(status);
    return response;
  }

  std::vector<RecordedEvent> WholeLog() {
    auto log = client_->ReadWholeLog();
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : std::vector<RecordedEvent>{};
  }

  casetrail::testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<CaseLogClient> client_;
};

TEST_F(CaseLogIntegrationTest, AppendThenReadBackStreamAndLog) {
  const std::vector<CaseEvent> sent = {
      MakeCaseEvent("evt-1", "ReferralReceived", "{\"from\":\"school\"}"),
      MakeCaseEvent("evt-2", "ContactMade", "{}"),
      MakeCaseEvent("evt-3", "StrategyMeetingHeld", std::string(300, 'n'))};
  const absl::Time before = absl::Now() - absl::Seconds(1);
  AppendEventsResponse first = MustAppend(
      MakeAppendRequest("case-1", ExpectedVersion::KIND_NO_STREAM, sent));
  ASSERT_EQ(first.events_size(), 3);
  EXPECT_FALSE(first.deduplicated());
  EXPECT_EQ(first.stream_version(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(first.events(i).event_id(), sent[i].event_id());
    EXPECT_EQ(first.events(i).position(), static_cast<uint64_t>(i));
    EXPECT_EQ(first.events(i).stream_version(), static_cast<uint64_t>(i + 1));
    EXPECT_GE(first.events(i).recorded_at().seconds(),
              absl::ToUnixSeconds(before));
  }
  AppendEventsResponse second =
      MustAppend(MakeAppendRequest("case-2", ExpectedVersion::KIND_EXACT,
                                   {MakeCaseEvent("evt-4", "ContactMade")}, 0));
  ASSERT_EQ(second.events_size(), 1);
  EXPECT_EQ(second.events(0).position(), 3u);
  EXPECT_EQ(second.events(0).stream_version(), 1u);

  // The stream, forwards and backwards.
  v1::ReadCaseStreamRequest read;
  read.set_stream_id("case-1");
  v1::ReadCaseStreamResponse stream;
  ASSERT_TRUE(client_->ReadStream(read, &stream).ok());
  EXPECT_EQ(stream.stream_version(), 3u);
  ASSERT_EQ(stream.events_size(), 3);
  for (int i = 0; i < 3; ++i) {
    const RecordedEvent& e = stream.events(i);
    EXPECT_EQ(e.position(), static_cast<uint64_t>(i));
    EXPECT_EQ(e.stream_version(), static_cast<uint64_t>(i + 1));
    EXPECT_TRUE(
        MessageDifferencer::Equals(e.event(), Normalised(sent[i], "case-1")))
        << e.event().DebugString();
    EXPECT_EQ(e.recorded_at().seconds(),
              first.events(i).recorded_at().seconds());
    EXPECT_EQ(e.recorded_at().nanos(), first.events(i).recorded_at().nanos());
  }
  read.set_direction(v1::READ_DIRECTION_BACKWARDS);
  read.set_from_version(2);
  ASSERT_TRUE(client_->ReadStream(read, &stream).ok());
  ASSERT_EQ(stream.events_size(), 2);
  EXPECT_EQ(stream.events(0).event().event_id(), "evt-2");
  EXPECT_EQ(stream.events(1).event().event_id(), "evt-1");

  // The log, whole and filtered.
  const std::vector<RecordedEvent> log = WholeLog();
  ASSERT_EQ(log.size(), 4u);
  for (size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i].position(), i);
  EXPECT_EQ(log[3].event().stream_id(), "case-2");

  v1::ReadLogRequest filtered;
  filtered.add_event_types("ContactMade");
  v1::ReadLogResponse contacts;
  ASSERT_TRUE(client_->ReadLog(filtered, &contacts).ok());
  ASSERT_EQ(contacts.events_size(), 2);
  EXPECT_EQ(contacts.events(0).event().event_id(), "evt-2");
  EXPECT_EQ(contacts.events(1).event().event_id(), "evt-4");
  EXPECT_EQ(contacts.next_position(), 4u);
  EXPECT_EQ(contacts.log_size(), 4u);
  filtered.clear_event_types();
  filtered.set_stream_prefix("case-2");
  ASSERT_TRUE(client_->ReadLog(filtered, &contacts).ok());
  ASSERT_EQ(contacts.events_size(), 1);
  EXPECT_EQ(contacts.events(0).event().event_id(), "evt-4");

  grpc::ClientContext context;
  v1::GetLogInfoResponse info;
  ASSERT_TRUE(client_->stub()
                  .GetLogInfo(&context, v1::GetLogInfoRequest(), &info)
                  .ok());
  EXPECT_EQ(info.log_size(), 4u);
  EXPECT_EQ(info.format_version(), eventstore::kFormatVersion);
  EXPECT_EQ(info.last_recorded_at().seconds(),
            second.events(0).recorded_at().seconds());
  EXPECT_EQ(info.last_recorded_at().nanos(),
            second.events(0).recorded_at().nanos());
}

TEST_F(CaseLogIntegrationTest, RetryIsDeduplicatedAndChangedContentIsRefused) {
  const AppendEventsRequest request =
      MakeAppendRequest("case-1", ExpectedVersion::KIND_NO_STREAM,
                        {MakeCaseEvent("evt-1"), MakeCaseEvent("evt-2")});
  AppendEventsResponse original = MustAppend(request);
  MustAppend(MakeAppendRequest("case-9", ExpectedVersion::KIND_ANY,
                               {MakeCaseEvent("evt-9")}));

  AppendEventsResponse retry = MustAppend(request);
  EXPECT_TRUE(retry.deduplicated());
  ASSERT_EQ(retry.events_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(retry.events(i).position(), original.events(i).position());
    EXPECT_EQ(retry.events(i).stream_version(),
              original.events(i).stream_version());
  }
  EXPECT_EQ(LogSize(), 3u);

  AppendEventsRequest changed = request;
  changed.mutable_events(1)->mutable_opaque()->set_data("{\"edited\":true}");
  AppendEventsResponse response;
  grpc::Status status = client_->Append(changed, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << ToString(status);
  EXPECT_THAT(status.error_message(), HasSubstr("evt-2"));
  EXPECT_EQ(LogSize(), 3u);
}

TEST_F(CaseLogIntegrationTest, HealthCheckIsServing) {
  auto health = grpc::health::v1::Health::NewStub(client_->channel());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = health->Check(&context, request, &response);
  ASSERT_TRUE(status.ok()) << ToString(status);
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(CaseLogIntegrationTest, MalformedAppendsAreInvalidArgumentWithFields) {
  MustAppend(MakeAppendRequest("case-0", ExpectedVersion::KIND_ANY,
                               {MakeCaseEvent("already-there")}));
  ASSERT_EQ(LogSize(), 1u);
  for (const casetrail::testing::MalformedAppend& c :
       casetrail::testing::MalformedAppends()) {
    SCOPED_TRACE(c.name);
    AppendEventsResponse response;
    grpc::Status status = client_->Append(c.request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << ToString(status);
    EXPECT_THAT(BadRequestFields(status),
                Optional(UnorderedElementsAreArray(c.violated_fields)))
        << ToString(status);
    for (const std::string& field : c.violated_fields) {
      EXPECT_THAT(status.error_message(), HasSubstr(field));
    }
    google::rpc::Status details;
    ASSERT_TRUE(details.ParseFromString(status.error_details()));
    EXPECT_EQ(details.code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(LogSize(), 1u);
  }
}

TEST_F(CaseLogIntegrationTest, MessageOverTheServerLimitIsResourceExhausted) {
  // Over --max_message_bytes (default 8 MiB), gRPC refuses the message before
  // the service sees it.
  AppendEventsRequest request =
      MakeAppendRequest("case-1", ExpectedVersion::KIND_ANY, {});
  for (int i = 0; i < 150; ++i) {
    *request.add_events() = MakeCaseEvent(absl::StrCat("evt-", i), "Document",
                                          std::string(60 << 10, 'd'));
  }
  ASSERT_GT(request.ByteSizeLong(), 8u << 20);
  AppendEventsResponse response;
  grpc::Status status = client_->Append(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << ToString(status);
  EXPECT_EQ(LogSize(), 0u);
  // The server is still fine.
  MustAppend(MakeAppendRequest("case-1", ExpectedVersion::KIND_ANY,
                               {MakeCaseEvent("evt-ok")}));
  EXPECT_EQ(LogSize(), 1u);
}

TEST_F(CaseLogIntegrationTest, ReadCaseStreamRejectsAnInvalidStreamId) {
  v1::ReadCaseStreamRequest read;
  read.set_stream_id("case 1");
  v1::ReadCaseStreamResponse response;
  grpc::Status status = client_->ReadStream(read, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadRequestFields(status), Optional(ElementsAre("stream_id")));
}

TEST_F(CaseLogIntegrationTest, VersionConflictIsAbortedAndWritesNothing) {
  MustAppend(
      MakeAppendRequest("case-1", ExpectedVersion::KIND_NO_STREAM,
                        {MakeCaseEvent("evt-1"), MakeCaseEvent("evt-2")}));
  AppendEventsResponse response;
  grpc::Status status =
      client_->Append(MakeAppendRequest("case-1", ExpectedVersion::KIND_EXACT,
                                        {MakeCaseEvent("evt-3")}, 1),
                      &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << ToString(status);
  EXPECT_THAT(status.error_message(), HasSubstr("expected version 1"));
  EXPECT_THAT(status.error_message(), HasSubstr("actual version 2"));
  EXPECT_THAT(status.error_message(), HasSubstr("case-1"));

  status = client_->Append(
      MakeAppendRequest("case-1", ExpectedVersion::KIND_NO_STREAM,
                        {MakeCaseEvent("evt-3")}),
      &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << ToString(status);
  EXPECT_THAT(status.error_message(), HasSubstr("actual version 2"));

  status = client_->Append(
      MakeAppendRequest("case-new", ExpectedVersion::KIND_STREAM_EXISTS,
                        {MakeCaseEvent("evt-3")}),
      &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << ToString(status);
  EXPECT_THAT(status.error_message(), HasSubstr("actual version 0"));

  EXPECT_EQ(LogSize(), 2u);
  EXPECT_EQ(client_->StreamVersion("case-1").value_or(0), 2u);
  // evt-3 was not recorded by any of the refused appends.
  AppendEventsResponse ok = MustAppend(MakeAppendRequest(
      "case-1", ExpectedVersion::KIND_EXACT, {MakeCaseEvent("evt-3")}, 2));
  EXPECT_FALSE(ok.deduplicated());
  ASSERT_EQ(ok.events_size(), 1);
  EXPECT_EQ(ok.events(0).position(), 2u);
  EXPECT_EQ(ok.events(0).stream_version(), 3u);
}

TEST_F(CaseLogIntegrationTest, SubscribeCatchesUpThenFollowsLive) {
  for (int i = 0; i < 3; ++i) {
    MustAppend(MakeAppendRequest(absl::StrCat("case-", i),
                                 ExpectedVersion::KIND_ANY,
                                 {MakeCaseEvent(absl::StrCat("old-", i))}));
  }
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::SubscribeRequest request;
  request.set_from_position(0);
  auto reader = client_->stub().Subscribe(&context, request);

  std::vector<RecordedEvent> received;
  v1::SubscribeResponse message;
  bool caught_up = false;
  while (!caught_up && reader->Read(&message)) {
    for (const RecordedEvent& e : message.events()) received.push_back(e);
    caught_up = message.caught_up();
  }
  ASSERT_TRUE(caught_up);
  ASSERT_EQ(received.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(received[i].position(), i);
    EXPECT_EQ(received[i].event().event_id(), absl::StrCat("old-", i));
  }
  EXPECT_EQ(message.next_position(), 3u);

  MustAppend(
      MakeAppendRequest("case-live", ExpectedVersion::KIND_ANY,
                        {MakeCaseEvent("live-1"), MakeCaseEvent("live-2")}));
  while (received.size() < 5 && reader->Read(&message)) {
    for (const RecordedEvent& e : message.events()) received.push_back(e);
    EXPECT_TRUE(message.caught_up());
  }
  ASSERT_EQ(received.size(), 5u);
  EXPECT_EQ(received[3].position(), 3u);
  EXPECT_EQ(received[3].event().event_id(), "live-1");
  EXPECT_EQ(received[4].event().event_id(), "live-2");
  EXPECT_EQ(received[4].event().stream_id(), "case-live");

  context.TryCancel();
  while (reader->Read(&message)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(CaseLogIntegrationTest, FilteredSubscriptionSkipsOtherEvents) {
  MustAppend(MakeAppendRequest("north-1", ExpectedVersion::KIND_ANY,
                               {MakeCaseEvent("a", "Visit")}));
  MustAppend(MakeAppendRequest("south-1", ExpectedVersion::KIND_ANY,
                               {MakeCaseEvent("b", "Visit")}));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::SubscribeRequest request;
  request.set_stream_prefix("north-");
  request.add_event_types("Visit");
  auto reader = client_->stub().Subscribe(&context, request);
  std::vector<std::string> ids;
  v1::SubscribeResponse message;
  bool caught_up = false;
  while (!caught_up && reader->Read(&message)) {
    for (const RecordedEvent& e : message.events()) {
      ids.push_back(e.event().event_id());
    }
    caught_up = message.caught_up();
  }
  ASSERT_TRUE(caught_up);
  MustAppend(MakeAppendRequest("north-1", ExpectedVersion::KIND_ANY,
                               {MakeCaseEvent("c", "Closed")}));
  MustAppend(MakeAppendRequest("south-1", ExpectedVersion::KIND_ANY,
                               {MakeCaseEvent("d", "Visit")}));
  MustAppend(MakeAppendRequest("north-2", ExpectedVersion::KIND_ANY,
                               {MakeCaseEvent("e", "Visit")}));
  while (ids.size() < 2 && reader->Read(&message)) {
    for (const RecordedEvent& e : message.events()) {
      ids.push_back(e.event().event_id());
    }
  }
  EXPECT_THAT(ids, ElementsAre("a", "e"));
  context.TryCancel();
  while (reader->Read(&message)) {
  }
  reader->Finish();
}

TEST_F(CaseLogIntegrationTest, SigtermStopsCleanlyAndEndsSubscriptions) {
  MustAppend(
      MakeAppendRequest("case-1", ExpectedVersion::KIND_ANY,
                        {MakeCaseEvent("evt-1"), MakeCaseEvent("evt-2")}));
  // A subscriber, on a channel of its own, waiting for the next event when
  // the server stops.
  absl::Notification caught_up;
  grpc::Status subscription_end;
  std::thread subscriber([&, address = server_->address()] {
    CaseLogClient client(address);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    auto reader = client.stub().Subscribe(&context, v1::SubscribeRequest());
    v1::SubscribeResponse message;
    while (reader->Read(&message)) {
      if (message.caught_up() && !caught_up.HasBeenNotified()) {
        caught_up.Notify();
      }
    }
    subscription_end = reader->Finish();
    if (!caught_up.HasBeenNotified()) caught_up.Notify();
  });
  caught_up.WaitForNotification();
  // Idle channels only see the server's GOAWAY when gRPC's backup poller
  // runs (every 5 s), and a graceful shutdown waits for them; close ours.
  client_.reset();

  EXPECT_EQ(server_->Stop(), 0) << server_->StderrText();
  subscriber.join();
  EXPECT_EQ(subscription_end.error_code(), grpc::StatusCode::UNAVAILABLE)
      << ToString(subscription_end);
  const std::string stderr_text = server_->StderrText();
  EXPECT_THAT(stderr_text, HasSubstr("received SIGTERM"));
  EXPECT_THAT(stderr_text, HasSubstr("stopped cleanly, log size 2 events"));
}

TEST_F(CaseLogIntegrationTest, RestartOnTheSameDirectoryKeepsEveryEvent) {
  for (int i = 0; i < 20; ++i) {
    std::vector<CaseEvent> events;
    for (int j = 0; j <= i % 3; ++j) {
      events.push_back(MakeCaseEvent(absl::StrCat("evt-", i, "-", j),
                                     "ContactMade", absl::StrCat("n", i * j)));
    }
    MustAppend(MakeAppendRequest(absl::StrCat("case-", i % 4),
                                 ExpectedVersion::KIND_ANY, events));
  }
  const std::vector<RecordedEvent> before = WholeLog();
  ASSERT_EQ(before.size(), 39u);
  const uint64_t case0_version = client_->StreamVersion("case-0").value_or(0);
  ASSERT_GT(case0_version, 0u);

  // Close the channel first: an idle channel only sees the server's GOAWAY
  // when gRPC's backup poller runs (every 5 s), and shutdown waits for it.
  client_.reset();
  ASSERT_EQ(server_->Stop(), 0) << server_->StderrText();
  StartServer();
  EXPECT_THAT(server_->StderrText(), HasSubstr("log size 39 events"));

  const std::vector<RecordedEvent> after = WholeLog();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].SerializeAsString(), before[i].SerializeAsString())
        << "position " << i;
  }
  // The stream head survived too: an exact append continues it.
  AppendEventsResponse next = MustAppend(
      MakeAppendRequest("case-0", ExpectedVersion::KIND_EXACT,
                        {MakeCaseEvent("after-restart")}, case0_version));
  ASSERT_EQ(next.events_size(), 1);
  EXPECT_EQ(next.events(0).position(), 39u);
  EXPECT_EQ(next.events(0).stream_version(), case0_version + 1);
}

TEST(ServerProcessTest, ReportsAServerThatCannotStart) {
  casetrail::testing::TempDir dir;
  ServerProcess::Options options;
  options.data_dir = dir.path();
  options.extra_flags = {"--max_append_bytes=100", "--max_message_bytes=50"};
  auto server = ServerProcess::Start(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(server.status().message(), HasSubstr("max_append_bytes"));
}

}  // namespace
}  // namespace casetrail

namespace casetrail {
namespace {

// A correction of an event the case does not hold: FAILED_PRECONDITION with
// the field violation, over both append RPCs, and nothing written.
TEST_F(CaseLogIntegrationTest, CorrectionOfAnEventNotInTheCaseIsRefused) {
  MustAppend(MakeAppendRequest("case-h1", ExpectedVersion::KIND_NO_STREAM,
                               {MakeCaseEvent("h1-e1", "CaseNoteRecorded",
                                              R"({"concern": "bruise"})")}));
  MustAppend(
      MakeAppendRequest("case-h2", ExpectedVersion::KIND_NO_STREAM,
                        {MakeCaseEvent("h2-e1", "CaseNoteRecorded",
                                       R"({"concern": "other child"})")}));
  auto correction = [](const std::string& id, const std::string& target) {
    CaseEvent e = MakeCaseEvent(id, "RecordCorrected", "{}");
    e.clear_opaque();
    e.set_jurisdiction(casetrail::v1::JURISDICTION_ENGLAND);
    e.mutable_source()->set_provenance(
        casetrail::v1::Source::PROVENANCE_FIRST_HAND);
    auto* c = e.mutable_record_corrected();
    c->set_target_event_id(target);
    c->set_field_path("opaque.data");
    c->set_old_value("bruise");
    c->set_new_value("bruise on the right arm");
    c->set_reason("the school nurse's note was misread");
    c->set_source("school nurse");
    c->mutable_approved_by()->set_id("tm-7");
    c->mutable_approved_by()->set_authority_level(
        casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER);
    return e;
  };
  const uint64_t before = LogSize();
  // h2-e1 exists, but in another case.
  AppendEventsResponse response;
  grpc::Status status =
      client_->Append(MakeAppendRequest("case-h1", ExpectedVersion::KIND_ANY,
                                        {correction("h1-fix", "h2-e1")}),
                      &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << status.error_message();
  EXPECT_THAT(
      BadRequestFields(status),
      Optional(ElementsAre("events[0].record_corrected.target_event_id")));
  EXPECT_EQ(LogSize(), before);

  // The same correction in its own case is recorded; the original stays.
  MustAppend(MakeAppendRequest("case-h2", ExpectedVersion::KIND_ANY,
                               {correction("h2-fix", "h2-e1")}));
  EXPECT_EQ(LogSize(), before + 1);
}

}  // namespace
}  // namespace casetrail

namespace casetrail {
namespace {

// A typed event the server accepts, for the refusals below to break one rule
// at a time.
CaseEvent ValidExtension() {
  CaseEvent e = MakeCaseEvent("ext-1", "AssessmentExtensionDecided", "{}");
  e.clear_opaque();
  e.set_jurisdiction(casetrail::v1::JURISDICTION_ENGLAND);
  e.mutable_source()->set_provenance(
      casetrail::v1::Source::PROVENANCE_FIRST_HAND);
  auto* x = e.mutable_assessment_extension_decided();
  x->mutable_decision()->mutable_decided_by()->set_id("sm-3");
  x->mutable_decision()->mutable_decided_by()->set_authority_level(
      casetrail::v1::AUTHORITY_LEVEL_SERVICE_MANAGER);
  x->mutable_decision()->set_rationale(
      "Paediatric report awaited; the child's views not yet gathered.");
  x->set_outcome(casetrail::v1::EXTENSION_OUTCOME_APPROVED);
  x->mutable_new_target_date()->set_year(2026);
  x->mutable_new_target_date()->set_month(5);
  x->mutable_new_target_date()->set_day(21);
  return e;
}

// Each typed rule, through the real server: the refusal names the field and
// the rule, and nothing of the append is written.
TEST_F(CaseLogIntegrationTest, TypedRuleRefusalsNameTheRuleAndWriteNothing) {
  struct Refusal {
    std::string name;
    std::function<void(CaseEvent&)> b;
    std::string field;
    std::string rule;
  };
  const std::vector<Refusal> refusals = {
      {"type and payload disagree",
       [](CaseEvent& e) { e.set_event_type("ExtensionDecided"); },
       "events[0].event_type", "typed event"},
      {"no jurisdiction", [](CaseEvent& e) { e.clear_jurisdiction(); },
       "events[0].jurisdiction", "typed event"},
      {"no source", [](CaseEvent& e) { e.clear_source(); },
       "events[0].source.provenance", "rule 23 [CHR]"},
      {"no rationale",
       [](CaseEvent& e) {
         e.mutable_assessment_extension_decided()
             ->mutable_decision()
             ->set_rationale(" ");
       },
       "events[0].assessment_extension_decided.decision.rationale", "rule 3"},
      {"extension by a Team Manager",
       [](CaseEvent& e) {
         e.mutable_assessment_extension_decided()
             ->mutable_decision()
             ->mutable_decided_by()
             ->set_authority_level(casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER);
       },
       "events[0].assessment_extension_decided.decision.decided_by."
       "authority_level",
       "rule 3 [GLOSS][GH]"},
      {"Channel referral from a school",
       [](CaseEvent& e) {
         e.set_event_type("ChannelReferralReceived");
         e.mutable_channel_referral_received()->set_channel_case_id("CH-1");
       },
       "events[0].channel_referral_received.referred_by",
       "rule 15 [CTSA36][CDG23]"},
      {"catalogue type with an opaque payload",
       [](CaseEvent& e) {
         e.set_event_type("ReferralDecision");
         e.mutable_opaque()->set_content_type("application/json");
         e.mutable_opaque()->set_data(R"({"outcome": "NFA"})");
       },
       "events[0].event_type", "referral_decision payload"},
      {"impossible date",
       [](CaseEvent& e) {
         auto* review = e.mutable_assessment_extension_decided()
                            ->mutable_decision()
                            ->mutable_review_by();
         review->set_year(2019);
         review->set_month(2);
         review->set_day(30);
       },
       "events[0].assessment_extension_decided.decision.review_by",
       "2019-2-30 is not a calendar date"},
  };
  // The valid event is accepted, in a case of its own.
  MustAppend(MakeAppendRequest("case-rules-ok", ExpectedVersion::KIND_ANY,
                               {ValidExtension()}));
  const uint64_t before = LogSize();
  for (const Refusal& r : refusals) {
    CaseEvent e = ValidExtension();
    e.set_event_id("ext-" + r.name);
    r.b(e);
    AppendEventsResponse response;
    grpc::Status status = client_->Append(
        MakeAppendRequest("case-rules", ExpectedVersion::KIND_ANY,
                          {MakeCaseEvent("note-" + r.name, "Note", "{}"), e}),
        &response);
    // The broken event is second: its index shows in the path.
    std::string field = r.field;
    field.replace(field.find("events[0]"), 9, "events[1]");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << r.name;
    EXPECT_THAT(BadRequestFields(status), Optional(::testing::Contains(field)))
        << r.name << ": " << ToString(status);
    EXPECT_THAT(status.error_message(), HasSubstr(r.rule)) << r.name;
  }
  EXPECT_EQ(LogSize(), before);
}

}  // namespace
}  // namespace casetrail

namespace casetrail {
namespace {

// A hole older than the events the server checks at start: the server starts,
// and a subscription that reaches the hole ends with DATA_LOSS naming the
// position rather than skip it.
TEST_F(CaseLogIntegrationTest, SubscribeOnADamagedLogEndsWithDataLoss) {
  for (int a = 0; a < 10; ++a) {
    std::vector<CaseEvent> events;
    for (int i = 0; i < 10; ++i) {
      events.push_back(MakeCaseEvent(absl::StrCat("hole-", a, "-", i),
                                     "CaseNoteRecorded", "{}"));
    }
    MustAppend(MakeAppendRequest("case-hole", ExpectedVersion::KIND_ANY,
                                 std::move(events)));
  }
  client_.reset();
  ASSERT_EQ(server_->Stop(), 0) << server_->StderrText();
  casetrail::testing::EditRocksDb(
      dir_.path(),
      [](rocksdb::DB* db, casetrail::testing::ColumnFamilies& cfs) {
        ASSERT_TRUE(
            db->Delete({}, cfs.at("events"), eventstore::EventKey(4)).ok());
      });
  StartServer();

  grpc::ClientContext context;
  auto reader = client_->stub().Subscribe(&context, v1::SubscribeRequest());
  v1::SubscribeResponse message;
  int delivered = 0;
  while (reader->Read(&message)) delivered += message.events_size();
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS)
      << ToString(status);
  EXPECT_THAT(status.error_message(), HasSubstr("position 4"));
  // Never past the hole.
  EXPECT_LE(delivered, 4);
}

}  // namespace
}  // namespace casetrail

namespace casetrail {
namespace {

// ReadCaseStream and ReadLog are raw methods (they parse their request
// themselves): bytes that are not their request message are INVALID_ARGUMENT.
// The generated stub cannot send such bytes, so this uses the generic stub.
// Field 1 as a length-delimited string whose length runs past the end.
const std::string& Garbage() {
  static const std::string* garbage = new std::string("\x0a\x7f\x01", 3);
  return *garbage;
}

// Calls unary `method` at `address` with `bytes` as the request, through the
// generic stub (the generated one cannot send bytes that do not parse).
grpc::Status CallWithBytes(const std::string& address, const char* method,
                           const std::string& bytes) {
  grpc::GenericStub stub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  return status;
}

TEST_F(CaseLogIntegrationTest, RawReadsRefuseBytesThatDoNotParse) {
  for (const char* method : {"/casetrail.v1.CaseLog/ReadCaseStream",
                             "/casetrail.v1.CaseLog/ReadLog"}) {
    const grpc::Status status =
        CallWithBytes(server_->address(), method, Garbage());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << method << ": " << ToString(status);
    // The service's own refusal, not gRPC's.
    EXPECT_THAT(status.error_message(), HasSubstr("cannot parse")) << method;
  }
}

// Every other unary method's handler is gRPC's: bytes that are not its request
// message are INVALID_ARGUMENT naming the request type (not UNIMPLEMENTED, as
// if the method did not exist), and nothing is written.
TEST_F(CaseLogIntegrationTest,
       UnparseableRequestsAreInvalidArgumentNamingType) {
  MustAppend(MakeAppendRequest("case-1", ExpectedVersion::KIND_ANY,
                               {MakeCaseEvent("evt-1")}));
  const uint64_t before = LogSize();
  const std::pair<const char*, const char*> methods[] = {
      {"/casetrail.v1.CaseLog/AppendEvents",
       "casetrail.v1.AppendEventsRequest"},
      {"/casetrail.v1.CaseLog/GetLogInfo", "casetrail.v1.GetLogInfoRequest"},
      {"/casetrail.v1.LogIntegrity/GetCheckpoint",
       "casetrail.v1.GetCheckpointRequest"},
      {"/casetrail.v1.LogIntegrity/GetInclusionProof",
       "casetrail.v1.GetInclusionProofRequest"},
      {"/casetrail.v1.CaseQueries/GetChronology",
       "casetrail.v1.GetChronologyRequest"},
  };
  for (const auto& [method, type] : methods) {
    const grpc::Status status =
        CallWithBytes(server_->address(), method, Garbage());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << method << ": " << ToString(status);
    EXPECT_EQ(status.error_message(),
              absl::StrCat("the request is not a ", type,
                           ": its bytes do not parse as that message"))
        << method;
  }
  // Subscribe, a server stream: the same, before any response.
  {
    auto channel = grpc::CreateChannel(server_->address(),
                                       grpc::InsecureChannelCredentials());
    grpc::ClientContext context;
    std::unique_ptr<
        grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>
        call(grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer,
                                                       grpc::ByteBuffer>::
                 Create(
                     channel.get(),
                     grpc::internal::RpcMethod(
                         "/casetrail.v1.CaseLog/Subscribe",
                         grpc::internal::RpcMethod::SERVER_STREAMING, channel),
                     &context));
    grpc::Slice slice(Garbage());
    grpc::ByteBuffer request(&slice, 1);
    call->Write(request);
    call->WritesDone();
    grpc::ByteBuffer response;
    EXPECT_FALSE(call->Read(&response));
    const grpc::Status status = call->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << ToString(status);
    EXPECT_EQ(status.error_message(),
              "the request is not a casetrail.v1.SubscribeRequest: its bytes "
              "do not parse as that message");
  }
  EXPECT_EQ(LogSize(), before);
}

}  // namespace
}  // namespace casetrail
