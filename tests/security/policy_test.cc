// SecurityPolicy: the shipped example config loads and names only real
// methods; each kind of bad config is refused with INVALID_ARGUMENT naming the
// problem; tokens and certificates become the right principals (and bad ones
// are UNAUTHENTICATED); the role x method matrix, purposes and tenants are
// enforced; and DecideCase answers each combination of role, allocation,
// grant, restriction and break-glass as docs/security.md describes; log reads,
// subscriptions and inclusion proofs stay in the tenant, need a tenant-wide
// scope, and reach the access audit only for auditors (ScopeLogRead,
// CheckProofScope).

#include "security/policy.h"

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"
#include "absl/time/time.h"
#include "casetrail/v1/access.pb.h"
#include "casetrail/v1/security_config.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "security/jwt.h"
#include "tests/testing/server_process.h"
#include "tests/testing/test_jwks.h"

namespace casetrail::security {
namespace {

using casetrail::testing::ReadWholeFile;
using casetrail::testing::TempDir;
using casetrail::testing::WriteWholeFile;
using casetrail::v1::AccessFlag;
using casetrail::v1::Role;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

// 2026-01-01T00:00:00Z.
const absl::Time kNow = absl::FromUnixSeconds(1767225600);
// 2027-01-01T00:00:00Z and 2025-12-31T00:00:00Z.
constexpr int64_t kNextYear = 1798761600;
constexpr int64_t kYesterday = 1767139200;

constexpr char kNorthshireIssuer[] = "https://idp.northshire.test";
constexpr char kSouthvaleIssuer[] = "https://idp.southvale.test";

constexpr Role kAllRoles[] = {
    v1::ROLE_UPSTREAM_SYSTEM, v1::ROLE_SOCIAL_WORKER, v1::ROLE_TEAM_MANAGER,
    v1::ROLE_SERVICE_MANAGER, v1::ROLE_PANEL_CHAIR,   v1::ROLE_REVIEWER,
    v1::ROLE_AUDITOR,         v1::ROLE_ADMINISTRATOR};

// The RPCs casetraild serves, as of issue 6.
const char* const kServedMethods[] = {
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

KeyPairPem NewKeyPair() {
  absl::StatusOr<KeyPairPem> pair = GenerateEd25519KeyPair();
  EXPECT_TRUE(pair.ok()) << pair.status();
  return pair.ok() ? *std::move(pair) : KeyPairPem{};
}

std::string Text(absl::string_view s) { return std::string(s); }

// The parts of the test config, so that a test can leave one out.
std::string TenantsText() {
  return R"cfg(
    tenants { id: "northshire" name: "Northshire" }
    tenants { id: "southvale" name: "Southvale" }
  )cfg";
}
std::string IssuersText() {
  return absl::Substitute(R"cfg(
    token_issuers {
      issuer: "$0"
      audience: "casetrail"
      keys { key_id: "ns-1" public_key_file: "keys/ns.pub" }
      tenants: "northshire"
    }
    token_issuers {
      issuer: "$1"
      audience: "casetrail"
      keys { key_id: "sv-1" public_key_file: "keys/sv.pub" }
      tenants: "southvale"
    }
  )cfg",
                          kNorthshireIssuer, kSouthvaleIssuer);
}
std::string SystemsText() {
  return R"cfg(
    systems {
      certificate_name: "mosaic.northshire.test"
      system_id: "mosaic-northshire"
      tenant: "northshire"
    }
    systems {
      certificate_name: "reports.southvale.test"
      system_id: "sv-reports"
      tenant: "southvale"
      role: ROLE_AUDITOR
    }
  )cfg";
}
std::string PurposesText() {
  return R"cfg(
    purposes: "direct-work" purposes: "audit" purposes: "practice-review"
  )cfg";
}
std::string GrantsText() {
  return absl::Substitute(R"cfg(
    grants {
      principal_id: "ns-reviewer-1"
      tenant: "northshire"
      case_ids: "northshire/case-1"
      case_ids: "northshire/case-2"
      expires_at { seconds: $0 }
    }
    grants {
      principal_id: "ns-reviewer-old"
      tenant: "northshire"
      case_ids: "northshire/case-1"
      expires_at { seconds: $1 }
    }
    grants { principal_id: "ns-auditor-all" tenant: "northshire" all_cases: true }
    grants {
      principal_id: "ns-auditor-old"
      tenant: "northshire"
      all_cases: true
      expires_at { seconds: $1 }
    }
    grants {
      principal_id: "sv-reviewer"
      tenant: "southvale"
      case_ids: "southvale/case-1"
    }
  )cfg",
                          kNextYear, kYesterday);
}
std::string PermissionsText() {
  return R"cfg(
    rpc_permissions {
      method: "casetrail.v1.CaseLog/AppendEvents"
      roles: [ ROLE_UPSTREAM_SYSTEM ]
    }
    rpc_permissions {
      method: "/casetrail.v1.CaseQueries/GetChronology"
      roles: [ ROLE_SOCIAL_WORKER, ROLE_REVIEWER ]
    }
  )cfg";
}
std::string FullText() {
  return absl::StrCat(TenantsText(), IssuersText(), SystemsText(),
                      PurposesText(), GrantsText(), PermissionsText());
}

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.Sub("keys"));
    WriteWholeFile(dir_.Sub("keys/ns.pub"), northshire_key_.public_key_pem);
    WriteWholeFile(dir_.Sub("keys/sv.pub"), southvale_key_.public_key_pem);
    absl::StatusOr<std::unique_ptr<SecurityPolicy>> policy =
        FromText(FullText());
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = *std::move(policy);
  }

  absl::StatusOr<std::unique_ptr<SecurityPolicy>> FromText(
      const std::string& text) {
    v1::SecurityConfig config;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config))
        << text;
    return SecurityPolicy::FromConfig(std::move(config), dir_.path());
  }

  // The policy of FullText(), loaded by SetUp().
  const SecurityPolicy& Policy() const { return *policy_; }

  // A valid northshire social worker's claims.
  static TokenClaims Claims() {
    TokenClaims claims;
    claims.issuer = kNorthshireIssuer;
    claims.subject = "ns-sw-1";
    claims.role = "social_worker";
    claims.team = "cp-north";
    claims.tenant = "northshire";
    claims.name = "Sam Example";
    claims.token_id = "jti-42";
    claims.audience = {"casetrail"};
    claims.issued_at = kNow - absl::Minutes(1);
    claims.not_before = kNow - absl::Minutes(1);
    claims.expires_at = kNow + absl::Hours(1);
    return claims;
  }

  std::string Sign(const TokenClaims& claims, const KeyPairPem& key,
                   const std::string& key_id) {
    absl::StatusOr<std::string> token =
        SignJwt(claims, key.private_key_pem, key_id);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }
  std::string NorthshireToken(const TokenClaims& claims) {
    return Sign(claims, northshire_key_, "ns-1");
  }

  TempDir dir_;
  KeyPairPem northshire_key_ = NewKeyPair();
  KeyPairPem southvale_key_ = NewKeyPair();
  std::unique_ptr<SecurityPolicy> policy_;
};

void ExpectInvalid(const absl::StatusOr<std::unique_ptr<SecurityPolicy>>& p,
                   absl::string_view naming) {
  ASSERT_FALSE(p.ok()) << "accepted a config that should name " << naming;
  EXPECT_TRUE(absl::IsInvalidArgument(p.status())) << p.status();
  EXPECT_THAT(Text(p.status().message()), HasSubstr(naming));
}

// --- Loading ---

TEST_F(PolicyTest, FullTestConfigLoads) {
  const SecurityPolicy& policy = Policy();
  EXPECT_EQ(policy.config().tenants_size(), 2);
  EXPECT_EQ(policy.bulk_threshold(), 1000u);
}

TEST_F(PolicyTest, GovernedMethodsAreEveryServedRpc) {
  const std::vector<std::string>& governed = GovernedMethods();
  for (const char* method : kServedMethods) {
    EXPECT_THAT(governed, ::testing::Contains(method));
  }
  EXPECT_EQ(governed.size(), std::size(kServedMethods));
}

class ExampleConfigTest : public PolicyTest {
 protected:
  void SetUp() override {
    PolicyTest::SetUp();
    if (HasFatalFailure()) return;
    absl::StatusOr<std::unique_ptr<SecurityPolicy>> p =
        SecurityPolicy::FromFile(CopyExample("with-keys", true));
    ASSERT_TRUE(p.ok()) << p.status();
    example_ = *std::move(p);
  }

  // The shipped example copied into `subdir`, with (or without) its key
  // files beside it.
  std::string CopyExample(const std::string& subdir, bool with_keys) {
    const std::string dir = dir_.Sub(subdir);
    std::filesystem::create_directories(dir + "/keys");
    WriteWholeFile(dir + "/security.textproto",
                   ReadWholeFile(CASETRAIL_SECURITY_EXAMPLE));
    if (with_keys) {
      WriteWholeFile(dir + "/keys/northshire-idp.pub",
                     northshire_key_.public_key_pem);
      WriteWholeFile(dir + "/keys/southvale-idp.pub",
                     southvale_key_.public_key_pem);
    }
    return dir + "/security.textproto";
  }

  const SecurityPolicy& Example() const { return *example_; }

  static Principal WithRole(Role role) {
    Principal p;
    p.id = "someone";
    p.role = role;
    p.tenant = "northshire";
    return p;
  }

  std::unique_ptr<SecurityPolicy> example_;
};

TEST_F(ExampleConfigTest, ShippedExampleLoadsAndListsEveryServedMethod) {
  const SecurityPolicy& policy = Example();
  std::set<std::string> listed;
  for (const v1::RpcPermission& perm : policy.config().rpc_permissions()) {
    EXPECT_THAT(GovernedMethods(), ::testing::Contains(perm.method()));
    EXPECT_FALSE(perm.roles().empty()) << perm.method();
    listed.insert(perm.method());
  }
  // No RPC is refused to everyone merely because the example forgot it.
  for (const std::string& method : GovernedMethods()) {
    EXPECT_TRUE(listed.contains(method)) << method << " is not in the example";
  }
  EXPECT_EQ(policy.config().tenants_size(), 2);
  EXPECT_EQ(policy.config().purposes_size(), 8);
}

