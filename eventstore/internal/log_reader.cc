// EventStore's read side: stream and log reads straight from RocksDB, and
// the notifier thread that wakes subscribers when the log grows.

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "casetrail/v1/event.pb.h"
#include "eventstore/internal/event_store_impl.h"
#include "eventstore/internal/rocksdb_glue.h"
#include "eventstore/keys.h"
#include "eventstore/status_macros.h"

namespace casetrail::eventstore {
namespace {

using internal::FromRocksDb;
using internal::View;

bool MatchesFilter(const casetrail::v1::RecordedEvent& recorded,
                   const LogFilter& filter) {
  const casetrail::v1::CaseEvent& e = recorded.event();
  if (!filter.stream_prefix.empty() &&
      !absl::StartsWith(e.stream_id(), filter.stream_prefix)) {
    return false;
  }
  if (!filter.exclude_stream_prefix.empty() &&
      absl::StartsWith(e.stream_id(), filter.exclude_stream_prefix)) {
    return false;
  }
  if (filter.event_types.empty()) return true;
  return std::find(filter.event_types.begin(), filter.event_types.end(),
                   e.event_type()) != filter.event_types.end();
}

}  // namespace

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
  if (read.max_bytes == 0) {
    return absl::InvalidArgumentError("max_bytes must be > 0");
  }
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
    it->SeekForPrev(StreamEventKey(read.stream_id, from));
  } else {
    it->Seek(StreamEventKey(read.stream_id,
                            std::max<uint64_t>(read.from_version, 1)));
  }
  // The version the next read would start from, kept up to date with the
  // events taken; the stream's end (0) once the iterator runs off it.
  uint64_t next_version = 0;
  size_t bytes = 0;
  for (; it->Valid(); read.backwards ? it->Prev() : it->Next()) {
    std::optional<StreamEventKeyParts> key =
        ParseStreamEventKey(View(it->key()));
    if (!key || key->stream_id != read.stream_id) {
      return absl::DataLossError(
          absl::StrCat("stream ", read.stream_id, " has a damaged key"));
    }
    const size_t size = it->value().size();
    if (slice.events.size() == read.limit ||
        (!slice.events.empty() && bytes + size > read.max_bytes)) {
      next_version = key->version;
      break;
    }
    bytes += size;
    slice.events.emplace_back(it->value().data(), size);
  }
  RETURN_IF_ERROR(FromRocksDb(it->status(), "reading stream"));
  slice.next_version = it->Valid() ? next_version : 0;
  return slice;
}

absl::StatusOr<LogSlice> EventStore::Impl::ReadLog(const LogRead& read) const {
  if (db_closed_.load(std::memory_order_acquire)) {
    return absl::UnavailableError("event store is closed");
  }
  if (read.limit == 0) return absl::InvalidArgumentError("limit must be > 0");
  if (read.max_bytes == 0) {
    return absl::InvalidArgumentError("max_bytes must be > 0");
  }
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
  size_t bytes = 0;
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
    if (filtered) {
      if (!recorded.ParseFromArray(it->value().data(),
                                   static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("event at position ", *position,
                                                " cannot be decoded"));
      }
      if (!MatchesFilter(recorded, read.filter)) {
        slice.next_position = *position + 1;
        continue;
      }
    }
    const size_t size = it->value().size();
    // Stop before the event that would pass the byte bound, leaving it
    // unexamined so that the next read starts with it.
    if (!slice.events.empty() && bytes + size > read.max_bytes) break;
    slice.next_position = *position + 1;
    bytes += size;
    slice.events.emplace_back(it->value().data(), size);
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

}  // namespace casetrail::eventstore
