#include "security/policy.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "casetrail/v1/case_log.pb.h"
#include "casetrail/v1/case_queries.pb.h"
#include "casetrail/v1/integrity.pb.h"
#include "eventstore/stream_ids.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "security/file_text.h"
#include "security/issuer_keys.h"

namespace casetrail::security {
namespace {

using casetrail::v1::AccessFlag;
using casetrail::v1::Role;

constexpr size_t kMaxTenantIdLength = 40;

bool IsValidTenantId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxTenantIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-';
  });
}

absl::string_view WithoutLeadingSlash(absl::string_view method) {
  absl::ConsumePrefix(&method, "/");
  return method;
}

std::string Directory(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool Contains(const std::vector<std::string>& list, absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Whether a restriction naming `user_ids` and `roles` names `principal`.
template <typename Ids, typename Roles>
bool Names(const Ids& user_ids, const Roles& roles,
           const Principal& principal) {
  return std::find(user_ids.begin(), user_ids.end(), principal.id) !=
             user_ids.end() ||
         std::find(roles.begin(), roles.end(), principal.role) != roles.end();
}

}  // namespace

Role RoleFromName(absl::string_view name) {
  // Names are lower case ("social_worker"): "ROLE_..." and "Social_Worker"
  // are not names.
  Role role;
  if (name.empty() || absl::AsciiStrToLower(name) != name ||
      absl::StartsWith(name, "role_") ||
      !v1::Role_Parse(absl::StrCat("ROLE_", absl::AsciiStrToUpper(name)),
                      &role)) {
    return v1::ROLE_UNSPECIFIED;
  }
  return role;
}

std::string RoleName(Role role) {
  absl::string_view name = v1::Role_Name(role);
  absl::ConsumePrefix(&name, "ROLE_");
  return absl::AsciiStrToLower(name);
}

const std::vector<std::string>& GovernedMethods() {
  static const std::vector<std::string>* methods = [] {
    auto* out = new std::vector<std::string>;
    // Each service is reached through a message of its own .proto file: the
    // generated pool holds only the files whose generated code is linked in,
    // and naming the message links it, in any binary that uses the policy.
    for (const google::protobuf::ServiceDescriptor* d :
         {v1::AppendEventsRequest::descriptor()->file()->FindServiceByName(
              "CaseLog"),
          v1::GetChronologyRequest::descriptor()->file()->FindServiceByName(
              "CaseQueries"),
          v1::GetCheckpointRequest::descriptor()->file()->FindServiceByName(
              "LogIntegrity"),
          v1::ListAccessRequest::descriptor()->file()->FindServiceByName(
              "AccessAudit")}) {
      if (d == nullptr) continue;
      for (int i = 0; i < d->method_count(); ++i) {
        out->push_back(absl::StrCat(d->full_name(), "/", d->method(i)->name()));
      }
    }
    return out;
  }();
  return *methods;
}

absl::StatusOr<std::unique_ptr<SecurityPolicy>> SecurityPolicy::FromFile(
    const std::string& path) {
  absl::StatusOr<std::string> text =
      ReadNonEmptyFile(path, "security configuration file");
  if (!text.ok()) return text.status();
  v1::SecurityConfig config;
  google::protobuf::TextFormat::Parser parser;
  struct Collector : google::protobuf::io::ErrorCollector {
    std::string first;
    void AddError(int line, int column, const std::string& message) override {
      if (first.empty()) {
        first = absl::StrCat("line ", line + 1, ":", column + 1, ": ", message);
      }
    }
  } errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(*text, &config)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a SecurityConfig: ", errors.first));
  }
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> policy =
      FromConfig(std::move(config), Directory(path));
  if (!policy.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", policy.status().message()));
  }
  return policy;
}

