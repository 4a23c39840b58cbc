#ifndef CASETRAIL_SERVICES_INTERNAL_SUBSCRIBER_WAITS_H_
#define CASETRAIL_SERVICES_INTERNAL_SUBSCRIBER_WAITS_H_

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "eventstore/event_store.h"

namespace casetrail::services {

// Subscriptions parked on the event store until the log grows, and the switch
// that ends them at shutdown. Parking and Stop() exclude each other: a
// subscription parks before Stop() (and Stop() wakes it) or is refused after
// it, so none parks just after the wake-up and waits out the server's shutdown
// deadline.
//
// Thread-safe: called by gRPC's callback threads and the store's notifier
// thread (subscriptions), and by the thread that stops the server. `store` is
// not owned and must outlive this object.
class SubscriberWaits {
 public:
  explicit SubscriberWaits(eventstore::EventStore* store);

  SubscriberWaits(const SubscriberWaits&) = delete;
  SubscriberWaits& operator=(const SubscriberWaits&) = delete;

  // Has `wake` run once, on the store's notifier thread, when the log holds
  // more than `known_size` events, when the store closes, or at Stop()
  // (EventStore::NotifyWhenLogGrows). Errors: UNAVAILABLE ("server is shutting
  // down") after Stop(); `wake` is then never run.
  absl::StatusOr<eventstore::EventStore::NotificationId> Park(
      uint64_t known_size, std::function<void()> wake);
  // Removes a parked wait. Returns true if its `wake` will not run; false if it
  // has run or is running now.
  bool Cancel(eventstore::EventStore::NotificationId id);

  // Refuses every later Park() and wakes every parked subscription.
  // Idempotent.
  void Stop();
  bool stopped() const;

 private:
  eventstore::EventStore* const store_;
  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_INTERNAL_SUBSCRIBER_WAITS_H_
