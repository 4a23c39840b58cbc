#include "eventstore/internal/merkle_store.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "eventstore/internal/rocksdb_glue.h"
#include "eventstore/keys.h"
#include "eventstore/status_macros.h"
#include "rocksdb/write_batch.h"

namespace casetrail::eventstore::internal {
absl::StatusOr<MerkleHash> RocksDbSubtreeHashes::Subtree(int level,
                                                         uint64_t index) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf_, MerkleKey(level, index), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("no Merkle subtree hash at level ",
                                            level, " index ", index));
  }
  RETURN_IF_ERROR(FromRocksDb(s, "reading a Merkle subtree hash"));
  MerkleHash hash;
  if (value.size() != hash.size()) {
    return absl::DataLossError(
        absl::StrCat("Merkle subtree hash at level ", level, " index ", index,
                     " is ", value.size(), " bytes, not ", hash.size()));
  }
  std::copy(value.begin(), value.end(), hash.begin());
  return hash;
}

absl::Status BuildMerkleTree(rocksdb::DB* db,
                             rocksdb::ColumnFamilyHandle* events_cf,
                             rocksdb::ColumnFamilyHandle* merkle_cf,
                             uint64_t log_size) {
  MerkleFrontier frontier;
  rocksdb::WriteBatch batch;
  auto put = [&](int level, uint64_t index, const MerkleHash& h) {
    batch.Put(merkle_cf, MerkleKey(level, index), AsSlice(h));
  };
  rocksdb::WriteOptions sync;
  sync.sync = true;
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions(), events_cf));
  for (it->SeekToFirst(); it->Valid() && frontier.size() < log_size;
       it->Next()) {
    if (DecodeU64(View(it->key())) != frontier.size()) {
      return absl::DataLossError(
          absl::StrCat("cannot build the Merkle tree: position ",
                       frontier.size(), " is missing from the log"));
    }
    frontier.Append(LeafHash(View(it->value())), put);
    if (batch.Count() >= 10000) {
      RETURN_IF_ERROR(FromRocksDb(db->Write(sync, &batch), "writing the tree"));
      batch.Clear();
    }
  }
  RETURN_IF_ERROR(FromRocksDb(it->status(), "reading the log"));
  if (frontier.size() != log_size) {
    return absl::DataLossError(
        absl::StrCat("cannot build the Merkle tree: the log ends at ",
                     frontier.size(), ", not ", log_size));
  }
  return FromRocksDb(db->Write(sync, &batch), "writing the tree");
}

absl::StatusOr<MerkleFrontier> LoadCheckedFrontier(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events_cf,
    rocksdb::ColumnFamilyHandle* merkle_cf, uint64_t log_size,
    uint64_t newest_to_check) {
  RocksDbSubtreeHashes source(db, merkle_cf);
  absl::StatusOr<MerkleFrontier> frontier =
      MerkleFrontier::Load(source, log_size);
  if (!frontier.ok()) {
    return absl::DataLossError(
        absl::StrCat("the Merkle tree does not cover the ", log_size,
                     " stored events: ", frontier.status().message()));
  }
  if (source.Subtree(0, log_size).ok()) {
    return absl::DataLossError(
        absl::StrCat("the Merkle tree has a leaf at position ", log_size,
                     " but the log holds only ", log_size,
                     " events: an event was removed from the end of the log"));
  }
  const uint64_t first =
      log_size > newest_to_check ? log_size - newest_to_check : 0;
  for (uint64_t position = first; position < log_size; ++position) {
    std::string stored;
    absl::Status read = FromRocksDb(
        db->Get(rocksdb::ReadOptions(), events_cf, EventKey(position), &stored),
        absl::StrCat("reading position ", position));
    if (!read.ok()) {
      return absl::DataLossError(
          absl::StrCat("position ", position,
                       " is covered by the Merkle tree but ", read.message()));
    }
    absl::StatusOr<MerkleHash> leaf = source.Subtree(0, position);
    if (!leaf.ok()) {
      return absl::DataLossError(
          absl::StrCat("the Merkle tree has no leaf for position ", position,
                       ": ", leaf.status().message()));
    }
    if (LeafHash(stored) != *leaf) {
      return absl::DataLossError(absl::StrCat(
          "the event at position ", position,
          " does not match its Merkle leaf hash: its stored bytes changed"));
    }
  }
  // Every complete subtree over those newest leaves must be the hash of its
  // two halves, so a replaced subtree hash near the head is caught too.
  for (int level = 1; (uint64_t{1} << level) <= log_size - first; ++level) {
    const uint64_t width = uint64_t{1} << level;
    for (uint64_t index = (first + width - 1) / width;
         (index + 1) * width <= log_size; ++index) {
      ASSIGN_OR_RETURN(MerkleHash stored, source.Subtree(level, index));
      ASSIGN_OR_RETURN(MerkleHash left, source.Subtree(level - 1, 2 * index));
      ASSIGN_OR_RETURN(MerkleHash right,
                       source.Subtree(level - 1, 2 * index + 1));
      if (NodeHash(left, right) != stored) {
        return absl::DataLossError(absl::StrCat(
            "the Merkle subtree hash at level ", level, " index ", index,
            " (positions ", index * width, "-", (index + 1) * width - 1,
            ") is not the hash of its halves: it was replaced"));
      }
    }
  }
  return frontier;
}

}  // namespace casetrail::eventstore::internal
