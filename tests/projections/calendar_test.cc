// The working-day calendar: the shipped bank holidays against gov.uk's
// published dates, deadlines across Easter, Christmas, New Year and the
// one-off days, month arithmetic at month ends, and the file's errors.

#include "projections/calendar.h"

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/server_process.h"

namespace casetrail::projections {
namespace {

using ::absl::CivilDay;
using ::testing::HasSubstr;

const WorkingDayCalendar& Cal() { return WorkingDayCalendar::Default(); }

// England and Wales bank holidays as published on gov.uk/bank-holidays.json
// (2015-2022 as cached by the ministryofjustice/govuk-bank-holidays package;
// 2023-2027 as announced), month-day by year.
const std::map<int, std::vector<std::string>> kPublished = {
    {2015,
     {"01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"}},
    {2016,
     {"01-01", "03-25", "03-28", "05-02", "05-30", "08-29", "12-26", "12-27"}},
    {2017,
     {"01-02", "04-14", "04-17", "05-01", "05-29", "08-28", "12-25", "12-26"}},
    {2018,
     {"01-01", "03-30", "04-02", "05-07", "05-28", "08-27", "12-25", "12-26"}},
    {2019,
     {"01-01", "04-19", "04-22", "05-06", "05-27", "08-26", "12-25", "12-26"}},
    // The early May bank holiday moved to Friday 8 May for VE day.
    {2020,
     {"01-01", "04-10", "04-13", "05-08", "05-25", "08-31", "12-25", "12-28"}},
    {2021,
     {"01-01", "04-02", "04-05", "05-03", "05-31", "08-30", "12-27", "12-28"}},
    // Spring bank holiday moved to 2 June, the Platinum Jubilee on 3 June, and
    // the Queen's state funeral on 19 September.
    {2022,
     {"01-03", "04-15", "04-18", "05-02", "06-02", "06-03", "08-29", "09-19",
      "12-26", "12-27"}},
    // The coronation of King Charles III on 8 May.
    {2023,
     {"01-02", "04-07", "04-10", "05-01", "05-08", "05-29", "08-28", "12-25",
      "12-26"}},
    {2024,
     {"01-01", "03-29", "04-01", "05-06", "05-27", "08-26", "12-25", "12-26"}},
    {2025,
     {"01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"}},
    {2026,
     {"01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"}},
    {2027,
     {"01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"}},
};

std::set<std::string> ShippedHolidays(int year) {
  std::set<std::string> out;
  for (CivilDay d(year, 1, 1); d.year() == year; ++d) {
    if (Cal().BankHoliday(d)->has_value()) {
      out.insert(absl::StrFormat("%02d-%02d", d.month(), d.day()));
    }
  }
  return out;
}

TEST(CalendarTest, ShippedHolidaysAreGovUksFor2015To2027) {
  EXPECT_EQ(Cal().first_year(), absl::CivilYear(2015));
  EXPECT_EQ(Cal().last_year(), absl::CivilYear(2030));
  for (const auto& [year, days] : kPublished) {
    EXPECT_EQ(ShippedHolidays(year),
              std::set<std::string>(days.begin(), days.end()))
        << year;
  }
}

TEST(CalendarTest, ShippedHolidaysFollowTheUsualRulesTo2030) {
  // Not yet announced: Easter from the Gregorian computus, the rest from the
  // usual rules (first and last Mondays, substitute days).
  EXPECT_EQ(ShippedHolidays(2028),
            (std::set<std::string>{"01-03", "04-14", "04-17", "05-01", "05-29",
                                   "08-28", "12-25", "12-26"}));
  EXPECT_EQ(ShippedHolidays(2029),
            (std::set<std::string>{"01-01", "03-30", "04-02", "05-07", "05-28",
                                   "08-27", "12-25", "12-26"}));
  EXPECT_EQ(ShippedHolidays(2030),
            (std::set<std::string>{"01-01", "04-19", "04-22", "05-06", "05-27",
                                   "08-26", "12-25", "12-26"}));
}

TEST(CalendarTest, TriggerDayIsDayZero) {
  // Monday 2 March 2026: 1 working day later is Tuesday; 0 is the day itself,
  // even when the trigger falls on a weekend.
  EXPECT_EQ(*Cal().AddWorkingDays(CivilDay(2026, 3, 2), 0),
            CivilDay(2026, 3, 2));
  EXPECT_EQ(*Cal().AddWorkingDays(CivilDay(2026, 3, 2), 1),
            CivilDay(2026, 3, 3));
  EXPECT_EQ(*Cal().AddWorkingDays(CivilDay(2026, 3, 7), 1),
            CivilDay(2026, 3, 9));
  // Friday + 1 is Monday.
  EXPECT_EQ(*Cal().AddWorkingDays(CivilDay(2026, 3, 6), 1),
            CivilDay(2026, 3, 9));
}

TEST(CalendarTest, DeadlinesAcrossEaster) {
  // Thursday 2 April 2026; Good Friday 3 April, Easter Monday 6 April.
  EXPECT_EQ(*Cal().AddWorkingDays(CivilDay(2026, 4, 2), 1),
            CivilDay(2026, 4, 7));
  EXPECT_EQ(*Cal().AddWorkingDays(CivilDay(2026, 4, 2), 3),
            CivilDay(2026, 4, 9));
  // A strategy discussion's 15 working days from Wednesday 1 April 2026.
  EXPECT_EQ(*Cal().AddWorkingDays(CivilDay(2026, 4, 1), 15),
            CivilDay(2026, 4, 24));
  EXPECT_EQ(
      *Cal().WorkingDaysBetween(CivilDay(2026, 4, 2), CivilDay(2026, 4, 7)), 1);
}

TEST(CalendarTest, DeadlinesAcrossChristmasAndNewYear) {
  // Thursday 24 December 2026: Christmas Friday 25th, Boxing Day on Saturday
  // with its substitute Monday 28th, New Year's Day Friday 1 January 2027.
  const CivilDay eve(2026, 12, 24);
  EXPECT_EQ(*Cal().AddWorkingDays(eve, 1), CivilDay(2026, 12, 29));
  EXPECT_EQ(*Cal().AddWorkingDays(eve, 3), CivilDay(2026, 12, 31));
  EXPECT_EQ(*Cal().AddWorkingDays(eve, 4), CivilDay(2027, 1, 4));
  // 2021: both days moved (Christmas on Saturday, Boxing Day on Sunday).
  EXPECT_EQ(*Cal().AddWorkingDays(CivilDay(2021, 12, 24), 1),
            CivilDay(2021, 12, 29));
  // A 45-working-day assessment from Monday 1 December 2025 skips Christmas,
  // Boxing Day and New Year's Day.
  EXPECT_EQ(*Cal().AddWorkingDays(CivilDay(2025, 12, 1), 45),
            CivilDay(2026, 2, 5));
}

TEST(CalendarTest, OneOffDaysAreNotWorkingDays) {
  EXPECT_FALSE(*Cal().IsWorkingDay(CivilDay(2020, 5, 8)));   // VE day
  EXPECT_TRUE(*Cal().IsWorkingDay(CivilDay(2020, 5, 4)));    // not that year
  EXPECT_FALSE(*Cal().IsWorkingDay(CivilDay(2022, 6, 2)));   // spring, moved
  EXPECT_FALSE(*Cal().IsWorkingDay(CivilDay(2022, 6, 3)));   // jubilee
  EXPECT_TRUE(*Cal().IsWorkingDay(CivilDay(2022, 5, 30)));   // not that year
  EXPECT_FALSE(*Cal().IsWorkingDay(CivilDay(2022, 9, 19)));  // state funeral
  EXPECT_FALSE(*Cal().IsWorkingDay(CivilDay(2023, 5, 8)));   // coronation
  EXPECT_THAT(**Cal().BankHoliday(CivilDay(2023, 5, 8)),
              HasSubstr("coronation"));
  // Thursday 15 September 2022 + 3 working days: the funeral Monday is
  // skipped.
  EXPECT_EQ(*Cal().AddWorkingDays(CivilDay(2022, 9, 15), 3),
            CivilDay(2022, 9, 21));
}

TEST(CalendarTest, AddAndBetweenAgree) {
  // Against a direct count over the shipped holidays, for random triggers.
  std::mt19937 rng(3);
  for (int i = 0; i < 500; ++i) {
    const CivilDay trigger = CivilDay(2015, 1, 1) + rng() % (365 * 14);
    const int n = rng() % 70;
    absl::StatusOr<CivilDay> due = Cal().AddWorkingDays(trigger, n);
    ASSERT_TRUE(due.ok()) << due.status();
    EXPECT_TRUE(n == 0 || *Cal().IsWorkingDay(*due)) << trigger;
    EXPECT_EQ(*Cal().WorkingDaysBetween(trigger, *due), n) << trigger;
    EXPECT_EQ(*Cal().WorkingDaysBetween(*due, trigger), -n) << trigger;
    int direct = 0;
    for (CivilDay d = trigger + 1; d <= *due; ++d) {
      const absl::Weekday w = absl::GetWeekday(d);
      if (w != absl::Weekday::saturday && w != absl::Weekday::sunday &&
          !Cal().BankHoliday(d)->has_value()) {
        ++direct;
      }
    }
    EXPECT_EQ(direct, n) << trigger;
  }
}

TEST(CalendarTest, RollForward) {
  EXPECT_EQ(*Cal().RollForward(CivilDay(2026, 3, 2)), CivilDay(2026, 3, 2));
  EXPECT_EQ(*Cal().RollForward(CivilDay(2026, 3, 7)), CivilDay(2026, 3, 9));
  EXPECT_EQ(*Cal().RollForward(CivilDay(2026, 12, 25)), CivilDay(2026, 12, 29));
  EXPECT_EQ(*Cal().RollForward(CivilDay(2026, 4, 3)), CivilDay(2026, 4, 7));
}

TEST(CalendarTest, MonthArithmeticClampsToTheMonthsEnd) {
  EXPECT_EQ(AddCalendarMonths(CivilDay(2026, 1, 31), 1), CivilDay(2026, 2, 28));
  EXPECT_EQ(AddCalendarMonths(CivilDay(2028, 1, 31), 1), CivilDay(2028, 2, 29));
  EXPECT_EQ(AddCalendarMonths(CivilDay(2026, 8, 31), 1), CivilDay(2026, 9, 30));
  EXPECT_EQ(AddCalendarMonths(CivilDay(2026, 3, 31), -1),
            CivilDay(2026, 2, 28));
  EXPECT_EQ(AddCalendarMonths(CivilDay(2026, 12, 15), 1),
            CivilDay(2027, 1, 15));
  EXPECT_EQ(AddCalendarMonths(CivilDay(2026, 10, 31), 4),
            CivilDay(2027, 2, 28));
  EXPECT_EQ(AddCalendarMonths(CivilDay(2026, 2, 28), 3), CivilDay(2026, 5, 28));
  EXPECT_EQ(AddCalendarMonths(CivilDay(2024, 2, 29), 12),
            CivilDay(2025, 2, 28));
  // A review conference three months after 30 November 2026, rolled forward
  // if it falls on a weekend: 28 February 2027 is a Sunday.
  EXPECT_EQ(*Cal().RollForward(AddCalendarMonths(CivilDay(2026, 11, 30), 3)),
            CivilDay(2027, 3, 1));
}

TEST(CalendarTest, YearsOutsideTheFileAreOutOfRange) {
  EXPECT_EQ(Cal().IsWorkingDay(CivilDay(2014, 12, 31)).status().code(),
            absl::StatusCode::kOutOfRange);
  absl::Status s = Cal().AddWorkingDays(CivilDay(2030, 12, 20), 10).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(s.message(), HasSubstr("2031"));
  // Friday 20 December 2030 + 3 stays inside 2030, past Christmas.
  EXPECT_EQ(Cal().AddWorkingDays(CivilDay(2030, 12, 20), 3).value(),
            CivilDay(2030, 12, 27));
  EXPECT_EQ(Cal().AddWorkingDays(CivilDay(2026, 1, 5), -1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

constexpr char kLocalFile[] = R"({
  "england-and-wales": {"division": "england-and-wales", "events": [
    {"title": "New Year’s Day", "date": "2031-01-01", "notes": "", "bunting": true},
    {"title": "Council closure", "date": "2031-01-02", "notes": "local", "bunting": false},
    {"title": "Christmas Day", "date": "2031-12-25", "notes": "", "bunting": true}]},
  "scotland": {"division": "scotland", "events": [
    {"title": "St Andrew’s Day", "date": "2031-12-01", "notes": "", "bunting": true}]}
})";

TEST(CalendarTest, AnOverrideFileIsUsedAsGiven) {
  casetrail::testing::TempDir dir;
  const std::string path = dir.Sub("holidays.json");
  std::ofstream(path) << kLocalFile;
  absl::StatusOr<WorkingDayCalendar> local = WorkingDayCalendar::FromFile(path);
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(local->first_year(), absl::CivilYear(2031));
  // Thursday 2 January 2031 is a local closure: Wednesday + 1 is Friday.
  EXPECT_EQ(*local->AddWorkingDays(CivilDay(2031, 1, 1), 1),
            CivilDay(2031, 1, 3));
  absl::StatusOr<WorkingDayCalendar> scotland =
      WorkingDayCalendar::FromGovUkJson(kLocalFile, "scotland");
  ASSERT_TRUE(scotland.ok()) << scotland.status();
  EXPECT_FALSE(*scotland->IsWorkingDay(CivilDay(2031, 12, 1)));
  EXPECT_EQ(
      WorkingDayCalendar::FromFile(dir.Sub("missing.json")).status().code(),
      absl::StatusCode::kNotFound);
}

TEST(CalendarTest, MalformedFilesAreRefusedSayingWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not a JSON object"},
      {"[1, 2]", "not a JSON object"},
      {R"({"scotland": {"events": [{"date": "2031-01-01"}]}})",
       "no division \"england-and-wales\""},
      {R"({"england-and-wales": {"events": []}})", "has no events"},
      {R"({"england-and-wales": {"events": [{"title": "x"}]}})",
       "events[0] has no date"},
      {R"({"england-and-wales": {"events": [{"date": "2031-02-30"}]}})",
       "events[0] has no date"},
      {R"({"england-and-wales": {"events": [{"date": "31-01-01"}]}})",
       "events[0] has no date"},
      {R"({"england-and-wales": {"events": [{"date": "2031-01-01"},
                                             {"date": "2031-01-01"}]}})",
       "listed twice"},
      {R"({"england-and-wales": {"events": [3]}})", "not an object"},
  };
  for (const auto& [json, reason] : cases) {
    absl::Status s = WorkingDayCalendar::FromGovUkJson(json).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << json;
    EXPECT_THAT(s.message(), HasSubstr(reason)) << json;
  }
}

