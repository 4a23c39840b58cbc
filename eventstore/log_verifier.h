#ifndef CASETRAIL_EVENTSTORE_LOG_VERIFIER_H_
#define CASETRAIL_EVENTSTORE_LOG_VERIFIER_H_

// An offline check ("fsck") of a whole store directory (eventstore/FORMAT.md),
// for an operator or a tool: where EventStore::Open checks only the newest
// events, this reads every event once, in position order, and checks that
// - positions are dense from 0 and each event's own `position` field matches
//   its key (catches deleted, moved and swapped events);
// - every stored complete-subtree hash (level >= 1) is the hash recomputed from
//   the events, none is missing and none is stored beyond the log's end;
// - `meta/tree_head` holds the log's size and the recomputed root.
// It stops at the first problem and says where it is.
//
// What it cannot catch: someone who rewrites events and also every stored hash
// above them and the tree head leaves a store that is consistent with itself.
// Only roots held elsewhere (signed checkpoints) catch that, so the caller can
// ask for the recomputed roots at the sizes of those checkpoints
// (VerifyDataDirOptions::roots_wanted) and compare. For the same reason, where
// a report names what was changed (an event, or a stored hash), it assumes one
// thing was changed, not a rewrite of events with some of the hashes above.
//
// The directory is opened read-only and nothing is written to it. RocksDB
// does not support reading a database that a server has open for writing, so
// stop the server first or check a copy.
//
// Thread-safety: VerifyDataDir is thread-safe.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "eventstore/merkle.h"

namespace casetrail::eventstore {

struct VerifyProgress {
  uint64_t events_checked = 0;
  // One past the last stored position, as found before the scan.
  uint64_t log_size = 0;
};

struct DataDirReport {
  // One past the last stored position (what the store takes as its size).
  uint64_t log_size = 0;
  // Events read and checked before the scan ended (log_size when ok).
  uint64_t events_checked = 0;
  // Stored subtree hashes (level >= 1) compared with recomputed ones.
  uint64_t subtrees_checked = 0;
  // The root recomputed over all log_size events; all zero if a problem
  // stopped the scan of the events.
  MerkleHash root{};
  bool ok = false;
  // When !ok: the first problem found. first_bad_position is set when the
  // problem is at a position of the log; for a changed event it is the first
  // of the pair of positions under the stored level-1 hash that did not match
  // (single events' hashes are not stored, so the two cannot be told apart).
  std::optional<uint64_t> first_bad_position;
  std::string problem;
  // (size, root) for each size in VerifyDataDirOptions::roots_wanted that the
  // scan reached before any problem, in increasing order of size.
  std::vector<std::pair<uint64_t, MerkleHash>> roots_at;
  // The signed checkpoint notes stored in `meta` (tree size, note), by size,
  // read before the scan; their sizes are among the roots wanted, so a caller
  // can compare each note's root with the recomputed one.
  std::vector<std::pair<uint64_t, std::string>> stored_checkpoints;
};

struct VerifyDataDirOptions {
  // Called every 65536 events and once when the scan ends. May be empty.
  std::function<void(const VerifyProgress&)> progress;
  // Tree sizes whose recomputed root the caller wants, e.g. those of stored
  // checkpoints; in any order, duplicates allowed. Sizes beyond the log are
  // left out of the report.
  std::vector<uint64_t> roots_wanted;
};

// Opens the store at `path` read-only, with every column family it has, and
// checks it as above. A damaged store gives an OK result with report.ok false.
// Errors: FAILED_PRECONDITION if `path` is not a casetrail store (no RocksDB
// database, or one without the store's column families or format version) or
// was written by another format version than this build's; the RocksDB error
// (converted: DATA_LOSS if RocksDB finds its own files corrupt) if it cannot be
// opened or read.
absl::StatusOr<DataDirReport> VerifyDataDir(
    const std::string& path, const VerifyDataDirOptions& options = {});

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_LOG_VERIFIER_H_
