#ifndef CASETRAIL_EVENTSTORE_EVENT_STORE_H_
#define CASETRAIL_EVENTSTORE_EVENT_STORE_H_

// The durable, totally ordered case event log on RocksDB
// (eventstore/FORMAT.md).
//
// Thread-safety: every public method may be called from any thread. Appends are
// queued to one writer thread that owns the log head and commits everything
// queued in one synced WriteBatch (group commit); an acknowledger thread then
// runs the appends' callbacks. Reads go straight to RocksDB
// and never wait for the writer. Subscription callbacks run on a separate
// notifier thread, so a slow subscriber never slows a writer.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eventstore/clock.h"
#include "eventstore/merkle.h"

namespace rocksdb {
class Env;
}

namespace casetrail::eventstore {

// The on-disk format this build writes and the newest it can read. Version 2
// added the Merkle tree (`merkle` column family); a version 1 store gets its
// tree built when it is first opened by this build.
inline constexpr uint32_t kFormatVersion = 2;

struct StoreOptions {
  // Directory of the RocksDB database; created if missing. Required.
  std::string path;
  // Sync the WAL before an append is acknowledged. Default true; turning it off
  // gives up durability and exists for benchmarks that measure the ceiling
  // without fsync.
  bool sync = true;
  // Group-commit bounds: one WriteBatch holds at most this many events (default
  // 8192) ...
  size_t max_group_events = 8192;
  // ... and at most this many bytes of proposed events (default 16 MiB). A
  // single append larger than either bound is still committed, alone.
  size_t max_group_bytes = 16 << 20;
  // Most stream heads the writer keeps in memory (default 262144, about 20 MB
  // for typical ids). The cache is dropped when it grows past this and refills
  // from the `stream_meta` column family, which holds every head.
  size_t max_cached_stream_heads = 1 << 18;
  // Source of recorded_at. Default (null): Clock::System(). Not owned; must
  // outlive the store.
  Clock* clock = nullptr;
  // RocksDB environment, for fault injection in tests. Default (null):
  // rocksdb::Env::Default(). Not owned; must outlive the store.
  rocksdb::Env* env = nullptr;
};

// The condition an append is made under (optimistic concurrency).
struct ExpectedVersion {
  enum class Kind { kAny, kNoStream, kStreamExists, kExact };
  Kind kind = Kind::kAny;
  // Used only with kExact: the stream's current version (0 = the stream does
  // not exist).
  uint64_t version = 0;

  static ExpectedVersion Any() { return {Kind::kAny, 0}; }
  static ExpectedVersion NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedVersion StreamExists() { return {Kind::kStreamExists, 0}; }
  static ExpectedVersion Exact(uint64_t v) { return {Kind::kExact, v}; }
};

// One event as the client proposed it.
struct ProposedEvent {
  // The client's event id; unique across the log.
  std::string event_id;
  // The deterministic serialisation of the casetrail.v1.CaseEvent, stream_id
  // set. The store does not interpret it; two proposals are "the same content"
  // when these bytes are equal.
  std::string encoded_event;
};

struct AppendRequest {
  std::string stream_id;
  ExpectedVersion expected;
  // One or more events, recorded in this order.
  std::vector<ProposedEvent> events;
};

struct AppendedEvent {
  uint64_t position = 0;
  uint64_t stream_version = 0;
  absl::Time recorded_at;
  // LeafHash() of the event's stored bytes.
  MerkleHash leaf_hash{};
  // A tree size whose tree includes the event: the log's size right after
  // this append (position + 1 for an event recorded earlier).
  uint64_t tree_size = 0;
};

struct AppendResult {
  // One per proposed event, in order.
  std::vector<AppendedEvent> events;
  // The stream's version after the append.
  uint64_t stream_version = 0;
  // True when every event had been recorded before with the same content;
  // nothing was written.
  bool deduplicated = false;
};

// The default of StreamRead::max_bytes and LogRead::max_bytes: no bound on
// the bytes a read returns beyond its event limit.
inline constexpr size_t kUnboundedReadBytes = ~size_t{0};

struct StreamRead {
  std::string stream_id;
  // Forwards: first version to return (0 means 1). Backwards: first version to
  // return going down (0 means the head).
  uint64_t from_version = 0;
  bool backwards = false;
  // At most this many events. Required > 0.
  size_t limit = 1000;
  // At most this many bytes of stored events (the sum of their sizes), except
  // that a read that finds any event returns at least one, however large.
  // Callers that send a page in one message set it below the message limit.
  // Default: no bound.
  size_t max_bytes = kUnboundedReadBytes;
};

struct StreamSlice {
  // Stored bytes (a serialised casetrail.v1.RecordedEvent) of each event, in
  // read order.
  std::vector<std::string> events;
  // The stream's version at the time of the read (0 if it does not exist).
  uint64_t stream_version = 0;
  // The from_version that continues the read in its direction, or 0 if it
  // reached the end of the stream as it stood (forwards: stream_version;
  // backwards: version 1). Set whether the read stopped at `limit` or at
  // `max_bytes`.
  uint64_t next_version = 0;
};

// Which events of the log a reader wants.
struct LogFilter {
  // Only these event types; empty means all.
  std::vector<std::string> event_types;
  // Only streams whose id starts with this; empty means all.
  std::string stream_prefix;
  // Not streams whose id starts with this (e.g. the server's "<tenant>/_"
  // streams); empty means none left out.
  std::string exclude_stream_prefix;

