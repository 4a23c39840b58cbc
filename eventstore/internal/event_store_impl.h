#ifndef CASETRAIL_EVENTSTORE_INTERNAL_EVENT_STORE_IMPL_H_
#define CASETRAIL_EVENTSTORE_INTERNAL_EVENT_STORE_IMPL_H_

// EventStore's implementation, shared by its three files:
//   event_store.cc            opening (format, recovery, tree check), closing
//   internal/append_writer.cc the write path: queue, group commit, acks
//   internal/log_reader.cc    reads and subscription notifications

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "eventstore/event_store.h"
#include "eventstore/merkle.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace casetrail::eventstore {
namespace internal {

struct PendingAppend {
  AppendRequest request;
  EventStore::AppendCallback done;
  size_t bytes = 0;
};

}  // namespace internal

class EventStore::Impl {
 public:
  explicit Impl(const StoreOptions& options) : options_(options) {
    if (options_.clock == nullptr) options_.clock = Clock::System();
  }
  ~Impl() { Close(); }

  absl::Status Open();
  void Start() {
    writer_ = std::thread([this] { WriterLoop(); });
    notifier_ = std::thread([this] { NotifierLoop(); });
    acknowledger_ = std::thread([this] { AcknowledgerLoop(); });
  }

  void AppendAsync(AppendRequest request, AppendCallback done);
  absl::StatusOr<StreamSlice> ReadStream(const StreamRead& read) const;
  absl::StatusOr<LogSlice> ReadLog(const LogRead& read) const;
  LogInfo Info() const {
    absl::MutexLock l(&info_mu_);
    return info_;
  }
  uint64_t LogSize() const {
    return published_size_.load(std::memory_order_acquire);
  }
  absl::StatusOr<std::string> ReadEvent(uint64_t position) const;
  absl::StatusOr<std::optional<uint64_t>> PositionOfEvent(
      absl::string_view event_id) const;
  absl::StatusOr<MerkleHash> RootHash(uint64_t tree_size) const;
  absl::StatusOr<std::vector<MerkleHash>> InclusionProof(
      uint64_t position, uint64_t tree_size) const;
  absl::StatusOr<std::vector<MerkleHash>> ConsistencyProof(
      uint64_t old_size, uint64_t new_size) const;
  absl::Status PutCheckpoint(uint64_t tree_size, absl::string_view note);
  absl::StatusOr<std::string> GetCheckpoint(uint64_t tree_size) const;
  absl::StatusOr<std::pair<uint64_t, std::string>> LatestCheckpoint() const;
  NotificationId NotifyWhenLogGrows(uint64_t known_size,
                                    std::function<void()> callback);
  bool CancelNotification(NotificationId id);
  void WakeAllWaiters() {
    absl::MutexLock l(&notify_mu_);
    ++wake_all_requests_;
  }
  void Close();
  bool closing() const {
    absl::MutexLock l(&mu_);
    return closing_;
  }

 private:
  struct StagedEvent {
    uint64_t position;
    uint64_t stream_version;
    const std::string* encoded_event;
    MerkleHash leaf_hash;
  };
  // Per-group state of the writer: what the batch being built will make true
  // once committed.
  struct Group {
    rocksdb::WriteBatch batch;
    uint64_t next_position;
    absl::Time recorded_at;
    // The tree as the group would leave it; becomes frontier_ on commit.
    MerkleFrontier frontier;
    absl::flat_hash_map<absl::string_view, StagedEvent> events_by_id;
    absl::flat_hash_map<std::string, uint64_t> stream_heads;
  };

  void WriterLoop();
  // Commits one group and hands it to the acknowledger.
  void CommitGroup(std::vector<internal::PendingAppend> pending);
  // Runs the callbacks of committed groups, in commit order, off the writer
  // thread: finishing an RPC costs a send, and the writer should be committing
  // the next group meanwhile.
  void AcknowledgerLoop();
  // Checks one request against the log and the group so far and, if it may be
  // written, adds it to the group. Adds nothing on error.
  absl::StatusOr<AppendResult> StageAppend(const AppendRequest& request,
                                           Group& group);
  // The stream's head version as the group would leave it.
  absl::StatusOr<uint64_t> HeadVersion(const std::string& stream_id,
                                       const Group& group);
  // Looks up an earlier recording of `event`. Returns nullopt if the id is new.
  absl::StatusOr<std::optional<AppendedEvent>> FindRecorded(
      const ProposedEvent& event, const Group& group);
  void NotifierLoop();
  // OK if the database is open and `tree_size` events are committed.
  absl::Status CheckTreeSize(uint64_t tree_size) const;

  StoreOptions options_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* stream_meta_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* dedupe_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* merkle_cf_ = nullptr;

  // Owned by the writer thread (and by Open before it starts).
  absl::flat_hash_map<std::string, uint64_t> stream_heads_;
  uint64_t next_position_ = 0;
  absl::Time last_recorded_at_ = absl::InfinitePast();
  MerkleFrontier frontier_;

  mutable absl::Mutex mu_;
  std::deque<internal::PendingAppend> queue_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status write_failure_ ABSL_GUARDED_BY(mu_);

  std::atomic<uint64_t> published_size_{0};
  // Set before the database is closed; reads check it (see Close()'s contract).
  std::atomic<bool> db_closed_{false};
  mutable absl::Mutex info_mu_;
  LogInfo info_ ABSL_GUARDED_BY(info_mu_);

  struct Waiter {
    uint64_t known_size;
    std::function<void()> callback;
  };
  absl::Mutex notify_mu_;
  std::map<NotificationId, Waiter> waiters_ ABSL_GUARDED_BY(notify_mu_);
  NotificationId next_waiter_id_ ABSL_GUARDED_BY(notify_mu_) = 1;
  uint64_t notify_generation_ ABSL_GUARDED_BY(notify_mu_) = 0;
  uint64_t wake_all_requests_ ABSL_GUARDED_BY(notify_mu_) = 0;
  bool notifier_stop_ ABSL_GUARDED_BY(notify_mu_) = false;

  std::thread writer_;
  struct CommittedGroup {
    std::vector<internal::PendingAppend> pending;
    std::vector<absl::StatusOr<AppendResult>> results;
  };
  absl::Mutex ack_mu_;
  std::deque<CommittedGroup> acks_ ABSL_GUARDED_BY(ack_mu_);
  bool ack_stop_ ABSL_GUARDED_BY(ack_mu_) = false;

  std::thread notifier_;
  std::thread acknowledger_;
};

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_INTERNAL_EVENT_STORE_IMPL_H_
