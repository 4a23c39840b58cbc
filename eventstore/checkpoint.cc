#include "eventstore/checkpoint.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "eventstore/status_macros.h"

namespace casetrail::eventstore {
namespace {

constexpr char kIssuedAtPrefix[] = "issued_at ";
constexpr char kTimeFormat[] = "%Y-%m-%dT%H:%M:%SZ";

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed checkpoint: ", what));
}

}  // namespace

std::string CheckpointText(const Checkpoint& checkpoint) {
  return absl::StrCat(
      checkpoint.origin, "\n", checkpoint.tree_size, "\n",
      absl::Base64Escape(absl::string_view(
          reinterpret_cast<const char*>(checkpoint.root.data()),
          checkpoint.root.size())),
      "\n", kIssuedAtPrefix,
      absl::FormatTime(kTimeFormat, checkpoint.issued_at, absl::UTCTimeZone()),
      "\n");
}

absl::StatusOr<Checkpoint> ParseCheckpointText(absl::string_view text) {
  if (!absl::ConsumeSuffix(&text, "\n")) {
    return Malformed("the text does not end in a newline");
  }
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.size() != 4) {
    return Malformed(
        absl::StrCat("expected 4 lines (origin, tree size, root "
                     "hash, issued_at), found ",
                     lines.size()));
  }
  Checkpoint checkpoint;
  if (!IsValidKeyName(lines[0])) {
    return Malformed("line 1 (origin) is not a valid log name");
  }
  checkpoint.origin = std::string(lines[0]);
  const absl::string_view size = lines[1];
  if (size.empty() || size.size() > 20 || (size.size() > 1 && size[0] == '0') ||
      size.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(size, &checkpoint.tree_size)) {
    return Malformed(
        "line 2 (tree size) is not a decimal number without leading zeros");
  }
  std::string root;
  if (!absl::Base64Unescape(lines[2], &root) ||
      absl::Base64Escape(root) != lines[2] ||
      root.size() != checkpoint.root.size()) {
    return Malformed("line 3 (root hash) is not the base64 of 32 bytes");
  }
  std::copy(root.begin(), root.end(), checkpoint.root.begin());
  absl::string_view issued_at = lines[3];
  std::string error;
  if (!absl::ConsumePrefix(&issued_at, kIssuedAtPrefix) ||
      !absl::ParseTime(kTimeFormat, issued_at, absl::UTCTimeZone(),
                       &checkpoint.issued_at, &error) ||
      absl::FormatTime(kTimeFormat, checkpoint.issued_at,
                       absl::UTCTimeZone()) != issued_at) {
    return Malformed("line 4 is not \"issued_at YYYY-MM-DDTHH:MM:SSZ\"");
  }
  return checkpoint;
}

absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& checkpoint,
                                           const NoteSigner& signer) {
  if (checkpoint.origin != signer.name()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint origin \"", checkpoint.origin,
        "\" is not the signing key's name \"", signer.name(), "\""));
  }
  return signer.Sign(CheckpointText(checkpoint));
}

absl::StatusOr<Checkpoint> OpenCheckpoint(absl::string_view note,
                                          const NoteVerifier& verifier) {
  ASSIGN_OR_RETURN(std::string text, verifier.Open(note));
  ASSIGN_OR_RETURN(Checkpoint checkpoint, ParseCheckpointText(text));
  if (checkpoint.origin != verifier.name()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the checkpoint is for log \"", checkpoint.origin,
                     "\", but the key is for log \"", verifier.name(), "\""));
  }
  return checkpoint;
}

absl::StatusOr<Checkpoint> ParseCheckpointNoteUnverified(
    absl::string_view note) {
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return Malformed("no blank line before the signatures");
  }
  return ParseCheckpointText(note.substr(0, split + 1));
}

}  // namespace casetrail::eventstore
