#include "eventstore/event_store.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "eventstore/internal/merkle_store.h"
#include "eventstore/internal/rocksdb_glue.h"
#include "eventstore/keys.h"
#include "eventstore/status_macros.h"
#include "eventstore/stored_event.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace casetrail::eventstore {
namespace {

using internal::FromRocksDb;
using internal::View;

constexpr char kEventsCf[] = "events";
constexpr char kStreamsCf[] = "streams";
constexpr char kStreamMetaCf[] = "stream_meta";
constexpr char kDedupeCf[] = "dedupe";
constexpr char kMetaCf[] = "meta";
constexpr char kMerkleCf[] = "merkle";
// How many of the newest events Open() re-hashes against the tree.
constexpr uint64_t kNewestLeavesCheckedOnOpen = 64;
constexpr char kFormatVersionKey[] = "format_version";

const char* KindName(ExpectedVersion::Kind kind) {
  switch (kind) {
    case ExpectedVersion::Kind::kAny:
      return "any";
    case ExpectedVersion::Kind::kNoStream:
      return "no stream";
    case ExpectedVersion::Kind::kStreamExists:
      return "stream exists";
    case ExpectedVersion::Kind::kExact:
      return "exact";
  }
  return "?";
}

absl::Status CheckExpectedVersion(absl::string_view stream_id,
                                  const ExpectedVersion& expected,
                                  uint64_t actual) {
  bool ok = true;
  std::string want;
  switch (expected.kind) {
    case ExpectedVersion::Kind::kAny:
      return absl::OkStatus();
    case ExpectedVersion::Kind::kNoStream:
      ok = actual == 0;
      want = "no stream (version 0)";
      break;
    case ExpectedVersion::Kind::kStreamExists:
      ok = actual > 0;
      want = "an existing stream (version >= 1)";
      break;
    case ExpectedVersion::Kind::kExact:
      ok = actual == expected.version;
      want = absl::StrCat("version ", expected.version);
      break;
  }
  if (ok) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat(
      "stream ", stream_id, ": expected ", want, ", actual version ", actual,
      " (expected version kind: ", KindName(expected.kind), ")"));
}

absl::Status CheckWellFormed(const AppendRequest& request) {
  if (!IsValidStreamId(request.stream_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid stream id '", request.stream_id, "'"));
  }
  if (request.events.empty()) {
    return absl::InvalidArgumentError("an append needs at least one event");
  }
  absl::flat_hash_set<absl::string_view> ids;
  for (const ProposedEvent& e : request.events) {
    if (e.event_id.empty()) {
      return absl::InvalidArgumentError("event id is empty");
    }
    if (!ids.insert(e.event_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("event id ", e.event_id, " appears twice"));
    }
  }
  return absl::OkStatus();
}

bool MatchesFilter(const casetrail::v1::RecordedEvent& recorded,
                   const LogFilter& filter) {
  const casetrail::v1::CaseEvent& e = recorded.event();
  if (!filter.stream_prefix.empty() &&
      !absl::StartsWith(e.stream_id(), filter.stream_prefix)) {
    return false;
  }
  if (filter.event_types.empty()) return true;
  return std::find(filter.event_types.begin(), filter.event_types.end(),
                   e.event_type()) != filter.event_types.end();
}

struct PendingAppend {
  AppendRequest request;
  EventStore::AppendCallback done;
  size_t bytes = 0;
};

}  // namespace

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
  void CommitGroup(std::vector<PendingAppend> pending);
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
  std::deque<PendingAppend> queue_ ABSL_GUARDED_BY(mu_);
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
    std::vector<PendingAppend> pending;
    std::vector<absl::StatusOr<AppendResult>> results;
  };
  absl::Mutex ack_mu_;
  std::deque<CommittedGroup> acks_ ABSL_GUARDED_BY(ack_mu_);
  bool ack_stop_ ABSL_GUARDED_BY(ack_mu_) = false;

  std::thread notifier_;
  std::thread acknowledger_;
};

