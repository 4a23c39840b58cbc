#ifndef CASETRAIL_PROJECTIONS_PAYLOAD_FIELDS_H_
#define CASETRAIL_PROJECTIONS_PAYLOAD_FIELDS_H_

// Reading a typed payload's fields by name, for rules written as data
// (rules.proto: conditions, trigger date fields, key fields), the parts every
// decision event shares, and enum values as text.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "casetrail/v1/event.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace casetrail::projections {

// The payload message type named `event_type` (e.g. "ContactReceived"), or
// null if no typed payload has that name.
const google::protobuf::Descriptor* PayloadDescriptor(
    absl::string_view event_type);

// The event's typed payload, or null for an opaque or missing one.
const google::protobuf::Message* TypedPayload(
    const casetrail::v1::CaseEvent& event);

// The event's Decision (field `decision` of a decision event's payload), or
// null if it has none.
const casetrail::v1::Decision* DecisionOf(
    const casetrail::v1::CaseEvent& event);

// A scalar field's value as text: strings as they are, enums by value name,
// bools as "true"/"false", integers in decimal. nullopt if there is no such
// scalar field.
std::optional<std::string> FieldText(const google::protobuf::Message& message,
                                     absl::string_view field);

// A CivilDate or Timestamp field as a day (a Timestamp in `zone`). nullopt if
// there is no such field or it is unset.
std::optional<absl::CivilDay> FieldDay(const google::protobuf::Message& message,
                                       absl::string_view field,
                                       absl::TimeZone zone);

// Whether "<field>=<VALUE>" holds for `payload` (empty holds always).
bool ConditionHolds(const google::protobuf::Message& payload,
                    absl::string_view condition);

// Whether `field` names a field of `type` that FieldText (scalar = true) or
// FieldDay (scalar = false) can read.
bool HasReadableField(const google::protobuf::Descriptor& type,
                      absl::string_view field, bool scalar);

// An enum value's name, without its type's prefix when `strip` (e.g.
// LEGAL_STATUS_CA1989_S20 -> "CA1989_S20"); "value N" for a value this build
// does not know (stored events and old clients may carry one).
std::string EnumName(const google::protobuf::EnumDescriptor* type, int value,
                     bool strip);

// The same as lower-case words, e.g. S47_OUTCOME_NO_ICPC -> "no icpc".
std::string EnumWords(const google::protobuf::EnumDescriptor* type, int value);

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_PAYLOAD_FIELDS_H_
