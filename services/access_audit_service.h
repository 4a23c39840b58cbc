#ifndef CASETRAIL_SERVICES_ACCESS_AUDIT_SERVICE_H_
#define CASETRAIL_SERVICES_ACCESS_AUDIT_SERVICE_H_

#include "casetrail/v1/access.grpc.pb.h"
#include "eventstore/event_store.h"
#include "services/audited_read.h"
#include "services/request_security.h"

namespace casetrail::services {

// casetrail.v1.AccessAudit: lists the caller's tenant's access audit
// (security/access_log.h). A listing is itself a read and is recorded. With
// security off there are no tenants and nothing is audited:
// FAILED_PRECONDITION.
//
// Thread-safe; `store` and `security` must outlive the service.
class AccessAuditService final
    : public casetrail::v1::AccessAudit::CallbackService {
 public:
  // A listing runs as an audited read (audited_read.h) on `reads`' pool: it
  // scans the audit stream. `reads` is not owned.
  AccessAuditService(eventstore::EventStore* store, AuditedReads* reads)
      : store_(store), security_(reads->security()), reads_(reads) {}

  grpc::ServerUnaryReactor* ListAccess(
      grpc::CallbackServerContext* context,
      const casetrail::v1::ListAccessRequest* request,
      casetrail::v1::ListAccessResponse* response) override;

 private:
  eventstore::EventStore* const store_;
  RequestSecurity* const security_;
  AuditedReads* const reads_;
};

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_ACCESS_AUDIT_SERVICE_H_