absl::StatusOr<std::unique_ptr<SecurityPolicy>> SecurityPolicy::FromConfig(
    v1::SecurityConfig config, const std::string& key_dir) {
  std::unique_ptr<SecurityPolicy> p(new SecurityPolicy());
  p->config_ = std::move(config);
  const v1::SecurityConfig& c = p->config_;
  if (c.tenants().empty()) {
    return absl::InvalidArgumentError("no tenants are configured");
  }
  for (const v1::TenantConfig& t : c.tenants()) {
    if (!IsValidTenantId(t.id())) {
      return absl::InvalidArgumentError(
          absl::StrCat("tenant id '", t.id(), "' must be 1-40 of [a-z0-9-]"));
    }
    if (!p->tenants_.insert(t.id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("tenant '", t.id(), "' is listed twice"));
    }
  }
  auto check_tenant = [&](absl::string_view tenant,
                          absl::string_view where) -> absl::Status {
    if (!p->tenants_.contains(tenant)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " names tenant '", tenant,
                       "', which is not one of the configured tenants"));
    }
    return absl::OkStatus();
  };

  p->key_dir_ = key_dir;
  for (const v1::TokenIssuer& i : c.token_issuers()) {
    auto& tenants = p->issuer_tenants_[i.issuer()];
    for (const std::string& t : i.tenants()) {
      absl::Status s =
          check_tenant(t, absl::StrCat("token issuer '", i.issuer(), "'"));
      if (!s.ok()) return s;
      tenants.insert(t);
    }
  }
  absl::StatusOr<std::vector<JwtVerifier::Issuer>> issuers =
      ReadTokenIssuers(c, key_dir);
  if (!issuers.ok()) return issuers.status();
  absl::StatusOr<JwtVerifier> verifier =
      JwtVerifier::Create(*std::move(issuers));
  if (!verifier.ok()) return verifier.status();
  {
    absl::MutexLock lock(&p->mu_);
    p->verifier_ = std::make_shared<const JwtVerifier>(*std::move(verifier));
  }

  for (const v1::SystemPrincipal& s : c.systems()) {
    const std::string where =
        absl::StrCat("system '", s.certificate_name(), "'");
    if (s.certificate_name().empty() || s.system_id().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " needs certificate_name and system_id"));
    }
    absl::Status st = check_tenant(s.tenant(), where);
    if (!st.ok()) return st;
    if (!p->systems_.emplace(s.certificate_name(), &s).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " is listed twice"));
    }
  }

  const std::vector<std::string>& governed = GovernedMethods();
  for (const v1::RpcPermission& perm : c.rpc_permissions()) {
    const std::string method(WithoutLeadingSlash(perm.method()));
    if (!Contains(governed, method)) {
      return absl::InvalidArgumentError(
          absl::StrCat("rpc_permissions names '", perm.method(),
                       "', which is not a method casetraild serves (e.g. "
                       "casetrail.v1.CaseLog/ReadCaseStream)"));
    }
    auto& roles = p->methods_[method];
    for (int role : perm.roles()) {
      if (role == v1::ROLE_UNSPECIFIED) {
        return absl::InvalidArgumentError(absl::StrCat(
            "rpc_permissions for '", method, "' lists ROLE_UNSPECIFIED"));
      }
      roles.insert(role);
    }
  }

  for (const std::string& purpose : c.purposes()) {
    if (purpose.empty() || purpose.size() > 64) {
      return absl::InvalidArgumentError("a purpose must be 1-64 characters");
    }
    p->purposes_.insert(purpose);
  }
  if (p->purposes_.empty()) {
    return absl::InvalidArgumentError(
        "no purposes are configured, so no read could state one");
  }

  for (const v1::Grant& g : c.grants()) {
    const std::string where = absl::StrCat("grant to '", g.principal_id(), "'");
    if (g.principal_id().empty()) {
      return absl::InvalidArgumentError("a grant needs principal_id");
    }
    absl::Status s = check_tenant(g.tenant(), where);
    if (!s.ok()) return s;
    if (!g.all_cases() && g.case_ids().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " covers no case (case_ids or all_cases)"));
    }
    for (const std::string& id : g.case_ids()) {
      if (eventstore::TenantOfStream(id) != g.tenant()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, " names case '", id, "' outside its tenant '",
                         g.tenant(), "'"));
      }
    }
  }

  if (c.bulk_threshold() > 0) p->bulk_threshold_ = c.bulk_threshold();
  if (c.min_break_glass_reason() > 0) {
    p->min_break_glass_reason_ = c.min_break_glass_reason();
  }
  if (c.break_glass_roles().empty()) {
    p->break_glass_roles_ = {v1::ROLE_SOCIAL_WORKER, v1::ROLE_TEAM_MANAGER,
                             v1::ROLE_SERVICE_MANAGER};
  } else {
    for (int role : c.break_glass_roles()) p->break_glass_roles_.insert(role);
  }
  return p;
}

