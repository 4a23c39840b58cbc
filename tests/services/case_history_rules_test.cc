// The rules checked against a case's history: corrections and the like target
// an event of the same case; Channel support needs consent recorded and not
// since withdrawn. And PrepareAppend on a real store: FAILED_PRECONDITION with
// the violation, nothing written, and the expected version pinned to the
// version the check read.

#include "services/case_history_rules.h"

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "eventstore/stored_event.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/case_fold.h"
#include "services/append_preparation.h"
#include "tests/testing/case_events.h"
#include "tests/testing/event_store_fixture.h"

namespace casetrail::services {
namespace {

using casetrail::testing::MakeAppendRequest;
using casetrail::testing::MakeCaseEvent;
using casetrail::v1::AppendEventsRequest;
using casetrail::v1::CaseEvent;
using casetrail::v1::ExpectedVersion;
using casetrail::v1::RecordedEvent;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A typed event with the envelope a typed event needs.
CaseEvent Typed(const std::string& id, const std::string& type) {
  CaseEvent e = MakeCaseEvent(id, type, "{}");
  e.clear_opaque();
  e.set_jurisdiction(casetrail::v1::JURISDICTION_ENGLAND);
  e.mutable_source()->set_provenance(
      casetrail::v1::Source::PROVENANCE_FIRST_HAND);
  return e;
}

casetrail::v1::DecisionMaker Manager() {
  casetrail::v1::DecisionMaker m;
  m.set_id("tm-7");
  m.set_name("T. Manager");
  m.set_role("Team Manager");
  m.set_authority_level(casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  return m;
}

CaseEvent Correction(const std::string& id, const std::string& target) {
  CaseEvent e = Typed(id, "RecordCorrected");
  auto* c = e.mutable_record_corrected();
  c->set_target_event_id(target);
  c->set_field_path("contact_received.concern");
  c->set_old_value("bruise on left arm");
  c->set_new_value("bruise on right arm");
  c->set_reason("transcription error");
  c->set_source("school nurse");
  *c->mutable_approved_by() = Manager();
  return e;
}

CaseEvent Consent(const std::string& id, const std::string& channel_case,
                  casetrail::v1::ConsentStatus status) {
  CaseEvent e = Typed(id, "ChannelConsentRecorded");
  auto* c = e.mutable_channel_consent_recorded();
  c->set_channel_case_id(channel_case);
  c->set_giver(casetrail::v1::CHANNEL_CONSENT_GIVER_PARENT_OR_GUARDIAN);
  c->set_giver_name("A. Parent");
  c->set_how_sought("home visit with the Channel coordinator");
  c->set_status(status);
  return e;
}

CaseEvent Plan(const std::string& id, const std::string& channel_case,
               const std::string& consent_event = "") {
  CaseEvent e = Typed(id, "SupportPlanAgreed");
  auto* p = e.mutable_support_plan_agreed();
  p->set_channel_case_id(channel_case);
  p->set_plan_id("plan-1");
  p->set_consent_event_id(consent_event);
  p->add_support();
  return e;
}

std::vector<RecordedEvent> History(std::vector<CaseEvent> events) {
  std::vector<RecordedEvent> history;
  for (CaseEvent& e : events) {
    RecordedEvent r;
    r.set_stream_version(history.size() + 1);
    *r.mutable_event() = std::move(e);
    history.push_back(std::move(r));
  }
  return history;
}

AppendEventsRequest Request(std::vector<CaseEvent> events) {
  return MakeAppendRequest("case-1", ExpectedVersion::KIND_ANY,
                           std::move(events), 0);
}

TEST(CaseHistoryRulesTest, OnlyTargetingAndSupportEventsNeedHistory) {
  EXPECT_FALSE(NeedsHistory(Request({MakeCaseEvent("e1", "Note", "{}")})));
  EXPECT_FALSE(NeedsHistory(
      Request({Consent("c1", "ch-1", casetrail::v1::CONSENT_STATUS_GIVEN)})));
  EXPECT_TRUE(NeedsHistory(Request({Correction("x", "e1")})));
  EXPECT_TRUE(NeedsHistory(Request({Plan("p", "ch-1")})));
}

TEST(CaseHistoryRulesTest, ACorrectionTargetsAnEventOfTheSameCase) {
  const auto history = History({MakeCaseEvent("e1", "ContactReceived", "{}")});
  EXPECT_THAT(CheckAgainstHistory(Request({Correction("x", "e1")}), history),
              IsEmpty());
  const auto violations =
      CheckAgainstHistory(Request({Correction("x", "elsewhere")}), history);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "events[0].record_corrected.target_event_id");
  EXPECT_THAT(violations[0].description, HasSubstr("elsewhere"));
  EXPECT_THAT(violations[0].description, HasSubstr("case-1"));
  // An event earlier in the same append counts.
  EXPECT_THAT(CheckAgainstHistory(Request({MakeCaseEvent("e2", "Note", "{}"),
                                           Correction("x", "e2")}),
                                  {}),
              IsEmpty());
  // Retractions, annotations and disputes too.
  CaseEvent retraction = Typed("r", "EntryRetracted");
  retraction.mutable_entry_retracted()->set_target_event_id("nope");
  EXPECT_EQ(CheckAgainstHistory(Request({retraction}), history)[0].field,
            "events[0].entry_retracted.target_event_id");
}

TEST(CaseHistoryRulesTest, ChannelSupportNeedsConsentStillGiven) {
  using casetrail::v1::CONSENT_STATUS_GIVEN;
  using casetrail::v1::CONSENT_STATUS_WITHDRAWN;
  const auto given = History({Consent("c1", "ch-1", CONSENT_STATUS_GIVEN)});
  EXPECT_THAT(CheckAgainstHistory(Request({Plan("p", "ch-1")}), given),
              IsEmpty());
  EXPECT_THAT(CheckAgainstHistory(Request({Plan("p", "ch-1", "c1")}), given),
              IsEmpty());

  struct Case {
    std::vector<RecordedEvent> history;
    CaseEvent plan;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {{}, Plan("p", "ch-1"), "no consent is recorded for Channel case ch-1"},
      {given, Plan("p", "ch-2"),
       "no consent is recorded for Channel case ch-2"},
      {History({Consent("c1", "ch-1", CONSENT_STATUS_GIVEN),
                Consent("c2", "ch-1", CONSENT_STATUS_WITHDRAWN)}),
       Plan("p", "ch-1"), "CONSENT_STATUS_WITHDRAWN"},
      {History({Consent("c1", "ch-1", casetrail::v1::CONSENT_STATUS_REFUSED)}),
       Plan("p", "ch-1"), "CONSENT_STATUS_REFUSED"},
      {given, Plan("p", "ch-1", "c9"), "c9 is not a ChannelConsentRecorded"},
      {History({Consent("c1", "ch-1", CONSENT_STATUS_GIVEN),
                Consent("c2", "ch-2", CONSENT_STATUS_GIVEN)}),
       Plan("p", "ch-1", "c2"), "is for Channel case ch-2"},
  };
  for (const Case& c : cases) {
    const auto violations = CheckAgainstHistory(Request({c.plan}), c.history);
    ASSERT_EQ(violations.size(), 1u) << c.reason;
    EXPECT_EQ(violations[0].field, "events[0].support_plan_agreed");
    EXPECT_THAT(violations[0].description, HasSubstr("rule 16"));
    EXPECT_THAT(violations[0].description, HasSubstr(c.reason));
  }
  // Under 18, the individual's own consent is not enough (s36(4)(b)); the
  // case records the date of birth of the individual the consent concerns.
  CaseEvent born = Typed("hm", "HouseholdMemberRecorded");
  born.mutable_household_member_recorded()->set_person_id("child-1");
  auto* dob = born.mutable_household_member_recorded()->mutable_date_of_birth();
  dob->set_year(2010);
  dob->set_month(6);
  dob->set_day(15);
  auto own = [](const std::string& id, int64_t when) {
    CaseEvent c = Consent(id, "ch-1", CONSENT_STATUS_GIVEN);
    c.add_child_ids("child-1");
    c.mutable_channel_consent_recorded()->set_giver(
        casetrail::v1::CHANNEL_CONSENT_GIVER_INDIVIDUAL);
    c.mutable_occurred_at()->mutable_time()->set_seconds(when);
    return c;
  };
  // 14 June 2028: the day before the 18th birthday.
  auto young = CheckAgainstHistory(Request({Plan("p", "ch-1")}),
                                   History({born, own("c1", 1844553600)}));
  ASSERT_EQ(young.size(), 1u);
  EXPECT_THAT(young[0].description, HasSubstr("who was 17 then"));
  // 15 June 2028: 18, the individual consents.
  EXPECT_THAT(CheckAgainstHistory(Request({Plan("p", "ch-1")}),
                                  History({born, own("c1", 1844640000)})),
              IsEmpty());
  // No date of birth recorded: not decidable, so not refused.
  EXPECT_THAT(CheckAgainstHistory(Request({Plan("p", "ch-1")}),
                                  History({own("c1", 1844553600)})),
              IsEmpty());

  // Consent and the plan it allows in one append.
  EXPECT_THAT(
      CheckAgainstHistory(Request({Consent("c1", "ch-1", CONSENT_STATUS_GIVEN),
                                   Plan("p", "ch-1", "c1")}),
                          {}),
      IsEmpty());
}

// Regression: the individual's age was taken on the consent's UTC day while
// the fold counts Europe/London days. 2025-06-30T23:30:00Z is 00:30 BST on
// 1 July 2025, the 18th birthday of someone born on 1 July 2007: on the London
// day they are 18 and consent for themselves; on the UTC day they were 17.
TEST(CaseHistoryRulesTest, ConsentAgeIsTakenOnTheLondonDay) {
  CaseEvent born = Typed("hm", "HouseholdMemberRecorded");
  born.mutable_household_member_recorded()->set_person_id("child-1");
  auto* dob = born.mutable_household_member_recorded()->mutable_date_of_birth();
  dob->set_year(2007);
  dob->set_month(7);
  dob->set_day(1);
  auto own_consent_at = [](absl::CivilSecond utc) {
    CaseEvent c = Consent("c1", "ch-1", casetrail::v1::CONSENT_STATUS_GIVEN);
    c.add_child_ids("child-1");
    c.mutable_channel_consent_recorded()->set_giver(
        casetrail::v1::CHANNEL_CONSENT_GIVER_INDIVIDUAL);
    c.mutable_occurred_at()->mutable_time()->set_seconds(
        absl::ToUnixSeconds(absl::FromCivil(utc, absl::UTCTimeZone())));
    return c;
  };
  const absl::CivilSecond just_after_london_midnight(2025, 6, 30, 23, 30, 0);
  ASSERT_EQ(projections::LocalDay(projections::FoldConfig::Default(),
                                  absl::FromCivil(just_after_london_midnight,
                                                  absl::UTCTimeZone())),
            absl::CivilDay(2025, 7, 1))
      << "the Europe/London zone is not loaded";
  EXPECT_THAT(CheckAgainstHistory(
                  Request({Plan("p", "ch-1")}),
                  History({born, own_consent_at(just_after_london_midnight)})),
              IsEmpty());
  // An hour earlier it is still 30 June in London too: 17, refused.
  auto young = CheckAgainstHistory(
      Request({Plan("p", "ch-1")}),
      History(
          {born, own_consent_at(absl::CivilSecond(2025, 6, 30, 22, 30, 0))}));
  ASSERT_EQ(young.size(), 1u);
  EXPECT_THAT(young[0].description, HasSubstr("who was 17 then"));
}

class PrepareAppendTest : public casetrail::testing::EventStoreTest {};

TEST_F(PrepareAppendTest, HistoryFailureIsFailedPreconditionAndPinsNothing) {
  ASSERT_TRUE(
      Append("case-1", eventstore::ExpectedVersion::Any(), {"e1"}).ok());
  PreparedAppend prepared = PrepareAppend(
      *store_, Request({Correction("x", "nope")}), AppendLimits{});
  EXPECT_EQ(prepared.status.error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(prepared.status.error_message(),
              HasSubstr("events[0].record_corrected.target_event_id"));
  EXPECT_FALSE(prepared.status.error_details().empty());
  EXPECT_EQ(store_->LogSize(), 1u);
}

TEST_F(PrepareAppendTest, AnAppendCheckedAgainstHistoryIsPinnedToItsVersion) {
  ASSERT_TRUE(
      Append("case-1", eventstore::ExpectedVersion::Any(), {"e1"}).ok());
  ASSERT_TRUE(
      Append("case-1", eventstore::ExpectedVersion::Any(), {"e2"}).ok());
  PreparedAppend prepared =
      PrepareAppend(*store_, Request({Correction("x", "e1")}), AppendLimits{});
  ASSERT_TRUE(prepared.status.ok()) << prepared.status.error_message();
  EXPECT_EQ(prepared.append.expected.kind,
            eventstore::ExpectedVersion::Kind::kExact);
  EXPECT_EQ(prepared.append.expected.version, 2u);
  // Something recorded after the check: the pinned append is refused rather
  // than slip past it.
  ASSERT_TRUE(
      Append("case-1", eventstore::ExpectedVersion::Any(), {"e3"}).ok());
  EXPECT_EQ(store_->Append(std::move(prepared.append)).status().code(),
            absl::StatusCode::kAborted);

  // An append with no history rule keeps ANY.
  PreparedAppend plain = PrepareAppend(
      *store_, Request({MakeCaseEvent("e4", "Note", "{}")}), AppendLimits{});
  ASSERT_TRUE(plain.status.ok());
  EXPECT_EQ(plain.append.expected.kind,
            eventstore::ExpectedVersion::Kind::kAny);
}

}  // namespace
}  // namespace casetrail::services