  bool MatchesAll() const {
    return event_types.empty() && stream_prefix.empty() &&
           exclude_stream_prefix.empty();
  }
};

struct LogRead {
  uint64_t from_position = 0;
  // At most this many matching events. Required > 0.
  size_t limit = 1000;
  LogFilter filter;
  // At most this many positions are examined, so a selective filter cannot turn
  // one read into a scan of the whole log. Default 100000.
  size_t max_scanned = 100000;
  // At most this many bytes of stored events (the sum of the matching events'
  // sizes), except that a read that finds a matching event returns at least
  // one, however large. The read stops before the event that would pass the
  // bound, and next_position points at it. Default: no bound.
  size_t max_bytes = kUnboundedReadBytes;
};

struct LogSlice {
  // Stored bytes of each matching event, in position order.
  std::vector<std::string> events;
  // One past the last position examined; where the next read continues. A
  // read that stopped at `max_bytes` has not examined the event that would
  // have passed it, so the next read returns that event.
  uint64_t next_position = 0;
  // The log's size when the read started.
  uint64_t log_size = 0;
};

struct LogInfo {
  uint64_t log_size = 0;
  // recorded_at of the newest event; absl::InfinitePast() for an empty log.
  absl::Time last_recorded_at = absl::InfinitePast();
};

class EventStore {
 public:
  using AppendCallback = std::function<void(absl::StatusOr<AppendResult>)>;
  // Identifies a pending notification so that it can be cancelled.
  using NotificationId = uint64_t;

  // Opens (creating if needed) the store at options.path and starts its writer.
  // Errors: FAILED_PRECONDITION if the directory was written by a newer format
  // version or is not a casetrail store; the RocksDB error (converted) if it
  // cannot be opened.
  static absl::StatusOr<std::unique_ptr<EventStore>> Open(
      const StoreOptions& options);

  // Drains queued appends and closes the database. Equivalent to Close().
  ~EventStore();

  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Queues an append. `done` runs exactly once, after the events are durable
  // (or the append failed): on the store's acknowledger thread, in commit
  // order, or at once on the caller's thread if the request is malformed or the
  // store is closing. It must not block. REQUIRES: the request is well-formed
  // (valid stream id, 1+ events, distinct non-empty event ids); malformed
  // requests get INVALID_ARGUMENT. Errors: ABORTED if the expected version is
  // not met (the message names expected and actual); ALREADY_EXISTS if an event
  // id was recorded before with other content, or the ids were recorded but not
  // together in this order (a retry must repeat the append as it was sent; a
  // retry of a consecutive part of an earlier append is accepted as
  // deduplicated); UNAVAILABLE if the store is closing or a write failed
  // earlier (it then accepts no writes until reopened). On any error nothing of
  // the request is written.
  void AppendAsync(AppendRequest request, AppendCallback done);

  // Blocking form of AppendAsync.
  absl::StatusOr<AppendResult> Append(AppendRequest request);