absl::Status SecurityPolicy::ReloadKeys() {
  absl::StatusOr<std::vector<JwtVerifier::Issuer>> issuers =
      ReadTokenIssuers(config_, key_dir_);
  if (!issuers.ok()) return issuers.status();
  absl::StatusOr<JwtVerifier> verifier =
      JwtVerifier::Create(*std::move(issuers));
  if (!verifier.ok()) return verifier.status();
  auto fresh = std::make_shared<const JwtVerifier>(*std::move(verifier));
  absl::MutexLock lock(&mu_);
  verifier_ = std::move(fresh);
  ++key_generation_;
  token_cache_.clear();
  return absl::OkStatus();
}

absl::StatusOr<Principal> SecurityPolicy::AuthenticateToken(
    absl::string_view token, absl::Time now) const {
  std::shared_ptr<const JwtVerifier> verifier;
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = token_cache_.find(token);
    if (it != token_cache_.end()) {
      if (now <= it->second.expires_at) return it->second.principal;
      token_cache_.erase(it);
    }
    verifier = verifier_;
    generation = key_generation_;
  }
  absl::StatusOr<TokenClaims> claims = verifier->Verify(token, now);
  if (!claims.ok()) return claims.status();
  Principal principal;
  principal.kind = Principal::Kind::kPerson;
  principal.id = claims->subject;
  principal.role = RoleFromName(claims->role);
  principal.team = claims->team;
  principal.tenant = claims->tenant;
  principal.token_id = claims->token_id;
  principal.expires_at = claims->expires_at;
  if (principal.role == v1::ROLE_UNSPECIFIED) {
    return absl::UnauthenticatedError(
        absl::StrCat("bearer token role '", absl::CHexEscape(claims->role),
                     "' is not one of casetrail's roles"));
  }
  // An upstream system may also present a service account's token (OAuth
  // client credentials) where a client certificate is not practical.
  if (principal.role == v1::ROLE_UPSTREAM_SYSTEM) {
    principal.kind = Principal::Kind::kSystem;
  }
  auto it = issuer_tenants_.find(claims->issuer);
  if (it == issuer_tenants_.end() || !it->second.contains(principal.tenant)) {
    return absl::UnauthenticatedError(
        "bearer token names a tenant its issuer may not vouch for");
  }
  absl::MutexLock lock(&mu_);
  // Verified with keys a ReloadKeys() has since replaced: answer this call
  // (it began before the reload), but do not remember the token.
  if (generation != key_generation_) return principal;
  if (token_cache_.size() >= kMaxCachedTokens) token_cache_.clear();
  token_cache_[token] = {principal, claims->expires_at};
  return principal;
}

absl::StatusOr<Principal> SecurityPolicy::AuthenticateCertificate(
    const std::vector<std::string>& names) const {
  for (const std::string& name : names) {
    auto it = systems_.find(name);
    if (it == systems_.end()) continue;
    const v1::SystemPrincipal& s = *it->second;
    Principal principal;
    principal.kind = Principal::Kind::kSystem;
    principal.id = s.system_id();
    principal.role =
        s.role() == v1::ROLE_UNSPECIFIED ? v1::ROLE_UPSTREAM_SYSTEM : s.role();
    principal.tenant = s.tenant();
    return principal;
  }
  return absl::NotFoundError("no configured system has this certificate");
}

absl::Status SecurityPolicy::CheckMethod(const Principal& principal,
                                         absl::string_view method) const {
  const absl::string_view name = WithoutLeadingSlash(method);
  auto it = methods_.find(name);
  if (it != methods_.end() && it->second.contains(principal.role)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "the role ", RoleName(principal.role), " may not call ", name));
}

absl::Status SecurityPolicy::CheckPurpose(absl::string_view purpose) const {
  if (purpose.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a read of case data needs a purpose (header x-casetrail-purpose; "
        "CLI --purpose): one of ",
        absl::StrJoin(config_.purposes(), ", ")));
  }
  if (!purposes_.contains(purpose)) {
    return absl::InvalidArgumentError(
        absl::StrCat("purpose '", purpose, "' is not one of ",
                     absl::StrJoin(config_.purposes(), ", ")));
  }
  return absl::OkStatus();
}

absl::Status SecurityPolicy::CheckTenant(const Principal& principal,
                                         absl::string_view stream_id) const {
  if (eventstore::TenantOfStream(stream_id) == principal.tenant) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "stream '", stream_id, "' is not in your tenant '", principal.tenant,
      "' (stream ids begin \"", principal.tenant, "/\")"));
}