absl::Status EventStore::Impl::Open() {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  if (options_.env != nullptr) db_options.env = options_.env;

  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.write_buffer_size = 64 << 20;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  // Open every column family the directory has, so that a newer format's extra
  // families reach the format-version check below instead of failing inside
  // RocksDB.
  std::vector<std::string> names;
  rocksdb::Status listed =
      rocksdb::DB::ListColumnFamilies(db_options, options_.path, &names);
  if (!listed.ok()) names = {rocksdb::kDefaultColumnFamilyName};
  for (const char* ours :
       {kEventsCf, kStreamsCf, kStreamMetaCf, kDedupeCf, kMetaCf, kMerkleCf}) {
    if (std::find(names.begin(), names.end(), ours) == names.end()) {
      names.push_back(ours);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyOptions options = cf_options;
    if (name == kEventsCf) {
      // Positions only grow: let the memtable insert each key next to the
      // previous one instead of searching the skiplist from the top (the first
      // 4 bytes are shared by 2^32 positions).
      options.memtable_insert_with_hint_prefix_extractor.reset(
          rocksdb::NewFixedPrefixTransform(4));
    }
    if (name == kMerkleCf) {
      // Within a level, subtree indexes only grow: hint per level (key byte 0).
      options.memtable_insert_with_hint_prefix_extractor.reset(
          rocksdb::NewFixedPrefixTransform(1));
    }
    descriptors.emplace_back(name, options);
  }
  RETURN_IF_ERROR(
      FromRocksDb(rocksdb::DB::Open(db_options, options_.path, descriptors,
                                    &handles_, &db_),
                  absl::StrCat("opening event store at ", options_.path)));
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == kEventsCf) events_cf_ = handles_[i];
    if (names[i] == kStreamsCf) streams_cf_ = handles_[i];
    if (names[i] == kStreamMetaCf) stream_meta_cf_ = handles_[i];
    if (names[i] == kDedupeCf) dedupe_cf_ = handles_[i];
    if (names[i] == kMetaCf) meta_cf_ = handles_[i];
    if (names[i] == kMerkleCf) merkle_cf_ = handles_[i];
  }

  std::unique_ptr<rocksdb::Iterator> last(
      db_->NewIterator(rocksdb::ReadOptions(), events_cf_));
  last->SeekToLast();
  RETURN_IF_ERROR(FromRocksDb(last->status(), "reading the log's head"));

  uint64_t format_version = kFormatVersion;
  std::string stored_version;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_,
                               kFormatVersionKey, &stored_version);
  if (s.IsNotFound()) {
    if (last->Valid()) {
      return absl::FailedPreconditionError(absl::StrCat(
          options_.path,
          " holds events but no format version; it is not a casetrail store "
          "or its metadata is damaged"));
    }
    rocksdb::WriteOptions sync;
    sync.sync = true;
    RETURN_IF_ERROR(FromRocksDb(
        db_->Put(sync, meta_cf_, kFormatVersionKey, EncodeU64(kFormatVersion)),
        "writing the format version"));
  } else {
    RETURN_IF_ERROR(FromRocksDb(s, "reading the format version"));
    std::optional<uint64_t> version = DecodeU64(stored_version);
    if (!version) {
      return absl::FailedPreconditionError(
          absl::StrCat(options_.path, ": format version record is damaged (",
                       stored_version.size(), " bytes, expected 8)"));
    }
    format_version = *version;
    if (*version > kFormatVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          options_.path, " was written by casetrail format version ", *version,
          "; this build reads format versions up to ", kFormatVersion,
          ". Use a newer casetraild."));
    }
  }

  if (last->Valid()) {
    std::optional<uint64_t> position = DecodeU64(View(last->key()));
    if (!position) {
      return absl::DataLossError(
          absl::StrCat("events column family holds a key of ",
                       last->key().size(), " bytes; expected 8"));
    }
    ASSIGN_OR_RETURN(casetrail::v1::RecordedEvent head,
                     DecodeStoredEvent(View(last->value())));
    if (head.position() != *position) {
      return absl::DataLossError(
          absl::StrCat("event stored at position ", *position,
                       " says it is at position ", head.position()));
    }
    next_position_ = *position + 1;
    last_recorded_at_ = ToAbslTime(head.recorded_at());
  }
  if (format_version < 2) {
    RETURN_IF_ERROR(internal::BuildMerkleTree(db_, events_cf_, merkle_cf_,
                                              meta_cf_, next_position_));
    rocksdb::WriteOptions sync;
    sync.sync = true;
    RETURN_IF_ERROR(FromRocksDb(
        db_->Put(sync, meta_cf_, kFormatVersionKey, EncodeU64(kFormatVersion)),
        "writing the format version"));
  }
  // Refuse to serve a log whose tree does not cover exactly its events.
  absl::StatusOr<MerkleFrontier> frontier =
      internal::LoadCheckedFrontier(db_, events_cf_, merkle_cf_, meta_cf_,
                                    next_position_, kNewestLeavesCheckedOnOpen);
  if (!frontier.ok()) {
    return absl::DataLossError(
        absl::StrCat(options_.path, ": refusing to serve an unverifiable log: ",
                     frontier.status().message()));
  }
  frontier_ = *std::move(frontier);
  published_size_.store(next_position_);
  absl::MutexLock l(&info_mu_);
  info_ = LogInfo{next_position_, last_recorded_at_};
  return absl::OkStatus();
}

