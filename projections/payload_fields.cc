#include "projections/payload_fields.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "casetrail/v1/case_events.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace casetrail::projections {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const google::protobuf::OneofDescriptor& PayloadOneof() {
  static const auto* oneof =
      casetrail::v1::CaseEvent::descriptor()->FindOneofByName("payload");
  return *oneof;
}

}  // namespace

const Descriptor* PayloadDescriptor(absl::string_view event_type) {
  const auto& oneof = PayloadOneof();
  for (int i = 0; i < oneof.field_count(); ++i) {
    const Descriptor* type = oneof.field(i)->message_type();
    if (type != nullptr && type != casetrail::v1::OpaquePayload::descriptor() &&
        type->name() == event_type) {
      return type;
    }
  }
  return nullptr;
}

const Message* TypedPayload(const casetrail::v1::CaseEvent& event) {
  const auto* reflection = event.GetReflection();
  const FieldDescriptor* field =
      reflection->GetOneofFieldDescriptor(event, &PayloadOneof());
  if (field == nullptr ||
      field->message_type() == casetrail::v1::OpaquePayload::descriptor()) {
    return nullptr;
  }
  return &reflection->GetMessage(event, field);
}

const casetrail::v1::Decision* DecisionOf(
    const casetrail::v1::CaseEvent& event) {
  const Message* payload = TypedPayload(event);
  if (payload == nullptr) return nullptr;
  const FieldDescriptor* field =
      payload->GetDescriptor()->FindFieldByName("decision");
  if (field == nullptr ||
      field->message_type() != casetrail::v1::Decision::descriptor() ||
      !payload->GetReflection()->HasField(*payload, field)) {
    return nullptr;
  }
  return static_cast<const casetrail::v1::Decision*>(
      &payload->GetReflection()->GetMessage(*payload, field));
}

std::optional<std::string> FieldText(const Message& message,
                                     absl::string_view name) {
  const FieldDescriptor* field =
      message.GetDescriptor()->FindFieldByName(std::string(name));
  if (field == nullptr || field->is_repeated()) return std::nullopt;
  const auto* r = message.GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return r->GetString(message, field);
    case FieldDescriptor::CPPTYPE_ENUM:
      return r->GetEnum(message, field)->name();
    case FieldDescriptor::CPPTYPE_BOOL:
      return r->GetBool(message, field) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(r->GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(r->GetUInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(r->GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(r->GetUInt64(message, field));
    default:
      return std::nullopt;
  }
}

std::optional<absl::CivilDay> FieldDay(const Message& message,
                                       absl::string_view name,
                                       absl::TimeZone zone) {
  const FieldDescriptor* field =
      message.GetDescriptor()->FindFieldByName(std::string(name));
  if (field == nullptr || field->is_repeated() ||
      field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
      !message.GetReflection()->HasField(message, field)) {
    return std::nullopt;
  }
  const Message& value = message.GetReflection()->GetMessage(message, field);
  if (field->message_type() == casetrail::v1::CivilDate::descriptor()) {
    const auto& date = static_cast<const casetrail::v1::CivilDate&>(value);
    if (date.year() == 0) return std::nullopt;
    return absl::CivilDay(date.year(), date.month(), date.day());
  }
  if (field->message_type() == google::protobuf::Timestamp::descriptor()) {
    const auto& ts = static_cast<const google::protobuf::Timestamp&>(value);
    return absl::ToCivilDay(absl::FromUnixSeconds(ts.seconds()), zone);
  }
  return std::nullopt;
}

bool ConditionHolds(const Message& payload, absl::string_view condition) {
  if (condition.empty()) return true;
  const size_t eq = condition.find('=');
  if (eq == absl::string_view::npos) return false;
  const std::optional<std::string> value =
      FieldText(payload, condition.substr(0, eq));
  return value.has_value() && *value == condition.substr(eq + 1);
}

bool HasReadableField(const Descriptor& type, absl::string_view name,
                      bool scalar) {
  const FieldDescriptor* field = type.FindFieldByName(std::string(name));
  if (field == nullptr || field->is_repeated()) return false;
  if (scalar) return field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE;
  return field->message_type() == casetrail::v1::CivilDate::descriptor() ||
         field->message_type() == google::protobuf::Timestamp::descriptor();
}

std::string EnumName(const google::protobuf::EnumDescriptor* type, int value,
                     bool strip) {
  const google::protobuf::EnumValueDescriptor* v =
      type->FindValueByNumber(value);
  if (v == nullptr) return absl::StrCat("value ", value);
  if (!strip) return v->name();
  const std::string& first = type->value(0)->name();  // ..._UNSPECIFIED
  const size_t prefix = first.rfind("UNSPECIFIED");
  if (prefix != std::string::npos &&
      v->name().compare(0, prefix, first, 0, prefix) == 0) {
    return v->name().substr(prefix);
  }
  return v->name();
}

std::string EnumWords(const google::protobuf::EnumDescriptor* type, int value) {
  std::string name = EnumName(type, value, /*strip=*/true);
  absl::AsciiStrToLower(&name);
  std::replace(name.begin(), name.end(), '_', ' ');
  return name;
}

}  // namespace casetrail::projections
