// The Checkpointer on a real EventStore: what Issue() signs and stores, when
// it signs anew (log growth, key change) and when it hands back the stored
// note, lookups by size, damaged stored notes, the interval thread, and
// concurrent issuing while the log grows.

#include "eventstore/checkpointer.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "eventstore/checkpoint.h"
#include "eventstore/clock.h"
#include "eventstore/event_store.h"
#include "eventstore/merkle.h"
#include "eventstore/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/event_store_fixture.h"

namespace casetrail::eventstore {
namespace {

using casetrail::testing::EventStoreTest;
using casetrail::testing::kT0;
using casetrail::testing::ManualClock;
using ::testing::HasSubstr;

constexpr char kOrigin[] = "test.example/log";

NoteSigner NewSigner() {
  absl::StatusOr<NoteSigner> signer = NoteSigner::Generate(kOrigin);
  EXPECT_TRUE(signer.ok()) << signer.status();
  return *std::move(signer);
}

// Moves on by a second on every reading, so that two signatures at the same
// size can never produce the same note: equal notes mean one signature.
class TickingClock : public Clock {
 public:
  absl::Time Now() override {
    return kT0 + absl::Seconds(ticks_.fetch_add(1, std::memory_order_relaxed));
  }

 private:
  std::atomic<int64_t> ticks_{0};
};

class CheckpointerTest : public EventStoreTest {
 protected:
  // Appends `n` events to stream "case-1", ids "<prefix><i>".
  void AppendN(int n, const std::string& prefix) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back(absl::StrCat(prefix, i));
    absl::StatusOr<AppendResult> result =
        Append("case-1", ExpectedVersion::Any(), ids);
    ASSERT_TRUE(result.ok()) << result.status();
  }

  // Checks that `issued` is a checkpoint of this store signed by `verifier`:
  // the note opens to exactly the struct, whose root is the store's.
  void ExpectValid(const IssuedCheckpoint& issued,
                   const NoteVerifier& verifier) {
    absl::StatusOr<Checkpoint> opened = OpenCheckpoint(issued.note, verifier);
    ASSERT_TRUE(opened.ok()) << opened.status() << "\n" << issued.note;
    EXPECT_EQ(*opened, issued.checkpoint);
    EXPECT_EQ(opened->origin, verifier.name());
    absl::StatusOr<MerkleHash> root = store_->RootHash(opened->tree_size);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(ToHex(opened->root), ToHex(*root))
        << "at tree size " << opened->tree_size;
  }

  // A checkpointer of this store with a new key.
  std::unique_ptr<Checkpointer> NewCheckpointer(Clock* clock) {
    absl::StatusOr<std::unique_ptr<Checkpointer>> checkpointer =
        Checkpointer::Create(store_.get(), NewSigner(), clock);
    EXPECT_TRUE(checkpointer.ok()) << checkpointer.status();
    return checkpointer.ok() ? *std::move(checkpointer) : nullptr;
  }

  ManualClock clock_{kT0 + absl::Milliseconds(750)};
};

// Regression: the constructor dereferenced the unchecked parse of the signer's
// verifier key. The only signer without a usable one is a signer whose
// contents were moved out (its name is then empty).
TEST_F(CheckpointerTest, CreateRefusesASignerWithoutAUsableVerifierKey) {
  NoteSigner signer = NewSigner();
  NoteSigner kept = std::move(signer);
  ASSERT_TRUE(signer.name().empty())  // NOLINT(bugprone-use-after-move)
      << "the moved-from signer kept its name: break its key another way";
  absl::StatusOr<std::unique_ptr<Checkpointer>> checkpointer =
      Checkpointer::Create(store_.get(), std::move(signer), &clock_);
  EXPECT_EQ(checkpointer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(checkpointer.status().message()),
              HasSubstr("no usable verifier key"));
  EXPECT_EQ(store_->LatestCheckpoint().status().code(),
            absl::StatusCode::kNotFound);
  // The intact signer still makes a checkpointer.
  EXPECT_TRUE(
      Checkpointer::Create(store_.get(), std::move(kept), &clock_).ok());
}

TEST_F(CheckpointerTest, IssuesTheEmptyTreeOnAnEmptyLog) {
  std::unique_ptr<Checkpointer> checkpointer = NewCheckpointer(&clock_);
  absl::StatusOr<IssuedCheckpoint> issued = checkpointer->Issue();
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->checkpoint.tree_size, 0u);
  EXPECT_EQ(ToHex(issued->checkpoint.root), ToHex(EmptyTreeHash()));
  EXPECT_EQ(issued->checkpoint.origin, kOrigin);
  ExpectValid(*issued, checkpointer->verifier());
  // The note carries whole seconds, so the fraction of the clock is dropped.
  EXPECT_EQ(issued->checkpoint.issued_at, kT0);
}

