#ifndef CASETRAIL_SERVICES_APPEND_VALIDATION_H_
#define CASETRAIL_SERVICES_APPEND_VALIDATION_H_

// Structural validation of an AppendEventsRequest and its conversion to an
// event-store append. No gRPC here: the service turns FieldViolations into
// google.rpc.BadRequest.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "casetrail/v1/case_log.pb.h"
#include "eventstore/event_store.h"

namespace casetrail::services {

struct AppendLimits {
  // Most events in one append. Default 1000.
  size_t max_events_per_append = 1000;
  // Largest serialised CaseEvent. Default 64 KiB.
  size_t max_event_bytes = 64 << 10;
  // Largest sum of serialised events in one append. Default 4 MiB.
  size_t max_append_bytes = 4 << 20;
};

// The most bytes an accepted event grows by when it is stored: the stream id
// it is given (up to 200 bytes), its schema version, and the RecordedEvent
// envelope (position, stream version, recorded_at). An event of
// max_event_bytes is stored in at most max_event_bytes + this.
inline constexpr size_t kStoredEventOverheadBytes = 1024;

struct FieldViolation {
  // Path of the offending field in the request, e.g.
  // "events[2].occurred_at.precision".
  std::string field;
  std::string description;
};

// Why `stream_id` cannot name a case stream ("required", or the rule it
// breaks); nullopt if it can. Shared by every request that names a stream.
std::optional<FieldViolation> CheckStreamId(absl::string_view stream_id);

// Every reason the request is malformed; empty if it is well-formed. Does not
// consult the log.
std::vector<FieldViolation> ValidateAppend(
    const casetrail::v1::AppendEventsRequest& request,
    const AppendLimits& limits);

// The bytes the store keeps for `event` of a stream: its deterministic
// serialisation with stream_id set to `stream_id` (if empty) and schema_version
// 0 made 1. Equal to serialising a normalised copy, without making the copy.
std::string EncodeNormalisedEvent(const casetrail::v1::CaseEvent& event,
                                  absl::string_view stream_id);

// Converts a request that ValidateAppend accepted. Each event is normalised
// (stream_id set from the request, schema_version 0 made 1) and serialised
// deterministically.
eventstore::AppendRequest ToStoreAppend(
    const casetrail::v1::AppendEventsRequest& request);

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_APPEND_VALIDATION_H_
