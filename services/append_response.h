#ifndef CASETRAIL_SERVICES_APPEND_RESPONSE_H_
#define CASETRAIL_SERVICES_APPEND_RESPONSE_H_

#include "casetrail/v1/case_log.pb.h"
#include "eventstore/event_store.h"

namespace casetrail::services {

// Fills `response` from the store's result for `request` (one entry per event,
// in order).
void FillAppendResponse(const eventstore::AppendResult& result,
                        const casetrail::v1::AppendEventsRequest& request,
                        casetrail::v1::AppendEventsResponse* response);

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_APPEND_RESPONSE_H_
