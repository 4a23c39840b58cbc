// Leak hunting (issue 13): restricted records must never show through any
// view. Black-box against the real casetraild with the shipped example
// security configuration:
// - four cases hold one event of every payload type of the catalogue, each
//   event marked in its free text ("LEAKMARK-0042-"); one case is RESTRICTED
//   as a whole, one SEALED, and in two open ones (Prevent/Channel cases too)
//   single events are RESTRICTED or SEALED, among them annotations and
//   corrections of open events;
// - an oracle written from docs/security.md ("Roles and case scope",
//   "Restriction", "Restricted events") says which markers each caller may
//   see;
// - every caller (each role of the example, break-glass, a named user) calls
//   every method of every casetrail.v1 service with the variants that reach
//   each view, and every answer and error is searched for markers.
// A marker shown to a caller the oracle withholds it from is a leak. As a
// control, markers the oracle allows must show up.

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "casetrail/v1/access.grpc.pb.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "casetrail/v1/case_queries.grpc.pb.h"
#include "casetrail/v1/integrity.grpc.pb.h"
#include "casetrail/v1/security_config.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "security/jwt.h"
#include "security/policy.h"
#include "tests/testing/example_security.h"
#include "tests/testing/marked_cases.h"
#include "tests/testing/marker_search.h"
#include "tests/testing/server_process.h"

#ifndef CASETRAIL_SECURITY_EXAMPLE
#error "CASETRAIL_SECURITY_EXAMPLE must name deploy/security/example.textproto"
#endif

namespace casetrail {
namespace {

namespace v1 = casetrail::v1;
using casetrail::testing::FindMarkers;
using casetrail::testing::MarkedEvent;
using casetrail::testing::MarkerHit;
using casetrail::testing::MarkersIn;
using casetrail::testing::ReadWholeFile;
using casetrail::testing::ServerProcess;
using casetrail::testing::StoryIds;
using casetrail::testing::TempDir;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using grpc::StatusCode;

constexpr char kTenant[] = "northshire";
constexpr char kTeam[] = "Assessment Team East";
constexpr char kWorker[] = "ns-lwilliams";
constexpr char kManager[] = "ns-mbrennan";
constexpr char kNamed[] = "ns-named";
constexpr char kReviewer[] = "ns-leak-reviewer";
constexpr char kAuditor[] = "ns-ig-officer";  // all cases, in the example

// --- Oracle (docs/security.md) ------------------------------------------

struct Restriction {
  v1::RestrictionLevel level = v1::RESTRICTION_LEVEL_NONE;
  std::vector<std::string> users;
  std::vector<v1::Role> roles;
  bool restricted() const {
    return level == v1::RESTRICTION_LEVEL_RESTRICTED ||
           level == v1::RESTRICTION_LEVEL_SEALED;
  }
  std::string Describe() const {
    if (!restricted()) return "open";
    std::vector<std::string> named = users;
    for (v1::Role r : roles) named.push_back(v1::Role_Name(r));
    return absl::StrCat(v1::RestrictionLevel_Name(level).substr(18), " to ",
                        absl::StrJoin(named, ", "));
  }
};

struct CaseFacts {
  std::string team = kTeam;
  std::string worker = kWorker;
  std::string manager = kManager;
  Restriction restriction;  // of the whole case
  bool prevent = true;      // every story has a Prevent referral
};

struct MarkerFacts {
  std::string case_id;
  std::string event_id;
  std::string payload;
  Restriction restriction;  // of the event alone
};

struct Caller {
  std::string label;
  v1::Role role;
  std::string subject;
  std::string team;
  std::string purpose;
  std::string break_glass;
  std::string token;
};

class Oracle {
 public:
  std::map<std::string, CaseFacts> cases;
  std::map<int, MarkerFacts> markers;
  // Reviewer and auditor grants: principal -> cases ("*" for all).
  std::map<std::string, std::set<std::string>> grants;

  bool MaySee(const Caller& c, int marker) const {
    auto m = markers.find(marker);
    if (m == markers.end()) return false;
    const CaseFacts& k = cases.at(m->second.case_id);
    if (!MayReadCase(c, k, m->second.case_id)) return false;
    return c.role == v1::ROLE_UPSTREAM_SYSTEM ||
           Opens(m->second.restriction, c, k);
  }

 private:
  static bool Names(const Restriction& r, const Caller& c) {
    return std::count(r.users.begin(), r.users.end(), c.subject) > 0 ||
           std::count(r.roles.begin(), r.roles.end(), c.role) > 0;
  }
  static bool InAllocatedTeam(const Caller& c, const CaseFacts& k) {
    return (c.role == v1::ROLE_SOCIAL_WORKER ||
            c.role == v1::ROLE_TEAM_MANAGER) &&
           (c.team == k.team || c.subject == k.worker ||
            c.subject == k.manager);
  }
  // Whether `r` lets `c` see what it restricts (break-glass never does).
  static bool Opens(const Restriction& r, const Caller& c, const CaseFacts& k) {
    if (!r.restricted() || Names(r, c)) return true;
    return r.level == v1::RESTRICTION_LEVEL_RESTRICTED && InAllocatedTeam(c, k);
  }
  bool MayReadCase(const Caller& c, const CaseFacts& k,
                   const std::string& case_id) const {
    if (c.role == v1::ROLE_UPSTREAM_SYSTEM) return true;
    // Being named brings a restricted case into one's scope.
    if (k.restriction.restricted()) return Opens(k.restriction, c, k);
    auto granted = [&] {
      auto g = grants.find(c.subject);
      return g != grants.end() &&
             (g->second.contains("*") || g->second.contains(case_id));
    };
    switch (c.role) {
      case v1::ROLE_SOCIAL_WORKER:
      case v1::ROLE_TEAM_MANAGER:
        return InAllocatedTeam(c, k) || c.break_glass.size() >= 10;
      case v1::ROLE_SERVICE_MANAGER:
        return true;
      case v1::ROLE_PANEL_CHAIR:
        return k.prevent;
      case v1::ROLE_REVIEWER:
      case v1::ROLE_AUDITOR:
        return granted();
      default:
        return false;
    }
  }
};

// --- What the probes found --------------------------------------------------

struct Finding {
  std::string method;
  std::string variant;
  int marker;
  std::string where;
  bool event_text;
};

// One caller's results; written by that caller's thread only.
struct Tally {
  uint64_t calls = 0;
  std::set<int> seen;
  std::vector<Finding> findings;
};

// What the probes ask about; read-only while they run.
struct World {
  std::vector<std::string> cases;
  std::vector<std::string> people;
  std::map<std::string, std::vector<std::string>> decisions;
  absl::Time as_known_at;
  uint64_t data_end = 0;
  v1::AppendEventsRequest conflicting_append;
};

bool RefusedByMatrix(const grpc::Status& s) {
  return s.error_code() == StatusCode::PERMISSION_DENIED &&
         absl::StrContains(s.error_message(), "may not call");
}

google::protobuf::Timestamp ProtoTime(absl::Time t) {
  google::protobuf::Timestamp p;
  const int64_t ns = absl::ToUnixNanos(t);
  p.set_seconds(ns / 1000000000);
  p.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return p;
}

// Calls every method, with every variant, as one caller, and searches what
// comes back. Not thread-safe; one per thread.
class Prober {
 public:
  Prober(const std::string& address, const Caller& caller, const World& world,
         const Oracle& oracle, Tally* tally)
      : channel_(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
        log_(v1::CaseLog::NewStub(channel_)),
        queries_(v1::CaseQueries::NewStub(channel_)),
        integrity_(v1::LogIntegrity::NewStub(channel_)),
        audit_(v1::AccessAudit::NewStub(channel_)),
        caller_(caller),
        world_(world),
        oracle_(oracle),
        tally_(tally) {}

  // The methods Call() knows, as "casetrail.v1.Service/Method".
  static const std::set<std::string>& Methods() {
    static const auto* methods = new std::set<std::string>{
        "casetrail.v1.CaseLog/AppendEvents",
        "casetrail.v1.CaseLog/AppendEventsStream",
        "casetrail.v1.CaseLog/ReadCaseStream",
        "casetrail.v1.CaseLog/ReadLog",
        "casetrail.v1.CaseLog/Subscribe",
        "casetrail.v1.CaseLog/GetLogInfo",
        "casetrail.v1.CaseQueries/GetChronology",
        "casetrail.v1.CaseQueries/GetCaseState",
        "casetrail.v1.CaseQueries/GetChannelPanelPack",
        "casetrail.v1.CaseQueries/ReconstructDecision",
        "casetrail.v1.CaseQueries/GetProjectionStatus",
        "casetrail.v1.CaseQueries/RebuildProjections",
        "casetrail.v1.LogIntegrity/GetCheckpoint",
        "casetrail.v1.LogIntegrity/GetInclusionProof",
        "casetrail.v1.LogIntegrity/GetConsistencyProof",
        "casetrail.v1.AccessAudit/ListAccess",
    };
    return *methods;
  }

  // Every method but RebuildProjections (see Rebuild()).
  void CallAll() {
    ReadCaseStream();
    ReadLog();
    Subscribe();
    Unary("casetrail.v1.CaseLog/GetLogInfo", "", v1::GetLogInfoRequest(),
          &v1::CaseLog::Stub::GetLogInfo, log_.get());
    Append();
    AppendStream();
    Chronology();
    CaseState();
    PanelPack();
    Reconstruct();
    v1::GetProjectionStatusRequest status;
    Unary("casetrail.v1.CaseQueries/GetProjectionStatus", "", status,
          &v1::CaseQueries::Stub::GetProjectionStatus, queries_.get());
    status.set_digest(true);
    Unary("casetrail.v1.CaseQueries/GetProjectionStatus", "digest", status,
          &v1::CaseQueries::Stub::GetProjectionStatus, queries_.get());
    Integrity();
    ListAccess();
  }

  grpc::Status Rebuild() {
    return Unary("casetrail.v1.CaseQueries/RebuildProjections", "",
                 v1::RebuildProjectionsRequest(),
                 &v1::CaseQueries::Stub::RebuildProjections, queries_.get());
  }

 private:
  void Prepare(grpc::ClientContext& context) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    context.AddMetadata("authorization", "Bearer " + caller_.token);
    context.AddMetadata("x-casetrail-purpose", caller_.purpose);
    if (!caller_.break_glass.empty()) {
      context.AddMetadata("x-casetrail-break-glass", caller_.break_glass);
    }
  }

