#ifndef CASETRAIL_EVENTSTORE_INTERNAL_MERKLE_STORE_H_
#define CASETRAIL_EVENTSTORE_INTERNAL_MERKLE_STORE_H_

// The Merkle tree's complete-subtree hashes in the `merkle` column family
// (eventstore/FORMAT.md), and the checks and rebuild the store runs on open.

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eventstore/merkle.h"
#include "rocksdb/db.h"

namespace casetrail::eventstore::internal {

// The bytes of `hash`, as RocksDB takes them.
inline rocksdb::Slice AsSlice(const MerkleHash& hash) {
  return rocksdb::Slice(reinterpret_cast<const char*>(hash.data()),
                        hash.size());
}

// Reads subtree hashes from the `merkle` column family. `db` and `cf` must
// outlive it. Thread-safe.
class RocksDbSubtreeHashes final : public SubtreeHashSource {
 public:
  RocksDbSubtreeHashes(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf)
      : db_(db), cf_(cf) {}
  absl::StatusOr<MerkleHash> Subtree(int level, uint64_t index) const override;

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
};

// Hashes every event in [0, log_size) into `merkle_cf` from scratch, synced.
// For stores written before the tree existed (format version 1).
absl::Status BuildMerkleTree(rocksdb::DB* db,
                             rocksdb::ColumnFamilyHandle* events_cf,
                             rocksdb::ColumnFamilyHandle* merkle_cf,
                             uint64_t log_size);

// The tree's right edge for a log of `log_size` events, after checking that
// the stored tree covers exactly those events and that the newest
// `newest_to_check` events hash to their stored leaves, and every complete
// subtree over those leaves to its two halves. Errors: DATA_LOSS
// saying what does not match and at which position.
absl::StatusOr<MerkleFrontier> LoadCheckedFrontier(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events_cf,
    rocksdb::ColumnFamilyHandle* merkle_cf, uint64_t log_size,
    uint64_t newest_to_check);

}  // namespace casetrail::eventstore::internal

#endif  // CASETRAIL_EVENTSTORE_INTERNAL_MERKLE_STORE_H_
