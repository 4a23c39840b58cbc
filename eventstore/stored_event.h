#ifndef CASETRAIL_EVENTSTORE_STORED_EVENT_H_
#define CASETRAIL_EVENTSTORE_STORED_EVENT_H_

// The stored bytes of an event: the deterministic serialisation of a
// casetrail.v1.RecordedEvent (eventstore/FORMAT.md). These are the exact bytes
// the log keeps, returns and will hash.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "casetrail/v1/event.pb.h"

namespace casetrail::eventstore {

// Builds the stored bytes from the server-assigned fields and the client's
// encoded CaseEvent, without re-serialising the event: the result equals
// RecordedEvent{...}.SerializeAsString().
std::string EncodeStoredEvent(uint64_t position, uint64_t stream_version,
                              absl::Time recorded_at,
                              absl::string_view encoded_event);

// Parses stored bytes. Errors: DATA_LOSS if they are not a RecordedEvent with
// an event.
absl::StatusOr<casetrail::v1::RecordedEvent> DecodeStoredEvent(
    absl::string_view bytes);

absl::Time ToAbslTime(const google::protobuf::Timestamp& ts);
google::protobuf::Timestamp ToProtoTime(absl::Time t);

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_STORED_EVENT_H_
