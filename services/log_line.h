#ifndef CASETRAIL_SERVICES_LOG_LINE_H_
#define CASETRAIL_SERVICES_LOG_LINE_H_

#include "absl/strings/string_view.h"

namespace casetrail::services {

// Writes one line of casetraild's log to stderr, "<UTC time to the
// millisecond> casetraild: <line>", and flushes it. Thread-safe: a line is
// never interleaved with another.
void LogLine(absl::string_view line);

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_LOG_LINE_H_
