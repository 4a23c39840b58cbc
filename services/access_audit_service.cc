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
  security_->Authorize(
      *context, "/casetrail.v1.AccessAudit/ListAccess", /*read=*/true, asked,
      [this, reactor, request, response,
       asked](absl::StatusOr<CallSecurity> call) mutable {
        if (!call.ok()) {
          reactor->Finish(ToGrpcStatus(call.status()));
          return;
        }
        // The audit names every case read and every break-glass reason: it
        // is for auditors whose grant covers the whole tenant.
        if (!security_->policy()->HasTenantWideScope(call->principal,
                                                     absl::Now())) {
          security_->Refuse(
              *call, std::move(asked),
              "listing the access audit needs a grant of all cases of your "
              "tenant",
              [reactor](absl::Status s) { reactor->Finish(ToGrpcStatus(s)); });
          return;
        }
        absl::StatusOr<casetrail::v1::ListAccessResponse> listed =
            security::ListAccess(*store_, call->principal.tenant, *request);
        if (!listed.ok()) {
          reactor->Finish(ToGrpcStatus(listed.status()));
          return;
        }
        *response = *std::move(listed);
        casetrail::v1::AccessRecorded access = std::move(asked);
        access.set_items_returned(response->entries_size());
        access.set_response_summary(
            absl::StrCat(response->entries_size(), " access events of ",
                         response->scanned(), " examined"));
        security_->Record(*call, std::move(access), [reactor](absl::Status s) {
          reactor->Finish(ToGrpcStatus(s));
        });
      });
  return reactor;
}

}  // namespace casetrail::services
