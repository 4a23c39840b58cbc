#ifndef CASETRAIL_PROJECTIONS_CALENDAR_H_
#define CASETRAIL_PROJECTIONS_CALENDAR_H_

// Working days in England and Wales, for the timescales of DOMAIN.md section C:
// weekdays that are not bank holidays. Bank holidays come from a file in the
// format of gov.uk/bank-holidays.json; the build ships one for 2015-2030
// (projections/data/bank-holidays.json) and a deployment may give its own.
//
// Conventions (DOMAIN.md, "Working-day arithmetic"):
// - The trigger day is day 0; a deadline of N working days is the Nth working
//   day after it, whatever day the trigger fell on.
// - Month rules use the same day of the month N months on, clamped to the
//   month's last day (31 January + 1 month = 28 or 29 February).
// - Some rules then roll a date that is not a working day forward to the next
//   one.
//
// A calendar knows which years its file covers. Arithmetic that would need a
// year outside them fails with OUT_OF_RANGE rather than quietly treat that
// year's bank holidays as working days.
//
// Thread-safety: a WorkingDayCalendar is immutable and safe to share.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace casetrail::projections {

class WorkingDayCalendar {
 public:
  // Parses a gov.uk bank-holidays.json document and takes `division`'s events
  // ("england-and-wales", "scotland" or "northern-ireland"). Errors:
  // INVALID_ARGUMENT naming what is wrong (not JSON, no such division, an
  // event without a valid date, a date listed twice).
  static absl::StatusOr<WorkingDayCalendar> FromGovUkJson(
      absl::string_view json, absl::string_view division = "england-and-wales");
  // The same, from a file. Errors: NOT_FOUND if it cannot be read; as above.
  static absl::StatusOr<WorkingDayCalendar> FromFile(
      const std::string& path,
      absl::string_view division = "england-and-wales");
  // England and Wales, 2015-2030, from the file shipped with the build.
  static const WorkingDayCalendar& Default();

  // The years the file covers: from the year of its first bank holiday to the
  // year of its last.
  absl::CivilYear first_year() const { return first_year_; }
  absl::CivilYear last_year() const { return last_year_; }

  // Errors of the arithmetic below: OUT_OF_RANGE if a day it needs falls
  // outside the covered years; INVALID_ARGUMENT for a negative count.

  // The bank holiday's title on `day`, or nullopt.
  absl::StatusOr<std::optional<std::string>> BankHoliday(
      absl::CivilDay day) const;
  absl::StatusOr<bool> IsWorkingDay(absl::CivilDay day) const;
  // The `n`th working day after `trigger` (day 0). n = 0 gives the trigger
  // day itself.
  absl::StatusOr<absl::CivilDay> AddWorkingDays(absl::CivilDay trigger,
                                                int64_t n) const;
  // How many working days fall after `from` up to and including `to`; negative
  // when `to` is before `from`. AddWorkingDays(d, WorkingDaysBetween(d, e))
  // is e's working day or the last working day before it.
  absl::StatusOr<int64_t> WorkingDaysBetween(absl::CivilDay from,
                                             absl::CivilDay to) const;
  // `day` if it is a working day, else the next working day.
  absl::StatusOr<absl::CivilDay> RollForward(absl::CivilDay day) const;

 private:
  WorkingDayCalendar() = default;
  absl::Status CheckCovered(absl::CivilDay day) const;

  absl::flat_hash_map<absl::CivilDay, std::string> holidays_;
  // The bank holidays that fall on weekdays, in order (substitute days are
  // listed in the file themselves).
  std::vector<absl::CivilDay> weekday_holidays_;
  absl::CivilYear first_year_;
  absl::CivilYear last_year_;
};

// The same day of the month `months` later (or earlier, if negative), clamped
// to the last day of a shorter month.
absl::CivilDay AddCalendarMonths(absl::CivilDay day, int months);

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_CALENDAR_H_
