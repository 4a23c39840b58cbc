#include "tools/offline_verify.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eventstore/merkle.h"
#include "eventstore/status_macros.h"

namespace casetrail::tools {
namespace {

using eventstore::MerkleHash;

absl::StatusOr<std::vector<MerkleHash>> Hashes(
    const google::protobuf::RepeatedPtrField<std::string>& in) {
  std::vector<MerkleHash> out;
  for (int i = 0; i < in.size(); ++i) {
    if (in[i].size() != 32) {
      return absl::FailedPreconditionError(absl::StrCat(
          "proof hash ", i, " is ", in[i].size(), " bytes, not 32"));
    }
    MerkleHash h;
    std::copy(in[i].begin(), in[i].end(), h.begin());
    out.push_back(h);
  }
  return out;
}

}  // namespace

absl::StatusOr<eventstore::NoteVerifier> LoadVerifierKey(
    absl::string_view key_or_path) {
  absl::StatusOr<eventstore::NoteVerifier> key =
      eventstore::NoteVerifier::FromVerifierKey(key_or_path);
  if (key.ok() || key_or_path.find('+') != absl::string_view::npos) return key;
  std::ifstream in{std::string(key_or_path)};
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--key: ", key_or_path, " is neither a verifier key nor a file"));
  }
  std::stringstream text;
  text << in.rdbuf();
  key = eventstore::NoteVerifier::FromVerifierKey(text.str());
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_or_path, ": ", key.status().message()));
  }
  return key;
}

absl::StatusOr<VerifiedInclusion> VerifyInclusionProof(
    const casetrail::v1::GetInclusionProofResponse& proof,
    absl::string_view checkpoint_note, const eventstore::NoteVerifier& key) {
  VerifiedInclusion verified;
  ASSIGN_OR_RETURN(verified.checkpoint,
                   eventstore::OpenCheckpoint(checkpoint_note, key));
  if (proof.tree_size() != verified.checkpoint.tree_size) {
    return absl::FailedPreconditionError(
        absl::StrCat("the proof is for tree size ", proof.tree_size(),
                     " but the checkpoint is for tree size ",
                     verified.checkpoint.tree_size));
  }
  ASSIGN_OR_RETURN(std::vector<MerkleHash> path, Hashes(proof.hashes()));
  absl::Status included = eventstore::VerifyInclusion(
      proof.position(), proof.tree_size(), eventstore::LeafHash(proof.event()),
      path, verified.checkpoint.root);
  if (!included.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the event is not proven to be at position ", proof.position(),
        " of the checkpoint's tree: ", included.message()));
  }
  // The bytes are proven; what they say must agree with where they are.
  if (!verified.event.ParseFromString(proof.event()) ||
      verified.event.position() != proof.position()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the proven bytes are not the event recorded at position ",
                     proof.position()));
  }
  return verified;
}

absl::StatusOr<VerifiedConsistency> VerifyConsistencyProof(
    const casetrail::v1::GetConsistencyProofResponse& proof,
    absl::string_view old_note, absl::string_view new_note,
    const eventstore::NoteVerifier& key) {
  VerifiedConsistency verified;
  ASSIGN_OR_RETURN(verified.old_checkpoint,
                   eventstore::OpenCheckpoint(old_note, key));
  ASSIGN_OR_RETURN(verified.new_checkpoint,
                   eventstore::OpenCheckpoint(new_note, key));
  const eventstore::Checkpoint& old_cp = verified.old_checkpoint;
  const eventstore::Checkpoint& new_cp = verified.new_checkpoint;
  if (old_cp.tree_size > new_cp.tree_size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the newer checkpoint (", new_cp.tree_size,
        " events) is smaller than the older (", old_cp.tree_size,
        "): the log lost events, or the checkpoints are given in the wrong "
        "order"));
  }
  if (old_cp.tree_size == new_cp.tree_size && old_cp.root != new_cp.root) {
    return absl::FailedPreconditionError(
        absl::StrCat("two checkpoints of ", old_cp.tree_size,
                     " events have different roots: the log was rewritten"));
  }
  if (proof.old_size() != old_cp.tree_size ||
      proof.new_size() != new_cp.tree_size) {
    return absl::FailedPreconditionError(
        absl::StrCat("the proof is from ", proof.old_size(), " to ",
                     proof.new_size(), " events, but the checkpoints are at ",
                     old_cp.tree_size, " and ", new_cp.tree_size));
  }
  ASSIGN_OR_RETURN(std::vector<MerkleHash> path, Hashes(proof.hashes()));
  absl::Status consistent = eventstore::VerifyConsistency(
      old_cp.tree_size, new_cp.tree_size, old_cp.root, new_cp.root, path);
  if (!consistent.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the newer checkpoint's tree does not extend the older one's: ",
        consistent.message()));
  }
  return verified;
}

std::vector<CheckpointToCheck> StoredCheckpoints(
    const eventstore::DataDirReport& report) {
  std::vector<CheckpointToCheck> out;
  for (const auto& [size, note] : report.stored_checkpoints) {
    out.push_back(
        {absl::StrCat("stored checkpoint at tree size ", size), note, size});
  }
  return out;
}

std::vector<std::string> CheckCheckpointsAgainstRoots(
    const eventstore::DataDirReport& report,
    const std::vector<CheckpointToCheck>& checkpoints,
    const eventstore::NoteVerifier* key) {
  std::vector<std::string> problems;
  for (const CheckpointToCheck& c : checkpoints) {
    absl::StatusOr<eventstore::Checkpoint> checkpoint =
        key != nullptr ? eventstore::OpenCheckpoint(c.note, *key)
                       : eventstore::ParseCheckpointNoteUnverified(c.note);
    if (!checkpoint.ok()) {
      problems.push_back(
          absl::StrCat(c.label, ": ", checkpoint.status().message()));
      continue;
    }
    const uint64_t size = checkpoint->tree_size;
    if (c.stored_size && *c.stored_size != size) {
      problems.push_back(
          absl::StrCat(c.label, ": the note says tree size ", size));
      continue;
    }
    auto root = std::find_if(report.roots_at.begin(), report.roots_at.end(),
                             [size](const auto& r) { return r.first == size; });
    if (root == report.roots_at.end()) {
      problems.push_back(absl::StrCat(
          c.label, ": it covers ", size, " events but the log holds only ",
          report.log_size, ": events were removed"));
    } else if (root->second != checkpoint->root) {
      problems.push_back(absl::StrCat(
          c.label, ": it signed root ", eventstore::ToHex(checkpoint->root),
          " for ", size, " events but the stored events give ",
          eventstore::ToHex(root->second),
          ": the log was changed after the checkpoint was issued"));
    }
  }
  return problems;
}

}  // namespace casetrail::tools
