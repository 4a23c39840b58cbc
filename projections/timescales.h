#ifndef CASETRAIL_PROJECTIONS_TIMESCALES_H_
#define CASETRAIL_PROJECTIONS_TIMESCALES_H_

// Timescale rules as data (proto/casetrail/v1/rules.proto): a versioned rule
// set loaded at start, and the due date of a rule from its trigger day.
//
// Thread-safety: a TimescaleRules is immutable after loading and safe to
// share.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "casetrail/v1/rules.pb.h"
#include "projections/calendar.h"

namespace casetrail::projections {

// A deadline as computed, with what it was computed from: a deadline shown to
// a reviewer years later must say which rule, in which version, set it.
struct Deadline {
  std::string rule_id;
  uint32_t rule_version = 0;
  std::string rule_set;
  uint32_t rule_set_version = 0;
  absl::CivilDay trigger_day;
  absl::CivilDay due;
};

class TimescaleRules {
 public:
  // Parses and checks a rule set in protobuf text format. Errors:
  // INVALID_ARGUMENT naming the rule and what is wrong (a syntax error; a rule
  // without an id, version, jurisdiction, trigger, meeting event, duration or
  // source; an id used twice in one jurisdiction; a malformed condition).
  static absl::StatusOr<TimescaleRules> FromText(absl::string_view text);
  // The same, from a file. Errors: NOT_FOUND if it cannot be read; as above.
  static absl::StatusOr<TimescaleRules> FromFile(const std::string& path);
  // The set shipped with the build (projections/data/timescales.textproto).
  static const TimescaleRules& Default();

  const casetrail::v1::TimescaleRuleSet& set() const { return set_; }

  // The rule with `id` in `jurisdiction`, or NOT_FOUND.
  absl::StatusOr<const casetrail::v1::TimescaleRule*> Find(
      absl::string_view id, casetrail::v1::Jurisdiction jurisdiction) const;
  // The rules that `event_type` starts in `jurisdiction`, in file order.
  std::vector<const casetrail::v1::TimescaleRule*> TriggeredBy(
      absl::string_view event_type,
      casetrail::v1::Jurisdiction jurisdiction) const;

  // When `rule`, triggered on `trigger_day` (day 0), falls due. Errors: the
  // calendar's (OUT_OF_RANGE beyond the years it knows).
  absl::StatusOr<Deadline> Due(const casetrail::v1::TimescaleRule& rule,
                               absl::CivilDay trigger_day,
                               const WorkingDayCalendar& calendar) const;

 private:
  TimescaleRules() = default;
  casetrail::v1::TimescaleRuleSet set_;
};

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_TIMESCALES_H_