void EventStore::Impl::AppendAsync(AppendRequest request, AppendCallback done) {
  if (absl::Status s = CheckWellFormed(request); !s.ok()) {
    done(s);
    return;
  }
  PendingAppend pending;
  for (const ProposedEvent& e : request.events) {
    pending.bytes += e.encoded_event.size() + e.event_id.size();
  }
  pending.request = std::move(request);
  pending.done = std::move(done);
  absl::Status refusal;
  {
    absl::MutexLock l(&mu_);
    if (!closing_ && write_failure_.ok()) {
      queue_.push_back(std::move(pending));
      return;
    }
    refusal = closing_ ? absl::UnavailableError("event store is closing")
                       : write_failure_;
  }
  pending.done(refusal);
}

void EventStore::Impl::WriterLoop() {
  for (;;) {
    std::vector<PendingAppend> pending;
    {
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(
          +[](Impl* impl) ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl->mu_) {
            return !impl->queue_.empty() || impl->closing_;
          },
          this));
      if (queue_.empty()) return;  // closing and drained
      size_t events = 0;
      size_t bytes = 0;
      while (!queue_.empty()) {
        PendingAppend& next = queue_.front();
        if (!pending.empty() &&
            (events + next.request.events.size() > options_.max_group_events ||
             bytes + next.bytes > options_.max_group_bytes)) {
          break;
        }
        events += next.request.events.size();
        bytes += next.bytes;
        pending.push_back(std::move(next));
        queue_.pop_front();
      }
    }
    CommitGroup(std::move(pending));
  }
}

void EventStore::Impl::CommitGroup(std::vector<PendingAppend> pending) {
  Group group;
  group.next_position = next_position_;
  group.frontier = frontier_;
  group.recorded_at = std::max(options_.clock->Now(), last_recorded_at_);

  std::vector<absl::StatusOr<AppendResult>> results;
  results.reserve(pending.size());
  {
    absl::MutexLock l(&mu_);
    if (!write_failure_.ok()) {
      for (PendingAppend& p : pending) results.push_back(write_failure_);
    }
  }
  if (results.empty()) {
    for (PendingAppend& p : pending) {
      results.push_back(StageAppend(p.request, group));
    }
    if (group.batch.Count() > 0) {
      group.batch.Put(meta_cf_, internal::kTreeHeadKey,
                      internal::EncodeTreeHead(group.frontier.size(),
                                               group.frontier.Root()));
      rocksdb::WriteOptions write_options;
      write_options.sync = options_.sync;
      absl::Status written = FromRocksDb(
          db_->Write(write_options, &group.batch), "committing appends");
      if (!written.ok()) {
        // The log head is no longer known for sure; stop accepting writes
        // rather than guess.
        absl::Status failure = absl::UnavailableError(
            absl::StrCat("event store stopped accepting writes after a failed "
                         "write; restart to recover: ",
                         written.message()));
        {
          absl::MutexLock l(&mu_);
          write_failure_ = failure;
        }
        for (auto& r : results) r = failure;
      } else {
        next_position_ = group.next_position;
        last_recorded_at_ = group.recorded_at;
        frontier_ = std::move(group.frontier);
        for (auto& [stream, head] : group.stream_heads) {
          stream_heads_[stream] = head;
        }
        published_size_.store(next_position_, std::memory_order_release);
        {
          absl::MutexLock l(&info_mu_);
          info_ = LogInfo{next_position_, last_recorded_at_};
        }
        absl::MutexLock l(&notify_mu_);
        ++notify_generation_;
      }
    }
  }
  absl::MutexLock l(&ack_mu_);
  acks_.push_back({std::move(pending), std::move(results)});
}