  void Observe(const std::string& method, const std::string& variant,
               const Message* response, const grpc::Status& status) {
    ++tally_->calls;
    std::vector<MarkerHit> hits;
    if (response != nullptr) hits = FindMarkers(*response);
    for (int m : MarkersIn(status.error_message())) {
      hits.push_back({m, "<error message>", true});
    }
    for (int m : MarkersIn(status.error_details())) {
      hits.push_back({m, "<error details>", true});
    }
    for (const MarkerHit& hit : hits) {
      tally_->seen.insert(hit.marker);
      if (!oracle_.MaySee(caller_, hit.marker)) {
        tally_->findings.push_back(
            {method, variant, hit.marker, hit.path, hit.event_text});
      }
    }
  }

  template <typename Request, typename Response, typename Stub>
  grpc::Status Unary(const std::string& method, const std::string& variant,
                     const Request& request,
                     grpc::Status (Stub::*call)(grpc::ClientContext*,
                                                const Request&, Response*),
                     Stub* stub, Response* out = nullptr) {
    grpc::ClientContext context;
    Prepare(context);
    Response response;
    const grpc::Status status = (stub->*call)(&context, request, &response);
    Observe(method, variant, &response, status);
    if (out != nullptr) *out = std::move(response);
    return status;
  }

  void ReadCaseStream() {
    for (const std::string& c : world_.cases) {
      for (auto direction :
           {v1::READ_DIRECTION_FORWARDS, v1::READ_DIRECTION_BACKWARDS}) {
        v1::ReadCaseStreamRequest r;
        r.set_stream_id(c);
        r.set_direction(direction);
        const grpc::Status s =
            Unary("casetrail.v1.CaseLog/ReadCaseStream",
                  absl::StrCat(c, " ", v1::ReadDirection_Name(direction)), r,
                  &v1::CaseLog::Stub::ReadCaseStream, log_.get());
        if (RefusedByMatrix(s)) return;
      }
    }
  }

  void ReadLog() {
    for (const std::string& prefix :
         {std::string(kTenant) + "/", std::string()}) {
      v1::ReadLogRequest r;
      r.set_stream_prefix(prefix);
      r.set_limit(1000);
      while (r.from_position() < world_.data_end) {
        v1::ReadLogResponse response;
        const grpc::Status s = Unary(
            "casetrail.v1.CaseLog/ReadLog",
            absl::StrCat("prefix '", prefix, "' from ", r.from_position()), r,
            &v1::CaseLog::Stub::ReadLog, log_.get(), &response);
        if (!s.ok() || response.next_position() <= r.from_position()) break;
        r.set_from_position(response.next_position());
      }
    }
  }

  void Subscribe() {
    for (const std::string& prefix :
         {std::string(kTenant) + "/", std::string(kTenant) + "/_access"}) {
      grpc::ClientContext context;
      Prepare(context);
      v1::SubscribeRequest r;
      r.set_stream_prefix(prefix);
      auto reader = log_->Subscribe(&context, r);
      v1::SubscribeResponse response;
      const std::string variant = absl::StrCat("prefix '", prefix, "'");
      int messages = 0;
      bool cancelled = false;
      while (reader->Read(&response)) {
        Observe("casetrail.v1.CaseLog/Subscribe", variant, &response,
                grpc::Status::OK);
        if (response.caught_up() || ++messages > 1000) {
          context.TryCancel();
          cancelled = true;
          break;
        }
      }
      const grpc::Status s = reader->Finish();
      if (!cancelled) {
        Observe("casetrail.v1.CaseLog/Subscribe", variant, nullptr, s);
      }
    }
  }

  void Append() {
    Unary("casetrail.v1.CaseLog/AppendEvents", "a conflicting retry",
          world_.conflicting_append, &v1::CaseLog::Stub::AppendEvents,
          log_.get());
  }

  void AppendStream() {
    grpc::ClientContext context;
    Prepare(context);
    auto stream = log_->AppendEventsStream(&context);
    stream->Write(world_.conflicting_append);
    stream->WritesDone();
    v1::AppendEventsStreamResponse response;
    while (stream->Read(&response)) {
      Observe("casetrail.v1.CaseLog/AppendEventsStream", "a conflicting retry",
              &response, grpc::Status::OK);
    }
    Observe("casetrail.v1.CaseLog/AppendEventsStream", "a conflicting retry",
            nullptr, stream->Finish());
  }

