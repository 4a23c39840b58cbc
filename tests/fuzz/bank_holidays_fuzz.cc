// Fuzz target for the bank holidays file (gov.uk bank-holidays.json format),
// which a deployment may supply. Besides not crashing: a file that parses
// covers at least one year, and every day of its years answers.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "projections/calendar.h"
#include "tests/fuzz/fuzz_seeds.h"

using casetrail::projections::WorkingDayCalendar;

std::vector<std::string> FuzzSeeds() {
  return {
      R"({"england-and-wales": {"division": "england-and-wales", "events": [
        {"title": "New Year’s Day", "date": "2031-01-01", "notes": "", "bunting": true},
        {"title": "Christmas Day", "date": "2031-12-25", "notes": "", "bunting": true}]}})",
      R"({"england-and-wales": {"events": [{"date": "2031-02-30"}]}})",
      R"({"scotland": {"events": []}})",
  };
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SilenceProtobufLogs();
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
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
