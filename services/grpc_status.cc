#include "services/grpc_status.h"

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace casetrail::services {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

grpc::Status BadRequestStatus(const std::vector<FieldViolation>& violations,
                              grpc::StatusCode code) {
  google::rpc::BadRequest bad_request;
  std::string message = code == grpc::StatusCode::INVALID_ARGUMENT
                            ? "invalid request:"
                            : "the case's history does not allow this:";
  for (const FieldViolation& v : violations) {
    auto* fv = bad_request.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
    absl::StrAppend(&message, " ", v.field, ": ", v.description, ";");
  }
  message.pop_back();
  google::rpc::Status details;
  details.set_code(code);
  details.set_message(message);
  details.add_details()->PackFrom(bad_request);
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace casetrail::services
