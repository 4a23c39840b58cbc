#ifndef CASETRAIL_SERVICES_AUDITED_READ_H_
#define CASETRAIL_SERVICES_AUDITED_READ_H_

// One audited read of case data, the same for every service (docs/security.md,
// "How a call is checked"): authorise the call, decide and read (the service's
// `read`, which may wait for the read model), record the access event
// durably, then answer. Nothing is sent before its access event is durable,
// and nothing at all if it cannot be written.
//
// All of it runs on a WorkerPool, never on a gRPC callback thread: an access
// decision may wait up to 2 s for the read model (while it lags or rebuilds),
// and the callback threads are the ones appends share. The access event of
// an answered or scope-refused read is recorded asynchronously, so no worker
// waits for its fsync; a refusal by the role x RPC matrix is recorded within
// Authorize, whose worker does wait for it. A call cancelled (or past its
// deadline) before its turn is not read and not recorded.
//
// Thread-safe. `security` and `pool` are not owned and must outlive this.

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "casetrail/v1/access.pb.h"
#include "grpcpp/server_context.h"
#include "services/request_security.h"
#include "services/worker_pool.h"

namespace casetrail::services {

// What a read came to.
struct ReadOutcome {
  enum class Kind {
    // Recorded, then answered with `status` (OK, or an error the reader
    // should see, e.g. NOT_FOUND or UNAVAILABLE for a read model behind).
    kAnswered,
    // Recorded as refused with `reason`; the caller gets PERMISSION_DENIED
    // with `told` (the reason itself when empty).
    kRefused,
    // Answered with `status` and not recorded: nothing was read (e.g. the
    // access decision itself could not be made yet).
    kNotRecorded,
  };
  Kind kind = Kind::kAnswered;
  absl::Status status;
  std::string reason;
  std::string told;

  static ReadOutcome Answered(absl::Status status = absl::OkStatus()) {
    return {Kind::kAnswered, std::move(status), "", ""};
  }
  static ReadOutcome Refused(std::string reason, std::string told = "") {
    return {Kind::kRefused, absl::OkStatus(), std::move(reason),
            std::move(told)};
  }
  static ReadOutcome NotRecorded(absl::Status status) {
    return {Kind::kNotRecorded, std::move(status), "", ""};
  }
};

// The access event's note of restricted events left out of an answer ("" for
// none), appended to its response summary.
std::string WithheldNote(size_t withheld);

class AuditedReads {
 public:
  AuditedReads(RequestSecurity* security, WorkerPool* pool)
      : security_(security), pool_(pool) {}

  // The service's part: decides and reads for an authorised `call`, writing
  // its response and filling `access` (cases and items returned, flags, a
  // summary). Runs on a worker and may block.
  using Read = std::function<ReadOutcome(
      const CallSecurity& call, casetrail::v1::AccessRecorded& access)>;

  // Runs the read of `method` on a worker: Authorize (UNAUTHENTICATED,
  // PERMISSION_DENIED from the matrix, recorded; INVALID_ARGUMENT for the
  // purpose), then `read`, then records `asked` as filled in by `read`, and
  // finally calls `finish` exactly once with the status to answer with
  // (UNAVAILABLE if the access event could not be written). `finish` may run
  // on a worker or on the store's writer thread; it must not block.
  // `context` must stay valid until `finish` runs (gRPC keeps it until the
  // reactor finishes).
  void Run(const grpc::CallbackServerContext& context, std::string method,
           casetrail::v1::AccessRecorded asked, Read read,
           std::function<void(absl::Status)> finish);

  // Runs `work` on the pool (work of a read that is not audited, e.g. a
  // status that scans the read model).
  void Schedule(std::function<void()> work) {
    pool_->Schedule(std::move(work));
  }

  RequestSecurity* security() const { return security_; }

 private:
  RequestSecurity* const security_;
  WorkerPool* const pool_;
};

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_AUDITED_READ_H_
