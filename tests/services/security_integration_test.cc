// Security through the real casetraild and gRPC (issue 6): two local
// authorities in one server, bearer tokens for people and systems, the role x
// RPC matrix of the shipped example configuration, per-case scope, sealed
// records, break-glass, cross-tenant attempts on every RPC, and the access
// audit each read leaves.

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "casetrail/v1/access.grpc.pb.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "casetrail/v1/case_queries.grpc.pb.h"
#include "casetrail/v1/integrity.grpc.pb.h"
#include "casetrail/v1/security_config.pb.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "security/jwt.h"
#include "security/policy.h"
#include "tests/testing/raw_http2_call.h"
#include "tests/testing/server_process.h"
#include "tests/testing/test_jwks.h"
#include "tools/event_json.h"

#ifndef CASETRAIL_DEMO_CASE
#error "CASETRAIL_DEMO_CASE must name tools/demo/demo_case.json"
#endif
#ifndef CASETRAIL_SECURITY_EXAMPLE
#error "CASETRAIL_SECURITY_EXAMPLE must name deploy/security/example.textproto"
#endif

namespace casetrail {
namespace {

namespace v1 = casetrail::v1;
using casetrail::testing::ReadWholeFile;
using casetrail::testing::ServerProcess;
using casetrail::testing::TempDir;
using casetrail::testing::WriteWholeFile;
using grpc::StatusCode;

constexpr char kNorthIssuer[] = "https://idp.northshire.example";
constexpr char kSouthIssuer[] = "https://idp.southvale.example";
// The demo's first case is allocated to this team, worker and manager.
constexpr char kTeam[] = "Assessment Team East";
constexpr char kCase[] = "northshire/case-NS-0001";
constexpr char kChild[] = "NS-P-204117";
// The demo's Prevent case and its young person.
constexpr char kPreventCase[] = "northshire/case-NS-0002";
constexpr char kPreventPerson[] = "NS-P-310552";
constexpr char kSealedCase[] = "northshire/case-sealed";
constexpr char kSouthCase[] = "southvale/case-SV-0001";
// Grants in the example configuration.
constexpr char kReviewer[] = "ns-reviewer-1";
constexpr char kIgOfficer[] = "ns-ig-officer";

struct Caller {
  std::string token;
  // People may subscribe only to the access audit; systems to everything.
  bool system = false;
  std::string purpose = "direct-work";
  std::string break_glass;
};

// Every method of the matrix, called with a request that is well formed and
// names `target` (a case) where it can.
class Client {
 public:
  explicit Client(const std::string& address)
      : channel_(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
        log_(v1::CaseLog::NewStub(channel_)),
        queries_(v1::CaseQueries::NewStub(channel_)),
        integrity_(v1::LogIntegrity::NewStub(channel_)),
        audit_(v1::AccessAudit::NewStub(channel_)) {}

  void Prepare(grpc::ClientContext& context, const Caller& caller) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    if (!caller.token.empty()) {
      context.AddMetadata("authorization", "Bearer " + caller.token);
    }
    if (!caller.purpose.empty()) {
      context.AddMetadata("x-casetrail-purpose", caller.purpose);
    }
    if (!caller.break_glass.empty()) {
      context.AddMetadata("x-casetrail-break-glass", caller.break_glass);
    }
  }

  grpc::Status Append(const Caller& c, const v1::AppendEventsRequest& request,
                      v1::AppendEventsResponse* response = nullptr) {
    grpc::ClientContext context;
    Prepare(context, c);
    v1::AppendEventsResponse ignored;
    return log_->AppendEvents(&context, request,
                              response ? response : &ignored);
  }
  // Opens a subscription to `prefix`: OK once it delivers its first
  // message, else how it ended.
  grpc::Status Subscribe(const Caller& c, const std::string& prefix) {
    grpc::ClientContext context;
    Prepare(context, c);
    v1::SubscribeRequest request;
    request.set_stream_prefix(prefix);
    auto reader = log_->Subscribe(&context, request);
    v1::SubscribeResponse response;
    if (reader->Read(&response)) {
      context.TryCancel();
      reader->Finish();
      return grpc::Status::OK;
    }
    return reader->Finish();
  }
  grpc::Status ReadStream(const Caller& c, const std::string& stream,
                          v1::ReadCaseStreamResponse* response = nullptr) {
    grpc::ClientContext context;
    Prepare(context, c);
    v1::ReadCaseStreamRequest request;
    request.set_stream_id(stream);
    v1::ReadCaseStreamResponse ignored;
    return log_->ReadCaseStream(&context, request,
                                response ? response : &ignored);
  }
  grpc::Status Chronology(const Caller& c, const v1::GetChronologyRequest& r,
                          v1::GetChronologyResponse* response = nullptr) {
    grpc::ClientContext context;
    Prepare(context, c);
    v1::GetChronologyResponse ignored;
    return queries_->GetChronology(&context, r, response ? response : &ignored);
  }
  grpc::Status CaseState(const Caller& c, const std::string& case_id,
                         v1::GetCaseStateResponse* response = nullptr) {
    grpc::ClientContext context;
    Prepare(context, c);
    v1::GetCaseStateRequest request;
    request.set_case_id(case_id);
    v1::GetCaseStateResponse ignored;
    return queries_->GetCaseState(&context, request,
                                  response ? response : &ignored);
  }
  grpc::Status ListAccess(const Caller& c, const v1::ListAccessRequest& r,
                          v1::ListAccessResponse* response) {
    grpc::ClientContext context;
    Prepare(context, c);
    return audit_->ListAccess(&context, r, response);
  }
  grpc::Status LogInfo(const Caller& c, v1::GetLogInfoResponse* response) {
    grpc::ClientContext context;
    Prepare(context, c);
    return log_->GetLogInfo(&context, {}, response);
  }
  // ReadCaseStream with `extra` headers sent after the caller's.
  grpc::Status ReadStreamWith(
      const Caller& c, const std::string& stream,
      const std::vector<std::pair<std::string, std::string>>& extra) {
    grpc::ClientContext context;
    Prepare(context, c);
    for (const auto& [name, value] : extra) context.AddMetadata(name, value);
    v1::ReadCaseStreamRequest request;
    request.set_stream_id(stream);
    v1::ReadCaseStreamResponse response;
    return log_->ReadCaseStream(&context, request, &response);
  }

  // Calls `method` ("casetrail.v1.Service/Method") for `target`.
  grpc::Status Call(const std::string& method, const Caller& c,
                    const std::string& target, const std::string& person,
                    uint64_t position) {
    grpc::ClientContext context;
    Prepare(context, c);
    const std::string name = method.substr(method.find('/') + 1);
    if (absl::StartsWith(method, "casetrail.v1.CaseLog/")) {
      if (name == "AppendEvents") {
        v1::AppendEventsResponse response;
        return log_->AppendEvents(&context, OpaqueAppend(target), &response);
      }
      if (name == "AppendEventsStream") {
        auto stream = log_->AppendEventsStream(&context);
        stream->Write(OpaqueAppend(target));
        stream->WritesDone();
        v1::AppendEventsStreamResponse response;
        grpc::Status finished;
        while (stream->Read(&response)) {
          if (response.has_error()) {
            finished =
                grpc::Status(static_cast<StatusCode>(response.error().code()),
                             response.error().message());
          }
        }
        grpc::Status status = stream->Finish();
        return status.ok() ? finished : status;
      }
      if (name == "ReadCaseStream") {
        v1::ReadCaseStreamRequest request;
        request.set_stream_id(target);
        v1::ReadCaseStreamResponse response;
        return log_->ReadCaseStream(&context, request, &response);
      }
      if (name == "ReadLog") {
        v1::ReadLogRequest request;
        request.set_stream_prefix(TenantOf(target) + "/");
        v1::ReadLogResponse response;
        return log_->ReadLog(&context, request, &response);
      }
      if (name == "Subscribe") {
        return Subscribe(c, TenantOf(target) + (c.system ? "/" : "/_access"));
      }
      if (name == "GetLogInfo") {
        v1::GetLogInfoResponse response;
        return log_->GetLogInfo(&context, {}, &response);
      }
    }
    if (absl::StartsWith(method, "casetrail.v1.CaseQueries/")) {
      if (name == "GetChronology") {
        v1::GetChronologyRequest request;
        request.set_case_id(target);
        v1::GetChronologyResponse response;
        return queries_->GetChronology(&context, request, &response);
      }
      if (name == "GetCaseState") {
        v1::GetCaseStateRequest request;
        request.set_case_id(target);
        v1::GetCaseStateResponse response;
        return queries_->GetCaseState(&context, request, &response);
      }
      if (name == "GetChannelPanelPack") {
        v1::GetChannelPanelPackRequest request;
        request.set_person_id(person);
        v1::GetChannelPanelPackResponse response;
        return queries_->GetChannelPanelPack(&context, request, &response);
      }
      if (name == "ReconstructDecision") {
        v1::ReconstructDecisionRequest request;
        request.set_case_id(target);
        request.set_event_id(DecisionOf(target));
        v1::ReconstructDecisionResponse response;
        return queries_->ReconstructDecision(&context, request, &response);
      }
      if (name == "GetProjectionStatus") {
        v1::GetProjectionStatusResponse response;
        return queries_->GetProjectionStatus(&context, {}, &response);
      }
      if (name == "RebuildProjections") {
        v1::RebuildProjectionsResponse response;
        return queries_->RebuildProjections(&context, {}, &response);
      }
    }
    if (absl::StartsWith(method, "casetrail.v1.LogIntegrity/")) {
      if (name == "GetCheckpoint") {
        v1::GetCheckpointResponse response;
        return integrity_->GetCheckpoint(&context, {}, &response);
      }
      if (name == "GetInclusionProof") {
        v1::GetInclusionProofRequest request;
        request.set_position(position);
        request.set_tree_size(position + 1);
        v1::GetInclusionProofResponse response;
        return integrity_->GetInclusionProof(&context, request, &response);
      }
      if (name == "GetConsistencyProof") {
        v1::GetConsistencyProofRequest request;
        request.set_old_size(1);
        request.set_new_size(2);
        v1::GetConsistencyProofResponse response;
        return integrity_->GetConsistencyProof(&context, request, &response);
      }
    }
    if (method == "casetrail.v1.AccessAudit/ListAccess") {
      v1::ListAccessRequest request;
      request.set_case_id(target);
      v1::ListAccessResponse response;
      return audit_->ListAccess(&context, request, &response);
    }
    ADD_FAILURE() << "the test cannot call " << method;
    return grpc::Status(StatusCode::UNIMPLEMENTED, method);
  }