  // One chronology request, then, with page_size 1, every page.
  bool ChronologyVariants(const std::string& what, v1::GetChronologyRequest r) {
    const std::string m = "casetrail.v1.CaseQueries/GetChronology";
    r.set_page_size(1000);
    const grpc::Status s = Unary(
        m, what, r, &v1::CaseQueries::Stub::GetChronology, queries_.get());
    if (RefusedByMatrix(s)) return false;
    r.set_significant_only(true);
    Unary(m, what + " significant_only", r,
          &v1::CaseQueries::Stub::GetChronology, queries_.get());
    r.set_significant_only(false);
    *r.mutable_as_known_at() = ProtoTime(world_.as_known_at);
    Unary(m, what + " as_known_at", r, &v1::CaseQueries::Stub::GetChronology,
          queries_.get());
    r.clear_as_known_at();
    r.set_page_size(1);
    for (int page = 1; page < 500; ++page) {
      v1::GetChronologyResponse response;
      const grpc::Status p = Unary(
          m, absl::StrCat(what, " page_size=1 page ", page), r,
          &v1::CaseQueries::Stub::GetChronology, queries_.get(), &response);
      if (!p.ok() || response.next_page_token().empty()) break;
      r.set_page_token(response.next_page_token());
    }
    return true;
  }

  void Chronology() {
    for (const std::string& c : world_.cases) {
      v1::GetChronologyRequest r;
      r.set_case_id(c);
      if (!ChronologyVariants("case " + c, r)) return;
    }
    for (const std::string& child : world_.people) {
      v1::GetChronologyRequest r;
      r.set_child_id(child);
      ChronologyVariants("child " + child, r);
    }
  }

  void CaseState() {
    for (const std::string& c : world_.cases) {
      v1::GetCaseStateRequest r;
      r.set_case_id(c);
      const grpc::Status s =
          Unary("casetrail.v1.CaseQueries/GetCaseState", c, r,
                &v1::CaseQueries::Stub::GetCaseState, queries_.get());
      if (RefusedByMatrix(s)) return;
      *r.mutable_as_known_at() = ProtoTime(world_.as_known_at);
      Unary("casetrail.v1.CaseQueries/GetCaseState", c + " as_known_at", r,
            &v1::CaseQueries::Stub::GetCaseState, queries_.get());
    }
  }

  void PanelPack() {
    for (const std::string& person : world_.people) {
      v1::GetChannelPanelPackRequest r;
      r.set_person_id(person);
      const grpc::Status s =
          Unary("casetrail.v1.CaseQueries/GetChannelPanelPack", person, r,
                &v1::CaseQueries::Stub::GetChannelPanelPack, queries_.get());
      if (RefusedByMatrix(s)) return;
      *r.mutable_as_known_at() = ProtoTime(world_.as_known_at);
      Unary("casetrail.v1.CaseQueries/GetChannelPanelPack",
            person + " as_known_at", r,
            &v1::CaseQueries::Stub::GetChannelPanelPack, queries_.get());
    }
  }

  void Reconstruct() {
    for (const auto& [c, decisions] : world_.decisions) {
      for (const std::string& id : decisions) {
        v1::ReconstructDecisionRequest r;
        r.set_case_id(c);
        r.set_event_id(id);
        const grpc::Status s =
            Unary("casetrail.v1.CaseQueries/ReconstructDecision", id, r,
                  &v1::CaseQueries::Stub::ReconstructDecision, queries_.get());
        if (RefusedByMatrix(s)) return;
      }
    }
  }

  void Integrity() {
    v1::GetCheckpointRequest checkpoint;
    Unary("casetrail.v1.LogIntegrity/GetCheckpoint", "latest", checkpoint,
          &v1::LogIntegrity::Stub::GetCheckpoint, integrity_.get());
    checkpoint.set_issue(true);
    Unary("casetrail.v1.LogIntegrity/GetCheckpoint", "issue", checkpoint,
          &v1::LogIntegrity::Stub::GetCheckpoint, integrity_.get());
    for (uint64_t old_size : {uint64_t{1}, world_.data_end / 2}) {
      v1::GetConsistencyProofRequest r;
      r.set_old_size(old_size);
      r.set_new_size(world_.data_end);
      Unary("casetrail.v1.LogIntegrity/GetConsistencyProof",
            absl::StrCat(old_size), r,
            &v1::LogIntegrity::Stub::GetConsistencyProof, integrity_.get());
    }
    for (uint64_t position = 0; position < world_.data_end; ++position) {
      v1::GetInclusionProofRequest r;
      r.set_position(position);
      r.set_tree_size(world_.data_end);
      const grpc::Status s =
          Unary("casetrail.v1.LogIntegrity/GetInclusionProof",
                absl::StrCat("position ", position), r,
                &v1::LogIntegrity::Stub::GetInclusionProof, integrity_.get());
      if (RefusedByMatrix(s)) return;
    }
  }

