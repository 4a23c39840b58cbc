#include "services/append_response.h"

#include "eventstore/stored_event.h"

namespace casetrail::services {

void FillAppendResponse(const eventstore::AppendResult& result,
                        const casetrail::v1::AppendEventsRequest& request,
                        casetrail::v1::AppendEventsResponse* response) {
  response->mutable_events()->Reserve(static_cast<int>(result.events.size()));
  for (size_t i = 0; i < result.events.size(); ++i) {
    const eventstore::AppendedEvent& e = result.events[i];
    casetrail::v1::AppendedEvent* out = response->add_events();
    out->set_event_id(request.events(static_cast<int>(i)).event_id());
    out->set_position(e.position);
    out->set_stream_version(e.stream_version);
    *out->mutable_recorded_at() = eventstore::ToProtoTime(e.recorded_at);
    out->set_leaf_hash(e.leaf_hash.data(), e.leaf_hash.size());
    out->set_tree_size(e.tree_size);
  }
  response->set_stream_version(result.stream_version);
  response->set_deduplicated(result.deduplicated);
}

}  // namespace casetrail::services