  static std::string TenantOf(const std::string& stream) {
    return stream.substr(0, stream.find('/'));
  }
  // A decision event of each case (from the demo), for ReconstructDecision.
  static std::string DecisionOf(const std::string& case_id) {
    return case_id == kPreventCase ? "demo-ns0002-004" : "demo-ns0001-005";
  }
  static v1::AppendEventsRequest OpaqueAppend(const std::string& stream) {
    v1::AppendEventsRequest request;
    request.set_stream_id(stream);
    request.mutable_expected_version()->set_kind(v1::ExpectedVersion::KIND_ANY);
    v1::CaseEvent* e = request.add_events();
    e->set_event_id(tools::NewEventId());
    e->set_event_type("CaseNoteRecorded");
    e->mutable_occurred_at()->mutable_time()->set_seconds(1772000000);
    e->mutable_occurred_at()->set_precision(v1::TIME_PRECISION_EXACT);
    e->mutable_recorded_by()->set_user_id("mosaic-import");
    e->mutable_opaque()->set_content_type("application/json");
    e->mutable_opaque()->set_data("{}");
    return request;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CaseLog::Stub> log_;
  std::unique_ptr<v1::CaseQueries::Stub> queries_;
  std::unique_ptr<v1::LogIntegrity::Stub> integrity_;
  std::unique_ptr<v1::AccessAudit::Stub> audit_;
};

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<security::KeyPairPem> north =
        security::GenerateEd25519KeyPair();
    absl::StatusOr<security::KeyPairPem> south =
        security::GenerateEd25519KeyPair();
    absl::StatusOr<security::KeyPairPem> rogue =
        security::GenerateEd25519KeyPair();
    ASSERT_TRUE(north.ok() && south.ok() && rogue.ok());
    north_ = *north;
    south_ = *south;
    rogue_ = *rogue;
    // The shipped example, with this test's keys.
    WriteWholeFile(dir_.Sub("security.textproto"),
                   ReadWholeFile(CASETRAIL_SECURITY_EXAMPLE));
    ASSERT_EQ(mkdir(dir_.Sub("keys").c_str(), 0700), 0);
    WriteWholeFile(dir_.Sub("keys/northshire-idp.pub"), north_.public_key_pem);
    WriteWholeFile(dir_.Sub("keys/southvale-idp.pub"), south_.public_key_pem);
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        ReadWholeFile(CASETRAIL_SECURITY_EXAMPLE), &config_));

    ServerProcess::Options options;
    options.data_dir = dir_.Sub("data");
    options.extra_flags = {"--security_config=" +
                           dir_.Sub("security.textproto")};
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<Client>(server_->address());
    LoadCases();
  }

  std::string Token(v1::Role role, const std::string& subject,
                    const std::string& team = kTeam,
                    const std::string& tenant = "northshire") {
    security::TokenClaims claims;
    claims.issuer = tenant == "southvale" ? kSouthIssuer : kNorthIssuer;
    claims.subject = subject;
    claims.role = security::RoleName(role);
    claims.team = team;
    claims.tenant = tenant;
    claims.audience = {"casetrail"};
    claims.issued_at = absl::Now() - absl::Minutes(1);
    claims.expires_at = absl::Now() + absl::Hours(1);
    claims.token_id = tools::NewEventId();
    absl::StatusOr<std::string> token = security::SignJwt(
        claims,
        tenant == "southvale" ? south_.private_key_pem : north_.private_key_pem,
        tenant == "southvale" ? "southvale-1" : "northshire-1");
    EXPECT_TRUE(token.ok()) << token.status();
    return token.value_or("");
  }

  Caller As(v1::Role role, const std::string& subject,
            const std::string& team = kTeam,
            const std::string& tenant = "northshire") {
    Caller c;
    c.token = Token(role, subject, team, tenant);
    c.system = role == v1::ROLE_UPSTREAM_SYSTEM;
    c.purpose = role == v1::ROLE_UPSTREAM_SYSTEM ? "system-reconciliation"
                                                 : "direct-work";
    return c;
  }
  Caller Upstream(const std::string& tenant = "northshire") {
    return As(v1::ROLE_UPSTREAM_SYSTEM, "mosaic-" + tenant, "", tenant);
  }
  Caller Auditor() {
    Caller c = As(v1::ROLE_AUDITOR, kIgOfficer, "Information Governance");
    c.purpose = "audit";
    return c;
  }

  // The demo's two cases as northshire's, a sealed case, and a southvale
  // case, appended by each authority's upstream system.
  void LoadCases() {
    absl::StatusOr<std::vector<v1::AppendEventsRequest>> demo =
        tools::ParseAppendRequests(ReadWholeFile(CASETRAIL_DEMO_CASE));
    ASSERT_TRUE(demo.ok()) << demo.status();
    for (v1::AppendEventsRequest& request : *demo) {
      request.set_stream_id("northshire/" + request.stream_id());
      for (v1::CaseEvent& e : *request.mutable_events()) e.clear_stream_id();
      v1::AppendEventsResponse response;
      grpc::Status status = client_->Append(Upstream(), request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
      last_position_ = response.events().rbegin()->position();
    }
    // Allocated to kTeam, then sealed to one named practitioner.
    absl::StatusOr<std::vector<v1::AppendEventsRequest>> sealed =
        tools::ParseAppendRequests(absl::StrCat(R"({"stream_id": ")",
                                                kSealedCase, R"(", "events": [
      {"event_id": "sealed-1", "event_type": "CaseAllocated",
       "occurred_at": {"time": "2026-03-02T11:30:00Z", "precision": "EXACT"},
       "recorded_by": {"user_id": "ns-mbrennan", "role": "Team Manager"},
       "source": {"system": "test", "provenance": "PROVENANCE_FIRST_HAND"},
       "jurisdiction": "JURISDICTION_ENGLAND", "child_ids": ["NS-P-777"],
       "case_allocated": {"worker": {"id": "ns-lwilliams"}, "team": ")",
                                                kTeam, R"("}},
      {"event_id": "sealed-2", "event_type": "RecordRestrictionChanged",
       "occurred_at": {"time": "2026-03-03T10:00:00Z", "precision": "EXACT"},
       "recorded_by": {"user_id": "ns-hm", "role": "Head of Service"},
       "source": {"system": "test", "provenance": "PROVENANCE_FIRST_HAND"},
       "jurisdiction": "JURISDICTION_ENGLAND", "child_ids": ["NS-P-777"],
       "record_restriction_changed": {
         "decision": {"decided_by": {"id": "ns-hm", "name": "H M",
                                     "role": "Head of Service",
                                     "authority_level": "AUTHORITY_LEVEL_HEAD_OF_SERVICE"},
                      "rationale": "The child's parent works in the allocated team."},
         "previous_level": "RESTRICTION_LEVEL_NONE",
         "new_level": "RESTRICTION_LEVEL_SEALED",
         "category": "staff member's family",
         "permitted_user_ids": ["ns-named"]}}]})"));
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    grpc::Status status = client_->Append(Upstream(), (*sealed)[0]);
    ASSERT_TRUE(status.ok()) << status.error_message();
    v1::AppendEventsResponse south;
    status = client_->Append(Upstream("southvale"),
                             Client::OpaqueAppend(kSouthCase), &south);
    ASSERT_TRUE(status.ok()) << status.error_message();
    south_position_ = south.events(0).position();
    WaitForProjections();
  }

  // Until the read model has folded the whole log.
  void WaitForProjections() {
    v1::GetChronologyRequest request;
    request.set_case_id(kSealedCase);
    request.set_min_position(south_position_ + 1);
    Caller named = As(v1::ROLE_SOCIAL_WORKER, "ns-named", "Other Team");
    grpc::Status status;
    for (int i = 0; i < 50; ++i) {
      status = client_->Chronology(named, request);
      if (status.ok()) return;
      absl::SleepFor(absl::Milliseconds(100));
    }
    FAIL() << "the read model did not catch up: " << status.error_message();
  }

  // Every access event of `principal` in northshire's audit, oldest first.
  std::vector<v1::AccessEntry> AccessOf(
      const std::string& principal, const std::string& tenant = "northshire") {
    Caller auditor = tenant == "northshire"
                         ? Auditor()
                         : As(v1::ROLE_AUDITOR, "sv-ig-officer", "IG", tenant);
    auditor.purpose = "audit";
    v1::ListAccessRequest request;
    request.set_principal_id(principal);
    request.set_limit(1000);
    v1::ListAccessResponse response;
    grpc::Status status = client_->ListAccess(auditor, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.entries().begin(), response.entries().end()};
  }

  // The number of events in the log (every case and audit stream).
  uint64_t LogSize() {
    v1::GetLogInfoResponse info;
    const grpc::Status status = client_->LogInfo(Upstream(), &info);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return info.log_size();
  }

  bool AllowedByMatrix(const std::string& method, v1::Role role) {
    for (const v1::RpcPermission& p : config_.rpc_permissions()) {
      if (p.method() == method) {
        for (int r : p.roles()) {
          if (r == role) return true;
        }
      }
    }
    return false;
  }

  TempDir dir_;
  security::KeyPairPem north_, south_, rogue_;
  v1::SecurityConfig config_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> client_;
  uint64_t last_position_ = 0;
  uint64_t south_position_ = 0;
};

