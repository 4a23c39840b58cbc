#ifndef CASETRAIL_PROJECTIONS_REPLAY_H_
#define CASETRAIL_PROJECTIONS_REPLAY_H_

// "As known at T": the fold of a case's log prefix, computed on demand with
// the same CaseFold that builds the read model (DESIGN.md property 6).

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eventstore/event_store.h"
#include "projections/case_fold.h"
#include "projections/reader_view.h"
#include "projections/views.h"

namespace casetrail::projections {

struct ReplayLimit {
  // Only events recorded at or before this time.
  std::optional<absl::Time> known_at;
  // Only events below this log position.
  std::optional<uint64_t> below_position;
  // Leaves out the events withheld from this reader, and amendments of them
  // (ReaderView::Withholds; not owned; null: none), as if they had not been
  // recorded; the snapshot counts them.
  const ReaderView* reader = nullptr;
};

// Folds the events of `case_id` within `limit`. A case with no such events
// gives an empty snapshot (state.event_count == 0). Errors: the store's, and
// DATA_LOSS for stored bytes that do not parse.
absl::StatusOr<CaseSnapshot> ReplayCase(const eventstore::EventStore& store,
                                        const FoldConfig& config,
                                        const std::string& case_id,
                                        const ReplayLimit& limit);

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_REPLAY_H_
