#ifndef CASETRAIL_TESTS_TESTING_CASE_EVENTS_H_
#define CASETRAIL_TESTS_TESTING_CASE_EVENTS_H_

// Well-formed case events and appends for tests, at the gRPC level
// (casetrail.v1 messages) and at the event-store level.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "casetrail/v1/case_log.pb.h"
#include "casetrail/v1/event.pb.h"
#include "eventstore/event_store.h"

namespace casetrail::testing {

// A type the catalogue has no payload message for, so it may be opaque
// (docs/events.md).
inline constexpr char kDefaultEventType[] = "CaseNoteRecorded";

// A CaseEvent that passes validation: `event_id`, `event_type`, occurred_at
// (2024-03-01T09:30:00Z, TIME_PRECISION_EXACT), recorded_by.user_id, and an
// opaque JSON payload holding `payload`. stream_id is left empty.
casetrail::v1::CaseEvent MakeCaseEvent(
    absl::string_view event_id,
    absl::string_view event_type = kDefaultEventType,
    absl::string_view payload = "{}");

// An AppendEventsRequest of `events` to `stream_id` under `kind` (and
// `version`, for KIND_EXACT).
casetrail::v1::AppendEventsRequest MakeAppendRequest(
    absl::string_view stream_id, casetrail::v1::ExpectedVersion::Kind kind,
    std::vector<casetrail::v1::CaseEvent> events, uint64_t version = 0);

// One event of `stream_id` as the service would hand it to the store:
// MakeCaseEvent(...) with stream_id set and schema_version 1, serialised
// deterministically.
eventstore::ProposedEvent MakeProposedEvent(
    absl::string_view stream_id, absl::string_view event_id,
    absl::string_view event_type = kDefaultEventType,
    absl::string_view payload = "{}");

// A store append of `events` (see MakeProposedEvent) to `stream_id`.
eventstore::AppendRequest MakeStoreAppend(
    absl::string_view stream_id, eventstore::ExpectedVersion expected,
    std::vector<eventstore::ProposedEvent> events);

// The deterministic serialisation of `event`.
std::string SerializeDeterministically(const casetrail::v1::CaseEvent& event);

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_CASE_EVENTS_H_