TEST_F(ExampleConfigTest, ShippedExampleWithoutItsKeysNamesTheMissingFile) {
  ExpectInvalid(SecurityPolicy::FromFile(CopyExample("without-keys", false)),
                "keys/northshire-idp.pub");
}

TEST_F(ExampleConfigTest, ShippedExampleAuthenticatesItsIssuersTokens) {
  const SecurityPolicy& policy = Example();
  TokenClaims claims = Claims();
  claims.issuer = "https://idp.northshire.example";
  absl::StatusOr<Principal> p = policy.AuthenticateToken(
      Sign(claims, northshire_key_, "northshire-1"), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->tenant, "northshire");

  // Southvale's key does not sign for Northshire's issuer.
  EXPECT_TRUE(absl::IsUnauthenticated(
      policy
          .AuthenticateToken(Sign(claims, southvale_key_, "northshire-1"), kNow)
          .status()));

  absl::StatusOr<Principal> mosaic =
      policy.AuthenticateCertificate({"mosaic.northshire.example"});
  ASSERT_TRUE(mosaic.ok()) << mosaic.status();
  EXPECT_EQ(mosaic->id, "mosaic-northshire");
}

TEST_F(ExampleConfigTest, MatrixAllowsExactlyWhatTheConfigLists) {
  const SecurityPolicy& policy = Example();
  std::map<std::string, std::set<int>> expected;
  for (const v1::RpcPermission& perm : policy.config().rpc_permissions()) {
    expected[perm.method()].insert(perm.roles().begin(), perm.roles().end());
  }
  int allowed = 0;
  for (const std::string& method : GovernedMethods()) {
    for (Role role : kAllRoles) {
      const bool want = expected[method].contains(role);
      const absl::Status got = policy.CheckMethod(WithRole(role), method);
      EXPECT_EQ(got.ok(), want) << RoleName(role) << " " << method;
      if (!got.ok()) {
        EXPECT_TRUE(absl::IsPermissionDenied(got)) << got;
        EXPECT_THAT(Text(got.message()), HasSubstr(RoleName(role)));
        EXPECT_THAT(Text(got.message()), HasSubstr(method));
      }
      // The leading slash of a gRPC method path makes no difference.
      EXPECT_EQ(policy.CheckMethod(WithRole(role), "/" + method).ok(), want)
          << RoleName(role) << " /" << method;
      allowed += want;
    }
  }
  EXPECT_GT(allowed, 0);
}

TEST_F(ExampleConfigTest, MatrixSpotChecks) {
  const SecurityPolicy& policy = Example();
  const Principal admin = WithRole(v1::ROLE_ADMINISTRATOR);
  EXPECT_TRUE(
      policy.CheckMethod(admin, "/casetrail.v1.CaseQueries/RebuildProjections")
          .ok());
  EXPECT_TRUE(absl::IsPermissionDenied(
      policy.CheckMethod(admin, "/casetrail.v1.CaseQueries/GetChronology")));
  EXPECT_TRUE(policy
                  .CheckMethod(WithRole(v1::ROLE_AUDITOR),
                               "/casetrail.v1.AccessAudit/ListAccess")
                  .ok());
  EXPECT_TRUE(absl::IsPermissionDenied(policy.CheckMethod(
      WithRole(v1::ROLE_SOCIAL_WORKER), "/casetrail.v1.CaseLog/ReadLog")));
  EXPECT_TRUE(absl::IsPermissionDenied(policy.CheckMethod(
      WithRole(v1::ROLE_SOCIAL_WORKER), "/casetrail.v1.CaseLog/AppendEvents")));
  EXPECT_TRUE(policy
                  .CheckMethod(WithRole(v1::ROLE_UPSTREAM_SYSTEM),
                               "casetrail.v1.CaseLog/AppendEvents")
                  .ok());
  EXPECT_TRUE(absl::IsPermissionDenied(policy.CheckMethod(
      WithRole(v1::ROLE_UNSPECIFIED), "/casetrail.v1.CaseLog/GetLogInfo")));
  EXPECT_TRUE(absl::IsPermissionDenied(
      policy.CheckMethod(WithRole(v1::ROLE_AUDITOR), "/casetrail.v1.Nope/X")));
}

// --- Config errors ---

TEST_F(PolicyTest, NoTenantsIsRefused) {
  ExpectInvalid(FromText(PurposesText()), "no tenants");
}

TEST_F(PolicyTest, BadTenantIdsAreRefused) {
  for (const std::string& id :
       std::vector<std::string>{"North", "north/shire", "", "north shire",
                                "northshire_1", std::string(41, 'a')}) {
    SCOPED_TRACE(id);
    ExpectInvalid(
        FromText(absl::StrCat("tenants { id: \"", id, "\" }", PurposesText())),
        absl::StrCat("tenant id '", id, "'"));
  }
  // 40 characters and digits and dashes are fine.
  EXPECT_TRUE(FromText(absl::StrCat("tenants { id: \"", std::string(38, 'a'),
                                    "-9\" }", PurposesText()))
                  .ok());
}

TEST_F(PolicyTest, DuplicateTenantIsRefused) {
  ExpectInvalid(FromText(FullText() + R"cfg(tenants { id: "southvale" })cfg"),
                "'southvale' is listed twice");
}

TEST_F(PolicyTest, IssuerNamingUnknownTenantIsRefused) {
  ExpectInvalid(FromText(FullText() + R"cfg(
    token_issuers {
      issuer: "https://idp.x"
      audience: "casetrail"
      keys { public_key_file: "keys/ns.pub" }
      tenants: "eastmarch"
    }
  )cfg"),
                "token issuer 'https://idp.x' names tenant 'eastmarch'");
}

TEST_F(PolicyTest, SystemOrGrantNamingUnknownTenantIsRefused) {
  ExpectInvalid(FromText(FullText() + R"cfg(
        systems { certificate_name: "a.test" system_id: "a" tenant: "eastmarch" }
      )cfg"),
                "'eastmarch'");
  ExpectInvalid(FromText(FullText() + R"cfg(
                  grants {
                    principal_id: "p"
                    tenant: "eastmarch"
                    all_cases: true
                  }
                )cfg"),
                "'eastmarch'");
}

TEST_F(PolicyTest, UnknownMethodInPermissionsIsRefused) {
  ExpectInvalid(FromText(FullText() + R"cfg(
                  rpc_permissions {
                    method: "casetrail.v1.CaseLog/DeleteEverything"
                    roles: [ ROLE_ADMINISTRATOR ]
                  }
                )cfg"),
                "casetrail.v1.CaseLog/DeleteEverything");
  // A method of a service casetraild does not govern.
  ExpectInvalid(FromText(FullText() + R"cfg(
                  rpc_permissions {
                    method: "grpc.health.v1.Health/Check"
                    roles: [ ROLE_ADMINISTRATOR ]
                  }
                )cfg"),
                "grpc.health.v1.Health/Check");
}

TEST_F(PolicyTest, RoleUnspecifiedInPermissionIsRefused) {
  ExpectInvalid(FromText(FullText() + R"cfg(
                  rpc_permissions {
                    method: "casetrail.v1.CaseLog/ReadLog"
                    roles: [ ROLE_AUDITOR, ROLE_UNSPECIFIED ]
                  }
                )cfg"),
                "ROLE_UNSPECIFIED");
}

TEST_F(PolicyTest, NoPurposesIsRefused) {
  ExpectInvalid(FromText(absl::StrCat(TenantsText(), IssuersText(),
                                      SystemsText(), PermissionsText())),
                "no purposes");
  ExpectInvalid(FromText(FullText() + R"cfg(purposes: "")cfg"), "purpose");
}

TEST_F(PolicyTest, GrantWithNoCasesIsRefused) {
  ExpectInvalid(FromText(FullText() + R"cfg(
                  grants { principal_id: "ns-reviewer-9" tenant: "northshire" }
                )cfg"),
                "grant to 'ns-reviewer-9' covers no case");
}

TEST_F(PolicyTest, GrantNamingCaseOutsideItsTenantIsRefused) {
  for (const char* id : {"southvale/case-1", "northshire-evil/case-1", "case-1",
                         "northshirex/case-1"}) {
    SCOPED_TRACE(id);
    ExpectInvalid(FromText(FullText() + absl::Substitute(R"cfg(
      grants {
        principal_id: "ns-reviewer-9"
        tenant: "northshire"
        case_ids: "northshire/case-1"
        case_ids: "$0"
      }
    )cfg",
                                                         id)),
                  absl::StrCat("grant to 'ns-reviewer-9' names case '", id,
                               "' outside its tenant"));
  }
}

TEST_F(PolicyTest, UnreadableKeyFileIsRefusedNamingIt) {
  std::filesystem::remove(dir_.Sub("keys/sv.pub"));
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> p = FromText(FullText());
  ExpectInvalid(p, "keys/sv.pub");
  ExpectInvalid(p, kSouthvaleIssuer);
}

TEST_F(PolicyTest, KeyFileThatIsNotAKeyIsRefused) {
  WriteWholeFile(dir_.Sub("keys/sv.pub"), "not a pem key\n");
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> p = FromText(FullText());
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(p.status())) << p.status();
}

TEST_F(PolicyTest, FromFileResolvesKeysBesideTheConfigAndNamesIt) {
  const std::string path = dir_.Sub("security.textproto");
  WriteWholeFile(path, FullText());
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> p =
      SecurityPolicy::FromFile(path);
  ASSERT_TRUE(p.ok()) << p.status();

  WriteWholeFile(path, FullText() + R"cfg(tenants { id: "southvale" })cfg");
  ExpectInvalid(SecurityPolicy::FromFile(path), path);
}

