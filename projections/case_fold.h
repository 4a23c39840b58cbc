#ifndef CASETRAIL_PROJECTIONS_CASE_FOLD_H_
#define CASETRAIL_PROJECTIONS_CASE_FOLD_H_

// The fold of one case stream (DESIGN.md property 6): a pure function from
// (state, event) to state. The live read model, a rebuild from position zero
// and a replay of any log prefix ("as known at T") all run this code, so they
// agree byte for byte.
//
// The state is a casetrail.v1.CaseModel (proto/casetrail/v1/projections.proto):
// the case state of DOMAIN.md B2 with its deadline facts and practice flags,
// the case's decisions with their information basis, and every amendment
// (correction, annotation, dispute, retraction). Each event other than an
// amendment also yields one chronology entry (B1), which never changes once
// made: amendments are attached to it by the chronology view.
//
// Deadlines are recorded as facts (trigger, due date, met, extended, closed);
// their status on a given day is evaluated by EvaluateDeadlines (deadlines.h).
//
// The fold never fails: an event it cannot interpret (an opaque payload, an
// event of another case) still gets a chronology entry, and a due date the
// calendar cannot compute is recorded with its error.
//
// Thread-safety: a CaseFold is not thread-safe; FoldConfig is immutable.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "casetrail/v1/event.pb.h"
#include "casetrail/v1/projections.pb.h"
#include "projections/calendar.h"
#include "projections/timescales.h"

namespace casetrail::projections {

// What a fold computes with. Everything a fold's output depends on besides
// the events is here, so Fingerprint() names a read model's inputs.
struct FoldConfig {
  const WorkingDayCalendar* calendar = nullptr;
  const TimescaleRules* rules = nullptr;
  // Days are England and Wales local days (Europe/London).
  absl::TimeZone zone;

  // The shipped calendar and rules, Europe/London (UTC if the zone database
  // is missing).
  static const FoldConfig& Default();
  // Changes whenever a fold over the same events could give other bytes: the
  // read-model format, the rule set's bytes and the calendar's holidays.
  std::string Fingerprint() const;
};

// The local day of `time` in `config.zone`.
absl::CivilDay LocalDay(const FoldConfig& config, absl::Time time);

// The log position of an earlier event, by id (nullopt if there is none):
// what the fold needs to know of a correction's target. The fold asks only
// about events before the one it is applying, so the answer is a function of
// the log prefix and the fold stays deterministic. Errors stop the fold's
// caller (e.g. the runner) rather than change the fold's result.
using EventPositions = std::function<absl::StatusOr<std::optional<uint64_t>>(
    const std::string& event_id)>;

class CaseFold {
 public:
  // Without `positions`, a fold answers from the events it has applied
  // itself, which is complete only for a fold that started from an empty
  // case. A fold resumed from a stored model needs `positions` (the runner
  // asks the event store).

  // An empty case.
  CaseFold(const FoldConfig& config, std::string case_id,
           EventPositions positions = nullptr);
  // Resumes from a stored model.
  CaseFold(const FoldConfig& config, casetrail::v1::CaseModel model,
           EventPositions positions = nullptr);
  // Folds into `*model`, which the caller owns (e.g. on a protobuf arena) and
  // keeps alive for as long as this fold.
  CaseFold(const FoldConfig& config, casetrail::v1::CaseModel* model,
           EventPositions positions = nullptr);

  CaseFold(const CaseFold&) = delete;
  CaseFold& operator=(const CaseFold&) = delete;

  // Applies the case's next event (events come in log order). If the event
  // makes a chronology entry, stores it in *entry (when not null) and returns
  // true. If `positions` failed, the fold went on as if the target were
  // unknown; status() says so and the caller must not keep the result.
  bool Apply(const casetrail::v1::RecordedEvent& event,
             casetrail::v1::ChronologyEntry* entry);
  // The first error of `positions`, if any.
  const absl::Status& status() const { return status_; }

  const casetrail::v1::CaseModel& model() const { return *model_; }
  casetrail::v1::CaseModel& mutable_model() { return *model_; }

 private:
  // The position of `event_id`, from `positions_` or the events applied.
  std::optional<uint64_t> PositionOf(const std::string& event_id);

  const FoldConfig& config_;
  casetrail::v1::CaseModel owned_;
  casetrail::v1::CaseModel* model_ = &owned_;
  EventPositions positions_;
  // Without positions_: the events this fold has applied (not part of the
  // model, whose size must not grow with every event).
  absl::flat_hash_map<std::string, uint64_t> applied_;
  absl::Status status_;
};

// The chronology key of an entry: entries sort by when they occurred, then by
// log position. 16 bytes (signed occurred_at seconds biased to unsigned, then
// position, both big-endian).
std::string ChronologyKey(const casetrail::v1::ChronologyEntry& entry);

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_CASE_FOLD_H_
