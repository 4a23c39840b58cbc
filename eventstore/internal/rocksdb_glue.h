#ifndef CASETRAIL_EVENTSTORE_INTERNAL_ROCKSDB_GLUE_H_
#define CASETRAIL_EVENTSTORE_INTERNAL_ROCKSDB_GLUE_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "rocksdb/slice.h"
#include "rocksdb/status.h"

namespace casetrail::eventstore::internal {

// Debian's Abseil string_view is its own type, not std::string_view.
inline absl::string_view View(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

// The one conversion from RocksDB's status to ours. `context` says what was
// being done.
inline absl::Status FromRocksDb(const rocksdb::Status& s,
                                absl::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(context, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsInvalidArgument() || s.IsNotSupported()) {
    return absl::FailedPreconditionError(message);
  }
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::UnavailableError(message);
  }
  if (s.IsIOError()) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

}  // namespace casetrail::eventstore::internal

#endif  // CASETRAIL_EVENTSTORE_INTERNAL_ROCKSDB_GLUE_H_
