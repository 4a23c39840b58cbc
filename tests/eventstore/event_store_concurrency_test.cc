// EventStore under concurrent appends, and its log-growth notifications.

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "eventstore/event_store.h"
#include "gtest/gtest.h"
#include "tests/testing/case_events.h"
#include "tests/testing/event_store_fixture.h"

namespace casetrail::eventstore {
namespace {

using casetrail::testing::EventStoreTest;
using casetrail::testing::MakeProposedEvent;
using casetrail::testing::MakeStoreAppend;
using casetrail::testing::Positions;
using casetrail::testing::StoreEvents;
using casetrail::v1::RecordedEvent;

TEST_F(EventStoreTest, DuplicatesQueuedTogetherAreResolvedInOrder) {
  // Queue everything before waiting, so that originals, conflicts and retries
  // share commit groups.
  constexpr int kIds = 50;
  struct Outcome {
    absl::StatusOr<AppendResult> original, conflict, retry;
  };
  std::vector<Outcome> outcomes(kIds);
  absl::BlockingCounter done(3 * kIds);
  for (int i = 0; i < kIds; ++i) {
    const std::string id = absl::StrCat("e", i);
    const std::string stream = absl::StrCat("case-", i % 7);
    auto request = [&](const std::string& payload) {
      return MakeStoreAppend(
          stream, ExpectedVersion::Any(),
          {MakeProposedEvent(stream, id, "ContactReceived", payload)});
    };
    store_->AppendAsync(request("original"), [&, i](auto r) {
      outcomes[i].original = std::move(r);
      done.DecrementCount();
    });
    store_->AppendAsync(request("conflict"), [&, i](auto r) {
      outcomes[i].conflict = std::move(r);
      done.DecrementCount();
    });
    store_->AppendAsync(request("original"), [&, i](auto r) {
      outcomes[i].retry = std::move(r);
      done.DecrementCount();
    });
  }
  done.Wait();
  std::set<uint64_t> positions;
  for (int i = 0; i < kIds; ++i) {
    const Outcome& o = outcomes[i];
    ASSERT_TRUE(o.original.ok()) << o.original.status();
    EXPECT_FALSE(o.original->deduplicated);
    EXPECT_EQ(o.conflict.status().code(), absl::StatusCode::kAlreadyExists)
        << o.conflict.status();
    ASSERT_TRUE(o.retry.ok()) << o.retry.status();
    EXPECT_TRUE(o.retry->deduplicated);
    EXPECT_EQ(Positions(*o.retry), Positions(*o.original));
    positions.insert(o.original->events[0].position);
  }
  EXPECT_EQ(positions.size(), static_cast<size_t>(kIds));
  EXPECT_EQ(store_->LogSize(), static_cast<uint64_t>(kIds));
  EXPECT_EQ(*positions.rbegin(), kIds - 1u);
}

TEST_F(EventStoreTest, MultiEventAppendsGetConsecutivePositions) {
  constexpr int kThreads = 8;
  constexpr int kAppendsPerThread = 20;
  constexpr int kEventsPerAppend = 5;
  std::vector<std::vector<AppendResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int a = 0; a < kAppendsPerThread; ++a) {
        std::vector<std::string> ids;
        for (int e = 0; e < kEventsPerAppend; ++e) {
          ids.push_back(absl::StrCat("t", t, "-a", a, "-e", e));
        }
        // Half the threads share one stream.
        const std::string stream =
            t % 2 == 0 ? "shared" : absl::StrCat("own-", t);
        absl::StatusOr<AppendResult> r =
            Append(stream, ExpectedVersion::Any(), ids);
        ASSERT_TRUE(r.ok()) << r.status();
        results[t].push_back(*std::move(r));
      }
    });
  }
  for (std::thread& t : threads) t.join();

  const std::vector<RecordedEvent> log = ReadAll();
  ASSERT_EQ(log.size(), static_cast<size_t>(kThreads * kAppendsPerThread *
                                            kEventsPerAppend));
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), static_cast<size_t>(kAppendsPerThread));
    for (int a = 0; a < kAppendsPerThread; ++a) {
      const AppendResult& r = results[t][a];
      for (int e = 0; e < kEventsPerAppend; ++e) {
        EXPECT_EQ(r.events[e].position, r.events[0].position + e);
        EXPECT_EQ(r.events[e].stream_version, r.events[0].stream_version + e);
        const RecordedEvent& stored = log[r.events[e].position];
        EXPECT_EQ(stored.event().event_id(),
                  absl::StrCat("t", t, "-a", a, "-e", e));
        EXPECT_EQ(stored.stream_version(), r.events[e].stream_version);
      }
    }
  }
  uint64_t shared_version = 0;
  const std::vector<RecordedEvent> shared =
      ReadStream("shared", 0, false, 10000, &shared_version);
  EXPECT_EQ(shared_version, shared.size());
  for (size_t i = 0; i < shared.size(); ++i) {
    EXPECT_EQ(shared[i].stream_version(), i + 1);
  }
}

