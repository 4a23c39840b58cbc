// Read pages bounded by bytes as well as count (issue 14), through the real
// casetraild started with --max_message_bytes=1 MiB: 1,000 events of about
// 9,000 bytes each (9 MB in all) are read page by page by ReadLog (limit
// 2^32-1), ReadCaseStream (forwards and backwards) and Subscribe from 0,
// never RESOURCE_EXHAUSTED, every event exactly once.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/testing/case_events.h"
#include "tests/testing/case_log_client.h"
#include "tests/testing/server_process.h"

namespace casetrail {
namespace {

using casetrail::testing::CaseLogClient;
using casetrail::testing::MakeAppendRequest;
using casetrail::testing::MakeCaseEvent;
using casetrail::testing::ServerProcess;
using casetrail::testing::TempDir;
using casetrail::testing::ToString;
using casetrail::v1::ExpectedVersion;
using casetrail::v1::RecordedEvent;
using ::testing::HasSubstr;

constexpr int kMaxMessageBytes = 1 << 20;
constexpr uint64_t kEvents = 1000;
constexpr int kEventsPerAppend = 50;
constexpr char kCase[] = "case-pages";

class CaseLogReadPagesTest : public ::testing::Test {
 protected:
  // One server and one log for the suite: appending 9 MB takes a while.
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ServerProcess::Options options;
    options.data_dir = dir_->path();
    options.extra_flags = {
        absl::StrCat("--max_message_bytes=", kMaxMessageBytes),
        "--max_append_bytes=524288"};
    auto server = ServerProcess::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    client_ = new CaseLogClient(server_->address());
    ASSERT_TRUE(client_->WaitForConnected()) << server_->StderrText();
    const std::string concern(9000, 'c');
    for (uint64_t i = 0; i < kEvents; i += kEventsPerAppend) {
      std::vector<v1::CaseEvent> events;
      for (uint64_t j = i; j < i + kEventsPerAppend; ++j) {
        events.push_back(
            MakeCaseEvent(absl::StrCat("page-", j), "CaseNoteRecorded",
                          absl::StrCat(R"({"concern": ")", concern, R"("})")));
      }
      v1::AppendEventsResponse response;
      grpc::Status status = client_->Append(
          MakeAppendRequest(kCase, ExpectedVersion::KIND_ANY, events),
          &response);
      ASSERT_TRUE(status.ok()) << ToString(status);
    }
  }

  static void TearDownTestSuite() {
    delete client_;
    client_ = nullptr;
    if (server_ != nullptr) server_->Stop();
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(client_, nullptr);
    ASSERT_NE(server_, nullptr);
  }

  // Every event appears once, at its own position and version.
  static void ExpectEveryEventOnce(const std::vector<RecordedEvent>& events,
                                   bool backwards = false) {
    ASSERT_EQ(events.size(), kEvents);
    for (uint64_t i = 0; i < kEvents; ++i) {
      const uint64_t n = backwards ? kEvents - 1 - i : i;
      EXPECT_EQ(events[i].position(), n);
      EXPECT_EQ(events[i].stream_version(), n + 1);
      EXPECT_EQ(events[i].event().event_id(), absl::StrCat("page-", n));
    }
  }