bool SecurityPolicy::GrantCovers(const Principal& principal,
                                 absl::string_view case_id,
                                 absl::Time now) const {
  for (const v1::Grant& g : config_.grants()) {
    if (g.principal_id() != principal.id || g.tenant() != principal.tenant) {
      continue;
    }
    if (g.has_expires_at() &&
        now >= absl::FromUnixSeconds(g.expires_at().seconds())) {
      continue;
    }
    if (case_id.empty() ? g.all_cases()
                        : g.all_cases() || Contains({g.case_ids().begin(),
                                                     g.case_ids().end()},
                                                    case_id)) {
      return true;
    }
  }
  return false;
}

bool SecurityPolicy::HasTenantWideScope(const Principal& principal,
                                        absl::Time now) const {
  switch (principal.role) {
    case v1::ROLE_UPSTREAM_SYSTEM:
    case v1::ROLE_SERVICE_MANAGER:
      return true;
    case v1::ROLE_REVIEWER:
    case v1::ROLE_AUDITOR:
      return GrantCovers(principal, "", now);
    default:
      return false;
  }
}

CaseDecision SecurityPolicy::DecideCase(const Principal& principal,
                                        absl::string_view case_id,
                                        const CaseAccessFacts& facts,
                                        absl::string_view break_glass_reason,
                                        absl::Time now) const {
  CaseDecision decision;
  if (eventstore::TenantOfStream(case_id) != principal.tenant) {
    decision.refusal = std::string(CheckTenant(principal, case_id).message());
    decision.flags = {v1::ACCESS_FLAG_NO_ALLOCATION};
    return decision;
  }
  // Upstream systems are the source of the record: every case of their
  // tenant, restricted or not.
  if (principal.role == v1::ROLE_UPSTREAM_SYSTEM) {
    decision.allowed = true;
    return decision;
  }
  const bool allocated =
      facts.known &&
      ((!principal.team.empty() && principal.team == facts.team) ||
       (!facts.worker_id.empty() && principal.id == facts.worker_id) ||
       (!facts.manager_id.empty() && principal.id == facts.manager_id));
  bool in_scope = false;
  bool granted = false;
  switch (principal.role) {
    case v1::ROLE_SOCIAL_WORKER:
    case v1::ROLE_TEAM_MANAGER:
      in_scope = allocated;
      break;
    case v1::ROLE_SERVICE_MANAGER:
      in_scope = true;
      break;
    case v1::ROLE_PANEL_CHAIR:
      in_scope = facts.known && facts.prevent_or_channel;
      break;
    case v1::ROLE_REVIEWER:
    case v1::ROLE_AUDITOR:
      granted = GrantCovers(principal, case_id, now);
      in_scope = granted;
      break;
    default:
      break;
  }
  const bool restricted =
      facts.known && (facts.restriction == v1::RESTRICTION_LEVEL_RESTRICTED ||
                      facts.restriction == v1::RESTRICTION_LEVEL_SEALED);
  // Naming a person or role in a restriction is a decision to let them in:
  // it brings the case into their scope.
  const bool named = restricted && Names(facts.permitted_user_ids,
                                         facts.permitted_roles, principal);
  if (named && principal.role != v1::ROLE_ADMINISTRATOR) in_scope = true;
  const std::string trimmed(absl::StripAsciiWhitespace(break_glass_reason));
  bool broke_glass = false;
  // ACCESS_FLAG_NO_ALLOCATION: neither allocated nor named by a grant. A
  // refusal carries it too, so that browsing outside one's allocation shows
  // up when the audit is filtered on it.
  if (!allocated && !granted) {
    decision.flags.push_back(v1::ACCESS_FLAG_NO_ALLOCATION);
  }
  if (!in_scope) {
    if (trimmed.empty() || !break_glass_roles_.contains(principal.role)) {
      decision.refusal = absl::StrCat(
          "you have no allocation or grant for case '", case_id, "'",
          break_glass_roles_.contains(principal.role)
              ? "; to proceed in an emergency, state a break-glass reason "
                "(header x-casetrail-break-glass; CLI --break_glass)"
              : "");
      return decision;
    }
    if (trimmed.size() < min_break_glass_reason_) {
      decision.refusal = absl::StrCat("a break-glass reason needs at least ",
                                      min_break_glass_reason_, " characters");
      return decision;
    }
    broke_glass = true;
  }
  if (restricted) {
    const bool team_may =
        facts.restriction == v1::RESTRICTION_LEVEL_RESTRICTED && allocated;
    if (!named && !team_may) {
      decision.refusal = absl::StrCat(
          "case '", case_id, "' is ",
          facts.restriction == v1::RESTRICTION_LEVEL_SEALED ? "sealed"
                                                            : "restricted",
          ": only the people and roles its restriction names may read it",
          broke_glass ? " (break-glass does not open restricted records)" : "");
      return decision;
    }
    decision.flags.push_back(v1::ACCESS_FLAG_RESTRICTED_RECORD);
  }
  decision.allowed = true;
  // Single restricted events: the same rule as a restricted case, event by
  // event; break-glass does not open them either.
  bool sees_restricted_event = false;
  for (const v1::EventRestriction& r : facts.event_restrictions) {
    const bool named_here =
        Names(r.permitted_user_ids(), r.permitted_roles(), principal);
    const bool team_here =
        r.level() == v1::RESTRICTION_LEVEL_RESTRICTED && allocated;
    if (named_here || team_here) {
      sees_restricted_event = true;
    } else {
      decision.hidden_events.insert(r.event_id());
    }
  }
  if (sees_restricted_event && !restricted) {
    decision.flags.push_back(v1::ACCESS_FLAG_RESTRICTED_RECORD);
  }
  if (broke_glass) decision.flags.push_back(v1::ACCESS_FLAG_BREAK_GLASS);
  return decision;
}

