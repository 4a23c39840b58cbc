// Deadlines of DOMAIN.md section C (rules 1-21, as shipped in
// projections/data/timescales.textproto) as the case fold records them and
// EvaluateDeadlines reads them on a day: every rule at its boundary (the day
// before, the due date, the next working day; met on the due date and a day
// late), extensions, lateness reasons, supersession and closure.
//
// Every due date below is computed by hand: the trigger day is day 0, N
// working days is the Nth working day after it (skipping Saturdays, Sundays
// and England and Wales bank holidays), and a month rule is the same day N
// months on, clamped to the month's end.

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/case_fold.h"
#include "projections/views.h"
#include "tests/projections/fold_story.h"

namespace casetrail::projections {
namespace {

namespace v1 = ::casetrail::v1;
using ::absl::CivilDay;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace ::casetrail::projections::story;  // NOLINT: test builders

constexpr auto kPending = v1::DEADLINE_STATUS_PENDING;
constexpr auto kDueToday = v1::DEADLINE_STATUS_DUE_TODAY;
constexpr auto kOverdue = v1::DEADLINE_STATUS_OVERDUE;
constexpr auto kMet = v1::DEADLINE_STATUS_MET;
constexpr auto kMetLate = v1::DEADLINE_STATUS_MET_LATE;
constexpr auto kMetLateWithReason = v1::DEADLINE_STATUS_MET_LATE_WITH_REASON;
constexpr auto kWithinExtension =
    v1::DEADLINE_STATUS_WITHIN_AUTHORISED_EXTENSION;
constexpr auto kSuperseded = v1::DEADLINE_STATUS_SUPERSEDED;
constexpr auto kNotApplicable = v1::DEADLINE_STATUS_NOT_APPLICABLE;

// The deadline `rule` that `trigger` started is due on `due`, and while it is
// not met it reads PENDING the day before, DUE_TODAY on the day and OVERDUE on
// `next_working_day`.
void ExpectBoundary(const v1::CaseModel& model, absl::string_view rule,
                    absl::string_view trigger, CivilDay due,
                    CivilDay next_working_day) {
  SCOPED_TRACE(absl::StrCat(rule, " from ", trigger));
  EXPECT_EQ(Text(FindDeadline(model.state(), rule, trigger).due()),
            Text(Date(due)));
  EXPECT_EQ(StatusOn(model, rule, trigger, due - 1), kPending);
  EXPECT_EQ(StatusOn(model, rule, trigger, due), kDueToday);
  EXPECT_EQ(StatusOn(model, rule, trigger, next_working_day), kOverdue);
  EXPECT_EQ(FindDeadline(StateOn(model, next_working_day), rule, trigger)
                .working_days_late(),
            1);
}

// The deadline's status on `day` once the case has folded `story`.
v1::DeadlineStatus Status(const Story& story, absl::string_view rule,
                          absl::string_view trigger, CivilDay day) {
  return StatusOn(story.Fold().model, rule, trigger, day);
}

v1::Decision ManagerDecision() {
  return Decided(TeamManager(), "threshold for assessment met");
}

// ---------------------------------------------------------------------------
// Rule 1: referral decision within 1 working day of the contact.
// ---------------------------------------------------------------------------

TEST(DeadlinesTest, ReferralDecisionOneWorkingDayAcrossChristmas2025) {
  // Contact on Wednesday 24 December 2025 (day 0). Thursday 25 and Friday 26
  // are bank holidays and 27-28 the weekend: working day 1 is Monday 29.
  Story contact("case-rd", {"child-a"});
  contact.Add("c1", CivilDay(2025, 12, 24),
              Contact("Joan Pell", "class teacher", "child left alone"));
  const v1::CaseModel model = contact.Fold().model;

  const v1::Deadline d =
      FindDeadline(model.state(), "referral-decision-1wd", "c1");
  EXPECT_EQ(d.rule_version(), 1u);
  EXPECT_EQ(d.rule_set(), "casetrail-default");
  EXPECT_EQ(d.rule_set_version(), 2u);
  EXPECT_EQ(d.key(), "");
  EXPECT_EQ(d.trigger_event_type(), "ContactReceived");
  EXPECT_EQ(Text(d.trigger_date()), "2025-12-24");
  EXPECT_EQ(Text(d.due()), "2025-12-29");
  EXPECT_TRUE(d.error().empty());
  // The stored model holds facts only; statuses are set when evaluated.
  EXPECT_EQ(d.status(), v1::DEADLINE_STATUS_UNSPECIFIED);

  ExpectBoundary(model, "referral-decision-1wd", "c1", CivilDay(2025, 12, 29),
                 CivilDay(2025, 12, 30));
  // Boxing Day is not a working day: still pending, one working day to go.
  const v1::Deadline boxing_day = FindDeadline(
      StateOn(model, CivilDay(2025, 12, 26)), "referral-decision-1wd", "c1");
  EXPECT_EQ(boxing_day.status(), kPending);
  EXPECT_EQ(boxing_day.working_days_late(), -1);
  EXPECT_EQ(Text(boxing_day.evaluated_on()), "2025-12-26");

  Story on_time = contact;
  on_time.Add("rd1", CivilDay(2025, 12, 29),
              Referral(v1::REFERRAL_OUTCOME_ASSESSMENT, ManagerDecision()));
  const v1::Deadline met =
      FindDeadline(StateOn(on_time.Fold().model, CivilDay(2026, 1, 5)),
                   "referral-decision-1wd", "c1");
  EXPECT_EQ(met.status(), kMet);
  EXPECT_EQ(met.met_by_event_id(), "rd1");
  EXPECT_EQ(Text(met.met_on()), "2025-12-29");
  EXPECT_EQ(met.working_days_late(), 0);

  Story late = contact;
  late.Add("rd1", CivilDay(2025, 12, 30),
           Referral(v1::REFERRAL_OUTCOME_ASSESSMENT, ManagerDecision()));
  const v1::CaseModel late_model = late.Fold().model;
  const v1::Deadline met_late = FindDeadline(
      StateOn(late_model, CivilDay(2026, 1, 5)), "referral-decision-1wd", "c1");
  EXPECT_EQ(met_late.status(), kMetLate);
  EXPECT_EQ(met_late.working_days_late(), 1);
  // Evaluated on the due date, before the decision: due that day.
  EXPECT_EQ(StatusOn(late_model, "referral-decision-1wd", "c1",
                     CivilDay(2025, 12, 29)),
            kDueToday);
}

TEST(DeadlinesTest, ReferralDecisionOneWorkingDayAcrossEaster2026) {
  // Contact on Maundy Thursday, 2 April 2026. Good Friday (3), the weekend
  // (4-5) and Easter Monday (6) are not working days: day 1 is Tuesday 7.
  Story contact("case-rd", {"child-a"});
  contact.Add("c1", CivilDay(2026, 4, 2),
              Contact("Dr Imran Shah", "GP", "unexplained weight loss"));
  ExpectBoundary(contact.Fold().model, "referral-decision-1wd", "c1",
                 CivilDay(2026, 4, 7), CivilDay(2026, 4, 8));
  EXPECT_EQ(
      Status(contact, "referral-decision-1wd", "c1", CivilDay(2026, 4, 6)),
      kPending);

  Story on_time = contact;
  on_time.Add(
      "rd1", CivilDay(2026, 4, 7),
      Referral(v1::REFERRAL_OUTCOME_NO_FURTHER_ACTION, ManagerDecision()));
  EXPECT_EQ(
      Status(on_time, "referral-decision-1wd", "c1", CivilDay(2026, 4, 30)),
      kMet);
  Story late = contact;
  late.Add("rd1", CivilDay(2026, 4, 8),
           Referral(v1::REFERRAL_OUTCOME_NO_FURTHER_ACTION, ManagerDecision()));
  EXPECT_EQ(Status(late, "referral-decision-1wd", "c1", CivilDay(2026, 4, 30)),
            kMetLate);
}

TEST(DeadlinesTest, ReferralDecisionOneWorkingDayAcrossNewYear) {
  // Contact on Wednesday 31 December 2025; 1 January 2026 is a bank holiday:
  // day 1 is Friday 2 January.
  Story contact("case-rd", {"child-a"});
  contact.Add(
      "c1", CivilDay(2025, 12, 31),
      Contact("PC Dale", "police officer", "domestic incident"),
      {.agency = kPolice, .user = "pc-dale", .role = "Police Constable"});
  ExpectBoundary(contact.Fold().model, "referral-decision-1wd", "c1",
                 CivilDay(2026, 1, 2), CivilDay(2026, 1, 5));
  EXPECT_EQ(
      Status(contact, "referral-decision-1wd", "c1", CivilDay(2026, 1, 1)),
      kPending);
}

// ---------------------------------------------------------------------------
// Rules 2 and 4: the assessment (45 working days) and its checkpoint (10),
// both from the referral date (AssessmentStarted.start_date), per assessment.
// ---------------------------------------------------------------------------

Story TwoAssessments() {
  Story s("case-asm", {"child-a", "child-b"});
  s.Add("c1", CivilDay(2026, 3, 10),
        Contact("Ruth Onu", "health visitor", "home conditions poor"));
  s.Add("rd1", CivilDay(2026, 3, 10),
        Referral(v1::REFERRAL_OUTCOME_ASSESSMENT, ManagerDecision()),
        {.hour = 15});
  // Work began on Thursday 12 March; the timescale runs from the referral
  // date, 10 March. The sibling's referral was a day later.
  s.Add("as-a", CivilDay(2026, 3, 12),
        AssessmentStart("asm-a", "child-a", CivilDay(2026, 3, 10)),
        {.children = std::vector<std::string>{"child-a"}});
  s.Add("as-b", CivilDay(2026, 3, 12),
        AssessmentStart("asm-b", "child-b", CivilDay(2026, 3, 11)),
        {.hour = 11, .children = std::vector<std::string>{"child-b"}});
  return s;
}

TEST(DeadlinesTest, AssessmentRunsFortyFiveWorkingDaysFromTheReferralPerChild) {
  const Story s = TwoAssessments();
  const v1::CaseModel model = s.Fold().model;
  // From Tuesday 10 March 2026: 15 working days to 31 March, 20 in April
  // (Good Friday 3 and Easter Monday 6 excluded) = 35 at 30 April; 1 May =
  // 36; 5-8 May (4 May bank holiday) = 40; 11-15 May = 45: Friday 15 May.
  const v1::Deadline a = FindDeadline(model.state(), "assessment-45wd", "as-a");
  EXPECT_EQ(a.key(), "asm-a");
  EXPECT_EQ(a.rule_version(), 2u);
  EXPECT_EQ(Text(a.trigger_date()), "2026-03-10");
  ExpectBoundary(model, "assessment-45wd", "as-a", CivilDay(2026, 5, 15),
                 CivilDay(2026, 5, 18));
  // From Wednesday 11 March: one working day later, Monday 18 May.
  const v1::Deadline b = FindDeadline(model.state(), "assessment-45wd", "as-b");
  EXPECT_EQ(b.key(), "asm-b");
  EXPECT_EQ(Text(b.trigger_date()), "2026-03-11");
  EXPECT_EQ(Text(b.due()), "2026-05-18");
  // The second assessment did not replace the first: each has its own.
  EXPECT_FALSE(a.superseded());

  // child-b's assessment authorised on 15 May meets only its own deadline.
  Story b_done = s;
  b_done.Add("auth-b", CivilDay(2026, 5, 15),
             AssessmentDone("asm-b", "child-b"),
             {.children = std::vector<std::string>{"child-b"}});
  EXPECT_EQ(Status(b_done, "assessment-45wd", "as-b", CivilDay(2026, 5, 15)),
            kMet);
  EXPECT_EQ(Status(b_done, "assessment-45wd", "as-a", CivilDay(2026, 5, 15)),
            kDueToday);

  Story on_time = s;
  on_time.Add("auth-a", CivilDay(2026, 5, 15),
              AssessmentDone("asm-a", "child-a"));
  EXPECT_EQ(Status(on_time, "assessment-45wd", "as-a", CivilDay(2026, 6, 1)),
            kMet);
  Story late = s;
  late.Add("auth-a", CivilDay(2026, 5, 18), AssessmentDone("asm-a", "child-a"));
  EXPECT_EQ(Status(late, "assessment-45wd", "as-a", CivilDay(2026, 6, 1)),
            kMetLate);
}

Story CheckpointOverEaster() {
  Story s("case-chk", {"child-a"});
  s.Add("as1", CivilDay(2026, 3, 25),
        AssessmentStart("asm-1", "child-a", CivilDay(2026, 3, 24)));
  return s;
}

TEST(DeadlinesTest, CheckpointTenWorkingDaysAcrossEaster2026) {
  // From Tuesday 24 March 2026: 25, 26, 27, 30, 31 March, 1, 2 April (7);
  // 3-6 April are Good Friday, the weekend and Easter Monday; 7, 8, 9 April
  // (10): Thursday 9 April.
  const Story s = CheckpointOverEaster();
  const v1::CaseModel model = s.Fold().model;
  EXPECT_EQ(
      FindDeadline(model.state(), "assessment-checkpoint-10wd", "as1").key(),
      "asm-1");
  ExpectBoundary(model, "assessment-checkpoint-10wd", "as1",
                 CivilDay(2026, 4, 9), CivilDay(2026, 4, 10));
  // The assessment itself: 45 working days from 24 March is Monday 1 June.
  EXPECT_EQ(Text(FindDeadline(model.state(), "assessment-45wd", "as1").due()),
            "2026-06-01");

  Story on_time = s;
  on_time.Add("chk", CivilDay(2026, 4, 9), Checkpoint("asm-1"));
  EXPECT_EQ(Status(on_time, "assessment-checkpoint-10wd", "as1",
                   CivilDay(2026, 4, 20)),
            kMet);
  Story late = s;
  late.Add("chk", CivilDay(2026, 4, 10), Checkpoint("asm-1"));
  EXPECT_EQ(
      Status(late, "assessment-checkpoint-10wd", "as1", CivilDay(2026, 4, 20)),
      kMetLate);
  // Another assessment's checkpoint does not count.
  Story other = s;
  other.Add("chk", CivilDay(2026, 4, 9), Checkpoint("asm-2"));
  EXPECT_EQ(
      Status(other, "assessment-checkpoint-10wd", "as1", CivilDay(2026, 4, 9)),
      kDueToday);
}

TEST(DeadlinesTest, CheckpointNotNeededWhenTheAssessmentEndsBeforeIt) {
  // Authorised on Wednesday 1 April, before the checkpoint fell due on 9
  // April: the assessment is met and the checkpoint no longer applies.
  Story s = CheckpointOverEaster();
  s.Add("auth", CivilDay(2026, 4, 1), AssessmentDone("asm-1", "child-a"));
  const v1::CaseModel model = s.Fold().model;
  EXPECT_EQ(StatusOn(model, "assessment-45wd", "as1", CivilDay(2026, 4, 10)),
            kMet);
  EXPECT_EQ(StatusOn(model, "assessment-checkpoint-10wd", "as1",
                     CivilDay(2026, 4, 10)),
            kNotApplicable);
  EXPECT_EQ(StatusOn(model, "assessment-checkpoint-10wd", "as1",
                     CivilDay(2026, 3, 31)),
            kPending);
  // A checkpoint already missed stays missed.
  Story missed = CheckpointOverEaster();
  missed.Add("auth", CivilDay(2026, 4, 13), AssessmentDone("asm-1", "child-a"));
  EXPECT_EQ(Status(missed, "assessment-checkpoint-10wd", "as1",
                   CivilDay(2026, 4, 20)),
            kOverdue);
}

// ---------------------------------------------------------------------------
// Rule 6: a visit recorded within 2 working days, met on the London day it
// was recorded.
// ---------------------------------------------------------------------------

Story VisitRecordedOn(std::optional<CivilDay> recorded_on,
                      std::optional<absl::Time> recorded_at = std::nullopt) {
  Story s("case-visit", {"child-a"});
  // Tuesday 23 December 2025.
  s.Add(
      "v1", CivilDay(2025, 12, 23),
      Visit(v1::VISIT_TYPE_CHILD_IN_NEED, {Seen("child-a", true, true, true)}),
      {.recorded_on = recorded_on, .recorded_at = recorded_at});
  return s;
}

TEST(DeadlinesTest, VisitRecordedWithinTwoWorkingDaysAcrossChristmas2025) {
  // Visit on Tuesday 23 December 2025: 24 December (1); 25-28 are bank
  // holidays and the weekend; Monday 29 December (2).
  const Story on_time = VisitRecordedOn(CivilDay(2025, 12, 29));
  const CaseSnapshot met = on_time.Fold();
  const v1::Deadline d = FindDeadline(
      StateOn(met.model, CivilDay(2025, 12, 29)), "visit-recorded-2wd", "v1");
  EXPECT_EQ(Text(d.trigger_date()), "2025-12-23");
  EXPECT_EQ(Text(d.due()), "2025-12-29");
  EXPECT_EQ(d.met_by_event_id(), "v1");
  EXPECT_EQ(Text(d.met_on()), "2025-12-29");
  EXPECT_EQ(d.status(), kMet);
  EXPECT_TRUE(met.model.state().flags().empty());
  ASSERT_EQ(met.entries.size(), 1u);
  EXPECT_EQ(met.entries[0].working_days_to_record(), 2);
  EXPECT_FALSE(met.entries[0].late_recording());
  // Before it was recorded the deadline was open.
  EXPECT_EQ(
      StatusOn(met.model, "visit-recorded-2wd", "v1", CivilDay(2025, 12, 24)),
      kPending);

  const Story late = VisitRecordedOn(CivilDay(2025, 12, 30));
  const CaseSnapshot late_fold = late.Fold();
  EXPECT_EQ(StatusOn(late_fold.model, "visit-recorded-2wd", "v1",
                     CivilDay(2025, 12, 28)),
            kPending);
  EXPECT_EQ(StatusOn(late_fold.model, "visit-recorded-2wd", "v1",
                     CivilDay(2025, 12, 29)),
            kDueToday);
  EXPECT_EQ(StatusOn(late_fold.model, "visit-recorded-2wd", "v1",
                     CivilDay(2025, 12, 30)),
            kMetLate);
  ASSERT_THAT(FlagLines(late_fold.model.state()),
              ElementsAre("VISIT_RECORDED_LATE v1 raised by v1"));
  EXPECT_EQ(late_fold.model.state().flags(0).description(),
            "visit on 2025-12-23 recorded on 2025-12-30, after 2025-12-29");
  EXPECT_EQ(late_fold.entries[0].working_days_to_record(), 3);
  EXPECT_TRUE(late_fold.entries[0].late_recording());

  const Story later = VisitRecordedOn(CivilDay(2025, 12, 31));
  EXPECT_EQ(Status(later, "visit-recorded-2wd", "v1", CivilDay(2025, 12, 30)),
            kOverdue);
}

TEST(DeadlinesTest, VisitRecordingIsMetOnTheLondonDayItWasRecorded) {
  // Visit on Wednesday 1 July 2026 (British Summer Time): due Friday 3 July.
  auto story = [](absl::Time recorded_at) {
    Story s("case-visit", {"child-a"});
    s.Add("v1", CivilDay(2026, 7, 1),
          Visit(v1::VISIT_TYPE_CHILD_IN_NEED,
                {Seen("child-a", true, true, false)}),
          {.recorded_at = recorded_at});
    return s;
  };
  const absl::TimeZone utc = absl::UTCTimeZone();
  // 22:30 UTC on 3 July is 23:30 in London, still the 3rd.
  const v1::Deadline in_time = FindDeadline(
      StateOn(story(absl::FromCivil(absl::CivilMinute(2026, 7, 3, 22, 30), utc))
                  .Fold()
                  .model,
              CivilDay(2026, 7, 6)),
      "visit-recorded-2wd", "v1");
  EXPECT_EQ(Text(in_time.due()), "2026-07-03");
  EXPECT_EQ(Text(in_time.met_on()), "2026-07-03");
  EXPECT_EQ(in_time.status(), kMet);
  // 23:30 UTC on 3 July is 00:30 on Saturday 4 July in London: late.
  const CaseSnapshot late =
      story(absl::FromCivil(absl::CivilMinute(2026, 7, 3, 23, 30), utc)).Fold();
  const v1::Deadline late_d = FindDeadline(
      StateOn(late.model, CivilDay(2026, 7, 6)), "visit-recorded-2wd", "v1");
  EXPECT_EQ(Text(late_d.met_on()), "2026-07-04");
  EXPECT_EQ(late_d.status(), kMetLate);
  EXPECT_THAT(FlagLines(late.model.state()),
              ElementsAre("VISIT_RECORDED_LATE v1 raised by v1"));
}

// ---------------------------------------------------------------------------
// Rule 12: ICPC within 15 working days of the (last) strategy discussion.
// ---------------------------------------------------------------------------

Story StrategyDiscussion12Dec() {
  Story s("case-icpc", {"child-a"});
  s.Add("sd1", CivilDay(2025, 12, 12), Strategy(true));
  s.Add("s47", CivilDay(2025, 12, 12), S47Start("enq-1", "sd1"), {.hour = 15});
  return s;
}

TEST(DeadlinesTest, IcpcFifteenWorkingDaysAcrossChristmasAndNewYear) {
  // Strategy discussion Friday 12 December 2025: 15-19 Dec (5), 22-24 Dec
  // (8), 29-31 Dec (11), 2 Jan (12; 1 Jan is a bank holiday), 5-7 Jan (15):
  // Wednesday 7 January 2026.
  const Story s = StrategyDiscussion12Dec();
  ExpectBoundary(s.Fold().model, "icpc-15wd", "sd1", CivilDay(2026, 1, 7),
                 CivilDay(2026, 1, 8));

  Story concluded = s;
  concluded.Add("s47c", CivilDay(2025, 12, 22),
                S47End("enq-1", v1::S47_OUTCOME_ICPC));
  // The enquiry recommending a conference leaves the deadline open.
  EXPECT_EQ(Status(concluded, "icpc-15wd", "sd1", CivilDay(2026, 1, 7)),
            kDueToday);

  Story on_time = concluded;
  on_time.Add(
      "icpc1", CivilDay(2026, 1, 7),
      Conference("conf-1", v1::CONFERENCE_TYPE_ICPC,
                 {PlanFor("child-a", v1::CONFERENCE_PLAN_DECISION_PLAN_STARTED,
                          {v1::ABUSE_CATEGORY_PHYSICAL})}));
  EXPECT_EQ(Status(on_time, "icpc-15wd", "sd1", CivilDay(2026, 1, 20)), kMet);
  Story late = concluded;
  late.Add(
      "icpc1", CivilDay(2026, 1, 8),
      Conference("conf-1", v1::CONFERENCE_TYPE_ICPC,
                 {PlanFor("child-a", v1::CONFERENCE_PLAN_DECISION_PLAN_STARTED,
                          {v1::ABUSE_CATEGORY_PHYSICAL})}));
  EXPECT_EQ(Status(late, "icpc-15wd", "sd1", CivilDay(2026, 1, 20)), kMetLate);
}

TEST(DeadlinesTest, IcpcRunsFromTheLastStrategyDiscussion) {
  Story s = StrategyDiscussion12Dec();
  // A further strategy discussion on Monday 5 January 2026 replaces the
  // deadline: 6-9 Jan (4), 12-16 (9), 19-23 (14), 26 (15): Monday 26 January.
  s.Add("sd2", CivilDay(2026, 1, 5), Strategy(true));
  s.Add(
      "icpc1", CivilDay(2026, 1, 8),
      Conference("conf-1", v1::CONFERENCE_TYPE_ICPC,
                 {PlanFor("child-a", v1::CONFERENCE_PLAN_DECISION_PLAN_STARTED,
                          {v1::ABUSE_CATEGORY_NEGLECT})}));
  const v1::CaseModel model = s.Fold().model;
  const v1::Deadline first =
      FindDeadline(StateOn(model, CivilDay(2026, 1, 8)), "icpc-15wd", "sd1");
  EXPECT_TRUE(first.superseded());
  EXPECT_EQ(first.closed_reason(),
            "replaced by a later StrategyDiscussionHeld");
  EXPECT_EQ(first.closed_by_event_id(), "sd2");
  EXPECT_EQ(Text(first.closed_on()), "2026-01-05");
  EXPECT_EQ(first.status(), kSuperseded);
  EXPECT_TRUE(first.met_by_event_id().empty());
  // As it stood before the second discussion.
  EXPECT_EQ(StatusOn(model, "icpc-15wd", "sd1", CivilDay(2026, 1, 2)),
            kPending);

  const v1::Deadline second =
      FindDeadline(StateOn(model, CivilDay(2026, 1, 8)), "icpc-15wd", "sd2");
  EXPECT_EQ(Text(second.due()), "2026-01-26");
  EXPECT_EQ(second.met_by_event_id(), "icpc1");
  EXPECT_EQ(second.status(), kMet);
}

TEST(DeadlinesTest, IcpcNotApplicableWhenTheEnquiryEndsWithoutAConference) {
  for (v1::S47Outcome outcome :
       {v1::S47_OUTCOME_NO_ICPC, v1::S47_OUTCOME_UNSUBSTANTIATED}) {
    SCOPED_TRACE(v1::S47Outcome_Name(outcome));
    Story s = StrategyDiscussion12Dec();
    s.Add("s47c", CivilDay(2025, 12, 22), S47End("enq-1", outcome));
    const v1::CaseModel model = s.Fold().model;
    const v1::Deadline d =
        FindDeadline(StateOn(model, CivilDay(2026, 1, 8)), "icpc-15wd", "sd1");
    EXPECT_EQ(d.status(), kNotApplicable);
    EXPECT_TRUE(d.not_applicable());
    EXPECT_FALSE(d.superseded());
    EXPECT_THAT(d.closed_reason(),
                HasSubstr(absl::StrCat("without a conference (",
                                       v1::S47Outcome_Name(outcome), ")")));
    EXPECT_EQ(d.closed_by_event_id(), "s47c");
    EXPECT_EQ(StatusOn(model, "icpc-15wd", "sd1", CivilDay(2025, 12, 19)),
              kPending);
    EXPECT_TRUE(model.state().open_s47_enquiries().empty());
  }
}

TEST(DeadlinesTest, IcpcDelayAgreedByManagerAndChairIsAReasonForLateness) {
  Story s = StrategyDiscussion12Dec();
  s.Add("s47c", CivilDay(2025, 12, 22), S47End("enq-1", v1::S47_OUTCOME_ICPC));
  Story agreed = s;
  agreed.Add(
      "sched", CivilDay(2026, 1, 5),
      Scheduled("conf-1", v1::CONFERENCE_TYPE_ICPC,
                LondonTime(CivilDay(2026, 1, 9)), CivilDay(2026, 1, 7),
                "paediatric report awaited", TeamManager(), ConferenceChair()));
  agreed.Add(
      "icpc1", CivilDay(2026, 1, 9),
      Conference("conf-1", v1::CONFERENCE_TYPE_ICPC,
                 {PlanFor("child-a", v1::CONFERENCE_PLAN_DECISION_PLAN_STARTED,
                          {v1::ABUSE_CATEGORY_PHYSICAL})}));
  const v1::CaseModel model = agreed.Fold().model;
  const v1::Deadline d =
      FindDeadline(StateOn(model, CivilDay(2026, 1, 12)), "icpc-15wd", "sd1");
  EXPECT_EQ(d.late_reason(),
            "paediatric report awaited (agreed by Helen Marsh (Team Manager) "
            "and Owen Pryce (Independent Chair))");
  EXPECT_EQ(Text(d.late_reason_recorded_on()), "2026-01-05");
  EXPECT_EQ(d.status(), kMetLateWithReason);
  // Thursday 8 and Friday 9 January: two working days late.
  EXPECT_EQ(d.working_days_late(), 2);
  // Not yet held on the 8th: a reason does not make an open deadline met.
  EXPECT_EQ(StatusOn(model, "icpc-15wd", "sd1", CivilDay(2026, 1, 8)),
            kOverdue);
  EXPECT_TRUE(model.state().outstanding_authorisations().empty());

  // Agreed by the manager only: late without a recorded reason, and the
  // chair's agreement is outstanding.
  Story manager_only = s;
  manager_only.Add(
      "sched", CivilDay(2026, 1, 5),
      Scheduled("conf-1", v1::CONFERENCE_TYPE_ICPC,
                LondonTime(CivilDay(2026, 1, 9)), CivilDay(2026, 1, 7),
                "paediatric report awaited", TeamManager(), std::nullopt));
  manager_only.Add(
      "icpc1", CivilDay(2026, 1, 9),
      Conference("conf-1", v1::CONFERENCE_TYPE_ICPC,
                 {PlanFor("child-a", v1::CONFERENCE_PLAN_DECISION_PLAN_STARTED,
                          {v1::ABUSE_CATEGORY_PHYSICAL})}));
  const v1::CaseModel partial = manager_only.Fold().model;
  EXPECT_EQ(StatusOn(partial, "icpc-15wd", "sd1", CivilDay(2026, 1, 12)),
            kMetLate);
  // The chair's agreement is outstanding until the conference is held; then
  // it can no longer be given, and the lateness shows in the deadline.
  EXPECT_THAT(OutstandingLines(manager_only.FoldBefore("icpc1").model.state()),
              ElementsAre("ConferenceScheduled for sched since 2026-01-05"));
  EXPECT_THAT(OutstandingLines(partial.state()), ::testing::IsEmpty());
}

// ---------------------------------------------------------------------------
// Rules 13 and 14: first core group within 10 working days of the ICPC; first
// review within 3 months, then at most 6 months apart.
// ---------------------------------------------------------------------------

Story IcpcOn(CivilDay day, v1::ConferencePlanDecision decision) {
  Story s("case-cp", {"child-a"});
  s.Add(
      "icpc1", day,
      Conference("conf-1", v1::CONFERENCE_TYPE_ICPC,
                 {PlanFor("child-a", decision, {v1::ABUSE_CATEGORY_NEGLECT})}));
  return s;
}

TEST(DeadlinesTest, FirstCoreGroupTenWorkingDaysAcrossChristmas2025) {
  // ICPC Thursday 18 December 2025: 19, 22, 23, 24 Dec (4); 29, 30, 31 Dec
  // (7); 2 Jan (8); 5, 6 Jan (10): Tuesday 6 January 2026.
  const Story s =
      IcpcOn(CivilDay(2025, 12, 18), v1::CONFERENCE_PLAN_DECISION_PLAN_STARTED);
  const v1::CaseModel model = s.Fold().model;
  ExpectBoundary(model, "first-core-group-10wd", "icpc1", CivilDay(2026, 1, 6),
                 CivilDay(2026, 1, 7));
  // And the first review three months on: Wednesday 18 March 2026.
  EXPECT_EQ(Text(FindDeadline(model.state(), "first-rcpc-3m", "icpc1").due()),
            "2026-03-18");

  Story on_time = s;
  on_time.Add("cg1", CivilDay(2026, 1, 6), CoreGroup("cp-1"));
  EXPECT_EQ(
      Status(on_time, "first-core-group-10wd", "icpc1", CivilDay(2026, 1, 20)),
      kMet);
  Story late = s;
  late.Add("cg1", CivilDay(2026, 1, 7), CoreGroup("cp-1"));
  EXPECT_EQ(
      Status(late, "first-core-group-10wd", "icpc1", CivilDay(2026, 1, 20)),
      kMetLate);
}

TEST(DeadlinesTest, NoPlanNoCoreGroupOrReview) {
  const v1::CaseModel model =
      IcpcOn(CivilDay(2025, 12, 18),
             v1::CONFERENCE_PLAN_DECISION_PLAN_NOT_REQUIRED)
          .Fold()
          .model;
  const v1::CaseState state = StateOn(model, CivilDay(2025, 12, 18));
  ASSERT_THAT(DeadlineLines(state),
              ElementsAre("first-core-group-10wd from icpc1 2025-12-18 due "
                          "2026-01-06: NOT_APPLICABLE",
                          "first-rcpc-3m from icpc1 2025-12-18 due 2026-03-18: "
                          "NOT_APPLICABLE"));
  EXPECT_EQ(state.deadlines(0).closed_reason(),
            "no child is subject to a child protection plan");
}

TEST(DeadlinesTest, FirstReviewConferenceThreeMonthsClamped) {
  // ICPC Tuesday 31 March 2026: three months on is "31 June", clamped to
  // Tuesday 30 June 2026 (month rules do not roll forward).
  const Story s =
      IcpcOn(CivilDay(2026, 3, 31), v1::CONFERENCE_PLAN_DECISION_PLAN_STARTED);
  const v1::CaseModel model = s.Fold().model;
  ExpectBoundary(model, "first-rcpc-3m", "icpc1", CivilDay(2026, 6, 30),
                 CivilDay(2026, 7, 1));
  // First core group: 1, 2, 7, 8, 9, 10 April (6; Easter 3-6 April), 13-16
  // April (10): Thursday 16 April.
  EXPECT_EQ(
      Text(FindDeadline(model.state(), "first-core-group-10wd", "icpc1").due()),
      "2026-04-16");

  auto review_on = [&](CivilDay day) {
    Story r = s;
    r.Add("rcpc1", day,
          Conference("conf-2", v1::CONFERENCE_TYPE_RCPC,
                     {PlanFor("child-a",
                              v1::CONFERENCE_PLAN_DECISION_PLAN_CONTINUED)}));
    return r;
  };
  EXPECT_EQ(Status(review_on(CivilDay(2026, 6, 30)), "first-rcpc-3m", "icpc1",
                   CivilDay(2026, 7, 10)),
            kMet);
  EXPECT_EQ(Status(review_on(CivilDay(2026, 7, 1)), "first-rcpc-3m", "icpc1",
                   CivilDay(2026, 7, 10)),
            kMetLate);
  // A second ICPC is not a review.
  Story second_icpc = s;
  second_icpc.Add(
      "icpc2", CivilDay(2026, 6, 30),
      Conference(
          "conf-3", v1::CONFERENCE_TYPE_ICPC,
          {PlanFor("child-a", v1::CONFERENCE_PLAN_DECISION_PLAN_STARTED)}));
  const v1::Deadline d =
      FindDeadline(StateOn(second_icpc.Fold().model, CivilDay(2026, 6, 30)),
                   "first-rcpc-3m", "icpc1");
  EXPECT_TRUE(d.met_by_event_id().empty());
}

Story ReviewOn(CivilDay day) {
  Story s("case-cp", {"child-a"});
  s.Add("rcpc1", day,
        Conference(
            "conf-2", v1::CONFERENCE_TYPE_RCPC,
            {PlanFor("child-a", v1::CONFERENCE_PLAN_DECISION_PLAN_CONTINUED)}));
  return s;
}

TEST(DeadlinesTest, ReviewConferencesAtMostSixMonthsApart) {
  // RCPC Tuesday 31 March 2026: "31 September" clamps to Wednesday 30
  // September 2026.
  const Story s = ReviewOn(CivilDay(2026, 3, 31));
  ExpectBoundary(s.Fold().model, "rcpc-6m", "rcpc1", CivilDay(2026, 9, 30),
                 CivilDay(2026, 10, 1));

  Story on_time = s;
  on_time.Add(
      "rcpc2", CivilDay(2026, 9, 30),
      Conference(
          "conf-3", v1::CONFERENCE_TYPE_RCPC,
          {PlanFor("child-a", v1::CONFERENCE_PLAN_DECISION_PLAN_CONTINUED)}));
  // The second review meets the first's deadline and starts the next: six
  // months from 30 September 2026 is Tuesday 30 March 2027.
  EXPECT_THAT(
      DeadlineLines(StateOn(on_time.Fold().model, CivilDay(2026, 10, 1))),
      ElementsAre("rcpc-6m from rcpc1 2026-03-31 due 2026-09-30: MET",
                  "rcpc-6m from rcpc2 2026-09-30 due 2027-03-30: "
                  "PENDING"));
  Story late = s;
  late.Add("rcpc2", CivilDay(2026, 10, 1),
           Conference("conf-3", v1::CONFERENCE_TYPE_RCPC,
                      {PlanFor("child-a",
                               v1::CONFERENCE_PLAN_DECISION_PLAN_CONTINUED)}));
  EXPECT_EQ(Status(late, "rcpc-6m", "rcpc1", CivilDay(2026, 10, 2)), kMetLate);

  // The plan ends at the review: no further review is needed.
  Story ended = s;
  ended.Add("rcpc2", CivilDay(2026, 9, 30),
            Conference(
                "conf-3", v1::CONFERENCE_TYPE_RCPC,
                {PlanFor("child-a", v1::CONFERENCE_PLAN_DECISION_PLAN_ENDED)}));
  EXPECT_THAT(DeadlineLines(StateOn(ended.Fold().model, CivilDay(2026, 10, 1))),
              ElementsAre("rcpc-6m from rcpc1 2026-03-31 due 2026-09-30: MET",
                          "rcpc-6m from rcpc2 2026-09-30 due 2027-03-30: "
                          "NOT_APPLICABLE"));

  // Friday 29 August 2025 + 6 months: there is no 29 February 2026, so
  // Saturday 28 February.
  EXPECT_EQ(
      Text(FindDeadline(ReviewOn(CivilDay(2025, 8, 29)).Fold().model.state(),
                        "rcpc-6m", "rcpc1")
               .due()),
      "2026-02-28");
}

// ---------------------------------------------------------------------------
// Rule 18: a closed Channel case reviewed 6 and 12 months after exit.
// ---------------------------------------------------------------------------

Story ExitOn31March() {
  Story s("case-ch", {"child-a"});
  s.Add("pr1", CivilDay(2025, 10, 1),
        PreventReferral("PR-1", "online material"));
  s.Add("cr1", CivilDay(2025, 10, 8), ChannelReferral("CH-1", "PR-1"));
  s.Add("exit1", CivilDay(2026, 3, 31),
        Exited("CH-1", "vulnerabilities addressed"));
  return s;
}

TEST(DeadlinesTest, ChannelPostExitReviewsAtSixAndTwelveMonths) {
  // Exit Tuesday 31 March 2026: six months is "31 September", clamped to
  // Wednesday 30 September 2026; twelve months is Wednesday 31 March 2027.
  const Story s = ExitOn31March();
  const v1::CaseModel model = s.Fold().model;
  const v1::Deadline six =
      FindDeadline(model.state(), "channel-post-exit-6m", "exit1");
  EXPECT_EQ(six.key(), "CH-1");
  EXPECT_EQ(six.rule_version(), 2u);
  ExpectBoundary(model, "channel-post-exit-6m", "exit1", CivilDay(2026, 9, 30),
                 CivilDay(2026, 10, 1));
  ExpectBoundary(model, "channel-post-exit-12m", "exit1", CivilDay(2027, 3, 31),
                 CivilDay(2027, 4, 1));

  Story six_done = s;
  // Another Channel case's review does not count.
  six_done.Add("other", CivilDay(2026, 9, 29),
               PostExitReview("CH-9", v1::POST_EXIT_REVIEW_POINT_SIX_MONTHS));
  six_done.Add("pe6", CivilDay(2026, 9, 30),
               PostExitReview("CH-1", v1::POST_EXIT_REVIEW_POINT_SIX_MONTHS));
  const v1::CaseState after_six =
      StateOn(six_done.Fold().model, CivilDay(2026, 10, 1));
  ASSERT_THAT(DeadlineLines(after_six),
              ElementsAre("channel-post-exit-6m [CH-1] from exit1 2026-03-31 "
                          "due 2026-09-30: MET",
                          "channel-post-exit-12m [CH-1] from exit1 2026-03-31 "
                          "due 2027-03-31: PENDING"));
  EXPECT_EQ(after_six.deadlines(0).met_by_event_id(), "pe6");

  Story late = s;
  late.Add("pe6", CivilDay(2026, 10, 1),
           PostExitReview("CH-1", v1::POST_EXIT_REVIEW_POINT_SIX_MONTHS));
  EXPECT_EQ(
      Status(late, "channel-post-exit-6m", "exit1", CivilDay(2026, 10, 2)),
      kMetLate);

  Story twelve = six_done;
  twelve.Add("pe12", CivilDay(2027, 3, 31),
             PostExitReview("CH-1", v1::POST_EXIT_REVIEW_POINT_TWELVE_MONTHS));
  EXPECT_EQ(
      Status(twelve, "channel-post-exit-12m", "exit1", CivilDay(2027, 4, 1)),
      kMet);
}

TEST(DeadlinesTest, PostExitReviewsOutliveTheCaseClosing) {
  // The local authority closes its case the day after the Channel exit. The
  // reviews are of the closed Channel case: closing the case does not make
  // them unnecessary.
  Story s = ExitOn31March();
  s.Add("close", CivilDay(2026, 4, 1),
        Closed(v1::CASE_CLOSURE_REASON_RC7_SERVICES_CEASED));
  const v1::CaseModel model = s.Fold().model;
  EXPECT_EQ(
      StatusOn(model, "channel-post-exit-6m", "exit1", CivilDay(2026, 9, 29)),
      kPending);
  EXPECT_EQ(
      StatusOn(model, "channel-post-exit-12m", "exit1", CivilDay(2027, 4, 1)),
      kOverdue);
}

// ---------------------------------------------------------------------------
// Rule 19: the Panel notified within 5 working days of becoming aware; the
// rapid review within 15 working days of the notification.
// ---------------------------------------------------------------------------

TEST(DeadlinesTest, RapidReviewFifteenWorkingDaysAcrossEaster2026) {
  // Became aware Friday 27 March 2026; notified Monday 30 March. Rapid review
  // from 30 March: 31 Mar, 1, 2 Apr (3); Easter 3-6 April; 7-10 (7), 13-17
  // (12), 20-22 (15): Wednesday 22 April.
  Story s("case-si", {"child-a"});
  s.Add("sin1", CivilDay(2026, 3, 30),
        Incident("CSPRP-2026-0311", LondonTime(CivilDay(2026, 3, 27), 16)));
  const v1::CaseModel model = s.Fold().model;
  ExpectBoundary(model, "rapid-review-15wd", "sin1", CivilDay(2026, 4, 22),
                 CivilDay(2026, 4, 23));
  EXPECT_EQ(Text(FindDeadline(model.state(), "rapid-review-15wd", "sin1")
                     .trigger_date()),
            "2026-03-30");

  Story on_time = s;
  on_time.Add("rr1", CivilDay(2026, 4, 22), RapidReview("sin1"));
  EXPECT_EQ(Status(on_time, "rapid-review-15wd", "sin1", CivilDay(2026, 5, 1)),
            kMet);
  Story late = s;
  late.Add("rr1", CivilDay(2026, 4, 23), RapidReview("sin1"));
  EXPECT_EQ(Status(late, "rapid-review-15wd", "sin1", CivilDay(2026, 5, 1)),
            kMetLate);

  // The Panel notification: 5 working days from 27 March is 30, 31 March, 1,
  // 2, 7 April: Tuesday 7 April; notified on 30 March, in time.
  const v1::Deadline notified = FindDeadline(
      StateOn(model, CivilDay(2026, 3, 30)), "panel-notification-5wd", "sin1");
  EXPECT_EQ(Text(notified.trigger_date()), "2026-03-27");
  EXPECT_EQ(Text(notified.due()), "2026-04-07");
  EXPECT_EQ(notified.status(), kMet);
}

TEST(DeadlinesTest, RapidReviewOutlivesTheCaseClosing) {
  // A child's death closes the case (RC2); the rapid review is still due.
  Story s("case-si", {"child-a"});
  s.Add("sin1", CivilDay(2026, 3, 30),
        Incident("CSPRP-2026-0311", LondonTime(CivilDay(2026, 3, 27), 16)));
  s.Add("close", CivilDay(2026, 3, 31),
        Closed(v1::CASE_CLOSURE_REASON_RC2_DIED));
  EXPECT_EQ(Status(s, "rapid-review-15wd", "sin1", CivilDay(2026, 4, 22)),
            kDueToday);
}

Story NotifiedOn(CivilDay day) {
  Story s("case-si", {"child-a"});
  // Became aware at 00:30 on Wednesday 1 April 2026, London time (23:30 UTC
  // on 31 March): day 0 is the London day, 1 April.
  s.Add("sin1", day,
        Incident("CSPRP-2026-0400", LondonTime(CivilDay(2026, 4, 1), 0, 30)));
  return s;
}

TEST(DeadlinesTest, PanelNotificationFiveWorkingDaysFromBecomingAware) {
  // From Wednesday 1 April 2026: 2 April (1); Easter 3-6 April; 7, 8, 9, 10
  // April (5): Friday 10 April. The notification itself meets it.
  const v1::Deadline on_time =
      FindDeadline(StateOn(NotifiedOn(CivilDay(2026, 4, 10)).Fold().model,
                           CivilDay(2026, 4, 10)),
                   "panel-notification-5wd", "sin1");
  EXPECT_EQ(Text(on_time.trigger_date()), "2026-04-01");
  EXPECT_EQ(Text(on_time.due()), "2026-04-10");
  EXPECT_EQ(on_time.met_by_event_id(), "sin1");
  EXPECT_EQ(on_time.status(), kMet);

  // Notified Tuesday 14 April: late. As it stood on the days before.
  const v1::CaseModel late = NotifiedOn(CivilDay(2026, 4, 14)).Fold().model;
  EXPECT_EQ(
      StatusOn(late, "panel-notification-5wd", "sin1", CivilDay(2026, 4, 9)),
      kPending);
  EXPECT_EQ(
      StatusOn(late, "panel-notification-5wd", "sin1", CivilDay(2026, 4, 10)),
      kDueToday);
  EXPECT_EQ(
      StatusOn(late, "panel-notification-5wd", "sin1", CivilDay(2026, 4, 13)),
      kOverdue);
  EXPECT_EQ(
      StatusOn(late, "panel-notification-5wd", "sin1", CivilDay(2026, 4, 14)),
      kMetLate);
  // Its rapid review runs from the notification: 15-17 April (3), 20-24 (8),
  // 27-30 (12), 1 May (13), 5, 6 May (15; 4 May is a bank holiday):
  // Wednesday 6 May.
  EXPECT_EQ(Text(FindDeadline(late.state(), "rapid-review-15wd", "sin1").due()),
            "2026-05-06");
}

// ---------------------------------------------------------------------------
// Rule 21: subject access requests, one month (three when extended) from
// receipt, rolled forward to a working day.
// ---------------------------------------------------------------------------

Story SarProcessedOn(CivilDay received, bool extended, CivilDay processed) {
  Story s("case-sar", {"child-a"});
  s.Add("sar1", processed, Sar("SAR-77", received, extended));
  return s;
}

TEST(DeadlinesTest, SubjectAccessOneMonthRolledPastEaster2026) {
  // Received Tuesday 3 March 2026: one month is Friday 3 April, Good Friday;
  // rolled past the weekend and Easter Monday to Tuesday 7 April.
  const v1::Deadline met = FindDeadline(
      StateOn(SarProcessedOn(CivilDay(2026, 3, 3), false, CivilDay(2026, 4, 7))
                  .Fold()
                  .model,
              CivilDay(2026, 4, 7)),
      "sar-1m", "sar1");
  EXPECT_EQ(Text(met.trigger_date()), "2026-03-03");
  EXPECT_EQ(Text(met.due()), "2026-04-07");
  EXPECT_EQ(met.status(), kMet);

  const v1::CaseModel late =
      SarProcessedOn(CivilDay(2026, 3, 3), false, CivilDay(2026, 4, 8))
          .Fold()
          .model;
  EXPECT_EQ(StatusOn(late, "sar-1m", "sar1", CivilDay(2026, 4, 6)), kPending);
  EXPECT_EQ(StatusOn(late, "sar-1m", "sar1", CivilDay(2026, 4, 7)), kDueToday);
  EXPECT_EQ(StatusOn(late, "sar-1m", "sar1", CivilDay(2026, 4, 8)), kMetLate);
  const v1::CaseModel later =
      SarProcessedOn(CivilDay(2026, 3, 3), false, CivilDay(2026, 4, 9))
          .Fold()
          .model;
  EXPECT_EQ(StatusOn(later, "sar-1m", "sar1", CivilDay(2026, 4, 8)), kOverdue);
  // Not extended: no three-month deadline.
  EXPECT_THAT(DeadlineLines(StateOn(later, CivilDay(2026, 4, 9))),
              ElementsAre("sar-1m from sar1 2026-03-03 due 2026-04-07: "
                          "MET_LATE"));
}

TEST(DeadlinesTest, ExtendedSubjectAccessThreeMonthsRolledPastChristmas2026) {
  // Received Friday 25 September 2026: three months is Friday 25 December,
  // Christmas Day; the weekend and the substitute Boxing Day (Monday 28)
  // follow: Tuesday 29 December 2026.
  const v1::CaseModel met =
      SarProcessedOn(CivilDay(2026, 9, 25), true, CivilDay(2026, 12, 29))
          .Fold()
          .model;
  EXPECT_THAT(DeadlineLines(StateOn(met, CivilDay(2026, 12, 29))),
              ElementsAre("sar-3m-extended from sar1 2026-09-25 due "
                          "2026-12-29: MET"));
  const v1::CaseModel late =
      SarProcessedOn(CivilDay(2026, 9, 25), true, CivilDay(2026, 12, 30))
          .Fold()
          .model;
  EXPECT_EQ(StatusOn(late, "sar-3m-extended", "sar1", CivilDay(2026, 12, 28)),
            kPending);
  EXPECT_EQ(StatusOn(late, "sar-3m-extended", "sar1", CivilDay(2026, 12, 29)),
            kDueToday);
  EXPECT_EQ(StatusOn(late, "sar-3m-extended", "sar1", CivilDay(2026, 12, 30)),
            kMetLate);
}

// ---------------------------------------------------------------------------
// Rule 3: assessment extensions (Service Manager's decision).
// ---------------------------------------------------------------------------

// An assessment from Monday 1 December 2025: 45 working days over Christmas
// (25, 26 December) and New Year (1 January):
//   Dec: 2-5 (4), 8-12 (9), 15-19 (14), 22-24 (17), 29-31 (20).
//   Jan: 2 (21), 5-9 (26), 12-16 (31), 19-23 (36), 26-30 (41).
//   Feb: 2 (42), 3 (43), 4 (44), 5 (45): Thursday 5 February 2026.
Story AssessmentFrom1December() {
  Story s("case-ext", {"child-a"});
  s.Add("as1", CivilDay(2025, 12, 1),
        AssessmentStart("asm-1", "child-a", CivilDay(2025, 12, 1)));
  return s;
}

TEST(DeadlinesTest, ExtensionApprovedBeforeTheDeadline) {
  Story s = AssessmentFrom1December();
  s.Add("req", CivilDay(2026, 2, 2),
        ExtensionRequest("asm-1", CivilDay(2026, 2, 19)));
  {
    const v1::CaseState requested = s.Fold().model.state();
    EXPECT_THAT(
        OutstandingLines(requested),
        ElementsAre("AssessmentExtensionDecided for req since 2026-02-02"));
  }
  s.Add("dec", CivilDay(2026, 2, 3),
        ExtensionDecision("asm-1", "req", v1::EXTENSION_OUTCOME_APPROVED,
                          CivilDay(2026, 2, 19)));
  const v1::CaseModel model = s.Fold().model;
  EXPECT_TRUE(model.state().outstanding_authorisations().empty());
  const v1::Deadline d = FindDeadline(model.state(), "assessment-45wd", "as1");
  EXPECT_EQ(Text(d.due()), "2026-02-05");
  EXPECT_EQ(Text(d.extended_to()), "2026-02-19");
  EXPECT_EQ(Text(d.extension_approved_on()), "2026-02-03");
  EXPECT_EQ(d.extension_event_id(), "dec");
  // The checkpoint is not extended.
  EXPECT_FALSE(FindDeadline(model.state(), "assessment-checkpoint-10wd", "as1")
                   .has_extended_to());

  EXPECT_EQ(StatusOn(model, "assessment-45wd", "as1", CivilDay(2026, 2, 4)),
            kPending);
  EXPECT_EQ(StatusOn(model, "assessment-45wd", "as1", CivilDay(2026, 2, 5)),
            kDueToday);
  EXPECT_EQ(StatusOn(model, "assessment-45wd", "as1", CivilDay(2026, 2, 6)),
            kWithinExtension);
  EXPECT_EQ(StatusOn(model, "assessment-45wd", "as1", CivilDay(2026, 2, 19)),
            kWithinExtension);
  // Past the extension: overdue, counted from the original date (6, 9-13,
  // 16-20 February: 11 working days).
  const v1::Deadline overdue = FindDeadline(
      StateOn(model, CivilDay(2026, 2, 20)), "assessment-45wd", "as1");
  EXPECT_EQ(overdue.status(), kOverdue);
  EXPECT_EQ(overdue.working_days_late(), 11);

  Story within = s;
  within.Add("auth", CivilDay(2026, 2, 12), AssessmentDone("asm-1", "child-a"));
  const v1::Deadline met =
      FindDeadline(StateOn(within.Fold().model, CivilDay(2026, 3, 2)),
                   "assessment-45wd", "as1");
  EXPECT_EQ(met.status(), kWithinExtension);
  // 6, 9, 10, 11, 12 February.
  EXPECT_EQ(met.working_days_late(), 5);

  Story beyond = s;
  beyond.Add("auth", CivilDay(2026, 2, 23), AssessmentDone("asm-1", "child-a"));
  EXPECT_EQ(Status(beyond, "assessment-45wd", "as1", CivilDay(2026, 3, 2)),
            kMetLate);
}

TEST(DeadlinesTest, ExtensionApprovedAfterTheDeadline) {
  Story s = AssessmentFrom1December();
  s.Add("req", CivilDay(2026, 2, 9),
        ExtensionRequest("asm-1", CivilDay(2026, 2, 27)));
  s.Add("dec", CivilDay(2026, 2, 11),
        ExtensionDecision("asm-1", "req", v1::EXTENSION_OUTCOME_APPROVED,
                          CivilDay(2026, 2, 27)));
  s.Add("auth", CivilDay(2026, 2, 20), AssessmentDone("asm-1", "child-a"));
  const v1::CaseModel model = s.Fold().model;
  // Overdue from the day after the due date until the approval...
  EXPECT_EQ(StatusOn(model, "assessment-45wd", "as1", CivilDay(2026, 2, 6)),
            kOverdue);
  EXPECT_EQ(StatusOn(model, "assessment-45wd", "as1", CivilDay(2026, 2, 10)),
            kOverdue);
  // ...open within the approved extension once it is approved...
  EXPECT_EQ(StatusOn(model, "assessment-45wd", "as1", CivilDay(2026, 2, 11)),
            kWithinExtension);
  // ...and, met within it, late with a recorded reason.
  EXPECT_EQ(StatusOn(model, "assessment-45wd", "as1", CivilDay(2026, 2, 20)),
            kMetLateWithReason);
}

TEST(DeadlinesTest, RefusedExtensionClearsTheRequestButExtendsNothing) {
  Story s = AssessmentFrom1December();
  s.Add("req", CivilDay(2026, 2, 2),
        ExtensionRequest("asm-1", CivilDay(2026, 2, 19)));
  s.Add("dec", CivilDay(2026, 2, 3),
        ExtensionDecision("asm-1", "req", v1::EXTENSION_OUTCOME_REFUSED,
                          std::nullopt));
  const v1::CaseModel model = s.Fold().model;
  EXPECT_TRUE(model.state().outstanding_authorisations().empty());
  EXPECT_FALSE(
      FindDeadline(model.state(), "assessment-45wd", "as1").has_extended_to());
  EXPECT_EQ(StatusOn(model, "assessment-45wd", "as1", CivilDay(2026, 2, 6)),
            kOverdue);
}

// ---------------------------------------------------------------------------
// Closure and reopening.
// ---------------------------------------------------------------------------

TEST(DeadlinesTest, ClosureEndsWorkNotYetDueAndReopeningSupersedesTheRest) {
  Story s("case-close", {"child-a"});
  // Contact Monday 2 March 2026: decision due Tuesday 3 March.
  s.Add("c1", CivilDay(2026, 3, 2),
        Contact("Ruth Onu", "health visitor", "missed health appointments"));
  s.Add("rd1", CivilDay(2026, 3, 3),
        Referral(v1::REFERRAL_OUTCOME_ASSESSMENT, ManagerDecision()));
  // Assessment from 2 March: checkpoint 3-6, 9-13, 16 March (10): Monday 16
  // March; 45 working days: Thursday 7 May 2026 (Easter 3 and 6 April
  // excluded).
  s.Add("as1", CivilDay(2026, 3, 3),
        AssessmentStart("asm-1", "child-a", CivilDay(2026, 3, 2)),
        {.hour = 11});
  // Closed on Friday 20 March without a checkpoint.
  s.Add("close", CivilDay(2026, 3, 20),
        Closed(v1::CASE_CLOSURE_REASON_RC8_NO_FURTHER_ACTION));
  const size_t closed_prefix = s.events().size();
  // A new contact on Monday 13 April 2026 reopens the case: decision due
  // Tuesday 14 April.
  s.Add("c2", CivilDay(2026, 4, 13),
        Contact("Ruth Onu", "health visitor", "child not brought to clinic"));

  const v1::CaseModel closed = s.Fold(closed_prefix).model;
  EXPECT_TRUE(closed.state().closed());
  EXPECT_EQ(Text(closed.state().closed_on()), "2026-03-20");
  EXPECT_EQ(closed.state().stage(), v1::CASE_STAGE_CLOSED);
  EXPECT_TRUE(closed.state().open_assessments().empty());
  EXPECT_THAT(
      DeadlineLines(StateOn(closed, CivilDay(2026, 3, 25))),
      ElementsAre(
          "referral-decision-1wd from c1 2026-03-02 due 2026-03-03: MET",
          "assessment-45wd [asm-1] from as1 2026-03-02 due 2026-05-07: "
          "NOT_APPLICABLE",
          "assessment-checkpoint-10wd [asm-1] from as1 2026-03-02 due "
          "2026-03-16: OVERDUE"));
  const v1::Deadline ended =
      FindDeadline(closed.state(), "assessment-45wd", "as1");
  EXPECT_EQ(ended.closed_reason(), "the case was closed");
  EXPECT_EQ(ended.closed_by_event_id(), "close");
  EXPECT_EQ(Text(ended.closed_on()), "2026-03-20");
  // As it stood the day before the closure.
  EXPECT_EQ(StatusOn(closed, "assessment-45wd", "as1", CivilDay(2026, 3, 19)),
            kPending);

  const v1::CaseModel reopened = s.Fold().model;
  EXPECT_FALSE(reopened.state().closed());
  EXPECT_EQ(reopened.state().stage(), v1::CASE_STAGE_CONTACT);
  EXPECT_THAT(
      DeadlineLines(StateOn(reopened, CivilDay(2026, 4, 14))),
      ElementsAre(
          "referral-decision-1wd from c1 2026-03-02 due 2026-03-03: MET",
          "assessment-45wd [asm-1] from as1 2026-03-02 due 2026-05-07: "
          "NOT_APPLICABLE",
          "assessment-checkpoint-10wd [asm-1] from as1 2026-03-02 due "
          "2026-03-16: SUPERSEDED",
          "referral-decision-1wd from c2 2026-04-13 due 2026-04-14: "
          "DUE_TODAY"));
  const v1::Deadline superseded =
      FindDeadline(reopened.state(), "assessment-checkpoint-10wd", "as1");
  EXPECT_EQ(superseded.closed_reason(),
            "the case was reopened by a new contact");
  EXPECT_EQ(superseded.closed_by_event_id(), "c2");
  // Still overdue until the day the case was reopened.
  EXPECT_EQ(StatusOn(reopened, "assessment-checkpoint-10wd", "as1",
                     CivilDay(2026, 4, 10)),
            kOverdue);
}

TEST(DeadlinesTest, DueDatesBeyondTheCalendarAreRecordedAsErrors) {
  // The shipped calendar ends with 2030: a strategy discussion on Friday 20
  // December 2030 needs 2031's bank holidays.
  Story s("case-2030", {"child-a"});
  s.Add("sd1", CivilDay(2030, 12, 20), Strategy(true));
  const v1::CaseModel model = s.Fold().model;
  const v1::Deadline d =
      FindDeadline(StateOn(model, CivilDay(2030, 12, 20)), "icpc-15wd", "sd1");
  EXPECT_FALSE(d.has_due());
  EXPECT_THAT(d.error(), HasSubstr("2031"));
  EXPECT_EQ(d.status(), v1::DEADLINE_STATUS_UNSPECIFIED);
}

}  // namespace
}  // namespace casetrail::projections