bool HasFlag(const v1::AccessRecorded& a, v1::AccessFlag flag) {
  for (int f : a.flags()) {
    if (f == flag) return true;
  }
  return false;
}

// --- Tokens ----------------------------------------------------------------

TEST_F(SecurityTest, BadTokensAreUnauthenticatedAndLeaveNoTrace) {
  security::TokenClaims base;
  base.issuer = kNorthIssuer;
  base.subject = "ns-lwilliams";
  base.role = "social_worker";
  base.team = kTeam;
  base.tenant = "northshire";
  base.audience = {"casetrail"};
  base.issued_at = absl::Now() - absl::Minutes(1);
  base.expires_at = absl::Now() + absl::Hours(1);
  auto sign = [&](security::TokenClaims claims, const std::string& key) {
    absl::StatusOr<std::string> token =
        security::SignJwt(claims, key, "northshire-1");
    EXPECT_TRUE(token.ok());
    return token.value_or("");
  };
  security::TokenClaims expired = base;
  expired.issued_at = absl::Now() - absl::Hours(3);
  expired.expires_at = absl::Now() - absl::Hours(2);
  security::TokenClaims early = base;
  early.not_before = absl::Now() + absl::Hours(1);
  security::TokenClaims wrong_issuer = base;
  wrong_issuer.issuer = "https://idp.elsewhere.example";
  security::TokenClaims other_tenant = base;  // north's IdP for southvale
  other_tenant.tenant = "southvale";
  const std::string good = sign(base, north_.private_key_pem);
  const std::string payload =
      good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  struct Case {
    const char* what;
    std::string token;
  } cases[] = {
      {"missing", ""},
      {"expired", sign(expired, north_.private_key_pem)},
      {"not yet valid", sign(early, north_.private_key_pem)},
      {"wrong issuer", sign(wrong_issuer, north_.private_key_pem)},
      {"issuer vouching for another tenant",
       sign(other_tenant, north_.private_key_pem)},
      {"wrong signature", sign(base, rogue_.private_key_pem)},
      // {"alg":"none","typ":"JWT"} with the good payload and no signature.
      {"alg=none", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + "."},
      {"malformed", "not-a-jwt"},
  };
  const uint64_t before = AccessOf("ns-lwilliams").size();
  for (const Case& c : cases) {
    Caller caller;
    caller.token = c.token;
    grpc::Status read = client_->ReadStream(caller, kCase);
    EXPECT_EQ(read.error_code(), StatusCode::UNAUTHENTICATED) << c.what;
    grpc::Status info = client_->Call("casetrail.v1.CaseLog/GetLogInfo", caller,
                                      kCase, kChild, 0);
    EXPECT_EQ(info.error_code(), StatusCode::UNAUTHENTICATED) << c.what;
    grpc::Status append =
        client_->Append(caller, Client::OpaqueAppend("northshire/case-x"));
    EXPECT_EQ(append.error_code(), StatusCode::UNAUTHENTICATED) << c.what;
  }
  // The good token works; nothing above was recorded or appended.
  Caller ok;
  ok.token = good;
  EXPECT_TRUE(client_->ReadStream(ok, kCase).ok());
  EXPECT_EQ(AccessOf("ns-lwilliams").size(), before + 1);
  v1::ReadCaseStreamResponse x;
  EXPECT_TRUE(client_->ReadStream(Upstream(), "northshire/case-x", &x).ok());
  EXPECT_EQ(x.stream_version(), 0u);
}

// --- The role x RPC matrix --------------------------------------------------

TEST_F(SecurityTest, EveryRoleAndMethodIsAsConfigured) {
  struct Who {
    v1::Role role;
    std::string subject;
    // A case and person the role's scope covers, so that only the matrix
    // decides.
    std::string target;
    std::string person;
  } people[] = {
      {v1::ROLE_UPSTREAM_SYSTEM, "mosaic-northshire", kCase, kChild},
      {v1::ROLE_SOCIAL_WORKER, "ns-lwilliams", kCase, kChild},
      {v1::ROLE_TEAM_MANAGER, "ns-mbrennan", kCase, kChild},
      {v1::ROLE_SERVICE_MANAGER, "ns-sm", kCase, kPreventPerson},
      {v1::ROLE_PANEL_CHAIR, "ns-chair", kPreventCase, kPreventPerson},
      {v1::ROLE_REVIEWER, kReviewer, kCase, kChild},
      {v1::ROLE_AUDITOR, kIgOfficer, kCase, kChild},
      {v1::ROLE_ADMINISTRATOR, "ns-admin", kCase, kChild},
  };
  int cells = 0;
  std::vector<std::string> methods = security::GovernedMethods();
  // The rebuild last: it makes queries wait while it runs.
  std::stable_partition(methods.begin(), methods.end(), [](const auto& m) {
    return !absl::EndsWith(m, "RebuildProjections");
  });
  for (const std::string& method : methods) {
    for (const Who& who : people) {
      Caller caller = As(who.role, who.subject);
      const bool allowed = AllowedByMatrix(method, who.role);
      const grpc::Status status =
          client_->Call(method, caller, who.target, who.person, 0);
      ++cells;
      const std::string cell =
          absl::StrCat(method, " as ", security::RoleName(who.role), ": ",
                       status.error_code(), " ", status.error_message());
      if (allowed) {
        EXPECT_NE(status.error_code(), StatusCode::PERMISSION_DENIED) << cell;
        EXPECT_NE(status.error_code(), StatusCode::UNAUTHENTICATED) << cell;
        EXPECT_NE(status.error_code(), StatusCode::INVALID_ARGUMENT) << cell;
      } else {
        EXPECT_EQ(status.error_code(), StatusCode::PERMISSION_DENIED) << cell;
        EXPECT_TRUE(absl::StrContains(status.error_message(), "may not call"))
            << cell;
      }
    }
  }
  EXPECT_EQ(cells, 8 * 16);
}

// --- Tenancy ----------------------------------------------------------------

