#ifndef CASETRAIL_SECURITY_POLICY_H_
#define CASETRAIL_SECURITY_POLICY_H_

// Who is calling and what they may do: the security configuration
// (proto/casetrail/v1/security_config.proto) turned into decisions. Pure: no
// gRPC, no store. services/ extracts the credentials from a call, asks this
// class, and records the answer in the access audit (security/access_log.h).
//
// The order a call is checked in (docs/security.md):
//   1. authenticate: a client certificate that names a configured system, or
//      a bearer token (UNAUTHENTICATED when neither);
//   2. the role x method matrix (PERMISSION_DENIED);
//   3. for reads of case data, a stated purpose (INVALID_ARGUMENT);
//   4. the tenant of every stream named (PERMISSION_DENIED, from the request
//      alone, so nothing stored is revealed);
//   5. the case scope: allocation, grant, restriction, break-glass.

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "casetrail/v1/access.pb.h"
#include "casetrail/v1/case_events.pb.h"
#include "casetrail/v1/projections.pb.h"
#include "casetrail/v1/security_config.pb.h"
#include "security/jwt.h"

namespace casetrail::security {

// An authenticated caller.
struct Principal {
  enum class Kind { kPerson, kSystem };
  Kind kind = Kind::kPerson;
  // A person's user id (the token's sub) or a system's id.
  std::string id;
  casetrail::v1::Role role = casetrail::v1::ROLE_UNSPECIFIED;
  std::string team;
  std::string tenant;
  // The token's jti, if any.
  std::string token_id;
  // When the credential stops being valid: the token's exp (a certificate's
  // validity is the TLS handshake's business).
  absl::Time expires_at = absl::InfiniteFuture();
};

// The streams a log read covers (SecurityPolicy::ScopeLogRead).
struct LogScope {
  // Only streams beginning with this.
  std::string stream_prefix;
  // Not streams beginning with this; empty for none.
  std::string exclude_stream_prefix;
};

// What the read model knows about who may see a case.
struct CaseAccessFacts {
  // False when the case is not (yet) in the read model.
  bool known = false;
  std::string team;
  std::string worker_id;
  std::string manager_id;
  casetrail::v1::RestrictionLevel restriction =
      casetrail::v1::RESTRICTION_LEVEL_UNSPECIFIED;
  std::vector<std::string> permitted_user_ids;
  std::vector<casetrail::v1::Role> permitted_roles;
  // The case has had a Prevent referral or a Channel episode.
  bool prevent_or_channel = false;
  // Restrictions on single events of the case.
  std::vector<casetrail::v1::EventRestriction> event_restrictions;
};

// The answer for one case.
struct CaseDecision {
  bool allowed = false;
  // The PERMISSION_DENIED message when refused.
  std::string refusal;
  // What the access event records, allowed or refused: NO_ALLOCATION when
  // the case is neither allocated to the principal (or their team) nor
  // covered by a grant, RESTRICTED_RECORD, BREAK_GLASS. A refusal's
  // REFUSED flag is added by whoever records it.
  std::vector<casetrail::v1::AccessFlag> flags;
  // Events of the case the principal may not see although the case is open
  // to them (event restrictions not naming them): left out of every answer.
  absl::flat_hash_set<std::string> hidden_events;
};

// "social_worker" <-> ROLE_SOCIAL_WORKER. nullopt-like ROLE_UNSPECIFIED for an
// unknown name.
casetrail::v1::Role RoleFromName(absl::string_view name);
std::string RoleName(casetrail::v1::Role role);

class SecurityPolicy {
 public:
  // Loads a text-format SecurityConfig. Relative key file paths (PEM keys
  // and JWKS files) are taken from the config file's directory. Errors:
  // INVALID_ARGUMENT naming the problem (unknown tenant in an issuer, a grant
  // or a system; a method that is not one of casetraild's; duplicate tenant;
  // bad key or JWKS file).
  static absl::StatusOr<std::unique_ptr<SecurityPolicy>> FromFile(
      const std::string& path);
  // `key_dir` resolves relative public_key_file and jwks_file paths, now and
  // in ReloadKeys().
  static absl::StatusOr<std::unique_ptr<SecurityPolicy>> FromConfig(
      casetrail::v1::SecurityConfig config, const std::string& key_dir);

  const casetrail::v1::SecurityConfig& config() const { return config_; }

  // A bearer token (without "Bearer "). UNAUTHENTICATED on any failure,
  // including a role name that is not one of the eight, or a tenant the
  // issuer may not vouch for. Thread-safe, also while ReloadKeys() runs; a
  // token verified before is answered from a cache until its exp or the next
  // successful ReloadKeys().
  absl::StatusOr<Principal> AuthenticateToken(absl::string_view token,
                                              absl::Time now) const;
  // Reads every token issuer's key files again (PEM keys and JWKS files, as
  // named in the configuration loaded at start; the rest of the
  // configuration is not re-read) and verifies tokens with the new keys from
  // then on. Tokens verified before are forgotten, so a token whose key was
  // removed is refused at its next call. Errors: INVALID_ARGUMENT naming the
  // issuer and file, as FromConfig; the keys in use are then kept.
  // Thread-safe: may run while other threads authenticate.
  absl::Status ReloadKeys();
  // The names of a verified client certificate (services/transport.h).
  // NOT_FOUND when none names a configured system.
  absl::StatusOr<Principal> AuthenticateCertificate(
      const std::vector<std::string>& names) const;

