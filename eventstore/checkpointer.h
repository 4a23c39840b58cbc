#ifndef CASETRAIL_EVENTSTORE_CHECKPOINTER_H_
#define CASETRAIL_EVENTSTORE_CHECKPOINTER_H_

// Issues the log's signed checkpoints (checkpoint.h): on request, and on an
// interval while the log grows. Each is signed with the log's key and stored
// in the event store by tree size.
//
// Thread-safe. Issuing is serialised, so two requests at the same size store
// one checkpoint and both callers get it.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eventstore/checkpoint.h"
#include "eventstore/clock.h"
#include "eventstore/event_store.h"
#include "eventstore/signed_note.h"

namespace casetrail::eventstore {

struct IssuedCheckpoint {
  Checkpoint checkpoint;
  // The signed note, as stored and served.
  std::string note;
};

// The failures of the interval thread's Issue() calls since StartInterval(),
// for logs and metrics.
struct IntervalFailures {
  // How many failed (a later success does not reset it).
  uint64_t count = 0;
  // The latest failure's error; OK if none failed.
  absl::Status last_error;
  // When it failed, by the checkpointer's clock; InfinitePast() if none.
  absl::Time last_failed_at = absl::InfinitePast();
};

class Checkpointer {
 public:
  // A checkpointer that signs with `signer`. `store` and `clock` (default: the
  // system clock) are not owned and must outlive the checkpointer. Errors:
  // INVALID_ARGUMENT if `signer` yields no usable verifier key (a signer whose
  // contents were moved out); nothing is stored.
  static absl::StatusOr<std::unique_ptr<Checkpointer>> Create(
      EventStore* store, NoteSigner signer, Clock* clock = nullptr);
  // Stops the interval thread.
  ~Checkpointer();

  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // The latest checkpoint, after signing and storing a new one at the log's
  // current size if the latest does not cover it or is not signed by this
  // checkpointer's key (after a key change). Errors: the store's.
  absl::StatusOr<IssuedCheckpoint> Issue();
  // The latest stored checkpoint. Errors: NOT_FOUND if none was issued;
  // DATA_LOSS if the stored note is not a checkpoint.
  absl::StatusOr<IssuedCheckpoint> Latest() const;
  // The checkpoint stored for `tree_size`. Errors: OUT_OF_RANGE beyond the
  // log's size; NOT_FOUND if none was issued at that size; DATA_LOSS.
  absl::StatusOr<IssuedCheckpoint> AtSize(uint64_t tree_size) const;

  // Calls Issue() every `interval` on a thread of its own until Stop(). A
  // failure is counted in interval_failures() and then passed to `on_error`
  // (may be empty), on that thread; the next interval tries again. Does
  // nothing if the thread is already running.
  void StartInterval(absl::Duration interval,
                     std::function<void(const absl::Status&)> on_error);
  // Stops the interval thread. Idempotent.
  void Stop();
  // The interval thread's failures so far.
  IntervalFailures interval_failures() const;

  const NoteSigner& signer() const { return signer_; }
  const NoteVerifier& verifier() const { return verifier_; }

 private:
  Checkpointer(EventStore* store, NoteSigner signer, NoteVerifier verifier,
               Clock* clock);

  EventStore* const store_;
  const NoteSigner signer_;
  const NoteVerifier verifier_;
  Clock* const clock_;

  absl::Mutex issue_mu_;

  absl::Mutex interval_mu_;
  bool stop_ ABSL_GUARDED_BY(interval_mu_) = false;
  // Held to start or join the thread, never by the thread itself.
  absl::Mutex thread_mu_;
  std::thread interval_thread_ ABSL_GUARDED_BY(thread_mu_);

  mutable absl::Mutex failures_mu_;
  IntervalFailures failures_ ABSL_GUARDED_BY(failures_mu_);
};

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_CHECKPOINTER_H_
