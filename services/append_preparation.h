#ifndef CASETRAIL_SERVICES_APPEND_PREPARATION_H_
#define CASETRAIL_SERVICES_APPEND_PREPARATION_H_

// The checks every append goes through before the store, shared by
// AppendEvents and AppendEventsStream.

#include "casetrail/v1/case_log.pb.h"
#include "eventstore/event_store.h"
#include "grpcpp/support/status.h"
#include "services/append_validation.h"

namespace casetrail::services {

struct PreparedAppend {
  // OK: `append` is what to give the store. Otherwise the status to answer
  // with: INVALID_ARGUMENT for a malformed command, FAILED_PRECONDITION when
  // the case's history does not allow it (both with BadRequest violations), or
  // the store's error reading the case.
  grpc::Status status;
  eventstore::AppendRequest append;
};

// Validates `request` and, if some of its rules depend on the case's history
// (case_history_rules.h), reads the case and checks them. The append's
// expected version is then pinned to the version read (ANY becomes exactly
// that version), so an event recorded meanwhile makes the append ABORTED
// rather than slip past the check. Blocks for the read; call on a thread that
// may.
PreparedAppend PrepareAppend(const eventstore::EventStore& store,
                             const casetrail::v1::AppendEventsRequest& request,
                             const AppendLimits& limits);

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_APPEND_PREPARATION_H_