  // The role x method matrix. `method` is "/pkg.Service/Method" or without
  // the leading slash. PERMISSION_DENIED naming the role and method.
  absl::Status CheckMethod(const Principal& principal,
                           absl::string_view method) const;
  // A purpose is required and must be exactly one of the configured purposes
  // (no trimming, no case folding). INVALID_ARGUMENT otherwise, listing them.
  absl::Status CheckPurpose(absl::string_view purpose) const;
  // The stream must belong to the principal's tenant. The message depends on
  // the request and the principal only.
  absl::Status CheckTenant(const Principal& principal,
                           absl::string_view stream_id) const;
  // May the principal read this case? A refusal of a case outside the
  // principal's allocation and grants (another tenant's too) carries
  // ACCESS_FLAG_NO_ALLOCATION in `flags`, as an allowed read would.
  CaseDecision DecideCase(const Principal& principal, absl::string_view case_id,
                          const CaseAccessFacts& facts,
                          absl::string_view break_glass_reason,
                          absl::Time now) const;
  // True for principals whose scope is every case of their tenant: upstream
  // systems, service managers, and grants of all_cases. Log reads and
  // subscriptions need it.
  bool HasTenantWideScope(const Principal& principal, absl::Time now) const;

  // The streams a log read (CaseLog.ReadLog) or subscription (`subscription`)
  // by `principal` with `stream_prefix` covers: it needs a tenant-wide scope;
  // an empty prefix, or one that the tenant's prefix extends, becomes
  // "<tenant>/"; a prefix outside the tenant is refused; a person may
  // subscribe only to the access audit (CheckSubscriptionPrefix), and only
  // an auditor at all; and the access audit ("<tenant>/_...") is left out of
  // log reads for anyone but auditors.
  // PERMISSION_DENIED otherwise, built from the request and principal only.
  absl::StatusOr<LogScope> ScopeLogRead(const Principal& principal,
                                        absl::string_view stream_prefix,
                                        bool subscription,
                                        absl::Time now) const;
  // Whether `principal` may prove an event of `stream_id` (an inclusion
  // proof returns the event itself). OK for a case of their tenant, which
  // DecideCase then decides as a read of the case, and for an access audit
  // event when they are an auditor with a tenant-wide scope.
  // PERMISSION_DENIED otherwise, with the reason for the access audit (the
  // caller should be told less: whose event it is is not theirs to know).
  absl::Status CheckProofScope(const Principal& principal,
                               absl::string_view stream_id,
                               absl::Time now) const;

  uint32_t bulk_threshold() const { return bulk_threshold_; }

 private:
  SecurityPolicy() = default;

  bool GrantCovers(const Principal& principal, absl::string_view case_id,
                   absl::Time now) const;

  casetrail::v1::SecurityConfig config_;
  // Resolves relative key file paths (FromConfig's key_dir).
  std::string key_dir_;
  // Guards the verifier and the token cache. A token is verified outside the
  // lock, with the verifier current when its cache lookup missed; its result
  // is cached only if no ReloadKeys() happened meanwhile (key_generation_).
  mutable absl::Mutex mu_;
  // Immutable once made; ReloadKeys() swaps in a new one while calls that
  // hold the old one finish with it.
  std::shared_ptr<const JwtVerifier> verifier_ ABSL_GUARDED_BY(mu_);
  uint64_t key_generation_ ABSL_GUARDED_BY(mu_) = 0;
  // Tokens already verified, by their exact text: a signature is checked
  // once per token, not once per call (an Ed25519 verification costs about
  // as much as a small append). An entry is used only until its token's exp;
  // the cache is emptied when it reaches kMaxCachedTokens and by ReloadKeys().
  struct CachedToken {
    Principal principal;
    absl::Time expires_at;
  };
  static constexpr size_t kMaxCachedTokens = 10000;
  mutable absl::flat_hash_map<std::string, CachedToken> token_cache_
      ABSL_GUARDED_BY(mu_);
  // issuer -> tenants it may vouch for.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>>
      issuer_tenants_;
  absl::flat_hash_map<std::string, const casetrail::v1::SystemPrincipal*>
      systems_;
  // method (without leading slash) -> roles.
  absl::flat_hash_map<std::string, absl::flat_hash_set<int>> methods_;
  absl::flat_hash_set<std::string> purposes_;
  absl::flat_hash_set<std::string> tenants_;
  absl::flat_hash_set<int> break_glass_roles_;
  uint32_t bulk_threshold_ = 1000;
  uint32_t min_break_glass_reason_ = 10;
};

// Every RPC method casetraild serves that the matrix governs, as
// "casetrail.v1.Service/Method".
const std::vector<std::string>& GovernedMethods();

// Whether `principal` may open a subscription (CaseLog.Subscribe) with
// `stream_prefix`, once the caller has checked the method, the tenant-wide
// scope a log read needs and that the prefix is in the principal's tenant. A
// subscription delivers events before the read model knows who may see them,
// so only upstream systems subscribe to case events; anyone else may
// subscribe only to the access audit, with `stream_prefix` exactly
// "<tenant>/_access" (not "<tenant>/_", "<tenant>/_acc" or a longer name).
// PERMISSION_DENIED otherwise, naming the prefix allowed. Pure.
absl::Status CheckSubscriptionPrefix(const Principal& principal,
                                     absl::string_view stream_prefix);

}  // namespace casetrail::security

#endif  // CASETRAIL_SECURITY_POLICY_H_
