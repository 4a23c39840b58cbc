// Fuzz target for the decoders an auditor feeds untrusted text to: verifier
// and signer keys, signed notes, checkpoints, and proof files checked against
// a checkpoint. Besides not crashing, checks that a note opens only to a
// prefix of itself, that whatever parses as a checkpoint text formats back to
// the same bytes, and that nothing but the genuine proof verifies.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "eventstore/checkpoint.h"
#include "eventstore/merkle.h"
#include "eventstore/signed_note.h"
#include "google/protobuf/util/json_util.h"
#include "tests/fuzz/fuzz_seeds.h"
#include "tools/offline_verify.h"

namespace {

using casetrail::eventstore::Checkpoint;
using casetrail::eventstore::NoteSigner;
using casetrail::eventstore::NoteVerifier;

// A fixed key (the Go note package's documented example) so runs repeat.
constexpr char kSignerKey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+"
    "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

struct Fixture {
  NoteSigner signer = *NoteSigner::FromSignerKey(kSignerKey);
  NoteVerifier verifier = *NoteVerifier::FromVerifierKey(signer.verifier_key());
  // A two-event tree and its signed checkpoint, for proof files.
  std::string event0 = "event zero";
  std::string event1 = "event one";
  std::string note;

  Fixture() {
    using casetrail::eventstore::LeafHash;
    using casetrail::eventstore::NodeHash;
    Checkpoint c;
    c.origin = signer.name();
    c.tree_size = 2;
    c.root = NodeHash(LeafHash(event0), LeafHash(event1));
    note = *casetrail::eventstore::SignCheckpoint(c, signer);
  }
};

const Fixture& F() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

}  // namespace

std::vector<std::string> FuzzSeeds() {
  const Fixture& f = F();
  return {
      std::string(kSignerKey),
      f.signer.verifier_key(),
      f.note,
      "casetrail.local/log\n3\n"
      "rxo9BZ9+byF95wpRNnpuAffVlwfOE9M5gKph+UWQebI=\n"
      "issued_at 2026-11-23T14:21:07Z\n",
      R"({"position": "0", "tree_size": "2", "event": "ZXZlbnQgemVybw==",
          "hashes": ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]})",
  };
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SilenceProtobufLogs();
  const Fixture& f = F();
  const absl::string_view input(reinterpret_cast<const char*>(data), size);

  (void)NoteSigner::FromSignerKey(input);
  auto key = NoteVerifier::FromVerifierKey(input);
  if (key.ok()) {
    FUZZ_CHECK(NoteVerifier::FromVerifierKey(key->verifier_key()).ok());
  }

  auto text = f.verifier.Open(input);
  if (text.ok()) FUZZ_CHECK(input.substr(0, text->size()) == *text);

  auto checkpoint = casetrail::eventstore::ParseCheckpointText(input);
  if (checkpoint.ok()) {
    FUZZ_CHECK(casetrail::eventstore::CheckpointText(*checkpoint) == input);
  }
  (void)casetrail::eventstore::ParseCheckpointNoteUnverified(input);
  (void)casetrail::eventstore::OpenCheckpoint(input, f.verifier);

  casetrail::v1::GetInclusionProofResponse proof;
  if (google::protobuf::util::JsonStringToMessage(std::string(input), &proof)
          .ok()) {
    auto verified =
        casetrail::tools::VerifyInclusionProof(proof, f.note, f.verifier);
    // The only proofs of this tree are event0 with [leaf1] and event1 with
    // [leaf0]; neither event parses as a RecordedEvent at its position, so
    // nothing verifies.
    FUZZ_CHECK(!verified.ok());
  }
  return 0;
}
