#include "tests/testing/case_events.h"

#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace casetrail::testing {

casetrail::v1::CaseEvent MakeCaseEvent(absl::string_view event_id,
                                       absl::string_view event_type,
                                       absl::string_view payload) {
  casetrail::v1::CaseEvent event;
  event.set_event_id(std::string(event_id));
  event.set_event_type(std::string(event_type));
  auto* at = event.mutable_occurred_at();
  at->mutable_time()->set_seconds(1709285400);  // 2024-03-01T09:30:00Z
  at->set_precision(casetrail::v1::TIME_PRECISION_EXACT);
  event.mutable_recorded_by()->set_user_id("sw-1042");
  event.mutable_recorded_by()->set_role("Social Worker");
  event.mutable_opaque()->set_content_type("application/json");
  event.mutable_opaque()->set_data(std::string(payload));
  return event;
}

casetrail::v1::AppendEventsRequest MakeAppendRequest(
    absl::string_view stream_id, casetrail::v1::ExpectedVersion::Kind kind,
    std::vector<casetrail::v1::CaseEvent> events, uint64_t version) {
  casetrail::v1::AppendEventsRequest request;
  request.set_stream_id(std::string(stream_id));
  request.mutable_expected_version()->set_kind(kind);
  request.mutable_expected_version()->set_version(version);
  for (casetrail::v1::CaseEvent& e : events) {
    *request.add_events() = std::move(e);
  }
  return request;
}

std::string SerializeDeterministically(const casetrail::v1::CaseEvent& event) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    event.SerializeToCodedStream(&coded);
  }
  return out;
}

eventstore::ProposedEvent MakeProposedEvent(absl::string_view stream_id,
                                            absl::string_view event_id,
                                            absl::string_view event_type,
                                            absl::string_view payload) {
  casetrail::v1::CaseEvent event = MakeCaseEvent(event_id, event_type, payload);
  event.set_stream_id(std::string(stream_id));
  event.set_schema_version(1);
  return eventstore::ProposedEvent{std::string(event_id),
                                   SerializeDeterministically(event)};
}

eventstore::AppendRequest MakeStoreAppend(
    absl::string_view stream_id, eventstore::ExpectedVersion expected,
    std::vector<eventstore::ProposedEvent> events) {
  eventstore::AppendRequest request;
  request.stream_id = std::string(stream_id);
  request.expected = expected;
  request.events = std::move(events);
  return request;
}

}  // namespace casetrail::testing
