// SubscriberWaits on a real EventStore: a parked wait wakes when the log grows
// or at Stop(); after Stop() nothing parks, so a subscription that was about to
// park when the server began stopping ends at once (it used to park after the
// wake-up and wait out the 10 s shutdown deadline).

#include "services/internal/subscriber_waits.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "eventstore/event_store.h"
#include "gtest/gtest.h"
#include "tests/testing/event_store_fixture.h"

namespace casetrail::services {
namespace {

using casetrail::testing::EventStoreTest;
using eventstore::ExpectedVersion;

// Bounds a failing test only; a passing one never waits this long.
constexpr absl::Duration kPatience = absl::Seconds(10);

class SubscriberWaitsTest : public EventStoreTest {};

TEST_F(SubscriberWaitsTest, AParkedWaitWakesWhenTheLogGrows) {
  SubscriberWaits waits(store_.get());
  absl::Notification woken;
  absl::StatusOr<eventstore::EventStore::NotificationId> parked =
      waits.Park(store_->LogSize(), [&] { woken.Notify(); });
  ASSERT_TRUE(parked.ok()) << parked.status();
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e1"}).ok());
  EXPECT_TRUE(woken.WaitForNotificationWithTimeout(kPatience));
  // It has run, so it cannot be cancelled.
  EXPECT_FALSE(waits.Cancel(*parked));
}

TEST_F(SubscriberWaitsTest, StopWakesParkedWaits) {
  SubscriberWaits waits(store_.get());
  absl::Notification woken;
  ASSERT_TRUE(waits.Park(store_->LogSize(), [&] { woken.Notify(); }).ok());
  EXPECT_FALSE(waits.stopped());
  waits.Stop();
  EXPECT_TRUE(waits.stopped());
  EXPECT_TRUE(woken.WaitForNotificationWithTimeout(kPatience));
  waits.Stop();  // idempotent
}

// Regression: the wait a subscription registers just after StopSubscriptions
// is refused at once instead of parking until the shutdown deadline.
TEST_F(SubscriberWaitsTest, ParkAfterStopIsRefusedAtOnce) {
  SubscriberWaits waits(store_.get());
  waits.Stop();
  std::atomic<bool> ran{false};
  absl::StatusOr<eventstore::EventStore::NotificationId> parked =
      waits.Park(store_->LogSize(), [&] { ran = true; });
  EXPECT_EQ(parked.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(parked.status().message(), "server is shutting down");
  // Nothing was left in the store: when the log grows, a waiter registered
  // afterwards runs, and the refused one (which would have run first) has not.
  absl::Notification later;
  store_->NotifyWhenLogGrows(store_->LogSize(), [&] { later.Notify(); });
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e1"}).ok());
  ASSERT_TRUE(later.WaitForNotificationWithTimeout(kPatience));
  EXPECT_FALSE(ran);
}

// Many subscriptions parking while the server stops: each is either refused
// or woken; none is left parked.
TEST_F(SubscriberWaitsTest, EveryWaitParkedAroundStopIsWokenOrRefused) {
  SubscriberWaits waits(store_.get());
  constexpr int kThreads = 8;
  constexpr int kParksPerThread = 200;
  absl::Mutex mu;
  int parked = 0;
  int woken = 0;
  int refused = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kParksPerThread; ++i) {
        auto id = waits.Park(store_->LogSize(), [&] {
          absl::MutexLock l(&mu);
          ++woken;
        });
        absl::MutexLock l(&mu);
        ++(id.ok() ? parked : refused);
      }
    });
  }
  {
    // Stop while the threads are parking.
    absl::MutexLock l(&mu);
    auto some_parked = [&] { return parked >= kThreads; };
    mu.AwaitWithTimeout(absl::Condition(&some_parked), kPatience);
  }
  waits.Stop();
  for (std::thread& thread : threads) thread.join();
  absl::MutexLock l(&mu);
  EXPECT_EQ(parked + refused, kThreads * kParksPerThread);
  auto all_woken = [&] { return woken == parked; };
  EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all_woken), kPatience))
      << woken << " of " << parked << " parked waits woken; " << refused
      << " refused";
}

}  // namespace
}  // namespace casetrail::services
