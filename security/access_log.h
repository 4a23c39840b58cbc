#ifndef CASETRAIL_SECURITY_ACCESS_LOG_H_
#define CASETRAIL_SECURITY_ACCESS_LOG_H_

// The purpose-bound access audit (DESIGN.md property 10): every read of case
// data, and every refused attempt, becomes an AccessRecorded event in the
// reader's tenant's stream "<tenant>/_access". The events are in the same log
// as the case events, so the same Merkle tree, checkpoints and proofs cover
// them; nothing can drop or rewrite one without breaking a proof.

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "casetrail/v1/access.pb.h"
#include "casetrail/v1/event.pb.h"
#include "eventstore/event_store.h"
#include "security/policy.h"

namespace casetrail::security {

// Writes access events. Thread-safe; `store` must outlive it.
class AccessLog {
 public:
  explicit AccessLog(eventstore::EventStore* store) : store_(store) {}

  // Fills in who (from `principal`), purpose, break-glass reason and
  // accessed_at (now) on `access`, and appends it to the principal's tenant's
  // audit stream. `done` runs once the event is durable (or failed), on the
  // store's acknowledger thread; callers answer the read only then, so no
  // data leaves without its record.
  void RecordAsync(const Principal& principal, absl::string_view purpose,
                   absl::string_view break_glass_reason,
                   casetrail::v1::AccessRecorded access,
                   std::function<void(absl::Status)> done);
  // Blocking form.
  absl::Status Record(const Principal& principal, absl::string_view purpose,
                      absl::string_view break_glass_reason,
                      casetrail::v1::AccessRecorded access);

 private:
  eventstore::EventStore* const store_;
};

// The CaseEvent an access becomes (stream "<tenant>/_access", event type
// AccessRecorded, a random event id). Exposed for tests and the fuzz target.
casetrail::v1::CaseEvent AccessEvent(
    const casetrail::v1::AccessRecorded& access, absl::Time now);

// ListAccess over the tenant's audit stream. Errors: INVALID_ARGUMENT for a
// bad page token, limit or time range; DATA_LOSS for a stored event that does
// not parse.
absl::StatusOr<casetrail::v1::ListAccessResponse> ListAccess(
    const eventstore::EventStore& store, absl::string_view tenant,
    const casetrail::v1::ListAccessRequest& request);

// Checks a ListAccessRequest: field violations as (field, description).
std::vector<std::pair<std::string, std::string>> CheckListAccess(
    const casetrail::v1::ListAccessRequest& request);

}  // namespace casetrail::security

#endif  // CASETRAIL_SECURITY_ACCESS_LOG_H_
