// Fuzz target for the files a deployment may supply to the projections: the
// bank holidays (gov.uk bank-holidays.json format) and the timescale rules
// (protobuf text format). Besides not crashing: a holidays file that parses
// covers at least one year and its first day answers; a rule set that loads
// gives every rule a due date.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "projections/calendar.h"
#include "projections/timescales.h"
#include "tests/fuzz/fuzz_seeds.h"

using casetrail::projections::TimescaleRules;
using casetrail::projections::WorkingDayCalendar;

std::vector<std::string> FuzzSeeds() {
  return {
      R"({"england-and-wales": {"division": "england-and-wales", "events": [
        {"title": "New Year’s Day", "date": "2031-01-01", "notes": "", "bunting": true},
        {"title": "Christmas Day", "date": "2031-12-25", "notes": "", "bunting": true}]}})",
      R"({"england-and-wales": {"events": [{"date": "2031-02-30"}]}})",
      R"({"scotland": {"events": []}})",
      R"(name: "x" version: 1 rules { id: "r" version: 1
         jurisdictions: JURISDICTION_ENGLAND trigger_event: "A"
         met_by_event: "B" calendar_months: 3 roll_forward: true source: "[S]" })",
  };
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SilenceProtobufLogs();
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  auto rules = TimescaleRules::FromText(input);
  if (rules.ok()) {
    for (const auto& rule : rules->set().rules()) {
      auto due = rules->Due(rule, absl::CivilDay(2026, 1, 15),
                            WorkingDayCalendar::Default());
      FUZZ_CHECK(due.ok() ||
                 due.status().code() == absl::StatusCode::kOutOfRange);
    }
  } else {
    FUZZ_CHECK(rules.status().code() == absl::StatusCode::kInvalidArgument);
  }
  auto calendar = WorkingDayCalendar::FromGovUkJson(input);
  if (!calendar.ok()) {
    FUZZ_CHECK(calendar.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(calendar->first_year() <= calendar->last_year());
  const absl::CivilDay first(calendar->first_year());
  FUZZ_CHECK(calendar->IsWorkingDay(first).ok());
  FUZZ_CHECK(calendar->RollForward(first).ok() ||
             calendar->RollForward(first).status().code() ==
                 absl::StatusCode::kOutOfRange);
  return 0;
}
