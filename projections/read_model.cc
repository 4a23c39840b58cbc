#include "projections/read_model.h"

#include <openssl/evp.h>

#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "eventstore/keys.h"
#include "eventstore/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "projections/case_fold.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/write_batch.h"

namespace casetrail::projections {
namespace {

using casetrail::v1::CaseModel;
using casetrail::v1::ChronologyEntry;
using eventstore::DecodeU64;
using eventstore::EncodeU64;

// Key prefixes (see read_model.h). Each prefix ends in '/', so the keys of a
// kind sort together and lie below the prefix with '/' bumped to '0'.
constexpr absl::string_view kModelPrefix = "m/";
constexpr absl::string_view kEntryPrefix = "c/";
constexpr absl::string_view kChildPrefix = "x/";
constexpr absl::string_view kAccessPrefix = "a/";
constexpr absl::string_view kCheckpointKey = "meta/checkpoint";
constexpr absl::string_view kFingerprintKey = "meta/fingerprint";

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

absl::string_view View(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

// RocksDB's status as ours, as eventstore/internal/rocksdb_glue.h converts
// it (that header is the event store's own). `context` says what was being
// done.
absl::Status FromRocksDb(const rocksdb::Status& s, absl::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string message =
      absl::StrCat("read model: ", context, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsInvalidArgument() || s.IsNotSupported()) {
    return absl::FailedPreconditionError(message);
  }
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsIOError()) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

std::string ModelKey(absl::string_view case_id) {
  return absl::StrCat(kModelPrefix, case_id);
}

// The keys of one case's entries run from EntryKeyPrefix(case_id) up to (not
// including) the same with 0x01 for 0x00. Case ids (stream ids) never contain
// 0x00.
std::string EntryKeyPrefix(absl::string_view case_id) {
  std::string key = absl::StrCat(kEntryPrefix, case_id);
  key.push_back('\0');
  return key;
}

std::string ChildKeyPrefix(absl::string_view child_id) {
  std::string key = absl::StrCat(kChildPrefix, child_id);
  key.push_back('\0');
  return key;
}

// The key just past every key that starts with `prefix` (whose last byte is
// below 0xff: '/' or 0x00 here).
std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  ++end.back();
  return end;
}

// Serialises `m` into `*out`, replacing its contents and reusing its capacity.
// Deterministically: protobuf's default serialisation may order map entries
// differently between runs; the read model's bytes must not, so that a rebuild
// is comparable to the live model byte for byte.
void SerializeDeterministicallyTo(const google::protobuf::Message& m,
                                  std::string* out) {
  // Sized exactly: a StringOutputStream would grow the string to its whole
  // capacity (zero-filling it) for every message.
  const size_t size = m.ByteSizeLong();
  out->resize(size);
  google::protobuf::io::ArrayOutputStream array(out->data(),
                                                static_cast<int>(size));
  google::protobuf::io::CodedOutputStream coded(&array);
  coded.SetSerializationDeterministic(true);
  m.SerializeWithCachedSizes(&coded);
}

// Adds to `batch` the deletion of every model, entry and link, and the reset
// of the checkpoint. Range deletions keep the batch small however big the
// read model is.
void AddClear(rocksdb::WriteBatch* batch) {
  for (absl::string_view prefix :
       {kModelPrefix, kEntryPrefix, kChildPrefix, kAccessPrefix}) {
    const std::string end = PrefixEnd(prefix);
    batch->DeleteRange(ToSlice(prefix), end);
  }
  batch->Put(ToSlice(kCheckpointKey), EncodeU64(0));
}

// Releases a snapshot when it goes out of scope.
class ScopedSnapshot {
 public:
  explicit ScopedSnapshot(rocksdb::DB* db)
      : db_(db), snapshot_(db->GetSnapshot()) {}
  ~ScopedSnapshot() { db_->ReleaseSnapshot(snapshot_); }
  ScopedSnapshot(const ScopedSnapshot&) = delete;
  ScopedSnapshot& operator=(const ScopedSnapshot&) = delete;

  rocksdb::ReadOptions Options() const {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    return options;
  }

