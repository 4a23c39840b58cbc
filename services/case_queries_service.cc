#include "services/case_queries_service.h"

#include <algorithm>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "services/grpc_status.h"

namespace casetrail::services {
CaseQueriesService::CaseQueriesService(projections::QueryEngine* engine,
                                       AuditedReads* reads)
    : engine_(engine), security_(reads->security()), reads_(reads) {}

CaseQueriesService::~CaseQueriesService() { WaitForRebuild(); }

namespace {

using casetrail::v1::AccessRecorded;

std::string TimeText(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

std::string DateText(const casetrail::v1::CivilDate& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

// What was asked, for the access audit.
AccessRecorded Asked(const casetrail::v1::GetChronologyRequest& r) {
  AccessRecorded a;
  a.set_case_id(r.case_id());
  a.set_child_id(r.child_id());
  std::vector<std::string> parts = {r.has_as_known_at()
                                        ? "chronology as known at " +
                                              TimeText(r.as_known_at())
                                        : "chronology as known now"};
  if (!r.agency().empty()) parts.push_back("agency " + r.agency());
  if (r.significant_only()) parts.push_back("significant only");
  if (!r.page_token().empty()) parts.push_back("next page");
  a.set_request_summary(absl::StrJoin(parts, ", "));
  return a;
}
AccessRecorded Asked(const casetrail::v1::GetCaseStateRequest& r) {
  AccessRecorded a;
  a.set_case_id(r.case_id());
  a.set_request_summary(absl::StrCat(
      "case state as known ",
      r.has_as_known_at() ? "at " + TimeText(r.as_known_at()) : "now",
      r.has_evaluate_on() ? ", evaluated on " + DateText(r.evaluate_on())
                          : ""));
  return a;
}
AccessRecorded Asked(const casetrail::v1::GetChannelPanelPackRequest& r) {
  AccessRecorded a;
  a.set_child_id(r.person_id());
  a.set_request_summary(absl::StrCat(
      "Channel panel pack as known ",
      r.has_as_known_at() ? "at " + TimeText(r.as_known_at()) : "now"));
  return a;
}
AccessRecorded Asked(const casetrail::v1::ReconstructDecisionRequest& r) {
  AccessRecorded a;
  a.set_case_id(r.case_id());
  a.set_request_summary("reconstruct decision " + r.event_id());
  return a;
}

// What was returned, in outline.
void Outline(const casetrail::v1::GetChronologyResponse& r, AccessRecorded* a) {
  std::set<std::string> cases;
  for (const auto& e : r.entries()) cases.insert(e.case_id());
  for (const std::string& c : cases) a->add_cases_returned(c);
  a->set_items_returned(r.entries_size());
  a->set_response_summary(absl::StrCat("chronology: ", r.entries_size(), " of ",
                                       r.total_entries(), " entries"));
}
void Outline(const casetrail::v1::GetCaseStateResponse& r, AccessRecorded* a) {
  a->add_cases_returned(r.state().case_id());
  a->set_items_returned(1);
  a->set_response_summary(
      absl::StrCat("case state: ", r.state().children_size(), " children, ",
                   r.state().deadlines_size(), " deadlines"));
}
void Outline(const casetrail::v1::GetChannelPanelPackResponse& r,
             AccessRecorded* a) {
  a->set_items_returned(1);
  a->set_response_summary(
      absl::StrCat("Channel panel pack: ", r.pack().chronology_extract_size(),
                   " chronology entries"));
}
void Outline(const casetrail::v1::ReconstructDecisionResponse& r,
             AccessRecorded* a) {
  a->add_cases_returned(a->case_id());
  a->set_items_returned(r.chronology_at_basis_size() + r.relied_on_size() + 1);
  a->set_response_summary(absl::StrCat(
      "decision reconstructed: ", r.chronology_at_basis_size(),
      " entries at its basis, ", r.relied_on_size(), " relied on, ",
      r.later_corrections_size(), " later corrections"));
}

// The event a request is about, if it names one (a decision to reconstruct).
const std::string* TargetEvent(const casetrail::v1::GetChronologyRequest&) {
  return nullptr;
}
const std::string* TargetEvent(const casetrail::v1::GetCaseStateRequest&) {
  return nullptr;
}
const std::string* TargetEvent(
    const casetrail::v1::GetChannelPanelPackRequest&) {
  return nullptr;
}
const std::string* TargetEvent(
    const casetrail::v1::ReconstructDecisionRequest& r) {
  return &r.event_id();
}

// The position a request asks the read model to have reached (0: none).
template <typename Request>
uint64_t MinPosition(const Request& r) {
  return r.min_position();
}
uint64_t MinPosition(const casetrail::v1::ReconstructDecisionRequest&) {
  return 0;
}

}  // namespace

template <typename Request, typename Response, typename Answer>
grpc::ServerUnaryReactor* CaseQueriesService::Respond(
    grpc::CallbackServerContext* context, const char* method,
    const Request* request, Response* response, Answer answer) {
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
  // The context, request and response live until Finish.
  reads_->Run(
      *context, method, Asked(*request),
      [this, request, response, answer](const CallSecurity& call,
                                        AccessRecorded& access) {
        return AnswerFor(call, *request, response, answer, access);
      },
      [reactor](absl::Status status) {
        reactor->Finish(ToGrpcStatus(status));
      });
  return reactor;
}

template <typename Request, typename Response, typename Answerer>
ReadOutcome CaseQueriesService::AnswerFor(const CallSecurity& call,
                                          const Request& request,
                                          Response* response, Answerer answer,
                                          AccessRecorded& access) const {
  // Who may see what is decided from the read model: with min_position,
  // as of that position, so that a restriction or allocation the caller
  // has just appended already applies. (Without it, nothing waits: an
  // as-known-at query still answers when the runner has stopped.)
  if (call.enabled && MinPosition(request) > 0) {
    if (absl::Status caught_up = engine_->AwaitPosition(MinPosition(request));
        !caught_up.ok()) {
      // Recorded like any read that got past authorisation.
      access.set_response_summary(
          absl::StrCat(absl::StatusCodeToString(caught_up.code()), ": ",
                       caught_up.message()));
      return ReadOutcome::Answered(caught_up);
    }
  }
  // One case named: decide before reading anything. A child's or person's
  // cases: each passes the same decision, and the refused ones are left
  // out as if absent.
  absl::Status scope_error;
  std::vector<casetrail::v1::AccessFlag> flags;
  std::vector<std::string> visible_cases;
  // What the reader may not see of the cases opened to them: the one
  // redaction point (projections/reader_view.h) makes every answer below.
  projections::ReaderView reader;
  if (!access.case_id().empty()) {
    absl::StatusOr<security::CaseDecision> decision =
        security_->DecideCase(call, access.case_id());
    if (!decision.ok()) return ReadOutcome::NotRecorded(decision.status());
    const std::string* target = TargetEvent(request);
    if (decision->allowed && target != nullptr &&
        decision->hidden_events.contains(*target)) {
      decision->allowed = false;
      decision->refusal =
          absl::StrCat("event '", *target, "' of case '", access.case_id(),
                       "' is restricted to the people and roles named");
    }
    AddFlags(decision->flags, &access);
    if (!decision->allowed) {
      return ReadOutcome::Refused(std::move(decision->refusal));
    }
    reader.Withhold(decision->hidden_events);
  }
  projections::QueryEngine::CaseFilter visible;
  if (call.enabled && access.case_id().empty()) {
    visible = [&](const std::string& case_id) {
      absl::StatusOr<security::CaseDecision> decision =
          security_->DecideCase(call, case_id);
      if (!decision.ok()) {
        scope_error.Update(decision.status());
        return false;
      }
      if (!decision->allowed) return false;
      flags.insert(flags.end(), decision->flags.begin(), decision->flags.end());
      reader.Withhold(decision->hidden_events);
      visible_cases.push_back(case_id);
      return true;
    };
  }
  absl::StatusOr<Response> result = answer(request, visible, reader);
  if (!scope_error.ok()) result = scope_error;
  AddFlags(flags, &access);
  if (result.ok()) {
    Outline(*result, &access);
    access.set_response_summary(
        absl::StrCat(access.response_summary(),
                     WithheldNote(result->provenance().withheld_events())));
  } else {
    access.set_response_summary(
        absl::StrCat(absl::StatusCodeToString(result.status().code()), ": ",
                     result.status().message()));
  }
  // A child's or person's cases that were let through, when the outline
  // did not name the cases itself.
  if (access.cases_returned().empty()) {
    for (const std::string& c : visible_cases) access.add_cases_returned(c);
  }
  // Every read that got this far is recorded, answered or not; the response
  // is sent only once its record is durable.
  if (!result.ok()) return ReadOutcome::Answered(result.status());
  *response = *std::move(result);
  return ReadOutcome::Answered();
}

grpc::ServerUnaryReactor* CaseQueriesService::GetChronology(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetChronologyRequest* request,
    casetrail::v1::GetChronologyResponse* response) {
  return Respond(
      context, "/casetrail.v1.CaseQueries/GetChronology", request, response,
      [this](const auto& r, const auto& visible, const auto& reader) {
        return engine_->Chronology(r, visible, reader);
      });
}

grpc::ServerUnaryReactor* CaseQueriesService::GetCaseState(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetCaseStateRequest* request,
    casetrail::v1::GetCaseStateResponse* response) {
  return Respond(context, "/casetrail.v1.CaseQueries/GetCaseState", request,
                 response,
                 [this](const auto& r, const auto&, const auto& reader) {
                   return engine_->CaseState(r, reader);
                 });
}

grpc::ServerUnaryReactor* CaseQueriesService::GetChannelPanelPack(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetChannelPanelPackRequest* request,
    casetrail::v1::GetChannelPanelPackResponse* response) {
  return Respond(
      context, "/casetrail.v1.CaseQueries/GetChannelPanelPack", request,
      response, [this](const auto& r, const auto& visible, const auto& reader) {
        return engine_->ChannelPanelPack(r, visible, reader);
      });
}

grpc::ServerUnaryReactor* CaseQueriesService::ReconstructDecision(
    grpc::CallbackServerContext* context,
    const casetrail::v1::ReconstructDecisionRequest* request,
    casetrail::v1::ReconstructDecisionResponse* response) {
  return Respond(context, "/casetrail.v1.CaseQueries/ReconstructDecision",
                 request, response,
                 [this](const auto& r, const auto&, const auto& reader) {
                   return engine_->ReconstructDecision(r, reader);
                 });
}

grpc::ServerUnaryReactor* CaseQueriesService::GetProjectionStatus(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetProjectionStatusRequest* request,
    casetrail::v1::GetProjectionStatusResponse* response) {
  // With digest, a scan of the whole read model: on a worker too.
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reads_->Schedule([this, context, reactor, request, response] {
    absl::StatusOr<CallSecurity> call = security_->Authorize(
        *context, "/casetrail.v1.CaseQueries/GetProjectionStatus",
        /*read=*/false, {});
    if (!call.ok()) {
      reactor->Finish(ToGrpcStatus(call.status()));
      return;
    }
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
  if (absl::StatusOr<CallSecurity> call = security_->Authorize(
          *context, "/casetrail.v1.CaseQueries/RebuildProjections",
          /*read=*/false, {});
      !call.ok()) {
    reactor->Finish(ToGrpcStatus(call.status()));
    return reactor;
  }
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
