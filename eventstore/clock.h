#ifndef CASETRAIL_EVENTSTORE_CLOCK_H_
#define CASETRAIL_EVENTSTORE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace casetrail::eventstore {

// The source of recorded_at. Tests inject a clock that stands still or goes
// backwards. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;

  // The wall clock. Never null; not owned by the caller.
  static Clock* System();
};

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_CLOCK_H_
