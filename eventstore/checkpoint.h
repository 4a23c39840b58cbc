#ifndef CASETRAIL_EVENTSTORE_CHECKPOINT_H_
#define CASETRAIL_EVENTSTORE_CHECKPOINT_H_

// Checkpoints: a signed statement of the log's Merkle tree at one size, in the
// C2SP tlog-checkpoint form, as a signed note (eventstore/signed_note.h):
//
//   <origin>                      the log's name; also the signing key's name
//   <tree size>                   ASCII decimal
//   <root hash>                   base64 of the 32-byte RFC 9162 root
//   issued_at <time>              extension line: RFC 3339, UTC, seconds
//
//   — <origin> <base64(key id || Ed25519 signature)>
//
// An auditor who keeps one checkpoint and later gets another proves with a
// consistency proof between the two that the log only grew (docs/integrity.md).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eventstore/merkle.h"
#include "eventstore/signed_note.h"

namespace casetrail::eventstore {

struct Checkpoint {
  std::string origin;
  uint64_t tree_size = 0;
  MerkleHash root{};
  absl::Time issued_at = absl::UnixEpoch();

  bool operator==(const Checkpoint&) const = default;
};

// The note text (the four lines above). issued_at is truncated to seconds.
std::string CheckpointText(const Checkpoint& checkpoint);
// Parses a note text strictly: exactly those four lines. Errors:
// INVALID_ARGUMENT naming the line that is wrong.
absl::StatusOr<Checkpoint> ParseCheckpointText(absl::string_view text);

// The signed note. Errors: INVALID_ARGUMENT if the origin is not the key's
// name.
absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& checkpoint,
                                           const NoteSigner& signer);

// The checkpoint in `note` if it is signed by `verifier` and its origin is the
// key's name. Errors: INVALID_ARGUMENT if malformed; PERMISSION_DENIED if the
// signature is missing, by another key or does not verify; FAILED_PRECONDITION
// if it is validly signed but names another origin.
absl::StatusOr<Checkpoint> OpenCheckpoint(absl::string_view note,
                                          const NoteVerifier& verifier);

// The checkpoint in `note` WITHOUT checking any signature: for display and for
// comparing a stored checkpoint's root with a recomputed one. Errors:
// INVALID_ARGUMENT if malformed.
absl::StatusOr<Checkpoint> ParseCheckpointNoteUnverified(
    absl::string_view note);

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_CHECKPOINT_H_