TEST_F(CheckpointerTest, IssuesAtTheLogSizeWithTheStoresRoot) {
  std::unique_ptr<Checkpointer> checkpointer = NewCheckpointer(&clock_);
  ASSERT_TRUE(checkpointer->Issue().ok());
  AppendN(7, "e");
  clock_.Set(kT0 + absl::Seconds(90) + absl::Milliseconds(999));
  absl::StatusOr<IssuedCheckpoint> issued = checkpointer->Issue();
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->checkpoint.tree_size, 7u);
  EXPECT_NE(ToHex(issued->checkpoint.root), ToHex(EmptyTreeHash()));
  ExpectValid(*issued, checkpointer->verifier());
  EXPECT_EQ(issued->checkpoint.issued_at, kT0 + absl::Seconds(90));
  // Stored, and the earlier checkpoint is kept alongside it.
  absl::StatusOr<std::string> stored = store_->GetCheckpoint(7);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, issued->note);
  EXPECT_TRUE(store_->GetCheckpoint(0).ok());
}

TEST_F(CheckpointerTest, IssueWithoutAppendsReturnsTheStoredNote) {
  std::unique_ptr<Checkpointer> checkpointer = NewCheckpointer(&clock_);
  AppendN(3, "e");
  absl::StatusOr<IssuedCheckpoint> first = checkpointer->Issue();
  ASSERT_TRUE(first.ok()) << first.status();
  // A new signature now would carry another issued_at, so equal notes show
  // that nothing was signed.
  clock_.Set(kT0 + absl::Hours(1));
  absl::StatusOr<IssuedCheckpoint> second = checkpointer->Issue();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->note, first->note);
  EXPECT_EQ(second->checkpoint, first->checkpoint);
  EXPECT_EQ(second->checkpoint.issued_at, kT0);
}

TEST_F(CheckpointerTest, LatestAndAtSize) {
  std::unique_ptr<Checkpointer> checkpointer = NewCheckpointer(&clock_);
  EXPECT_EQ(checkpointer->Latest().status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(checkpointer->AtSize(0).status().code(),
            absl::StatusCode::kNotFound);

  AppendN(3, "a");
  absl::StatusOr<IssuedCheckpoint> at3 = checkpointer->Issue();
  ASSERT_TRUE(at3.ok()) << at3.status();
  AppendN(2, "b");
  clock_.Set(kT0 + absl::Seconds(5));
  absl::StatusOr<IssuedCheckpoint> at5 = checkpointer->Issue();
  ASSERT_TRUE(at5.ok()) << at5.status();
  ASSERT_EQ(at5->checkpoint.tree_size, 5u);

  absl::StatusOr<IssuedCheckpoint> latest = checkpointer->Latest();
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->note, at5->note);
  EXPECT_EQ(latest->checkpoint, at5->checkpoint);

  absl::StatusOr<IssuedCheckpoint> got3 = checkpointer->AtSize(3);
  ASSERT_TRUE(got3.ok()) << got3.status();
  EXPECT_EQ(got3->note, at3->note);
  EXPECT_EQ(got3->checkpoint, at3->checkpoint);

  for (uint64_t unissued : {0u, 1u, 4u}) {
    EXPECT_EQ(checkpointer->AtSize(unissued).status().code(),
              absl::StatusCode::kNotFound)
        << "tree size " << unissued;
  }
  // Beyond the log (of 5 events) no checkpoint can exist.
  for (uint64_t beyond : {6u, 1000u}) {
    EXPECT_EQ(checkpointer->AtSize(beyond).status().code(),
              absl::StatusCode::kOutOfRange)
        << "tree size " << beyond;
  }
}