  // Reads a stream, at most read.limit events and read.max_bytes bytes (but at
  // least one event if there is one to read). A stream that does not exist
  // reads as empty with version 0. Errors: INVALID_ARGUMENT for an invalid
  // stream id, limit 0 or max_bytes 0; UNAVAILABLE after Close.
  absl::StatusOr<StreamSlice> ReadStream(const StreamRead& read) const;

  // Reads the global log from read.from_position, filtered, at most read.limit
  // events and read.max_bytes bytes (but at least one matching event if there
  // is one within read.max_scanned positions). Errors: INVALID_ARGUMENT for
  // limit 0 or max_bytes 0; DATA_LOSS for a gap or an undecodable event;
  // UNAVAILABLE after Close.
  absl::StatusOr<LogSlice> ReadLog(const LogRead& read) const;

  LogInfo Info() const;
  uint64_t LogSize() const;

  // The stored bytes of the event at `position`. Errors: NOT_FOUND if
  // position >= LogSize().
  absl::StatusOr<std::string> ReadEvent(uint64_t position) const;

  // The position of the event recorded with `event_id` (one point read of the
  // idempotency index), or nullopt if no such event is in the log. Errors:
  // DATA_LOSS for a damaged index entry; UNAVAILABLE after Close.
  absl::StatusOr<std::optional<uint64_t>> PositionOfEvent(
      absl::string_view event_id) const;

  // --- The Merkle tree over the log (eventstore/merkle.h) ---
  // Every call costs O(log tree_size) reads. Errors: OUT_OF_RANGE if a size is
  // beyond LogSize(); INVALID_ARGUMENT for an impossible request (position >=
  // tree_size, old_size > new_size); DATA_LOSS if a stored hash the answer
  // needs is missing.

  // The root of the tree of the first `tree_size` events.
  absl::StatusOr<MerkleHash> RootHash(uint64_t tree_size) const;
  // RFC 9162 inclusion proof of the event at `position` in that tree.
  absl::StatusOr<std::vector<MerkleHash>> InclusionProof(
      uint64_t position, uint64_t tree_size) const;
  // RFC 9162 consistency proof from the tree of old_size events to that of
  // new_size.
  absl::StatusOr<std::vector<MerkleHash>> ConsistencyProof(
      uint64_t old_size, uint64_t new_size) const;

  // --- Checkpoints: signed notes of the tree at one size (checkpoint.h) ---
  // The store keeps them, synced, keyed by tree size, without interpreting
  // them; the caller signs. Errors of Put: OUT_OF_RANGE if tree_size >
  // LogSize(); UNAVAILABLE after Close.
  absl::Status PutCheckpoint(uint64_t tree_size, absl::string_view note);
  // The checkpoint stored for `tree_size`. Errors: NOT_FOUND.
  absl::StatusOr<std::string> GetCheckpoint(uint64_t tree_size) const;
  // The stored checkpoint with the largest tree size, and that size. Errors:
  // NOT_FOUND if none was stored.
  absl::StatusOr<std::pair<uint64_t, std::string>> LatestCheckpoint() const;

  // Runs `callback` once, on the notifier thread, as soon as LogSize() >
  // known_size or the store is closing (check closing()). If that already holds
  // it runs soon, still on that thread.
  NotificationId NotifyWhenLogGrows(uint64_t known_size,
                                    std::function<void()> callback);
  // Removes a pending notification. Returns true if its callback will not run;
  // false if it has run or is running now.
  bool CancelNotification(NotificationId id);

  // Runs every pending notification's callback now (on the notifier thread),
  // whether or not the log grew; used to wake subscribers at shutdown.
  void WakeAllWaiters();

  // Stops accepting appends, completes those already queued, and closes the
  // database. Idempotent. Appends and reads after Close get UNAVAILABLE.
  // REQUIRES: no read is in flight (the server closes the store only after its
  // gRPC server has stopped).
  void Close();
  bool closing() const;

  // The directory's format version as stored (tests check it is written).
  static absl::StatusOr<uint32_t> ReadFormatVersionForTesting(
      const std::string& path);

  class Impl;

 private:
  explicit EventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_EVENT_STORE_H_
