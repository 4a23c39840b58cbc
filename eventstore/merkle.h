#ifndef CASETRAIL_EVENTSTORE_MERKLE_H_
#define CASETRAIL_EVENTSTORE_MERKLE_H_

// The Merkle tree of RFC 9162 (Certificate Transparency v2), section 2.1, over
// the stored bytes of the log's events in position order: leaf hash
// SHA-256(0x00 || bytes), node hash SHA-256(0x01 || left || right), SHA-256
// from OpenSSL.
//
// The tree is kept as the hashes of its complete subtrees: subtree (level,
// index) covers leaves [index * 2^level, (index + 1) * 2^level). Any root or
// proof is computed from O(log n) of them (at most a few dozen reads for a tree
// of 10^7 leaves), so a store keeps them and answers from a SubtreeHashSource.
// MerkleFrontier extends the tree one leaf at a time and reports each subtree
// hash that the new leaf completes, for the writer to store in the same batch
// as the event.
//
// Thread-safety: the free functions are thread-safe. A MerkleFrontier is not.

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace casetrail::eventstore {

using MerkleHash = std::array<uint8_t, 32>;

// SHA-256(0x00 || bytes).
MerkleHash LeafHash(absl::string_view bytes);
// SHA-256(0x01 || left || right).
MerkleHash NodeHash(const MerkleHash& left, const MerkleHash& right);
// The root of the empty tree: SHA-256 of nothing.
MerkleHash EmptyTreeHash();

std::string ToHex(const MerkleHash& hash);

// Where complete-subtree hashes come from (a column family, or memory in tests
// and offline verification).
class SubtreeHashSource {
 public:
  virtual ~SubtreeHashSource() = default;
  // The hash of complete subtree (level, index). Errors: NOT_FOUND if it is not
  // stored (the tree is smaller); any storage error.
  virtual absl::StatusOr<MerkleHash> Subtree(int level,
                                             uint64_t index) const = 0;
};

// Complete-subtree hashes in memory. Thread-compatible.
class InMemorySubtreeHashes final : public SubtreeHashSource {
 public:
  absl::StatusOr<MerkleHash> Subtree(int level, uint64_t index) const override;
  void Put(int level, uint64_t index, const MerkleHash& hash);

 private:
  absl::flat_hash_map<std::pair<int, uint64_t>, MerkleHash> hashes_;
};

// MTH of the first `tree_size` leaves (EmptyTreeHash() for 0).
absl::StatusOr<MerkleHash> RootHash(const SubtreeHashSource& source,
                                    uint64_t tree_size);

// PATH(index, D[tree_size]) of RFC 9162 2.1.3.1, nearest the leaf first.
// Errors: INVALID_ARGUMENT unless index < tree_size; the source's errors.
absl::StatusOr<std::vector<MerkleHash>> InclusionProof(
    const SubtreeHashSource& source, uint64_t index, uint64_t tree_size);

// PROOF(old_size, D[new_size]) of RFC 9162 2.1.4.1; empty when old_size is 0 or
// equals new_size. Errors: INVALID_ARGUMENT if old_size > new_size; the
// source's errors.
absl::StatusOr<std::vector<MerkleHash>> ConsistencyProof(
    const SubtreeHashSource& source, uint64_t old_size, uint64_t new_size);

// RFC 9162 2.1.3.2. OK if `proof` shows that the leaf with `leaf_hash` is leaf
// `index` of the tree of `tree_size` leaves with root `root`. Errors:
// INVALID_ARGUMENT if index >= tree_size; FAILED_PRECONDITION, saying what did
// not match, otherwise.
absl::Status VerifyInclusion(uint64_t index, uint64_t tree_size,
                             const MerkleHash& leaf_hash,
                             absl::Span<const MerkleHash> proof,
                             const MerkleHash& root);

// RFC 9162 2.1.4.2. OK if `proof` shows that the tree of `old_size` leaves with
// `old_root` is a prefix of the tree of `new_size` leaves with `new_root`.
// Errors: INVALID_ARGUMENT if old_size > new_size; FAILED_PRECONDITION, saying
// what did not match, otherwise.
absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               const MerkleHash& old_root,
                               const MerkleHash& new_root,
                               absl::Span<const MerkleHash> proof);

// The right edge of a growing tree: one complete subtree per set bit of its
// size, largest (leftmost) first. Appending costs one leaf hash plus one node
// hash per subtree completed (two hashes amortised); the root costs one node
// hash per set bit.
class MerkleFrontier {
 public:
  using EmitFn =
      std::function<void(int level, uint64_t index, const MerkleHash& hash)>;

  MerkleFrontier() = default;

  // The frontier of the first `tree_size` leaves, read from stored subtree
  // hashes.
  static absl::StatusOr<MerkleFrontier> Load(const SubtreeHashSource& source,
                                             uint64_t tree_size);

  // Adds a leaf. `emit` is called for the leaf itself (level 0) and for every
  // subtree it completes, lowest level first.
  void Append(const MerkleHash& leaf_hash, const EmitFn& emit);

  uint64_t size() const { return size_; }
  MerkleHash Root() const;

 private:
  struct Edge {
    int level;
    MerkleHash hash;
  };
  uint64_t size_ = 0;
  std::vector<Edge> edge_;
};

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_MERKLE_H_