TEST_F(CheckpointerTest, ANewKeyIssuesAnewAtTheSameSize) {
  std::unique_ptr<Checkpointer> old_key = NewCheckpointer(&clock_);
  AppendN(4, "e");
  absl::StatusOr<IssuedCheckpoint> old_issued = old_key->Issue();
  ASSERT_TRUE(old_issued.ok()) << old_issued.status();

  // Same log name, new key: only the key tells the two apart.
  std::unique_ptr<Checkpointer> new_key = NewCheckpointer(&clock_);
  ASSERT_NE(new_key->verifier().key_id(), old_key->verifier().key_id());
  absl::StatusOr<IssuedCheckpoint> new_issued = new_key->Issue();
  ASSERT_TRUE(new_issued.ok()) << new_issued.status();
  EXPECT_EQ(new_issued->checkpoint.tree_size, 4u);
  EXPECT_NE(new_issued->note, old_issued->note);
  ExpectValid(*new_issued, new_key->verifier());
  EXPECT_EQ(
      OpenCheckpoint(new_issued->note, old_key->verifier()).status().code(),
      absl::StatusCode::kPermissionDenied);

  // The new note replaced the old one at that size, and is not signed again.
  absl::StatusOr<std::string> stored = store_->GetCheckpoint(4);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, new_issued->note);
  clock_.Set(kT0 + absl::Minutes(3));
  absl::StatusOr<IssuedCheckpoint> again = new_key->Issue();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->note, new_issued->note);
}

TEST_F(CheckpointerTest, DamagedStoredNoteIsDataLoss) {
  std::unique_ptr<Checkpointer> checkpointer = NewCheckpointer(&clock_);
  AppendN(3, "e");
  absl::StatusOr<IssuedCheckpoint> at3 = checkpointer->Issue();
  ASSERT_TRUE(at3.ok()) << at3.status();
  AppendN(2, "f");

  ASSERT_TRUE(store_->PutCheckpoint(5, "garbage").ok());
  EXPECT_EQ(checkpointer->Latest().status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(checkpointer->AtSize(5).status().code(),
            absl::StatusCode::kDataLoss);
  // A validly signed note stored under another size is damage too.
  ASSERT_TRUE(store_->PutCheckpoint(5, at3->note).ok());
  EXPECT_EQ(checkpointer->Latest().status().code(),
            absl::StatusCode::kDataLoss);
  // The intact checkpoint below is still served.
  absl::StatusOr<IssuedCheckpoint> still3 = checkpointer->AtSize(3);
  ASSERT_TRUE(still3.ok()) << still3.status();
  EXPECT_EQ(still3->note, at3->note);
}

TEST_F(CheckpointerTest, IntervalIssuesAsTheLogGrowsUntilStopped) {
  TickingClock clock;
  std::unique_ptr<Checkpointer> checkpointer = NewCheckpointer(&clock);
  absl::Mutex mu;
  std::vector<absl::Status> errors;
  checkpointer->StartInterval(absl::Milliseconds(10),
                              [&](const absl::Status& status) {
                                absl::MutexLock l(&mu);
                                errors.push_back(status);
                              });
  // Polls the store (not the checkpointer) for a checkpoint covering `size`;
  // the timeout only bounds a failing test.
  auto wait_for_size = [&](uint64_t size) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      auto latest = store_->LatestCheckpoint();
      if (latest.ok() && latest->first >= size) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  };
  AppendN(5, "a");
  ASSERT_TRUE(wait_for_size(5));
  AppendN(6, "b");
  ASSERT_TRUE(wait_for_size(11));
  absl::StatusOr<IssuedCheckpoint> latest = checkpointer->Latest();
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->checkpoint.tree_size, 11u);
  ExpectValid(*latest, checkpointer->verifier());

  checkpointer->Stop();
  checkpointer->Stop();
  // Stopped for good: growth after Stop() is not checkpointed. Waiting five
  // intervals cannot make this fail spuriously, only miss a stray thread.
  AppendN(1, "c");
  absl::SleepFor(absl::Milliseconds(50));
  auto after_stop = store_->LatestCheckpoint();
  ASSERT_TRUE(after_stop.ok()) << after_stop.status();
  EXPECT_EQ(after_stop->first, 11u);
  absl::MutexLock l(&mu);
  EXPECT_TRUE(errors.empty()) << errors.front();
}

