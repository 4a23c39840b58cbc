#ifndef CASETRAIL_SERVICES_INTEGRITY_SERVICE_H_
#define CASETRAIL_SERVICES_INTEGRITY_SERVICE_H_

#include "casetrail/v1/integrity.grpc.pb.h"
#include "eventstore/checkpointer.h"
#include "eventstore/event_store.h"
#include "services/audited_read.h"
#include "services/request_security.h"

namespace casetrail::services {

// casetrail.v1.LogIntegrity on the callback API. Thin: checks the request,
// asks the store or the checkpointer, converts the status. Consistency proofs
// are a few short RocksDB reads (O(log n)) on gRPC's callback thread;
// checkpoints (one may be signed and written, synced) run on the read pool;
// an inclusion proof returns the event itself, so it is an audited read of
// case data (audited_read.h), on the read pool too.
//
// Thread-safe. `store` and `checkpointer` are not owned and must outlive the
// service.
class IntegrityService final
    : public casetrail::v1::LogIntegrity::CallbackService {
 public:
  // `reads` checks every call and runs inclusion proofs as audited reads.
  // Not owned; must outlive the service.
  IntegrityService(eventstore::EventStore* store,
                   eventstore::Checkpointer* checkpointer, AuditedReads* reads)
      : store_(store),
        checkpointer_(checkpointer),
        security_(reads->security()),
        reads_(reads) {}

  grpc::ServerUnaryReactor* GetCheckpoint(
      grpc::CallbackServerContext* context,
      const casetrail::v1::GetCheckpointRequest* request,
      casetrail::v1::GetCheckpointResponse* response) override;
  grpc::ServerUnaryReactor* GetInclusionProof(
      grpc::CallbackServerContext* context,
      const casetrail::v1::GetInclusionProofRequest* request,
      casetrail::v1::GetInclusionProofResponse* response) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(
      grpc::CallbackServerContext* context,
      const casetrail::v1::GetConsistencyProofRequest* request,
      casetrail::v1::GetConsistencyProofResponse* response) override;

 private:
  // Decides and proves for an authorised call, filling the access event.
  ReadOutcome Prove(const CallSecurity& call,
                    const casetrail::v1::GetInclusionProofRequest& request,
                    casetrail::v1::GetInclusionProofResponse* response,
                    casetrail::v1::AccessRecorded& access) const;

  eventstore::EventStore* const store_;
  eventstore::Checkpointer* const checkpointer_;
  RequestSecurity* const security_;
  AuditedReads* const reads_;
};

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_INTEGRITY_SERVICE_H_
