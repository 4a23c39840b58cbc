#ifndef CASETRAIL_PROJECTIONS_DATES_H_
#define CASETRAIL_PROJECTIONS_DATES_H_

// Conversions between the protos' dates and times and Abseil's, shared by the
// fold, its views and the queries.

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "casetrail/v1/case_events.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace casetrail::projections {

inline casetrail::v1::CivilDate ToDate(absl::CivilDay day) {
  casetrail::v1::CivilDate date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

// Whether a date is set (year 0 means unset).
inline bool HasDate(const casetrail::v1::CivilDate& date) {
  return date.year() != 0;
}

// REQUIRES: HasDate(date).
inline absl::CivilDay FromDate(const casetrail::v1::CivilDate& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

// `date`, or `otherwise` when it is unset.
inline absl::CivilDay DayOr(const casetrail::v1::CivilDate& date,
                            absl::CivilDay otherwise) {
  return HasDate(date) ? FromDate(date) : otherwise;
}

inline absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_DATES_H_
