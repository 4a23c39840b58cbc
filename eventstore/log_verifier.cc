#include "eventstore/log_verifier.h"

#include <algorithm>
#include <array>
#include <climits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eventstore/event_store.h"
#include "eventstore/internal/merkle_store.h"
#include "eventstore/internal/rocksdb_glue.h"
#include "eventstore/keys.h"
#include "eventstore/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "rocksdb/db.h"

namespace casetrail::eventstore {
namespace {

using google::protobuf::internal::WireFormatLite;
using internal::FromRocksDb;
using internal::View;

// RecordedEvent's fields (proto/casetrail/v1/event.proto).
constexpr int kPositionField = 1;
constexpr int kEventField = 15;

constexpr uint64_t kProgressInterval = uint64_t{1} << 16;
// The scan of `events` is one sequential pass over the largest column family;
// reading ahead in large pieces keeps it from waiting on the disk per block.
constexpr size_t kScanReadahead = 4 << 20;
// A subtree level is one key byte, and a log has fewer than 2^64 events.
constexpr int kMaxLevel = 63;

// What the verifier needs of an event's stored bytes.
struct StoredEventHeader {
  uint64_t position = 0;  // proto3: absent means 0
  bool has_event = false;
};

// Reads `position` and whether there is an `event` from the wire format of a
// stored RecordedEvent, skipping everything else rather than parsing the whole
// message, which would allocate and copy every string of the event. Fields may
// come in any order, and a repeated field 1 takes its last value, as in a
// parser. nullopt if the bytes are not well-formed wire data.
std::optional<StoredEventHeader> ScanStoredEvent(absl::string_view bytes) {
  if (bytes.size() > INT_MAX) return std::nullopt;
  const int size = static_cast<int>(bytes.size());
  google::protobuf::io::CodedInputStream input(
      reinterpret_cast<const uint8_t*>(bytes.data()), size);
  StoredEventHeader header;
  while (input.CurrentPosition() < size) {
    const uint32_t tag = input.ReadTag();
    if (tag == 0) return std::nullopt;
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    const WireFormatLite::WireType type = WireFormatLite::GetTagWireType(tag);
    if (field == kPositionField) {
      if (type != WireFormatLite::WIRETYPE_VARINT ||
          !input.ReadVarint64(&header.position)) {
        return std::nullopt;
      }
      continue;
    }
    if (field == kEventField &&
        type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      header.has_event = true;
    }
    if (!WireFormatLite::SkipField(&input, tag)) return std::nullopt;
  }
  return header;
}

// A store opened read-only; closes it when destroyed.
struct ReadOnlyStore {
  ~ReadOnlyStore() {
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      db->DestroyColumnFamilyHandle(h);
    }
  }

  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* events = nullptr;
  rocksdb::ColumnFamilyHandle* merkle = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
};

// Opens the store at `path` with every column family it has, and checks that
// it is a store of this build's format. The store's families use RocksDB's
// default comparator, so default family options read them.
absl::Status OpenReadOnly(const std::string& path, ReadOnlyStore& store) {
  rocksdb::DBOptions options;
  std::vector<std::string> names;
  rocksdb::Status listed =
      rocksdb::DB::ListColumnFamilies(options, path, &names);
  if (listed.IsPathNotFound()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a casetrail store: ", listed.ToString()));
  }
  RETURN_IF_ERROR(FromRocksDb(listed, absl::StrCat("listing ", path)));
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  rocksdb::DB* db = nullptr;
  RETURN_IF_ERROR(
      FromRocksDb(rocksdb::DB::OpenForReadOnly(options, path, descriptors,
                                               &store.handles, &db),
                  absl::StrCat("opening ", path, " read-only")));
  store.db.reset(db);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == kEventsCf) store.events = store.handles[i];
    if (names[i] == kMerkleCf) store.merkle = store.handles[i];
    if (names[i] == kMetaCf) store.meta = store.handles[i];
  }
  if (store.events == nullptr || store.meta == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a casetrail store: it has no `", kEventsCf,
                     "` or `", kMetaCf, "` column family"));
  }
  std::string version;
  rocksdb::Status s = store.db->Get(rocksdb::ReadOptions(), store.meta,
                                    kFormatVersionKey, &version);
  if (s.IsNotFound()) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " has no format version: it is not a casetrail store"));
  }
  RETURN_IF_ERROR(FromRocksDb(s, "reading the format version"));
  const std::optional<uint64_t> decoded = DecodeU64(version);
  if (decoded != kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " has format version ",
        decoded ? absl::StrCat(*decoded) : "(damaged)",
        "; this build verifies format version ", kFormatVersion,
        " only (casetraild upgrades a format 1 store when it opens it)"));
  }
  if (store.merkle == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " has no `", kMerkleCf, "` column family: it is damaged"));
  }
  return absl::OkStatus();
}

