#ifndef CASETRAIL_SECURITY_REQUEST_HEADERS_H_
#define CASETRAIL_SECURITY_REQUEST_HEADERS_H_

// The request headers security reads (docs/security.md, "Request headers"),
// and what a well-formed one is. Pure: services/request_security.cc hands in
// the values gRPC received, before authenticating the call.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace casetrail::security {

inline constexpr char kAuthorizationHeader[] = "authorization";
inline constexpr char kPurposeHeader[] = "x-casetrail-purpose";
inline constexpr char kBreakGlassHeader[] = "x-casetrail-break-glass";

// The one value of security header `name` among `values` (every value the
// request carried under that name), or "" when it carried none.
//
// Errors, INVALID_ARGUMENT naming the header and never quoting the value:
//   - more than one value: a second purpose or reason would be ignored, so
//     which one counts would depend on the server;
//   - a control character (a byte below 0x20, or 0x7f) in any value: purpose
//     and break-glass reason are stored in the access audit, where a CR or LF
//     could forge a line of a listing. gRPC's own clients cannot send one.
// A value is not trimmed or changed here.
absl::StatusOr<std::string> SecurityHeaderValue(
    absl::string_view name, const std::vector<absl::string_view>& values);

}  // namespace casetrail::security

#endif  // CASETRAIL_SECURITY_REQUEST_HEADERS_H_
