#include "services/request_security.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "casetrail/v1/projections.pb.h"
#include "eventstore/stream_ids.h"
#include "services/transport.h"

namespace casetrail::services {
namespace {

using casetrail::v1::AccessRecorded;

// The one value of security header `name`, or "" (security/request_headers.h).
absl::StatusOr<std::string> Header(const grpc::CallbackServerContext& context,
                                   absl::string_view name) {
  std::vector<absl::string_view> values;
  const auto [begin, end] = context.client_metadata().equal_range(
      grpc::string_ref(name.data(), name.size()));
  for (auto it = begin; it != end; ++it) {
    values.emplace_back(it->second.data(), it->second.size());
  }
  return security::SecurityHeaderValue(name, values);
}

// Waits for an async completion; for the blocking forms on worker threads.
template <typename T, typename Start>
T Await(Start start) {
  absl::Notification done;
  std::optional<T> result;
  start([&](T value) {
    result.emplace(std::move(value));
    done.Notify();
  });
  done.WaitForNotification();
  return *std::move(result);
}

}  // namespace

void AddFlags(const std::vector<casetrail::v1::AccessFlag>& flags,
              AccessRecorded* access) {
  for (casetrail::v1::AccessFlag flag : flags) {
    if (std::find(access->flags().begin(), access->flags().end(), flag) ==
        access->flags().end()) {
      access->add_flags(flag);
    }
  }
}

RequestSecurity::RequestSecurity(const security::SecurityPolicy* policy,
                                 eventstore::EventStore* store,
                                 const projections::ReadModelStore* read_model,
                                 projections::ProjectionRunner* runner)
    : policy_(policy),
      read_model_(read_model),
      runner_(runner),
      store_(store),
      log_(store) {}

absl::StatusOr<security::Principal> RequestSecurity::Authenticate(
    const grpc::CallbackServerContext& context,
    absl::string_view authorization) const {
  // A verified client certificate that names a configured system wins; a
  // person's bearer token is the other way in.
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  const std::vector<std::string> names = auth == nullptr
                                             ? std::vector<std::string>()
                                             : PeerCertificateNames(*auth);
  if (!names.empty()) {
    absl::StatusOr<security::Principal> system =
        policy_->AuthenticateCertificate(names);
    if (system.ok()) return system;
  }
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        names.empty()
            ? "no credentials: send a bearer token (authorization: Bearer "
              "...) or connect with a client certificate of a configured "
              "system"
            : "the client certificate is not one of a configured system, and "
              "no bearer token was sent");
  }
  absl::string_view token = authorization;
  if (!absl::ConsumePrefix(&token, "Bearer ") &&
      !absl::ConsumePrefix(&token, "bearer ")) {
    return absl::UnauthenticatedError(
        "the authorization header must be \"Bearer <token>\"");
  }
  return policy_->AuthenticateToken(absl::StripAsciiWhitespace(token),
                                    absl::Now());
}

void RequestSecurity::Authorize(
    const grpc::CallbackServerContext& context, absl::string_view method,
    bool read, AccessRecorded asked,
    std::function<void(absl::StatusOr<CallSecurity>)> done) {
  CallSecurity call;
  call.method = std::string(method);
  if (policy_ == nullptr) {
    done(call);
    return;
  }
  call.enabled = true;
  // A malformed header is refused from the request alone, before anything is
  // authenticated or recorded.
  absl::StatusOr<std::string> authorization =
      Header(context, security::kAuthorizationHeader);
  absl::StatusOr<std::string> purpose = Header(context, kPurposeHeader);
  absl::StatusOr<std::string> break_glass = Header(context, kBreakGlassHeader);
  for (const absl::StatusOr<std::string>* header :
       {&authorization, &purpose, &break_glass}) {
    if (!header->ok()) {
      done(header->status());
      return;
    }
  }
  absl::StatusOr<security::Principal> principal =
      Authenticate(context, *authorization);
  if (!principal.ok()) {
    done(principal.status());
    return;
  }
  call.principal = *std::move(principal);
  // The purpose must be exactly a configured one: "direct-work " is not
  // "direct-work". A break-glass reason is free text, kept without the
  // spaces around it.
  call.purpose = *std::move(purpose);
  call.break_glass_reason =
      std::string(absl::StripAsciiWhitespace(*break_glass));
  absl::Status allowed = policy_->CheckMethod(call.principal, method);
  if (!allowed.ok()) {
    if (!read) {
      done(allowed);
      return;
    }
    Refuse(call, std::move(asked), std::string(allowed.message()),
           [done = std::move(done)](absl::Status s) { done(s); });
    return;
  }
  if (read) {
    absl::Status purpose = policy_->CheckPurpose(call.purpose);
    if (!purpose.ok()) {
      done(purpose);
      return;
    }
  }
  done(std::move(call));
}

absl::StatusOr<CallSecurity> RequestSecurity::Authorize(
    const grpc::CallbackServerContext& context, absl::string_view method,
    bool read, AccessRecorded asked) {
  return Await<absl::StatusOr<CallSecurity>>([&](auto done) {
    Authorize(context, method, read, std::move(asked), std::move(done));
  });
}

absl::StatusOr<security::CaseAccessFacts> RequestSecurity::FactsOf(
    const std::string& case_id) const {
  security::CaseAccessFacts facts;
  casetrail::v1::CaseAccessFacts stored;
  absl::StatusOr<bool> found = read_model_->ReadAccessFacts(case_id, &stored);
  if (!found.ok()) return found.status();
  if (!*found) return facts;
  facts.known = true;
  facts.team = stored.team();
  facts.worker_id = stored.worker_id();
  facts.manager_id = stored.manager_id();
  facts.restriction = stored.restriction();
  facts.permitted_user_ids.assign(stored.permitted_user_ids().begin(),
                                  stored.permitted_user_ids().end());
  for (int role : stored.permitted_roles()) {
    facts.permitted_roles.push_back(static_cast<casetrail::v1::Role>(role));
  }
  facts.prevent_or_channel = stored.prevent_or_channel();
  facts.event_restrictions.assign(stored.event_restrictions().begin(),
                                  stored.event_restrictions().end());
  return facts;
}