TEST_F(EventStoreTest, ConcurrentExactAppendsHaveOneWinnerPerVersion) {
  constexpr int kThreads = 32;
  constexpr uint64_t kVersions = 150;
  absl::Mutex mu;
  std::map<uint64_t, std::string> winners;  // version -> event id
  std::atomic<int> aborted{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int attempt = 0;; ++attempt) {
        StreamRead read;
        read.stream_id = "contested";
        read.backwards = true;
        read.limit = 1;
        absl::StatusOr<StreamSlice> head = store_->ReadStream(read);
        if (!head.ok()) {
          ++unexpected;
          return;
        }
        if (head->stream_version >= kVersions) return;
        const std::string id = absl::StrCat("t", t, "-", attempt);
        absl::Notification done;
        absl::StatusOr<AppendResult> result;
        store_->AppendAsync(
            MakeStoreAppend("contested",
                            ExpectedVersion::Exact(head->stream_version),
                            StoreEvents("contested", {id})),
            [&](absl::StatusOr<AppendResult> r) {
              result = std::move(r);
              done.Notify();
            });
        done.WaitForNotification();
        if (result.ok()) {
          absl::MutexLock l(&mu);
          if (!winners.emplace(result->stream_version, id).second) {
            ++unexpected;  // two winners for one version
          }
          if (result->stream_version != head->stream_version + 1) ++unexpected;
        } else if (result.status().code() == absl::StatusCode::kAborted) {
          ++aborted;
        } else {
          ADD_FAILURE() << result.status();
          ++unexpected;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(unexpected.load(), 0);
  ASSERT_EQ(winners.size(), kVersions);
  EXPECT_EQ(winners.begin()->first, 1u);
  EXPECT_EQ(winners.rbegin()->first, kVersions);
  uint64_t version = 0;
  const std::vector<RecordedEvent> stream =
      ReadStream("contested", 0, false, 10000, &version);
  EXPECT_EQ(version, kVersions);
  ASSERT_EQ(stream.size(), kVersions);
  std::set<std::string> ids;
  for (size_t i = 0; i < stream.size(); ++i) {
    EXPECT_EQ(stream[i].stream_version(), i + 1);
    EXPECT_EQ(stream[i].event().event_id(), winners[i + 1]);
    ids.insert(stream[i].event().event_id());
  }
  EXPECT_EQ(ids.size(), kVersions);
  EXPECT_EQ(store_->LogSize(), kVersions);
  // With 32 racers, most attempts lose.
  EXPECT_GT(aborted.load(), 0);
}

TEST_F(EventStoreTest, ManyThreadsOnManyStreamsGetDensePositions) {
  constexpr int kThreads = 16;
  constexpr int kAppendsPerThread = 40;
  absl::Mutex mu;
  std::map<std::string, uint64_t> acknowledged;  // event id -> position
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int a = 0; a < kAppendsPerThread; ++a) {
        const std::string stream = absl::StrCat("case-", (t * 7 + a) % 23);
        std::vector<std::string> ids;
        for (int e = 0; e <= a % 3; ++e) {
          ids.push_back(absl::StrCat("t", t, "-a", a, "-e", e));
        }
        absl::StatusOr<AppendResult> r =
            Append(stream, ExpectedVersion::Any(), ids);
        ASSERT_TRUE(r.ok()) << r.status();
        absl::MutexLock l(&mu);
        for (size_t i = 0; i < ids.size(); ++i) {
          acknowledged[ids[i]] = r->events[i].position;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();

  const std::vector<RecordedEvent> log = ReadAll();
  ASSERT_EQ(log.size(), acknowledged.size());
  EXPECT_EQ(store_->LogSize(), log.size());
  std::set<uint64_t> positions;
  for (const auto& [id, position] : acknowledged) positions.insert(position);
  ASSERT_EQ(positions.size(), acknowledged.size()) << "a position twice";
  EXPECT_EQ(*positions.begin(), 0u);
  EXPECT_EQ(*positions.rbegin(), acknowledged.size() - 1);
  std::map<std::string, uint64_t> next_version;
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].position(), i);
    EXPECT_EQ(acknowledged.at(log[i].event().event_id()), i);
    EXPECT_EQ(log[i].stream_version(),
              ++next_version[log[i].event().stream_id()]);
  }
}

TEST_F(EventStoreTest, NotifyWhenLogGrowsFiresAfterAnAppend) {
  absl::Notification grew;
  store_->NotifyWhenLogGrows(0, [&] { grew.Notify(); });
  EXPECT_FALSE(grew.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e1"}).ok());
  EXPECT_TRUE(grew.WaitForNotificationWithTimeout(absl::Seconds(30)));

  // A size that is already exceeded fires without another append.
  absl::Notification already;
  store_->NotifyWhenLogGrows(0, [&] { already.Notify(); });
  EXPECT_TRUE(already.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST_F(EventStoreTest, CancelledNotificationDoesNotRun) {
  std::atomic<int> cancelled_runs{0};
  const EventStore::NotificationId cancelled =
      store_->NotifyWhenLogGrows(0, [&] { ++cancelled_runs; });
  EXPECT_TRUE(store_->CancelNotification(cancelled));
  EXPECT_FALSE(store_->CancelNotification(cancelled));

  absl::Notification later;
  const EventStore::NotificationId kept =
      store_->NotifyWhenLogGrows(0, [&] { later.Notify(); });
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e1"}).ok());
  // Callbacks run in turn on the notifier thread; once `later` ran, a
  // cancelled callback that was going to run would have.
  ASSERT_TRUE(later.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(cancelled_runs.load(), 0);
  EXPECT_FALSE(store_->CancelNotification(kept));  // it has run
}

TEST_F(EventStoreTest, WakeAllWaitersRunsPendingCallbacks) {
  absl::Notification woken;
  store_->NotifyWhenLogGrows(0, [&] { woken.Notify(); });
  store_->WakeAllWaiters();
  EXPECT_TRUE(woken.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(store_->LogSize(), 0u);
}

TEST_F(EventStoreTest, CloseRunsPendingNotifications) {
  absl::Notification woken;
  std::atomic<bool> saw_closing{false};
  store_->NotifyWhenLogGrows(0, [&] {
    saw_closing = store_->closing();
    woken.Notify();
  });
  store_->Close();
  EXPECT_TRUE(woken.HasBeenNotified());
  EXPECT_TRUE(saw_closing.load());
}

}  // namespace
}  // namespace casetrail::eventstore
