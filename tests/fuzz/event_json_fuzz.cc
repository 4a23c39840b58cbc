// Fuzz target for the casetrail CLI's JSON input (tools/event_json.h): any text
// either parses or is refused with INVALID_ARGUMENT, and parsing the same text
// twice gives the same payload bytes (an idempotent retry depends on it).

#include <cstdint>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_seeds.h"
#include "tools/event_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SilenceProtobufLogs();
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto first = casetrail::tools::ParseAppendRequests(text);
  if (!first.ok()) {
    FUZZ_CHECK(first.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  auto second = casetrail::tools::ParseAppendRequests(text);
  FUZZ_CHECK(second.ok());
  FUZZ_CHECK(first->size() == second->size());
  for (size_t i = 0; i < first->size(); ++i) {
    const auto& a = (*first)[i];
    const auto& b = (*second)[i];
    FUZZ_CHECK(a.events_size() == b.events_size());
    for (int j = 0; j < a.events_size(); ++j) {
      FUZZ_CHECK(a.events(j).opaque().data() == b.events(j).opaque().data());
      casetrail::v1::RecordedEvent recorded;
      *recorded.mutable_event() = a.events(j);
      (void)casetrail::tools::RecordedEventToJson(recorded);
    }
  }
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  return {
      R"({"stream_id":"case-1","events":[{"event_type":"ContactReceived",)"
      R"("occurred_at":{"time":"2026-03-02T08:40:00Z","precision":"EXACT"},)"
      R"("recorded_by":{"user_id":"u1"},"payload":{"b":[1,2.5,"x"],"a":{"z":null,"y":true}}}]})",
      R"([{"streamId":"case-2","expectedVersion":{"kind":"KIND_EXACT","version":"3"},)"
      R"("events":[{"eventId":"e1","eventType":"A","payload":"text \"quoted\"\n"}]}])",
      R"({"stream_id":"c","events":[{"event_type":"T","opaque":{"content_type":"text/plain","data":"aGVsbG8="}}]})",
  };
}