absl::StatusOr<security::CaseDecision> RequestSecurity::DecideCase(
    const CallSecurity& call, const std::string& case_id) const {
  security::CaseDecision decision;
  if (!call.enabled) {
    decision.allowed = true;
    return decision;
  }
  // Another tenant's case is refused from the request alone: its read model
  // entry is not even looked up.
  if (eventstore::TenantOfStream(case_id) != call.principal.tenant) {
    decision.refusal =
        std::string(policy_->CheckTenant(call.principal, case_id).message());
    // Outside any allocation, like every refused browse (docs/security.md).
    decision.flags.push_back(casetrail::v1::ACCESS_FLAG_NO_ALLOCATION);
    return decision;
  }
  if (eventstore::IsReservedStream(case_id)) {
    decision.refusal = absl::StrCat(
        "'", case_id,
        "' is not a case: the access audit is read with ListAccess");
    return decision;
  }
  absl::StatusOr<security::CaseAccessFacts> facts = FactsOf(case_id);
  if (!facts.ok()) return facts.status();
  decision = policy_->DecideCase(call.principal, case_id, *facts,
                                 call.break_glass_reason, absl::Now());
  // Upstream systems see their tenant's cases whatever the read model says.
  if (call.principal.role == casetrail::v1::ROLE_UPSTREAM_SYSTEM) {
    return decision;
  }
  // Who may see a case comes from the read model, which follows the log a
  // batch behind (and is empty while it is rebuilt). A case it does not hold
  // yet, or a refusal, is decided again once it has folded the case's last
  // event (waiting up to 2 s), so a case allocated just before is not
  // refused for lag. A case in the log whose facts are still unknown is not
  // shown to anyone: its restriction is not known either.
  if (decision.allowed && facts->known) return decision;
  absl::StatusOr<std::optional<uint64_t>> last = LastPositionOf(case_id);
  if (!last.ok()) return last.status();
  if (!last->has_value()) return decision;  // not in the log: nothing to show
  if (runner_ != nullptr && runner_->checkpoint() <= **last) {
    runner_->WaitFor(**last + 1, absl::Seconds(2));
    facts = FactsOf(case_id);
    if (!facts.ok()) return facts.status();
    decision = policy_->DecideCase(call.principal, case_id, *facts,
                                   call.break_glass_reason, absl::Now());
  }
  if (!facts->known) {
    return absl::UnavailableError(absl::StrCat(
        "who may see case '", case_id,
        "' is not known yet: the read model has not folded it (it may be "
        "rebuilding); retry shortly"));
  }
  return decision;
}

absl::StatusOr<std::optional<uint64_t>> RequestSecurity::LastPositionOf(
    const std::string& case_id) const {
  eventstore::StreamRead read;
  read.stream_id = case_id;
  read.backwards = true;
  read.limit = 1;
  absl::StatusOr<eventstore::StreamSlice> slice = store_->ReadStream(read);
  if (!slice.ok()) return slice.status();
  if (slice->events.empty()) return std::nullopt;
  casetrail::v1::RecordedEvent last;
  if (!last.ParseFromString(slice->events[0])) {
    return absl::DataLossError("a stored event could not be decoded");
  }
  return last.position();
}

absl::Status RequestSecurity::CheckWrite(const CallSecurity& call,
                                         absl::string_view stream_id) const {
  if (!call.enabled) return absl::OkStatus();
  if (absl::Status tenant = policy_->CheckTenant(call.principal, stream_id);
      !tenant.ok()) {
    return tenant;
  }
  if (eventstore::IsReservedStream(stream_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stream_id '", stream_id,
        "': names beginning with '_' after the tenant are the server's (the "
        "access audit is \"<tenant>/_access\")"));
  }
  return absl::OkStatus();
}

void RequestSecurity::Prepare(AccessRecorded& access) const {
  if (policy_ == nullptr) return;
  std::set<std::string> distinct(access.cases_returned().begin(),
                                 access.cases_returned().end());
  if (access.items_returned() > policy_->bulk_threshold() ||
      distinct.size() > 1) {
    AddFlags({casetrail::v1::ACCESS_FLAG_BULK}, &access);
  }
}

void RequestSecurity::Refuse(const CallSecurity& call, AccessRecorded asked,
                             std::string reason,
                             std::function<void(absl::Status)> done) {
  if (!call.enabled) {
    done(absl::PermissionDeniedError(reason));
    return;
  }
  asked.set_method(call.method);
  asked.set_refused(true);
  asked.set_refusal_reason(reason);
  AddFlags({casetrail::v1::ACCESS_FLAG_REFUSED}, &asked);
  log_.RecordAsync(
      call.principal, call.purpose, call.break_glass_reason, std::move(asked),
      [reason = std::move(reason), done = std::move(done)](absl::Status s) {
        done(s.ok() ? absl::PermissionDeniedError(reason) : s);
      });
}

void RequestSecurity::Record(const CallSecurity& call, AccessRecorded access,
                             std::function<void(absl::Status)> done) {
  if (!call.enabled) {
    done(absl::OkStatus());
    return;
  }
  access.set_method(call.method);
  Prepare(access);
  log_.RecordAsync(call.principal, call.purpose, call.break_glass_reason,
                   std::move(access), std::move(done));
}

}  // namespace casetrail::services
