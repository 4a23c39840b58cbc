#ifndef CASETRAIL_SERVICES_CASE_HISTORY_RULES_H_
#define CASETRAIL_SERVICES_CASE_HISTORY_RULES_H_

// The validation rules that depend on what a case already records (DOMAIN.md
// section C, issue 4): a correction, annotation, dispute or retraction targets
// an event of the same case; Channel support is agreed only with consent
// recorded and not since withdrawn or refused, and from a parent or guardian
// when the individual was under 18 (rule 16, CTSA 2015 s36(4)) on the day the
// consent occurred: the England and Wales local day (Europe/London), the day
// the fold gives it (projections::LocalDay).
// A command that breaks one gets FAILED_PRECONDITION: what is missing is in
// the case's history, not in the command.

#include <vector>

#include "casetrail/v1/case_log.pb.h"
#include "casetrail/v1/event.pb.h"
#include "services/append_validation.h"

namespace casetrail::services {

// True if some event of `request` is checked against the case's history.
bool NeedsHistory(const casetrail::v1::AppendEventsRequest& request);

// Violations of the history rules by `request`, given `history`: the case
// stream's events, oldest first. Earlier events of the same request count as
// history for later ones (consent and the plan it allows may come together).
std::vector<FieldViolation> CheckAgainstHistory(
    const casetrail::v1::AppendEventsRequest& request,
    const std::vector<casetrail::v1::RecordedEvent>& history);

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_CASE_HISTORY_RULES_H_
