#include "tools/event_json.h"

#include <algorithm>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace casetrail::tools {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
namespace json = google::protobuf::util;

constexpr char kJsonContentType[] = "application/json";

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  json::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)json::MessageToJsonString(m, &out, options);
  return out;
}

// JSON with object keys sorted, so the same payload always has the same bytes
// (protobuf's own printer walks a Struct in hash order, which differs between
// processes).
void AppendCanonicalJson(const Value& v, std::string* out) {
  switch (v.kind_case()) {
    case Value::kNullValue:
    case Value::KIND_NOT_SET:
      out->append("null");
      return;
    case Value::kBoolValue:
      out->append(v.bool_value() ? "true" : "false");
      return;
    case Value::kNumberValue: {
      const double d = v.number_value();
      if (d == static_cast<double>(static_cast<int64_t>(d)) && d < 9e15 &&
          d > -9e15) {
        absl::StrAppend(out, static_cast<int64_t>(d));
      } else {
        absl::StrAppend(out, absl::StrFormat("%.17g", d));
      }
      return;
    }
    case Value::kStringValue: {
      out->push_back('"');
      for (unsigned char c : v.string_value()) {
        if (c == '"' || c == '\\') {
          out->push_back('\\');
          out->push_back(static_cast<char>(c));
        } else if (c < 0x20) {
          absl::StrAppend(out, absl::StrFormat("\\u%04x", c));
        } else {
          out->push_back(static_cast<char>(c));
        }
      }
      out->push_back('"');
      return;
    }
    case Value::kListValue: {
      out->push_back('[');
      for (int i = 0; i < v.list_value().values_size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendCanonicalJson(v.list_value().values(i), out);
      }
      out->push_back(']');
      return;
    }
    case Value::kStructValue: {
      std::vector<const std::string*> keys;
      for (const auto& [key, value] : v.struct_value().fields()) {
        keys.push_back(&key);
      }
      std::sort(
          keys.begin(), keys.end(),
          [](const std::string* a, const std::string* b) { return *a < *b; });
      out->push_back('{');
      for (size_t i = 0; i < keys.size(); ++i) {
        if (i > 0) out->push_back(',');
        Value key;
        key.set_string_value(*keys[i]);
        AppendCanonicalJson(key, out);
        out->push_back(':');
        AppendCanonicalJson(v.struct_value().fields().at(*keys[i]), out);
      }
      out->push_back('}');
      return;
    }
  }
}

Value* Field(Struct& s, const std::string& a, const std::string& b) {
  auto* fields = s.mutable_fields();
  if (auto it = fields->find(a); it != fields->end()) return &it->second;
  if (auto it = fields->find(b); it != fields->end()) return &it->second;
  return nullptr;
}

absl::Status NormaliseEvent(Value& value, int index) {
  if (!value.has_struct_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("events[", index, "] is not a JSON object"));
  }
  Struct& event = *value.mutable_struct_value();
  auto* fields = event.mutable_fields();
  if (Field(event, "event_id", "eventId") == nullptr) {
    (*fields)["event_id"].set_string_value(NewEventId());
  }
  if (auto it = fields->find("payload"); it != fields->end()) {
    std::string data;
    AppendCanonicalJson(it->second, &data);
    fields->erase(it);
    Struct& opaque = *(*fields)["opaque"].mutable_struct_value();
    (*opaque.mutable_fields())["content_type"].set_string_value(
        kJsonContentType);
    (*opaque.mutable_fields())["data"].set_string_value(
        absl::Base64Escape(data));
  }
  if (Value* at = Field(event, "occurred_at", "occurredAt");
      at != nullptr && at->has_struct_value()) {
    if (Value* p = Field(*at->mutable_struct_value(), "precision", "precision");
        p != nullptr && p->has_string_value() &&
        !absl::StartsWith(p->string_value(), "TIME_PRECISION_")) {
      p->set_string_value(absl::StrCat("TIME_PRECISION_", p->string_value()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<casetrail::v1::AppendEventsRequest> ToRequest(Value& value,
                                                             int index) {
  if (!value.has_struct_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("append ", index, " is not a JSON object"));
  }
  Struct& request = *value.mutable_struct_value();
  if (Field(request, "expected_version", "expectedVersion") == nullptr) {
    (*(*request.mutable_fields())["expected_version"]
          .mutable_struct_value()
          ->mutable_fields())["kind"]
        .set_string_value("KIND_ANY");
  }
  if (Value* events = Field(request, "events", "events");
      events != nullptr && events->has_list_value()) {
    for (int i = 0; i < events->list_value().values_size(); ++i) {
      absl::Status s =
          NormaliseEvent(*events->mutable_list_value()->mutable_values(i), i);
      if (!s.ok()) return s;
    }
  }
  casetrail::v1::AppendEventsRequest out;
  auto status = json::JsonStringToMessage(ToJson(value), &out);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("append ", index, ": ", std::string(status.message())));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<casetrail::v1::AppendEventsRequest>>
ParseAppendRequests(const std::string& text) {
  Value root;
  auto status = json::JsonStringToMessage(text, &root);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: ", std::string(status.message())));
  }
  std::vector<casetrail::v1::AppendEventsRequest> requests;
  if (root.has_list_value()) {
    for (int i = 0; i < root.list_value().values_size(); ++i) {
      auto r = ToRequest(*root.mutable_list_value()->mutable_values(i), i);
      if (!r.ok()) return r.status();
      requests.push_back(*std::move(r));
    }
  } else {
    auto r = ToRequest(root, 0);
    if (!r.ok()) return r.status();
    requests.push_back(*std::move(r));
  }
  return requests;
}

std::string RecordedEventToJson(const casetrail::v1::RecordedEvent& event) {
  const auto& e = event.event();
  if (!e.has_opaque() || e.opaque().content_type() != kJsonContentType) {
    return ToJson(event);
  }
  Value payload;
  if (!json::JsonStringToMessage(e.opaque().data(), &payload).ok()) {
    return ToJson(event);
  }
  casetrail::v1::RecordedEvent copy = event;
  copy.mutable_event()->clear_opaque();
  Value value;
  (void)json::JsonStringToMessage(ToJson(copy), &value);
  Value* inner = Field(*value.mutable_struct_value(), "event", "event");
  if (inner != nullptr && inner->has_struct_value()) {
    (*inner->mutable_struct_value()->mutable_fields())["payload"] = payload;
  }
  return ToJson(value);
}

std::string MessageToJsonLine(const google::protobuf::Message& message) {
  return ToJson(message);
}

std::string NewEventId() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("evt-%016x%016x", rng(), rng());
}

}  // namespace casetrail::tools
