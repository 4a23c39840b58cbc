// The case fold (projections/case_fold.h) and its views (views.h) over
// hand-built case streams: the case state of DOMAIN.md B2 (stage, legal
// basis, consent, allocation, visits, restriction, re-referrals, practice
// flags), the chronology of B1 (as known at a time and as now known, with
// corrections), the Channel panel pack of B3, three whole fictional cases
// with every deadline and flag, and the fold's determinism.
//
// Every person, case and organisation here is fictional. Due dates are
// computed by hand (see deadlines_test.cc for the conventions) and written as
// literals with the working-day count beside them.

#include "projections/case_fold.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/views.h"
#include "tests/projections/fold_story.h"

namespace casetrail::projections {
namespace {

namespace v1 = ::casetrail::v1;
using ::absl::CivilDay;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace ::casetrail::projections::story;  // NOLINT: test builders

std::vector<v1::ChronologyEntry> Chronology(const CaseSnapshot& snapshot,
                                            ChronologyFilter filter = {}) {
  return BuildChronology({&snapshot}, filter);
}

const v1::ChronologyEntry& Entry(const std::vector<v1::ChronologyEntry>& all,
                                 absl::string_view event_id) {
  for (const auto& e : all) {
    if (e.event_id() == event_id) return e;
  }
  ADD_FAILURE() << "no chronology entry for " << event_id;
  static const v1::ChronologyEntry* none = new v1::ChronologyEntry;
  return *none;
}

std::vector<std::string> PersonIds(
    const google::protobuf::RepeatedPtrField<v1::HouseholdMember>& members) {
  std::vector<std::string> ids;
  for (const auto& m : members) ids.push_back(m.person_id());
  return ids;
}

std::vector<std::string> Agencies(
    const google::protobuf::RepeatedPtrField<v1::Participant>& people) {
  std::vector<std::string> agencies;
  for (const auto& p : people) agencies.push_back(p.agency());
  return agencies;
}

Opts Significant(Opts opts = {}) {
  opts.significant = true;
  return opts;
}

// ---------------------------------------------------------------------------
// A late correction (DOMAIN.md B1: as known at T versus as now known).
// ---------------------------------------------------------------------------

Story CorrectedContact() {
  Story s("case-okafor", {"ch-lily"});
  s.Add("c1", CivilDay(2026, 2, 2),
        Contact("Joan Okafor", "neighbour", "bruise on left arm"), {.hour = 9});
  s.Add("hm1", CivilDay(2026, 2, 2),
        Member("ch-lily", "Lily Okafor", CivilDay(2019, 4, 2), "subject child",
               false));
  // Decided on everything recorded before it (log_position 0).
  s.Add("rd1", CivilDay(2026, 2, 3),
        Referral(v1::REFERRAL_OUTCOME_ASSESSMENT,
                 Decided(TeamManager(), "injury to a pre-school child")));
  // Decided on one named event only.
  s.Add("md1", CivilDay(2026, 2, 4),
        Management("school place to be arranged",
                   Decided(TeamManager(), "Lily is of school age", {"hm1"})));
  s.Add("corr1", CivilDay(2026, 2, 20),
        Correction("c1", "contact_received.concern", "\"bruise on left arm\"",
                   "\"bruise on left leg\"",
                   "the referrer corrected her account in writing"));
  s.Add("corr2", CivilDay(2026, 2, 23),
        Correction("hm1", "household_member_recorded.date_of_birth",
                   "{\"year\":2019,\"month\":4,\"day\":2}",
                   "{\"year\":2020,\"month\":4,\"day\":2}",
                   "birth certificate seen", std::nullopt));
  return s;
}

TEST(CaseFoldTest, ALateCorrectionIsShownBesideTheOriginalAndFlagsTheDecision) {
  const Story s = CorrectedContact();
  ASSERT_EQ(s.PositionOf("rd1"), 2u);

  // As known before the correction: the original entry, nothing flagged.
  const CaseSnapshot before = s.FoldBefore("corr1");
  const auto then = Chronology(before);
  EXPECT_THAT(EntryIds(then), ElementsAre("c1", "hm1", "rd1", "md1"));
  EXPECT_THAT(Entry(then, "c1").amendments(), IsEmpty());
  EXPECT_EQ(Entry(then, "c1").headline(),
            "Contact from Joan Okafor, neighbour: bruise on left arm");
  EXPECT_THAT(before.model.state().flags(), IsEmpty());
  // The decision's basis is the log below its own position.
  const v1::DecisionMarker& marker = Entry(then, "rd1").decision();
  EXPECT_EQ(marker.information_basis_position(), 2u);
  EXPECT_EQ(marker.decided_by().name(), "Helen Marsh");
  EXPECT_EQ(marker.rationale(), "injury to a pre-school child");

  // As now known (after the first correction): the same entry, with the
  // correction beside it; the correction has no entry of its own.
  const CaseSnapshot after = s.FoldBefore("corr2");
  EXPECT_EQ(after.entries.size(), 4u);
  const auto now = Chronology(after);
  const v1::ChronologyEntry& c1 = Entry(now, "c1");
  EXPECT_EQ(c1.headline(),
            "Contact from Joan Okafor, neighbour: bruise on left arm");
  ASSERT_EQ(c1.amendments_size(), 1);
  const v1::Amendment& amendment = c1.amendments(0);
  EXPECT_EQ(amendment.kind(), v1::Amendment::KIND_CORRECTED);
  EXPECT_EQ(amendment.event_id(), "corr1");
  EXPECT_EQ(amendment.position(), s.PositionOf("corr1"));
  EXPECT_EQ(amendment.recorded_at().seconds(),
            s.events()[s.IndexOf("corr1")].recorded_at().seconds());
  EXPECT_EQ(amendment.target_event_id(), "c1");
  EXPECT_EQ(amendment.field_path(), "contact_received.concern");
  EXPECT_EQ(amendment.old_value(), "\"bruise on left arm\"");
  EXPECT_EQ(amendment.new_value(), "\"bruise on left leg\"");
  EXPECT_EQ(amendment.text(), "the referrer corrected her account in writing");
  EXPECT_EQ(amendment.by(), "Helen Marsh (Team Manager)");
  EXPECT_FALSE(c1.retracted());

  ASSERT_THAT(FlagLines(after.model.state()),
              ElementsAre("DECISION_BASIS_CORRECTED rd1 raised by corr1"));
  EXPECT_EQ(after.model.state().flags(0).description(),
            "ReferralDecision rd1 relied on c1, since corrected "
            "(contact_received.concern)");
  ASSERT_EQ(after.model.decisions_size(), 2);
  EXPECT_EQ(after.model.decisions(0).event_id(), "rd1");
  EXPECT_THAT(after.model.decisions(0).corrected_by_event_ids(),
              ElementsAre("corr1"));
  EXPECT_EQ(after.model.decisions(0).marker().information_basis_position(), 2u);
  // md1 named hm1 only: c1's correction does not touch it.
  EXPECT_EQ(after.model.decisions(1).event_id(), "md1");
  EXPECT_THAT(after.model.decisions(1).corrected_by_event_ids(), IsEmpty());
  EXPECT_THAT(after.model.decisions(1).marker().information_basis_event_ids(),
              ElementsAre("hm1"));
}

TEST(CaseFoldTest, ADecisionNamingItsBasisIsFlaggedOnlyWhenThatIsCorrected) {
  const CaseSnapshot all = CorrectedContact().Fold();
  // hm1 is below rd1's position and named by md1: both relied on it.
  EXPECT_THAT(FlagLines(all.model.state()),
              ElementsAre("DECISION_BASIS_CORRECTED rd1 raised by corr1",
                          "DECISION_BASIS_CORRECTED rd1 raised by corr2",
                          "DECISION_BASIS_CORRECTED md1 raised by corr2"));
  EXPECT_THAT(all.model.decisions(0).corrected_by_event_ids(),
              ElementsAre("corr1", "corr2"));
  EXPECT_THAT(all.model.decisions(1).corrected_by_event_ids(),
              ElementsAre("corr2"));
  // A correction nobody approved is shown as by its recorder.
  const auto now = Chronology(all);
  ASSERT_EQ(Entry(now, "hm1").amendments_size(), 1);
  EXPECT_EQ(Entry(now, "hm1").amendments(0).by(), "sw-ayo");
  // The model lists every amendment in log order.
  ASSERT_EQ(all.model.amendments_size(), 2);
  EXPECT_EQ(all.model.amendments(0).event_id(), "corr1");
  EXPECT_EQ(all.model.amendments(1).event_id(), "corr2");
}

// ---------------------------------------------------------------------------
// Practice flags (DOMAIN.md C, rules 5, 6 and 8).
// ---------------------------------------------------------------------------

TEST(CaseFoldTest, SeenNotAloneAndInterpreterFlagsAreRaisedAndCleared) {
  Story s("case-kowal", {"child-1", "child-10", "child-2"});
  s.Add("hm-mum", CivilDay(2026, 1, 12),
        Member("p-mother", "Agnieszka Kowal", CivilDay(1990, 6, 1), "mother",
               true, "Polish", "interpreter for meetings"));
  s.Add("hm-dad", CivilDay(2026, 1, 12),
        Member("p-father", "Piotr Kowal", CivilDay(1988, 2, 3), "father", true,
               " english "),
        {.hour = 11});
  s.Add(
      "v1", CivilDay(2026, 1, 14),
      Visit(v1::VISIT_TYPE_CHILD_IN_NEED, {Seen("child-1", true, false, true),
                                           Seen("child-10", true, false, false),
                                           Seen("child-2", true, true, true)}));
  {
    const v1::CaseState state = s.Fold().model.state();
    ASSERT_THAT(FlagLines(state),
                ElementsAre("INTERPRETER_NOT_APPROVED hm-mum p-mother raised "
                            "by hm-mum",
                            "CHILD_NOT_SEEN_ALONE v1 child-1 raised by v1",
                            "CHILD_NOT_SEEN_ALONE v1 child-10 raised by v1"));
    EXPECT_EQ(state.flags(0).description(),
              "Agnieszka Kowal's language is recorded as Polish and no "
              "interpreter decision is recorded");
    EXPECT_EQ(
        state.flags(1).description(),
        "child-1 was seen but not alone, and no manager has recorded why");
    ASSERT_THAT(
        OutstandingLines(state),
        ElementsAre("ChildNotSeenAloneAuthorised for v1 since 2026-01-14",
                    "ChildNotSeenAloneAuthorised for v1 since 2026-01-14"));
    EXPECT_THAT(state.outstanding_authorisations(1).description(),
                HasSubstr("child-10"));
  }
  // A manager accepts why child-1 was not seen alone; an authorisation naming
  // another visit clears nothing.
  s.Add("ok1", CivilDay(2026, 1, 15), NotSeenAloneAccepted("child-1", "v1"));
  s.Add("ok-other", CivilDay(2026, 1, 15),
        NotSeenAloneAccepted("child-10", "v-other"), {.hour = 11});
  // An interpreter is used for the mother; later a social worker decides
  // without one (not approved), then a team manager approves that.
  s.Add("int1", CivilDay(2026, 1, 16),
        Interpreter("p-mother", "Polish", true, SocialWorker()));
  s.Add("int2", CivilDay(2026, 1, 20),
        Interpreter("p-mother", "Polish", false, SocialWorker()));
  {
    const v1::CaseState state = s.Fold().model.state();
    ASSERT_EQ(state.flags_size(), 4);
    EXPECT_EQ(FlagLines(state)[3],
              "INTERPRETER_NOT_APPROVED int2 p-mother raised by int2");
    EXPECT_EQ(state.flags(3).description(),
              "no interpreter for p-mother without a Team Manager's approval");
  }
  s.Add("int3", CivilDay(2026, 1, 21),
        Interpreter("p-mother", "Polish", false, TeamManager()));

  const v1::CaseState state = s.Fold().model.state();
  EXPECT_THAT(
      FlagLines(state),
      ElementsAre(
          "INTERPRETER_NOT_APPROVED hm-mum p-mother raised by hm-mum, cleared "
          "by int1",
          "CHILD_NOT_SEEN_ALONE v1 child-1 raised by v1, cleared by ok1",
          "CHILD_NOT_SEEN_ALONE v1 child-10 raised by v1",
          "INTERPRETER_NOT_APPROVED int2 p-mother raised by int2, cleared by "
          "int3"));
  // child-10's authorisation is still outstanding, child-1's is not.
  ASSERT_THAT(
      OutstandingLines(state),
      ElementsAre("ChildNotSeenAloneAuthorised for v1 since 2026-01-14"));
  EXPECT_THAT(state.outstanding_authorisations(0).description(),
              HasSubstr("why child-10 was not seen alone"));
}

// ---------------------------------------------------------------------------
// Case state (DOMAIN.md B2).
// ---------------------------------------------------------------------------

TEST(CaseFoldTest, StageAndLegalBasisFollowTheCase) {
  Story s("case-stage", {"child-a", "child-b"});
  auto stage = [&] { return s.Fold().model.state().stage(); };
  auto basis = [&] {
    const v1::CaseState state = s.Fold().model.state();
    return std::vector<std::string>(state.legal_basis().begin(),
                                    state.legal_basis().end());
  };
  const std::vector<std::string> a = {"child-a"};
  const std::vector<std::string> b = {"child-b"};

  s.Add("c1", CivilDay(2026, 1, 5),
        Contact("Joan Pell", "class teacher", "neglect concerns"));
  EXPECT_EQ(stage(), v1::CASE_STAGE_CONTACT);
  s.Add("rd1", CivilDay(2026, 1, 5),
        Referral(v1::REFERRAL_OUTCOME_STRATEGY_DISCUSSION,
                 Decided(TeamManager(), "possible significant harm")),
        {.hour = 15});
  EXPECT_EQ(stage(), v1::CASE_STAGE_REFERRAL);
  s.Add("as-a", CivilDay(2026, 1, 6),
        AssessmentStart("asm-a", "child-a", CivilDay(2026, 1, 5)),
        {.children = a});
  EXPECT_EQ(stage(), v1::CASE_STAGE_ASSESSMENT);
  EXPECT_THAT(s.Fold().model.state().open_assessments(), ElementsAre("asm-a"));
  s.Add("sd1", CivilDay(2026, 1, 6), Strategy(true), {.hour = 14});
  s.Add("s47", CivilDay(2026, 1, 6), S47Start("enq-1", "sd1"), {.hour = 15});
  EXPECT_EQ(stage(), v1::CASE_STAGE_S47_ENQUIRY);
  EXPECT_THAT(basis(), ElementsAre("Children Act 1989 s47 enquiry enq-1 open"));
  s.Add("s47c", CivilDay(2026, 1, 16), S47End("enq-1", v1::S47_OUTCOME_ICPC));
  EXPECT_EQ(stage(), v1::CASE_STAGE_ASSESSMENT);
  EXPECT_THAT(basis(), IsEmpty());
  s.Add(
      "icpc", CivilDay(2026, 1, 23),
      Conference(
          "conf-1", v1::CONFERENCE_TYPE_ICPC,
          {PlanFor("child-a", v1::CONFERENCE_PLAN_DECISION_PLAN_STARTED,
                   {v1::ABUSE_CATEGORY_NEGLECT, v1::ABUSE_CATEGORY_EMOTIONAL}),
           PlanFor("child-b",
                   v1::CONFERENCE_PLAN_DECISION_PLAN_NOT_REQUIRED)}));
  EXPECT_EQ(stage(), v1::CASE_STAGE_CHILD_PROTECTION);
  EXPECT_THAT(
      basis(),
      ElementsAre("child-a: child protection plan (neglect, emotional)"));
  s.Add("cin-b", CivilDay(2026, 1, 26),
        Plan("cin-1", v1::PLAN_TYPE_CIN, v1::PLAN_CHANGE_START,
             CivilDay(2026, 1, 26)),
        {.children = b});
  EXPECT_THAT(
      basis(),
      ElementsAre("child-a: child protection plan (neglect, emotional)",
                  "child-b: child in need plan (Children Act 1989 s17)"));
  s.Add("s20", CivilDay(2026, 2, 2),
        Legal("child-a", v1::LEGAL_STATUS_CA1989_S20,
              v1::LEGAL_STATUS_CHANGE_STARTED, CivilDay(2026, 2, 2)),
        {.children = a});
  EXPECT_EQ(stage(), v1::CASE_STAGE_LOOKED_AFTER);
  EXPECT_THAT(
      basis(),
      ElementsAre("child-a: child protection plan (neglect, emotional)",
                  "child-a: CA1989_S20",
                  "child-b: child in need plan (Children Act 1989 s17)"));
  {
    const v1::ChildState child_a = s.Fold().model.state().children(0);
    EXPECT_EQ(child_a.child_id(), "child-a");
    EXPECT_TRUE(child_a.looked_after());
    EXPECT_THAT(child_a.legal_statuses(),
                ElementsAre(v1::LEGAL_STATUS_CA1989_S20));
    EXPECT_THAT(
        child_a.plan_categories(),
        ElementsAre(v1::ABUSE_CATEGORY_NEGLECT, v1::ABUSE_CATEGORY_EMOTIONAL));
  }
  s.Add("s20end", CivilDay(2026, 2, 20),
        Legal("child-a", v1::LEGAL_STATUS_CA1989_S20,
              v1::LEGAL_STATUS_CHANGE_ENDED, CivilDay(2026, 2, 20)),
        {.children = a});
  EXPECT_EQ(stage(), v1::CASE_STAGE_CHILD_PROTECTION);
  EXPECT_FALSE(s.Fold().model.state().children(0).looked_after());
  s.Add("auth-a", CivilDay(2026, 2, 23), AssessmentDone("asm-a", "child-a"),
        {.children = a});
  EXPECT_THAT(s.Fold().model.state().open_assessments(), IsEmpty());
  s.Add("close", CivilDay(2026, 9, 1),
        Closed(v1::CASE_CLOSURE_REASON_RC7_SERVICES_CEASED));
  EXPECT_EQ(stage(), v1::CASE_STAGE_CLOSED);
  EXPECT_THAT(basis(), IsEmpty());

  // A case with only a Prevent referral is at the Channel stage.
  Story prevent("case-prevent", {"child-z"});
  prevent.Add("pr", CivilDay(2026, 1, 5), PreventReferral("PR-9", "concerns"));
  EXPECT_EQ(prevent.Fold().model.state().stage(), v1::CASE_STAGE_CHANNEL);
  EXPECT_EQ(prevent.Fold().model.state().jurisdiction(),
            v1::JURISDICTION_ENGLAND);
}

TEST(CaseFoldTest, ReReferralsWithinTwelveMonthsAreCounted) {
  Story s("case-rr", {"child-a"});
  auto count = [&] {
    return s.Fold().model.state().re_referrals_within_12_months();
  };
  auto decide = [&](absl::string_view id, CivilDay day,
                    v1::ReferralOutcome outcome) {
    s.Add(id, day, Referral(outcome, Decided(TeamManager(), "threshold")));
  };
  decide("rd1", CivilDay(2025, 1, 10), v1::REFERRAL_OUTCOME_ASSESSMENT);
  EXPECT_EQ(count(), 0u);
  // Advice or no further action is not a referral.
  decide("rd2", CivilDay(2025, 6, 5), v1::REFERRAL_OUTCOME_NO_FURTHER_ACTION);
  EXPECT_EQ(count(), 0u);
  // 9 January 2026 is within 12 months of 10 January 2025.
  decide("rd3", CivilDay(2026, 1, 9), v1::REFERRAL_OUTCOME_STRATEGY_DISCUSSION);
  EXPECT_EQ(count(), 1u);
  // 12 January 2027 is more than 12 months after 9 January 2026.
  decide("rd4", CivilDay(2027, 1, 12), v1::REFERRAL_OUTCOME_ASSESSMENT);
  EXPECT_EQ(count(), 1u);
  decide("rd5", CivilDay(2027, 3, 10),
         v1::REFERRAL_OUTCOME_IMMEDIATE_PROTECTION);
  EXPECT_EQ(count(), 2u);
  std::vector<std::string> dates;
  const v1::CaseModel model = s.Fold().model;
  for (const auto& d : model.referral_dates()) dates.push_back(Text(d));
  EXPECT_THAT(dates, ElementsAre("2025-01-10", "2026-01-09", "2027-01-12",
                                 "2027-03-10"));
}

TEST(CaseFoldTest, ConsentIsTrackedByPurpose) {
  constexpr char kShareWithSchool[] = "share the assessment with the school";
  constexpr char kGp[] = "obtain health records from the GP";
  constexpr char kFamily[] = "refer to family support";
  Story s("case-consent", {"child-a"});
  s.Add("k1", CivilDay(2026, 2, 2),
        Consent("cons-1", kShareWithSchool, v1::CONSENT_STATUS_GIVEN,
                "p-mother"));
  s.Add("k2", CivilDay(2026, 2, 3),
        Consent("cons-2", kGp, v1::CONSENT_STATUS_REFUSED, "p-father"));
  s.Add("k3", CivilDay(2026, 2, 10),
        Consent("cons-1", kShareWithSchool, v1::CONSENT_STATUS_WITHDRAWN,
                "p-mother"));
  s.Add("ovr", CivilDay(2026, 2, 11),
        ConsentOverride(kGp, "k2", "medical neglect suspected"));
  s.Add("k4", CivilDay(2026, 2, 12),
        Consent("cons-3", kFamily, v1::CONSENT_STATUS_GIVEN, "p-mother"));
  const v1::CaseState state = s.Fold().model.state();
  ASSERT_EQ(state.consents_size(), 3);

  const v1::ConsentState& school = state.consents(0);
  EXPECT_EQ(school.purpose(), kShareWithSchool);
  EXPECT_EQ(school.status(), v1::ConsentState::STATUS_WITHDRAWN);
  EXPECT_EQ(school.consent_id(), "cons-1");
  EXPECT_EQ(school.giver_person_id(), "p-mother");
  EXPECT_EQ(school.event_id(), "k3");
  EXPECT_EQ(Text(school.date()), "2026-02-10");

  const v1::ConsentState& gp = state.consents(1);
  EXPECT_EQ(gp.purpose(), kGp);
  EXPECT_EQ(gp.status(), v1::ConsentState::STATUS_OVERRIDDEN);
  EXPECT_EQ(gp.overridden_by().name(), "Priya Nair");
  EXPECT_EQ(gp.overridden_by().authority_level(),
            v1::AUTHORITY_LEVEL_SERVICE_MANAGER);
  EXPECT_EQ(gp.override_reason(), "medical neglect suspected");
  EXPECT_EQ(gp.event_id(), "ovr");
  EXPECT_EQ(gp.consent_id(), "cons-2");
  EXPECT_EQ(Text(gp.date()), "2026-02-11");

  EXPECT_EQ(state.consents(2).purpose(), kFamily);
  EXPECT_EQ(state.consents(2).status(), v1::ConsentState::STATUS_VALID);

  // Before the withdrawal and the override.
  const v1::CaseState earlier = s.FoldBefore("k3").model.state();
  EXPECT_EQ(earlier.consents(0).status(), v1::ConsentState::STATUS_VALID);
  EXPECT_EQ(earlier.consents(1).status(), v1::ConsentState::STATUS_REFUSED);
}

TEST(CaseFoldTest, AllocationVisitsAndRestriction) {
  Story s("case-misc", {"child-a"});
  s.Add("alloc1", CivilDay(2026, 1, 5),
        Allocated(Person("sw-ayo", "Ayo Bankole", "Social Worker", kCouncil),
                  "Assessment Team 2",
                  Person("tm-helen", "Helen Marsh", "Team Manager", kCouncil)));
  s.Add("v1", CivilDay(2026, 1, 12),
        Visit(v1::VISIT_TYPE_ASSESSMENT, {Seen("child-a", true, true, true)}));
  s.Add(
      "v2", CivilDay(2026, 1, 20),
      Visit(v1::VISIT_TYPE_ASSESSMENT, {Seen("child-a", true, false, false)}));
  s.Add(
      "v3", CivilDay(2026, 1, 28),
      Visit(v1::VISIT_TYPE_ASSESSMENT, {Seen("child-a", false, false, false)}));
  // An earlier visit recorded late does not move "last seen" back.
  s.Add("v0", CivilDay(2026, 1, 8),
        Visit(v1::VISIT_TYPE_ASSESSMENT, {Seen("child-a", true, true, true)}),
        {.recorded_on = CivilDay(2026, 1, 29)});
  s.Add("alloc2", CivilDay(2026, 4, 1),
        Allocated(Person("sw-beth", "Beth Adeyemi", "Social Worker", kCouncil),
                  "CIN Team North",
                  Person("tm-grace", "Grace Obi", "Team Manager", kCouncil)));
  s.Add("restrict", CivilDay(2026, 4, 2),
        Restrict(v1::RESTRICTION_LEVEL_NONE, v1::RESTRICTION_LEVEL_RESTRICTED,
                 {"sw-beth", "tm-grace"}));
  // Sealing one entry leaves the case's level as it is.
  s.Add("seal", CivilDay(2026, 4, 3),
        Restrict(v1::RESTRICTION_LEVEL_RESTRICTED, v1::RESTRICTION_LEVEL_SEALED,
                 {"tm-grace"}, {"v2"}));

  const v1::CaseState state = s.Fold().model.state();
  EXPECT_EQ(state.allocation().worker().name(), "Beth Adeyemi");
  EXPECT_EQ(state.allocation().team(), "CIN Team North");
  EXPECT_EQ(state.allocation().manager().name(), "Grace Obi");
  EXPECT_EQ(Text(state.allocation().since()), "2026-04-01");
  EXPECT_EQ(s.FoldBefore("alloc2").model.state().allocation().worker().name(),
            "Ayo Bankole");

  ASSERT_EQ(state.children_size(), 1);
  const v1::ChildState& child = state.children(0);
  EXPECT_EQ(Text(child.last_seen()), "2026-01-20");
  EXPECT_EQ(Text(child.last_seen_alone()), "2026-01-12");
  EXPECT_EQ(Text(child.last_bedroom_seen()), "2026-01-12");

  EXPECT_EQ(state.restriction(), v1::RESTRICTION_LEVEL_RESTRICTED);
  EXPECT_THAT(state.restriction_permitted_user_ids(),
              ElementsAre("sw-beth", "tm-grace"));
  // v0 was recorded 15 working days after the visit (9 Jan to 29 Jan).
  EXPECT_THAT(FlagLines(state),
              ElementsAre("CHILD_NOT_SEEN_ALONE v2 child-a raised by v2",
                          "VISIT_RECORDED_LATE v0 raised by v0"));
  EXPECT_EQ(state.event_count(), 8u);
  EXPECT_EQ(state.next_position(), 8u);
  EXPECT_EQ(state.case_id(), "case-misc");
}

TEST(CaseFoldTest, EventRestrictionsAreKeptPerEventAndLifted) {
  Story s("case-seal", {"child-a"});
  s.Add("v1", CivilDay(2026, 1, 12),
        Visit(v1::VISIT_TYPE_ASSESSMENT, {Seen("child-a", true, true, true)}));
  s.Add("v2", CivilDay(2026, 1, 20),
        Visit(v1::VISIT_TYPE_ASSESSMENT, {Seen("child-a", true, true, true)}));
  s.Add("seal", CivilDay(2026, 2, 1),
        Restrict(v1::RESTRICTION_LEVEL_NONE, v1::RESTRICTION_LEVEL_SEALED,
                 {"tm-grace"}, {"v1", "v2"}));
  // A later change of v2 replaces its restriction; v1 keeps its own.
  s.Add("narrow", CivilDay(2026, 2, 2),
        Restrict(v1::RESTRICTION_LEVEL_SEALED, v1::RESTRICTION_LEVEL_RESTRICTED,
                 {"sw-beth"}, {"v2"}));
  auto restrictions = [](const v1::CaseState& state) {
    std::vector<std::string> lines;
    for (const v1::EventRestriction& r : state.event_restrictions()) {
      lines.push_back(absl::StrCat(r.event_id(), " ",
                                   v1::RestrictionLevel_Name(r.level()), " ",
                                   absl::StrJoin(r.permitted_user_ids(), ",")));
    }
    return lines;
  };
  EXPECT_THAT(restrictions(s.Fold().model.state()),
              ElementsAre("v1 RESTRICTION_LEVEL_SEALED tm-grace",
                          "v2 RESTRICTION_LEVEL_RESTRICTED sw-beth"));
  EXPECT_EQ(s.Fold().model.state().restriction(),
            v1::RESTRICTION_LEVEL_UNSPECIFIED);
  EXPECT_THAT(restrictions(s.FoldBefore("seal").model.state()), IsEmpty());

  // Lifting (level NONE) removes the event's restriction.
  s.Add("lift", CivilDay(2026, 3, 1),
        Restrict(v1::RESTRICTION_LEVEL_SEALED, v1::RESTRICTION_LEVEL_NONE, {},
                 {"v1"}));
  EXPECT_THAT(restrictions(s.Fold().model.state()),
              ElementsAre("v2 RESTRICTION_LEVEL_RESTRICTED sw-beth"));
}

// ---------------------------------------------------------------------------
// The chronology (DOMAIN.md B1).
// ---------------------------------------------------------------------------

TEST(CaseFoldTest, ChronologyOrdersAgesFiltersAndBadgesEntries) {
  Story s("case-chron", {"child-a"});
  // Born Saturday 20 June 2015.
  s.Add("hm-a", CivilDay(2026, 6, 1),
        Member("child-a", "Ella Brook", CivilDay(2015, 6, 20), "subject child",
               false));
  s.Add("e1", CivilDay(2026, 6, 19),
        Contact("Joan Pell", "class teacher", "Ella disclosed being hit"),
        Significant({.hour = 9}));
  s.Add("e2", CivilDay(2026, 6, 19),
        Visit(v1::VISIT_TYPE_ASSESSMENT, {Seen("child-a", true, true, false)}),
        {.hour = 14});
  // Reported by the police that evening, about 08:00 that morning.
  s.Add("e3", CivilDay(2026, 6, 19),
        Contact("PC Dale", "police officer", "neighbour heard shouting"),
        {.hour = 8,
         .recorded_at = LondonTime(CivilDay(2026, 6, 19), 20),
         .agency = kPolice,
         .user = "pc-dale",
         .role = "Police Constable",
         .informant = "neighbour"});
  s.Add("e4", CivilDay(2026, 6, 20),
        Visit(v1::VISIT_TYPE_ASSESSMENT, {Seen("child-a", true, true, true)}),
        Significant({.direction = v1::Significance::DIRECTION_POSITIVE}));
  // Known only to the month; case-level (no child).
  s.Add("e5", CivilDay(2026, 5, 1),
        Contact("Ann Brook", "grandmother", "worried about the family"),
        {.recorded_on = CivilDay(2026, 6, 22),
         .precision = v1::TIME_PRECISION_MONTH,
         .children = std::vector<std::string>{}});
  // Monday 22 June recorded Wednesday 24 June: 2 working days, in time.
  s.Add("e6", CivilDay(2026, 6, 22),
        Visit(v1::VISIT_TYPE_ASSESSMENT, {Seen("child-a", true, true, false)}),
        {.recorded_on = CivilDay(2026, 6, 24)});
  // Tuesday 23 June recorded Monday 29 June: 24, 25, 26, 29 = 4 working
  // days: late.
  s.Add("e7", CivilDay(2026, 6, 23),
        Visit(v1::VISIT_TYPE_ASSESSMENT, {Seen("child-a", true, true, false)}),
        {.recorded_on = CivilDay(2026, 6, 29)});
  const CaseSnapshot snapshot = s.Fold();
  const auto all = Chronology(snapshot);

  EXPECT_THAT(EntryIds(all),
              ElementsAre("e5", "hm-a", "e3", "e1", "e2", "e4", "e6", "e7"));
  std::vector<uint32_t> sequence;
  for (const auto& e : all) sequence.push_back(e.same_day_sequence());
  EXPECT_THAT(sequence, ElementsAre(1u, 1u, 1u, 2u, 3u, 1u, 1u, 1u));

  auto age = [&](absl::string_view id) {
    const v1::ChronologyEntry& e = Entry(all, id);
    if (e.child_ages_size() != 1 || !e.child_ages(0).known())
      return std::string("?");
    return absl::StrCat(e.child_ages(0).years(), "y", e.child_ages(0).months(),
                        "m");
  };
  EXPECT_EQ(age("hm-a"), "10y11m");
  EXPECT_EQ(age("e1"), "10y11m");
  EXPECT_EQ(age("e4"), "11y0m");  // her birthday
  EXPECT_EQ(Entry(all, "e4").child_ages(0).child_id(), "child-a");
  EXPECT_THAT(Entry(all, "e5").child_ages(), IsEmpty());

  const v1::ChronologyEntry& e3 = Entry(all, "e3");
  EXPECT_EQ(Text(e3.occurred_date()), "2026-06-19");
  EXPECT_EQ(e3.agency(), kPolice);
  EXPECT_EQ(e3.source().informant(), "neighbour");
  EXPECT_EQ(e3.source().provenance(), v1::Source::PROVENANCE_REPORTED);
  EXPECT_EQ(e3.recorded_by().user_id(), "pc-dale");
  EXPECT_EQ(e3.headline(),
            "Contact from PC Dale, police officer: neighbour heard shouting");
  EXPECT_EQ(e3.case_id(), "case-chron");
  EXPECT_EQ(Entry(all, "e4").headline(),
            "assessment visit at home: child-a seen alone, bedroom seen");
  EXPECT_EQ(Entry(all, "e4").significance().direction(),
            v1::Significance::DIRECTION_POSITIVE);

  // The late-recording badge: more than 2 working days, exact or day
  // precision only.
  EXPECT_FALSE(Entry(all, "e6").late_recording());
  EXPECT_EQ(Entry(all, "e6").working_days_to_record(), 2);
  EXPECT_TRUE(Entry(all, "e7").late_recording());
  EXPECT_EQ(Entry(all, "e7").working_days_to_record(), 4);
  EXPECT_FALSE(Entry(all, "e5").late_recording());
  EXPECT_EQ(Entry(all, "e5").working_days_to_record(), 0);
  EXPECT_EQ(Entry(all, "e5").occurred_at().precision(),
            v1::TIME_PRECISION_MONTH);

  ChronologyFilter police;
  police.agency = kPolice;
  EXPECT_THAT(EntryIds(Chronology(snapshot, police)), ElementsAre("e3"));
  ChronologyFilter significant;
  significant.significant_only = true;
  EXPECT_THAT(EntryIds(Chronology(snapshot, significant)),
              ElementsAre("e1", "e4"));
  // Another child's chronology keeps only the case-level entry.
  ChronologyFilter other_child;
  other_child.child_id = "child-b";
  EXPECT_THAT(EntryIds(Chronology(snapshot, other_child)), ElementsAre("e5"));

  // The chronology key sorts by occurred time, then position.
  EXPECT_LT(ChronologyKey(Entry(all, "e3")), ChronologyKey(Entry(all, "e1")));
  EXPECT_LT(ChronologyKey(Entry(all, "e5")), ChronologyKey(Entry(all, "hm-a")));
  EXPECT_EQ(ChronologyKey(Entry(all, "e1")).size(), 16u);
}

// ---------------------------------------------------------------------------
// A re-referral after Channel consent was refused (DOMAIN.md B3, section 11).
// ---------------------------------------------------------------------------

Story HaddadStory() {
  Story s("case-haddad", {"ch-amir"});
  s.Add("hm-amir", CivilDay(2025, 10, 6),
        Member("ch-amir", "Amir Haddad", CivilDay(2010, 5, 14), "subject child",
               false, "English", "prefers written information"),
        {.hour = 9});
  s.Add(
      "hm-leila", CivilDay(2025, 10, 6),
      Member("p-leila", "Leila Haddad", CivilDay(1982, 2, 11), "mother", true),
      {.hour = 9, .minute = 10});
  s.Add("hm-sami", CivilDay(2025, 10, 6),
        Member("p-sami", "Sami Haddad", CivilDay(1979, 9, 30), "father", true),
        {.hour = 9, .minute = 20});
  s.Add("hm-noor", CivilDay(2025, 10, 6),
        Member("p-noor", "Noor Haddad", CivilDay(2014, 1, 5), "sister", false),
        {.hour = 9, .minute = 30});
  s.Add("pr1", CivilDay(2025, 10, 6),
        PreventReferral("PR-2025-0117", "sharing extremist videos in class"),
        Significant());
  s.Add("gw1", CivilDay(2025, 10, 8),
        Gateway("PR-2025-0117", v1::GATEWAY_OUTCOME_TO_CHANNEL),
        {.agency = kPolice, .user = "ds-rhodes", .role = "Detective Sergeant"});
  s.Add("cr1", CivilDay(2025, 10, 9),
        ChannelReferral("CH-0117", "PR-2025-0117"));
  s.Add("req1", CivilDay(2025, 10, 10), S38Request("s38-1"));
  s.Add("ret1", CivilDay(2025, 10, 15), S38Return("s38-1"));
  s.Add("va1", CivilDay(2025, 10, 20), Vulnerability("CH-0117"));
  s.Add("panel1", CivilDay(2025, 10, 23),
        Panel("CH-0117", v1::PANEL_DECISION_ADOPT), Significant());
  s.Add("cons1", CivilDay(2025, 10, 27),
        ChannelConsent("CH-0117", v1::CONSENT_STATUS_REFUSED, "Leila Haddad"),
        Significant());
  s.Add("exit1", CivilDay(2025, 10, 30), Exited("CH-0117", "consent refused"),
        Significant());
  s.Add("close1", CivilDay(2025, 10, 31),
        Closed(v1::CASE_CLOSURE_REASON_RC7_SERVICES_CEASED));
  // Four months later: a new contact and a new Prevent referral.
  s.Add("c2", CivilDay(2026, 3, 2),
        Contact("Maya Grant", "Designated Safeguarding Lead",
                "Amir is talking about travelling abroad to fight"),
        Significant());
  s.Add(
      "pr2", CivilDay(2026, 3, 2),
      PreventReferral("PR-2026-0042", "talk of travelling to a conflict zone"),
      Significant({.hour = 11}));
  return s;
}

TEST(CaseFoldTest, ChannelPackBeforeTheReReferral) {
  const Story s = HaddadStory();
  const CaseSnapshot snapshot = s.FoldBefore("c2");
  auto pack = BuildChannelPanelPack(FoldConfig::Default(), "ch-amir",
                                    {&snapshot}, CivilDay(2026, 2, 2));
  ASSERT_TRUE(pack.ok()) << pack.status();

  const v1::PreventEpisode& episode = pack->current_episode();
  EXPECT_EQ(episode.prevent_referral_id(), "PR-2025-0117");
  EXPECT_EQ(episode.channel_case_id(), "CH-0117");
  EXPECT_EQ(episode.stage(), v1::CHANNEL_STAGE_EXITED);
  EXPECT_EQ(Text(episode.referred_on()), "2025-10-06");
  EXPECT_EQ(Text(episode.closed_on()), "2025-10-30");
  EXPECT_THAT(EventIds(episode.events()),
              ElementsAre("pr1", "gw1", "cr1", "req1", "ret1", "va1", "panel1",
                          "cons1", "exit1"));
  EXPECT_THAT(pack->prior_episodes(), IsEmpty());
  EXPECT_FALSE(pack->repeat_referral());
  EXPECT_THAT(pack->case_ids(), ElementsAre("case-haddad"));

  // 1: cover.
  const auto& cover = pack->cover();
  EXPECT_EQ(cover.case_reference(), "CH-0117");
  EXPECT_EQ(Text(cover.pack_date()), "2026-02-02");
  EXPECT_EQ(cover.chair().name(), "Dana Lewis");
  EXPECT_EQ(cover.chair().agency(), kCouncil);
  ASSERT_THAT(Agencies(cover.attendees()),
              ElementsAre(kPolice, kSchool, kHealth, kCouncil));
  EXPECT_EQ(cover.attendees(0).name(), "DS Carla Rhodes");
  EXPECT_THAT(cover.distribution(),
              ElementsAre(kPolice, kSchool, kHealth, kCouncil));
  EXPECT_THAT(cover.information_sharing_basis(), HasSubstr("s38"));
  EXPECT_EQ(cover.restriction(), v1::RESTRICTION_LEVEL_UNSPECIFIED);

  // 2: the individual.
  const auto& individual = pack->individual();
  EXPECT_EQ(individual.person_id(), "ch-amir");
  EXPECT_EQ(individual.name(), "Amir Haddad");
  EXPECT_EQ(Text(individual.date_of_birth()), "2010-05-14");
  EXPECT_TRUE(individual.age().known());
  EXPECT_EQ(individual.age().years(), 15);
  EXPECT_EQ(individual.age().months(), 8);
  ASSERT_THAT(PersonIds(individual.household()),
              ElementsAre("p-leila", "p-sami", "p-noor"));
  EXPECT_THAT(PersonIds(individual.parental_responsibility()),
              ElementsAre("p-leila", "p-sami"));
  EXPECT_EQ(individual.household(0).name(), "Leila Haddad");
  EXPECT_EQ(individual.household(0).relationship(), "mother");
  EXPECT_EQ(individual.language(), "English");
  EXPECT_EQ(individual.communication_needs(), "prefers written information");
  EXPECT_THAT(individual.current_status(), ElementsAre("case-haddad: CLOSED"));

  // 3-9 and 12.
  EXPECT_THAT(EventIds(pack->referrals()), ElementsAre("pr1", "gw1", "cr1"));
  EXPECT_THAT(EventIds(pack->agency_returns()), ElementsAre("req1", "ret1"));
  EXPECT_THAT(EventIds(pack->vulnerability_assessments()), ElementsAre("va1"));
  EXPECT_THAT(pack->safeguarding_context(),
              ElementsAre("case-haddad: stage CLOSED; open assessments 0; open "
                          "s47 enquiries 0; outstanding authorisations 0; open "
                          "practice flags 0"));
  ASSERT_THAT(EventIds(pack->consent()), ElementsAre("cons1"));
  EXPECT_EQ(pack->consent(0).event().channel_consent_recorded().status(),
            v1::CONSENT_STATUS_REFUSED);
  EXPECT_THAT(pack->support_plans(), IsEmpty());
  EXPECT_THAT(EventIds(pack->decisions()),
              ElementsAre("gw1", "panel1", "exit1"));
  EXPECT_THAT(EventIds(pack->exit()), ElementsAre("exit1"));

  // 10: the significant entries of the individual's chronology.
  EXPECT_THAT(EntryIds({pack->chronology_extract().begin(),
                        pack->chronology_extract().end()}),
              ElementsAre("pr1", "panel1", "cons1", "exit1"));

  // 12: reviews 6 and 12 months after the exit on Thursday 30 October 2025:
  // Thursday 30 April and Friday 30 October 2026.
  std::vector<std::string> reviews;
  for (const auto& d : pack->review_schedule()) {
    reviews.push_back(absl::StrCat(d.rule_id(), " due ", Text(d.due()), ": ",
                                   StatusName(d.status())));
  }
  ASSERT_THAT(reviews,
              ElementsAre("channel-post-exit-6m due 2026-04-30: PENDING",
                          "channel-post-exit-12m due 2026-10-30: PENDING"));
  EXPECT_EQ(Text(pack->review_schedule(0).evaluated_on()), "2026-02-02");
}

TEST(CaseFoldTest, ChannelPackAfterTheReReferral) {
  const Story s = HaddadStory();
  const CaseSnapshot snapshot = s.Fold();
  auto pack = BuildChannelPanelPack(FoldConfig::Default(), "ch-amir",
                                    {&snapshot}, CivilDay(2026, 3, 9));
  ASSERT_TRUE(pack.ok()) << pack.status();

  EXPECT_TRUE(pack->repeat_referral());
  const v1::PreventEpisode& current = pack->current_episode();
  EXPECT_EQ(current.prevent_referral_id(), "PR-2026-0042");
  EXPECT_EQ(current.channel_case_id(), "");
  EXPECT_EQ(current.stage(), v1::CHANNEL_STAGE_PREVENT_REFERRAL);
  EXPECT_EQ(Text(current.referred_on()), "2026-03-02");
  EXPECT_FALSE(current.has_closed_on());
  EXPECT_THAT(EventIds(current.events()), ElementsAre("pr2"));
  ASSERT_EQ(pack->prior_episodes_size(), 1);
  const v1::PreventEpisode& prior = pack->prior_episodes(0);
  EXPECT_EQ(prior.prevent_referral_id(), "PR-2025-0117");
  EXPECT_EQ(prior.stage(), v1::CHANNEL_STAGE_EXITED);
  EXPECT_THAT(EventIds(prior.events()),
              ElementsAre("pr1", "gw1", "cr1", "req1", "ret1", "va1", "panel1",
                          "cons1", "exit1"));

  EXPECT_EQ(pack->cover().case_reference(), "PR-2026-0042");
  EXPECT_FALSE(pack->cover().has_chair());
  EXPECT_THAT(pack->cover().distribution(), IsEmpty());
  EXPECT_EQ(pack->cover().information_sharing_basis(),
            "no s38 requests recorded");
  EXPECT_THAT(EventIds(pack->referrals()), ElementsAre("pr2"));
  EXPECT_THAT(pack->decisions(), IsEmpty());
  EXPECT_THAT(pack->exit(), IsEmpty());
  // The earlier exit's reviews are still due, so the schedule keeps them.
  std::vector<std::string> reviews;
  for (const auto& d : pack->review_schedule()) {
    reviews.push_back(absl::StrCat(d.rule_id(), " [", d.key(), "] due ",
                                   Text(d.due()), ": ",
                                   StatusName(d.status())));
  }
  EXPECT_THAT(
      reviews,
      ElementsAre("channel-post-exit-6m [CH-0117] due 2026-04-30: PENDING",
                  "channel-post-exit-12m [CH-0117] due 2026-10-30: "
                  "PENDING"));
  EXPECT_EQ(pack->individual().age().years(), 15);
  EXPECT_EQ(pack->individual().age().months(), 9);
  EXPECT_THAT(pack->individual().current_status(),
              ElementsAre("case-haddad: CHANNEL"));
  EXPECT_THAT(EntryIds({pack->chronology_extract().begin(),
                        pack->chronology_extract().end()}),
              ElementsAre("pr1", "panel1", "cons1", "exit1", "c2", "pr2"));

  // The reopened case: the new contact awaits a decision (due Tuesday 3
  // March); the old Channel case's reviews still stand.
  const v1::CaseState state = StateOn(snapshot.model, CivilDay(2026, 3, 9));
  EXPECT_FALSE(state.closed());
  EXPECT_EQ(state.stage(), v1::CASE_STAGE_CHANNEL);
  EXPECT_EQ(state.prevent_episodes_size(), 2);
  EXPECT_THAT(
      DeadlineLines(state),
      ElementsAre("channel-post-exit-6m [CH-0117] from exit1 2025-10-30 due "
                  "2026-04-30: PENDING",
                  "channel-post-exit-12m [CH-0117] from exit1 2025-10-30 due "
                  "2026-10-30: PENDING",
                  "referral-decision-1wd from c2 2026-03-02 due 2026-03-03: "
                  "OVERDUE"));

  // Nobody else has a pack.
  EXPECT_EQ(BuildChannelPanelPack(FoldConfig::Default(), "p-noor", {&snapshot},
                                  CivilDay(2026, 3, 9))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------
// Three whole cases.
// ---------------------------------------------------------------------------

// (a) The Ellis family: an s47 enquiry to a child protection plan.
Story EllisStory() {
  Story s("case-ellis", {"ch-mia"});
  s.Add("c1", CivilDay(2026, 12, 1),
        Contact("Maya Grant", "Designated Safeguarding Lead",
                "Mia has a burn mark on her hand and said her dad did it"),
        Significant({.hour = 9, .minute = 15}));
  s.Add("hm-mia", CivilDay(2026, 12, 1),
        Member("ch-mia", "Mia Ellis", CivilDay(2018, 3, 9), "subject child",
               false));
  s.Add(
      "hm-claire", CivilDay(2026, 12, 1),
      Member("p-claire", "Claire Ellis", CivilDay(1991, 7, 19), "mother", true),
      {.hour = 10, .minute = 10});
  s.Add(
      "hm-darren", CivilDay(2026, 12, 1),
      Member("p-darren", "Darren Ellis", CivilDay(1989, 11, 2), "father", true),
      {.hour = 10, .minute = 20});
  s.Add("alloc", CivilDay(2026, 12, 1),
        Allocated(Person("sw-ayo", "Ayo Bankole", "Social Worker", kCouncil),
                  "Assessment Team 2",
                  Person("tm-helen", "Helen Marsh", "Team Manager", kCouncil)),
        {.hour = 11});
  s.Add("rd1", CivilDay(2026, 12, 1),
        Referral(v1::REFERRAL_OUTCOME_STRATEGY_DISCUSSION,
                 Decided(TeamManager(), "non-accidental injury alleged")),
        Significant({.hour = 14}));
  s.Add("sd1", CivilDay(2026, 12, 2), Strategy(true), Significant());
  s.Add("s47", CivilDay(2026, 12, 2), S47Start("enq-1", "sd1"), {.hour = 12});
  s.Add("as1", CivilDay(2026, 12, 2),
        AssessmentStart("asm-mia", "ch-mia", CivilDay(2026, 12, 1)),
        {.hour = 13});
  s.Add("v1", CivilDay(2026, 12, 3),
        Visit(v1::VISIT_TYPE_S47, {Seen("ch-mia", true, true, true)}),
        {.hour = 15, .recorded_on = CivilDay(2026, 12, 4)});
  s.Add("chk", CivilDay(2026, 12, 14), Checkpoint("asm-mia"));
  s.Add("s47c", CivilDay(2026, 12, 16), S47End("enq-1", v1::S47_OUTCOME_ICPC));
  s.Add("sched", CivilDay(2026, 12, 16),
        Scheduled("conf-1", v1::CONFERENCE_TYPE_ICPC,
                  LondonTime(CivilDay(2026, 12, 22)), CivilDay(2026, 12, 23)),
        {.hour = 11});
  s.Add("icpc", CivilDay(2026, 12, 22),
        Conference("conf-1", v1::CONFERENCE_TYPE_ICPC,
                   {PlanFor("ch-mia", v1::CONFERENCE_PLAN_DECISION_PLAN_STARTED,
                            {v1::ABUSE_CATEGORY_PHYSICAL})}),
        Significant());
  s.Add("auth", CivilDay(2026, 12, 23), AssessmentDone("asm-mia", "ch-mia"));
  s.Add("v2", CivilDay(2027, 1, 5),
        Visit(v1::VISIT_TYPE_CHILD_PROTECTION,
              {Seen("ch-mia", true, false, true)}));
  s.Add("nsa", CivilDay(2027, 1, 6), NotSeenAloneAccepted("ch-mia", "v2"));
  s.Add("cg", CivilDay(2027, 1, 7), CoreGroup("cp-mia"));
  s.Add("rcpc", CivilDay(2027, 3, 22),
        Conference(
            "conf-2", v1::CONFERENCE_TYPE_RCPC,
            {PlanFor("ch-mia", v1::CONFERENCE_PLAN_DECISION_PLAN_CONTINUED)}));
  return s;
}

TEST(CaseFoldTest, EllisS47EnquiryToChildProtectionPlan) {
  const Story s = EllisStory();

  // Friday 18 December 2026, before the conference, as known then.
  EXPECT_THAT(
      DeadlineLines(
          StateOn(s.FoldBefore("icpc").model, CivilDay(2026, 12, 18))),
      ElementsAre(
          // Contact Tuesday 1 December: 1 working day = Wednesday 2.
          "referral-decision-1wd from c1 2026-12-01 due 2026-12-02: MET",
          // Strategy discussion Wednesday 2 December: 3-4 (2), 7-11 (7),
          // 14-18 (12), 21-23 (15): Wednesday 23 December.
          "icpc-15wd from sd1 2026-12-02 due 2026-12-23: PENDING",
          // From the referral, Tuesday 1 December: Dec 2-4 (3), 7-11 (8),
          // 14-18 (13), 21-24 (17), 29-31 (20; 25 and the substitute 28
          // excluded); Jan 4-8 (25; 1 Jan excluded), 11-15 (30), 18-22 (35),
          // 25-29 (40); Feb 1-5 (45): Friday 5 February 2027.
          "assessment-45wd [asm-mia] from as1 2026-12-01 due 2027-02-05: "
          "PENDING",
          // 2-4 (3), 7-11 (8), 14-15 (10): Tuesday 15 December.
          "assessment-checkpoint-10wd [asm-mia] from as1 2026-12-01 due "
          "2026-12-15: MET",
          // Visit Thursday 3 December: 4 (1), 7 (2): Monday 7 December;
          // recorded on the 4th.
          "visit-recorded-2wd from v1 2026-12-03 due 2026-12-07: MET"));

  const CaseSnapshot all = s.Fold();
  const v1::CaseState state = StateOn(all.model, CivilDay(2027, 4, 1));
  EXPECT_THAT(
      DeadlineLines(state),
      ElementsAre(
          "referral-decision-1wd from c1 2026-12-01 due 2026-12-02: MET",
          "icpc-15wd from sd1 2026-12-02 due 2026-12-23: MET",
          "assessment-45wd [asm-mia] from as1 2026-12-01 due 2027-02-05: MET",
          "assessment-checkpoint-10wd [asm-mia] from as1 2026-12-01 due "
          "2026-12-15: MET",
          "visit-recorded-2wd from v1 2026-12-03 due 2026-12-07: MET",
          // ICPC Tuesday 22 December: 23, 24 (2), 29-31 (5), Jan 4-8 (10):
          // Friday 8 January 2027.
          "first-core-group-10wd from icpc 2026-12-22 due 2027-01-08: MET",
          // Three months from 22 December 2026: Monday 22 March 2027.
          "first-rcpc-3m from icpc 2026-12-22 due 2027-03-22: MET",
          // Visit Tuesday 5 January 2027: 6 (1), 7 (2): Thursday 7 January.
          "visit-recorded-2wd from v2 2027-01-05 due 2027-01-07: MET",
          // Six months from the review on 22 March 2027: Wednesday 22
          // September 2027.
          "rcpc-6m from rcpc 2027-03-22 due 2027-09-22: PENDING"));
  const v1::Deadline icpc = FindDeadline(state, "icpc-15wd", "sd1");
  EXPECT_EQ(icpc.met_by_event_id(), "icpc");
  EXPECT_EQ(icpc.working_days_late(), -1);
  EXPECT_EQ(
      FindDeadline(state, "first-core-group-10wd", "icpc").met_by_event_id(),
      "cg");

  EXPECT_THAT(FlagLines(state),
              ElementsAre("CHILD_NOT_SEEN_ALONE v2 ch-mia raised by v2, "
                          "cleared by nsa"));
  EXPECT_THAT(state.outstanding_authorisations(), IsEmpty());
  EXPECT_EQ(state.stage(), v1::CASE_STAGE_CHILD_PROTECTION);
  EXPECT_THAT(state.legal_basis(),
              ElementsAre("ch-mia: child protection plan (physical)"));
  EXPECT_THAT(state.open_s47_enquiries(), IsEmpty());
  EXPECT_THAT(state.open_assessments(), IsEmpty());
  ASSERT_EQ(state.children_size(), 1);
  EXPECT_EQ(state.children(0).name(), "Mia Ellis");
  EXPECT_EQ(Text(state.children(0).last_seen()), "2027-01-05");
  EXPECT_EQ(Text(state.children(0).last_seen_alone()), "2026-12-03");
  EXPECT_EQ(Text(state.children(0).last_bedroom_seen()), "2027-01-05");
  EXPECT_THAT(PersonIds(state.household()),
              ElementsAre("ch-mia", "p-claire", "p-darren"));
  EXPECT_EQ(state.allocation().worker().name(), "Ayo Bankole");
  EXPECT_EQ(state.re_referrals_within_12_months(), 0u);
  EXPECT_EQ(state.event_count(), 19u);

  const auto chronology = Chronology(all);
  EXPECT_EQ(chronology.size(), 19u);
  EXPECT_EQ(Entry(chronology, "c1").child_ages(0).years(), 8);
  EXPECT_EQ(Entry(chronology, "c1").child_ages(0).months(), 8);
  EXPECT_EQ(Entry(chronology, "icpc").headline(),
            "ICPC held: ch-mia: plan started");
  EXPECT_EQ(Entry(chronology, "rd1").action(),
            "strategy discussion (decided by Helen Marsh, Team Manager)");
  ChronologyFilter significant;
  significant.significant_only = true;
  EXPECT_THAT(EntryIds(Chronology(all, significant)),
              ElementsAre("c1", "rd1", "sd1", "icpc"));
}

// (b) Jordan Pike: a Prevent referral through Channel support, exit and the
// six-month review.
Story PikeStory() {
  Story s("case-pike", {"ch-jordan"});
  s.Add("hm-jordan", CivilDay(2026, 1, 12),
        Member("ch-jordan", "Jordan Pike", CivilDay(2009, 7, 2),
               "subject child", false),
        {.hour = 9});
  s.Add("hm-karen", CivilDay(2026, 1, 12),
        Member("p-karen", "Karen Pike", CivilDay(1980, 3, 3), "mother", true),
        {.hour = 9, .minute = 10});
  s.Add("pr", CivilDay(2026, 1, 12),
        PreventReferral("PR-2026-0031", "posting far-right material online"),
        Significant({.hour = 11}));
  s.Add("gw", CivilDay(2026, 1, 14),
        Gateway("PR-2026-0031", v1::GATEWAY_OUTCOME_TO_CHANNEL),
        {.agency = kPolice, .user = "ds-rhodes", .role = "Detective Sergeant"});
  s.Add("cr", CivilDay(2026, 1, 15),
        ChannelReferral("CH-2026-007", "PR-2026-0031"));
  s.Add("req", CivilDay(2026, 1, 16), S38Request("s38-7"));
  s.Add("ret", CivilDay(2026, 1, 21), S38Return("s38-7"));
  s.Add("va", CivilDay(2026, 1, 26), Vulnerability("CH-2026-007"));
  s.Add("panel", CivilDay(2026, 1, 29),
        Panel("CH-2026-007", v1::PANEL_DECISION_ADOPT), Significant());
  s.Add("consent", CivilDay(2026, 2, 2),
        ChannelConsent("CH-2026-007", v1::CONSENT_STATUS_GIVEN, "Karen Pike"));
  s.Add("plan", CivilDay(2026, 2, 4),
        SupportPlan("CH-2026-007", "sp-1", "consent", CivilDay(2026, 5, 6)));
  s.Add("iv1", CivilDay(2026, 2, 10), Intervention("CH-2026-007", "sp-1"));
  s.Add("iv2", CivilDay(2026, 2, 24), Intervention("CH-2026-007", "sp-1"));
  s.Add("exit", CivilDay(2026, 6, 30),
        Exited("CH-2026-007", "vulnerabilities addressed"),
        Significant({.direction = v1::Significance::DIRECTION_POSITIVE}));
  s.Add("close", CivilDay(2026, 7, 1),
        Closed(v1::CASE_CLOSURE_REASON_RC7_SERVICES_CEASED));
  s.Add("pe6", CivilDay(2026, 12, 30),
        PostExitReview("CH-2026-007", v1::POST_EXIT_REVIEW_POINT_SIX_MONTHS));
  return s;
}

TEST(CaseFoldTest, PikeChannelSupportExitAndSixMonthReview) {
  const CaseSnapshot all = PikeStory().Fold();
  const v1::CaseState state = StateOn(all.model, CivilDay(2027, 1, 4));
  // Exit Tuesday 30 June 2026: six months is Wednesday 30 December 2026 (a
  // working day between the substitute Boxing Day and New Year's Day);
  // twelve months is Wednesday 30 June 2027.
  EXPECT_THAT(
      DeadlineLines(state),
      ElementsAre("channel-post-exit-6m [CH-2026-007] from exit 2026-06-30 due "
                  "2026-12-30: MET",
                  "channel-post-exit-12m [CH-2026-007] from exit 2026-06-30 "
                  "due 2027-06-30: PENDING"));
  EXPECT_THAT(FlagLines(state), IsEmpty());
  EXPECT_THAT(state.outstanding_authorisations(), IsEmpty());
  EXPECT_EQ(state.stage(), v1::CASE_STAGE_CLOSED);
  ASSERT_EQ(state.prevent_episodes_size(), 1);
  const v1::PreventEpisode& episode = state.prevent_episodes(0);
  EXPECT_EQ(episode.stage(), v1::CHANNEL_STAGE_EXITED);
  EXPECT_EQ(Text(episode.referred_on()), "2026-01-12");
  EXPECT_EQ(Text(episode.closed_on()), "2026-06-30");
  EXPECT_THAT(EventIds(episode.events()),
              ElementsAre("pr", "gw", "cr", "req", "ret", "va", "panel",
                          "consent", "plan", "iv1", "iv2", "exit", "pe6"));

  // Before the exit the case was at the Channel stage, in support.
  const v1::CaseState supported = PikeStory().FoldBefore("exit").model.state();
  EXPECT_EQ(supported.stage(), v1::CASE_STAGE_CHANNEL);
  EXPECT_EQ(supported.prevent_episodes(0).stage(), v1::CHANNEL_STAGE_SUPPORT);
  EXPECT_THAT(supported.deadlines(), IsEmpty());

  auto pack = BuildChannelPanelPack(FoldConfig::Default(), "ch-jordan", {&all},
                                    CivilDay(2027, 1, 4));
  ASSERT_TRUE(pack.ok()) << pack.status();
  EXPECT_FALSE(pack->repeat_referral());
  EXPECT_EQ(pack->cover().case_reference(), "CH-2026-007");
  EXPECT_EQ(pack->cover().chair().name(), "Dana Lewis");
  EXPECT_THAT(EventIds(pack->referrals()), ElementsAre("pr", "gw", "cr"));
  EXPECT_THAT(EventIds(pack->agency_returns()), ElementsAre("req", "ret"));
  EXPECT_THAT(EventIds(pack->vulnerability_assessments()), ElementsAre("va"));
  EXPECT_THAT(EventIds(pack->consent()), ElementsAre("consent"));
  ASSERT_THAT(EventIds(pack->support_plans()),
              ElementsAre("plan", "iv1", "iv2"));
  EXPECT_TRUE(pack->support_plans(0)
                  .event()
                  .support_plan_agreed()
                  .support(0)
                  .intervention_provider());
  EXPECT_THAT(EventIds(pack->decisions()),
              ElementsAre("gw", "panel", "exit", "pe6"));
  EXPECT_THAT(EventIds(pack->exit()), ElementsAre("exit", "pe6"));
  // Born 2 July 2009: 17 years 6 months on 4 January 2027.
  EXPECT_EQ(pack->individual().age().years(), 17);
  EXPECT_EQ(pack->individual().age().months(), 6);
  EXPECT_THAT(PersonIds(pack->individual().parental_responsibility()),
              ElementsAre("p-karen"));
  EXPECT_THAT(EntryIds({pack->chronology_extract().begin(),
                        pack->chronology_extract().end()}),
              ElementsAre("pr", "panel", "exit"));
  ASSERT_EQ(pack->review_schedule_size(), 2);
  EXPECT_EQ(pack->review_schedule(0).status(), v1::DEADLINE_STATUS_MET);
  EXPECT_EQ(pack->review_schedule(1).status(), v1::DEADLINE_STATUS_PENDING);
  EXPECT_EQ(Text(pack->review_schedule(1).due()), "2027-06-30");
}

// (c) Noah Whitfield: an assessment extended past 45 working days by a
// Service Manager and authorised within the extension.
Story WhitfieldStory() {
  Story s("case-whitfield", {"ch-noah"});
  s.Add("c1", CivilDay(2026, 3, 2),
        Contact("Ruth Onu", "health visitor",
                "Noah has missed three appointments and is underweight"),
        {.hour = 9, .minute = 30});
  s.Add("hm-noah", CivilDay(2026, 3, 2),
        Member("ch-noah", "Noah Whitfield", CivilDay(2019, 11, 20),
               "subject child", false));
  s.Add(
      "hm-anna", CivilDay(2026, 3, 2),
      Member("p-anna", "Anna Whitfield", CivilDay(1994, 8, 8), "mother", true),
      {.hour = 10, .minute = 10});
  s.Add("hm-tomasz", CivilDay(2026, 3, 2),
        Member("p-tomasz", "Tomasz Nowak", CivilDay(1990, 1, 15),
               "mother's partner", false, "Polish"),
        {.hour = 10, .minute = 20});
  s.Add("rd1", CivilDay(2026, 3, 3),
        Referral(v1::REFERRAL_OUTCOME_ASSESSMENT,
                 Decided(TeamManager(), "faltering growth")));
  s.Add("as1", CivilDay(2026, 3, 4),
        AssessmentStart("asm-noah", "ch-noah", CivilDay(2026, 3, 2)));
  s.Add("v1", CivilDay(2026, 3, 10),
        Visit(v1::VISIT_TYPE_ASSESSMENT, {Seen("ch-noah", true, true, true)}));
  s.Add("int1", CivilDay(2026, 3, 11),
        Interpreter("p-tomasz", "Polish", true, SocialWorker()));
  s.Add("chk", CivilDay(2026, 3, 13), Checkpoint("asm-noah"));
  s.Add("req", CivilDay(2026, 4, 30),
        ExtensionRequest("asm-noah", CivilDay(2026, 5, 29)));
  s.Add("dec", CivilDay(2026, 5, 1),
        ExtensionDecision("asm-noah", "req", v1::EXTENSION_OUTCOME_APPROVED,
                          CivilDay(2026, 5, 29)));
  s.Add("auth", CivilDay(2026, 5, 20), AssessmentDone("asm-noah", "ch-noah"));
  s.Add("cin", CivilDay(2026, 5, 21),
        Plan("cin-noah", v1::PLAN_TYPE_CIN, v1::PLAN_CHANGE_START,
             CivilDay(2026, 5, 21)));
  return s;
}

TEST(CaseFoldTest, WhitfieldAssessmentExtendedByAServiceManager) {
  const Story s = WhitfieldStory();
  const v1::CaseModel model = s.Fold().model;
  const v1::CaseState state = StateOn(model, CivilDay(2026, 5, 29));
  EXPECT_THAT(
      DeadlineLines(state),
      ElementsAre(
          // Contact Monday 2 March 2026: Tuesday 3 March.
          "referral-decision-1wd from c1 2026-03-02 due 2026-03-03: MET",
          // From 2 March: March 3-31 (21), April 1-2 (23), 7-30 (41; Easter
          // 3 and 6 excluded), May 1 (42), 5-7 (45; 4 May excluded):
          // Thursday 7 May.
          "assessment-45wd [asm-noah] from as1 2026-03-02 due 2026-05-07: "
          "WITHIN_AUTHORISED_EXTENSION",
          // 3-6 (4), 9-13 (9), 16 (10): Monday 16 March.
          "assessment-checkpoint-10wd [asm-noah] from as1 2026-03-02 due "
          "2026-03-16: MET",
          // Visit Tuesday 10 March: Thursday 12 March.
          "visit-recorded-2wd from v1 2026-03-10 due 2026-03-12: MET"));
  const v1::Deadline assessment = FindDeadline(state, "assessment-45wd", "as1");
  EXPECT_EQ(Text(assessment.extended_to()), "2026-05-29");
  EXPECT_EQ(Text(assessment.extension_approved_on()), "2026-05-01");
  EXPECT_EQ(assessment.extension_event_id(), "dec");
  EXPECT_EQ(assessment.met_by_event_id(), "auth");
  // 8, 11-15, 18-20 May: 9 working days past the original date.
  EXPECT_EQ(assessment.working_days_late(), 9);
  EXPECT_EQ(StatusOn(model, "assessment-45wd", "as1", CivilDay(2026, 5, 7)),
            v1::DEADLINE_STATUS_DUE_TODAY);
  EXPECT_EQ(StatusOn(model, "assessment-45wd", "as1", CivilDay(2026, 5, 8)),
            v1::DEADLINE_STATUS_WITHIN_AUTHORISED_EXTENSION);
  // While the request awaited the Service Manager.
  EXPECT_THAT(
      OutstandingLines(s.FoldBefore("dec").model.state()),
      ElementsAre("AssessmentExtensionDecided for req since 2026-04-30"));

  EXPECT_THAT(FlagLines(state),
              ElementsAre("INTERPRETER_NOT_APPROVED hm-tomasz p-tomasz raised "
                          "by hm-tomasz, cleared by int1"));
  EXPECT_THAT(state.outstanding_authorisations(), IsEmpty());
  EXPECT_EQ(state.stage(), v1::CASE_STAGE_CHILD_IN_NEED);
  EXPECT_THAT(
      state.legal_basis(),
      ElementsAre("ch-noah: child in need plan (Children Act 1989 s17)"));
  EXPECT_THAT(PersonIds(state.household()),
              ElementsAre("ch-noah", "p-anna", "p-tomasz"));
  // rd1, int1, chk, dec, auth.
  ASSERT_EQ(model.decisions_size(), 5);
  EXPECT_EQ(model.decisions(3).event_id(), "dec");
  EXPECT_EQ(model.decisions(3).marker().decided_by().authority_level(),
            v1::AUTHORITY_LEVEL_SERVICE_MANAGER);
}

// ---------------------------------------------------------------------------
// Determinism (DESIGN.md property 6).
// ---------------------------------------------------------------------------

struct Bytes {
  std::string model;
  std::vector<std::string> entries;
};

Bytes FoldBytes(const Story& s) {
  const CaseSnapshot snapshot = s.Fold();
  Bytes b{Deterministic(snapshot.model), {}};
  for (const auto& e : snapshot.entries) b.entries.push_back(Deterministic(e));
  return b;
}

TEST(CaseFoldTest, FoldsAreDeterministicAndResumable) {
  for (const Story& s : {EllisStory(), HaddadStory(), CorrectedContact(),
                         WhitfieldStory(), PikeStory()}) {
    SCOPED_TRACE(s.case_id());
    const Bytes once = FoldBytes(s);
    const Bytes twice = FoldBytes(s);
    EXPECT_EQ(once.model, twice.model);
    EXPECT_EQ(once.entries, twice.entries);
    EXPECT_FALSE(once.model.empty());

    // Stop after any prefix, store the model, resume from the stored bytes.
    for (size_t split = 0; split <= s.events().size(); ++split) {
      SCOPED_TRACE(absl::StrCat("split at ", split));
      const CaseSnapshot first = s.Fold(split);
      v1::CaseModel stored;
      ASSERT_TRUE(stored.ParseFromString(Deterministic(first.model)));
      // A resumed fold finds earlier events through the log, as the runner's
      // does through the event store.
      CaseFold resumed(FoldConfig::Default(), std::move(stored),
                       [&s](const std::string& id)
                           -> absl::StatusOr<std::optional<uint64_t>> {
                         for (const v1::RecordedEvent& e : s.events()) {
                           if (e.event().event_id() == id) return e.position();
                         }
                         return std::nullopt;
                       });
      std::vector<std::string> entries;
      for (const auto& e : first.entries) entries.push_back(Deterministic(e));
      for (size_t i = split; i < s.events().size(); ++i) {
        v1::ChronologyEntry entry;
        if (resumed.Apply(s.events()[i], &entry)) {
          entries.push_back(Deterministic(entry));
        }
      }
      EXPECT_EQ(Deterministic(resumed.model()), once.model);
      EXPECT_EQ(entries, once.entries);
    }
  }
}

}  // namespace
}  // namespace casetrail::projections

// ---------------------------------------------------------------------------
// Inputs the fold must survive, and edges found in review.
// ---------------------------------------------------------------------------

namespace casetrail::projections {
namespace {

TEST(CaseFoldEdgesTest, AnEnumValueThisBuildDoesNotKnowIsShownByNumber) {
  Story s("case-enum", {"child-a"});
  s.Add("legal1", CivilDay(2026, 2, 2),
        Legal("child-a", static_cast<v1::LegalStatus>(99),
              v1::LEGAL_STATUS_CHANGE_STARTED, CivilDay(2026, 2, 2)));
  const v1::CaseState state = s.Fold().model.state();
  EXPECT_THAT(state.legal_basis(), ElementsAre("child-a: value 99"));
}

TEST(CaseFoldEdgesTest, ALongHeadlineIsCutAtACharacterBoundary) {
  // 200 two-byte characters and no space: a cut at byte 160 would split one.
  std::string concern;
  for (int i = 0; i < 201; ++i) concern += "\xC3\xA9";  // é
  Story s("case-utf8", {"child-a"});
  s.Add("c1", CivilDay(2026, 2, 2), Contact("Ann Lee", "teacher", concern));
  const CaseSnapshot snapshot = s.Fold();
  ASSERT_EQ(snapshot.entries.size(), 1u);
  // A proto3 string that is not valid UTF-8 serialises but does not parse.
  v1::ChronologyEntry parsed;
  ASSERT_TRUE(parsed.ParseFromString(snapshot.entries[0].SerializeAsString()));
  EXPECT_TRUE(absl::EndsWith(parsed.headline(), "\xC3\xA9..."));
}

TEST(CaseFoldEdgesTest, ABasisBeyondTheDecisionIsTheDecisionsOwnPosition) {
  Story s("case-basis", {"child-a"});
  s.Add("c1", CivilDay(2026, 2, 2), Contact("Ann Lee", "teacher", "bruise"));
  v1::Decision decision = Decided(TeamManager(), "assess");
  decision.mutable_information_basis()->set_log_position(1000);
  s.Add("rd1", CivilDay(2026, 2, 2),
        Referral(v1::REFERRAL_OUTCOME_ASSESSMENT, decision));
  const v1::CaseModel model = s.Fold().model;
  ASSERT_EQ(model.decisions_size(), 1);
  EXPECT_EQ(model.decisions(0).marker().information_basis_position(),
            s.PositionOf("rd1"));
}

TEST(CaseFoldEdgesTest, AChannelEventNamingNoChannelCaseJoinsTheOpenEpisode) {
  Story s("case-episode", {"child-a"});
  s.Add("pr1", CivilDay(2026, 2, 2), PreventReferral("PR-1", "concerns"));
  s.Add("cr1", CivilDay(2026, 2, 3), ChannelReferral("CH-1", "PR-1"));
  s.Add("va1", CivilDay(2026, 2, 4), Vulnerability(""));
  const v1::CaseState state = s.Fold().model.state();
  ASSERT_EQ(state.prevent_episodes_size(), 1);
  EXPECT_EQ(state.prevent_episodes(0).events_size(), 3);
}

TEST(CaseFoldEdgesTest, DeadlinesBeforeTheirTriggerHaveNotStarted) {
  Story s("case-early", {"child-a"});
  s.Add("c1", CivilDay(2026, 3, 6), Contact("Ann Lee", "teacher", "bruise"));
  EXPECT_EQ(StatusOn(s.Fold().model, "referral-decision-1wd", "c1",
                     CivilDay(2026, 3, 5)),
            v1::DEADLINE_STATUS_NOT_YET_STARTED);
}

TEST(CaseFoldEdgesTest, ADeadlineKeepsTheJurisdictionOfTheRuleThatSetIt) {
  // assessment-45wd is an English rule; the case moves to Wales before the
  // assessment is authorised, which still meets it.
  Story s("case-moved", {"child-a"});
  s.Add("a1", CivilDay(2026, 3, 2),
        AssessmentStart("A-1", "child-a", CivilDay(2026, 3, 2)));
  s.Add("done", CivilDay(2026, 4, 20), AssessmentDone("A-1", "child-a"),
        {.jurisdiction = v1::JURISDICTION_WALES});
  const v1::Deadline d = FindDeadline(
      StateOn(s.Fold().model, CivilDay(2026, 6, 1)), "assessment-45wd", "a1");
  EXPECT_EQ(d.jurisdiction(), v1::JURISDICTION_ENGLAND);
  EXPECT_EQ(d.status(), v1::DEADLINE_STATUS_MET);
  EXPECT_EQ(d.met_by_event_id(), "done");
}

TEST(CaseFoldEdgesTest, AnExtendedAssessmentNotYetDueEndsWithTheCase) {
  // Started 2 March 2026: due 7 May (45 working days past Easter); extended
  // to 29 May; the case closes on 20 May, inside the extension.
  Story s("case-extended", {"child-a"});
  s.Add("a1", CivilDay(2026, 3, 2),
        AssessmentStart("A-1", "child-a", CivilDay(2026, 3, 2)));
  s.Add("ext-req", CivilDay(2026, 4, 28),
        ExtensionRequest("A-1", CivilDay(2026, 5, 29)));
  s.Add("ext", CivilDay(2026, 4, 30),
        ExtensionDecision("A-1", "ext-req", v1::EXTENSION_OUTCOME_APPROVED,
                          CivilDay(2026, 5, 29)));
  s.Add("closed", CivilDay(2026, 5, 20),
        Closed(v1::CASE_CLOSURE_REASON_RC8_NO_FURTHER_ACTION));
  EXPECT_EQ(
      StatusOn(s.Fold().model, "assessment-45wd", "a1", CivilDay(2026, 6, 1)),
      v1::DEADLINE_STATUS_NOT_APPLICABLE);
}

}  // namespace
}  // namespace casetrail::projections