absl::StatusOr<LogScope> SecurityPolicy::ScopeLogRead(
    const Principal& principal, absl::string_view stream_prefix,
    bool subscription, absl::Time now) const {
  if (!HasTenantWideScope(principal, now)) {
    return absl::PermissionDeniedError(
        "reading the log needs a scope of every case of your tenant (an "
        "upstream system, or a grant of all cases)");
  }
  LogScope scope;
  scope.stream_prefix = std::string(stream_prefix);
  const std::string tenant_prefix = principal.tenant + "/";
  if (absl::StartsWith(tenant_prefix, stream_prefix)) {
    scope.stream_prefix = tenant_prefix;
  } else if (!absl::StartsWith(stream_prefix, tenant_prefix)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "stream prefix '", stream_prefix,
        "' is outside your tenant (stream ids begin \"", tenant_prefix, "\")"));
  }
  if (subscription) {
    if (absl::Status allowed =
            CheckSubscriptionPrefix(principal, scope.stream_prefix);
        !allowed.ok()) {
      return allowed;
    }
    // Anyone else's subscription to the audit would deliver nothing (the
    // audit is left out below): refused rather than left silent.
    if (principal.role != v1::ROLE_UPSTREAM_SYSTEM &&
        principal.role != v1::ROLE_AUDITOR) {
      return absl::PermissionDeniedError(
          "the access audit is for auditors: only an auditor with a grant of "
          "all cases may subscribe to it");
    }
  }
  // The access audit is for auditors.
  if (principal.role != v1::ROLE_AUDITOR) {
    scope.exclude_stream_prefix = principal.tenant + "/_";
  }
  return scope;
}

absl::Status SecurityPolicy::CheckProofScope(const Principal& principal,
                                             absl::string_view stream_id,
                                             absl::Time now) const {
  if (eventstore::TenantOfStream(stream_id) != principal.tenant) {
    return absl::PermissionDeniedError("the event is another tenant's");
  }
  if (eventstore::IsReservedStream(stream_id) &&
      (principal.role != v1::ROLE_AUDITOR ||
       !HasTenantWideScope(principal, now))) {
    return absl::PermissionDeniedError(
        "only auditors with a grant of all cases may prove access audit "
        "events");
  }
  return absl::OkStatus();
}

absl::Status CheckSubscriptionPrefix(const Principal& principal,
                                     absl::string_view stream_prefix) {
  if (principal.role == v1::ROLE_UPSTREAM_SYSTEM) return absl::OkStatus();
  const std::string audit = eventstore::AccessAuditStream(principal.tenant);
  if (stream_prefix == audit) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "people may subscribe only to the access audit, with stream prefix "
      "exactly \"",
      audit,
      "\": a subscription delivers case events before the read model knows "
      "who may see them; read cases with ReadLog"));
}

}  // namespace casetrail::security