TEST_F(SecurityTest, AnotherTenantIsRefusedOnEveryMethodAndLearnsNothing) {
  // Southvale's people and system, each with every method its role may
  // call, aimed at northshire's case (or log, or child, or position).
  const std::string secrets[] = {kTeam, "ns-lwilliams", "Laura Williams",
                                 "demo-ns0001", "ns-mbrennan"};
  struct Who {
    v1::Role role;
    std::string subject;
  } people[] = {{v1::ROLE_UPSTREAM_SYSTEM, "lcs-southvale"},
                {v1::ROLE_SOCIAL_WORKER, "sv-sw"},
                {v1::ROLE_SERVICE_MANAGER, "sv-sm"},
                {v1::ROLE_PANEL_CHAIR, "sv-chair"},
                {v1::ROLE_AUDITOR, "sv-ig-officer"}};
  int refused = 0;
  for (const Who& who : people) {
    Caller caller = As(who.role, who.subject, kTeam, "southvale");
    for (const std::string& method : security::GovernedMethods()) {
      if (!AllowedByMatrix(method, who.role)) continue;
      const std::string name = method.substr(method.find('/') + 1);
      // Methods that name no case or stream carry no tenant's data.
      if (name == "GetLogInfo" || name == "GetCheckpoint" ||
          name == "GetConsistencyProof" || name == "GetProjectionStatus" ||
          name == "RebuildProjections") {
        continue;
      }
      const grpc::Status status =
          client_->Call(method, caller, kCase, kChild, last_position_);
      const std::string cell =
          absl::StrCat(method, " as southvale ", security::RoleName(who.role),
                       ": ", status.error_code(), " ", status.error_message());
      if (name == "GetChannelPanelPack") {
        // A person of another tenant is no person of yours: the same answer
        // as for someone who does not exist.
        EXPECT_EQ(status.error_code(), StatusCode::NOT_FOUND) << cell;
      } else if (name == "ListAccess") {
        // Lists southvale's own audit only: checked below.
        EXPECT_TRUE(status.ok()) << cell;
      } else {
        EXPECT_EQ(status.error_code(), StatusCode::PERMISSION_DENIED) << cell;
        ++refused;
      }
      for (const std::string& secret : secrets) {
        EXPECT_FALSE(absl::StrContains(status.error_message(), secret)) << cell;
      }
    }
  }
  EXPECT_GT(refused, 10);
  // A child of northshire asked for by southvale reads as absent, word for
  // word as a child nobody has.
  Caller sv = As(v1::ROLE_SERVICE_MANAGER, "sv-sm", "SV", "southvale");
  v1::GetChronologyRequest by_child;
  by_child.set_child_id(kChild);
  const grpc::Status child = client_->Chronology(sv, by_child);
  by_child.set_child_id("NS-P-NOBODY");
  const grpc::Status nobody = client_->Chronology(sv, by_child);
  EXPECT_EQ(child.error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(nobody.error_code(), StatusCode::NOT_FOUND);
  std::string expected = nobody.error_message();
  expected.replace(expected.find("NS-P-NOBODY"), 11, kChild);
  EXPECT_EQ(child.error_message(), expected);
  // A northshire case and a case that does not exist are refused alike.
  const grpc::Status real = client_->ReadStream(sv, kCase);
  const grpc::Status none = client_->ReadStream(sv, "northshire/case-NONE");
  std::string none_message = none.error_message();
  none_message.replace(none_message.find("northshire/case-NONE"), 20, kCase);
  EXPECT_EQ(real.error_message(), none_message);
  // Southvale's auditor sees only southvale's access events.
  for (const v1::AccessEntry& e : AccessOf("", "southvale")) {
    EXPECT_EQ(e.access().tenant(), "southvale");
  }
  // And northshire's case data is untouched by any of it.
  v1::ReadCaseStreamResponse stream;
  ASSERT_TRUE(
      client_->ReadStream(Upstream(), "northshire/case-x", &stream).ok());
  EXPECT_EQ(stream.stream_version(), 0u);
}

// --- Case scope, restriction, break-glass -----------------------------------

TEST_F(SecurityTest, CaseScopeFollowsAllocationGrantsAndRestriction) {
  const Caller allocated = As(v1::ROLE_SOCIAL_WORKER, "ns-lwilliams");
  const Caller other_team =
      As(v1::ROLE_SOCIAL_WORKER, "ns-other", "Children in Need Team West");
  const Caller manager = As(v1::ROLE_SERVICE_MANAGER, "ns-sm", "Service");
  const Caller chair = As(v1::ROLE_PANEL_CHAIR, "ns-chair", "Prevent");
  const Caller reviewer = As(v1::ROLE_REVIEWER, kReviewer, "Reviews");
  const Caller stranger = As(v1::ROLE_REVIEWER, "ns-reviewer-2", "Reviews");

  EXPECT_TRUE(client_->CaseState(allocated, kCase).ok());
  EXPECT_EQ(client_->CaseState(other_team, kCase).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(client_->CaseState(manager, kCase).ok());
  EXPECT_TRUE(client_->CaseState(chair, kPreventCase).ok());
  EXPECT_EQ(client_->CaseState(chair, kCase).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(client_->CaseState(reviewer, kCase).ok());
  EXPECT_EQ(client_->CaseState(reviewer, kPreventCase).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client_->CaseState(stranger, kCase).error_code(),
            StatusCode::PERMISSION_DENIED);

  // Sealed: not even the allocated worker or a service manager; only the
  // person named, who is flagged for reading a restricted record.
  EXPECT_EQ(client_->CaseState(allocated, kSealedCase).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client_->CaseState(manager, kSealedCase).error_code(),
            StatusCode::PERMISSION_DENIED);
  const Caller named = As(v1::ROLE_SOCIAL_WORKER, "ns-named", "Other Team");
  EXPECT_TRUE(client_->CaseState(named, kSealedCase).ok());
  const std::vector<v1::AccessEntry> named_access = AccessOf("ns-named");
  ASSERT_FALSE(named_access.empty());
  EXPECT_TRUE(
      HasFlag(named_access.back().access(), v1::ACCESS_FLAG_RESTRICTED_RECORD));

  // Break-glass opens an unallocated case, with a reason, and is flagged; it
  // does not open a sealed one.
  Caller glass = other_team;
  glass.break_glass = "Out of hours: police at the door, allocated worker off";
  v1::GetCaseStateResponse state;
  EXPECT_TRUE(client_->CaseState(glass, kCase, &state).ok());
  std::vector<v1::AccessEntry> access = AccessOf("ns-other");
  ASSERT_FALSE(access.empty());
  const v1::AccessRecorded& a = access.back().access();
  EXPECT_TRUE(HasFlag(a, v1::ACCESS_FLAG_BREAK_GLASS));
  EXPECT_TRUE(HasFlag(a, v1::ACCESS_FLAG_NO_ALLOCATION));
  EXPECT_EQ(a.break_glass_reason(), glass.break_glass);
  EXPECT_EQ(client_->CaseState(glass, kSealedCase).error_code(),
            StatusCode::PERMISSION_DENIED);
  Caller short_reason = other_team;
  short_reason.break_glass = "urgent";
  EXPECT_EQ(client_->CaseState(short_reason, kCase).error_code(),
            StatusCode::PERMISSION_DENIED);

  // A child's chronology across cases shows only the cases in scope.
  v1::GetChronologyRequest by_child;
  by_child.set_child_id("NS-P-777");
  EXPECT_EQ(client_->Chronology(allocated, by_child).error_code(),
            StatusCode::NOT_FOUND);
  v1::GetChronologyResponse chronology;
  ASSERT_TRUE(client_->Chronology(named, by_child, &chronology).ok());
  for (const auto& e : chronology.entries())
    EXPECT_EQ(e.case_id(), kSealedCase);
}

TEST_F(SecurityTest, AReadNeedsAKnownPurpose) {
  Caller c = As(v1::ROLE_SOCIAL_WORKER, "ns-lwilliams");
  c.purpose = "";
  grpc::Status none = client_->CaseState(c, kCase);
  EXPECT_EQ(none.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(none.error_message(), "direct-work"));
  c.purpose = "curiosity";
  EXPECT_EQ(client_->CaseState(c, kCase).error_code(),
            StatusCode::INVALID_ARGUMENT);
  // Nothing was shown, so nothing was recorded.
  EXPECT_TRUE(AccessOf("ns-lwilliams").empty());
}

// --- The access audit -------------------------------------------------------

TEST_F(SecurityTest, EveryReadLeavesExactlyOneAccessEvent) {
  struct Read {
    std::string method;
    v1::Role role;
    std::string subject;
    std::string target;
    std::string person;
  } reads[] = {
      {"casetrail.v1.CaseLog/ReadCaseStream", v1::ROLE_SOCIAL_WORKER,
       "ns-lwilliams", kCase, ""},
      {"casetrail.v1.CaseQueries/GetChronology", v1::ROLE_SOCIAL_WORKER,
       "ns-lwilliams", kCase, ""},
      {"casetrail.v1.CaseQueries/GetCaseState", v1::ROLE_TEAM_MANAGER,
       "ns-mbrennan", kCase, ""},
      {"casetrail.v1.CaseQueries/GetChannelPanelPack", v1::ROLE_PANEL_CHAIR,
       "ns-chair", kPreventCase, kPreventPerson},
      {"casetrail.v1.CaseQueries/ReconstructDecision", v1::ROLE_REVIEWER,
       kReviewer, kCase, ""},
      {"casetrail.v1.LogIntegrity/GetInclusionProof", v1::ROLE_REVIEWER,
       kReviewer, kCase, ""},
      {"casetrail.v1.CaseLog/ReadLog", v1::ROLE_UPSTREAM_SYSTEM,
       "mosaic-northshire", kCase, ""},
      {"casetrail.v1.CaseLog/Subscribe", v1::ROLE_UPSTREAM_SYSTEM,
       "mosaic-northshire", kCase, ""},
      {"casetrail.v1.AccessAudit/ListAccess", v1::ROLE_AUDITOR, kIgOfficer,
       kCase, ""},
  };
  for (const Read& read : reads) {
    Caller caller = As(read.role, read.subject, kTeam);
    caller.purpose =
        read.role == v1::ROLE_REVIEWER ? "practice-review" : caller.purpose;
    const size_t before = AccessOf(read.subject).size();
    const grpc::Status status =
        client_->Call(read.method, caller, read.target, read.person, 0);
    ASSERT_TRUE(status.ok()) << read.method << ": " << status.error_message();
    std::vector<v1::AccessEntry> after = AccessOf(read.subject);
    // The auditor's own listings are reads too: one for the listing above.
    const size_t expected =
        before + 1 + (read.role == v1::ROLE_AUDITOR ? 1 : 0);
    ASSERT_EQ(after.size(), expected) << read.method;
    const v1::AccessRecorded& a = after.back().access();
    EXPECT_EQ(a.method(), "/" + read.method);
    EXPECT_EQ(a.principal_id(), read.subject);
    EXPECT_EQ(a.role(), read.role);
    EXPECT_EQ(a.tenant(), "northshire");
    EXPECT_EQ(a.purpose(), caller.purpose);
    EXPECT_FALSE(a.refused());
    EXPECT_TRUE(a.has_accessed_at());
    EXPECT_FALSE(a.request_summary().empty()) << read.method;
    EXPECT_FALSE(a.response_summary().empty()) << read.method;
  }
}

TEST_F(SecurityTest, ARefusedReadIsAuditedAndLeavesNoTraceInCaseData) {
  const Caller other =
      As(v1::ROLE_SOCIAL_WORKER, "ns-other", "Children in Need Team West");
  v1::GetCaseStateResponse before;
  ASSERT_TRUE(client_->CaseState(Auditor(), kCase, &before).ok());
  v1::ReadCaseStreamResponse stream_before;
  ASSERT_TRUE(client_->ReadStream(Upstream(), kCase, &stream_before).ok());

  EXPECT_EQ(client_->ReadStream(other, kCase).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client_->CaseState(other, kCase).error_code(),
            StatusCode::PERMISSION_DENIED);
  // Refused by the matrix too (social workers may not read the log).
  EXPECT_EQ(client_->Call("casetrail.v1.CaseLog/ReadLog", other, kCase, "", 0)
                .error_code(),
            StatusCode::PERMISSION_DENIED);

  const std::vector<v1::AccessEntry> access = AccessOf("ns-other");
  ASSERT_EQ(access.size(), 3u);
  for (const v1::AccessEntry& e : access) {
    EXPECT_TRUE(e.access().refused());
    EXPECT_TRUE(HasFlag(e.access(), v1::ACCESS_FLAG_REFUSED));
    EXPECT_FALSE(e.access().refusal_reason().empty());
    EXPECT_EQ(e.access().items_returned(), 0u);
  }
  EXPECT_EQ(access[0].access().case_id(), kCase);
  // The case's stream and its state are as they were.
  v1::ReadCaseStreamResponse stream_after;
  ASSERT_TRUE(client_->ReadStream(Upstream(), kCase, &stream_after).ok());
  EXPECT_EQ(stream_after.stream_version(), stream_before.stream_version());
  v1::GetCaseStateResponse after;
  ASSERT_TRUE(client_->CaseState(Auditor(), kCase, &after).ok());
  EXPECT_EQ(after.state().event_count(), before.state().event_count());
}

TEST_F(SecurityTest, WhoLookedAtThisChildsRecordWhenAndWhy) {
  Caller worker = As(v1::ROLE_SOCIAL_WORKER, "ns-lwilliams");
  Caller reviewer = As(v1::ROLE_REVIEWER, kReviewer, "Reviews");
  reviewer.purpose = "practice-review";
  Caller glass = As(v1::ROLE_SOCIAL_WORKER, "ns-other", "CIN West");
  glass.break_glass = "Emergency duty team call at 02:10, worker unavailable";
  ASSERT_TRUE(client_->CaseState(worker, kCase).ok());
  v1::GetChronologyRequest chronology;
  chronology.set_case_id(kCase);
  ASSERT_TRUE(client_->Chronology(reviewer, chronology).ok());
  ASSERT_TRUE(client_->ReadStream(glass, kCase).ok());

  v1::ListAccessRequest request;
  request.set_case_id(kCase);
  v1::ListAccessResponse response;
  ASSERT_TRUE(client_->ListAccess(Auditor(), request, &response).ok());
  std::set<std::string> who;
  for (const v1::AccessEntry& e : response.entries()) {
    who.insert(e.access().principal_id() + " for " + e.access().purpose());
    EXPECT_GT(e.recorded_at().seconds(), 0);
  }
  EXPECT_TRUE(who.contains("ns-lwilliams for direct-work"));
  EXPECT_TRUE(who.contains(std::string(kReviewer) + " for practice-review"));
  EXPECT_TRUE(who.contains("ns-other for direct-work"));
  // Only the break-glass read is flagged.
  request.add_flags(v1::ACCESS_FLAG_BREAK_GLASS);
  ASSERT_TRUE(client_->ListAccess(Auditor(), request, &response).ok());
  ASSERT_EQ(response.entries_size(), 1);
  EXPECT_EQ(response.entries(0).access().principal_id(), "ns-other");
  // The access events are in the log the checkpoints cover: the auditor can
  // prove one.
  grpc::Status proof =
      client_->Call("casetrail.v1.LogIntegrity/GetInclusionProof", Auditor(),
                    "", "", response.entries(0).position());
  EXPECT_TRUE(proof.ok()) << proof.error_message();
}

TEST_F(SecurityTest, TheAuditIsTheServersAndOnlyWholeTenantAuditorsReadIt) {
  v1::ListAccessRequest all;
  all.set_limit(1000);
  v1::ListAccessResponse before;
  ASSERT_TRUE(client_->ListAccess(Auditor(), all, &before).ok());
  // No one appends to the server's streams, not even an upstream system.
  grpc::Status forged =
      client_->Append(Upstream(), Client::OpaqueAppend("northshire/_access"));
  EXPECT_EQ(forged.error_code(), StatusCode::INVALID_ARGUMENT)
      << forged.error_message();
  // A reviewer's grant of one case does not open the whole tenant's audit,
  // nor a proof of an access event.
  Caller reviewer = As(v1::ROLE_REVIEWER, kReviewer, "Reviews");
  reviewer.purpose = "practice-review";
  v1::ListAccessResponse listed;
  EXPECT_EQ(client_->ListAccess(reviewer, all, &listed).error_code(),
            StatusCode::PERMISSION_DENIED);
  const uint64_t access_position =
      before.entries(before.entries_size() - 1).position();
  const grpc::Status proof =
      client_->Call("casetrail.v1.LogIntegrity/GetInclusionProof", reviewer, "",
                    "", access_position);
  EXPECT_EQ(proof.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(proof.error_message(), absl::StrCat("position ", access_position,
                                                " is not one you may prove"));
  // The audit grew by the first listing and the reviewer's two refusals;
  // nothing else reached it.
  v1::ListAccessResponse after;
  ASSERT_TRUE(client_->ListAccess(Auditor(), all, &after).ok());
  EXPECT_EQ(after.entries_size(), before.entries_size() + 3);
}

TEST_F(SecurityTest, ASubscriptionEndsWhenItsTokenExpires) {
  security::TokenClaims claims;
  claims.issuer = kNorthIssuer;
  claims.subject = "mosaic-northshire";
  claims.role = "upstream_system";
  claims.tenant = "northshire";
  claims.audience = {"casetrail"};
  claims.issued_at = absl::Now() - absl::Seconds(1);
  claims.expires_at = absl::Now() + absl::Seconds(2);
  absl::StatusOr<std::string> token =
      security::SignJwt(claims, north_.private_key_pem, "northshire-1");
  ASSERT_TRUE(token.ok());
  Caller subscriber;
  subscriber.token = *token;
  subscriber.purpose = "system-reconciliation";
  auto stub = v1::CaseLog::NewStub(grpc::CreateChannel(
      server_->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  client_->Prepare(context, subscriber);
  v1::SubscribeRequest request;
  request.set_from_position(last_position_ + 1);
  auto reader = stub->Subscribe(&context, request);
  v1::SubscribeResponse response;
  ASSERT_TRUE(reader->Read(&response));  // caught up
  absl::SleepFor(absl::Seconds(3));
  // The next event wakes the subscription, which now ends instead of
  // delivering it.
  ASSERT_TRUE(
      client_->Append(Upstream(), Client::OpaqueAppend("northshire/case-late"))
          .ok());
  int delivered = 0;
  while (reader->Read(&response)) delivered += response.events_size();
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), StatusCode::UNAUTHENTICATED)
      << status.error_message();
  EXPECT_EQ(delivered, 0);
}

// RecordRestrictionChanged naming target events restricts those events only:
// the case stays open, and the events vanish from what others see.
TEST_F(SecurityTest, ARestrictedEventIsLeftOutForThoseItDoesNotName) {
  constexpr char kRestricted[] = "demo-ns0001-005";  // a referral decision
  absl::StatusOr<std::vector<v1::AppendEventsRequest>> restriction =
      tools::ParseAppendRequests(absl::StrCat(R"({"stream_id": ")", kCase,
                                              R"(", "events": [
      {"event_id": "restrict-005", "event_type": "RecordRestrictionChanged",
       "occurred_at": {"time": "2026-03-20T10:00:00Z", "precision": "EXACT"},
       "recorded_by": {"user_id": "ns-hm", "role": "Head of Service"},
       "source": {"system": "test", "provenance": "PROVENANCE_FIRST_HAND"},
       "jurisdiction": "JURISDICTION_ENGLAND",
       "record_restriction_changed": {
         "decision": {"decided_by": {"id": "ns-hm", "name": "H M",
                                     "role": "Head of Service",
                                     "authority_level": "AUTHORITY_LEVEL_HEAD_OF_SERVICE"},
                      "rationale": "Names a family member who is at risk."},
         "target_event_ids": [")",
                                              kRestricted, R"("],
         "previous_level": "RESTRICTION_LEVEL_NONE",
         "new_level": "RESTRICTION_LEVEL_SEALED",
         "permitted_roles": ["ROLE_TEAM_MANAGER"]}}]})"));
  ASSERT_TRUE(restriction.ok()) << restriction.status();
  v1::AppendEventsResponse appended;
  ASSERT_TRUE(client_->Append(Upstream(), (*restriction)[0], &appended).ok());
  const uint64_t after = appended.events(0).position() + 1;

  const Caller worker = As(v1::ROLE_SOCIAL_WORKER, "ns-lwilliams");
  const Caller manager = As(v1::ROLE_TEAM_MANAGER, "ns-mbrennan");
  v1::GetChronologyRequest request;
  request.set_case_id(kCase);
  request.set_page_size(1000);
  request.set_min_position(after);
  v1::GetChronologyResponse worker_view, manager_view;
  ASSERT_TRUE(client_->Chronology(worker, request, &worker_view).ok());
  ASSERT_TRUE(client_->Chronology(manager, request, &manager_view).ok());
  auto has = [&](const v1::GetChronologyResponse& r) {
    for (const auto& e : r.entries()) {
      if (e.event_id() == kRestricted) return true;
    }
    return false;
  };
  EXPECT_TRUE(has(manager_view));
  EXPECT_FALSE(has(worker_view));
  EXPECT_EQ(worker_view.total_entries() + 1, manager_view.total_entries());
  // The worker is told one event was withheld, and so is the audit.
  EXPECT_EQ(worker_view.provenance().withheld_events(), 1u);
  EXPECT_EQ(manager_view.provenance().withheld_events(), 0u);
  const std::vector<v1::AccessEntry> worker_reads = AccessOf("ns-lwilliams");
  ASSERT_FALSE(worker_reads.empty());
  EXPECT_TRUE(absl::StrContains(worker_reads.back().access().response_summary(),
                                "; 1 restricted events withheld"))
      << worker_reads.back().access().response_summary();

  // The stream read leaves it out too; the event itself is still in the log.
  v1::ReadCaseStreamResponse worker_stream, source_stream;
  ASSERT_TRUE(client_->ReadStream(worker, kCase, &worker_stream).ok());
  ASSERT_TRUE(client_->ReadStream(Upstream(), kCase, &source_stream).ok());
  EXPECT_EQ(worker_stream.events_size() + 1, source_stream.events_size());
  uint64_t restricted_position = 0;
  for (const auto& e : source_stream.events()) {
    if (e.event().event_id() == kRestricted) restricted_position = e.position();
    EXPECT_TRUE(e.event().event_id() == kRestricted ||
                std::any_of(worker_stream.events().begin(),
                            worker_stream.events().end(), [&](const auto& w) {
                              return w.event().event_id() ==
                                     e.event().event_id();
                            }));
  }
  ASSERT_GT(restricted_position, 0u);

  // A reviewer with a grant of the case can neither reconstruct the
  // restricted decision nor prove the event.
  Caller reviewer = As(v1::ROLE_REVIEWER, kReviewer, "Reviews");
  reviewer.purpose = "practice-review";
  EXPECT_EQ(client_
                ->Call("casetrail.v1.CaseQueries/ReconstructDecision", reviewer,
                       kCase, "", 0)
                .error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client_
                ->Call("casetrail.v1.LogIntegrity/GetInclusionProof", reviewer,
                       "", "", restricted_position)
                .error_code(),
            StatusCode::PERMISSION_DENIED);
  // The team manager the restriction names reconstructs it.
  EXPECT_TRUE(client_
                  ->Call("casetrail.v1.CaseQueries/ReconstructDecision",
                         manager, kCase, "", 0)
                  .ok());
}

// A query asking for a position the read model has not reached is
// UNAVAILABLE, and recorded like any other read.
TEST_F(SecurityTest, AQueryAheadOfTheReadModelIsUnavailableAndRecorded) {
  const Caller worker = As(v1::ROLE_SOCIAL_WORKER, "ns-lwilliams");
  const size_t before = AccessOf("ns-lwilliams").size();
  v1::GetChronologyRequest request;
  request.set_case_id(kCase);
  request.set_min_position(last_position_ + 1000);
  const grpc::Status status = client_->Chronology(worker, request);
  EXPECT_EQ(status.error_code(), StatusCode::UNAVAILABLE)
      << status.error_message();
  const std::vector<v1::AccessEntry> after = AccessOf("ns-lwilliams");
  ASSERT_EQ(after.size(), before + 1);
  EXPECT_TRUE(absl::StartsWith(after.back().access().response_summary(),
                               "UNAVAILABLE: "))
      << after.back().access().response_summary();
  EXPECT_EQ(after.back().access().items_returned(), 0u);
}

// A person with a scope of the whole tenant reads the log without the
// restricted records they could not read case by case; only systems
// subscribe to case events.
TEST_F(SecurityTest, LogReadsByPeopleLeaveOutRestrictedRecords) {
  auto read_log = [&](const Caller& caller, v1::ReadLogResponse* response) {
    grpc::ClientContext context;
    client_->Prepare(context, caller);
    v1::ReadLogRequest request;
    request.set_stream_prefix("northshire/");
    request.set_limit(1000);
    auto stub = v1::CaseLog::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
    return stub->ReadLog(&context, request, response);
  };
  auto case_events = [](const v1::ReadLogResponse& r) {
    std::vector<std::string> ids;
    for (const auto& e : r.events()) {
      if (!absl::StartsWith(e.event().stream_id(), "northshire/_")) {
        ids.push_back(e.event().event_id());
      }
    }
    return ids;
  };
  v1::ReadLogResponse source, audited;
  ASSERT_TRUE(read_log(Upstream(), &source).ok());
  ASSERT_TRUE(read_log(Auditor(), &audited).ok());
  std::vector<std::string> expected;
  for (const std::string& id : case_events(source)) {
    if (!absl::StartsWith(id, "sealed-")) expected.push_back(id);
  }
  ASSERT_LT(expected.size(), case_events(source).size());
  EXPECT_EQ(case_events(audited), expected);
  // The auditor's access event says what was left out.
  const std::vector<v1::AccessEntry> reads = AccessOf(kIgOfficer);
  ASSERT_FALSE(reads.empty());
  const v1::AccessRecorded* log_read = nullptr;
  for (const v1::AccessEntry& e : reads) {
    if (e.access().method() == "/casetrail.v1.CaseLog/ReadLog") {
      log_read = &e.access();
    }
  }
  ASSERT_NE(log_read, nullptr);
  EXPECT_TRUE(absl::StrContains(log_read->response_summary(),
                                "2 restricted events withheld"))
      << log_read->response_summary();

  // Subscribing to case events is for systems; the access audit is open to
  // an auditor.
  const grpc::Status cases = client_->Subscribe(Auditor(), "northshire/");
  EXPECT_EQ(cases.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(cases.error_message(), "access audit"))
      << cases.error_message();
  EXPECT_TRUE(client_->Subscribe(Auditor(), "northshire/_access").ok());
}

TEST_F(SecurityTest, StartRefusesABadSecurityConfig) {
  ServerProcess::Options options;
  options.data_dir = dir_.Sub("data2");
  options.extra_flags = {"--security_config=" + dir_.Sub("missing.textproto")};
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::StrContains(server.status().message(), "missing.textproto"))
      << server.status();
}

// --- Security headers (issue 13) ---------------------------------------------

TEST_F(SecurityTest, ASecurityHeaderSentTwiceIsRefusedAndNothingIsWritten) {
  const Caller worker = As(v1::ROLE_SOCIAL_WORKER, "ns-lwilliams");
  Caller glass = As(v1::ROLE_SOCIAL_WORKER, "ns-other", "CIN West");
  glass.break_glass = "Emergency duty team call at 02:10, worker unavailable";
  const uint64_t log_before = LogSize();
  struct Case {
    const char* header;
    Caller caller;
    std::string second;
  };
  const Case cases[] = {
      {"x-casetrail-purpose", worker, "audit"},
      {"x-casetrail-purpose", worker, "direct-work"},  // the same twice
      {"x-casetrail-break-glass", glass, "A second, different reason"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.header);
    const grpc::Status status =
        client_->ReadStreamWith(c.caller, kCase, {{c.header, c.second}});
    EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_EQ(
        status.error_message(),
        absl::StrCat("header ", c.header, " was sent 2 times; send it once"));
  }
  EXPECT_EQ(LogSize(), log_before);
  EXPECT_TRUE(AccessOf("ns-lwilliams").empty());
  EXPECT_TRUE(AccessOf("ns-other").empty());
}

TEST_F(SecurityTest, APurposeIsMatchedExactly) {
  const uint64_t log_before = LogSize();
  for (const char* purpose : {"direct-work ", " direct-work", "Direct-Work"}) {
    SCOPED_TRACE(purpose);
    Caller worker = As(v1::ROLE_SOCIAL_WORKER, "ns-lwilliams");
    worker.purpose = purpose;
    const grpc::Status status = client_->ReadStream(worker, kCase);
    EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_TRUE(absl::StrContains(
        status.error_message(),
        absl::StrCat("purpose '", purpose, "' is not one of")))
        << status.error_message();
  }
  EXPECT_EQ(LogSize(), log_before);
  EXPECT_TRUE(AccessOf("ns-lwilliams").empty());
  // Spelt exactly, it is accepted and recorded.
  EXPECT_TRUE(
      client_->ReadStream(As(v1::ROLE_SOCIAL_WORKER, "ns-lwilliams"), kCase)
          .ok());
  EXPECT_EQ(AccessOf("ns-lwilliams").size(), 1u);
}

// gRPC's own clients refuse to send a CR or LF in a header; an attacker's
// client does not. RawGrpcCall writes the HTTP/2 request by hand.
TEST_F(SecurityTest, ControlCharactersInStoredHeadersAreRefusedUnrecorded) {
  const std::string token =
      Token(v1::ROLE_SOCIAL_WORKER, "ns-other", "CIN West");
  v1::ReadCaseStreamRequest request;
  request.set_stream_id(kCase);
  const std::string forged =
      "Emergency duty team call\r\n2026-03-10 09:00  ns-lwilliams (Social "
      "Worker)  direct-work  ReadCaseStream";
  auto call = [&](const std::string& purpose, const std::string& reason) {
    absl::StatusOr<testing::RawGrpcResponse> response = testing::RawGrpcCall(
        server_->address(), "/casetrail.v1.CaseLog/ReadCaseStream",
        {{"authorization", "Bearer " + token},
         {"x-casetrail-purpose", purpose},
         {"x-casetrail-break-glass", reason}},
        request.SerializeAsString());
    EXPECT_TRUE(response.ok()) << response.status();
    return response.value_or(testing::RawGrpcResponse());
  };
  const uint64_t log_before = LogSize();
  struct Case {
    const char* what;
    std::string purpose;
    std::string reason;
    const char* header;
  };
  const Case cases[] = {
      {"CR LF in the reason", "direct-work", forged, "x-casetrail-break-glass"},
      {"LF in the reason", "direct-work", "Emergency call\nat night",
       "x-casetrail-break-glass"},
      {"tab in the reason", "direct-work", "Emergency\tcall tonight",
       "x-casetrail-break-glass"},
      {"LF in the purpose", "direct-work\n", "Emergency duty team call",
       "x-casetrail-purpose"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const testing::RawGrpcResponse response = call(c.purpose, c.reason);
    EXPECT_EQ(response.status, static_cast<int>(StatusCode::INVALID_ARGUMENT))
        << response.message;
    EXPECT_TRUE(absl::StrContains(
        response.message,
        absl::StrCat("header ", c.header, " holds a control character")))
        << response.message;
    EXPECT_FALSE(absl::StrContains(response.message, "ns-lwilliams"));
  }
  EXPECT_EQ(LogSize(), log_before);
  EXPECT_TRUE(AccessOf("ns-other").empty());

  // The same hand-written call with a plain reason reads the case, breaking
  // glass, and is recorded with the reason as sent.
  const testing::RawGrpcResponse ok =
      call("direct-work", "Emergency duty team call at 02:10");
  ASSERT_EQ(ok.status, 0) << ok.message;
  v1::ReadCaseStreamResponse read;
  ASSERT_TRUE(read.ParseFromString(ok.body));
  EXPECT_GT(read.events_size(), 0);
  const std::vector<v1::AccessEntry> access = AccessOf("ns-other");
  ASSERT_EQ(access.size(), 1u);
  EXPECT_EQ(access[0].access().break_glass_reason(),
            "Emergency duty team call at 02:10");
  EXPECT_TRUE(HasFlag(access[0].access(), v1::ACCESS_FLAG_BREAK_GLASS));
}

// --- Refusals are flagged for the information governance officer -----------

TEST_F(SecurityTest, ARefusedReadOutsideTheAllocationIsFlaggedNoAllocation) {
  const Caller other =
      As(v1::ROLE_SOCIAL_WORKER, "ns-other", "Children in Need Team West");
  v1::ReadCaseStreamResponse stream_before;
  ASSERT_TRUE(client_->ReadStream(Upstream(), kCase, &stream_before).ok());
  const uint64_t log_before = LogSize();
  EXPECT_EQ(client_->ReadStream(other, kCase).error_code(),
            StatusCode::PERMISSION_DENIED);
  // The sealed case is refused to its own team: not flagged.
  const Caller team = As(v1::ROLE_SOCIAL_WORKER, "ns-teammate");
  EXPECT_EQ(client_->ReadStream(team, kSealedCase).error_code(),
            StatusCode::PERMISSION_DENIED);
  // One refused access event each; nothing else was written.
  EXPECT_EQ(LogSize(), log_before + 2);
  v1::ReadCaseStreamResponse stream_after;
  ASSERT_TRUE(client_->ReadStream(Upstream(), kCase, &stream_after).ok());
  EXPECT_EQ(stream_after.stream_version(), stream_before.stream_version());

  const std::vector<v1::AccessEntry> refused = AccessOf("ns-other");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_TRUE(refused[0].access().refused());
  EXPECT_TRUE(HasFlag(refused[0].access(), v1::ACCESS_FLAG_REFUSED));
  EXPECT_TRUE(HasFlag(refused[0].access(), v1::ACCESS_FLAG_NO_ALLOCATION));
  const std::vector<v1::AccessEntry> own_team = AccessOf("ns-teammate");
  ASSERT_EQ(own_team.size(), 1u);
  EXPECT_TRUE(HasFlag(own_team[0].access(), v1::ACCESS_FLAG_REFUSED));
  EXPECT_FALSE(HasFlag(own_team[0].access(), v1::ACCESS_FLAG_NO_ALLOCATION));

  // Filtering the audit on no_allocation finds the browsing attempt.
  v1::ListAccessRequest request;
  request.set_case_id(kCase);
  request.add_flags(v1::ACCESS_FLAG_NO_ALLOCATION);
  v1::ListAccessResponse response;
  ASSERT_TRUE(client_->ListAccess(Auditor(), request, &response).ok());
  ASSERT_EQ(response.entries_size(), 1);
  EXPECT_EQ(response.entries(0).access().principal_id(), "ns-other");
  EXPECT_TRUE(response.entries(0).access().refused());
}

// The same through CaseQueries, whose reads take the audited-read path on a
// worker pool (issue 13): a refusal there must keep both flags too.
TEST_F(SecurityTest, ARefusedQueryOutsideTheAllocationIsFlaggedNoAllocation) {
  const Caller other =
      As(v1::ROLE_SOCIAL_WORKER, "ns-other", "Children in Need Team West");
  const uint64_t log_before = LogSize();
  const grpc::Status state = client_->CaseState(other, kCase);
  EXPECT_EQ(state.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(
      state.error_message(),
      absl::StrCat("no allocation or grant for case '", kCase, "'")))
      << state.error_message();
  EXPECT_TRUE(absl::StrContains(state.error_message(), "break-glass"))
      << state.error_message();
  v1::GetChronologyRequest chronology;
  chronology.set_case_id(kCase);
  const grpc::Status chron = client_->Chronology(other, chronology);
  EXPECT_EQ(chron.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(chron.error_message(), kCase))
      << chron.error_message();
  // One refused access event each; nothing else was written.
  EXPECT_EQ(LogSize(), log_before + 2);

  const std::vector<v1::AccessEntry> refused = AccessOf("ns-other");
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0].access().method(),
            "/casetrail.v1.CaseQueries/GetCaseState");
  EXPECT_EQ(refused[1].access().method(),
            "/casetrail.v1.CaseQueries/GetChronology");
  for (const v1::AccessEntry& e : refused) {
    SCOPED_TRACE(e.access().method());
    EXPECT_EQ(e.access().case_id(), kCase);
    EXPECT_TRUE(e.access().refused());
    EXPECT_TRUE(HasFlag(e.access(), v1::ACCESS_FLAG_REFUSED));
    EXPECT_TRUE(HasFlag(e.access(), v1::ACCESS_FLAG_NO_ALLOCATION));
    EXPECT_FALSE(HasFlag(e.access(), v1::ACCESS_FLAG_BREAK_GLASS));
    EXPECT_TRUE(absl::StrContains(e.access().refusal_reason(), kCase))
        << e.access().refusal_reason();
    EXPECT_EQ(e.access().items_returned(), 0u);
    EXPECT_TRUE(e.access().cases_returned().empty());
  }

  // Filtering the audit on no_allocation finds both attempts.
  v1::ListAccessRequest request;
  request.set_case_id(kCase);
  request.set_principal_id("ns-other");
  request.add_flags(v1::ACCESS_FLAG_NO_ALLOCATION);
  v1::ListAccessResponse response;
  const grpc::Status listed =
      client_->ListAccess(Auditor(), request, &response);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  EXPECT_EQ(response.entries_size(), 2);
}

// --- Subscriptions ----------------------------------------------------------

TEST_F(SecurityTest, PeopleSubscribeOnlyWithExactlyTheAccessAuditPrefix) {
  const uint64_t log_before = LogSize();
  for (const char* prefix :
       {"northshire/_", "northshire/_acc", "northshire/_accessx"}) {
    SCOPED_TRACE(prefix);
    const grpc::Status status = client_->Subscribe(Auditor(), prefix);
    EXPECT_EQ(status.error_code(), StatusCode::PERMISSION_DENIED);
    EXPECT_TRUE(
        absl::StrContains(status.error_message(),
                          "with stream prefix exactly \"northshire/_access\""))
        << status.error_message();
  }
  // Each refusal is one access event, flagged refused; nothing else.
  EXPECT_EQ(LogSize(), log_before + 3);
  const std::vector<v1::AccessEntry> access = AccessOf(kIgOfficer);
  size_t refused = 0;
  for (const v1::AccessEntry& e : access) {
    if (e.access().method() == "/casetrail.v1.CaseLog/Subscribe") {
      EXPECT_TRUE(e.access().refused());
      EXPECT_TRUE(HasFlag(e.access(), v1::ACCESS_FLAG_REFUSED));
      ++refused;
    }
  }
  EXPECT_EQ(refused, 3u);
  EXPECT_TRUE(client_->Subscribe(Auditor(), "northshire/_access").ok());
}

// --- Issuer keys from a JWKS file, rotated with SIGHUP -----------------------

TEST_F(SecurityTest, JwksKeysRotateOnSighupWithoutRestart) {
  // A second server whose northshire issuer also takes keys from a JWKS file.
  absl::StatusOr<security::KeyPairPem> old_key =
      security::GenerateEd25519KeyPair();
  absl::StatusOr<security::KeyPairPem> new_key =
      security::GenerateEd25519KeyPair();
  ASSERT_TRUE(old_key.ok() && new_key.ok());
  const std::string jwks = dir_.Sub("keys/northshire.jwks");
  auto write_jwks = [&](const security::KeyPairPem& key,
                        const std::string& kid) {
    WriteWholeFile(
        jwks, testing::JwkSet({testing::PublicJwk(
                  key.public_key_pem, kid, R"("alg":"EdDSA","use":"sig")")}));
  };
  write_jwks(*old_key, "jwks-old");
  std::string config = ReadWholeFile(dir_.Sub("security.textproto"));
  const std::string keys_line =
      R"(keys { key_id: "northshire-1" public_key_file: "keys/northshire-idp.pub" })";
  ASSERT_TRUE(absl::StrContains(config, keys_line));
  config.replace(config.find(keys_line), keys_line.size(),
                 keys_line + "\n  jwks_file: \"keys/northshire.jwks\"");
  WriteWholeFile(dir_.Sub("security-jwks.textproto"), config);
  ServerProcess::Options options;
  options.data_dir = dir_.Sub("data-jwks");
  options.extra_flags = {"--security_config=" +
                         dir_.Sub("security-jwks.textproto")};
  absl::StatusOr<std::unique_ptr<ServerProcess>> started =
      ServerProcess::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<ServerProcess> server = *std::move(started);
  Client client(server->address());
  const pid_t pid = server->pid();

  auto caller = [&](const security::KeyPairPem& key, const std::string& kid) {
    security::TokenClaims claims;
    claims.issuer = kNorthIssuer;
    claims.subject = "ns-lwilliams";
    claims.role = "social_worker";
    claims.team = kTeam;
    claims.tenant = "northshire";
    claims.audience = {"casetrail"};
    claims.issued_at = absl::Now() - absl::Minutes(1);
    claims.expires_at = absl::Now() + absl::Hours(1);
    absl::StatusOr<std::string> token =
        security::SignJwt(claims, key.private_key_pem, kid);
    EXPECT_TRUE(token.ok()) << token.status();
    Caller c;
    c.token = token.value_or("");
    return c;
  };
  const Caller with_old = caller(*old_key, "jwks-old");
  const Caller with_new = caller(*new_key, "jwks-new");
  const Caller with_pem = caller(north_, "northshire-1");
  auto info = [&](const Caller& c) {
    v1::GetLogInfoResponse response;
    return client.LogInfo(c, &response);
  };
  auto log_size = [&] {
    v1::GetLogInfoResponse response;
    EXPECT_TRUE(client.LogInfo(with_pem, &response).ok());
    return response.log_size();
  };
  // SIGHUP, then until casetraild has logged the outcome.
  auto reload = [&](const std::string& logged) {
    const size_t before = [&] {
      const std::string text = server->StderrText();
      size_t n = 0;
      for (size_t at = text.find(logged); at != std::string::npos;
           at = text.find(logged, at + 1)) {
        ++n;
      }
      return n;
    }();
    ASSERT_EQ(kill(pid, SIGHUP), 0);
    for (int i = 0; i < 100; ++i) {
      const std::string text = server->StderrText();
      size_t n = 0;
      for (size_t at = text.find(logged); at != std::string::npos;
           at = text.find(logged, at + 1)) {
        ++n;
      }
      if (n > before) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL() << "casetraild did not log '" << logged << "':\n"
           << server->StderrText();
  };

  EXPECT_TRUE(info(with_old).ok());
  EXPECT_TRUE(info(with_pem).ok());
  grpc::Status refused = info(with_new);
  EXPECT_EQ(refused.error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(refused.error_message(),
                                "key id 'jwks-new' is not one of the keys"))
      << refused.error_message();
  const uint64_t size = log_size();

  // Rotate: the new key in, the old one out.
  write_jwks(*new_key, "jwks-new");
  reload("token issuer keys reloaded");
  EXPECT_TRUE(info(with_new).ok());
  refused = info(with_old);  // accepted (and cached) before the reload
  EXPECT_EQ(refused.error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(refused.error_message(), "key id 'jwks-old'"))
      << refused.error_message();
  EXPECT_TRUE(info(with_pem).ok());

  // A bad file is logged and the keys in use are kept.
  WriteWholeFile(jwks,
                 R"({"keys": [{"kty": "OKP", "crv": "Ed25519", "d": "x"}]})");
  reload("token issuer keys NOT reloaded");
  EXPECT_TRUE(absl::StrContains(server->StderrText(), "private-key member 'd'"))
      << server->StderrText();
  EXPECT_TRUE(info(with_new).ok());
  EXPECT_EQ(info(with_old).error_code(), StatusCode::UNAUTHENTICATED);

  // The same process all along, which wrote nothing for any of this.
  EXPECT_EQ(server->pid(), pid);
  EXPECT_TRUE(server->running());
  EXPECT_EQ(log_size(), size);
  EXPECT_EQ(server->Stop(), 0);
}

}  // namespace
}  // namespace casetrail
