// kill -9 of the real casetraild while clients append, over and over on one
// data directory. After every restart: every acknowledged event is where the
// acknowledgement said, with the bytes that were sent; the log is dense; and
// every append that was not acknowledged is wholly present or wholly absent.

#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/message_differencer.h"
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
using casetrail::v1::AppendEventsResponse;
using casetrail::v1::CaseEvent;
using casetrail::v1::ExpectedVersion;
using casetrail::v1::RecordedEvent;
using google::protobuf::util::MessageDifferencer;

constexpr int kRounds = 20;
constexpr int kClientThreads = 4;
// Each round appends for a random time in this range before the kill.
constexpr int kMinAppendMillis = 300;
constexpr int kMaxAppendMillis = 900;

// One append a client sent, and what became of it.
struct SentAppend {
  std::string stream;
  std::vector<CaseEvent> events;
  bool acknowledged = false;
  AppendEventsResponse response;  // when acknowledged
};

// `sent` as the server stores it: stream_id set, schema_version 0 made 1.
CaseEvent Normalised(CaseEvent sent, const std::string& stream_id) {
  sent.set_stream_id(stream_id);
  if (sent.schema_version() == 0) sent.set_schema_version(1);
  return sent;
}

// Appends to its own stream until an append fails (the server was killed).
void AppendUntilKilled(CaseLogClient& client, int round, int thread,
                       std::vector<SentAppend>& sent) {
  std::mt19937 rng(round * 1000 + thread);
  const std::string stream = absl::StrCat("crash-r", round, "-t", thread);
  for (int a = 0;; ++a) {
    SentAppend append;
    append.stream = stream;
    const int events = (a % 3 == 2) ? 5 : 1;
    for (int e = 0; e < events; ++e) {
      std::string payload(16 + rng() % 200, '\0');
      for (char& c : payload) c = static_cast<char>(rng());
      append.events.push_back(MakeCaseEvent(
          absl::StrCat("r", round, "-t", thread, "-a", a, "-e", e),
          events == 1 ? "CaseNoteAdded" : "AssessmentRecorded", payload));
    }
    grpc::Status status = client.Append(
        MakeAppendRequest(stream, ExpectedVersion::KIND_ANY, append.events),
        &append.response, absl::Seconds(10));
    append.acknowledged = status.ok();
    sent.push_back(std::move(append));
    if (!status.ok()) return;
  }
}

class CrashTest : public ::testing::Test {
 protected:
  void StartServer() {
    client_.reset();
    auto server = ServerProcess::Start(dir_.path());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<CaseLogClient>(server_->address());
    ASSERT_TRUE(client_->WaitForConnected()) << server_->StderrText();
  }

