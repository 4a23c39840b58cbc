#include "projections/timescales.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "projections/config_file.h"
#include "projections/payload_fields.h"

namespace casetrail::projections {

// The shipped file's contents (generated from projections/data/ at build).
extern const char kDefaultTimescalesText[];

namespace {

using casetrail::v1::Jurisdiction;
using casetrail::v1::TimescaleRule;

// Collects the parser's errors instead of logging them.
class ErrorCollector final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty()) {
      first_ = absl::StrCat("line ", line + 1, " column ", column + 1, ": ",
                            message);
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// "<field>=<VALUE>" or empty.
bool IsValidCondition(absl::string_view condition) {
  if (condition.empty()) return true;
  const size_t eq = condition.find('=');
  return eq != absl::string_view::npos && eq > 0 && eq + 1 < condition.size() &&
         condition.find_first_of(" \t", 0) == absl::string_view::npos;
}

absl::Status CheckRule(const TimescaleRule& rule, int index) {
  const std::string name = rule.id().empty()
                               ? absl::StrCat("rules[", index, "]")
                               : absl::StrCat("rule \"", rule.id(), "\"");
  std::vector<std::string> missing;
  if (rule.id().empty()) missing.push_back("id");
  if (rule.version() == 0) missing.push_back("version");
  if (rule.jurisdictions().empty()) missing.push_back("jurisdictions");
  if (rule.trigger_event().empty()) missing.push_back("trigger_event");
  if (rule.met_by_event().empty()) missing.push_back("met_by_event");
  if (rule.duration_case() == TimescaleRule::DURATION_NOT_SET) {
    missing.push_back(
        "a duration (working_days, calendar_months or "
        "calendar_days)");
  }
  if (rule.source().empty()) missing.push_back("source");
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " has no ", absl::StrJoin(missing, ", ")));
  }
  for (int j : rule.jurisdictions()) {
    if (j == casetrail::v1::JURISDICTION_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " names JURISDICTION_UNSPECIFIED"));
    }
  }
  if (!IsValidCondition(rule.trigger_when()) ||
      !IsValidCondition(rule.met_when())) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": a condition must be \"<field>=<VALUE>\" without spaces"));
  }
  // The events must be typed payloads, and every field a rule reads must be
  // one the payload has.
  const auto* trigger = PayloadDescriptor(rule.trigger_event());
  const auto* met_by = PayloadDescriptor(rule.met_by_event());
  if (trigger == nullptr || met_by == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": no typed event type \"",
        trigger == nullptr ? rule.trigger_event() : rule.met_by_event(), "\""));
  }
  auto field_of = [](absl::string_view condition) {
    return condition.substr(0, condition.find('='));
  };
  struct Check {
    const google::protobuf::Descriptor* type;
    absl::string_view setting;
    absl::string_view field;
    bool scalar;
  };
  const Check checks[] = {
      {trigger, "trigger_when", field_of(rule.trigger_when()), true},
      {met_by, "met_when", field_of(rule.met_when()), true},
      {trigger, "trigger_date_field", rule.trigger_date_field(), false},
      {trigger, "key_field", rule.key_field(), true},
      {met_by, "key_field", rule.key_field(), true},
  };
  for (const Check& check : checks) {
    if (!check.field.empty() &&
        !HasReadableField(*check.type, check.field, check.scalar)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": ", check.setting, " names \"", check.field,
                       "\", which is not a ", check.scalar ? "scalar" : "date",
                       " field of ", check.type->name()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TimescaleRules> TimescaleRules::FromText(
    absl::string_view text) {
  TimescaleRules rules;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &rules.set_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("timescale rules: ", errors.first()));
  }
  if (rules.set_.name().empty() || rules.set_.version() == 0) {
    return absl::InvalidArgumentError(
        "timescale rules: the set needs a name and a version");
  }
  std::set<std::pair<std::string, int>> seen;
  for (int i = 0; i < rules.set_.rules_size(); ++i) {
    const TimescaleRule& rule = rules.set_.rules(i);
    if (absl::Status s = CheckRule(rule, i); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("timescale rules: ", s.message()));
    }
    for (int j : rule.jurisdictions()) {
      if (!seen.emplace(rule.id(), j).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            "timescale rules: rule \"", rule.id(), "\" appears twice for ",
            casetrail::v1::Jurisdiction_Name(j)));
      }
    }
  }
  return rules;
}

absl::StatusOr<TimescaleRules> TimescaleRules::FromFile(
    const std::string& path) {
  return ParseConfigFile<TimescaleRules>(path, &TimescaleRules::FromText);
}

const TimescaleRules& TimescaleRules::Default() {
  // The shipped file is checked by the tests; failing to parse it is a build
  // defect.
  static const TimescaleRules* rules =
      new TimescaleRules(*FromText(kDefaultTimescalesText));
  return *rules;
}

absl::StatusOr<const TimescaleRule*> TimescaleRules::Find(
    absl::string_view id, Jurisdiction jurisdiction) const {
  for (const TimescaleRule& rule : set_.rules()) {
    if (rule.id() == id &&
        std::find(rule.jurisdictions().begin(), rule.jurisdictions().end(),
                  jurisdiction) != rule.jurisdictions().end()) {
      return &rule;
    }
  }
  return absl::NotFoundError(
      absl::StrCat("no timescale rule \"", id, "\" for ",
                   casetrail::v1::Jurisdiction_Name(jurisdiction),
                   " in rule set ", set_.name(), " version ", set_.version()));
}

std::vector<const TimescaleRule*> TimescaleRules::TriggeredBy(
    absl::string_view event_type, Jurisdiction jurisdiction) const {
  std::vector<const TimescaleRule*> out;
  for (const TimescaleRule& rule : set_.rules()) {
    if (rule.trigger_event() == event_type &&
        std::find(rule.jurisdictions().begin(), rule.jurisdictions().end(),
                  jurisdiction) != rule.jurisdictions().end()) {
      out.push_back(&rule);
    }
  }
  return out;
}

absl::StatusOr<Deadline> TimescaleRules::Due(
    const TimescaleRule& rule, absl::CivilDay trigger_day,
    const WorkingDayCalendar& calendar) const {
  Deadline deadline{rule.id(),      rule.version(), set_.name(),
                    set_.version(), trigger_day,    trigger_day};
  switch (rule.duration_case()) {
    case TimescaleRule::kWorkingDays: {
      absl::StatusOr<absl::CivilDay> due =
          calendar.AddWorkingDays(trigger_day, rule.working_days());
      if (!due.ok()) return due.status();
      deadline.due = *due;
      break;
    }
    case TimescaleRule::kCalendarMonths:
      deadline.due = AddCalendarMonths(
          trigger_day, static_cast<int>(rule.calendar_months()));
      break;
    case TimescaleRule::kCalendarDays:
      deadline.due = trigger_day + rule.calendar_days();
      break;
    case TimescaleRule::DURATION_NOT_SET:
      return absl::InvalidArgumentError(
          absl::StrCat("rule \"", rule.id(), "\" has no duration"));
  }
  if (rule.roll_forward()) {
    absl::StatusOr<absl::CivilDay> rolled = calendar.RollForward(deadline.due);
    if (!rolled.ok()) return rolled.status();
    deadline.due = *rolled;
  }
  return deadline;
}

}  // namespace casetrail::projections
