// EventStore's write path: appends queue to one writer thread, which checks
// them against the log head, builds one WriteBatch per group (events, stream
// index, dedupe entries, Merkle subtrees, tree head), writes it synced, and
// hands the group to the acknowledger thread.

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "eventstore/internal/event_store_impl.h"
#include "eventstore/internal/merkle_store.h"
#include "eventstore/internal/rocksdb_glue.h"
#include "eventstore/keys.h"
#include "eventstore/status_macros.h"
#include "eventstore/stored_event.h"

namespace casetrail::eventstore {
namespace {

using internal::FromRocksDb;
using internal::PendingAppend;

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

}  // namespace

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
      results.assign(pending.size(), write_failure_);
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
        if (stream_heads_.size() + group.stream_heads.size() >
            options_.max_cached_stream_heads) {
          // A cache of committed `stream_meta`, so dropping it loses nothing.
          stream_heads_.clear();
        }
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

}  // namespace casetrail::eventstore
