#include "services/log_line.h"

#include <cstdio>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace casetrail::services {

void LogLine(absl::string_view line) {
  const std::string now = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                           absl::UTCTimeZone());
  // One fprintf call: stdio locks the stream for it, so concurrent lines do
  // not mix.
  std::fprintf(stderr, "%s casetraild: %.*s\n", now.c_str(),
               static_cast<int>(line.size()), line.data());
  std::fflush(stderr);
}

}  // namespace casetrail::services
