// WorkerPool: work runs on the pool's threads, never the caller's; one thread
// runs it in order of arrival; several threads run work side by side;
// queued() counts work not yet started; and the destructor runs every piece of
// work already queued (including work scheduled by work) before it joins.

#include "services/worker_pool.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace casetrail::services {
namespace {

// Bounds a failing test only; a passing one never waits this long.
constexpr absl::Duration kPatience = absl::Seconds(10);

TEST(WorkerPoolTest, ScheduledWorkRunsOnAPoolThreadNotTheCallers) {
  WorkerPool pool(2);
  std::thread::id ran_on;
  absl::Notification ran;
  pool.Schedule([&] {
    ran_on = std::this_thread::get_id();
    ran.Notify();
  });
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(kPatience));
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_NE(ran_on, std::thread::id());
}

TEST(WorkerPoolTest, OneThreadRunsWorkInOrderOfArrival) {
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  {
    WorkerPool pool(1);
    for (int i = 0; i < 200; ++i) {
      // Only the pool's one thread touches `order`; the destructor's join
      // publishes it to this thread.
      pool.Schedule([&order, &threads, i] {
        order.push_back(i);
        threads.push_back(std::this_thread::get_id());
      });
    }
  }
  ASSERT_EQ(order.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(order[i], i);
  for (const std::thread::id& id : threads) EXPECT_EQ(id, threads.front());
}

TEST(WorkerPoolTest, TwoThreadsRunWorkSideBySide) {
  WorkerPool pool(2);
  absl::Notification second_ran;
  absl::Notification first_saw_second;
  // The first piece of work waits for the second: one thread could not run
  // both.
  pool.Schedule([&] {
    if (second_ran.WaitForNotificationWithTimeout(kPatience)) {
      first_saw_second.Notify();
    }
  });
  pool.Schedule([&] { second_ran.Notify(); });
  EXPECT_TRUE(first_saw_second.WaitForNotificationWithTimeout(kPatience));
}

TEST(WorkerPoolTest, QueuedCountsWorkNotYetStarted) {
  WorkerPool pool(1);
  absl::Notification started;
  absl::Notification release;
  absl::Notification last_started;
  EXPECT_EQ(pool.queued(), 0u);
  pool.Schedule([&] {
    started.Notify();
    release.WaitForNotification();
  });
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(kPatience));
  // The pool's one thread is busy: the rest waits.
  pool.Schedule([] {});
  pool.Schedule([] {});
  pool.Schedule([&] { last_started.Notify(); });
  EXPECT_EQ(pool.queued(), 3u);
  release.Notify();
  ASSERT_TRUE(last_started.WaitForNotificationWithTimeout(kPatience));
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(WorkerPoolTest, DestructorRunsQueuedWorkThenJoins) {
  auto pool = std::make_unique<WorkerPool>(1);
  absl::Notification started;
  absl::Notification release;
  std::atomic<int> ran{0};
  pool->Schedule([&] {
    started.Notify();
    release.WaitForNotification();
  });
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(kPatience));
  for (int i = 0; i < 10; ++i) pool->Schedule([&ran] { ++ran; });
  ASSERT_EQ(pool->queued(), 10u);
  // Destroy the pool while its thread is busy and ten pieces of work wait;
  // the pause only lets the destructor begin first, nothing is timed.
  std::thread destroyer([&pool] { pool.reset(); });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(ran.load(), 0);
  release.Notify();
  destroyer.join();
  EXPECT_EQ(ran.load(), 10);
}

TEST(WorkerPoolTest, WorkScheduledByWorkRunsBeforeTheDestructorReturns) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(2);
    for (int i = 0; i < 20; ++i) {
      pool.Schedule([&pool, &ran] {
        ++ran;
        pool.Schedule([&ran] { ++ran; });
      });
    }
  }
  EXPECT_EQ(ran.load(), 40);
}

TEST(WorkerPoolTest, ManyThreadsMayScheduleAtOnce) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(2);
    std::vector<std::thread> schedulers;
    for (int t = 0; t < 4; ++t) {
      schedulers.emplace_back([&pool, &ran] {
        for (int i = 0; i < 250; ++i) pool.Schedule([&ran] { ++ran; });
      });
    }
    for (std::thread& t : schedulers) t.join();
  }
  EXPECT_EQ(ran.load(), 1000);
}

}  // namespace
}  // namespace casetrail::services
