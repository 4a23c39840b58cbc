// Timescale rules as data: the shipped set loads and says what DOMAIN.md
// section C says, due dates carry their rule and version, and a local
// authority's file replaces the set or is refused saying why.

#include "projections/timescales.h"

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/server_process.h"

namespace casetrail::projections {
namespace {

using ::absl::CivilDay;
using ::casetrail::v1::JURISDICTION_ENGLAND;
using ::casetrail::v1::JURISDICTION_WALES;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const TimescaleRules& Rules() { return TimescaleRules::Default(); }
const WorkingDayCalendar& Cal() { return WorkingDayCalendar::Default(); }

Deadline DueOf(absl::string_view id, CivilDay trigger,
               casetrail::v1::Jurisdiction j = JURISDICTION_ENGLAND) {
  auto rule = Rules().Find(id, j);
  EXPECT_TRUE(rule.ok()) << rule.status();
  auto due = Rules().Due(**rule, trigger, Cal());
  EXPECT_TRUE(due.ok()) << due.status();
  return *due;
}

TEST(TimescalesTest, ShippedSetLoads) {
  EXPECT_EQ(Rules().set().name(), "casetrail-default");
  EXPECT_EQ(Rules().set().version(), 2u);
  EXPECT_EQ(Rules().set().rules_size(), 14);
}

TEST(TimescalesTest, DeadlinesCarryTheirRuleAndVersion) {
  // Assessment started Monday 1 December 2025: 45 working days, past
  // Christmas and New Year.
  const Deadline d = DueOf("assessment-45wd", CivilDay(2025, 12, 1));
  EXPECT_EQ(d.rule_id, "assessment-45wd");
  EXPECT_EQ(d.rule_version, 2u);
  EXPECT_EQ(d.rule_set, "casetrail-default");
  EXPECT_EQ(d.rule_set_version, 2u);
  EXPECT_EQ(d.trigger_day, CivilDay(2025, 12, 1));
  EXPECT_EQ(d.due, CivilDay(2026, 2, 5));
}

TEST(TimescalesTest, WorkingDayRulesAcrossHolidays) {
  // Contact on Maundy Thursday 2026: decision due the Tuesday after Easter.
  EXPECT_EQ(DueOf("referral-decision-1wd", CivilDay(2026, 4, 2)).due,
            CivilDay(2026, 4, 7));
  // Strategy discussion Friday 11 December 2026: ICPC within 15 working days,
  // past Christmas (25th), Boxing Day's substitute (28th) and New Year's Day.
  EXPECT_EQ(DueOf("icpc-15wd", CivilDay(2026, 12, 11)).due,
            CivilDay(2027, 1, 6));
  EXPECT_EQ(DueOf("first-core-group-10wd", CivilDay(2026, 12, 21)).due,
            CivilDay(2027, 1, 7));
}

TEST(TimescalesTest, MonthRulesClampAtMonthEnds) {
  // ICPC on 30 November 2026: first review by 28 February 2027 (clamped); the
  // next six months after a review on 31 August 2027 is 29 February 2028.
  EXPECT_EQ(DueOf("first-rcpc-3m", CivilDay(2026, 11, 30)).due,
            CivilDay(2027, 2, 28));
  EXPECT_EQ(DueOf("rcpc-6m", CivilDay(2027, 8, 31)).due, CivilDay(2028, 2, 29));
  EXPECT_EQ(
      DueOf("channel-post-exit-12m", CivilDay(2026, 3, 31), JURISDICTION_WALES)
          .due,
      CivilDay(2027, 3, 31));
}

TEST(TimescalesTest, RulesApplyPerJurisdiction) {
  EXPECT_TRUE(Rules().Find("first-core-group-10wd", JURISDICTION_WALES).ok());
  // The 45-day assessment is England's (Working Together); Wales has its own
  // law, and no Welsh timescale is shipped for it.
  EXPECT_EQ(Rules().Find("assessment-45wd", JURISDICTION_WALES).status().code(),
            absl::StatusCode::kNotFound);
  std::vector<std::string> ids;
  for (const auto* rule :
       Rules().TriggeredBy("AssessmentStarted", JURISDICTION_ENGLAND)) {
    ids.push_back(rule->id());
  }
  EXPECT_THAT(ids,
              ElementsAre("assessment-45wd", "assessment-checkpoint-10wd"));
  EXPECT_TRUE(
      Rules().TriggeredBy("AssessmentStarted", JURISDICTION_WALES).empty());
}

constexpr char kLocalRules[] = R"(
name: "gateshead-2026-04"
version: 3
rules {
  id: "assessment-45wd"
  version: 2
  jurisdictions: JURISDICTION_ENGLAND
  description: "Local procedure: 40 working days"
  trigger_event: "AssessmentStarted"
  met_by_event: "AssessmentAuthorised"
  working_days: 40
  source: "[GH]"
}
rules {
  id: "sar-1m"
  version: 1
  jurisdictions: [JURISDICTION_ENGLAND, JURISDICTION_WALES]
  description: "Subject access request answered within one month"
  trigger_event: "SARProcessed"
  trigger_date_field: "received_date"
  met_by_event: "SARProcessed"
  calendar_months: 1
  roll_forward: true
  source: "[ICO-SAR]"
}
)";

TEST(TimescalesTest, ALocalAuthoritysFileIsUsedAsGiven) {
  casetrail::testing::TempDir dir;
  const std::string path = dir.Sub("rules.textproto");
  std::ofstream(path) << kLocalRules;
  absl::StatusOr<TimescaleRules> local = TimescaleRules::FromFile(path);
  ASSERT_TRUE(local.ok()) << local.status();
  auto rule = local->Find("assessment-45wd", JURISDICTION_ENGLAND);
  ASSERT_TRUE(rule.ok());
  const Deadline d = *local->Due(**rule, CivilDay(2025, 12, 1), Cal());
  EXPECT_EQ(d.rule_version, 2u);
  EXPECT_EQ(d.rule_set, "gateshead-2026-04");
  EXPECT_EQ(d.rule_set_version, 3u);
  EXPECT_EQ(d.due, CivilDay(2026, 1, 29));
  // A month rule that rolls forward: 28 March 2027 is Easter Sunday, and the
  // Monday is a bank holiday.
  auto sar = local->Find("sar-1m", JURISDICTION_WALES);
  ASSERT_TRUE(sar.ok());
  EXPECT_EQ(local->Due(**sar, CivilDay(2027, 2, 28), Cal())->due,
            CivilDay(2027, 3, 30));
  EXPECT_EQ(TimescaleRules::FromFile(dir.Sub("missing")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(TimescalesTest, MalformedRuleSetsAreRefusedSayingWhy) {
  const std::string good_rule = R"(
    id: "x" version: 1 jurisdictions: JURISDICTION_ENGLAND
    trigger_event: "ContactReceived" met_by_event: "ReferralDecision"
    working_days: 1 source: "[S]")";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"name: \"x\" version: 1 rules { id: ", "line 1"},
      {"name: \"x\" version: 1 unknown_field: 3", "unknown_field"},
      {"version: 1", "a name and a version"},
      {"name: \"x\" version: 1 rules { id: \"r\" }",
       "rule \"r\" has no version, jurisdictions, trigger_event, "
       "met_by_event, a duration"},
      {"name: \"x\" version: 1 rules {" + good_rule + "} rules {" + good_rule +
           "}",
       "appears twice for JURISDICTION_ENGLAND"},
      {"name: \"x\" version: 1 rules {" + good_rule +
           " trigger_when: \"no equals\"}",
       "condition"},
      {"name: \"x\" version: 1 rules { id: \"u\" version: 1 jurisdictions: "
       "JURISDICTION_UNSPECIFIED trigger_event: \"A\" met_by_event: \"B\" "
       "working_days: 1 source: \"[S]\"}",
       "JURISDICTION_UNSPECIFIED"},
      {"name: \"x\" version: 1 rules { id: \"t\" version: 1 jurisdictions: "
       "JURISDICTION_ENGLAND trigger_event: \"A\" met_by_event: \"B\" "
       "working_days: 1 source: \"[S]\"}",
       "no typed event type \"A\""},
      {"name: \"x\" version: 1 rules {" + good_rule +
           " key_field: \"assessment_id\"}",
       "key_field names \"assessment_id\", which is not a scalar field of "
       "ContactReceived"},
      {"name: \"x\" version: 1 rules {" + good_rule +
           " trigger_date_field: \"concern\"}",
       "trigger_date_field names \"concern\", which is not a date field"},
      {"name: \"x\" version: 1 rules {" + good_rule +
           " met_when: \"outcomes=X\"}",
       "met_when names \"outcomes\""},
  };
  for (const auto& [text, reason] : cases) {
    absl::Status s = TimescaleRules::FromText(text).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(s.message(), HasSubstr(reason)) << text;
  }
}

TEST(TimescalesTest, DueBeyondTheCalendarIsOutOfRange) {
  auto rule = Rules().Find("icpc-15wd", JURISDICTION_ENGLAND);
  ASSERT_TRUE(rule.ok());
  EXPECT_EQ(Rules().Due(**rule, CivilDay(2030, 12, 20), Cal()).status().code(),
            absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace casetrail::projections
