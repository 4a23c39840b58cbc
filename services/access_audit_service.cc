#include "services/access_audit_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "security/access_log.h"
#include "services/grpc_status.h"

namespace casetrail::services {

grpc::ServerUnaryReactor* AccessAuditService::ListAccess(
    grpc::CallbackServerContext* context,
    const casetrail::v1::ListAccessRequest* request,
    casetrail::v1::ListAccessResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::vector<FieldViolation> violations;
  for (auto& [field, description] : security::CheckListAccess(*request)) {
    violations.push_back({std::move(field), std::move(description)});
  }
  if (!violations.empty()) {
    reactor->Finish(BadRequestStatus(violations));
    return reactor;
  }
  if (!security_->enabled()) {
    reactor->Finish(grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        "security is off (--plaintext_loopback without --security_config): "
        "there are no tenants and no access audit"));
    return reactor;
  }
  casetrail::v1::AccessRecorded asked;
  asked.set_case_id(request->case_id());
  asked.set_child_id(request->child_id());
  asked.set_request_summary(absl::StrCat(
      "access audit",
      request->principal_id().empty() ? "" : " of " + request->principal_id()));
  reads_->Run(
      *context, "/casetrail.v1.AccessAudit/ListAccess", std::move(asked),
      [this, request, response](const CallSecurity& call,
                                casetrail::v1::AccessRecorded& access) {
        // The audit names every case read and every break-glass reason: it
        // is for auditors whose grant covers the whole tenant.
        if (!security_->policy()->HasTenantWideScope(call.principal,
                                                     absl::Now())) {
          return ReadOutcome::Refused(
              "listing the access audit needs a grant of all cases of your "
              "tenant");
        }
        absl::StatusOr<casetrail::v1::ListAccessResponse> listed =
            security::ListAccess(*store_, call.principal.tenant, *request);
        if (!listed.ok()) return ReadOutcome::NotRecorded(listed.status());
        *response = *std::move(listed);
        access.set_items_returned(response->entries_size());
        access.set_response_summary(
            absl::StrCat(response->entries_size(), " access events of ",
                         response->scanned(), " examined"));
        return ReadOutcome::Answered();
      },
      [reactor](absl::Status status) {
        reactor->Finish(ToGrpcStatus(status));
      });
  return reactor;
}

}  // namespace casetrail::services
