#ifndef CASETRAIL_SERVICES_GRPC_STATUS_H_
#define CASETRAIL_SERVICES_GRPC_STATUS_H_

#include <vector>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "services/append_validation.h"

namespace casetrail::services {

// The one conversion from the core's status to gRPC's. Codes map one to one.
grpc::Status ToGrpcStatus(const absl::Status& status);

// `code` (default INVALID_ARGUMENT; FAILED_PRECONDITION when what is missing is
// in the case's history) carrying a google.rpc.BadRequest with every violation
// in the grpc-status-details-bin trailer; the message lists them too, for
// people using grpcurl.
grpc::Status BadRequestStatus(
    const std::vector<FieldViolation>& violations,
    grpc::StatusCode code = grpc::StatusCode::INVALID_ARGUMENT);

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_GRPC_STATUS_H_