// "positions A-B" of subtree (level, index).
std::string SubtreePositions(int level, uint64_t index) {
  const uint64_t first = index << level;
  return absl::StrCat("positions ", first, "-",
                      first + (uint64_t{1} << level) - 1);
}

// One verification: the scan of `events` with the tree recomputed as it goes,
// then the checks of what is stored beyond the events.
class Verifier {
 public:
  Verifier(const ReadOnlyStore& store, const VerifyDataDirOptions& options)
      : store_(store), options_(options) {
    scan_options_.fill_cache = false;
    scan_options_.readahead_size = kScanReadahead;
    // The stored hashes are read once each, in order, like the events.
    merkle_options_.fill_cache = false;
    wanted_ = options.roots_wanted;
    std::sort(wanted_.begin(), wanted_.end());
    wanted_.erase(std::unique(wanted_.begin(), wanted_.end()), wanted_.end());
  }

  absl::StatusOr<DataDirReport> Run() {
    RETURN_IF_ERROR(ReadStoredCheckpoints());
    RETURN_IF_ERROR(FindLogSize());
    RETURN_IF_ERROR(ScanEvents());
    Progress();
    if (!report_.problem.empty()) return report_;
    report_.root = frontier_.Root();
    RETURN_IF_ERROR(CheckTreeHead());
    if (report_.problem.empty()) report_.ok = true;
    return report_;
  }

 private:
  // Records the first problem only: later ones may be its consequences.
  void Fail(std::optional<uint64_t> position, std::string problem) {
    if (!report_.problem.empty()) return;
    report_.first_bad_position = position;
    report_.problem = std::move(problem);
  }

  absl::Status ReadStoredCheckpoints() {
    std::unique_ptr<rocksdb::Iterator> it(
        store_.db->NewIterator(rocksdb::ReadOptions(), store_.meta));
    for (it->Seek(kCheckpointKeyPrefix);
         it->Valid() && absl::StartsWith(View(it->key()), kCheckpointKeyPrefix);
         it->Next()) {
      std::optional<uint64_t> size =
          DecodeU64(View(it->key()).substr(sizeof(kCheckpointKeyPrefix) - 1));
      if (!size) continue;  // not a key this format writes
      report_.stored_checkpoints.emplace_back(*size,
                                              std::string(View(it->value())));
      wanted_.push_back(*size);
    }
    std::sort(wanted_.begin(), wanted_.end());
    wanted_.erase(std::unique(wanted_.begin(), wanted_.end()), wanted_.end());
    return FromRocksDb(it->status(), "reading the stored checkpoints");
  }

  void Progress() {
    if (options_.progress) {
      options_.progress({report_.events_checked, report_.log_size});
    }
  }

  // The log's size as the store takes it: one past the last stored position.
  absl::Status FindLogSize() {
    std::unique_ptr<rocksdb::Iterator> last(
        store_.db->NewIterator(rocksdb::ReadOptions(), store_.events));
    last->SeekToLast();
    RETURN_IF_ERROR(FromRocksDb(last->status(), "reading the log's head"));
    if (!last->Valid()) return absl::OkStatus();
    const std::optional<uint64_t> position = DecodeU64(View(last->key()));
    // A key that is not a position leaves the size unknown (0); the scan meets
    // that key and reports it.
    if (position) report_.log_size = *position + 1;
    return absl::OkStatus();
  }