void EventStore::Impl::AcknowledgerLoop() {
  for (;;) {
    std::deque<CommittedGroup> ready;
    {
      absl::MutexLock l(&ack_mu_);
      ack_mu_.Await(absl::Condition(
          +[](Impl* impl) ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl->ack_mu_) {
            return !impl->acks_.empty() || impl->ack_stop_;
          },
          this));
      if (acks_.empty()) return;  // stopping and drained
      ready.swap(acks_);
    }
    for (CommittedGroup& group : ready) {
      for (size_t i = 0; i < group.pending.size(); ++i) {
        group.pending[i].done(std::move(group.results[i]));
      }
    }
  }
}

absl::StatusOr<uint64_t> EventStore::Impl::HeadVersion(
    const std::string& stream_id, const Group& group) {
  if (auto it = group.stream_heads.find(stream_id);
      it != group.stream_heads.end()) {
    return it->second;
  }
  if (auto it = stream_heads_.find(stream_id); it != stream_heads_.end()) {
    return it->second;
  }
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), stream_meta_cf_, stream_id, &value);
  uint64_t head = 0;
  if (!s.IsNotFound()) {
    RETURN_IF_ERROR(FromRocksDb(s, "reading stream head"));
    std::optional<uint64_t> decoded = DecodeU64(value);
    if (!decoded) {
      return absl::DataLossError(
          absl::StrCat("stream_meta of ", stream_id, " is damaged"));
    }
    head = *decoded;
  }
  stream_heads_[stream_id] = head;
  return head;
}

absl::StatusOr<std::optional<AppendedEvent>> EventStore::Impl::FindRecorded(
    const ProposedEvent& event, const Group& group) {
  if (auto it = group.events_by_id.find(event.event_id);
      it != group.events_by_id.end()) {
    if (*it->second.encoded_event != event.encoded_event) {
      return absl::AlreadyExistsError(absl::StrCat(
          "event id ", event.event_id, " was recorded at position ",
          it->second.position, " with different content"));
    }
    return AppendedEvent{it->second.position, it->second.stream_version,
                         group.recorded_at, it->second.leaf_hash,
                         it->second.position + 1};
  }
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), dedupe_cf_, event.event_id, &value);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(FromRocksDb(s, "looking up event id"));
  std::optional<uint64_t> position = DecodeU64(value);
  if (!position) {
    return absl::DataLossError(
        absl::StrCat("dedupe entry of ", event.event_id, " is damaged"));
  }
  std::string stored;
  RETURN_IF_ERROR(FromRocksDb(db_->Get(rocksdb::ReadOptions(), events_cf_,
                                       EventKey(*position), &stored),
                              absl::StrCat("reading position ", *position)));
  ASSIGN_OR_RETURN(casetrail::v1::RecordedEvent recorded,
                   DecodeStoredEvent(stored));
  std::string original;
  recorded.event().SerializeToString(&original);
  if (original != event.encoded_event) {
    return absl::AlreadyExistsError(
        absl::StrCat("event id ", event.event_id, " was recorded at position ",
                     *position, " with different content"));
  }
  return AppendedEvent{*position, recorded.stream_version(),
                       ToAbslTime(recorded.recorded_at()), LeafHash(stored),
                       *position + 1};
}