TEST_F(PolicyTest, TextThatIsNotASecurityConfigIsRefused) {
  const std::string path = dir_.Sub("security.textproto");
  WriteWholeFile(path, "tenants { id: \"northshire\" }\nlisten: \"0.0.0.0\"\n");
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> p =
      SecurityPolicy::FromFile(path);
  ExpectInvalid(p, "not a SecurityConfig");
  ExpectInvalid(p, "line 2");
  ExpectInvalid(p, "listen");

  WriteWholeFile(path, "{ this is json }");
  ExpectInvalid(SecurityPolicy::FromFile(path), "not a SecurityConfig");
}

TEST_F(PolicyTest, MissingConfigFileIsRefused) {
  ExpectInvalid(SecurityPolicy::FromFile(dir_.Sub("absent.textproto")),
                "absent.textproto");
}

// --- AuthenticateToken ---

TEST_F(PolicyTest, ValidTokenBecomesAPerson) {
  absl::StatusOr<Principal> p =
      Policy().AuthenticateToken(NorthshireToken(Claims()), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->kind, Principal::Kind::kPerson);
  EXPECT_EQ(p->id, "ns-sw-1");
  EXPECT_EQ(p->role, v1::ROLE_SOCIAL_WORKER);
  EXPECT_EQ(p->team, "cp-north");
  EXPECT_EQ(p->tenant, "northshire");
  EXPECT_EQ(p->token_id, "jti-42");
}

TEST_F(PolicyTest, EveryRoleNameAuthenticates) {
  for (Role role : kAllRoles) {
    TokenClaims claims = Claims();
    claims.role = RoleName(role);
    absl::StatusOr<Principal> p =
        Policy().AuthenticateToken(NorthshireToken(claims), kNow);
    ASSERT_TRUE(p.ok()) << claims.role << ": " << p.status();
    EXPECT_EQ(p->role, role);
  }
}

TEST_F(PolicyTest, TokenRoleThatIsNotOneOfTheEightIsUnauthenticated) {
  for (const char* role : {"director", "ROLE_SOCIAL_WORKER", "Social_Worker",
                           "SOCIAL_WORKER", "role_social_worker", "unspecified",
                           "", " social_worker", "social worker"}) {
    SCOPED_TRACE(role);
    TokenClaims claims = Claims();
    claims.role = role;
    absl::StatusOr<Principal> p =
        Policy().AuthenticateToken(NorthshireToken(claims), kNow);
    EXPECT_TRUE(absl::IsUnauthenticated(p.status())) << p.status();
  }
}

TEST_F(PolicyTest, IssuerMayNotVouchForAnotherTenant) {
  TokenClaims claims = Claims();
  claims.tenant = "southvale";
  absl::StatusOr<Principal> p =
      Policy().AuthenticateToken(NorthshireToken(claims), kNow);
  EXPECT_TRUE(absl::IsUnauthenticated(p.status())) << p.status();
  EXPECT_THAT(Text(p.status().message()), HasSubstr("tenant"));

  // Nor for one that is not configured at all.
  claims.tenant = "eastmarch";
  EXPECT_TRUE(absl::IsUnauthenticated(
      Policy().AuthenticateToken(NorthshireToken(claims), kNow).status()));

  // Southvale's own issuer may.
  claims = Claims();
  claims.issuer = kSouthvaleIssuer;
  claims.tenant = "southvale";
  absl::StatusOr<Principal> sv =
      Policy().AuthenticateToken(Sign(claims, southvale_key_, "sv-1"), kNow);
  ASSERT_TRUE(sv.ok()) << sv.status();
  EXPECT_EQ(sv->tenant, "southvale");
}

TEST_F(PolicyTest, IssuerConfiguredForBothTenantsMayVouchForEither) {
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> policy =
      FromText(absl::StrCat(TenantsText(), R"cfg(
                              token_issuers {
                                issuer: "https://idp.northshire.test"
                                audience: "casetrail"
                                keys { key_id: "ns-1" public_key_file: "keys/ns.pub" }
                                tenants: [ "northshire", "southvale" ]
                              }
                            )cfg",
                            PurposesText()));
  ASSERT_TRUE(policy.ok()) << policy.status();
  TokenClaims claims = Claims();
  claims.tenant = "southvale";
  EXPECT_TRUE((*policy)->AuthenticateToken(NorthshireToken(claims), kNow).ok());
}

TEST_F(PolicyTest, ExpiredTokenIsUnauthenticated) {
  const std::string token = NorthshireToken(Claims());
  EXPECT_TRUE(Policy().AuthenticateToken(token, kNow).ok());
  absl::StatusOr<Principal> p =
      Policy().AuthenticateToken(token, kNow + absl::Hours(2));
  EXPECT_TRUE(absl::IsUnauthenticated(p.status())) << p.status();
}

TEST_F(PolicyTest, ForgedOrMalformedTokenIsUnauthenticated) {
  // Signed with Southvale's key under Northshire's key id.
  EXPECT_TRUE(absl::IsUnauthenticated(
      Policy()
          .AuthenticateToken(Sign(Claims(), southvale_key_, "ns-1"), kNow)
          .status()));
  EXPECT_TRUE(absl::IsUnauthenticated(
      Policy().AuthenticateToken("not.a.token", kNow).status()));
  EXPECT_TRUE(
      absl::IsUnauthenticated(Policy().AuthenticateToken("", kNow).status()));
}

TEST_F(PolicyTest, UpstreamSystemTokenIsASystem) {
  TokenClaims claims = Claims();
  claims.role = "upstream_system";
  absl::StatusOr<Principal> p =
      Policy().AuthenticateToken(NorthshireToken(claims), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->kind, Principal::Kind::kSystem);
}

// --- AuthenticateCertificate ---

TEST_F(PolicyTest, ConfiguredCertificateNameIsAnUpstreamSystem) {
  absl::StatusOr<Principal> p = Policy().AuthenticateCertificate(
      {"unrelated.example", "mosaic.northshire.test"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->kind, Principal::Kind::kSystem);
  EXPECT_EQ(p->id, "mosaic-northshire");
  EXPECT_EQ(p->role, v1::ROLE_UPSTREAM_SYSTEM);
  EXPECT_EQ(p->tenant, "northshire");
  EXPECT_EQ(p->token_id, "");
}

TEST_F(PolicyTest, CertificateSystemKeepsItsConfiguredRole) {
  absl::StatusOr<Principal> p =
      Policy().AuthenticateCertificate({"reports.southvale.test"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->role, v1::ROLE_AUDITOR);
  EXPECT_EQ(p->tenant, "southvale");
}

TEST_F(PolicyTest, UnknownCertificateNameIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(
      Policy()
          .AuthenticateCertificate({"mosaic.northshire.test.evil"})
          .status()));
  EXPECT_TRUE(absl::IsNotFound(
      Policy().AuthenticateCertificate({"MOSAIC.NORTHSHIRE.TEST"}).status()));
  EXPECT_TRUE(absl::IsNotFound(Policy().AuthenticateCertificate({}).status()));
}

TEST_F(PolicyTest, DuplicateSystemIsRefused) {
  ExpectInvalid(FromText(FullText() + R"cfg(
                  systems {
                    certificate_name: "mosaic.northshire.test"
                    system_id: "other"
                    tenant: "northshire"
                  }
                )cfg"),
                "mosaic.northshire.test");
}

// --- CheckPurpose ---

TEST_F(PolicyTest, EmptyPurposeIsRefusedListingThePurposes) {
  const absl::Status s = Policy().CheckPurpose("");
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(Text(s.message()),
              HasSubstr("direct-work, audit, practice-review"));
}

TEST_F(PolicyTest, UnknownPurposeIsRefused) {
  // Purposes match exactly: no trimming, no case folding.
  for (const char* purpose : {"curiosity", "Direct-Work", "direct-work ",
                              " direct-work", "direct-work\t"}) {
    const absl::Status s = Policy().CheckPurpose(purpose);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << purpose << ": " << s;
    EXPECT_THAT(Text(s.message()), HasSubstr(purpose));
    EXPECT_THAT(Text(s.message()), HasSubstr("direct-work"));
  }
}

TEST_F(PolicyTest, KnownPurposeIsAccepted) {
  EXPECT_TRUE(Policy().CheckPurpose("direct-work").ok());
  EXPECT_TRUE(Policy().CheckPurpose("practice-review").ok());
}

// --- CheckTenant ---

Principal Person(const std::string& id, Role role, const std::string& team = "",
                 const std::string& tenant = "northshire") {
  Principal p;
  p.id = id;
  p.role = role;
  p.team = team;
  p.tenant = tenant;
  return p;
}

TEST_F(PolicyTest, OwnTenantsStreamIsAccepted) {
  const Principal sw = Person("ns-sw-1", v1::ROLE_SOCIAL_WORKER);
  EXPECT_TRUE(Policy().CheckTenant(sw, "northshire/case-1").ok());
  EXPECT_TRUE(Policy().CheckTenant(sw, "northshire/a/b").ok());
}

TEST_F(PolicyTest, OtherTenantsStreamIsDeniedWithoutRevealingExistence) {
  const Principal sw = Person("ns-sw-1", v1::ROLE_SOCIAL_WORKER);
  for (const char* stream :
       {"southvale/case-1", "case-1", "northshire-evil/case", "northshirex/c",
        "", "/northshire/case-1", "NORTHSHIRE/case-1", "northshir/case-1"}) {
    SCOPED_TRACE(stream);
    const absl::Status s = Policy().CheckTenant(sw, stream);
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
    EXPECT_THAT(Text(s.message()), Not(HasSubstr("exist")));
    EXPECT_THAT(Text(s.message()), HasSubstr("northshire"));
  }
}

// --- DecideCase ---

CaseAccessFacts Allocated(const std::string& team, const std::string& worker,
                          const std::string& manager = "ns-tm-1") {
  CaseAccessFacts facts;
  facts.known = true;
  facts.team = team;
  facts.worker_id = worker;
  facts.manager_id = manager;
  return facts;
}

// Allocated to team cp-south, worker ns-sw-9, manager ns-tm-9.
CaseAccessFacts ElsewhereCase() {
  return Allocated("cp-south", "ns-sw-9", "ns-tm-9");
}

CaseAccessFacts WithRestriction(CaseAccessFacts facts,
                                v1::RestrictionLevel level) {
  facts.restriction = level;
  return facts;
}

constexpr char kReason[] = "child at risk tonight";  // 21 characters

class DecideCaseTest : public PolicyTest {
 protected:
  CaseDecision Decide(const Principal& p, const std::string& case_id,
                      const CaseAccessFacts& facts,
                      const std::string& reason = "", absl::Time now = kNow) {
    CaseDecision d = Policy().DecideCase(p, case_id, facts, reason, now);
    if (d.allowed) {
      EXPECT_THAT(d.refusal, IsEmpty());
    } else {
      EXPECT_THAT(d.refusal, Not(IsEmpty()));
      // A refusal records whether the case was outside the allocation, and
      // nothing else.
      EXPECT_THAT(d.flags,
                  AnyOf(IsEmpty(), ElementsAre(v1::ACCESS_FLAG_NO_ALLOCATION)));
    }
    return d;
  }

  const Principal social_worker_ =
      Person("ns-sw-1", v1::ROLE_SOCIAL_WORKER, "cp-north");
  const Principal team_manager_ =
      Person("ns-tm-1", v1::ROLE_TEAM_MANAGER, "cp-north");
  const Principal service_manager_ =
      Person("ns-hos-1", v1::ROLE_SERVICE_MANAGER, "leadership");
  const Principal panel_chair_ = Person("ns-chair", v1::ROLE_PANEL_CHAIR);
  const Principal reviewer_ = Person("ns-reviewer-1", v1::ROLE_REVIEWER);
  const Principal auditor_all_ = Person("ns-auditor-all", v1::ROLE_AUDITOR);
  const Principal administrator_ = Person("ns-admin", v1::ROLE_ADMINISTRATOR);
  const Principal upstream_ = [] {
    Principal p = Person("mosaic-northshire", v1::ROLE_UPSTREAM_SYSTEM);
    p.kind = Principal::Kind::kSystem;
    return p;
  }();
};

TEST_F(DecideCaseTest, SocialWorkerAllocatedByTeam) {
  const CaseDecision d =
      Decide(social_worker_, "northshire/case-1", Allocated("cp-north", ""));
  EXPECT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.flags, IsEmpty());
}