  void ListAccess() {
    v1::ListAccessRequest r;
    r.set_limit(1000);
    for (int page = 0; page < 100; ++page) {
      v1::ListAccessResponse response;
      const grpc::Status s =
          Unary("casetrail.v1.AccessAudit/ListAccess", "all", r,
                &v1::AccessAudit::Stub::ListAccess, audit_.get(), &response);
      if (!s.ok() || response.next_page_token().empty()) break;
      r.set_page_token(response.next_page_token());
    }
    r.Clear();
    r.set_case_id(world_.cases.front());
    Unary("casetrail.v1.AccessAudit/ListAccess", "case", r,
          &v1::AccessAudit::Stub::ListAccess, audit_.get());
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CaseLog::Stub> log_;
  std::unique_ptr<v1::CaseQueries::Stub> queries_;
  std::unique_ptr<v1::LogIntegrity::Stub> integrity_;
  std::unique_ptr<v1::AccessAudit::Stub> audit_;
  const Caller& caller_;
  const World& world_;
  const Oracle& oracle_;
  Tally* tally_;
};

// --- What a response can carry ----------------------------------------------

// Every message type reachable from the responses of casetrail.v1's
// services, with its fields, one line per type: "Type: field field ...".
std::string ReachableResponseTypes(
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) {
  std::set<const Descriptor*> seen;
  std::vector<const Descriptor*> todo;
  for (const auto* service : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      todo.push_back(service->method(i)->output_type());
    }
  }
  while (!todo.empty()) {
    const Descriptor* d = todo.back();
    todo.pop_back();
    if (!seen.insert(d).second) continue;
    for (int i = 0; i < d->field_count(); ++i) {
      if (d->field(i)->message_type() != nullptr) {
        todo.push_back(d->field(i)->message_type());
      }
    }
  }
  std::vector<std::string> lines;
  for (const Descriptor* d : seen) {
    std::vector<std::string> fields;
    for (int i = 0; i < d->field_count(); ++i) {
      fields.push_back(d->field(i)->name());
    }
    lines.push_back(
        absl::StrCat(d->full_name(), ": ", absl::StrJoin(fields, " ")));
  }
  std::sort(lines.begin(), lines.end());
  return absl::StrJoin(lines, "\n");
}

std::vector<const google::protobuf::ServiceDescriptor*> CasetrailServices() {
  std::vector<const google::protobuf::ServiceDescriptor*> services;
  for (const char* name :
       {v1::CaseLog::service_full_name(), v1::CaseQueries::service_full_name(),
        v1::LogIntegrity::service_full_name(),
        v1::AccessAudit::service_full_name()}) {
    const auto* s =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    if (s == nullptr) continue;
    // Any other service declared beside these.
    for (int i = 0; i < s->file()->service_count(); ++i) {
      if (std::find(services.begin(), services.end(), s->file()->service(i)) ==
          services.end()) {
        services.push_back(s->file()->service(i));
      }
    }
  }
  return services;
}

// Every method casetraild serves under casetrail.v1: from the generated
// descriptors and from the matrix the server governs.
std::set<std::string> EveryMethod() {
  std::set<std::string> methods;
  for (const auto* s : CasetrailServices()) {
    for (int i = 0; i < s->method_count(); ++i) {
      methods.insert(absl::StrCat(s->full_name(), "/", s->method(i)->name()));
    }
  }
  for (const std::string& m : security::GovernedMethods()) methods.insert(m);
  return methods;
}

// The reviewed list of ReachableResponseTypes(). A line that changes means a
// response can carry something new: look at redaction before updating it.
constexpr char kReviewedResponseTypes[] =
    R"(casetrail.v1.AccessEntry: position recorded_at access
casetrail.v1.AccessRecorded: principal_id role team tenant token_id purpose break_glass_reason method case_id child_id request_summary refused refusal_reason items_returned cases_returned response_summary flags accessed_at
casetrail.v1.Action: description owner due
casetrail.v1.AgencyInformationReceived: request_id agency summary channel_s38
casetrail.v1.AgencyInformationRequested: request_id requested_from information_requested purpose due channel_s38
casetrail.v1.Allocation: worker team manager since
casetrail.v1.Amendment: kind event_id position recorded_at target_event_id field_path old_value new_value text by
casetrail.v1.AppendEventsResponse: events stream_version deduplicated
casetrail.v1.AppendEventsStreamResponse: request_index appended error
casetrail.v1.AppendedEvent: event_id position stream_version recorded_at leaf_hash tree_size
casetrail.v1.AssessmentAuthorised: decision assessment_id child_id outcomes basis child_seen outcome_shared_in_writing outcome_withheld_reason
casetrail.v1.AssessmentCheckpointReviewed: decision assessment_id cin_planning_meeting_considered cin_planning_meeting_planned
casetrail.v1.AssessmentExtensionDecided: decision assessment_id request_event_id outcome new_target_date
casetrail.v1.AssessmentExtensionRequested: assessment_id new_target_date rationale
casetrail.v1.AssessmentStarted: assessment_id child_id framework start_date
casetrail.v1.CaseAllocated: worker team manager reason
casetrail.v1.CaseClosed: decision reason step_down step_down_to
casetrail.v1.CaseEvent: event_id stream_id event_type schema_version occurred_at recorded_by source correlation_id causation_id child_ids jurisdiction significance restriction third_party opaque access_recorded contact_received referral_decision household_member_recorded case_allocated assessment_started assessment_checkpoint_reviewed specialist_assessment assessment_extension_requested assessment_extension_decided assessment_authorised strategy_discussion_held s47_started immediate_protection_taken s47_concluded conference_scheduled conference_held plan_changed core_group_held legal_status_changed prevent_referral_made police_gateway_assessed channel_referral_received vulnerability_assessed channel_panel_held channel_consent_recorded support_plan_agreed intervention_delivered channel_exited channel_post_exit_review visit_completed direct_work_recorded child_not_seen_alone_authorised interpreter_decision family_group_conference_held supervision_recorded management_decision consent_recorded consent_override_authorised information_shared agency_information_requested agency_information_received risk_analysis_recorded record_corrected record_annotated subject_dispute_recorded entry_retracted case_closed serious_incident_notified rapid_review_completed record_restriction_changed sar_processed
casetrail.v1.CaseState: case_id jurisdiction stage children household legal_basis allocation consents prevent_episodes outstanding_authorisations re_referrals_within_12_months restriction restriction_permitted_user_ids restriction_permitted_roles event_restrictions deadlines flags closed closed_on open_s47_enquiries event_count next_position last_recorded_at open_assessments
casetrail.v1.ChannelConsentRecorded: channel_case_id giver giver_name sought_by sought_at how_sought status child_view
casetrail.v1.ChannelExited: decision channel_case_id reason closing_report
casetrail.v1.ChannelPanelHeld: decision channel_case_id chair attendees outcome onward_referral_to dissent actions
casetrail.v1.ChannelPanelPack.Cover: case_reference pack_date chair attendees restriction information_sharing_basis distribution
casetrail.v1.ChannelPanelPack.Individual: person_id name date_of_birth age household parental_responsibility language communication_needs current_status
casetrail.v1.ChannelPanelPack: cover individual referrals agency_returns vulnerability_assessments safeguarding_context consent support_plans decisions chronology_extract prior_episodes repeat_referral exit review_schedule current_episode case_ids
casetrail.v1.ChannelPostExitReview: decision channel_case_id review_point reopen next_review
casetrail.v1.ChannelReferralReceived: channel_case_id prevent_referral_id referred_by
casetrail.v1.Checkpoint: tree_size root_hash issued_at signed_note
casetrail.v1.ChildAge: child_id known years months
casetrail.v1.ChildNotSeenAloneAuthorised: decision child_id visit_event_id
casetrail.v1.ChildPlanDecision: child_id plan_decision categories
casetrail.v1.ChildSeen: child_id seen seen_alone bedroom_seen
casetrail.v1.ChildState: child_id name date_of_birth last_seen last_seen_alone last_bedroom_seen child_in_need_plan child_protection_plan plan_categories registered looked_after legal_statuses
casetrail.v1.ChronologyEntry: case_id event_id position event_type occurred_at occurred_date same_day_sequence child_ids child_ages headline source agency significance action decision recorded_by recorded_at late_recording working_days_to_record amendments retracted restriction
casetrail.v1.CivilDate: year month day
casetrail.v1.ConferenceHeld: decision conference_id conference_type quorate attendees child_participation parents_participation child_decisions dissent core_group next_review_due
casetrail.v1.ConferenceScheduled: conference_id conference_type scheduled_for target_date delay_reason delay_agreed_by_manager delay_agreed_by_chair
casetrail.v1.ConsentOverrideAuthorised: decision purpose consent_event_id significant_harm_reason
casetrail.v1.ConsentRecorded: consent_id purpose scope giver giver_person_id form status withdrawn_at
casetrail.v1.ConsentState: purpose status consent_id giver_person_id overridden_by override_reason event_id date
casetrail.v1.ContactReceived: source_code referrer concern immediate_danger
casetrail.v1.CoreGroupHeld: plan_id attendees summary actions next_meeting
casetrail.v1.Deadline: rule_id rule_version rule_set rule_set_version description key trigger_event_id trigger_event_type trigger_date due error met_by_event_id met_on extended_to extension_approved_on extension_event_id late_reason late_reason_recorded_on superseded not_applicable closed_reason closed_by_event_id closed_on status evaluated_on working_days_late jurisdiction
casetrail.v1.Decision: decided_by rationale options_considered legal_basis child_views parents_views information_basis review_by
casetrail.v1.DecisionMaker: id name role authority_level
casetrail.v1.DecisionMarker: decided_by rationale information_basis_position information_basis_event_ids
casetrail.v1.DirectWorkRecorded: child_id wishes_and_feelings tool
casetrail.v1.Dissent: participant view
casetrail.v1.EntryRetracted: target_event_id reason explanation
casetrail.v1.EventRestriction: event_id level permitted_user_ids permitted_roles
casetrail.v1.FamilyGroupConferenceHeld: attendees family_plan plan_agreed review_date
casetrail.v1.GetCaseStateResponse: state provenance
casetrail.v1.GetChannelPanelPackResponse: pack provenance
casetrail.v1.GetCheckpointResponse: checkpoint verifier_key
casetrail.v1.GetChronologyResponse: entries next_page_token total_entries provenance
casetrail.v1.GetConsistencyProofResponse: old_size new_size hashes
casetrail.v1.GetInclusionProofResponse: position tree_size event hashes
casetrail.v1.GetLogInfoResponse: log_size format_version last_recorded_at
casetrail.v1.GetProjectionStatusResponse: checkpoint log_size lag_events fingerprint events_applied rebuilds digest error
casetrail.v1.HouseholdMember: person_id name date_of_birth relationship parental_responsibility language communication_needs event_id
casetrail.v1.HouseholdMemberRecorded: person_id name date_of_birth relationship parental_responsibility language communication_needs
casetrail.v1.ImmediateProtectionTaken: decision power action
casetrail.v1.InformationBasis: event_ids log_position
casetrail.v1.InformationShared: decision what recipients purpose lawful_basis reasoning consent_event_id
casetrail.v1.InterpreterDecision: decision person_id language interpreter_used
casetrail.v1.InterventionDelivered: channel_case_id plan_id provider attended summary
casetrail.v1.LegalStatusChanged: child_id status change effective_date parental_responsibility_consent consent_event_id court_reference
casetrail.v1.ListAccessResponse: entries next_page_token scanned
casetrail.v1.ManagementDecision: decision subject escalation escalation_outcome actions
casetrail.v1.OccurredAt: time precision
casetrail.v1.OpaquePayload: content_type data
casetrail.v1.OutstandingAuthorisation: needed description event_id since
casetrail.v1.Participant: id name role agency
casetrail.v1.PlanChanged: plan_id plan_type change effective_date registered end_reason
casetrail.v1.PoliceGatewayAssessed: decision prevent_referral_id framework outcome
casetrail.v1.PracticeFlag: kind event_id child_id description raised_by_event_id cleared cleared_by_event_id
casetrail.v1.PreventEpisode: prevent_referral_id channel_case_id stage events referred_on closed_on
casetrail.v1.PreventReferralMade: prevent_referral_id referrer concerns how_identified agencies_involved parents_informed parents_not_informed_reason
casetrail.v1.Provenance: position log_size as_known_at rule_set rule_set_version withheld_events
casetrail.v1.RapidReviewCompleted: decision notification_event_id local_review_recommended learning
casetrail.v1.ReadCaseStreamResponse: events stream_version next_version
casetrail.v1.ReadLogResponse: events next_position log_size
casetrail.v1.RebuildProjectionsResponse: position seconds cases
casetrail.v1.Recipient: name role agency
casetrail.v1.ReconstructDecisionResponse: decision_event marker state_at_basis chronology_at_basis relied_on later_corrections provenance
casetrail.v1.RecordAnnotated: target_event_id field_path annotation
casetrail.v1.RecordCorrected: target_event_id field_path old_value new_value reason source valid_from approved_by
casetrail.v1.RecordRestrictionChanged: decision target_event_ids previous_level new_level category permitted_user_ids permitted_roles
casetrail.v1.RecordedBy: user_id role team agency
casetrail.v1.RecordedEvent: position stream_version recorded_at event
casetrail.v1.Redaction: event_id field_path ground detail
casetrail.v1.ReferralDecision: decision outcome primary_need referrer_acknowledged_at
casetrail.v1.Referrer: name role agency contact_details
casetrail.v1.RiskAnalysisRecorded: decision concerns strengths danger_statements safety_goals scaling disguised_compliance_indicators
casetrail.v1.RiskFactor: description evidence evidence_event_ids judgement
casetrail.v1.RiskJudgement: likelihood severity timescale
casetrail.v1.S47Concluded: decision enquiry_id outcome
casetrail.v1.S47Started: enquiry_id strategy_discussion_event_id enquiry_type lead_worker
casetrail.v1.SARProcessed: request_id data_subject requester received_date due_date extended redactions
casetrail.v1.ScalingScore: by score
casetrail.v1.SeriousIncidentNotified: notification_reference became_aware_at incident
casetrail.v1.Significance: significant direction why
casetrail.v1.Source: system source_record_id informant provenance
casetrail.v1.SpecialistAssessment: specialist_assessment_id assessment_id stage kind provider summary
casetrail.v1.StrategyDiscussionHeld: decision format chair attendees information_shared s47_enquiry enquiry_type parents_told parents_told_at
casetrail.v1.SubjectDisputeRecorded: target_event_id field_path disputed_by_person_id disputed_by_name statement
casetrail.v1.SubscribeResponse: events next_position caught_up
casetrail.v1.SupervisionRecorded: decision supervisee discussion risk actions
casetrail.v1.SupportElement: nature provider intervention_provider timing
casetrail.v1.SupportPlanAgreed: channel_case_id plan_id consent_event_id support review_date
casetrail.v1.ThirdPartyMarker: party field_path reason
casetrail.v1.VisitCompleted: visit_type at_home children
casetrail.v1.VulnerabilityAssessed: channel_case_id framework framework_version engagement intent capability change_since_last
casetrail.v1.VulnerabilityFactor: assessment evidence
google.protobuf.Any: type_url value
google.protobuf.Timestamp: seconds nanos
google.rpc.Status: code message details)";

TEST(RedactionLeakCoverageTest, EveryRpcHasACallerInTheLeakTest) {
  for (const std::string& method : EveryMethod()) {
    EXPECT_TRUE(Prober::Methods().contains(method))
        << "new RPC " << method
        << ": add it to the leak test (tests/services/redaction_leak_test.cc) "
           "and send its answer through the redaction point "
           "(projections/reader_view.h)";
  }
}

TEST(RedactionLeakCoverageTest, EveryResponseTypeAndFieldWasReviewed) {
  const std::string actual = ReachableResponseTypes(CasetrailServices());
  std::vector<std::string> have = absl::StrSplit(actual, '\n');
  std::vector<std::string> reviewed =
      absl::StrSplit(kReviewedResponseTypes, '\n');
  std::set<std::string> known(reviewed.begin(), reviewed.end());
  std::set<std::string> now(have.begin(), have.end());
  for (const std::string& line : have) {
    EXPECT_TRUE(known.contains(line))
        << "a response can now carry a new message type or field: \"" << line
        << "\". Does it carry case data? Then send it through the redaction "
           "point (projections/reader_view.h), make sure the leak test "
           "(tests/services/redaction_leak_test.cc) plants markers it would "
           "show, and update kReviewedResponseTypes there";
  }
  for (const std::string& line : reviewed) {
    EXPECT_TRUE(now.contains(line))
        << "no longer reachable from any response (update "
           "kReviewedResponseTypes): \""
        << line << "\"";
  }
}

// --- The cases and callers --------------------------------------------------

// One case of the test: a marked story and how it is restricted.
struct Story {
  StoryIds ids;
  int first_marker = 0;
  absl::Time first_day;
  // Of the whole case; NONE for an open case whose events are restricted one
  // by one instead.
  Restriction whole_case;
};

Restriction Restrict(v1::RestrictionLevel level, std::vector<std::string> users,
                     std::vector<v1::Role> roles = {}) {
  Restriction r;
  r.level = level;
  r.users = std::move(users);
  r.roles = std::move(roles);
  return r;
}

// How the events of an open case are restricted one by one: in turn, to the
// named user (and so the allocated team), to service managers only, and to
// the team manager only.
std::vector<Restriction> EventRestrictions() {
  return {
      Restrict(v1::RESTRICTION_LEVEL_RESTRICTED, {kNamed}),
      Restrict(v1::RESTRICTION_LEVEL_SEALED, {}, {v1::ROLE_SERVICE_MANAGER}),
      Restrict(v1::RESTRICTION_LEVEL_SEALED, {kManager})};
}

bool IsAmendment(const std::string& payload) {
  return payload == "record_corrected" || payload == "record_annotated" ||
         payload == "subject_dispute_recorded" || payload == "entry_retracted";
}

bool IsDecision(const v1::CaseEvent& e) {
  const FieldDescriptor* payload = e.GetReflection()->GetOneofFieldDescriptor(
      e, v1::CaseEvent::descriptor()->FindOneofByName("payload"));
  if (payload == nullptr || payload->message_type() == nullptr) return false;
  const Message& body = e.GetReflection()->GetMessage(e, payload);
  const FieldDescriptor* decision =
      body.GetDescriptor()->FindFieldByName("decision");
  return decision != nullptr && body.GetReflection()->HasField(body, decision);
}

class RedactionLeakTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The shipped example, with this test's keys and a reviewer's grant of
    // the test's cases.
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        ReadWholeFile(CASETRAIL_SECURITY_EXAMPLE), &config_));
    std::string grant = absl::StrCat("grants { principal_id: \"", kReviewer,
                                     "\" tenant: \"", kTenant, "\"");
    for (const Story& story : Stories()) {
      absl::StrAppend(&grant, " case_ids: \"", story.ids.case_id, "\"");
      oracle_.grants[kReviewer].insert(story.ids.case_id);
    }
    absl::StrAppend(&grant,
                    " expires_at { seconds: 1830297600 } reason: \"leak "
                    "test\" }\n");
    oracle_.grants[kAuditor].insert("*");
    absl::StatusOr<testing::ExampleSecurity> security =
        testing::WriteExampleSecurity(dir_, CASETRAIL_SECURITY_EXAMPLE, grant);
    ASSERT_TRUE(security.ok()) << security.status();
    security_ = *std::move(security);

    ServerProcess::Options options;
    options.data_dir = dir_.Sub("data");
    options.extra_flags = {"--security_config=" + security_.config_file};
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(server_->address(),
                                   grpc::InsecureChannelCredentials());
    log_ = v1::CaseLog::NewStub(channel_);
    upstream_ = MakeCaller("upstream system", v1::ROLE_UPSTREAM_SYSTEM,
                           "mosaic-northshire", "", "system-reconciliation");
  }

  static std::vector<Story> Stories() {
    const absl::Time day0 = absl::FromCivil(
        absl::CivilSecond(2026, 1, 5, 10, 0, 0), absl::UTCTimeZone());
    auto story = [&](const std::string& name, const std::string& prefix,
                     const std::string& child, int first_marker, int day,
                     Restriction whole_case) {
      Story s;
      s.ids.case_id = absl::StrCat(kTenant, "/", name);
      s.ids.prefix = prefix;
      s.ids.child_id = child;
      s.ids.worker_id = kWorker;
      s.ids.team = kTeam;
      s.ids.manager_id = kManager;
      s.first_marker = first_marker;
      s.first_day = day0 + absl::Hours(24) * day;
      s.whole_case = std::move(whole_case);
      return s;
    };
    // The two open cases are one young person's two Prevent episodes, so
    // that the pack has a current and a prior episode and the child's
    // chronology spans cases.
    return {story("leak-open-1", "lk-o1", "LK-P-0001", 1000, 0, {}),
            story("leak-open-2", "lk-o2", "LK-P-0001", 2000, 70, {}),
            story("leak-restricted", "lk-r", "LK-P-0003", 3000, 0,
                  Restrict(v1::RESTRICTION_LEVEL_RESTRICTED, {kNamed})),
            story("leak-sealed", "lk-s", "LK-P-0004", 4000, 0,
                  Restrict(v1::RESTRICTION_LEVEL_SEALED, {kNamed}))};
  }

  Caller MakeCaller(const std::string& label, v1::Role role,
                    const std::string& subject, const std::string& team,
                    const std::string& purpose,
                    const std::string& break_glass = "") {
    Caller c{label, role, subject, team, purpose, break_glass, ""};
    c.token = testing::ExampleToken(
        security_, security::RoleName(role), subject, team, kTenant,
        absl::StrCat("leak-", subject, "-", label.size()));
    return c;
  }

  // Every role of the example configuration, and the cases docs/security.md
  // singles out: break-glass, and the user a restriction names.
  std::vector<Caller> Callers() {
    const std::string glass =
        "Out of hours: police at the door, allocated worker off sick";
    return {
        upstream_,
        MakeCaller("allocated social worker", v1::ROLE_SOCIAL_WORKER, kWorker,
                   kTeam, "direct-work"),
        MakeCaller("team manager", v1::ROLE_TEAM_MANAGER, kManager, kTeam,
                   "supervision"),
        MakeCaller("unallocated social worker", v1::ROLE_SOCIAL_WORKER,
                   "ns-other", "Children in Need Team West", "direct-work"),
        MakeCaller("unallocated social worker with break-glass",
                   v1::ROLE_SOCIAL_WORKER, "ns-other",
                   "Children in Need Team West", "direct-work", glass),
        MakeCaller("service manager", v1::ROLE_SERVICE_MANAGER, "ns-sm",
                   "Service Management", "supervision"),
        MakeCaller("panel chair", v1::ROLE_PANEL_CHAIR, "ns-chair", "Prevent",
                   "panel-preparation"),
        MakeCaller("reviewer with a grant", v1::ROLE_REVIEWER, kReviewer,
                   "Reviews", "practice-review"),
        MakeCaller("auditor with a grant", v1::ROLE_AUDITOR, kAuditor,
                   "Information Governance", "audit"),
        MakeCaller("administrator", v1::ROLE_ADMINISTRATOR, "ns-admin",
                   "Operations", "direct-work"),
        MakeCaller("named user", v1::ROLE_SOCIAL_WORKER, kNamed, "Other Team",
                   "direct-work"),
    };
  }

  grpc::Status Append(const std::string& stream,
                      const std::vector<v1::CaseEvent>& events) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + upstream_.token);
    context.AddMetadata("x-casetrail-purpose", upstream_.purpose);
    v1::AppendEventsRequest request;
    request.set_stream_id(stream);
    request.mutable_expected_version()->set_kind(v1::ExpectedVersion::KIND_ANY);
    for (const v1::CaseEvent& e : events) *request.add_events() = e;
    v1::AppendEventsResponse response;
    return log_->AppendEvents(&context, request, &response);
  }

  // A RecordRestrictionChanged of `targets` (none: the whole case), marked.
  v1::CaseEvent RestrictionEvent(const Story& story, const std::string& id,
                                 int marker, const Restriction& r,
                                 const std::vector<std::string>& targets,
                                 absl::Time day) {
    v1::CaseEvent e;
    testing::FillEnvelope(&e, story.ids, id, testing::MarkerFor(marker), day);
    e.set_event_type("RecordRestrictionChanged");
    v1::RecordRestrictionChanged* p = e.mutable_record_restriction_changed();
    testing::FillMarked(p, story.ids, testing::MarkerFor(marker), day);
    p->clear_target_event_ids();
    for (const std::string& t : targets) p->add_target_event_ids(t);
    p->set_previous_level(v1::RESTRICTION_LEVEL_NONE);
    p->set_new_level(r.level);
    p->clear_permitted_user_ids();
    for (const std::string& u : r.users) p->add_permitted_user_ids(u);
    p->clear_permitted_roles();
    for (v1::Role role : r.roles) p->add_permitted_roles(role);
    return e;
  }

  void Placed(const std::string& payload, const std::string& how) {
    placements_[payload].push_back(how);
  }

  // Appends every story as the upstream system, event by event (a type the
  // server refuses is reported, not fatal), then restricts each.
  void LoadStories() {
    for (const Story& story : Stories()) {
      const std::string& case_id = story.ids.case_id;
      oracle_.cases[case_id].restriction = story.whole_case;
      world_.cases.push_back(case_id);
      if (std::find(world_.people.begin(), world_.people.end(),
                    story.ids.child_id) == world_.people.end()) {
        world_.people.push_back(story.ids.child_id);
      }
      const std::vector<MarkedEvent> events = testing::WriteMarkedStory(
          story.ids, story.first_marker, story.first_day);
      const bool open = !story.whole_case.restricted();
      const std::vector<Restriction> ways = EventRestrictions();
      std::vector<std::vector<std::string>> targets(ways.size());
      size_t turn = 0;
      for (size_t i = 0; i < events.size(); ++i) {
        const MarkedEvent& m = events[i];
        const grpc::Status s = Append(case_id, {m.event});
        if (!s.ok()) {
          refused_[m.payload].push_back(absl::StrCat(
              case_id, ": ", s.error_code(), " ", s.error_message()));
          continue;
        }
        if (IsDecision(m.event)) {
          world_.decisions[case_id].push_back(m.event.event_id());
        }
        MarkerFacts facts{case_id, m.event.event_id(), m.payload, {}};
        // In an open case every other event is restricted on its own (the
        // two open cases alternate), and so is every amendment, of an event
        // left open; allocation stays open.
        const bool keep_open = m.payload == "case_allocated" ||
                               m.payload == story.ids.amended_payload;
        const bool parity = (i % 2 == 0) == (story.ids.prefix == "lk-o1");
        if (open && !keep_open && (parity || IsAmendment(m.payload))) {
          const size_t way = turn++ % ways.size();
          targets[way].push_back(m.event.event_id());
          facts.restriction = ways[way];
          Placed(m.payload, absl::StrCat("event ", facts.restriction.Describe(),
                                         " in open case ", case_id));
        } else if (!open) {
          Placed(m.payload,
                 absl::StrCat("whole case ", story.whole_case.Describe(), " (",
                              case_id, ")"));
        }
        oracle_.markers[story.first_marker + static_cast<int>(i)] = facts;
        if (conflicting_.event_id().empty() && facts.restriction.restricted()) {
          conflicting_ = m.event;
          conflicting_stream_ = case_id;
        }
      }
      // The restriction events, marked and themselves open within the case.
      const absl::Time day = story.first_day + absl::Hours(24) * 100;
      std::vector<std::pair<Restriction, std::vector<std::string>>> changes;
      if (open) {
        for (size_t w = 0; w < ways.size(); ++w) {
          if (!targets[w].empty()) changes.push_back({ways[w], targets[w]});
        }
      } else {
        changes.push_back({story.whole_case, {}});
      }
      for (size_t k = 0; k < changes.size(); ++k) {
        const int marker = story.first_marker + 900 + static_cast<int>(k);
        const std::string id =
            absl::StrCat(story.ids.prefix, "-restriction-", k);
        const grpc::Status s = Append(
            case_id, {RestrictionEvent(story, id, marker, changes[k].first,
                                       changes[k].second, day)});
        ASSERT_TRUE(s.ok()) << case_id << ": " << s.error_message();
        world_.decisions[case_id].push_back(id);
        oracle_.markers[marker] = {
            case_id, id, "record_restriction_changed", {}};
        if (!open) {
          Placed("record_restriction_changed",
                 absl::StrCat("whole case ", story.whole_case.Describe(), " (",
                              case_id, ")"));
        }
      }
      // An open correction of an event restricted on its own, quoting it
      // (a correction's old value is the value corrected): it must be
      // withheld with its target, or it shows the target's marker.
      for (size_t w = 0; open && w < changes.size(); ++w) {
        const MarkedEvent* target = nullptr;
        for (const std::string& id : changes[w].second) {
          for (const MarkedEvent& m : events) {
            if (m.event.event_id() == id && !IsAmendment(m.payload)) {
              target = &m;
              break;
            }
          }
          if (target != nullptr) break;
        }
        if (target == nullptr) continue;
        v1::CaseEvent correction = target->event;
        correction.set_event_id(
            absl::StrCat(story.ids.prefix, "-correction-of-withheld-", w));
        correction.set_event_type("RecordCorrected");
        v1::RecordCorrected* c = correction.mutable_record_corrected();
        c->set_target_event_id(target->event.event_id());
        c->set_field_path(absl::StrCat(target->payload, ".summary"));
        c->set_old_value(
            absl::StrCat("\"", target->marker, " as first recorded\""));
        c->set_new_value("\"as corrected\"");
        c->set_reason("a typing error");
        c->mutable_approved_by()->set_id("ns-mbrennan");
        const grpc::Status s = Append(case_id, {correction});
        ASSERT_TRUE(s.ok()) << case_id << ": " << s.error_message();
        ++corrections_of_withheld_;
      }
    }
    // A retry of a restricted event with other content: the append answers
    // ALREADY_EXISTS, naming the event.
    ASSERT_FALSE(conflicting_.event_id().empty());
    world_.conflicting_append.set_stream_id(conflicting_stream_);
    world_.conflicting_append.mutable_expected_version()->set_kind(
        v1::ExpectedVersion::KIND_ANY);
    v1::CaseEvent* retry = world_.conflicting_append.add_events();
    *retry = conflicting_;
    retry->mutable_significance()->set_why("changed on retry");
  }

  uint64_t LogSize() {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + upstream_.token);
    v1::GetLogInfoResponse info;
    const grpc::Status s = log_->GetLogInfo(&context, {}, &info);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return info.log_size();
  }

  // Until the read model has folded everything below `position`.
  void WaitForReadModel(uint64_t position) {
    auto queries = v1::CaseQueries::NewStub(channel_);
    const Caller worker = Callers()[1];
    grpc::Status status;
    for (int i = 0; i < 300; ++i) {
      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer " + worker.token);
      context.AddMetadata("x-casetrail-purpose", worker.purpose);
      v1::GetChronologyRequest request;
      request.set_case_id(world_.cases.front());
      request.set_min_position(position);
      v1::GetChronologyResponse response;
      status = queries->GetChronology(&context, request, &response);
      if (status.ok()) return;
      absl::SleepFor(absl::Milliseconds(100));
    }
    FAIL() << "the read model did not catch up: " << status.error_message();
  }

  bool AllowedByMatrix(const std::string& method, v1::Role role) const {
    for (const v1::RpcPermission& p : config_.rpc_permissions()) {
      if (p.method() == method &&
          std::count(p.roles().begin(), p.roles().end(), role) > 0) {
        return true;
      }
    }
    return false;
  }

  // What a marker is, for a report line.
  std::string Describe(int marker) const {
    auto m = oracle_.markers.find(marker);
    if (m == oracle_.markers.end()) return absl::StrCat(marker, " (unknown)");
    const MarkerFacts& f = m->second;
    const Restriction& whole = oracle_.cases.at(f.case_id).restriction;
    return absl::StrCat(
        testing::MarkerFor(marker), " ", f.payload, " ", f.event_id, " [",
        whole.restricted() ? "case " + whole.Describe()
                           : "event " + f.restriction.Describe(),
        "]");
  }

  // Prints which catalogue types were covered in a restricted way, and
  // which not and why. Returns the counts.
  std::pair<int, int> ReportCoverage() const {
    int covered = 0, not_covered = 0;
    std::string lines;
    for (const FieldDescriptor* payload : testing::CataloguePayloads()) {
      const std::string& name = payload->name();
      auto p = placements_.find(name);
      if (p != placements_.end() && !p->second.empty()) {
        ++covered;
        continue;
      }
      ++not_covered;
      std::string why = testing::WhyNotAppendable(payload);
      if (why.empty() && refused_.contains(name)) {
        why = "refused by the server: " + refused_.at(name).front();
      }
      if (why.empty()) why = "never restricted (test bug)";
      absl::StrAppend(&lines, "  not covered: ", name, ": ", why, "\n");
    }
    std::cout << "catalogue payload types: " << covered + not_covered
              << ", covered restricted: " << covered
              << ", not covered: " << not_covered << "\n"
              << lines;
    for (const auto& [payload, why] : refused_) {
      for (const std::string& w : why) {
        std::cout << "  refused " << payload << " in " << w << "\n";
      }
    }
    return {covered, not_covered};
  }

  TempDir dir_;
  testing::ExampleSecurity security_;
  v1::SecurityConfig config_;
  std::unique_ptr<ServerProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CaseLog::Stub> log_;
  Caller upstream_;
  Oracle oracle_;
  World world_;
  std::map<std::string, std::vector<std::string>> placements_;
  std::map<std::string, std::vector<std::string>> refused_;
  // Open corrections appended of events restricted on their own, quoting
  // their marker.
  int corrections_of_withheld_ = 0;
  v1::CaseEvent conflicting_;
  std::string conflicting_stream_;
};