absl::StatusOr<AppendResult> EventStore::Impl::StageAppend(
    const AppendRequest& request, Group& group) {
  AppendResult result;
  size_t recorded = 0;
  for (const ProposedEvent& e : request.events) {
    ASSIGN_OR_RETURN(std::optional<AppendedEvent> earlier,
                     FindRecorded(e, group));
    if (earlier) ++recorded;
    result.events.push_back(earlier.value_or(AppendedEvent{}));
  }
  ASSIGN_OR_RETURN(uint64_t head, HeadVersion(request.stream_id, group));
  if (recorded == request.events.size()) {
    // An idempotent retry, if the events were recorded together in this order
    // (an append's events have consecutive positions). The expected version was
    // checked when they were first recorded.
    for (size_t i = 1; i < result.events.size(); ++i) {
      if (result.events[i].position != result.events[0].position + i) {
        return absl::AlreadyExistsError(absl::StrCat(
            "event ids ", request.events[0].event_id, " and ",
            request.events[i].event_id, " were recorded at positions ",
            result.events[0].position, " and ", result.events[i].position,
            ", not together in this order; an append is retried as it was "
            "sent"));
      }
    }
    result.stream_version = head;
    result.deduplicated = true;
    return result;
  }
  if (recorded > 0) {
    for (size_t i = 0; i < request.events.size(); ++i) {
      if (result.events[i].stream_version != 0) {
        return absl::AlreadyExistsError(absl::StrCat(
            "event id ", request.events[i].event_id,
            " was already recorded at position ", result.events[i].position,
            " but other events of this append were not; an append is retried "
            "whole or not at all"));
      }
    }
  }
  RETURN_IF_ERROR(
      CheckExpectedVersion(request.stream_id, request.expected, head));

  for (size_t i = 0; i < request.events.size(); ++i) {
    const ProposedEvent& e = request.events[i];
    const uint64_t position = group.next_position++;
    const uint64_t version = ++head;
    std::string stored = EncodeStoredEvent(position, version, group.recorded_at,
                                           e.encoded_event);
    group.batch.Put(events_cf_, EventKey(position), stored);
    group.batch.Put(streams_cf_, StreamEventKey(request.stream_id, version),
                    stored);
    group.batch.Put(dedupe_cf_, e.event_id, EncodeU64(position));
    // The tree grows in the same batch as the events it covers.
    const MerkleHash leaf = LeafHash(stored);
    group.frontier.Append(
        leaf, [&](int level, uint64_t index, const MerkleHash& hash) {
          // Leaves are not stored: they are the hashes of the events' bytes.
          if (level > 0) {
            group.batch.Put(merkle_cf_, MerkleKey(level, index),
                            internal::AsSlice(hash));
          }
        });
    group.events_by_id[e.event_id] =
        StagedEvent{position, version, &e.encoded_event, leaf};
    result.events[i] =
        AppendedEvent{position, version, group.recorded_at, leaf, 0};
  }
  for (AppendedEvent& appended : result.events) {
    appended.tree_size = group.frontier.size();
  }
  group.batch.Put(stream_meta_cf_, request.stream_id, EncodeU64(head));
  group.stream_heads[request.stream_id] = head;
  result.stream_version = head;
  return result;
}

