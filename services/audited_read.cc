#include "services/audited_read.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace casetrail::services {

std::string WithheldNote(size_t withheld) {
  return withheld == 0
             ? ""
             : absl::StrCat("; ", withheld, " restricted events withheld");
}

void AuditedReads::Run(const grpc::CallbackServerContext& context,
                       std::string method, casetrail::v1::AccessRecorded asked,
                       Read read, std::function<void(absl::Status)> finish) {
  pool_->Schedule([this, &context, method = std::move(method),
                   asked = std::move(asked), read = std::move(read),
                   finish = std::move(finish)]() mutable {
    // A caller who has gone (cancelled, or past the deadline while queued)
    // is not answered: nothing is read, so nothing is recorded.
    if (context.IsCancelled()) {
      finish(absl::CancelledError("the call was cancelled before it was read"));
      return;
    }
    absl::StatusOr<CallSecurity> call =
        security_->Authorize(context, method, /*read=*/true, asked);
    if (!call.ok()) {
      finish(call.status());
      return;
    }
    ReadOutcome outcome = read(*call, asked);
    switch (outcome.kind) {
      case ReadOutcome::Kind::kNotRecorded:
        finish(std::move(outcome.status));
        return;
      case ReadOutcome::Kind::kRefused:
        security_->Refuse(
            *call, std::move(asked), outcome.reason,
            [told = std::move(outcome.told),
             finish = std::move(finish)](absl::Status refused) {
              finish(absl::IsPermissionDenied(refused) && !told.empty()
                         ? absl::PermissionDeniedError(told)
                         : refused);
            });
        return;
      case ReadOutcome::Kind::kAnswered:
        security_->Record(*call, std::move(asked),
                          [status = std::move(outcome.status),
                           finish = std::move(finish)](absl::Status recorded) {
                            finish(recorded.ok() ? status : recorded);
                          });
        return;
    }
  });
}

}  // namespace casetrail::services
