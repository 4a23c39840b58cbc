#include "security/internal/base64url.h"

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"

namespace casetrail::security::internal {

std::string EncodeBase64Url(absl::string_view bytes) {
  return absl::WebSafeBase64Escape(bytes);
}

std::optional<std::string> DecodeBase64Url(absl::string_view text) {
  const bool alphabet = absl::c_all_of(text, [](char c) {
    return absl::ascii_isalnum(c) || c == '-' || c == '_';
  });
  std::string bytes;
  if (!alphabet || text.size() % 4 == 1 ||
      !absl::WebSafeBase64Unescape(text, &bytes) ||
      EncodeBase64Url(bytes) != text) {
    return std::nullopt;
  }
  return bytes;
}

}  // namespace casetrail::security::internal
