#ifndef CASETRAIL_PROJECTIONS_VIEWS_H_
#define CASETRAIL_PROJECTIONS_VIEWS_H_

// Views over folded cases: the chronology (DOMAIN.md B1), deadline statuses on
// a day (B2) and the Channel panel pack (B3). Pure functions of the fold's
// output, used alike for the live read model and for replays.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "casetrail/v1/case_queries.pb.h"
#include "casetrail/v1/projections.pb.h"
#include "projections/case_fold.h"

namespace casetrail::projections {

// One folded case: its model and its chronology entries (any order).
struct CaseSnapshot {
  casetrail::v1::CaseModel model;
  std::vector<casetrail::v1::ChronologyEntry> entries;
  // Events of the case left out of this fold because they are withheld from
  // the reader (projections/reader_view.h).
  uint32_t withheld_events = 0;
};

struct ChronologyFilter {
  // Only entries concerning this child (and case-level entries with no
  // child). Empty: all.
  std::string child_id;
  // Only entries recorded by this agency. Empty: multi-agency.
  std::string agency;
  bool significant_only = false;
};

// The chronology of one or more cases: entries filtered, sorted by occurred
// time then position, with same-day sequence numbers, children's ages and the
// amendments the models know of.
std::vector<casetrail::v1::ChronologyEntry> BuildChronology(
    const std::vector<const CaseSnapshot*>& cases,
    const ChronologyFilter& filter);

// The same, moving the entries out of `cases` instead of copying them.
std::vector<casetrail::v1::ChronologyEntry> TakeChronology(
    std::vector<CaseSnapshot>& cases, const ChronologyFilter& filter);

// Sets every deadline's status as it stood on `day` (DOMAIN.md B2).
void EvaluateDeadlines(const WorkingDayCalendar& calendar, absl::CivilDay day,
                       casetrail::v1::CaseState* state);

// Sets each deadline's description from its rule in `rules` (descriptions
// are not stored in the read model).
void DescribeDeadlines(const TimescaleRules& rules,
                       casetrail::v1::CaseState* state);

// The Channel panel pack for `person_id` from every case they appear in.
// Errors: NOT_FOUND if none of the cases records a Prevent referral or
// Channel case for them.
absl::StatusOr<casetrail::v1::ChannelPanelPack> BuildChannelPanelPack(
    const FoldConfig& config, const std::string& person_id,
    const std::vector<const CaseSnapshot*>& cases, absl::CivilDay pack_date);

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_VIEWS_H_
