#ifndef CASETRAIL_SERVICES_REQUEST_SECURITY_H_
#define CASETRAIL_SERVICES_REQUEST_SECURITY_H_

// The gRPC side of security: takes the credentials, purpose and break-glass
// reason from a call, asks the SecurityPolicy (security/policy.h), looks up
// a case's allocation and restriction in the read model, and writes the
// access audit (security/access_log.h). Every service calls it first.
//
// With no policy (casetraild --plaintext_loopback without --security_config)
// security is off: every call is allowed and nothing is audited.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "casetrail/v1/access.pb.h"
#include "eventstore/event_store.h"
#include "grpcpp/server_context.h"
#include "projections/read_model.h"
#include "projections/runner.h"
#include "security/access_log.h"
#include "security/policy.h"
#include "security/request_headers.h"

namespace casetrail::services {

// Request headers (security/request_headers.h).
using security::kBreakGlassHeader;
using security::kPurposeHeader;

// Who is calling, and why. Copyable.
struct CallSecurity {
  // False when security is off.
  bool enabled = false;
  security::Principal principal;
  // "/casetrail.v1.CaseLog/ReadCaseStream".
  std::string method;
  std::string purpose;
  std::string break_glass_reason;
};

class RequestSecurity {
 public:
  // `policy` may be null (security off). Not owned; all must outlive this.
  // `runner` (may be null) lets a case not yet folded be waited for.
  RequestSecurity(const security::SecurityPolicy* policy,
                  eventstore::EventStore* store,
                  const projections::ReadModelStore* read_model,
                  projections::ProjectionRunner* runner = nullptr);

  bool enabled() const { return policy_ != nullptr; }
  const security::SecurityPolicy* policy() const { return policy_; }

  // Checks the security headers (INVALID_ARGUMENT for one sent twice or
  // holding a control character; security::SecurityHeaderValue), then
  // authenticates the call (UNAUTHENTICATED) and checks the role x method
  // matrix (PERMISSION_DENIED); for a read of case data (`read`), also the
  // purpose, which must be exactly a configured one (INVALID_ARGUMENT). A read
  // refused by the matrix is recorded in the access audit before `done` runs
  // with the refusal; every other outcome calls `done` at once.
  void Authorize(const grpc::CallbackServerContext& context,
                 absl::string_view method, bool read,
                 casetrail::v1::AccessRecorded asked,
                 std::function<void(absl::StatusOr<CallSecurity>)> done);
  // Blocking form, for worker threads.
  absl::StatusOr<CallSecurity> Authorize(
      const grpc::CallbackServerContext& context, absl::string_view method,
      bool read, casetrail::v1::AccessRecorded asked);

  // The case's access facts from the read model (unknown when absent).
  absl::StatusOr<security::CaseAccessFacts> FactsOf(
      const std::string& case_id) const;
  // The policy's answer for reading `case_id`, which may be of any tenant.
  // A refusal, or a case the read model does not hold, is decided again once
  // the read model has folded the case's last event (waiting up to 2 s), so
  // a case allocated just before is not refused for lag. Errors: UNAVAILABLE
  // for a case in the log whose access facts are still unknown (fail
  // closed: its restriction is unknown too); the read model's.
  absl::StatusOr<security::CaseDecision> DecideCase(
      const CallSecurity& call, const std::string& case_id) const;
  // Writes stay in the caller's tenant (PERMISSION_DENIED) and out of the
  // server's "<tenant>/_..." streams (INVALID_ARGUMENT).
  absl::Status CheckWrite(const CallSecurity& call,
                          absl::string_view stream_id) const;

  // Records a refused read, then calls `done` with PERMISSION_DENIED and
  // `reason` (or UNAVAILABLE if the audit cannot be written).
  void Refuse(const CallSecurity& call, casetrail::v1::AccessRecorded asked,
              std::string reason, std::function<void(absl::Status)> done);
  // Records a read that is about to be answered; `done` gets OK once the
  // event is durable. Adds the bulk flag when items_returned exceeds the
  // threshold or more than one case was returned. With security off, calls
  // `done(OK)` at once.
  void Record(const CallSecurity& call, casetrail::v1::AccessRecorded access,
              std::function<void(absl::Status)> done);

 private:
  absl::StatusOr<security::Principal> Authenticate(
      const grpc::CallbackServerContext& context,
      absl::string_view authorization) const;
  // The position of the stream's last event, or nullopt if it has none.
  absl::StatusOr<std::optional<uint64_t>> LastPositionOf(
      const std::string& case_id) const;
  void Prepare(casetrail::v1::AccessRecorded& access) const;

  const security::SecurityPolicy* const policy_;
  const projections::ReadModelStore* const read_model_;
  projections::ProjectionRunner* const runner_;
  const eventstore::EventStore* const store_;
  security::AccessLog log_;
};

// A one-line description of flags for a refusal or access summary.
void AddFlags(const std::vector<casetrail::v1::AccessFlag>& flags,
              casetrail::v1::AccessRecorded* access);

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_REQUEST_SECURITY_H_
