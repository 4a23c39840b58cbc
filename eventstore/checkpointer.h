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
#include <string>
#include <thread>

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

class Checkpointer {
 public:
  // `store` and `clock` (default: the system clock) are not owned and must
  // outlive the checkpointer.
  Checkpointer(EventStore* store, NoteSigner signer, Clock* clock = nullptr);
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

  // Calls Issue() every `interval` on a thread of its own until Stop();
  // `on_error` (may be empty) hears about failures. Does nothing if the thread
  // is already running.
  void StartInterval(absl::Duration interval,
                     std::function<void(const absl::Status&)> on_error);
  // Stops the interval thread. Idempotent.
  void Stop();

  const NoteSigner& signer() const { return signer_; }
  const NoteVerifier& verifier() const { return verifier_; }

 private:
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
};

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_CHECKPOINTER_H_