absl::StatusOr<StreamSlice> EventStore::Impl::ReadStream(
    const StreamRead& read) const {
  if (db_closed_.load(std::memory_order_acquire)) {
    return absl::UnavailableError("event store is closed");
  }
  if (!IsValidStreamId(read.stream_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid stream id '", read.stream_id, "'"));
  }
  if (read.limit == 0) return absl::InvalidArgumentError("limit must be > 0");
  rocksdb::ReadOptions options;
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  options.snapshot = snapshot;
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() { db->ReleaseSnapshot(s); }
  } release{db_, snapshot};

  StreamSlice slice;
  std::string head_value;
  rocksdb::Status s =
      db_->Get(options, stream_meta_cf_, read.stream_id, &head_value);
  if (s.IsNotFound()) return slice;
  RETURN_IF_ERROR(FromRocksDb(s, "reading stream head"));
  slice.stream_version = DecodeU64(head_value).value_or(0);

  // Bound the iterator to this stream's keys: stream id followed by 0x00.
  const std::string lower = StreamEventKey(read.stream_id, 0);
  const std::string upper = read.stream_id + '\x01';
  rocksdb::Slice lower_bound(lower), upper_bound(upper);
  options.iterate_lower_bound = &lower_bound;
  options.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, streams_cf_));
  if (read.backwards) {
    uint64_t from = read.from_version == 0
                        ? slice.stream_version
                        : std::min(read.from_version, slice.stream_version);
    for (it->SeekForPrev(StreamEventKey(read.stream_id, from));
         it->Valid() && slice.events.size() < read.limit; it->Prev()) {
      slice.events.emplace_back(it->value().data(), it->value().size());
    }
  } else {
    uint64_t from = std::max<uint64_t>(read.from_version, 1);
    for (it->Seek(StreamEventKey(read.stream_id, from));
         it->Valid() && slice.events.size() < read.limit; it->Next()) {
      slice.events.emplace_back(it->value().data(), it->value().size());
    }
  }
  RETURN_IF_ERROR(FromRocksDb(it->status(), "reading stream"));
  return slice;
}

absl::StatusOr<LogSlice> EventStore::Impl::ReadLog(const LogRead& read) const {
  if (db_closed_.load(std::memory_order_acquire)) {
    return absl::UnavailableError("event store is closed");
  }
  if (read.limit == 0) return absl::InvalidArgumentError("limit must be > 0");
  LogSlice slice;
  slice.log_size = LogSize();
  slice.next_position = read.from_position;
  if (read.from_position >= slice.log_size) return slice;

  const std::string upper = EventKey(slice.log_size);
  rocksdb::Slice upper_bound(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, events_cf_));
  size_t scanned = 0;
  const bool filtered = !read.filter.MatchesAll();
  casetrail::v1::RecordedEvent recorded;
  for (it->Seek(EventKey(read.from_position));
       it->Valid() && slice.events.size() < read.limit &&
       scanned < read.max_scanned;
       it->Next(), ++scanned) {
    std::optional<uint64_t> position = DecodeU64(View(it->key()));
    if (!position || *position != slice.next_position) {
      return absl::DataLossError(
          absl::StrCat("the log has a gap or a damaged key at position ",
                       slice.next_position));
    }
    slice.next_position = *position + 1;
    if (filtered) {
      if (!recorded.ParseFromArray(it->value().data(),
                                   static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("event at position ", *position,
                                                " cannot be decoded"));
      }
      if (!MatchesFilter(recorded, read.filter)) continue;
    }
    slice.events.emplace_back(it->value().data(), it->value().size());
  }
  RETURN_IF_ERROR(FromRocksDb(it->status(), "reading the log"));
  return slice;
}

EventStore::NotificationId EventStore::Impl::NotifyWhenLogGrows(
    uint64_t known_size, std::function<void()> callback) {
  absl::MutexLock l(&notify_mu_);
  NotificationId id = next_waiter_id_++;
  waiters_.emplace(id, Waiter{known_size, std::move(callback)});
  return id;
}

bool EventStore::Impl::CancelNotification(NotificationId id) {
  absl::MutexLock l(&notify_mu_);
  return waiters_.erase(id) > 0;
}

