#ifndef CASETRAIL_SERVICES_CASE_QUERIES_SERVICE_H_
#define CASETRAIL_SERVICES_CASE_QUERIES_SERVICE_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "casetrail/v1/case_queries.grpc.pb.h"
#include "projections/queries.h"

namespace casetrail::services {

// casetrail.v1.CaseQueries on the callback API. Thin: checks the request (a
// malformed one gets INVALID_ARGUMENT with google.rpc.BadRequest), asks the
// QueryEngine (projections/queries.h), converts the status. Queries run on
// gRPC's callback threads (a read-model read, or a replay of one case's
// stream); a rebuild runs on its own thread.
//
// Thread-safe. `engine` is not owned and must outlive the service.
class CaseQueriesService final
    : public casetrail::v1::CaseQueries::CallbackService {
 public:
  explicit CaseQueriesService(projections::QueryEngine* engine)
      : engine_(engine) {}
  ~CaseQueriesService() { WaitForRebuild(); }

  // Returns once no rebuild started by RebuildProjections is running.
  void WaitForRebuild();

  grpc::ServerUnaryReactor* GetChronology(
      grpc::CallbackServerContext* context,
      const casetrail::v1::GetChronologyRequest* request,
      casetrail::v1::GetChronologyResponse* response) override;
  grpc::ServerUnaryReactor* GetCaseState(
      grpc::CallbackServerContext* context,
      const casetrail::v1::GetCaseStateRequest* request,
      casetrail::v1::GetCaseStateResponse* response) override;
  grpc::ServerUnaryReactor* GetChannelPanelPack(
      grpc::CallbackServerContext* context,
      const casetrail::v1::GetChannelPanelPackRequest* request,
      casetrail::v1::GetChannelPanelPackResponse* response) override;
  grpc::ServerUnaryReactor* ReconstructDecision(
      grpc::CallbackServerContext* context,
      const casetrail::v1::ReconstructDecisionRequest* request,
      casetrail::v1::ReconstructDecisionResponse* response) override;
  grpc::ServerUnaryReactor* GetProjectionStatus(
      grpc::CallbackServerContext* context,
      const casetrail::v1::GetProjectionStatusRequest* request,
      casetrail::v1::GetProjectionStatusResponse* response) override;
  grpc::ServerUnaryReactor* RebuildProjections(
      grpc::CallbackServerContext* context,
      const casetrail::v1::RebuildProjectionsRequest* request,
      casetrail::v1::RebuildProjectionsResponse* response) override;

 private:
  projections::QueryEngine* const engine_;
  absl::Mutex mu_;
  // The thread of the latest rebuild, and whether it is still running; one
  // rebuild runs at a time.
  std::thread rebuild_thread_ ABSL_GUARDED_BY(mu_);
  bool rebuilding_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_CASE_QUERIES_SERVICE_H_
