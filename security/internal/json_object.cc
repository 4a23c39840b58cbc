#include "security/internal/json_object.h"

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/util/json_util.h"

namespace casetrail::security::internal {
namespace {

// protobuf 3.21 refuses a repeated name with
//   "(fields[0]) sub: Repeated map key: 'sub' is already set."
// and one in a nested object with a longer path
//   "(fields[0].value.struct_value.fields[1]) x: Repeated map key: ...".
// jwt_test pins this wording: were a newer protobuf to change it, the text
// would still be refused, only as "not valid JSON".
constexpr absl::string_view kRepeatedKey = "Repeated map key: '";
constexpr absl::string_view kAlreadySet = "' is already set.";
constexpr absl::string_view kRootNotMessage = "Root element must be a message";

bool DuplicateMember(absl::string_view message, JsonObjectError* error) {
  const size_t start = message.find(kRepeatedKey);
  const size_t end = message.rfind(kAlreadySet);
  if (start == absl::string_view::npos || end == absl::string_view::npos ||
      end < start + kRepeatedKey.size()) {
    return false;
  }
  error->kind = JsonObjectError::Kind::kDuplicateMember;
  const size_t name = start + kRepeatedKey.size();
  error->member = std::string(message.substr(name, end - name));
  // The path between the parentheses has a '.' only below the top level.
  const size_t close = message.find(')');
  error->nested = !absl::StartsWith(message, "(") || close > start ||
                  absl::StrContains(message.substr(0, close), ".");
  return true;
}

}  // namespace

std::optional<google::protobuf::Struct> ParseJsonObject(
    absl::string_view json, JsonObjectError* error) {
  google::protobuf::Struct object;
  const auto status =
      google::protobuf::util::JsonStringToMessage(std::string(json), &object);
  if (status.ok()) return object;
  if (error != nullptr) {
    *error = JsonObjectError();
    const absl::string_view message(status.message().data(),
                                    status.message().size());
    if (absl::StrContains(message, kRootNotMessage)) {
      error->kind = JsonObjectError::Kind::kNotAnObject;
    } else if (!DuplicateMember(message, error)) {
      error->kind = JsonObjectError::Kind::kNotJson;
    }
  }
  return std::nullopt;
}

}  // namespace casetrail::security::internal
