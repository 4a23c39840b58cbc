// The offline checks behind `casetrail verify`, on trees built in memory:
// genuine proofs verify, and each way a proof, an event or a checkpoint can be
// wrong is refused with its own reason.

#include "tools/offline_verify.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "eventstore/merkle.h"
#include "eventstore/stored_event.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace casetrail::tools {
namespace {

using eventstore::Checkpoint;
using eventstore::InMemorySubtreeHashes;
using eventstore::MerkleFrontier;
using eventstore::MerkleHash;
using eventstore::NoteSigner;
using eventstore::NoteVerifier;
using ::testing::HasSubstr;

class OfflineVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint64_t p = 0; p < 13; ++p) {
      v1::CaseEvent event;
      event.set_event_id("evt-" + std::to_string(p));
      event.set_stream_id("case-1");
      events_.push_back(eventstore::EncodeStoredEvent(
          p, p + 1, absl::FromUnixSeconds(1790000000),
          event.SerializeAsString()));
      frontier_.Append(eventstore::LeafHash(events_.back()),
                       [&](int level, uint64_t index, const MerkleHash& h) {
                         tree_.Put(level, index, h);
                       });
      roots_.push_back(frontier_.Root());
    }
  }

  std::string Note(uint64_t size, const NoteSigner& signer) {
    Checkpoint c;
    c.origin = signer.name();
    c.tree_size = size;
    c.root = roots_[size - 1];
    return *eventstore::SignCheckpoint(c, signer);
  }

  v1::GetInclusionProofResponse InclusionProof(uint64_t position,
                                               uint64_t size) {
    v1::GetInclusionProofResponse proof;
    proof.set_position(position);
    proof.set_tree_size(size);
    proof.set_event(events_[position]);
    // Held in a local: a range-for over *StatusOr would dangle.
    const std::vector<MerkleHash> path =
        *eventstore::InclusionProof(tree_, position, size);
    for (const MerkleHash& h : path) {
      proof.add_hashes(std::string(h.begin(), h.end()));
    }
    return proof;
  }

  v1::GetConsistencyProofResponse ConsistencyProof(uint64_t old_size,
                                                   uint64_t new_size) {
    v1::GetConsistencyProofResponse proof;
    proof.set_old_size(old_size);
    proof.set_new_size(new_size);
    const std::vector<MerkleHash> path =
        *eventstore::ConsistencyProof(tree_, old_size, new_size);
    for (const MerkleHash& h : path) {
      proof.add_hashes(std::string(h.begin(), h.end()));
    }
    return proof;
  }

  NoteSigner signer_ = *NoteSigner::Generate("casetrail.test/log");
  NoteVerifier key_ = *NoteVerifier::FromVerifierKey(signer_.verifier_key());
  std::vector<std::string> events_;
  InMemorySubtreeHashes tree_;
  MerkleFrontier frontier_;
  std::vector<MerkleHash> roots_;  // roots_[n - 1]: the tree of n events
};

TEST_F(OfflineVerifyTest, GenuineInclusionProofsVerify) {
  for (uint64_t p = 0; p < 13; ++p) {
    auto verified =
        VerifyInclusionProof(InclusionProof(p, 13), Note(13, signer_), key_);
    ASSERT_TRUE(verified.ok()) << p << ": " << verified.status();
    EXPECT_EQ(verified->event.event().event_id(), "evt-" + std::to_string(p));
    EXPECT_EQ(verified->checkpoint.tree_size, 13u);
  }
}