// "state.prevent_episodes[0].events[3].event.x.y" ->
// "state.prevent_episodes.events.event": where, without indices and leaf.
std::string Place(const std::string& path) {
  std::string out;
  int depth = 0;
  for (size_t i = 0; i < path.size() && depth < 4; ++i) {
    if (path[i] == '[') {
      i = path.find(']', i);
      continue;
    }
    if (path[i] == '.') ++depth;
    if (depth < 4) out.push_back(path[i]);
  }
  return out;
}

TEST_F(RedactionLeakTest,
       NoAnswerShowsARestrictedMarkerToThoseItIsWithheldFrom) {
  for (const std::string& method : EveryMethod()) {
    ASSERT_TRUE(Prober::Methods().contains(method))
        << "new RPC " << method
        << ": add it to the leak test and send its answer through the "
           "redaction point";
  }
  LoadStories();
  if (HasFatalFailure()) return;
  const auto [covered, not_covered] = ReportCoverage();
  EXPECT_GT(covered, 40);
  world_.data_end = LogSize();
  WaitForReadModel(world_.data_end);

  const std::vector<Caller> callers = Callers();
  std::vector<Tally> tallies(callers.size());
  // Rebuilds first (only the administrator may), so that what is read is
  // what a rebuild makes.
  for (size_t i = 0; i < callers.size(); ++i) {
    Prober(server_->address(), callers[i], world_, oracle_, &tallies[i])
        .Rebuild();
  }
  WaitForReadModel(world_.data_end);
  absl::SleepFor(absl::Milliseconds(20));
  world_.as_known_at = absl::Now();

  std::vector<std::thread> threads;
  for (size_t i = 0; i < callers.size(); ++i) {
    threads.emplace_back([&, i] {
      Prober(server_->address(), callers[i], world_, oracle_, &tallies[i])
          .CallAll();
    });
  }
  for (std::thread& t : threads) t.join();

  // Leaks: one line per call that showed withheld markers.
  uint64_t calls = 0, found = 0, leaking_calls = 0;
  std::map<std::string, int> by_place;
  std::set<int> leaked_markers;
  for (size_t i = 0; i < callers.size(); ++i) {
    calls += tallies[i].calls;
    std::map<std::string, std::map<int, std::vector<std::string>>> per_call;
    for (const Finding& f : tallies[i].findings) {
      per_call[absl::StrCat(f.method, " (", f.variant, ")")][f.marker]
          .push_back(f.where);
      ++by_place[absl::StrCat(f.method.substr(f.method.find('/') + 1), " ",
                              Place(f.where),
                              f.event_text ? "" : " [derived state]")];
      leaked_markers.insert(f.marker);
      ++found;
    }
    leaking_calls += per_call.size();
    for (const auto& [call, markers] : per_call) {
      std::string what;
      for (const auto& [marker, wheres] : markers) {
        absl::StrAppend(&what, "\n    ", Describe(marker), " at ",
                        wheres.front());
        if (wheres.size() > 1) {
          absl::StrAppend(&what, " (+", wheres.size() - 1, " more fields)");
        }
      }
      ADD_FAILURE() << "LEAK to " << callers[i].label << ": " << call << what;
    }
  }
  for (const auto& [place, n] : by_place) {
    std::cout << "leak path: " << place << ": " << n << " finding(s)\n";
  }

  // Positive control: what the oracle allows shows up, so "not shown" means
  // withheld, not never stored.
  uint64_t allowed_pairs = 0, allowed_shown = 0;
  for (size_t i = 0; i < callers.size(); ++i) {
    const Caller& c = callers[i];
    int allowed = 0, shown = 0;
    std::vector<std::string> missing;
    for (const auto& [marker, facts] : oracle_.markers) {
      if (!oracle_.MaySee(c, marker)) continue;
      ++allowed;
      if (tallies[i].seen.contains(marker)) {
        ++shown;
      } else {
        missing.push_back(Describe(marker));
      }
    }
    allowed_pairs += allowed;
    allowed_shown += shown;
    std::cout << c.label << ": " << tallies[i].calls << " calls, may see "
              << allowed << " markers, shown " << shown << "\n";
    // Whoever may read case streams is shown every event they may see.
    if (c.role == v1::ROLE_UPSTREAM_SYSTEM ||
        AllowedByMatrix("casetrail.v1.CaseLog/ReadCaseStream", c.role)) {
      EXPECT_TRUE(missing.empty())
          << c.label << " may see these markers but no answer showed them:\n  "
          << absl::StrJoin(missing, "\n  ");
    }
  }
  // Every marker is shown to some person allowed it (not only its source).
  for (const auto& [marker, facts] : oracle_.markers) {
    bool allowed = false, shown = false;
    for (size_t i = 1; i < callers.size(); ++i) {
      if (!oracle_.MaySee(callers[i], marker)) continue;
      allowed = true;
      shown = shown || tallies[i].seen.contains(marker);
    }
    EXPECT_TRUE(allowed) << Describe(marker) << ": no caller may see it";
    EXPECT_TRUE(shown || !allowed)
        << Describe(marker) << ": shown to no one allowed to see it";
  }

  std::cout << "leak test: calls made " << calls << ", markers searched "
            << oracle_.markers.size() << " (in every answer and error), found "
            << found << " (" << leaked_markers.size() << " markers in "
            << leaking_calls << " calls); positive control: shown "
            << allowed_shown << " of " << allowed_pairs
            << " allowed (caller, marker) pairs; catalogue types covered "
            << covered << ", not covered " << not_covered
            << "; open corrections quoting a withheld event "
            << corrections_of_withheld_ << "\n";
  EXPECT_GT(corrections_of_withheld_, 0);
  EXPECT_EQ(found, 0u);
}
}  // namespace
}  // namespace casetrail