TEST_F(DecideCaseTest, RestrictedEventsAreHiddenFromThoseTheyDoNotName) {
  CaseAccessFacts facts = Allocated("cp-north", "ns-sw-1");
  v1::EventRestriction sealed;
  sealed.set_event_id("e-sealed");
  sealed.set_level(v1::RESTRICTION_LEVEL_SEALED);
  sealed.add_permitted_roles(v1::ROLE_TEAM_MANAGER);
  facts.event_restrictions.push_back(sealed);
  v1::EventRestriction restricted;
  restricted.set_event_id("e-restricted");
  restricted.set_level(v1::RESTRICTION_LEVEL_RESTRICTED);
  restricted.add_permitted_user_ids("ns-hos-1");
  facts.event_restrictions.push_back(restricted);

  // The allocated worker: RESTRICTED lets the team in, SEALED does not.
  CaseDecision d = Decide(social_worker_, "northshire/case-1", facts);
  ASSERT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.hidden_events, UnorderedElementsAre("e-sealed"));
  EXPECT_THAT(d.flags, ElementsAre(v1::ACCESS_FLAG_RESTRICTED_RECORD));
  // The role named sees the sealed one.
  d = Decide(team_manager_, "northshire/case-1", facts);
  ASSERT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.hidden_events, IsEmpty());
  // The person named sees the restricted one, not the sealed one.
  d = Decide(service_manager_, "northshire/case-1", facts);
  ASSERT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.hidden_events, UnorderedElementsAre("e-sealed"));
  // Break-glass opens the case, not its restricted events.
  const Principal other_worker =
      Person("ns-sw-7", v1::ROLE_SOCIAL_WORKER, "cp-east");
  d = Decide(other_worker, "northshire/case-1", facts, kReason);
  ASSERT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.hidden_events,
              UnorderedElementsAre("e-sealed", "e-restricted"));
  // No event restrictions: nothing hidden, no flag.
  d = Decide(social_worker_, "northshire/case-1",
             Allocated("cp-north", "ns-sw-1"));
  EXPECT_THAT(d.hidden_events, IsEmpty());
  EXPECT_THAT(d.flags, IsEmpty());
}

TEST_F(DecideCaseTest, SocialWorkerAllocatedByWorkerId) {
  const CaseDecision d = Decide(social_worker_, "northshire/case-1",
                                Allocated("cp-south", "ns-sw-1"));
  EXPECT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.flags, IsEmpty());
}

TEST_F(DecideCaseTest, SocialWorkerWithoutTeamIsNotAllocatedByAnEmptyTeam) {
  // A principal with no team must not match a case whose team is empty.
  const Principal no_team = Person("ns-sw-2", v1::ROLE_SOCIAL_WORKER);
  EXPECT_FALSE(
      Decide(no_team, "northshire/case-1", Allocated("", "", "")).allowed);
}

TEST_F(DecideCaseTest, SocialWorkerNotAllocatedIsRefusedMentioningBreakGlass) {
  const CaseDecision d =
      Decide(social_worker_, "northshire/case-1", ElsewhereCase());
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.refusal, HasSubstr("northshire/case-1"));
  EXPECT_THAT(d.refusal, HasSubstr("break-glass"));
}

TEST_F(DecideCaseTest, SocialWorkerBreakGlassOpensAnUnallocatedCase) {
  const CaseDecision d =
      Decide(social_worker_, "northshire/case-1", ElsewhereCase(), kReason);
  EXPECT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.flags, ElementsAre(v1::ACCESS_FLAG_NO_ALLOCATION,
                                   v1::ACCESS_FLAG_BREAK_GLASS));
  // Exactly the minimum length (10) is enough.
  EXPECT_TRUE(
      Decide(social_worker_, "northshire/case-1", ElsewhereCase(), "0123456789")
          .allowed);
}

TEST_F(DecideCaseTest, ShortBreakGlassReasonIsRefused) {
  for (const char* reason : {"urgent", "123456789", "   urgent!   ", " "}) {
    SCOPED_TRACE(reason);
    const CaseDecision d =
        Decide(social_worker_, "northshire/case-1", ElsewhereCase(), reason);
    EXPECT_FALSE(d.allowed);
  }
  EXPECT_THAT(
      Decide(social_worker_, "northshire/case-1", ElsewhereCase(), "urgent")
          .refusal,
      HasSubstr("10"));
}

TEST_F(DecideCaseTest, BreakGlassReasonIsIgnoredWhenInScope) {
  const CaseDecision d = Decide(social_worker_, "northshire/case-1",
                                Allocated("cp-north", ""), kReason);
  EXPECT_TRUE(d.allowed);
  EXPECT_THAT(d.flags, IsEmpty());
}

TEST_F(DecideCaseTest, TeamManagerIsScopedLikeASocialWorker) {
  EXPECT_TRUE(
      Decide(team_manager_, "northshire/case-1", Allocated("cp-north", ""))
          .allowed);
  // Named as the case's manager, though another team holds it.
  const CaseDecision managed = Decide(team_manager_, "northshire/case-1",
                                      Allocated("cp-south", "", "ns-tm-1"));
  EXPECT_TRUE(managed.allowed);
  EXPECT_THAT(managed.flags, IsEmpty());
  const CaseDecision refused =
      Decide(team_manager_, "northshire/case-1", ElsewhereCase());
  EXPECT_FALSE(refused.allowed);
  EXPECT_THAT(refused.refusal, HasSubstr("break-glass"));
  const CaseDecision broke =
      Decide(team_manager_, "northshire/case-1", ElsewhereCase(), kReason);
  EXPECT_TRUE(broke.allowed);
  EXPECT_THAT(broke.flags, ElementsAre(v1::ACCESS_FLAG_NO_ALLOCATION,
                                       v1::ACCESS_FLAG_BREAK_GLASS));
}

TEST_F(DecideCaseTest, ServiceManagerSeesAnyCaseOfTheTenant) {
  const CaseDecision d =
      Decide(service_manager_, "northshire/case-1", ElsewhereCase());
  EXPECT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.flags, ElementsAre(v1::ACCESS_FLAG_NO_ALLOCATION));
  const CaseDecision own = Decide(service_manager_, "northshire/case-1",
                                  Allocated("leadership", ""));
  EXPECT_TRUE(own.allowed);
  EXPECT_THAT(own.flags, IsEmpty());
}

TEST_F(DecideCaseTest, PanelChairSeesOnlyPreventOrChannelCases) {
  CaseAccessFacts channel = ElsewhereCase();
  channel.prevent_or_channel = true;
  const CaseDecision d = Decide(panel_chair_, "northshire/case-1", channel);
  EXPECT_TRUE(d.allowed) << d.refusal;
  const CaseDecision other =
      Decide(panel_chair_, "northshire/case-1", ElsewhereCase());
  EXPECT_FALSE(other.allowed);
  // A panel chair may not break glass (not a default break-glass role).
  EXPECT_FALSE(
      Decide(panel_chair_, "northshire/case-1", ElsewhereCase(), kReason)
          .allowed);
  EXPECT_THAT(other.refusal, Not(HasSubstr("break-glass")));
  CaseAccessFacts unknown;
  unknown.prevent_or_channel = true;  // not trusted while unknown
  EXPECT_FALSE(Decide(panel_chair_, "northshire/case-1", unknown).allowed);
}

