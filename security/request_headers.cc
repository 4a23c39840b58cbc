#include "security/request_headers.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace casetrail::security {
namespace {

bool IsControl(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

}  // namespace

absl::StatusOr<std::string> SecurityHeaderValue(
    absl::string_view name, const std::vector<absl::string_view>& values) {
  if (values.empty()) return std::string();
  if (values.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "header ", name, " was sent ", values.size(), " times; send it once"));
  }
  const absl::string_view value = values[0];
  for (size_t i = 0; i < value.size(); ++i) {
    if (IsControl(value[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "header ", name, " holds a control character (byte ", i + 1, " is 0x",
          absl::Hex(static_cast<unsigned char>(value[i]), absl::kZeroPad2),
          "); only printable text is accepted"));
    }
  }
  return std::string(value);
}

}  // namespace casetrail::security
