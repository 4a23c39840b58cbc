#ifndef CASETRAIL_SERVICES_TYPED_VALIDATION_H_
#define CASETRAIL_SERVICES_TYPED_VALIDATION_H_

// The checks on a typed payload that need no case history: DOMAIN.md section
// C's E rules as far as one event shows them (who may decide, what must be
// recorded), and section A's rules for every typed event and decision event.
// Rules that need earlier events (e.g. that a support plan's consent was
// given) are in case_history_rules.h, and F rules (timescales) not here: F
// rules become flags and must never reject an event, and nothing here looks at
// when an event happened or was recorded, because recording late is never an
// error.

#include <vector>

#include "casetrail/v1/event.pb.h"
#include "services/append_validation.h"

namespace casetrail::services {

// Field violations of one typed event (the event at `index` of an append),
// each naming the rule and its source, e.g.
// {"events[1].assessment_extension_decided.decision.decided_by.authority_level",
//  "rule 3 [GLOSS][GH]: an assessment extension is decided by a Service
//  Manager or above"}.
// Every CivilDate of the payload, at any depth, must be a calendar date
// (e.g. "events[0].case_closed.effective_date"). An event with an opaque
// payload or none is not checked beyond its type: a type of the catalogue
// (the name of one of CaseEvent's payload messages) must carry its typed
// payload, reported at "events[i].event_type"; any other type may be opaque.
std::vector<FieldViolation> ValidateTypedEvent(
    const casetrail::v1::CaseEvent& event, int index);

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_TYPED_VALIDATION_H_