  // Checks the log against everything sent so far.
  void VerifyLog(int round) {
    SCOPED_TRACE(absl::StrCat("after round ", round));
    unacknowledged_present_ = 0;
    absl::StatusOr<std::vector<RecordedEvent>> log = client_->ReadWholeLog();
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ(client_->LogSize().value_or(0), log->size());
    EXPECT_NE(server_->StderrText().find(
                  absl::StrCat("log size ", log->size(), " events")),
              std::string::npos)
        << server_->StderrText();

    std::map<std::string, const RecordedEvent*> by_id;
    for (size_t i = 0; i < log->size(); ++i) {
      const RecordedEvent& e = (*log)[i];
      ASSERT_EQ(e.position(), i) << "the log is not dense";
      ASSERT_TRUE(by_id.emplace(e.event().event_id(), &e).second)
          << e.event().event_id() << " is in the log twice";
    }

    size_t acknowledged_events = 0;
    for (const SentAppend& append : sent_) {
      std::vector<const RecordedEvent*> found;
      for (const CaseEvent& e : append.events) {
        auto it = by_id.find(e.event_id());
        if (it != by_id.end()) found.push_back(it->second);
      }
      if (append.acknowledged) {
        ASSERT_EQ(found.size(), append.events.size())
            << "acknowledged append to " << append.stream << " starting with "
            << append.events[0].event_id() << " is missing events";
        acknowledged_events += found.size();
        for (size_t i = 0; i < found.size(); ++i) {
          const auto& ack = append.response.events(i);
          EXPECT_EQ(found[i]->position(), ack.position());
          EXPECT_EQ(found[i]->stream_version(), ack.stream_version());
          EXPECT_EQ(found[i]->recorded_at().seconds(),
                    ack.recorded_at().seconds());
          EXPECT_EQ(found[i]->recorded_at().nanos(), ack.recorded_at().nanos());
          EXPECT_TRUE(MessageDifferencer::Equals(
              found[i]->event(), Normalised(append.events[i], append.stream)))
              << append.events[i].event_id() << " was stored differently";
        }
        continue;
      }
      // Not acknowledged: all or nothing, and if all, as one append.
      if (found.empty()) continue;
      ++unacknowledged_present_;
      ASSERT_EQ(found.size(), append.events.size())
          << "unacknowledged append starting with "
          << append.events[0].event_id() << " is partly in the log";
      for (size_t i = 0; i < found.size(); ++i) {
        EXPECT_EQ(found[i]->position(), found[0]->position() + i);
        EXPECT_EQ(found[i]->stream_version(), found[0]->stream_version() + i);
        EXPECT_TRUE(MessageDifferencer::Equals(
            found[i]->event(), Normalised(append.events[i], append.stream)));
      }
    }
    EXPECT_GE(log->size(), acknowledged_events);
    // Nothing but what was sent.
    size_t sent_present = 0;
    for (const SentAppend& append : sent_) {
      for (const CaseEvent& e : append.events) {
        sent_present += by_id.count(e.event_id());
      }
    }
    EXPECT_EQ(sent_present, log->size());

    // Every stream is dense from version 1.
    std::set<std::string> streams;
    for (const SentAppend& append : sent_) streams.insert(append.stream);
    for (const std::string& stream : streams) {
      absl::StatusOr<std::vector<RecordedEvent>> events =
          client_->ReadWholeStream(stream);
      ASSERT_TRUE(events.ok()) << events.status();
      for (size_t i = 0; i < events->size(); ++i) {
        ASSERT_EQ((*events)[i].stream_version(), i + 1) << stream;
      }
    }
  }

  casetrail::testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<CaseLogClient> client_;
  std::vector<SentAppend> sent_;
  // Appends recorded although their acknowledgement was lost in the kill.
  int unacknowledged_present_ = 0;
};

TEST_F(CrashTest, AcknowledgedAppendsSurviveKillNine) {
  std::mt19937 rng(20240301);
  StartServer();
  int in_flight_at_kill = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::vector<SentAppend>> sent(kClientThreads);
    std::vector<std::thread> clients;
    for (int t = 0; t < kClientThreads; ++t) {
      clients.emplace_back(
          [&, t] { AppendUntilKilled(*client_, round, t, sent[t]); });
    }
    absl::SleepFor(absl::Milliseconds(
        kMinAppendMillis + rng() % (kMaxAppendMillis - kMinAppendMillis)));
    EXPECT_EQ(server_->Kill(), 128 + SIGKILL);
    for (std::thread& c : clients) c.join();
    for (std::vector<SentAppend>& s : sent) {
      for (SentAppend& append : s) {
        if (!append.acknowledged) ++in_flight_at_kill;
        sent_.push_back(std::move(append));
      }
    }

    StartServer();
    VerifyLog(round);
    if (HasFatalFailure()) return;
  }
  size_t acknowledged = 0;
  for (const SentAppend& append : sent_) acknowledged += append.acknowledged;
  std::printf(
      "%d rounds: %zu appends acknowledged; of the %d cut off by a kill, %d "
      "were recorded\n",
      kRounds, acknowledged, in_flight_at_kill, unacknowledged_present_);
  EXPECT_GT(acknowledged, 0u);
  client_.reset();  // so that the graceful stop need not wait for it
  EXPECT_EQ(server_->Stop(), 0) << server_->StderrText();
}

}  // namespace
}  // namespace casetrail
