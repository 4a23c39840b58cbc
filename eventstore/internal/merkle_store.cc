#include "eventstore/internal/merkle_store.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "eventstore/internal/rocksdb_glue.h"
#include "eventstore/keys.h"
#include "eventstore/status_macros.h"
#include "rocksdb/write_batch.h"

namespace casetrail::eventstore::internal {

std::string EncodeTreeHead(uint64_t size, const MerkleHash& root) {
  std::string value = EncodeU64(size);
  value.append(reinterpret_cast<const char*>(root.data()), root.size());
  return value;
}

absl::StatusOr<MerkleHash> RocksDbSubtreeHashes::Subtree(int level,
                                                         uint64_t index) const {
  std::string value;
  if (level == 0) {
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), events_cf_, EventKey(index), &value);
    if (s.IsNotFound()) {
      return absl::NotFoundError(absl::StrCat("no event at position ", index));
    }
    RETURN_IF_ERROR(FromRocksDb(s, absl::StrCat("reading position ", index)));
    return LeafHash(value);
  }
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), merkle_cf_,
                               MerkleKey(level, index), &value);
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
                             rocksdb::ColumnFamilyHandle* meta_cf,
                             uint64_t log_size) {
  MerkleFrontier frontier;
  rocksdb::WriteBatch batch;
  auto put = [&](int level, uint64_t index, const MerkleHash& h) {
    if (level > 0) batch.Put(merkle_cf, MerkleKey(level, index), AsSlice(h));
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
  batch.Put(meta_cf, kTreeHeadKey, EncodeTreeHead(log_size, frontier.Root()));
  return FromRocksDb(db->Write(sync, &batch), "writing the tree");
}

absl::StatusOr<MerkleFrontier> LoadCheckedFrontier(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events_cf,
    rocksdb::ColumnFamilyHandle* merkle_cf,
    rocksdb::ColumnFamilyHandle* meta_cf, uint64_t log_size,
    uint64_t newest_to_check) {
  RocksDbSubtreeHashes source(db, events_cf, merkle_cf);
  absl::StatusOr<MerkleFrontier> frontier =
      MerkleFrontier::Load(source, log_size);
  if (!frontier.ok()) {
    return absl::DataLossError(
        absl::StrCat("the Merkle tree does not cover the ", log_size,
                     " stored events: ", frontier.status().message()));
  }

  std::string head;
  rocksdb::Status s =
      db->Get(rocksdb::ReadOptions(), meta_cf, kTreeHeadKey, &head);
  if (s.IsNotFound() && log_size == 0) return frontier;
  if (s.IsNotFound()) {
    return absl::DataLossError("the Merkle tree head is missing");
  }
  RETURN_IF_ERROR(FromRocksDb(s, "reading the Merkle tree head"));
  const std::optional<uint64_t> head_size =
      head.size() == 40 ? DecodeU64(absl::string_view(head).substr(0, 8))
                        : std::nullopt;
  if (!head_size) {
    return absl::DataLossError("the Merkle tree head is damaged");
  }
  if (*head_size != log_size) {
    return absl::DataLossError(absl::StrCat(
        "the Merkle tree head covers ", *head_size,
        " events but the log holds ", log_size,
        *head_size > log_size ? ": events were removed from its end" : ""));
  }
  const MerkleHash root = frontier->Root();
  if (absl::string_view(head).substr(8) !=
      absl::string_view(reinterpret_cast<const char*>(root.data()),
                        root.size())) {
    return absl::DataLossError(
        absl::StrCat("the stored events and subtree hashes give root ",
                     ToHex(root), " for ", log_size,
                     " events, not the tree head's: the newest events "
                     "or subtree hashes were changed"));
  }

  // Every complete subtree over the newest events must be the hash of its two
  // halves (leaves from the events' bytes), so a change there is caught even
  // where it cancels out of the frontier.
  const uint64_t first =
      log_size > newest_to_check ? log_size - newest_to_check : 0;
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
            "positions ", index * width, "-", (index + 1) * width - 1,
            " do not hash to the stored subtree hash at level ", level,
            " index ", index, ": an event or the subtree hash was changed"));
      }
    }
  }
  return frontier;
}

}  // namespace casetrail::eventstore::internal