TEST(CalendarTest, WorkingDaysBetweenCountsEveryDayItSpans) {
  // The count is arithmetic (whole weeks, then bank holidays by binary
  // search); check it against counting day by day, for spans from none to
  // several years, starting on every weekday, across the file's holidays.
  for (CivilDay from(2015, 1, 1); from < CivilDay(2030, 12, 1); from += 37) {
    for (int span : {0, 1, 2, 5, 6, 7, 8, 13, 14, 45, 364, 400, 1000}) {
      const CivilDay to = from + span;
      if (to > CivilDay(2030, 12, 31)) continue;
      int64_t expected = 0;
      for (CivilDay d = from + 1; d <= to; ++d) {
        if (*Cal().IsWorkingDay(d)) ++expected;
      }
      ASSERT_EQ(*Cal().WorkingDaysBetween(from, to), expected)
          << from << " to " << to;
      ASSERT_EQ(*Cal().WorkingDaysBetween(to, from), -expected);
    }
  }
  EXPECT_EQ(Cal()
                .WorkingDaysBetween(CivilDay(2030, 12, 1), CivilDay(2031, 1, 2))
                .status()
                .code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(
      Cal()
          .WorkingDaysBetween(CivilDay(2014, 12, 30), CivilDay(2015, 1, 5))
          .status()
          .code(),
      absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace casetrail::projections