TEST_F(DecideCaseTest, ReviewerSeesOnlyGrantedCases) {
  for (const char* id : {"northshire/case-1", "northshire/case-2"}) {
    const CaseDecision d = Decide(reviewer_, id, ElsewhereCase());
    EXPECT_TRUE(d.allowed) << id << ": " << d.refusal;
    // A grant names the case: not an access without allocation or grant.
    EXPECT_THAT(d.flags, IsEmpty()) << id;
  }
  const CaseDecision other =
      Decide(reviewer_, "northshire/case-3", ElsewhereCase());
  EXPECT_FALSE(other.allowed);
  EXPECT_THAT(other.refusal, HasSubstr("northshire/case-3"));
  // Reviewers may not break glass.
  EXPECT_FALSE(
      Decide(reviewer_, "northshire/case-3", ElsewhereCase(), kReason).allowed);
  // A case id that merely starts with a granted one is not granted.
  EXPECT_FALSE(
      Decide(reviewer_, "northshire/case-10", ElsewhereCase()).allowed);
}

TEST_F(DecideCaseTest, AuditorWithAllCasesGrantSeesEveryCase) {
  for (const char* id : {"northshire/case-1", "northshire/case-77"}) {
    const CaseDecision d = Decide(auditor_all_, id, ElsewhereCase());
    EXPECT_TRUE(d.allowed) << id << ": " << d.refusal;
    EXPECT_THAT(d.flags, IsEmpty()) << id;
  }
  // An auditor with no grant sees nothing.
  EXPECT_FALSE(Decide(Person("ns-auditor-none", v1::ROLE_AUDITOR),
                      "northshire/case-1", ElsewhereCase())
                   .allowed);
}

TEST_F(DecideCaseTest, ExpiredGrantIsRefused) {
  EXPECT_FALSE(Decide(Person("ns-reviewer-old", v1::ROLE_REVIEWER),
                      "northshire/case-1", ElsewhereCase())
                   .allowed);
  EXPECT_FALSE(Decide(Person("ns-auditor-old", v1::ROLE_AUDITOR),
                      "northshire/case-1", ElsewhereCase())
                   .allowed);
  // The grant is void from its expiry time, and good until then.
  const absl::Time expiry = absl::FromUnixSeconds(kNextYear);
  EXPECT_TRUE(Decide(reviewer_, "northshire/case-1", ElsewhereCase(), "",
                     expiry - absl::Seconds(1))
                  .allowed);
  EXPECT_FALSE(
      Decide(reviewer_, "northshire/case-1", ElsewhereCase(), "", expiry)
          .allowed);
}

TEST_F(DecideCaseTest, GrantForAnotherPrincipalIsRefused) {
  EXPECT_FALSE(Decide(Person("ns-reviewer-2", v1::ROLE_REVIEWER),
                      "northshire/case-1", ElsewhereCase())
                   .allowed);
  // The same user id in another tenant does not carry the grant across.
  const Principal namesake =
      Person("ns-reviewer-1", v1::ROLE_REVIEWER, "", "southvale");
  EXPECT_FALSE(Decide(namesake, "southvale/case-1", ElsewhereCase()).allowed);
  // And the southvale reviewer's grant works in southvale only.
  EXPECT_TRUE(Decide(Person("sv-reviewer", v1::ROLE_REVIEWER, "", "southvale"),
                     "southvale/case-1", ElsewhereCase())
                  .allowed);
}

TEST_F(DecideCaseTest, AdministratorIsRefusedEvenWithBreakGlass) {
  const CaseDecision d =
      Decide(administrator_, "northshire/case-1", Allocated("", "ns-admin"));
  EXPECT_FALSE(d.allowed);
  EXPECT_FALSE(
      Decide(administrator_, "northshire/case-1", ElsewhereCase(), kReason)
          .allowed);
}

TEST_F(DecideCaseTest, UpstreamSystemIsAlwaysAllowedInItsTenant) {
  for (v1::RestrictionLevel level :
       {v1::RESTRICTION_LEVEL_UNSPECIFIED, v1::RESTRICTION_LEVEL_RESTRICTED,
        v1::RESTRICTION_LEVEL_SEALED}) {
    const CaseDecision d = Decide(upstream_, "northshire/case-1",
                                  WithRestriction(ElsewhereCase(), level));
    EXPECT_TRUE(d.allowed) << level;
    EXPECT_THAT(d.flags, IsEmpty());
  }
  EXPECT_TRUE(
      Decide(upstream_, "northshire/case-new", CaseAccessFacts()).allowed);
  EXPECT_FALSE(Decide(upstream_, "southvale/case-1", ElsewhereCase()).allowed);
}

TEST_F(DecideCaseTest, UnknownCase) {
  const CaseAccessFacts unknown;
  EXPECT_FALSE(Decide(social_worker_, "northshire/case-9", unknown).allowed);
  const CaseDecision d = Decide(service_manager_, "northshire/case-9", unknown);
  EXPECT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.flags, ElementsAre(v1::ACCESS_FLAG_NO_ALLOCATION));
  // Facts of an unknown case are not trusted: a team that happens to match
  // does not allocate it.
  CaseAccessFacts stale = Allocated("cp-north", "ns-sw-1");
  stale.known = false;
  EXPECT_FALSE(Decide(social_worker_, "northshire/case-9", stale).allowed);
}

TEST_F(DecideCaseTest, RestrictedCaseIsOpenToTheAllocatedTeamFlagged) {
  const CaseAccessFacts restricted = WithRestriction(
      Allocated("cp-north", ""), v1::RESTRICTION_LEVEL_RESTRICTED);
  const CaseDecision d =
      Decide(social_worker_, "northshire/case-1", restricted);
  EXPECT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.flags, ElementsAre(v1::ACCESS_FLAG_RESTRICTED_RECORD));
}

TEST_F(DecideCaseTest, RestrictedCaseRefusesServiceManagerUnlessNamed) {
  CaseAccessFacts restricted =
      WithRestriction(ElsewhereCase(), v1::RESTRICTION_LEVEL_RESTRICTED);
  const CaseDecision refused =
      Decide(service_manager_, "northshire/case-1", restricted);
  EXPECT_FALSE(refused.allowed);
  EXPECT_THAT(refused.refusal, HasSubstr("restricted"));

  CaseAccessFacts by_id = restricted;
  by_id.permitted_user_ids = {"someone-else", "ns-hos-1"};
  const CaseDecision d = Decide(service_manager_, "northshire/case-1", by_id);
  EXPECT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.flags, ElementsAre(v1::ACCESS_FLAG_NO_ALLOCATION,
                                   v1::ACCESS_FLAG_RESTRICTED_RECORD));

  CaseAccessFacts by_role = restricted;
  by_role.permitted_roles = {v1::ROLE_SERVICE_MANAGER};
  EXPECT_TRUE(Decide(service_manager_, "northshire/case-1", by_role).allowed);
  // Naming another role does not help.
  by_role.permitted_roles = {v1::ROLE_TEAM_MANAGER};
  EXPECT_FALSE(Decide(service_manager_, "northshire/case-1", by_role).allowed);
}

TEST_F(DecideCaseTest, SealedCaseRefusesEvenTheAllocatedTeamUnlessNamed) {
  CaseAccessFacts sealed = WithRestriction(Allocated("cp-north", "ns-sw-1"),
                                           v1::RESTRICTION_LEVEL_SEALED);
  const CaseDecision refused =
      Decide(social_worker_, "northshire/case-1", sealed);
  EXPECT_FALSE(refused.allowed);
  EXPECT_THAT(refused.refusal, HasSubstr("sealed"));
  EXPECT_FALSE(Decide(service_manager_, "northshire/case-1", sealed).allowed);
  EXPECT_FALSE(Decide(auditor_all_, "northshire/case-1", sealed).allowed);

  sealed.permitted_user_ids = {"ns-sw-1"};
  const CaseDecision d = Decide(social_worker_, "northshire/case-1", sealed);
  EXPECT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.flags, ElementsAre(v1::ACCESS_FLAG_RESTRICTED_RECORD));
  // Naming one worker opens it to no one else in the team.
  EXPECT_FALSE(Decide(Person("ns-sw-2", v1::ROLE_SOCIAL_WORKER, "cp-north"),
                      "northshire/case-1", sealed)
                   .allowed);
}

TEST_F(DecideCaseTest, NamingSomeoneInARestrictionBringsTheCaseIntoScope) {
  // Sealed because the allocated team is conflicted; a worker of another
  // team is named to hold it, and needs no break-glass.
  CaseAccessFacts sealed =
      WithRestriction(ElsewhereCase(), v1::RESTRICTION_LEVEL_SEALED);
  sealed.permitted_user_ids = {"ns-sw-1"};
  const CaseDecision d = Decide(social_worker_, "northshire/case-1", sealed);
  EXPECT_TRUE(d.allowed) << d.refusal;
  EXPECT_THAT(d.flags, ElementsAre(v1::ACCESS_FLAG_NO_ALLOCATION,
                                   v1::ACCESS_FLAG_RESTRICTED_RECORD));

  // A role named: a panel chair on a case that is not a Channel case.
  CaseAccessFacts by_role =
      WithRestriction(ElsewhereCase(), v1::RESTRICTION_LEVEL_RESTRICTED);
  by_role.permitted_roles = {v1::ROLE_PANEL_CHAIR};
  EXPECT_TRUE(Decide(panel_chair_, "northshire/case-1", by_role).allowed);

  // An administrator sees no case data, named or not.
  CaseAccessFacts admin = sealed;
  admin.permitted_user_ids = {"ns-admin"};
  admin.permitted_roles = {v1::ROLE_ADMINISTRATOR};
  EXPECT_FALSE(Decide(administrator_, "northshire/case-1", admin).allowed);

  // Names left on a case that is no longer restricted open nothing.
  CaseAccessFacts lifted =
      WithRestriction(ElsewhereCase(), v1::RESTRICTION_LEVEL_NONE);
  lifted.permitted_user_ids = {"ns-sw-1"};
  EXPECT_FALSE(Decide(social_worker_, "northshire/case-1", lifted).allowed);
  // Nor does another tenant's restriction naming the person.
  EXPECT_FALSE(Decide(social_worker_, "southvale/case-1", sealed).allowed);
}

