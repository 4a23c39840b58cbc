#include "services/internal/subscriber_waits.h"

#include <utility>

#include "absl/status/status.h"

namespace casetrail::services {

SubscriberWaits::SubscriberWaits(eventstore::EventStore* store)
    : store_(store) {}

absl::StatusOr<eventstore::EventStore::NotificationId> SubscriberWaits::Park(
    uint64_t known_size, std::function<void()> wake) {
  // Registered under mu_, so that Stop() either sees this wait when it wakes
  // the store's waiters or has already refused it.
  absl::MutexLock l(&mu_);
  if (stopped_) return absl::UnavailableError("server is shutting down");
  return store_->NotifyWhenLogGrows(known_size, std::move(wake));
}

bool SubscriberWaits::Cancel(eventstore::EventStore::NotificationId id) {
  return store_->CancelNotification(id);
}

void SubscriberWaits::Stop() {
  {
    absl::MutexLock l(&mu_);
    stopped_ = true;
  }
  // Every wait parked before the flag was set is in the store by now.
  store_->WakeAllWaiters();
}

bool SubscriberWaits::stopped() const {
  absl::MutexLock l(&mu_);
  return stopped_;
}

}  // namespace casetrail::services
