#include "services/append_validation.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "eventstore/keys.h"
#include "eventstore/wire_format.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "services/typed_validation.h"

namespace casetrail::services {
namespace {

using casetrail::v1::AppendEventsRequest;
using casetrail::v1::CaseEvent;
using casetrail::v1::ExpectedVersion;

// google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

bool IsPrintableToken(absl::string_view s, size_t max_size) {
  if (s.empty() || s.size() > max_size) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

bool IsEventTypeName(absl::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
          c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

class Violations {
 public:
  void Add(std::string field, std::string description) {
    list_.push_back({std::move(field), std::move(description)});
  }
  std::vector<FieldViolation> Take() { return std::move(list_); }

 private:
  std::vector<FieldViolation> list_;
};

void ValidateEvent(const CaseEvent& e, size_t size, const std::string& path,
                   const AppendEventsRequest& request,
                   const AppendLimits& limits, Violations& v) {
  if (e.event_id().empty()) {
    v.Add(path + ".event_id", "required");
  } else if (!IsPrintableToken(e.event_id(), 128)) {
    v.Add(path + ".event_id",
          "must be 1-128 bytes of printable ASCII without spaces");
  }
  if (!e.stream_id().empty() && e.stream_id() != request.stream_id()) {
    v.Add(path + ".stream_id",
          absl::StrCat("is '", e.stream_id(), "' but the append is to stream '",
                       request.stream_id(),
                       "'; leave it empty or make it equal"));
  }
  if (e.event_type().empty()) {
    v.Add(path + ".event_type", "required");
  } else if (!IsEventTypeName(e.event_type())) {
    v.Add(path + ".event_type",
          "must be 1-100 characters of letters, digits, '_', '.', '-'");
  }
  if (!e.has_occurred_at()) {
    v.Add(path + ".occurred_at", "required");
  } else {
    const auto& at = e.occurred_at();
    if (!at.has_time()) {
      v.Add(path + ".occurred_at.time", "required");
    } else if (at.time().seconds() < kMinTimestampSeconds ||
               at.time().seconds() > kMaxTimestampSeconds ||
               at.time().nanos() < 0 || at.time().nanos() > 999999999) {
      v.Add(path + ".occurred_at.time",
            "is not a valid timestamp (years 0001-9999, nanos 0-999999999)");
    }
    if (at.precision() == casetrail::v1::TIME_PRECISION_UNSPECIFIED) {
      v.Add(path + ".occurred_at.precision",
            "required: EXACT, DAY, MONTH or APPROXIMATE");
    } else if (!casetrail::v1::TimePrecision_IsValid(at.precision())) {
      v.Add(path + ".occurred_at.precision",
            absl::StrCat("unknown precision ", at.precision()));
    }
  }
  if (!e.has_recorded_by() || e.recorded_by().user_id().empty()) {
    v.Add(path + ".recorded_by.user_id", "required");
  }
  if (size > limits.max_event_bytes) {
    v.Add(path, absl::StrCat("event is ", size, " bytes; the limit is ",
                             limits.max_event_bytes));
  }
}

}  // namespace

std::optional<FieldViolation> CheckStreamId(absl::string_view stream_id) {
  if (stream_id.empty()) return FieldViolation{"stream_id", "required"};
  if (!eventstore::IsValidStreamId(stream_id)) {
    return FieldViolation{
        "stream_id", "must be 1-200 bytes of printable ASCII without spaces"};
  }
  return std::nullopt;
}

std::vector<FieldViolation> ValidateAppend(const AppendEventsRequest& request,
                                           const AppendLimits& limits) {
  Violations v;
  if (auto violation = CheckStreamId(request.stream_id())) {
    v.Add(violation->field, violation->description);
  }
  const ExpectedVersion& expected = request.expected_version();
  if (expected.kind() == ExpectedVersion::KIND_UNSPECIFIED) {
    v.Add("expected_version.kind",
          "required: ANY, NO_STREAM, STREAM_EXISTS or EXACT");
  } else if (!ExpectedVersion::Kind_IsValid(expected.kind())) {
    v.Add("expected_version.kind",
          absl::StrCat("unknown kind ", expected.kind()));
  } else if (expected.kind() != ExpectedVersion::KIND_EXACT &&
             expected.version() != 0) {
    v.Add("expected_version.version", "only used with kind EXACT");
  }
  if (request.events().empty()) {
    v.Add("events", "at least one event is required");
  } else if (static_cast<size_t>(request.events_size()) >
             limits.max_events_per_append) {
    v.Add("events", absl::StrCat(request.events_size(),
                                 " events; the limit per append is ",
                                 limits.max_events_per_append));
  }
  absl::flat_hash_set<absl::string_view> ids;
  size_t total = 0;
  for (int i = 0; i < request.events_size(); ++i) {
    const CaseEvent& e = request.events(i);
    const std::string path = absl::StrCat("events[", i, "]");
    const size_t size = e.ByteSizeLong();
    ValidateEvent(e, size, path, request, limits, v);
    for (FieldViolation& typed : ValidateTypedEvent(e, i)) {
      v.Add(std::move(typed.field), std::move(typed.description));
    }
    if (!e.event_id().empty() && !ids.insert(e.event_id()).second) {
      v.Add(path + ".event_id",
            absl::StrCat("event id ", e.event_id(),
                         " appears more than once in this append"));
    }
    total += size;
  }
  if (total > limits.max_append_bytes) {
    v.Add("events", absl::StrCat("append is ", total, " bytes; the limit is ",
                                 limits.max_append_bytes));
  }
  return v.Take();
}

namespace {

// Where a field numbered `field` or above starts in deterministic bytes (known
// fields in ascending order, then unknown ones); the end if none. The bytes
// are protobuf's own serialisation, so they are well-formed.
size_t FirstFieldAtOrAbove(absl::string_view bytes, int field) {
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  for (;;) {
    const size_t at = static_cast<size_t>(in.CurrentPosition());
    const uint32_t tag = in.ReadTag();
    if (tag == 0 ||
        google::protobuf::internal::WireFormatLite::GetTagFieldNumber(tag) >=
            field ||
        !google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      return tag == 0 ? bytes.size() : at;
    }
  }
}

}  // namespace

std::string EncodeNormalisedEvent(const CaseEvent& event,
                                  absl::string_view stream_id) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream raw(&bytes);
    google::protobuf::io::CodedOutputStream out(&raw);
    out.SetSerializationDeterministic(true);
    event.SerializeToCodedStream(&out);
  }
  const bool add_stream_id = event.stream_id().empty() && !stream_id.empty();
  const bool add_schema_version = event.schema_version() == 0;
  if (!add_stream_id && !add_schema_version) return bytes;
  // Splice the missing fields in where deterministic serialisation of the
  // normalised event would put them, rather than copy the whole event (its
  // payload included) to set them: the result is byte for byte the same.
  std::string out;
  out.reserve(bytes.size() + stream_id.size() + 8);
  size_t copied = 0;
  if (add_stream_id) {
    const size_t at =
        FirstFieldAtOrAbove(bytes, CaseEvent::kStreamIdFieldNumber);
    out.append(bytes, 0, at);
    eventstore::AppendLengthDelimitedField(CaseEvent::kStreamIdFieldNumber,
                                           stream_id, &out);
    copied = at;
  }
  if (add_schema_version) {
    const size_t at =
        FirstFieldAtOrAbove(bytes, CaseEvent::kSchemaVersionFieldNumber);
    out.append(bytes, copied, at - copied);
    eventstore::AppendVarintField(CaseEvent::kSchemaVersionFieldNumber, 1,
                                  &out);
    copied = at;
  }
  out.append(bytes, copied, std::string::npos);
  return out;
}

eventstore::AppendRequest ToStoreAppend(const AppendEventsRequest& request) {
  eventstore::AppendRequest append;
  append.stream_id = request.stream_id();
  const ExpectedVersion& expected = request.expected_version();
  switch (expected.kind()) {
    case ExpectedVersion::KIND_NO_STREAM:
      append.expected = eventstore::ExpectedVersion::NoStream();
      break;
    case ExpectedVersion::KIND_STREAM_EXISTS:
      append.expected = eventstore::ExpectedVersion::StreamExists();
      break;
    case ExpectedVersion::KIND_EXACT:
      append.expected = eventstore::ExpectedVersion::Exact(expected.version());
      break;
    default:
      append.expected = eventstore::ExpectedVersion::Any();
      break;
  }
  append.events.reserve(request.events_size());
  for (const CaseEvent& e : request.events()) {
    append.events.push_back(
        {e.event_id(), EncodeNormalisedEvent(e, request.stream_id())});
  }
  return append;
}

}  // namespace casetrail::services
