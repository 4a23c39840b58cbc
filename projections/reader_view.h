#ifndef CASETRAIL_PROJECTIONS_READER_VIEW_H_
#define CASETRAIL_PROJECTIONS_READER_VIEW_H_

// What one reader may see of the cases their access decision opened to them:
// every event except the withheld ones, the events restricted on their own
// (RecordRestrictionChanged naming target events) by a restriction that does
// not name the reader (docs/security.md, "Restricted events").
//
// This is the one place where a reader-specific view of case data is made.
// A withheld event leaves nothing in what the reader gets:
// - QueryEngine (queries.h) folds a case that has withheld events without
//   them (ReplayLimit::reader), so derived data (stage, deadlines, flags,
//   Prevent episodes and the Channel pack's sections, amendments and the
//   chronology) is what the case would be had they not been recorded;
// - Redact() then removes, from any answer, every recorded event, chronology
//   entry and amendment of a withheld event wherever it is nested, and the
//   ids of withheld events from the fields that name events. Answers built
//   from stored events (a reconstruction's relied_on) rely on this pass.
// Where the existence of withheld events must show, answers count them
// (Provenance.withheld_events; stream and log reads say so in the audit).
//
// Thread-safety: const methods are thread-safe; Withhold() is not, and is
// called while the reader's access decisions are being made, before use.

#include <cstddef>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "casetrail/v1/event.pb.h"
#include "google/protobuf/message.h"

namespace casetrail::projections {

class ReaderView {
 public:
  // A reader who sees every event of the cases they may read.
  ReaderView() = default;
  // A reader from whom the events `withheld` (event ids) are withheld.
  explicit ReaderView(absl::flat_hash_set<std::string> withheld)
      : withheld_(std::move(withheld)) {}

  // Adds events to withhold (a further case's decision).
  void Withhold(const absl::flat_hash_set<std::string>& event_ids) {
    withheld_.insert(event_ids.begin(), event_ids.end());
  }

  bool sees_everything() const { return withheld_.empty(); }
  bool Withholds(absl::string_view event_id) const {
    return withheld_.contains(event_id);
  }
  // Whether `event` is withheld: restricted itself, or an amendment (a
  // correction, annotation, dispute or retraction) of a withheld event,
  // whose text would otherwise show what the withheld event said (a
  // correction's old value is the withheld value). An amendment of such an
  // amendment is not followed further.
  bool Withholds(const casetrail::v1::CaseEvent& event) const;
  const absl::flat_hash_set<std::string>& withheld() const { return withheld_; }

  // Removes from `message` (any message: a query answer, a case state, an
  // event) every casetrail.v1.RecordedEvent, ChronologyEntry, Amendment,
  // EventRestriction and DecisionRecord of a withheld event (an amendment
  // also when what it amends is withheld), at any depth, and withheld event
  // ids from string fields that name events (DecisionMarker's
  // information_basis_event_ids and the like); a singular field naming a
  // withheld event is cleared. Stored events that are kept are never edited:
  // their bytes are what the log proves, so ids inside them stay. Returns how
  // many items it removed or cleared. Does nothing for a reader who sees
  // everything.
  size_t Redact(google::protobuf::Message* message) const;

 private:
  absl::flat_hash_set<std::string> withheld_;
};

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_READER_VIEW_H_
