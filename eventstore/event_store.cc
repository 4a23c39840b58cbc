#include "eventstore/event_store.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "eventstore/internal/event_store_impl.h"
#include "eventstore/internal/merkle_store.h"
#include "eventstore/internal/rocksdb_glue.h"
#include "eventstore/keys.h"
#include "eventstore/status_macros.h"
#include "eventstore/stored_event.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"

namespace casetrail::eventstore {
namespace {

using internal::FromRocksDb;
using internal::View;

// How many of the newest events Open() re-hashes against the tree.
constexpr uint64_t kNewestLeavesCheckedOnOpen = 64;

}  // namespace

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
    // Write the memtables out, so that the next open (and an offline
    // `casetrail verify data-dir`, which opens read-only) need not replay up
    // to a memtable's worth of write-ahead log per column family. Nothing
    // depends on it: the synced log already holds every acknowledged append.
    (void)db_->Flush(rocksdb::FlushOptions(), handles_);
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
absl::StatusOr<std::string> EventStore::ReadEvent(uint64_t position) const {
  return impl_->ReadEvent(position);
}
absl::StatusOr<std::optional<uint64_t>> EventStore::PositionOfEvent(
    absl::string_view event_id) const {
  return impl_->PositionOfEvent(event_id);
}
absl::StatusOr<MerkleHash> EventStore::RootHash(uint64_t tree_size) const {
  return impl_->RootHash(tree_size);
}
absl::StatusOr<std::vector<MerkleHash>> EventStore::InclusionProof(
    uint64_t position, uint64_t tree_size) const {
  return impl_->InclusionProof(position, tree_size);
}
absl::StatusOr<std::vector<MerkleHash>> EventStore::ConsistencyProof(
    uint64_t old_size, uint64_t new_size) const {
  return impl_->ConsistencyProof(old_size, new_size);
}
absl::Status EventStore::PutCheckpoint(uint64_t tree_size,
                                       absl::string_view note) {
  return impl_->PutCheckpoint(tree_size, note);
}
absl::StatusOr<std::string> EventStore::GetCheckpoint(
    uint64_t tree_size) const {
  return impl_->GetCheckpoint(tree_size);
}
absl::StatusOr<std::pair<uint64_t, std::string>> EventStore::LatestCheckpoint()
    const {
  return impl_->LatestCheckpoint();
}
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