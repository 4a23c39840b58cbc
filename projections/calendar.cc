#include "projections/calendar.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "projections/config_file.h"

namespace casetrail::projections {

// The shipped file's contents (generated from projections/data/ at build).
extern const char kDefaultBankHolidaysJson[];

namespace {

bool IsWeekend(absl::CivilDay day) {
  const absl::Weekday w = absl::GetWeekday(day);
  return w == absl::Weekday::saturday || w == absl::Weekday::sunday;
}

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("bank holidays file: ", what));
}

}  // namespace

absl::StatusOr<WorkingDayCalendar> WorkingDayCalendar::FromGovUkJson(
    absl::string_view json, absl::string_view division) {
  google::protobuf::Struct doc;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &doc)
           .ok()) {
    return Invalid("not a JSON object");
  }
  auto found = doc.fields().find(std::string(division));
  if (found == doc.fields().end() || !found->second.has_struct_value()) {
    return Invalid(absl::StrCat("no division \"", division, "\""));
  }
  const auto& fields = found->second.struct_value().fields();
  auto events = fields.find("events");
  if (events == fields.end() || !events->second.has_list_value() ||
      events->second.list_value().values().empty()) {
    return Invalid(absl::StrCat("division \"", division, "\" has no events"));
  }
  WorkingDayCalendar calendar;
  const auto& list = events->second.list_value().values();
  for (int i = 0; i < list.size(); ++i) {
    const std::string where = absl::StrCat(division, ".events[", i, "]");
    if (!list[i].has_struct_value()) {
      return Invalid(absl::StrCat(where, " is not an object"));
    }
    const auto& event = list[i].struct_value().fields();
    auto date = event.find("date");
    absl::CivilDay day;
    if (date == event.end() || !date->second.has_string_value() ||
        date->second.string_value().size() != 10 ||
        !absl::ParseCivilTime(date->second.string_value(), &day)) {
      return Invalid(
          absl::StrCat(where, " has no date in the form YYYY-MM-DD"));
    }
    auto title = event.find("title");
    std::string name = title != event.end() && title->second.has_string_value()
                           ? title->second.string_value()
                           : "Bank holiday";
    if (!calendar.holidays_.emplace(day, std::move(name)).second) {
      return Invalid(absl::StrCat(where, ": ", date->second.string_value(),
                                  " is listed twice"));
    }
    const absl::CivilYear year(day);
    if (i == 0 || year < calendar.first_year_) calendar.first_year_ = year;
    if (i == 0 || year > calendar.last_year_) calendar.last_year_ = year;
  }
  for (const auto& [day, name] : calendar.holidays_) {
    const absl::Weekday weekday = absl::GetWeekday(day);
    if (weekday != absl::Weekday::saturday &&
        weekday != absl::Weekday::sunday) {
      calendar.weekday_holidays_.push_back(day);
    }
  }
  std::sort(calendar.weekday_holidays_.begin(),
            calendar.weekday_holidays_.end());
  return calendar;
}

absl::StatusOr<WorkingDayCalendar> WorkingDayCalendar::FromFile(
    const std::string& path, absl::string_view division) {
  return ParseConfigFile<WorkingDayCalendar>(
      path, [division](absl::string_view json) {
        return FromGovUkJson(json, division);
      });
}

const WorkingDayCalendar& WorkingDayCalendar::Default() {
  // The shipped file is checked by the tests; failing to parse it is a build
  // defect, so this aborts rather than return an error every caller must
  // handle.
  static const WorkingDayCalendar* calendar =
      new WorkingDayCalendar(*FromGovUkJson(kDefaultBankHolidaysJson));
  return *calendar;
}

absl::Status WorkingDayCalendar::CheckCovered(absl::CivilDay day) const {
  const absl::CivilYear year(day);
  if (year < first_year_ || year > last_year_) {
    return absl::OutOfRangeError(absl::StrCat(
        "no bank holidays are known for ", year.year(), " (the file covers ",
        first_year_.year(), "-", last_year_.year(),
        "); give a newer gov.uk bank-holidays.json"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> WorkingDayCalendar::BankHoliday(
    absl::CivilDay day) const {
  if (absl::Status s = CheckCovered(day); !s.ok()) return s;
  auto it = holidays_.find(day);
  if (it == holidays_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<bool> WorkingDayCalendar::IsWorkingDay(
    absl::CivilDay day) const {
  if (absl::Status s = CheckCovered(day); !s.ok()) return s;
  return !IsWeekend(day) && !holidays_.contains(day);
}

absl::StatusOr<absl::CivilDay> WorkingDayCalendar::AddWorkingDays(
    absl::CivilDay trigger, int64_t n) const {
  if (n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("a deadline of ", n, " working days"));
  }
  absl::CivilDay day = trigger;
  while (n > 0) {
    ++day;
    absl::StatusOr<bool> working = IsWorkingDay(day);
    if (!working.ok()) return working.status();
    if (*working) --n;
  }
  return day;
}

absl::StatusOr<int64_t> WorkingDayCalendar::WorkingDaysBetween(
    absl::CivilDay from, absl::CivilDay to) const {
  if (to < from) {
    absl::StatusOr<int64_t> forwards = WorkingDaysBetween(to, from);
    if (!forwards.ok()) return forwards.status();
    return -*forwards;
  }
  if (to == from) return 0;
  if (absl::Status s = CheckCovered(from + 1); !s.ok()) return s;
  if (absl::Status s = CheckCovered(to); !s.ok()) return s;
  // Weekdays in (from, to]: five in each whole week, then the rest one by
  // one; less the bank holidays that fall on weekdays in that span. Constant
  // time but for the binary searches: chronologies ask this of every entry,
  // across years.
  const int64_t days = to - from;
  int64_t count = days / 7 * 5;
  for (absl::CivilDay day = from + 1 + days / 7 * 7; day <= to; ++day) {
    const absl::Weekday weekday = absl::GetWeekday(day);
    if (weekday != absl::Weekday::saturday &&
        weekday != absl::Weekday::sunday) {
      ++count;
    }
  }
  const auto first = std::upper_bound(weekday_holidays_.begin(),
                                      weekday_holidays_.end(), from);
  const auto last =
      std::upper_bound(weekday_holidays_.begin(), weekday_holidays_.end(), to);
  return count - (last - first);
}

absl::StatusOr<absl::CivilDay> WorkingDayCalendar::RollForward(
    absl::CivilDay day) const {
  for (;; ++day) {
    absl::StatusOr<bool> working = IsWorkingDay(day);
    if (!working.ok()) return working.status();
    if (*working) return day;
  }
}

absl::CivilDay AddCalendarMonths(absl::CivilDay day, int months) {
  const absl::CivilMonth month = absl::CivilMonth(day) + months;
  // The last day of the target month: the day before the next month's first.
  const absl::CivilDay last = absl::CivilDay(month + 1) - 1;
  const absl::CivilDay same = absl::CivilDay(month) + (day.day() - 1);
  return same > last ? last : same;
}

}  // namespace casetrail::projections
