#ifndef CASETRAIL_SERVICES_CASE_QUERIES_SERVICE_H_
#define CASETRAIL_SERVICES_CASE_QUERIES_SERVICE_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "casetrail/v1/case_queries.grpc.pb.h"
#include "projections/queries.h"
#include "services/audited_read.h"
#include "services/request_security.h"

namespace casetrail::services {

// casetrail.v1.CaseQueries on the callback API. Thin: checks the request (a
// malformed one gets INVALID_ARGUMENT with google.rpc.BadRequest), asks the
// QueryEngine (projections/queries.h), converts the status. The answers run
// through the one audited-read path (audited_read.h) on its worker pool, not
// gRPC's callback threads, which CaseLog's appends share: a query may wait
// for min_position (up to 2 s), replay a case or digest the whole read model.
// A rebuild runs on its own thread.
//
// Thread-safe. `engine` is not owned and must outlive the service.
class CaseQueriesService final
    : public casetrail::v1::CaseQueries::CallbackService {
 public:
  // Reads run through `reads` (audited_read.h), on its worker pool; the
  // engine and `reads` are not owned and must outlive the service.
  CaseQueriesService(projections::QueryEngine* engine, AuditedReads* reads);
  // Waits for a running rebuild. The pool must finish the queries queued
  // before the engine goes away.
  ~CaseQueriesService();

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
  // Checks the request, then answers it on a worker thread.
  template <typename Request, typename Response, typename Answer>
  grpc::ServerUnaryReactor* Respond(grpc::CallbackServerContext* context,
                                    const char* method, const Request* request,
                                    Response* response, Answer answer);
  // Decides, reads and fills the access event for an authorised call.
  template <typename Request, typename Response, typename Answerer>
  ReadOutcome AnswerFor(const CallSecurity& call, const Request& request,
                        Response* response, Answerer answer,
                        casetrail::v1::AccessRecorded& access) const;

  projections::QueryEngine* const engine_;
  RequestSecurity* const security_;
  AuditedReads* const reads_;
  absl::Mutex mu_;
  // The thread of the latest rebuild, and whether it is still running; one
  // rebuild runs at a time.
  std::thread rebuild_thread_ ABSL_GUARDED_BY(mu_);
  bool rebuilding_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_CASE_QUERIES_SERVICE_H_
