#ifndef CASETRAIL_EVENTSTORE_INTERNAL_MERKLE_STORE_H_
#define CASETRAIL_EVENTSTORE_INTERNAL_MERKLE_STORE_H_

// The Merkle tree on disk (eventstore/FORMAT.md): complete-subtree hashes of
// level 1 and up in the `merkle` column family; leaf hashes (level 0) are not
// stored but computed from the events' stored bytes; and the tree head (size
// and root) in `meta`, written with every commit.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eventstore/merkle.h"
#include "rocksdb/db.h"

namespace casetrail::eventstore::internal {

inline constexpr char kTreeHeadKey[] = "tree_head";

// The bytes of `hash`, as RocksDB takes them.
inline rocksdb::Slice AsSlice(const MerkleHash& hash) {
  return rocksdb::Slice(reinterpret_cast<const char*>(hash.data()),
                        hash.size());
}

// `meta/tree_head` value: u64be(size) followed by the 32-byte root.
std::string EncodeTreeHead(uint64_t size, const MerkleHash& root);

// Subtree hashes of a store: level 0 by hashing the event at that position,
// higher levels from the `merkle` column family. The handles must outlive it.
// Thread-safe.
class RocksDbSubtreeHashes final : public SubtreeHashSource {
 public:
  RocksDbSubtreeHashes(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events_cf,
                       rocksdb::ColumnFamilyHandle* merkle_cf)
      : db_(db), events_cf_(events_cf), merkle_cf_(merkle_cf) {}
  absl::StatusOr<MerkleHash> Subtree(int level, uint64_t index) const override;

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* events_cf_;
  rocksdb::ColumnFamilyHandle* merkle_cf_;
};

// Builds the tree over every event in [0, log_size) from scratch, with its
// tree head, synced. For stores written before the tree existed (format 1).
absl::Status BuildMerkleTree(rocksdb::DB* db,
                             rocksdb::ColumnFamilyHandle* events_cf,
                             rocksdb::ColumnFamilyHandle* merkle_cf,
                             rocksdb::ColumnFamilyHandle* meta_cf,
                             uint64_t log_size);

// The tree's right edge for a log of `log_size` events, after checking that
// the stored tree head covers exactly those events with the root that the
// stored subtrees and events give, and that every complete subtree over the
// newest `newest_to_check` events is the hash of its two halves. Errors:
// DATA_LOSS saying what does not match and where.
absl::StatusOr<MerkleFrontier> LoadCheckedFrontier(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events_cf,
    rocksdb::ColumnFamilyHandle* merkle_cf,
    rocksdb::ColumnFamilyHandle* meta_cf, uint64_t log_size,
    uint64_t newest_to_check);

}  // namespace casetrail::eventstore::internal

#endif  // CASETRAIL_EVENTSTORE_INTERNAL_MERKLE_STORE_H_
