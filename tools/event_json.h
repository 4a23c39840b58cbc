#ifndef CASETRAIL_TOOLS_EVENT_JSON_H_
#define CASETRAIL_TOOLS_EVENT_JSON_H_

// The JSON forms the casetrail CLI reads and writes: the proto JSON mapping of
// casetrail.v1, with three conveniences for people writing events by hand:
//   - "payload": <any JSON> stands for an opaque application/json payload;
//   - a precision may be written "DAY" instead of "TIME_PRECISION_DAY";
//   - a missing event id is generated, a missing expected version means ANY.
// Output turns an application/json opaque payload back into "payload", so
// output can be input.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "casetrail/v1/case_log.pb.h"

namespace casetrail::tools {

// Parses one AppendEventsRequest object, or an array of them. Errors:
// INVALID_ARGUMENT naming what is wrong (JSON syntax, unknown field, bad enum
// or timestamp).
absl::StatusOr<std::vector<casetrail::v1::AppendEventsRequest>>
ParseAppendRequests(const std::string& json);

// One line of JSON for a recorded event.
std::string RecordedEventToJson(const casetrail::v1::RecordedEvent& event);

// One line of JSON for any message (proto JSON mapping).
std::string MessageToJsonLine(const google::protobuf::Message& message);

// A random event id ("evt-" and 32 hex digits).
std::string NewEventId();

}  // namespace casetrail::tools

#endif  // CASETRAIL_TOOLS_EVENT_JSON_H_
