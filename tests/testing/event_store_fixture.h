#ifndef CASETRAIL_TESTS_TESTING_EVENT_STORE_FIXTURE_H_
#define CASETRAIL_TESTS_TESTING_EVENT_STORE_FIXTURE_H_

// The fixture of the EventStore tests: a real store in a temporary directory,
// a clock the test controls, and short ways to append and read.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "casetrail/v1/event.pb.h"
#include "eventstore/clock.h"
#include "eventstore/event_store.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/testing/server_process.h"

namespace casetrail::testing {

// 2024-03-01T09:30:00Z.
inline const absl::Time kT0 = absl::FromUnixSeconds(1709285400);

// A clock the test sets; it may go backwards. Thread-safe.
class ManualClock : public eventstore::Clock {
 public:
  explicit ManualClock(absl::Time now) : now_(now) {}
  absl::Time Now() override {
    absl::MutexLock l(&mu_);
    return now_;
  }
  void Set(absl::Time now) {
    absl::MutexLock l(&mu_);
    now_ = now;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

// One well-formed proposed event of `stream` per id, of type `type`, with
// payload "payload-<id>".
std::vector<eventstore::ProposedEvent> StoreEvents(
    const std::string& stream, const std::vector<std::string>& ids,
    const std::string& type = "ContactReceived");

// Parses stored bytes; a failure to parse fails the test.
std::vector<casetrail::v1::RecordedEvent> DecodeAll(
    const std::vector<std::string>& stored);

std::vector<uint64_t> Positions(
    const std::vector<casetrail::v1::RecordedEvent>& events);
std::vector<uint64_t> Positions(const eventstore::AppendResult& result);
std::vector<uint64_t> Versions(
    const std::vector<casetrail::v1::RecordedEvent>& events);
std::vector<uint64_t> Versions(const eventstore::AppendResult& result);

// Opens a store in a fresh directory before each test.
// A store's column families by name.
using ColumnFamilies = std::map<std::string, rocksdb::ColumnFamilyHandle*>;

// Opens the (closed) store at `path` directly in RocksDB, with all its column
// families, and runs `edit` on it: for tampering and for reading what the
// store wrote.
void EditRocksDb(
    const std::string& path,
    const std::function<void(rocksdb::DB*, ColumnFamilies&)>& edit);

class EventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  // The store's directory.
  std::string path() const { return dir_.Sub("store"); }

  // Closes the store if open and opens it again (on the same directory);
  // `clock` (default: the system clock) must outlive the store.
  void Open(eventstore::Clock* clock = nullptr);

  // Appends StoreEvents(stream, ids) under `expected`.
  absl::StatusOr<eventstore::AppendResult> Append(
      const std::string& stream, eventstore::ExpectedVersion expected,
      const std::vector<std::string>& ids);

  // The whole log, decoded.
  std::vector<casetrail::v1::RecordedEvent> ReadAll();

  // One read of `stream`, decoded; sets *stream_version if not null.
  std::vector<casetrail::v1::RecordedEvent> ReadStream(
      const std::string& stream, uint64_t from_version = 0,
      bool backwards = false, size_t limit = 1000,
      uint64_t* stream_version = nullptr);

  // The stream's version (0 if it does not exist).
  uint64_t StreamVersion(const std::string& stream);

  TempDir dir_;
  std::unique_ptr<eventstore::EventStore> store_;
};

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_EVENT_STORE_FIXTURE_H_
