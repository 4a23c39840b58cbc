#ifndef CASETRAIL_SERVICES_INTEGRITY_SERVICE_H_
#define CASETRAIL_SERVICES_INTEGRITY_SERVICE_H_

#include "casetrail/v1/integrity.grpc.pb.h"
#include "eventstore/checkpointer.h"
#include "eventstore/event_store.h"
#include "services/request_security.h"

namespace casetrail::services {

// casetrail.v1.LogIntegrity on the callback API. Thin: checks the request,
// asks the store or the checkpointer, converts the status. Every call is a few
// short RocksDB reads (O(log n)), or one signature, on gRPC's callback thread.
//
// Thread-safe. `store` and `checkpointer` are not owned and must outlive the
// service.
class IntegrityService final
    : public casetrail::v1::LogIntegrity::CallbackService {
 public:
  // `security` checks every call and records inclusion proofs, which return
  // an event (request_security.h).
  IntegrityService(eventstore::EventStore* store,
                   eventstore::Checkpointer* checkpointer,
                   RequestSecurity* security)
      : store_(store), checkpointer_(checkpointer), security_(security) {}

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
  eventstore::EventStore* const store_;
  eventstore::Checkpointer* const checkpointer_;
  RequestSecurity* const security_;
};

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_INTEGRITY_SERVICE_H_