// Periodic failures used to be dropped: each is now counted, with the last
// error and its time, and passed to on_error.
TEST_F(CheckpointerTest, IntervalFailuresAreCountedAndReported) {
  std::unique_ptr<Checkpointer> checkpointer = NewCheckpointer(&clock_);
  AppendN(5, "e");
  // A damaged note at the latest size makes every Issue() fail.
  ASSERT_TRUE(store_->PutCheckpoint(5, "garbage").ok());
  EXPECT_EQ(checkpointer->interval_failures().count, 0u);
  EXPECT_TRUE(checkpointer->interval_failures().last_error.ok());

  absl::Mutex mu;
  std::vector<absl::Status> reported;
  checkpointer->StartInterval(absl::Milliseconds(10),
                              [&](const absl::Status& status) {
                                absl::MutexLock l(&mu);
                                reported.push_back(status);
                              });
  {
    // The timeout only bounds a failing test.
    absl::MutexLock l(&mu);
    auto two_reported = [&] { return reported.size() >= 2; };
    ASSERT_TRUE(
        mu.AwaitWithTimeout(absl::Condition(&two_reported), absl::Seconds(10)));
  }
  checkpointer->Stop();

  const IntervalFailures failures = checkpointer->interval_failures();
  absl::MutexLock l(&mu);
  // Each failure is counted before it is reported, and the thread has
  // stopped, so the two agree.
  EXPECT_EQ(failures.count, reported.size());
  for (const absl::Status& status : reported) {
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  }
  EXPECT_EQ(failures.last_error, reported.back());
  EXPECT_EQ(failures.last_failed_at, clock_.Now());
}

TEST_F(CheckpointerTest, ConcurrentIssueWhileAppending) {
  TickingClock clock;
  std::unique_ptr<Checkpointer> checkpointer = NewCheckpointer(&clock);
  constexpr int kThreads = 8;
  constexpr int kIssuesPerThread = 25;
  constexpr int kAppends = 60;

  std::vector<std::vector<absl::StatusOr<IssuedCheckpoint>>> results(kThreads);
  std::vector<std::thread> threads;
  std::thread appender([&] {
    for (int i = 0; i < kAppends; ++i) AppendN(1 + i % 3, absl::StrCat(i, "-"));
  });
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIssuesPerThread; ++i) {
        results[t].push_back(checkpointer->Issue());
      }
    });
  }
  appender.join();
  for (std::thread& thread : threads) thread.join();

  // Every note verifies against the store's root at its size; one size has
  // one note (issuing is serialised and the clock never repeats, so a second
  // signature would differ); and each caller sees the log only grow.
  std::map<uint64_t, std::string> note_at_size;
  for (int t = 0; t < kThreads; ++t) {
    uint64_t previous = 0;
    for (const auto& issued : results[t]) {
      ASSERT_TRUE(issued.ok()) << issued.status();
      ExpectValid(*issued, checkpointer->verifier());
      const uint64_t size = issued->checkpoint.tree_size;
      EXPECT_GE(size, previous);
      previous = size;
      auto it = note_at_size.emplace(size, issued->note).first;
      EXPECT_EQ(it->second, issued->note) << "two notes at tree size " << size;
    }
  }
  // The last Issue() after all appends covers the whole log.
  absl::StatusOr<IssuedCheckpoint> last = checkpointer->Issue();
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->checkpoint.tree_size, store_->LogSize());
  ExpectValid(*last, checkpointer->verifier());
}

}  // namespace
}  // namespace casetrail::eventstore
