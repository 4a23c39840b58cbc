#ifndef CASETRAIL_PROJECTIONS_HEADLINES_H_
#define CASETRAIL_PROJECTIONS_HEADLINES_H_

// The brief factual headline of a chronology entry and the action or outcome
// it records, built from the typed payload (DOMAIN.md B1). Deterministic: the
// same event always gives the same text.

#include <string>

#include "casetrail/v1/event.pb.h"

namespace casetrail::projections {

struct Headline {
  std::string headline;
  // What was done or decided, and by whom; empty when the event records no
  // action.
  std::string action;
};

Headline MakeHeadline(const casetrail::v1::CaseEvent& event);

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_HEADLINES_H_