  static TempDir* dir_;
  static ServerProcess* server_;
  static CaseLogClient* client_;
};

TempDir* CaseLogReadPagesTest::dir_ = nullptr;
ServerProcess* CaseLogReadPagesTest::server_ = nullptr;
CaseLogClient* CaseLogReadPagesTest::client_ = nullptr;

TEST_F(CaseLogReadPagesTest, ReadLogWithTheLargestLimitPagesThroughEveryEvent) {
  std::vector<RecordedEvent> events;
  v1::ReadLogRequest request;
  request.set_limit(4294967295u);
  int pages = 0;
  for (;; ++pages) {
    ASSERT_LT(pages, 1000) << "paging does not end";
    v1::ReadLogResponse response;
    grpc::Status status = client_->ReadLog(request, &response);
    ASSERT_TRUE(status.ok()) << ToString(status);
    ASSERT_FALSE(response.events().empty());
    EXPECT_LE(response.ByteSizeLong(), static_cast<size_t>(kMaxMessageBytes));
    for (const RecordedEvent& e : response.events()) events.push_back(e);
    EXPECT_EQ(response.next_position(), events.back().position() + 1);
    if (response.next_position() >= response.log_size()) break;
    request.set_from_position(response.next_position());
  }
  EXPECT_GT(pages, 5);
  ExpectEveryEventOnce(events);
}

TEST_F(CaseLogReadPagesTest, ReadCaseStreamPagesForwardsThroughEveryEvent) {
  std::vector<RecordedEvent> events;
  v1::ReadCaseStreamRequest request;
  request.set_stream_id(kCase);
  request.set_limit(1000);
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 1000) << "paging does not end";
    v1::ReadCaseStreamResponse response;
    grpc::Status status = client_->ReadStream(request, &response);
    ASSERT_TRUE(status.ok()) << ToString(status);
    ASSERT_FALSE(response.events().empty());
    EXPECT_LT(response.events_size(), 1000);
    EXPECT_LE(response.ByteSizeLong(), static_cast<size_t>(kMaxMessageBytes));
    EXPECT_EQ(response.stream_version(), kEvents);
    for (const RecordedEvent& e : response.events()) events.push_back(e);
    if (response.next_version() == 0) break;
    EXPECT_EQ(response.next_version(), events.back().stream_version() + 1);
    request.set_from_version(response.next_version());
  }
  ExpectEveryEventOnce(events);
}

TEST_F(CaseLogReadPagesTest, ReadCaseStreamPagesBackwardsThroughEveryEvent) {
  std::vector<RecordedEvent> events;
  v1::ReadCaseStreamRequest request;
  request.set_stream_id(kCase);
  request.set_direction(v1::READ_DIRECTION_BACKWARDS);
  request.set_limit(10000);
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 1000) << "paging does not end";
    v1::ReadCaseStreamResponse response;
    grpc::Status status = client_->ReadStream(request, &response);
    ASSERT_TRUE(status.ok()) << ToString(status);
    ASSERT_FALSE(response.events().empty());
    EXPECT_LE(response.ByteSizeLong(), static_cast<size_t>(kMaxMessageBytes));
    for (const RecordedEvent& e : response.events()) events.push_back(e);
    if (response.next_version() == 0) break;
    EXPECT_EQ(response.next_version(), events.back().stream_version() - 1);
    request.set_from_version(response.next_version());
  }
  ExpectEveryEventOnce(events, /*backwards=*/true);
}

TEST_F(CaseLogReadPagesTest, SubscribeFromZeroCatchesUpThroughEveryEvent) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::SubscribeRequest request;
  request.set_from_position(0);
  auto reader = client_->stub().Subscribe(&context, request);
  std::vector<RecordedEvent> events;
  v1::SubscribeResponse message;
  bool caught_up = false;
  while (!caught_up && reader->Read(&message)) {
    EXPECT_LE(message.ByteSizeLong(), static_cast<size_t>(kMaxMessageBytes));
    for (const RecordedEvent& e : message.events()) events.push_back(e);
    if (!message.events().empty()) {
      EXPECT_EQ(message.next_position(), events.back().position() + 1);
    }
    caught_up = message.caught_up();
  }
  if (!caught_up) {
    // The stream ended early: say why (before the fix, RESOURCE_EXHAUSTED).
    FAIL() << ToString(reader->Finish());
  }
  EXPECT_EQ(message.next_position(), kEvents);
  ExpectEveryEventOnce(events);
  context.TryCancel();
  while (reader->Read(&message)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST(CaseLogReadPagesConfigTest, RefusesAnEventLimitThatNoReadPageCouldCarry) {
  TempDir dir;
  ServerProcess::Options options;
  options.data_dir = dir.path();
  options.extra_flags = {"--max_message_bytes=1048576",
                         "--max_append_bytes=524288",
                         "--max_event_bytes=1000000"};
  auto server = ServerProcess::Start(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(server.status().message(), HasSubstr("--max_event_bytes"));
}

}  // namespace
}  // namespace casetrail
