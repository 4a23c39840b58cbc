// EventStore's integrity side: roots and proofs from the stored Merkle tree,
// and the signed checkpoints kept in `meta`.

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eventstore/internal/event_store_impl.h"
#include "eventstore/internal/merkle_store.h"
#include "eventstore/internal/rocksdb_glue.h"
#include "eventstore/keys.h"
#include "eventstore/status_macros.h"

namespace casetrail::eventstore {
namespace {

using internal::FromRocksDb;
using internal::View;

// A stored hash that a committed tree size needs cannot be missing unless the
// store was damaged.
absl::Status Damaged(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kNotFound) return status;
  return absl::DataLossError(
      absl::StrCat("the stored Merkle tree is incomplete: ", status.message()));
}

}  // namespace

absl::Status EventStore::Impl::CheckTreeSize(uint64_t tree_size) const {
  if (db_closed_.load(std::memory_order_acquire)) {
    return absl::UnavailableError("event store is closed");
  }
  const uint64_t log_size = LogSize();
  if (tree_size > log_size) {
    return absl::OutOfRangeError(absl::StrCat(
        "tree size ", tree_size, " is beyond the log's size, ", log_size));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<uint64_t>> EventStore::Impl::PositionOfEvent(
    absl::string_view event_id) const {
  if (db_closed_.load(std::memory_order_acquire)) {
    return absl::UnavailableError("event store is closed");
  }
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), dedupe_cf_,
               rocksdb::Slice(event_id.data(), event_id.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(FromRocksDb(s, "looking up an event id"));
  const std::optional<uint64_t> position = DecodeU64(value);
  if (!position) {
    return absl::DataLossError(
        absl::StrCat("the index entry of event ", event_id, " is damaged"));
  }
  // An append being committed is not in the log until it is published.
  if (*position >= LogSize()) return std::nullopt;
  return position;
}

absl::StatusOr<std::string> EventStore::Impl::ReadEvent(
    uint64_t position) const {
  if (db_closed_.load(std::memory_order_acquire)) {
    return absl::UnavailableError("event store is closed");
  }
  if (position >= LogSize()) {
    return absl::NotFoundError(absl::StrCat("no event at position ", position,
                                            "; the log has ", LogSize(),
                                            " events"));
  }
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), events_cf_, EventKey(position), &value);
  if (s.IsNotFound()) {
    return absl::DataLossError(absl::StrCat(
        "position ", position, " is missing from the log (a hole)"));
  }
  RETURN_IF_ERROR(FromRocksDb(s, absl::StrCat("reading position ", position)));
  return value;
}

absl::StatusOr<MerkleHash> EventStore::Impl::RootHash(
    uint64_t tree_size) const {
  RETURN_IF_ERROR(CheckTreeSize(tree_size));
  internal::RocksDbSubtreeHashes source(db_, events_cf_, merkle_cf_);
  absl::StatusOr<MerkleHash> root = eventstore::RootHash(source, tree_size);
  if (!root.ok()) return Damaged(root.status());
  return root;
}

absl::StatusOr<std::vector<MerkleHash>> EventStore::Impl::InclusionProof(
    uint64_t position, uint64_t tree_size) const {
  RETURN_IF_ERROR(CheckTreeSize(tree_size));
  if (position >= tree_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "position ", position, " is not in a tree of ", tree_size, " events"));
  }
  internal::RocksDbSubtreeHashes source(db_, events_cf_, merkle_cf_);
  absl::StatusOr<std::vector<MerkleHash>> proof =
      eventstore::InclusionProof(source, position, tree_size);
  if (!proof.ok()) return Damaged(proof.status());
  return proof;
}

absl::StatusOr<std::vector<MerkleHash>> EventStore::Impl::ConsistencyProof(
    uint64_t old_size, uint64_t new_size) const {
  RETURN_IF_ERROR(CheckTreeSize(new_size));
  if (old_size > new_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "old size ", old_size, " is larger than new size ", new_size));
  }
  internal::RocksDbSubtreeHashes source(db_, events_cf_, merkle_cf_);
  absl::StatusOr<std::vector<MerkleHash>> proof =
      eventstore::ConsistencyProof(source, old_size, new_size);
  if (!proof.ok()) return Damaged(proof.status());
  return proof;
}

absl::Status EventStore::Impl::PutCheckpoint(uint64_t tree_size,
                                             absl::string_view note) {
  RETURN_IF_ERROR(CheckTreeSize(tree_size));
  rocksdb::WriteOptions sync;
  sync.sync = true;
  return FromRocksDb(db_->Put(sync, meta_cf_, CheckpointKey(tree_size),
                              rocksdb::Slice(note.data(), note.size())),
                     "storing a checkpoint");
}

absl::StatusOr<std::string> EventStore::Impl::GetCheckpoint(
    uint64_t tree_size) const {
  if (db_closed_.load(std::memory_order_acquire)) {
    return absl::UnavailableError("event store is closed");
  }
  std::string note;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_,
                               CheckpointKey(tree_size), &note);
  if (s.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("no checkpoint was issued at tree size ", tree_size));
  }
  RETURN_IF_ERROR(FromRocksDb(s, "reading a checkpoint"));
  return note;
}

absl::StatusOr<std::pair<uint64_t, std::string>>
EventStore::Impl::LatestCheckpoint() const {
  if (db_closed_.load(std::memory_order_acquire)) {
    return absl::UnavailableError("event store is closed");
  }
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  it->SeekForPrev(CheckpointKey(~uint64_t{0}));
  RETURN_IF_ERROR(FromRocksDb(it->status(), "reading checkpoints"));
  if (!it->Valid() ||
      !absl::StartsWith(View(it->key()), kCheckpointKeyPrefix)) {
    return absl::NotFoundError("no checkpoint has been issued yet");
  }
  std::optional<uint64_t> size =
      DecodeU64(View(it->key()).substr(sizeof(kCheckpointKeyPrefix) - 1));
  if (!size) {
    return absl::DataLossError("a checkpoint key in meta is damaged");
  }
  return std::make_pair(*size, std::string(View(it->value())));
}

}  // namespace casetrail::eventstore