TEST_F(DecideCaseTest, BreakGlassDoesNotOpenRestrictedOrSealedRecords) {
  for (v1::RestrictionLevel level :
       {v1::RESTRICTION_LEVEL_RESTRICTED, v1::RESTRICTION_LEVEL_SEALED}) {
    SCOPED_TRACE(level);
    const CaseAccessFacts facts = WithRestriction(ElsewhereCase(), level);
    for (const Principal* p : {&social_worker_, &team_manager_}) {
      const CaseDecision d = Decide(*p, "northshire/case-1", facts, kReason);
      EXPECT_FALSE(d.allowed) << p->id;
      EXPECT_THAT(d.refusal, HasSubstr("break-glass does not open"));
    }
    // A service manager is in scope already; the reason changes nothing.
    EXPECT_FALSE(
        Decide(service_manager_, "northshire/case-1", facts, kReason).allowed);
  }
}

TEST_F(DecideCaseTest, OtherTenantsCaseIsRefused) {
  for (const Principal* p : {&social_worker_, &service_manager_, &auditor_all_,
                             &upstream_, &reviewer_}) {
    for (const char* id :
         {"southvale/case-1", "northshire-evil/case-1", "case-1", ""}) {
      const CaseDecision d =
          Decide(*p, id, Allocated("cp-north", "ns-sw-1"), kReason);
      EXPECT_FALSE(d.allowed) << p->id << " " << id;
      EXPECT_THAT(d.refusal, Not(HasSubstr("exist")));
    }
  }
}

// An information-governance officer filtering the audit on no_allocation
// must see attempts to browse outside one's allocation, not only the reads
// that got through.
TEST_F(DecideCaseTest, RefusalOutsideTheAllocationIsFlaggedNoAllocation) {
  const std::vector<AccessFlag> no_allocation = {v1::ACCESS_FLAG_NO_ALLOCATION};
  struct Case {
    const char* what;
    CaseDecision decision;
  };
  const Case outside[] = {
      {"unallocated, no reason",
       Decide(social_worker_, "northshire/case-1", ElsewhereCase())},
      {"unallocated, short reason",
       Decide(team_manager_, "northshire/case-1", ElsewhereCase(), "urgent")},
      {"sealed, break-glass",
       Decide(social_worker_, "northshire/case-1",
              WithRestriction(ElsewhereCase(), v1::RESTRICTION_LEVEL_SEALED),
              kReason)},
      {"restricted, whole-tenant scope",
       Decide(
           service_manager_, "northshire/case-1",
           WithRestriction(ElsewhereCase(), v1::RESTRICTION_LEVEL_RESTRICTED))},
      {"not yet in the read model",
       Decide(social_worker_, "northshire/case-9", CaseAccessFacts())},
      {"panel chair, not a Channel case",
       Decide(panel_chair_, "northshire/case-1", ElsewhereCase())},
      {"reviewer, case not granted",
       Decide(reviewer_, "northshire/case-3", ElsewhereCase())},
      {"another tenant's case",
       Decide(social_worker_, "southvale/case-1", ElsewhereCase())},
  };
  for (const Case& c : outside) {
    SCOPED_TRACE(c.what);
    EXPECT_FALSE(c.decision.allowed);
    EXPECT_EQ(c.decision.flags, no_allocation);
  }
  // Refused inside the allocation (a sealed case of one's own team, or one
  // granted): not flagged.
  const CaseDecision own_sealed = Decide(
      social_worker_, "northshire/case-1",
      WithRestriction(Allocated("cp-north", ""), v1::RESTRICTION_LEVEL_SEALED));
  EXPECT_FALSE(own_sealed.allowed);
  EXPECT_THAT(own_sealed.flags, IsEmpty());
  const CaseDecision granted_sealed =
      Decide(reviewer_, "northshire/case-1",
             WithRestriction(ElsewhereCase(), v1::RESTRICTION_LEVEL_SEALED));
  EXPECT_FALSE(granted_sealed.allowed);
  EXPECT_THAT(granted_sealed.flags, IsEmpty());
}

TEST_F(DecideCaseTest, ConfiguredBreakGlassRolesAndMinimumApply) {
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> policy =
      FromText(FullText() + R"cfg(
        break_glass_roles: [ ROLE_SOCIAL_WORKER ]
        min_break_glass_reason: 30
      )cfg");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const std::string reason29(29, 'r');
  const std::string reason30(30, 'r');
  EXPECT_FALSE((*policy)
                   ->DecideCase(social_worker_, "northshire/case-1",
                                ElsewhereCase(), reason29, kNow)
                   .allowed);
  EXPECT_TRUE((*policy)
                  ->DecideCase(social_worker_, "northshire/case-1",
                               ElsewhereCase(), reason30, kNow)
                  .allowed);
  // Team managers are no longer a break-glass role, and are not told of it.
  const CaseDecision tm = (*policy)->DecideCase(
      team_manager_, "northshire/case-1", ElsewhereCase(), reason30, kNow);
  EXPECT_FALSE(tm.allowed);
  EXPECT_THAT(tm.refusal, Not(HasSubstr("break-glass")));
}

// --- HasTenantWideScope ---

TEST_F(PolicyTest, TenantWideScope) {
  const SecurityPolicy& policy = Policy();
  EXPECT_TRUE(policy.HasTenantWideScope(
      Person("mosaic", v1::ROLE_UPSTREAM_SYSTEM), kNow));
  EXPECT_TRUE(policy.HasTenantWideScope(
      Person("ns-hos-1", v1::ROLE_SERVICE_MANAGER), kNow));
  EXPECT_TRUE(policy.HasTenantWideScope(
      Person("ns-auditor-all", v1::ROLE_AUDITOR), kNow));
  EXPECT_TRUE(policy.HasTenantWideScope(
      Person("ns-auditor-all", v1::ROLE_REVIEWER), kNow));

  EXPECT_FALSE(policy.HasTenantWideScope(
      Person("ns-sw-1", v1::ROLE_SOCIAL_WORKER, "cp-north"), kNow));
  EXPECT_FALSE(policy.HasTenantWideScope(
      Person("ns-tm-1", v1::ROLE_TEAM_MANAGER, "cp-north"), kNow));
  EXPECT_FALSE(policy.HasTenantWideScope(
      Person("ns-chair", v1::ROLE_PANEL_CHAIR), kNow));
  EXPECT_FALSE(policy.HasTenantWideScope(
      Person("ns-admin", v1::ROLE_ADMINISTRATOR), kNow));
  EXPECT_FALSE(policy.HasTenantWideScope(
      Person("ns-reviewer-1", v1::ROLE_REVIEWER), kNow));
  EXPECT_FALSE(policy.HasTenantWideScope(
      Person("ns-auditor-old", v1::ROLE_AUDITOR), kNow));
  // The all_cases grant is Northshire's.
  EXPECT_FALSE(policy.HasTenantWideScope(
      Person("ns-auditor-all", v1::ROLE_AUDITOR, "", "southvale"), kNow));
  // A social worker whose id has an all_cases grant gets no wider scope.
  EXPECT_FALSE(policy.HasTenantWideScope(
      Person("ns-auditor-all", v1::ROLE_SOCIAL_WORKER), kNow));
}

// --- ScopeLogRead and CheckProofScope ---

// The principals of DecideCaseTest, plus the edges of the tenant-wide scope.
class ScopePolicyTest : public DecideCaseTest {
 protected:
  absl::StatusOr<LogScope> ReadLog(const Principal& p,
                                   absl::string_view prefix) const {
    return Policy().ScopeLogRead(p, prefix, /*subscription=*/false, kNow);
  }
  absl::StatusOr<LogScope> Subscribe(const Principal& p,
                                     absl::string_view prefix) const {
    return Policy().ScopeLogRead(p, prefix, /*subscription=*/true, kNow);
  }

  // A reviewer id with an all-cases grant: tenant-wide, but not an auditor.
  const Principal reviewer_all_ = Person("ns-auditor-all", v1::ROLE_REVIEWER);
  // An auditor whose all-cases grant expired yesterday.
  const Principal auditor_expired_ = Person("ns-auditor-old", v1::ROLE_AUDITOR);
  const Principal auditor_no_grant_ = Person("ns-auditor-2", v1::ROLE_AUDITOR);
};

TEST_F(ScopePolicyTest, LogReadWithoutTenantWideScopeIsRefused) {
  for (const Principal* p :
       {&social_worker_, &team_manager_, &panel_chair_, &reviewer_,
        &administrator_, &auditor_expired_, &auditor_no_grant_}) {
    for (bool subscription : {false, true}) {
      SCOPED_TRACE(absl::StrCat(p->id, subscription ? " subscribing" : ""));
      const absl::StatusOr<LogScope> scope =
          Policy().ScopeLogRead(*p, "northshire/_access", subscription, kNow);
      ASSERT_FALSE(scope.ok());
      EXPECT_TRUE(absl::IsPermissionDenied(scope.status())) << scope.status();
      EXPECT_THAT(Text(scope.status().message()),
                  HasSubstr("a scope of every case of your tenant"));
    }
  }
}

TEST_F(ScopePolicyTest, EmptyPrefixOrOneTheTenantExtendsBecomesTheTenant) {
  for (const Principal* p : {&upstream_, &service_manager_, &auditor_all_}) {
    for (const char* prefix : {"", "n", "nor", "northshire", "northshire/"}) {
      SCOPED_TRACE(absl::StrCat(p->id, " '", prefix, "'"));
      const absl::StatusOr<LogScope> scope = ReadLog(*p, prefix);
      ASSERT_TRUE(scope.ok()) << scope.status();
      EXPECT_EQ(scope->stream_prefix, "northshire/");
    }
  }
}

TEST_F(ScopePolicyTest, PrefixInsideTheTenantIsKept) {
  for (const char* prefix : {"northshire/case-", "northshire/case-1",
                             "northshire/_access", "northshire/_"}) {
    const absl::StatusOr<LogScope> scope = ReadLog(auditor_all_, prefix);
    ASSERT_TRUE(scope.ok()) << prefix << ": " << scope.status();
    EXPECT_EQ(scope->stream_prefix, prefix);
  }
}