  absl::Status ScanEvents() {
    size_t next_wanted = 0;
    if (!wanted_.empty() && wanted_[0] == 0) {
      report_.roots_at.emplace_back(0, EmptyTreeHash());
      ++next_wanted;
    }
    const MerkleFrontier::EmitFn check = [this](int level, uint64_t index,
                                                const MerkleHash& hash) {
      if (level > 0) CheckSubtree(level, index, hash);
    };
    std::unique_ptr<rocksdb::Iterator> it(
        store_.db->NewIterator(scan_options_, store_.events));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const uint64_t expected = frontier_.size();
      const absl::string_view key = View(it->key());
      const absl::string_view value = View(it->value());
      const std::optional<uint64_t> position = DecodeU64(key);
      if (!position) {
        Fail(expected, absl::StrCat("the events column family holds a key of ",
                                    key.size(), " bytes where position ",
                                    expected, " should be"));
        return absl::OkStatus();
      }
      if (*position != expected) {
        Fail(expected, absl::StrCat("position ", expected,
                                    " is missing (the next stored event is at ",
                                    *position, ")"));
        return absl::OkStatus();
      }
      const std::optional<StoredEventHeader> header = ScanStoredEvent(value);
      if (!header || !header->has_event) {
        Fail(expected,
             absl::StrCat("the ", value.size(), " bytes stored at position ",
                          expected, " are not a RecordedEvent with an event"));
        return absl::OkStatus();
      }
      if (header->position != expected) {
        Fail(expected,
             absl::StrCat("the event stored at position ", expected,
                          " says it is at position ", header->position));
        return absl::OkStatus();
      }
      frontier_.Append(LeafHash(value), check);
      RETURN_IF_ERROR(merkle_error_);
      if (!report_.problem.empty()) return absl::OkStatus();
      report_.events_checked = frontier_.size();
      if (next_wanted < wanted_.size() &&
          wanted_[next_wanted] == frontier_.size()) {
        report_.roots_at.emplace_back(frontier_.size(), frontier_.Root());
        ++next_wanted;
      }
      if (frontier_.size() % kProgressInterval == 0) Progress();
    }
    return FromRocksDb(it->status(), "reading the log");
  }

  // Compares the subtree hash the frontier computed with the stored one. Each
  // level has its own iterator over `merkle`, advanced in step with the
  // frontier, which completes the subtrees of a level in index order: one
  // Next() per subtree instead of one Get().
  void CheckSubtree(int level, uint64_t index, const MerkleHash& computed) {
    if (!report_.problem.empty() || !merkle_error_.ok()) return;
    std::unique_ptr<rocksdb::Iterator>& cursor = cursors_[level];
    if (cursor == nullptr) {
      cursor.reset(store_.db->NewIterator(merkle_options_, store_.merkle));
      cursor->Seek(MerkleKey(level, 0));
    }
    const uint64_t first = index << level;
    const std::string expected_key = MerkleKey(level, index);
    if (!cursor->Valid()) {
      merkle_error_ = FromRocksDb(cursor->status(), "reading subtree hashes");
      if (!merkle_error_.ok()) return;
    }
    if (!cursor->Valid() || View(cursor->key()) > expected_key) {
      Fail(first, absl::StrCat("the stored subtree hash at level ", level,
                               " index ", index, " (",
                               SubtreePositions(level, index), ") is missing"));
      return;
    }
    if (View(cursor->key()) != expected_key) {
      Fail(first, absl::StrCat("the merkle column family holds a key of ",
                               cursor->key().size(),
                               " bytes before the subtree hash at level ",
                               level, " index ", index));
      return;
    }
    const absl::string_view stored = View(cursor->value());
    if (stored.size() != computed.size()) {
      Fail(first, absl::StrCat("the stored subtree hash at level ", level,
                               " index ", index, " is ", stored.size(),
                               " bytes, not ", computed.size()));
      return;
    }
    ++report_.subtrees_checked;
    if (stored != View(internal::AsSlice(computed))) {
      // The frontier emits a subtree's halves before it, and the scan stops at
      // the first mismatch, so above level 1 both halves matched their stored
      // hashes: the events below hash correctly and the stored hash itself
      // was changed. At level 1 the halves are leaves, which are not stored,
      // so an event of the pair and the stored hash cannot be told apart.
      if (level > 1) {
        Fail(first, absl::StrCat(
                        "the stored subtree hash at level ", level, " index ",
                        index, " was changed: ", SubtreePositions(level, index),
                        " hash correctly to the stored hashes at level ",
                        level - 1, " but not to it"));
      } else {
        Fail(first, absl::StrCat(SubtreePositions(level, index),
                                 " do not hash to the stored subtree hash at "
                                 "level 1 index ",
                                 index,
                                 ": one of these events or that hash was "
                                 "changed"));
      }
      return;
    }
    cursor->Next();
  }

  // After a clean scan: the tree head matches the log, and no subtree hash is
  // stored beyond the log's complete subtrees.
  absl::Status CheckTreeHead() {
    const uint64_t size = report_.log_size;
    std::string head;
    rocksdb::Status s = store_.db->Get(rocksdb::ReadOptions(), store_.meta,
                                       internal::kTreeHeadKey, &head);
    // An empty store has no tree head until its first commit.
    if (s.IsNotFound() && size == 0) return CheckNothingStoredBeyondEnd();
    if (s.IsNotFound()) {
      Fail(std::nullopt, "the Merkle tree head (meta/tree_head) is missing");
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(FromRocksDb(s, "reading the Merkle tree head"));
    const MerkleHash& root = report_.root;
    if (head.size() != 8 + root.size()) {
      Fail(std::nullopt, absl::StrCat("the Merkle tree head is ", head.size(),
                                      " bytes, not ", 8 + root.size()));
      return absl::OkStatus();
    }
    const uint64_t head_size = *DecodeU64(absl::string_view(head).substr(0, 8));
    if (head_size > size) {
      Fail(size, absl::StrCat("the Merkle tree head covers ", head_size,
                              " events but the log holds ", size,
                              ": events were removed from its end"));
      return absl::OkStatus();
    }
    if (head_size < size) {
      Fail(head_size, absl::StrCat("the log holds ", size,
                                   " events but the Merkle tree head covers ",
                                   head_size, ": positions ", head_size, "-",
                                   size - 1, " are not in the tree head"));
      return absl::OkStatus();
    }
    // Checked before the root: an extra subtree hash is a more specific clue
    // (events removed from the end along with the tree head) than the root.
    RETURN_IF_ERROR(CheckNothingStoredBeyondEnd());
    if (!report_.problem.empty()) return absl::OkStatus();
    const absl::string_view head_root = absl::string_view(head).substr(8);
    if (head_root == View(internal::AsSlice(root))) return absl::OkStatus();
    MerkleHash stored_root;
    std::copy(head_root.begin(), head_root.end(), stored_root.begin());
    const std::string mismatch =
        absl::StrCat("the events give root ", ToHex(root), " for ", size,
                     " events, not the tree head's ", ToHex(stored_root));
    // Every event of a complete pair was checked against a stored level-1
    // hash; only the newest event of an odd-sized log is covered by none.
    if (size % 2 == 1) {
      Fail(size - 1, absl::StrCat(mismatch, ": position ", size - 1,
                                  " (the newest event, which no stored "
                                  "subtree hash covers) or the tree head was "
                                  "changed"));
    } else {
      Fail(std::nullopt,
           absl::StrCat(mismatch,
                        ": the tree head was changed (every event hashes to "
                        "its stored subtree hashes)"));
    }
    return absl::OkStatus();
  }

  // Every key of `merkle` is (level, index) of a complete subtree of the log,
  // level 1 and up. The scan read every key inside those ranges, so this only
  // jumps over them, one Seek() per level.
  absl::Status CheckNothingStoredBeyondEnd() {
    std::unique_ptr<rocksdb::Iterator> it(
        store_.db->NewIterator(merkle_options_, store_.merkle));
    for (it->SeekToFirst(); it->Valid();) {
      const absl::string_view key = View(it->key());
      const std::optional<uint64_t> index =
          key.size() == 9 ? DecodeU64(key.substr(1)) : std::nullopt;
      if (!index) {
        Fail(std::nullopt,
             absl::StrCat("the merkle column family holds a key of ",
                          key.size(), " bytes, not a subtree's 9"));
        return absl::OkStatus();
      }
      const int level = static_cast<uint8_t>(key[0]);
      const uint64_t complete =
          level >= 1 && level <= kMaxLevel ? report_.log_size >> level : 0;
      if (*index >= complete) {
        Fail(std::nullopt, absl::StrCat("a subtree hash is stored at level ",
                                        level, " index ", *index,
                                        ", beyond the complete subtrees "
                                        "of the log's ",
                                        report_.log_size, " events"));
        return absl::OkStatus();
      }
      it->Seek(MerkleKey(level, complete));
    }
    return FromRocksDb(it->status(), "reading subtree hashes");
  }

  const ReadOnlyStore& store_;
  const VerifyDataDirOptions& options_;
  rocksdb::ReadOptions scan_options_;
  rocksdb::ReadOptions merkle_options_;
  std::vector<uint64_t> wanted_;  // sorted, distinct
  MerkleFrontier frontier_;
  // Indexed by level; level 0 is unused.
  std::array<std::unique_ptr<rocksdb::Iterator>, kMaxLevel + 1> cursors_;
  absl::Status merkle_error_;
  DataDirReport report_;
};

}  // namespace

absl::StatusOr<DataDirReport> VerifyDataDir(
    const std::string& path, const VerifyDataDirOptions& options) {
  ReadOnlyStore store;
  RETURN_IF_ERROR(OpenReadOnly(path, store));
  return Verifier(store, options).Run();
}

}  // namespace casetrail::eventstore
