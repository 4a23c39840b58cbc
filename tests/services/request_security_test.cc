// RequestSecurity::DecideCase against a real event store and read model: a
// case that is in the log but whose access facts the read model does not hold
// (first start after an upgrade, a rebuild, a case not yet folded) is shown to
// nobody but its upstream system: its restriction is not known either.

#include "services/request_security.h"

#include <filesystem>
#include <memory>
#include <string>

#include "casetrail/v1/projections.pb.h"
#include "eventstore/event_store.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "projections/read_model.h"
#include "security/jwt.h"
#include "security/policy.h"
#include "tests/testing/case_events.h"
#include "tests/testing/server_process.h"

namespace casetrail::services {
namespace {

namespace v1 = casetrail::v1;

constexpr char kCase[] = "northshire/case-1";

class DecideCaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    eventstore::StoreOptions options;
    options.path = dir_.Sub("log");
    options.sync = false;
    absl::StatusOr<std::unique_ptr<eventstore::EventStore>> store =
        eventstore::EventStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_
                    ->Append(testing::MakeStoreAppend(
                        kCase, eventstore::ExpectedVersion::Any(),
                        {testing::MakeProposedEvent(kCase, "e1")}))
                    .ok());
    absl::StatusOr<std::unique_ptr<projections::ReadModelStore>> read_model =
        projections::ReadModelStore::Open(dir_.Sub("readmodels"), "test");
    ASSERT_TRUE(read_model.ok()) << read_model.status();
    read_model_ = *std::move(read_model);

    absl::StatusOr<security::KeyPairPem> key =
        security::GenerateEd25519KeyPair();
    ASSERT_TRUE(key.ok());
    testing::WriteWholeFile(dir_.Sub("idp.pub"), key->public_key_pem);
    v1::SecurityConfig config;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        R"pb(
          tenants { id: "northshire" }
          token_issuers {
            issuer: "https://idp.example"
            audience: "casetrail"
            keys { key_id: "k" public_key_file: "idp.pub" }
            tenants: "northshire"
          }
          purposes: "direct-work"
        )pb",
        &config));
    absl::StatusOr<std::unique_ptr<security::SecurityPolicy>> policy =
        security::SecurityPolicy::FromConfig(config, dir_.path());
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = *std::move(policy);
    security_ = std::make_unique<RequestSecurity>(
        policy_.get(), store_.get(), read_model_.get(), /*runner=*/nullptr);
  }

  CallSecurity Call(v1::Role role, const std::string& id = "someone") {
    CallSecurity call;
    call.enabled = true;
    call.principal.id = id;
    call.principal.role = role;
    call.principal.team = "Team A";
    call.principal.tenant = "northshire";
    call.purpose = "direct-work";
    return call;
  }

  // The runner's commit of `case_id`'s model, sealed to `named`.
  void FoldSealed(const std::string& case_id, const std::string& named) {
    v1::CaseModel model;
    model.mutable_state()->set_case_id(case_id);
    model.mutable_state()->mutable_allocation()->set_team("Team A");
    model.mutable_state()->set_restriction(v1::RESTRICTION_LEVEL_SEALED);
    model.mutable_state()->add_restriction_permitted_user_ids(named);
    projections::ReadModelStore::Batch batch;
    batch.models.push_back(&model);
    batch.next_position = store_->LogSize();
    ASSERT_TRUE(read_model_->Commit(batch).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<projections::ReadModelStore> read_model_;
  std::unique_ptr<security::SecurityPolicy> policy_;
  std::unique_ptr<RequestSecurity> security_;
};

TEST_F(DecideCaseTest, ACaseInTheLogWithUnknownFactsIsShownToNobody) {
  for (v1::Role role :
       {v1::ROLE_SERVICE_MANAGER, v1::ROLE_SOCIAL_WORKER, v1::ROLE_AUDITOR}) {
    CallSecurity call = Call(role);
    call.break_glass_reason = "an emergency out of hours, worker unavailable";
    absl::StatusOr<security::CaseDecision> decision =
        security_->DecideCase(call, kCase);
    ASSERT_FALSE(decision.ok()) << v1::Role_Name(role);
    EXPECT_TRUE(absl::IsUnavailable(decision.status())) << decision.status();
  }
  // Its source system still may.
  absl::StatusOr<security::CaseDecision> upstream =
      security_->DecideCase(Call(v1::ROLE_UPSTREAM_SYSTEM), kCase);
  ASSERT_TRUE(upstream.ok());
  EXPECT_TRUE(upstream->allowed);
}

TEST_F(DecideCaseTest, OnceFoldedTheRestrictionDecides) {
  FoldSealed(kCase, "named-person");
  absl::StatusOr<security::CaseDecision> manager =
      security_->DecideCase(Call(v1::ROLE_SERVICE_MANAGER), kCase);
  ASSERT_TRUE(manager.ok()) << manager.status();
  EXPECT_FALSE(manager->allowed);
  absl::StatusOr<security::CaseDecision> allocated =
      security_->DecideCase(Call(v1::ROLE_SOCIAL_WORKER), kCase);
  ASSERT_TRUE(allocated.ok());
  EXPECT_FALSE(allocated->allowed) << "sealed: the team is not enough";
  absl::StatusOr<security::CaseDecision> named = security_->DecideCase(
      Call(v1::ROLE_SOCIAL_WORKER, "named-person"), kCase);
  ASSERT_TRUE(named.ok());
  EXPECT_TRUE(named->allowed);
}

TEST_F(DecideCaseTest, ACaseNotInTheLogHasNothingToShow) {
  // A service manager may ask; the query then answers NOT_FOUND.
  absl::StatusOr<security::CaseDecision> manager =
      security_->DecideCase(Call(v1::ROLE_SERVICE_MANAGER), "northshire/none");
  ASSERT_TRUE(manager.ok()) << manager.status();
  EXPECT_TRUE(manager->allowed);
  // A social worker has no allocation for it.
  absl::StatusOr<security::CaseDecision> worker =
      security_->DecideCase(Call(v1::ROLE_SOCIAL_WORKER), "northshire/none");
  ASSERT_TRUE(worker.ok());
  EXPECT_FALSE(worker->allowed);
}

TEST_F(DecideCaseTest, ServerStreamsAndOtherTenantsAreRefusedFromTheRequest) {
  absl::StatusOr<security::CaseDecision> audit = security_->DecideCase(
      Call(v1::ROLE_SERVICE_MANAGER), "northshire/_access");
  ASSERT_TRUE(audit.ok());
  EXPECT_FALSE(audit->allowed);
  absl::StatusOr<security::CaseDecision> other =
      security_->DecideCase(Call(v1::ROLE_SERVICE_MANAGER), "southvale/case-1");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->allowed);
  EXPECT_TRUE(absl::IsInvalidArgument(security_->CheckWrite(
      Call(v1::ROLE_UPSTREAM_SYSTEM), "northshire/_access")));
  EXPECT_TRUE(absl::IsPermissionDenied(security_->CheckWrite(
      Call(v1::ROLE_UPSTREAM_SYSTEM), "southvale/case-1")));
  EXPECT_TRUE(
      security_->CheckWrite(Call(v1::ROLE_UPSTREAM_SYSTEM), kCase).ok());
}

}  // namespace
}  // namespace casetrail::services