TEST_F(OfflineVerifyTest, InclusionRefusals) {
  const std::string note = Note(13, signer_);
  auto refused = [&](const v1::GetInclusionProofResponse& proof,
                     absl::string_view checkpoint, absl::StatusCode code,
                     absl::string_view reason) {
    absl::Status status =
        VerifyInclusionProof(proof, checkpoint, key_).status();
    EXPECT_EQ(status.code(), code) << status;
    EXPECT_THAT(status.message(), HasSubstr(reason));
  };
  // A proof against another tree size than the checkpoint's.
  refused(InclusionProof(3, 12), note, absl::StatusCode::kFailedPrecondition,
          "tree size 12");
  // A changed hash in the path.
  v1::GetInclusionProofResponse changed = InclusionProof(3, 13);
  (*changed.mutable_hashes(1))[0] ^= 1;
  refused(changed, note, absl::StatusCode::kFailedPrecondition, "not proven");
  // A hash of the wrong length.
  v1::GetInclusionProofResponse short_hash = InclusionProof(3, 13);
  short_hash.mutable_hashes(0)->pop_back();
  refused(short_hash, note, absl::StatusCode::kFailedPrecondition, "31 bytes");
  // Another event's bytes under this position's proof.
  v1::GetInclusionProofResponse other_event = InclusionProof(3, 13);
  other_event.set_event(events_[4]);
  refused(other_event, note, absl::StatusCode::kFailedPrecondition,
          "not proven");
  // Genuine leaf bytes that do not say they are at the proven position: build
  // a tree whose event 0 claims position 5.
  InMemorySubtreeHashes tree;
  MerkleFrontier frontier;
  const std::string liar =
      eventstore::EncodeStoredEvent(5, 1, absl::FromUnixSeconds(1790000000),
                                    v1::CaseEvent().SerializeAsString());
  frontier.Append(eventstore::LeafHash(liar),
                  [](int, uint64_t, const MerkleHash&) {});
  Checkpoint c{signer_.name(), 1, frontier.Root(), absl::UnixEpoch()};
  v1::GetInclusionProofResponse liar_proof;
  liar_proof.set_position(0);
  liar_proof.set_tree_size(1);
  liar_proof.set_event(liar);
  refused(liar_proof, *eventstore::SignCheckpoint(c, signer_),
          absl::StatusCode::kFailedPrecondition, "not the event recorded");
  // A checkpoint by another key.
  NoteSigner other = *NoteSigner::Generate("casetrail.test/log");
  refused(InclusionProof(3, 13), Note(13, other),
          absl::StatusCode::kPermissionDenied, "not signed by");
}

TEST_F(OfflineVerifyTest, GenuineConsistencyProofsVerify) {
  for (uint64_t old_size = 1; old_size <= 13; ++old_size) {
    auto verified = VerifyConsistencyProof(ConsistencyProof(old_size, 13),
                                           Note(old_size, signer_),
                                           Note(13, signer_), key_);
    ASSERT_TRUE(verified.ok()) << old_size << ": " << verified.status();
  }
}

TEST_F(OfflineVerifyTest, ConsistencyRefusals) {
  auto refused = [&](const v1::GetConsistencyProofResponse& proof,
                     const std::string& old_note, const std::string& new_note,
                     absl::string_view reason) {
    absl::Status status =
        VerifyConsistencyProof(proof, old_note, new_note, key_).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_THAT(status.message(), HasSubstr(reason));
  };
  refused(ConsistencyProof(5, 13), Note(13, signer_), Note(5, signer_),
          "smaller");
  refused(ConsistencyProof(5, 13), Note(6, signer_), Note(13, signer_),
          "the proof is from 5 to 13");
  v1::GetConsistencyProofResponse changed = ConsistencyProof(5, 13);
  (*changed.mutable_hashes(0))[7] ^= 1;
  refused(changed, Note(5, signer_), Note(13, signer_), "does not extend");
  // Two signed checkpoints of one size with different roots: a rewrite.
  Checkpoint rewritten{signer_.name(), 13, roots_[3], absl::UnixEpoch()};
  refused(ConsistencyProof(13, 13), Note(13, signer_),
          *eventstore::SignCheckpoint(rewritten, signer_), "rewritten");
}

TEST(LoadVerifierKeyTest, TakesTheKeyOrAFileHoldingIt) {
  NoteSigner signer = *NoteSigner::Generate("casetrail.test/log");
  EXPECT_TRUE(LoadVerifierKey(signer.verifier_key()).ok());
  EXPECT_EQ(LoadVerifierKey("/no/such/file").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadVerifierKey("name+00000000+AAAA").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace casetrail::tools
