#include "services/case_queries_service.h"

#include <thread>
#include <utility>
#include <vector>

#include "services/grpc_status.h"

namespace casetrail::services {
CaseQueriesService::CaseQueriesService(projections::QueryEngine* engine,
                                       int workers)
    : engine_(engine) {
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
}

CaseQueriesService::~CaseQueriesService() {
  {
    absl::MutexLock lock(&queue_mu_);
    closing_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
  WaitForRebuild();
}

void CaseQueriesService::Enqueue(std::function<void()> work) {
  absl::MutexLock lock(&queue_mu_);
  queue_.push_back(std::move(work));
}

// Runs queued work until the service closes and the queue is empty.
void CaseQueriesService::Work() {
  for (;;) {
    std::function<void()> work;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](CaseQueriesService* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(
               s->queue_mu_) { return s->closing_ || !s->queue_.empty(); },
          this));
      if (queue_.empty()) return;  // closing, and nothing left
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

template <typename Request, typename Response, typename Answer>
grpc::ServerUnaryReactor* CaseQueriesService::Respond(
    grpc::CallbackServerContext* context, const Request* request,
    Response* response, Answer answer) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::vector<projections::RequestViolation> problems =
      projections::QueryEngine::Check(*request);
  if (!problems.empty()) {
    std::vector<FieldViolation> violations;
    for (auto& p : problems) {
      violations.push_back({std::move(p.field), std::move(p.description)});
    }
    reactor->Finish(BadRequestStatus(violations));
    return reactor;
  }
  // The request and response live until Finish.
  Enqueue([reactor, request, response, answer] {
    absl::StatusOr<Response> result = answer(*request);
    if (!result.ok()) {
      reactor->Finish(ToGrpcStatus(result.status()));
      return;
    }
    *response = *std::move(result);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* CaseQueriesService::GetChronology(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetChronologyRequest* request,
    casetrail::v1::GetChronologyResponse* response) {
  return Respond(context, request, response,
                 [this](const auto& r) { return engine_->Chronology(r); });
}

grpc::ServerUnaryReactor* CaseQueriesService::GetCaseState(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetCaseStateRequest* request,
    casetrail::v1::GetCaseStateResponse* response) {
  return Respond(context, request, response,
                 [this](const auto& r) { return engine_->CaseState(r); });
}

grpc::ServerUnaryReactor* CaseQueriesService::GetChannelPanelPack(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetChannelPanelPackRequest* request,
    casetrail::v1::GetChannelPanelPackResponse* response) {
  return Respond(context, request, response, [this](const auto& r) {
    return engine_->ChannelPanelPack(r);
  });
}

grpc::ServerUnaryReactor* CaseQueriesService::ReconstructDecision(
    grpc::CallbackServerContext* context,
    const casetrail::v1::ReconstructDecisionRequest* request,
    casetrail::v1::ReconstructDecisionResponse* response) {
  return Respond(context, request, response, [this](const auto& r) {
    return engine_->ReconstructDecision(r);
  });
}

grpc::ServerUnaryReactor* CaseQueriesService::GetProjectionStatus(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetProjectionStatusRequest* request,
    casetrail::v1::GetProjectionStatusResponse* response) {
  // With digest, a scan of the whole read model: on a worker too.
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Enqueue([this, reactor, request, response] {
    absl::StatusOr<casetrail::v1::GetProjectionStatusResponse> status =
        engine_->Status(*request);
    if (status.ok()) *response = *std::move(status);
    reactor->Finish(status.ok() ? grpc::Status::OK
                                : ToGrpcStatus(status.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* CaseQueriesService::RebuildProjections(
    grpc::CallbackServerContext* context,
    const casetrail::v1::RebuildProjectionsRequest* /*request*/,
    casetrail::v1::RebuildProjectionsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::MutexLock lock(&mu_);
  if (rebuilding_) {
    reactor->Finish(grpc::Status(grpc::StatusCode::ABORTED,
                                 "a rebuild is already running"));
    return reactor;
  }
  // The previous rebuild has finished (rebuilding_ is false), so this join
  // does not wait for long.
  if (rebuild_thread_.joinable()) rebuild_thread_.join();
  rebuilding_ = true;
  // A rebuild folds the whole log: too long for a callback thread.
  rebuild_thread_ = std::thread([this, reactor, response] {
    absl::StatusOr<casetrail::v1::RebuildProjectionsResponse> result =
        engine_->Rebuild();
    if (result.ok()) *response = *std::move(result);
    {
      absl::MutexLock lock(&mu_);
      rebuilding_ = false;
    }
    reactor->Finish(result.ok() ? grpc::Status::OK
                                : ToGrpcStatus(result.status()));
  });
  return reactor;
}

void CaseQueriesService::WaitForRebuild() {
  std::thread running;
  {
    absl::MutexLock lock(&mu_);
    running = std::move(rebuild_thread_);
  }
  if (running.joinable()) running.join();
}

}  // namespace casetrail::services
