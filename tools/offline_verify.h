#ifndef CASETRAIL_TOOLS_OFFLINE_VERIFY_H_
#define CASETRAIL_TOOLS_OFFLINE_VERIFY_H_

// What `casetrail verify` checks, without a server: an event's inclusion in a
// signed checkpoint, and the consistency of two signed checkpoints. Proofs are
// the LogIntegrity responses, kept as JSON files (proto JSON mapping).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "casetrail/v1/event.pb.h"
#include "casetrail/v1/integrity.pb.h"
#include "eventstore/checkpoint.h"
#include "eventstore/log_verifier.h"
#include "eventstore/signed_note.h"

namespace casetrail::tools {

// A verifier key given as the key itself or as the path of a file holding it.
// Errors: INVALID_ARGUMENT (the file cannot be read, or holds no valid key).
absl::StatusOr<eventstore::NoteVerifier> LoadVerifierKey(
    absl::string_view key_or_path);

struct VerifiedInclusion {
  eventstore::Checkpoint checkpoint;
  // The proven event, decoded from the proven bytes.
  casetrail::v1::RecordedEvent event;
};

// OK if `checkpoint_note` is signed by `key` and `proof` shows that its event
// bytes are the event at proof.position in the checkpoint's tree. Errors:
// the checkpoint's (PERMISSION_DENIED for a bad or missing signature,
// INVALID_ARGUMENT if malformed); FAILED_PRECONDITION saying what does not
// match (sizes, the path, the event's own position).
absl::StatusOr<VerifiedInclusion> VerifyInclusionProof(
    const casetrail::v1::GetInclusionProofResponse& proof,
    absl::string_view checkpoint_note, const eventstore::NoteVerifier& key);

struct VerifiedConsistency {
  eventstore::Checkpoint old_checkpoint;
  eventstore::Checkpoint new_checkpoint;
};

// OK if both checkpoints are signed by `key` and `proof` shows that the older
// tree is a prefix of the newer (the log only grew). Errors: as above; a newer
// checkpoint smaller than the older, or two checkpoints of one size with
// different roots, is FAILED_PRECONDITION (the log was rewritten).
absl::StatusOr<VerifiedConsistency> VerifyConsistencyProof(
    const casetrail::v1::GetConsistencyProofResponse& proof,
    absl::string_view old_note, absl::string_view new_note,
    const eventstore::NoteVerifier& key);

// A checkpoint to compare with a data directory's recomputed roots.
struct CheckpointToCheck {
  // How to name it in a problem: "stored checkpoint at tree size N", or the
  // file an auditor kept it in.
  std::string label;
  std::string note;
  // For a checkpoint stored in the directory: the size it is stored under.
  std::optional<uint64_t> stored_size;
};

// The checkpoints stored in a data directory, as CheckpointToCheck.
std::vector<CheckpointToCheck> StoredCheckpoints(
    const eventstore::DataDirReport& report);

// Checks checkpoints against the roots eventstore::VerifyDataDir recomputed
// from a directory's events (their sizes must have been among the roots
// wanted): each must be a checkpoint whose root is the recomputed root at its
// size and, if `key` is given, validly signed by it. Returns one line per
// checkpoint that fails (empty: all pass).
std::vector<std::string> CheckCheckpointsAgainstRoots(
    const eventstore::DataDirReport& report,
    const std::vector<CheckpointToCheck>& checkpoints,
    const eventstore::NoteVerifier* key);

}  // namespace casetrail::tools

#endif  // CASETRAIL_TOOLS_OFFLINE_VERIFY_H_
