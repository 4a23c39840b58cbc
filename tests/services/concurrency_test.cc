// Many clients racing through the real casetraild: optimistic concurrency on
// one stream, and dense positions under load on many streams.

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
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
using casetrail::testing::ToString;
using casetrail::v1::AppendEventsResponse;
using casetrail::v1::CaseEvent;
using casetrail::v1::ExpectedVersion;
using casetrail::v1::RecordedEvent;

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(dir_.path());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<CaseLogClient>(server_->address());
    ASSERT_TRUE(client_->WaitForConnected()) << server_->StderrText();
  }

  void TearDown() override {
    client_.reset();
    if (server_ != nullptr) {
      EXPECT_EQ(server_->Stop(), 0) << server_->StderrText();
    }
  }

  casetrail::testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<CaseLogClient> client_;
};

TEST_F(ConcurrencyTest, ExactAppendsRacingOnOneStreamHaveOneWinnerPerVersion) {
  constexpr int kThreads = 32;
  constexpr uint64_t kVersions = 300;
  const std::string stream = "contested-case";

  absl::Mutex mu;
  std::map<uint64_t, std::string> winners;  // stream version -> event id
  std::atomic<int> wins{0}, aborted{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int attempt = 0; failures.load() == 0; ++attempt) {
        absl::StatusOr<uint64_t> head = client_->StreamVersion(stream);
        if (!head.ok()) {
          ADD_FAILURE() << head.status();
          ++failures;
          return;
        }
        if (*head >= kVersions) return;
        const std::string id = absl::StrCat("t", t, "-", attempt);
        AppendEventsResponse response;
        grpc::Status status = client_->Append(
            MakeAppendRequest(stream, ExpectedVersion::KIND_EXACT,
                              {MakeCaseEvent(id, "CaseNoteAdded")}, *head),
            &response);
        if (status.ok()) {
          ++wins;
          absl::MutexLock l(&mu);
          if (response.stream_version() != *head + 1 ||
              response.events_size() != 1 ||
              !winners.emplace(response.stream_version(), id).second) {
            ADD_FAILURE() << "append at head " << *head << " won version "
                          << response.stream_version()
                          << (winners.count(response.stream_version())
                                  ? " which already had a winner"
                                  : "");
            ++failures;
          }
        } else if (status.error_code() == grpc::StatusCode::ABORTED) {
          ++aborted;
        } else {
          ADD_FAILURE() << ToString(status);
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);

  EXPECT_EQ(wins.load(), static_cast<int>(kVersions));
  ASSERT_EQ(winners.size(), kVersions);
  EXPECT_GT(aborted.load(), 0) << "the threads never raced";
  absl::StatusOr<std::vector<RecordedEvent>> events =
      client_->ReadWholeStream(stream);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), kVersions);
  std::set<std::string> ids;
  for (size_t i = 0; i < events->size(); ++i) {
    const RecordedEvent& e = (*events)[i];
    EXPECT_EQ(e.stream_version(), i + 1);
    EXPECT_EQ(e.event().event_id(), winners[i + 1]) << "version " << i + 1;
    EXPECT_TRUE(ids.insert(e.event().event_id()).second)
        << e.event().event_id() << " twice";
  }
  EXPECT_EQ(client_->LogSize().value_or(0), kVersions);
  std::printf("%d appends won, %d lost the race (ABORTED)\n", wins.load(),
              aborted.load());
}

TEST_F(ConcurrencyTest, ManyClientsOnManyStreamsGetDensePositions) {
  constexpr int kThreads = 16;
  constexpr int kAppendsPerThread = 60;
  absl::Mutex mu;
  std::map<std::string, uint64_t> acknowledged;  // event id -> position
  std::map<std::string, std::string> stream_of;  // event id -> stream
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int a = 0; a < kAppendsPerThread && failures.load() == 0; ++a) {
        const std::string stream = absl::StrCat("case-", t % 4, "-", a % 10);
        std::vector<CaseEvent> events;
        for (int e = 0; e <= a % 4; ++e) {
          events.push_back(
              MakeCaseEvent(absl::StrCat("t", t, "-a", a, "-e", e)));
        }
        AppendEventsResponse response;
        grpc::Status status = client_->Append(
            MakeAppendRequest(stream, ExpectedVersion::KIND_ANY, events),
            &response);
        if (!status.ok() ||
            response.events_size() != static_cast<int>(events.size())) {
          ADD_FAILURE() << ToString(status);
          ++failures;
          return;
        }
        absl::MutexLock l(&mu);
        for (int e = 0; e < response.events_size(); ++e) {
          // An append's events are consecutive.
          EXPECT_EQ(response.events(e).position(),
                    response.events(0).position() + e);
          acknowledged[response.events(e).event_id()] =
              response.events(e).position();
          stream_of[response.events(e).event_id()] = stream;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);

  std::set<uint64_t> positions;
  for (const auto& [id, position] : acknowledged) positions.insert(position);
  ASSERT_EQ(positions.size(), acknowledged.size()) << "a position twice";
  EXPECT_EQ(*positions.begin(), 0u);
  EXPECT_EQ(*positions.rbegin(), acknowledged.size() - 1);

  absl::StatusOr<std::vector<RecordedEvent>> log = client_->ReadWholeLog();
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->size(), acknowledged.size());
  std::map<std::string, uint64_t> next_version;
  for (size_t i = 0; i < log->size(); ++i) {
    const RecordedEvent& e = (*log)[i];
    EXPECT_EQ(e.position(), i);
    EXPECT_EQ(acknowledged.at(e.event().event_id()), i);
    EXPECT_EQ(e.event().stream_id(), stream_of.at(e.event().event_id()));
    EXPECT_EQ(e.stream_version(), ++next_version[e.event().stream_id()]);
  }
}

}  // namespace
}  // namespace casetrail
