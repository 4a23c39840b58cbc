// Fuzz target for the event store's decoders of stored bytes: DecodeStoredEvent
// (values), ParseStreamEventKey and DecodeU64 (keys). Besides not crashing,
// checks that whatever decodes re-encodes to the same bytes.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eventstore/keys.h"
#include "eventstore/stored_event.h"
#include "tests/fuzz/fuzz_seeds.h"

namespace {

using casetrail::eventstore::DecodeStoredEvent;
using casetrail::eventstore::DecodeU64;
using casetrail::eventstore::EncodeStoredEvent;
using casetrail::eventstore::EncodeU64;
using casetrail::eventstore::IsValidStreamId;
using casetrail::eventstore::ParseStreamEventKey;
using casetrail::eventstore::StreamEventKey;

// recorded_at values that survive absl::Time and back exactly: ToProtoTime
// counts in int64 nanoseconds, so stay well inside +-292 years of 1970.
bool RoundTripsExactly(const google::protobuf::Timestamp& ts) {
  return ts.nanos() >= 0 && ts.nanos() <= 999999999 &&
         ts.seconds() > -(int64_t{9} << 30) &&
         ts.seconds() < (int64_t{9} << 30);
}

void CheckStoredEvent(absl::string_view bytes) {
  auto decoded = DecodeStoredEvent(bytes);
  if (!decoded.ok()) {
    FUZZ_CHECK(decoded.status().code() == absl::StatusCode::kDataLoss);
    return;
  }
  FUZZ_CHECK(decoded->has_event());
  // Re-encoding what was decoded gives protobuf's own serialisation of it,
  // when it has nothing EncodeStoredEvent cannot express (unknown top-level
  // fields, a missing recorded_at or one with unknown fields, a timestamp
  // outside absl's exact range).
  const auto& reflection = *decoded->GetReflection();
  const auto& ts_reflection = *decoded->recorded_at().GetReflection();
  if (reflection.GetUnknownFields(*decoded).empty() &&
      decoded->has_recorded_at() &&
      ts_reflection.GetUnknownFields(decoded->recorded_at()).empty() &&
      RoundTripsExactly(decoded->recorded_at())) {
    const std::string event = decoded->event().SerializeAsString();
    const std::string encoded = EncodeStoredEvent(
        decoded->position(), decoded->stream_version(),
        casetrail::eventstore::ToAbslTime(decoded->recorded_at()), event);
    FUZZ_CHECK(encoded == decoded->SerializeAsString());
    auto again = DecodeStoredEvent(encoded);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->SerializeAsString() == encoded);
  }
}

void CheckKeys(absl::string_view bytes) {
  if (auto parts = ParseStreamEventKey(bytes)) {
    FUZZ_CHECK(IsValidStreamId(parts->stream_id));
    FUZZ_CHECK(StreamEventKey(parts->stream_id, parts->version) == bytes);
  }
  if (auto value = DecodeU64(bytes)) {
    FUZZ_CHECK(bytes.size() == 8);
    FUZZ_CHECK(EncodeU64(*value) == bytes);
  } else {
    FUZZ_CHECK(bytes.size() != 8);
  }
}

}  // namespace

std::vector<std::string> FuzzSeeds() {
  casetrail::v1::CaseEvent event;
  event.set_event_id("evt-1");
  event.set_stream_id("case-1");
  event.set_event_type("ContactReceived");
  event.set_schema_version(1);
  event.mutable_occurred_at()->mutable_time()->set_seconds(1709285400);
  event.mutable_occurred_at()->set_precision(
      casetrail::v1::TIME_PRECISION_EXACT);
  event.mutable_recorded_by()->set_user_id("sw-1");
  event.mutable_opaque()->set_content_type("application/json");
  event.mutable_opaque()->set_data("{\"note\":\"home visit\"}");
  const absl::Time at =
      absl::FromUnixSeconds(1709285400) + absl::Nanoseconds(7);
  std::vector<std::string> seeds = {
      EncodeStoredEvent(0, 1, at, event.SerializeAsString()),
      EncodeStoredEvent(123456, 42, at, ""),
      StreamEventKey("case-1", 1),
      StreamEventKey("a", 1ull << 40),
      EncodeU64(0x0102030405060708),
  };
  event.mutable_opaque()->set_data(std::string(300, 'p'));
  seeds.push_back(
      EncodeStoredEvent(1ull << 33, 7, at, event.SerializeAsString()));
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SilenceProtobufLogs();
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  CheckStoredEvent(bytes);
  CheckKeys(bytes);
  return 0;
}
