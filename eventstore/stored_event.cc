#include "eventstore/stored_event.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eventstore/wire_format.h"

namespace casetrail::eventstore {
namespace {

// RecordedEvent.event.
constexpr int kEventField = 15;

}  // namespace

absl::Time ToAbslTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  // Via whole seconds: absl::ToUnixNanos saturates outside 1677-2262, and a
  // Timestamp covers years 1-9999.
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);  // rounds down
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return ts;
}

std::string EncodeStoredEvent(uint64_t position, uint64_t stream_version,
                              absl::Time recorded_at,
                              absl::string_view encoded_event) {
  // Fields 1-3 serialised by protobuf, then field 15 appended by hand: protobuf
  // writes fields in number order, so the concatenation is byte-identical to
  // serialising the whole message.
  casetrail::v1::RecordedEvent header;
  header.set_position(position);
  header.set_stream_version(stream_version);
  *header.mutable_recorded_at() = ToProtoTime(recorded_at);
  std::string out;
  out.reserve(32 + encoded_event.size());
  header.AppendToString(&out);
  AppendLengthDelimitedField(kEventField, encoded_event, &out);
  return out;
}

absl::StatusOr<casetrail::v1::RecordedEvent> DecodeStoredEvent(
    absl::string_view bytes) {
  casetrail::v1::RecordedEvent event;
  if (!event.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      !event.has_event()) {
    return absl::DataLossError(
        absl::StrCat("stored event of ", bytes.size(),
                     " bytes is not a RecordedEvent with an event"));
  }
  return event;
}

}  // namespace casetrail::eventstore
