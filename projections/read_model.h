#ifndef CASETRAIL_PROJECTIONS_READ_MODEL_H_
#define CASETRAIL_PROJECTIONS_READ_MODEL_H_

// The read models' own RocksDB (DATA_DIR/readmodels by default), apart from
// the log: everything in it can be rebuilt from the log. Keys:
//   "m/" case_id                     CaseModel (deterministic bytes)
//   "c/" case_id 0x00 ChronologyKey  ChronologyEntry
//   "x/" child_id 0x00 case_id       "" (the cases a child appears in)
//   "meta/checkpoint"                u64 big-endian: events below are folded
//   "meta/fingerprint"               the FoldConfig::Fingerprint() used
// Every Commit writes the changed models, the new entries and the checkpoint
// in one WriteBatch, so the models always match their checkpoint.
//
// Thread-safety: thread-safe. Reads use a RocksDB snapshot, so a read of one
// case sees one committed batch.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "casetrail/v1/projections.pb.h"
#include "projections/views.h"

namespace rocksdb {
class DB;
}

namespace casetrail::projections {

class ReadModelStore {
 public:
  // Opens (creating if needed) the database at `path`. If it was built with
  // another fingerprint, it is cleared (checkpoint 0) so the runner rebuilds
  // it. Errors: the RocksDB error, converted.
  static absl::StatusOr<std::unique_ptr<ReadModelStore>> Open(
      const std::string& path, const std::string& fingerprint);
  ~ReadModelStore();

  uint64_t checkpoint() const;
  // True if Open found a read model built with another fingerprint (or a
  // damaged one) and cleared it.
  bool cleared_at_open() const { return cleared_at_open_; }

  struct CaseRead {
    CaseSnapshot snapshot;
    // The checkpoint the snapshot matches.
    uint64_t checkpoint = 0;
  };
  // A case's model and entries (in chronology-key order), or nullopt if the
  // read model does not hold the case. Errors: DATA_LOSS for bytes that do not
  // parse.
  absl::StatusOr<std::optional<CaseRead>> ReadCase(
      const std::string& case_id) const;
  // Just the model (for the runner).
  absl::StatusOr<std::optional<casetrail::v1::CaseModel>> ReadModel(
      const std::string& case_id) const;
  // The same, parsed into `*model` (which may live on an arena); false if the
  // read model does not hold the case.
  absl::StatusOr<bool> ReadModelInto(const std::string& case_id,
                                     casetrail::v1::CaseModel* model) const;
  // The case's access facts (written with its model by every Commit), or
  // false if the read model does not hold the case.
  absl::StatusOr<bool> ReadAccessFacts(
      const std::string& case_id, casetrail::v1::CaseAccessFacts* facts) const;
  // The cases `child_id` appears in, in case id order.
  absl::StatusOr<std::vector<std::string>> CasesForChild(
      const std::string& child_id) const;

  struct Batch {
    // Models to write (replacing the stored ones).
    std::vector<const casetrail::v1::CaseModel*> models;
    // New chronology entries (case id inside each entry).
    std::vector<const casetrail::v1::ChronologyEntry*> entries;
    // (child_id, case_id) links.
    std::vector<std::pair<std::string, std::string>> child_links;
    // The checkpoint after this batch.
    uint64_t next_position = 0;
  };
  absl::Status Commit(const Batch& batch);
  // Deletes every model, entry and link and sets the checkpoint to 0, in one
  // batch.
  absl::Status Clear();
  // SHA-256 over every key and value in key order (under one snapshot).
  absl::StatusOr<std::string> Digest() const;
  // Number of case models stored.
  absl::StatusOr<uint64_t> CaseCount() const;

 private:
  ReadModelStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  bool cleared_at_open_ = false;
  // The stored checkpoint, as of the last Commit or Clear.
  std::atomic<uint64_t> checkpoint_{0};
};

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_READ_MODEL_H_