 private:
  rocksdb::DB* const db_;
  const rocksdb::Snapshot* const snapshot_;
};

// Reads the checkpoint as `options` see it. Errors: DATA_LOSS if it is
// missing or not 8 bytes.
absl::StatusOr<uint64_t> ReadCheckpoint(rocksdb::DB* db,
                                        const rocksdb::ReadOptions& options) {
  std::string value;
  rocksdb::Status s = db->Get(options, ToSlice(kCheckpointKey), &value);
  if (s.IsNotFound()) {
    return absl::DataLossError("read model: the checkpoint is missing");
  }
  RETURN_IF_ERROR(FromRocksDb(s, "reading the checkpoint"));
  std::optional<uint64_t> checkpoint = DecodeU64(value);
  if (!checkpoint) {
    return absl::DataLossError(absl::StrCat("read model: the checkpoint is ",
                                            value.size(), " bytes, not 8"));
  }
  return *checkpoint;
}

// The model of `case_id` as `options` see it, or nullopt if there is none.
// Parses the stored model of `case_id` into `*model`; false if there is none.
absl::StatusOr<bool> ReadModelInto(rocksdb::DB* db,
                                   const rocksdb::ReadOptions& options,
                                   absl::string_view case_id,
                                   CaseModel* model) {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db->Get(options, db->DefaultColumnFamily(), ModelKey(case_id), &value);
  if (s.IsNotFound()) return false;
  RETURN_IF_ERROR(FromRocksDb(s, absl::StrCat("reading case ", case_id)));
  if (!model->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(absl::StrCat(
        "read model: the stored model of case ", case_id, " does not parse"));
  }
  return true;
}

casetrail::v1::CaseAccessFacts AccessFactsOf(
    const casetrail::v1::CaseState& s) {
  casetrail::v1::CaseAccessFacts facts;
  facts.set_team(s.allocation().team());
  facts.set_worker_id(s.allocation().worker().id());
  facts.set_manager_id(s.allocation().manager().id());
  facts.set_restriction(s.restriction());
  *facts.mutable_permitted_user_ids() = s.restriction_permitted_user_ids();
  *facts.mutable_permitted_roles() = s.restriction_permitted_roles();
  facts.set_prevent_or_channel(!s.prevent_episodes().empty());
  *facts.mutable_event_restrictions() = s.event_restrictions();
  return facts;
}

absl::StatusOr<std::optional<CaseModel>> ReadModelAt(
    rocksdb::DB* db, const rocksdb::ReadOptions& options,
    absl::string_view case_id) {
  CaseModel model;
  ASSIGN_OR_RETURN(bool found, ReadModelInto(db, options, case_id, &model));
  if (!found) return std::nullopt;
  return model;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReadModelStore>> ReadModelStore::Open(
    const std::string& path, const std::string& fingerprint) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocksDb(rocksdb::DB::Open(options, path, &raw),
                              absl::StrCat("opening ", path)));
  auto store = std::unique_ptr<ReadModelStore>(new ReadModelStore());
  store->db_.reset(raw);
  rocksdb::DB* db = store->db_.get();

  // A read model is usable only if it was built with this fingerprint and
  // has a readable checkpoint. Anything else (another fingerprint, a store
  // left damaged, or a new empty one) is cleared and stamped, in one batch.
  std::string stored_fingerprint;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), ToSlice(kFingerprintKey),
                              &stored_fingerprint);
  if (!s.ok() && !s.IsNotFound()) {
    return FromRocksDb(s, "reading the fingerprint");
  }
  const bool has_fingerprint = s.ok();
  if (has_fingerprint && stored_fingerprint == fingerprint) {
    absl::StatusOr<uint64_t> checkpoint =
        ReadCheckpoint(db, rocksdb::ReadOptions());
    if (checkpoint.ok()) {
      store->checkpoint_.store(*checkpoint);
      return store;
    }
  }
  bool empty = false;
  if (!has_fingerprint) {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    RETURN_IF_ERROR(FromRocksDb(it->status(), "reading"));
    empty = !it->Valid();
  }
  rocksdb::WriteBatch batch;
  AddClear(&batch);
  batch.Put(ToSlice(kFingerprintKey), fingerprint);
  RETURN_IF_ERROR(FromRocksDb(db->Write(rocksdb::WriteOptions(), &batch),
                              "clearing at open"));
  store->cleared_at_open_ = !empty;
  return store;
}

ReadModelStore::~ReadModelStore() = default;

uint64_t ReadModelStore::checkpoint() const {
  // Read at Open and kept with every Commit and Clear: never read again, so a
  // failed read can never be taken for 0 and fold events a second time onto
  // the stored models.
  return checkpoint_.load();
}

absl::StatusOr<std::optional<ReadModelStore::CaseRead>>
ReadModelStore::ReadCase(const std::string& case_id) const {
  ScopedSnapshot snapshot(db_.get());
  const rocksdb::ReadOptions options = snapshot.Options();
  ASSIGN_OR_RETURN(std::optional<CaseModel> model,
                   ReadModelAt(db_.get(), options, case_id));
  if (!model) return std::nullopt;

  CaseRead read;
  read.snapshot.model = *std::move(model);
  ASSIGN_OR_RETURN(read.checkpoint, ReadCheckpoint(db_.get(), options));
  const std::string prefix = EntryKeyPrefix(case_id);
  const std::string end = PrefixEnd(prefix);
  rocksdb::ReadOptions iterate = options;
  const rocksdb::Slice upper(end);
  iterate.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(iterate));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    ChronologyEntry& entry = read.snapshot.entries.emplace_back();
    if (!entry.ParseFromArray(it->value().data(),
                              static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat(
          "read model: a chronology entry of case ", case_id,
          " does not parse (key ", absl::CHexEscape(View(it->key())), ")"));
    }
  }
  RETURN_IF_ERROR(
      FromRocksDb(it->status(), absl::StrCat("reading entries of ", case_id)));
  return read;
}

