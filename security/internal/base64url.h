#ifndef CASETRAIL_SECURITY_INTERNAL_BASE64URL_H_
#define CASETRAIL_SECURITY_INTERNAL_BASE64URL_H_

// base64url without padding (RFC 7515 section 2), as JWS and JWK use it.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace casetrail::security::internal {

// `bytes` as unpadded base64url.
std::string EncodeBase64Url(absl::string_view bytes);

// The bytes `text` encodes, or nullopt unless `text` is the canonical
// unpadded base64url of them: any other spelling of the same bytes (padding,
// the standard alphabet, non-zero trailing bits) would let one signed value be
// written several ways.
std::optional<std::string> DecodeBase64Url(absl::string_view text);

}  // namespace casetrail::security::internal

#endif  // CASETRAIL_SECURITY_INTERNAL_BASE64URL_H_
