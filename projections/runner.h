#ifndef CASETRAIL_PROJECTIONS_RUNNER_H_
#define CASETRAIL_PROJECTIONS_RUNNER_H_

// The projection runner: tails the log from the read model's checkpoint,
// folds events in batches (CaseFold per case stream) and commits each batch's
// models, chronology entries, child links and the new checkpoint atomically
// (ReadModelStore::Commit).
//
// One background thread, woken by EventStore::NotifyWhenLogGrows. Lag is the
// log size minus checkpoint(). A failure (e.g. the read model cannot be
// written) stops the runner; last_error() says why and queries report it.
//
// Thread-safety: thread-safe.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eventstore/event_store.h"
#include "projections/case_fold.h"
#include "projections/read_model.h"

namespace casetrail::projections {

struct RunnerOptions {
  // Events per log read and per committed batch while following the log
  // (default 2000).
  size_t batch_events = 2000;
  // The same for Rebuild and CatchUp (default 50000): a case model is written
  // once per batch it changed in, so bigger batches write each model fewer
  // times.
  size_t bulk_batch_events = 50000;
  // Case folds kept in memory between batches; beyond this the cache is
  // dropped and models are read back from the read model. Default 0: dropped
  // after every batch. Measured (docs/benchmarks.md): thousands of cached
  // models fragment the heap enough to make every query 3-4x slower, while
  // reading a model back costs one point read per case per batch.
  size_t max_cached_cases = 0;
  // While following, a batch smaller than batch_events is followed by this
  // pause (default 100 ms), so that under a steady stream of small appends
  // each case model is rewritten once per pause rather than once per append.
  // It bounds what it adds to the lag.
  absl::Duration min_batch_interval = absl::Milliseconds(100);
  // Start the background thread. Tests and benchmarks may turn it off and
  // call CatchUp() themselves.
  bool background = true;
};

struct RebuildResult {
  uint64_t position = 0;
  absl::Duration elapsed;
  uint64_t cases = 0;
};

class ProjectionRunner {
 public:
  // Neither store nor read_model is owned; both must outlive the runner.
  static absl::StatusOr<std::unique_ptr<ProjectionRunner>> Start(
      eventstore::EventStore* store, ReadModelStore* read_model,
      const FoldConfig& config, RunnerOptions options = {});
  // Stops the thread (finishing the batch in hand).
  ~ProjectionRunner();
  void Stop();

  // Events below this position are in the read model.
  uint64_t checkpoint() const;
  // Blocks until checkpoint() >= position, the timeout passes or the runner
  // fails; returns whether it was reached.
  bool WaitFor(uint64_t position, absl::Duration timeout);
  // Folds until the checkpoint reaches the log's size at the call (on the
  // caller's thread if there is no background thread).
  absl::Status CatchUp();
  // Clears the read model and folds the log from position zero up to its size
  // at the call; the background thread (if any) then goes on following.
  absl::StatusOr<RebuildResult> Rebuild();

  absl::Status last_error() const;
  uint64_t events_applied() const;
  uint32_t rebuilds() const;

  // Holds the runner still, as a long rebuild would: nothing is folded and
  // the checkpoint does not move until ResumeForTesting(), while WaitFor()
  // waits as it would for a lagging read model. For tests of what waits for
  // the read model. REQUIRES: ResumeForTesting() on the same thread before
  // Stop() or destruction.
  void HoldForTesting();
  void ResumeForTesting();

 private:
  class Impl;
  explicit ProjectionRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_RUNNER_H_