absl::StatusOr<std::optional<CaseModel>> ReadModelStore::ReadModel(
    const std::string& case_id) const {
  return ReadModelAt(db_.get(), rocksdb::ReadOptions(), case_id);
}

absl::StatusOr<bool> ReadModelStore::ReadModelInto(const std::string& case_id,
                                                   CaseModel* model) const {
  return projections::ReadModelInto(db_.get(), rocksdb::ReadOptions(), case_id,
                                    model);
}

absl::StatusOr<std::vector<std::string>> ReadModelStore::CasesForChild(
    const std::string& child_id) const {
  const std::string prefix = ChildKeyPrefix(child_id);
  const std::string end = PrefixEnd(prefix);
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
  std::vector<std::string> cases;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    cases.emplace_back(View(it->key()).substr(prefix.size()));
  }
  RETURN_IF_ERROR(FromRocksDb(
      it->status(), absl::StrCat("reading the cases of child ", child_id)));
  return cases;
}

absl::StatusOr<bool> ReadModelStore::ReadAccessFacts(
    const std::string& case_id, casetrail::v1::CaseAccessFacts* facts) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(),
               absl::StrCat(kAccessPrefix, case_id), &value);
  if (s.IsNotFound()) return false;
  RETURN_IF_ERROR(FromRocksDb(s, absl::StrCat("reading case ", case_id)));
  if (!facts->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(absl::StrCat(
        "read model: the access facts of case ", case_id, " do not parse"));
  }
  return true;
}

absl::Status ReadModelStore::Commit(const Batch& batch) {
  rocksdb::WriteBatch write;
  // One buffer for every key and value: Put copies them into the batch.
  std::string key;
  std::string value;
  for (const CaseModel* model : batch.models) {
    const std::string& case_id = model->state().case_id();
    if (case_id.empty()) {
      return absl::InvalidArgumentError(
          "read model: a model to commit has no case id");
    }
    SerializeDeterministicallyTo(*model, &value);
    write.Put(ModelKey(case_id), value);
    SerializeDeterministicallyTo(AccessFactsOf(model->state()), &value);
    write.Put(absl::StrCat(kAccessPrefix, case_id), value);
  }
  for (const ChronologyEntry* entry : batch.entries) {
    if (entry->case_id().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("read model: the entry of event ", entry->event_id(),
                       " has no case id"));
    }
    key = EntryKeyPrefix(entry->case_id());
    key += ChronologyKey(*entry);
    SerializeDeterministicallyTo(*entry, &value);
    write.Put(key, value);
  }
  for (const auto& [child_id, case_id] : batch.child_links) {
    write.Put(ChildKeyPrefix(child_id) + case_id, rocksdb::Slice());
  }
  write.Put(ToSlice(kCheckpointKey), EncodeU64(batch.next_position));
  // No write-ahead log: everything here can be folded again from the log.
  // The database has one column family, so what survives a crash is the
  // memtables flushed before it, a prefix of the batches, each whole, with
  // the checkpoint it was written with; the runner goes on from there. A
  // clean close flushes everything.
  rocksdb::WriteOptions options;
  options.disableWAL = true;
  RETURN_IF_ERROR(FromRocksDb(
      db_->Write(options, &write),
      absl::StrCat("committing up to position ", batch.next_position)));
  checkpoint_.store(batch.next_position);
  return absl::OkStatus();
}

absl::Status ReadModelStore::Clear() {
  rocksdb::WriteBatch batch;
  AddClear(&batch);
  RETURN_IF_ERROR(
      FromRocksDb(db_->Write(rocksdb::WriteOptions(), &batch), "clearing"));
  checkpoint_.store(0);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadModelStore::Digest() const {
  // The algorithm is fetched once (EVP_sha256() looks it up on every use).
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  if (sha256 == nullptr || ctx == nullptr ||
      EVP_DigestInit_ex2(ctx.get(), sha256, nullptr) != 1) {
    return absl::InternalError("read model: SHA-256 is not available");
  }
  // Each key and value is preceded by its length, so that no two different
  // contents hash the same bytes.
  auto update = [&ctx](absl::string_view bytes) {
    const std::string length = EncodeU64(bytes.size());
    return EVP_DigestUpdate(ctx.get(), length.data(), length.size()) == 1 &&
           EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) == 1;
  };
  ScopedSnapshot snapshot(db_.get());
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(snapshot.Options()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!update(View(it->key())) || !update(View(it->value()))) {
      return absl::InternalError("read model: hashing failed");
    }
  }
  RETURN_IF_ERROR(FromRocksDb(it->status(), "reading for the digest"));
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), hash, &size) != 1) {
    return absl::InternalError("read model: hashing failed");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(hash), size));
}

absl::StatusOr<uint64_t> ReadModelStore::CaseCount() const {
  const std::string end = PrefixEnd(kModelPrefix);
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
  uint64_t count = 0;
  for (it->Seek(ToSlice(kModelPrefix)); it->Valid(); it->Next()) ++count;
  RETURN_IF_ERROR(FromRocksDb(it->status(), "counting cases"));
  return count;
}

}  // namespace casetrail::projections