TEST_F(ScopePolicyTest, AnotherTenantsPrefixIsRefusedNamingThePrefix) {
  for (const Principal* p : {&upstream_, &service_manager_, &auditor_all_}) {
    for (const char* prefix :
         {"southvale/", "southvale", "s", "northshire2/", "northshirex",
          "northshire-evil/case-", "/northshire/", "NORTHSHIRE/",
          "southvale/_access"}) {
      for (bool subscription : {false, true}) {
        SCOPED_TRACE(absl::StrCat(p->id, " '", prefix, "'",
                                  subscription ? " subscribing" : ""));
        const absl::StatusOr<LogScope> scope =
            Policy().ScopeLogRead(*p, prefix, subscription, kNow);
        ASSERT_FALSE(scope.ok());
        EXPECT_TRUE(absl::IsPermissionDenied(scope.status())) << scope.status();
        EXPECT_THAT(Text(scope.status().message()),
                    HasSubstr(absl::StrCat("stream prefix '", prefix,
                                           "' is outside your tenant")));
        EXPECT_THAT(Text(scope.status().message()), HasSubstr("northshire/"));
      }
    }
  }
}

TEST_F(ScopePolicyTest, AccessAuditIsLeftOutOfLogReadsForAllButAuditors) {
  for (const Principal* p : {&upstream_, &service_manager_, &reviewer_all_}) {
    for (const char* prefix : {"", "northshire/", "northshire/_access"}) {
      SCOPED_TRACE(absl::StrCat(p->id, " '", prefix, "'"));
      const absl::StatusOr<LogScope> scope = ReadLog(*p, prefix);
      ASSERT_TRUE(scope.ok()) << scope.status();
      EXPECT_EQ(scope->exclude_stream_prefix, "northshire/_");
    }
  }
  for (const char* prefix : {"", "northshire/", "northshire/_access"}) {
    const absl::StatusOr<LogScope> scope = ReadLog(auditor_all_, prefix);
    ASSERT_TRUE(scope.ok()) << prefix << ": " << scope.status();
    EXPECT_THAT(scope->exclude_stream_prefix, IsEmpty()) << prefix;
  }
}

TEST_F(ScopePolicyTest, PeopleSubscribeOnlyWithExactlyTheAccessAuditPrefix) {
  const absl::StatusOr<LogScope> audit =
      Subscribe(auditor_all_, "northshire/_access");
  ASSERT_TRUE(audit.ok()) << audit.status();
  EXPECT_EQ(audit->stream_prefix, "northshire/_access");
  EXPECT_THAT(audit->exclude_stream_prefix, IsEmpty());
  for (const Principal* p : {&auditor_all_, &service_manager_}) {
    SCOPED_TRACE(p->id);
    for (const char* prefix :
         {"", "nor", "northshire", "northshire/", "northshire/_",
          "northshire/_acc", "northshire/_accessx", "northshire/_access/",
          "northshire/case-1"}) {
      SCOPED_TRACE(absl::StrCat("'", prefix, "'"));
      const absl::StatusOr<LogScope> scope = Subscribe(*p, prefix);
      ASSERT_FALSE(scope.ok());
      EXPECT_TRUE(absl::IsPermissionDenied(scope.status())) << scope.status();
      EXPECT_THAT(Text(scope.status().message()),
                  HasSubstr("with stream prefix exactly "
                            "\"northshire/_access\""));
    }
  }
}

TEST_F(ScopePolicyTest, OnlyAnAuditorSubscribesToTheAccessAudit) {
  // A service manager has the tenant-wide scope, but the audit is left out
  // of everything they read: their subscription would deliver nothing.
  const absl::StatusOr<LogScope> scope =
      Subscribe(service_manager_, "northshire/_access");
  ASSERT_FALSE(scope.ok());
  EXPECT_TRUE(absl::IsPermissionDenied(scope.status())) << scope.status();
  EXPECT_THAT(Text(scope.status().message()),
              HasSubstr("the access audit is for auditors"));
}

TEST_F(ScopePolicyTest, UpstreamSystemSubscribesToAnythingInItsTenant) {
  for (const char* prefix :
       {"", "nor", "northshire/", "northshire/case-", "northshire/_access"}) {
    SCOPED_TRACE(absl::StrCat("'", prefix, "'"));
    const absl::StatusOr<LogScope> scope = Subscribe(upstream_, prefix);
    ASSERT_TRUE(scope.ok()) << scope.status();
    EXPECT_THAT(scope->stream_prefix, ::testing::StartsWith("northshire/"));
    EXPECT_EQ(scope->exclude_stream_prefix, "northshire/_");
  }
  EXPECT_EQ(Subscribe(upstream_, "")->stream_prefix, "northshire/");
}

TEST_F(ScopePolicyTest, ProofOfAnotherTenantsEventIsRefused) {
  for (const Principal* p : {&upstream_, &service_manager_, &auditor_all_,
                             &reviewer_, &social_worker_}) {
    for (const char* stream :
         {"southvale/case-1", "southvale/_access", "northshire-evil/case-1",
          "NORTHSHIRE/case-1", "case-1", ""}) {
      SCOPED_TRACE(absl::StrCat(p->id, " '", stream, "'"));
      const absl::Status s = Policy().CheckProofScope(*p, stream, kNow);
      EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
      EXPECT_THAT(Text(s.message()), HasSubstr("another tenant's"));
    }
  }
}

TEST_F(ScopePolicyTest, ProofOfAnAccessAuditEventOnlyForAWholeTenantAuditor) {
  EXPECT_TRUE(
      Policy().CheckProofScope(auditor_all_, "northshire/_access", kNow).ok());
  for (const Principal* p :
       {&auditor_expired_, &auditor_no_grant_, &reviewer_all_,
        &service_manager_, &upstream_, &social_worker_, &administrator_}) {
    for (const char* stream : {"northshire/_access", "northshire/_other"}) {
      SCOPED_TRACE(absl::StrCat(p->id, " ", stream));
      const absl::Status s = Policy().CheckProofScope(*p, stream, kNow);
      EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
      EXPECT_THAT(Text(s.message()),
                  HasSubstr("only auditors with a grant of all cases"));
    }
  }
  // The grant has to be in force at `now`.
  const absl::Status before_expiry = Policy().CheckProofScope(
      auditor_expired_, "northshire/_access",
      absl::FromUnixSeconds(kYesterday) - absl::Hours(1));
  EXPECT_TRUE(before_expiry.ok()) << before_expiry;
}

TEST_F(ScopePolicyTest, ProofOfACaseOfTheTenantIsLeftToDecideCase) {
  // Whether the case is open to them is DecideCase's answer, not this one.
  for (const Principal* p :
       {&social_worker_, &team_manager_, &panel_chair_, &reviewer_,
        &auditor_all_, &auditor_no_grant_, &administrator_, &upstream_}) {
    for (const char* stream : {"northshire/case-1", "northshire/case-99"}) {
      const absl::Status s = Policy().CheckProofScope(*p, stream, kNow);
      EXPECT_TRUE(s.ok()) << p->id << " " << stream << ": " << s;
    }
  }
}

TEST_F(ExampleConfigTest, ShippedExampleScopesTheIgOfficersLogReadsAndProofs) {
  const SecurityPolicy& policy = Example();
  Principal ig_officer = WithRole(v1::ROLE_AUDITOR);
  ig_officer.id = "ns-ig-officer";
  const absl::StatusOr<LogScope> log =
      policy.ScopeLogRead(ig_officer, "", /*subscription=*/false, kNow);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->stream_prefix, "northshire/");
  EXPECT_THAT(log->exclude_stream_prefix, IsEmpty());
  EXPECT_TRUE(policy
                  .ScopeLogRead(ig_officer, "northshire/_access",
                                /*subscription=*/true, kNow)
                  .ok());
  EXPECT_TRUE(
      policy.CheckProofScope(ig_officer, "northshire/_access", kNow).ok());
  EXPECT_TRUE(absl::IsPermissionDenied(
      policy.CheckProofScope(ig_officer, "southvale/_access", kNow)));

  // The example's reviewer has a grant of one case: no log, no audit.
  Principal reviewer = WithRole(v1::ROLE_REVIEWER);
  reviewer.id = "ns-reviewer-1";
  EXPECT_TRUE(absl::IsPermissionDenied(
      policy.ScopeLogRead(reviewer, "", /*subscription=*/false, kNow)
          .status()));
  EXPECT_TRUE(absl::IsPermissionDenied(
      policy.CheckProofScope(reviewer, "northshire/_access", kNow)));
  EXPECT_TRUE(
      policy.CheckProofScope(reviewer, "northshire/case-NS-0001", kNow).ok());
}

// --- JWKS files and ReloadKeys ---

// Northshire's issuer with its keys in keys/ns.jwks (and optionally a PEM
// key too).
class IssuerKeysTest : public PolicyTest {
 protected:
  static std::string ConfigText(const std::string& keys) {
    return absl::StrCat(TenantsText(), R"cfg(
      token_issuers {
        issuer: "https://idp.northshire.test"
        audience: "casetrail"
        )cfg",
                        keys, R"cfg(
        tenants: "northshire"
      }
    )cfg",
                        PurposesText());
  }
  void WriteJwks(const std::vector<std::pair<std::string, KeyPairPem*>>& keys) {
    std::vector<std::string> jwks;
    for (const auto& [kid, key] : keys) {
      jwks.push_back(testing::PublicJwk(key->public_key_pem, kid));
    }
    WriteWholeFile(dir_.Sub("keys/ns.jwks"), testing::JwkSet(jwks));
  }
  absl::StatusOr<Principal> Authenticate(const SecurityPolicy& policy,
                                         const KeyPairPem& key,
                                         const std::string& kid) {
    return policy.AuthenticateToken(Sign(Claims(), key, kid), kNow);
  }

  KeyPairPem key_a_ = NewKeyPair();
  KeyPairPem key_b_ = NewKeyPair();
};

