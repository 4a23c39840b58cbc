#ifndef CASETRAIL_SECURITY_FILE_TEXT_H_
#define CASETRAIL_SECURITY_FILE_TEXT_H_

// Reading the small files security is configured with (certificates, keys,
// tokens, the security file), with errors that name the file.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace casetrail::security {

// The whole of `path` (binary). INVALID_ARGUMENT naming `what` and the file
// ("cannot read TLS key file /etc/...: No such file or directory") if it
// cannot be read or holds nothing but whitespace.
absl::StatusOr<std::string> ReadNonEmptyFile(const std::string& path,
                                             absl::string_view what);

}  // namespace casetrail::security

#endif  // CASETRAIL_SECURITY_FILE_TEXT_H_