void EventStore::Impl::NotifierLoop() {
  uint64_t seen_generation = ~uint64_t{0};
  uint64_t seen_wake_all = 0;
  for (;;) {
    std::vector<std::function<void()>> ready;
    {
      absl::MutexLock l(&notify_mu_);
      // Wake on a commit, a stop, or a new waiter whose condition already
      // holds.
      auto wake = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(notify_mu_) {
        if (notifier_stop_ || notify_generation_ != seen_generation ||
            wake_all_requests_ != seen_wake_all) {
          return true;
        }
        const uint64_t size = LogSize();
        for (const auto& [id, w] : waiters_) {
          if (size > w.known_size) return true;
        }
        return false;
      };
      notify_mu_.Await(absl::Condition(&wake));
      seen_generation = notify_generation_;
      const bool wake_all =
          notifier_stop_ || wake_all_requests_ != seen_wake_all;
      seen_wake_all = wake_all_requests_;
      const uint64_t size = LogSize();
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (wake_all || size > it->second.known_size) {
          ready.push_back(std::move(it->second.callback));
          it = waiters_.erase(it);
        } else {
          ++it;
        }
      }
      if (notifier_stop_ && ready.empty()) return;
    }
    for (auto& callback : ready) callback();
  }
}

void EventStore::Impl::Close() {
  {
    absl::MutexLock l(&mu_);
    if (closed_) return;
    closing_ = true;
    closed_ = true;
  }
  if (writer_.joinable()) writer_.join();
  {
    absl::MutexLock l(&ack_mu_);
    ack_stop_ = true;
  }
  if (acknowledger_.joinable()) acknowledger_.join();
  {
    absl::MutexLock l(&notify_mu_);
    notifier_stop_ = true;
  }
  if (notifier_.joinable()) notifier_.join();
  db_closed_.store(true, std::memory_order_release);
  if (db_ != nullptr) {
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      db_->DestroyColumnFamilyHandle(h);
    }
    handles_.clear();
    db_->Close();
    delete db_;
    db_ = nullptr;
  }
}

// --- EventStore: forwards to Impl ---

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::Open(
    const StoreOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("StoreOptions.path is required");
  }
  auto impl = std::make_unique<Impl>(options);
  RETURN_IF_ERROR(impl->Open());
  impl->Start();
  return std::unique_ptr<EventStore>(new EventStore(std::move(impl)));
}

EventStore::EventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventStore::~EventStore() { impl_->Close(); }

void EventStore::AppendAsync(AppendRequest request, AppendCallback done) {
  impl_->AppendAsync(std::move(request), std::move(done));
}

absl::StatusOr<AppendResult> EventStore::Append(AppendRequest request) {
  absl::Notification done;
  absl::StatusOr<AppendResult> result;
  impl_->AppendAsync(std::move(request), [&](absl::StatusOr<AppendResult> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

absl::StatusOr<StreamSlice> EventStore::ReadStream(
    const StreamRead& read) const {
  return impl_->ReadStream(read);
}
absl::StatusOr<LogSlice> EventStore::ReadLog(const LogRead& read) const {
  return impl_->ReadLog(read);
}
LogInfo EventStore::Info() const { return impl_->Info(); }
uint64_t EventStore::LogSize() const { return impl_->LogSize(); }
EventStore::NotificationId EventStore::NotifyWhenLogGrows(
    uint64_t known_size, std::function<void()> callback) {
  return impl_->NotifyWhenLogGrows(known_size, std::move(callback));
}
bool EventStore::CancelNotification(NotificationId id) {
  return impl_->CancelNotification(id);
}
void EventStore::WakeAllWaiters() { impl_->WakeAllWaiters(); }
void EventStore::Close() { impl_->Close(); }
bool EventStore::closing() const { return impl_->closing(); }

absl::StatusOr<uint32_t> EventStore::ReadFormatVersionForTesting(
    const std::string& path) {
  rocksdb::DBOptions options;
  std::vector<std::string> names;
  RETURN_IF_ERROR(FromRocksDb(
      rocksdb::DB::ListColumnFamilies(options, path, &names), "listing"));
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& n : names)
    descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocksDb(
      rocksdb::DB::OpenForReadOnly(options, path, descriptors, &handles, &raw),
      "opening read-only"));
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  absl::Status s = absl::NotFoundError("no meta column family");
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == kMetaCf) {
      s = FromRocksDb(db->Get(rocksdb::ReadOptions(), handles[i],
                              kFormatVersionKey, &value),
                      "reading format version");
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  RETURN_IF_ERROR(s);
  return static_cast<uint32_t>(DecodeU64(value).value_or(0));
}

}  // namespace casetrail::eventstore