TEST_F(IssuerKeysTest, TokensOfAJwksKeyAuthenticateByKid) {
  WriteJwks({{"a", &key_a_}, {"b", &key_b_}});
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> policy =
      FromText(ConfigText(R"cfg(jwks_file: "keys/ns.jwks")cfg"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(Authenticate(**policy, key_a_, "a").ok());
  EXPECT_TRUE(Authenticate(**policy, key_b_, "b").ok());
  const absl::StatusOr<Principal> unknown = Authenticate(**policy, key_a_, "c");
  EXPECT_TRUE(absl::IsUnauthenticated(unknown.status())) << unknown.status();
  EXPECT_THAT(Text(unknown.status().message()),
              HasSubstr("key id 'c' is not one of the keys"));
  // PEM keys and a JWKS file together.
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> both = FromText(ConfigText(
      R"cfg(keys { key_id: "ns-1" public_key_file: "keys/ns.pub" }
            jwks_file: "keys/ns.jwks")cfg"));
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_TRUE(Authenticate(**both, northshire_key_, "ns-1").ok());
  EXPECT_TRUE(Authenticate(**both, key_b_, "b").ok());
}

TEST_F(IssuerKeysTest, IssuerWithoutKeysOrJwksIsRefused) {
  ExpectInvalid(FromText(ConfigText("")), "keys or jwks_file");
}

TEST_F(IssuerKeysTest, BadJwksFileIsRefusedNamingIt) {
  ExpectInvalid(FromText(ConfigText(R"cfg(jwks_file: "keys/absent.jwks")cfg")),
                "keys/absent.jwks");
  WriteWholeFile(dir_.Sub("keys/ns.jwks"),
                 testing::JwkSet({testing::PublicJwk(key_a_.public_key_pem, "a",
                                                     R"("alg":"ES256")")}));
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> p =
      FromText(ConfigText(R"cfg(jwks_file: "keys/ns.jwks")cfg"));
  ExpectInvalid(p, dir_.Sub("keys/ns.jwks"));
  ExpectInvalid(p, "key #1 (kid 'a'): 'alg' is 'ES256'");
  ExpectInvalid(p, kNorthshireIssuer);
  // A kid that is also a PEM key's.
  WriteJwks({{"ns-1", &key_a_}});
  ExpectInvalid(FromText(ConfigText(
                    R"cfg(keys { key_id: "ns-1" public_key_file: "keys/ns.pub" }
                          jwks_file: "keys/ns.jwks")cfg")),
                "lists key 'ns-1' twice");
}

TEST_F(IssuerKeysTest, ReloadKeysSwapsKeysAndForgetsVerifiedTokens) {
  WriteJwks({{"a", &key_a_}});
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> policy =
      FromText(ConfigText(R"cfg(jwks_file: "keys/ns.jwks")cfg"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  const std::string token_a = Sign(Claims(), key_a_, "a");
  const std::string token_b = Sign(Claims(), key_b_, "b");
  ASSERT_TRUE((*policy)->AuthenticateToken(token_a, kNow).ok());  // cached
  EXPECT_TRUE(absl::IsUnauthenticated(
      (*policy)->AuthenticateToken(token_b, kNow).status()));

  // Rotation: b added, a removed.
  WriteJwks({{"b", &key_b_}});
  ASSERT_TRUE((*policy)->ReloadKeys().ok());
  const absl::StatusOr<Principal> removed =
      (*policy)->AuthenticateToken(token_a, kNow);
  EXPECT_TRUE(absl::IsUnauthenticated(removed.status())) << removed.status();
  EXPECT_THAT(Text(removed.status().message()), HasSubstr("key id 'a'"));
  EXPECT_TRUE((*policy)->AuthenticateToken(token_b, kNow).ok());
}

TEST_F(IssuerKeysTest, ABadFileOnReloadKeepsTheKeysInUse) {
  WriteJwks({{"a", &key_a_}});
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> policy = FromText(ConfigText(
      R"cfg(keys { key_id: "ns-1" public_key_file: "keys/ns.pub" }
            jwks_file: "keys/ns.jwks")cfg"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  const std::string token_a = Sign(Claims(), key_a_, "a");
  struct Case {
    const char* what;
    std::string file;
    std::string text;
    const char* naming;
  };
  const Case cases[] = {
      {"JWKS not JSON", "keys/ns.jwks", "{\"keys\": [", "not valid JSON"},
      {"JWKS with a private key", "keys/ns.jwks",
       testing::JwkSet(
           {testing::PublicJwk(key_b_.public_key_pem, "b", R"("d":"AAAA")")}),
       "private-key member 'd'"},
      {"JWKS empty", "keys/ns.jwks", "  \n", "keys/ns.jwks"},
      {"PEM key garbage", "keys/ns.pub", "not a key\n", "key 'ns-1'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string before = ReadWholeFile(dir_.Sub(c.file));
    WriteWholeFile(dir_.Sub(c.file), c.text);
    const absl::Status reloaded = (*policy)->ReloadKeys();
    EXPECT_TRUE(absl::IsInvalidArgument(reloaded)) << reloaded;
    EXPECT_THAT(Text(reloaded.message()), HasSubstr(c.naming));
    // The keys in use are kept.
    EXPECT_TRUE((*policy)->AuthenticateToken(token_a, kNow).ok());
    EXPECT_TRUE(Authenticate(**policy, northshire_key_, "ns-1").ok());
    WriteWholeFile(dir_.Sub(c.file), before);
  }
  std::filesystem::remove(dir_.Sub("keys/ns.jwks"));
  EXPECT_TRUE(absl::IsInvalidArgument((*policy)->ReloadKeys()));
  EXPECT_TRUE((*policy)->AuthenticateToken(token_a, kNow).ok());
}

TEST_F(IssuerKeysTest, PemKeyFilesAreReloadedToo) {
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> policy = FromText(ConfigText(
      R"cfg(keys { key_id: "ns-1" public_key_file: "keys/ns.pub" })cfg"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(Authenticate(**policy, northshire_key_, "ns-1").ok());
  WriteWholeFile(dir_.Sub("keys/ns.pub"), key_a_.public_key_pem);
  ASSERT_TRUE((*policy)->ReloadKeys().ok());
  EXPECT_TRUE(Authenticate(**policy, key_a_, "ns-1").ok());
  EXPECT_FALSE(Authenticate(**policy, northshire_key_, "ns-1").ok());
}

// Authentication goes on on four threads while the keys are swapped back and
// forth: every answer is one of the two key sets', and after the last reload
// only its key is accepted.
TEST_F(IssuerKeysTest, ReloadWhileAuthenticatingOnOtherThreads) {
  WriteJwks({{"a", &key_a_}});
  absl::StatusOr<std::unique_ptr<SecurityPolicy>> policy =
      FromText(ConfigText(R"cfg(jwks_file: "keys/ns.jwks")cfg"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  const SecurityPolicy& p = **policy;
  const std::string tokens[] = {Sign(Claims(), key_a_, "a"),
                                Sign(Claims(), key_b_, "b")};
  std::atomic<bool> stop{false};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      while (!stop.load()) {
        const absl::Status s =
            p.AuthenticateToken(tokens[t % 2], kNow).status();
        if (!s.ok() && !absl::IsUnauthenticated(s)) unexpected.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 40; ++i) {
    if (i % 2 == 0) {
      WriteJwks({{"b", &key_b_}});
    } else {
      WriteJwks({{"a", &key_a_}});
    }
    ASSERT_TRUE((*policy)->ReloadKeys().ok());
  }
  stop.store(true);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  // The last set holds a only.
  EXPECT_TRUE(p.AuthenticateToken(tokens[0], kNow).ok());
  EXPECT_FALSE(p.AuthenticateToken(tokens[1], kNow).ok());
}

// --- CheckSubscriptionPrefix ---

TEST(SubscriptionPrefixTest, PeopleSubscribeOnlyToExactlyTheAccessAudit) {
  for (Role role : kAllRoles) {
    if (role == v1::ROLE_UPSTREAM_SYSTEM) continue;
    SCOPED_TRACE(RoleName(role));
    const Principal person = Person("ns-someone", role, "cp-north");
    EXPECT_TRUE(CheckSubscriptionPrefix(person, "northshire/_access").ok());
    for (const char* prefix :
         {"northshire/_", "northshire/_acc", "northshire/_access2",
          "northshire/_accessx", "northshire/_access/", "northshire/",
          "northshire", "", "northshire/case-1", "southvale/_access",
          "northshire/_ACCESS"}) {
      SCOPED_TRACE(prefix);
      const absl::Status s = CheckSubscriptionPrefix(person, prefix);
      EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
      EXPECT_THAT(Text(s.message()),
                  HasSubstr("exactly \"northshire/_access\""));
    }
  }
}

TEST(SubscriptionPrefixTest, UpstreamSystemsSubscribeToTheirTenant) {
  Principal system = Person("mosaic-northshire", v1::ROLE_UPSTREAM_SYSTEM);
  system.kind = Principal::Kind::kSystem;
  for (const char* prefix :
       {"northshire/", "northshire/case-", "northshire/_access"}) {
    EXPECT_TRUE(CheckSubscriptionPrefix(system, prefix).ok()) << prefix;
  }
}

// --- Role names ---

TEST(RoleNameTest, RoundTripsEveryRole) {
  for (Role role : kAllRoles) {
    const std::string name = RoleName(role);
    EXPECT_EQ(RoleFromName(name), role) << name;
    EXPECT_THAT(name, Not(HasSubstr("ROLE"))) << name;
  }
  EXPECT_EQ(RoleName(v1::ROLE_SOCIAL_WORKER), "social_worker");
  EXPECT_EQ(RoleName(v1::ROLE_UPSTREAM_SYSTEM), "upstream_system");
}

TEST(RoleNameTest, OnlyLowerCaseNamesOfTheEightRolesParse) {
  for (const char* name :
       {"", "unspecified", "ROLE_SOCIAL_WORKER", "Social_Worker",
        "role_social_worker", "SOCIAL_WORKER", "socialworker", "admin",
        "social_worker ", "role_unspecified"}) {
    EXPECT_EQ(RoleFromName(name), v1::ROLE_UNSPECIFIED) << "'" << name << "'";
  }
}

}  // namespace
}  // namespace casetrail::security
