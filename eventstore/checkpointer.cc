#include "eventstore/checkpointer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "eventstore/status_macros.h"

namespace casetrail::eventstore {
namespace {

absl::StatusOr<IssuedCheckpoint> Parse(uint64_t tree_size, std::string note) {
  absl::StatusOr<Checkpoint> checkpoint = ParseCheckpointNoteUnverified(note);
  if (!checkpoint.ok() || checkpoint->tree_size != tree_size) {
    return absl::DataLossError(absl::StrCat(
        "the checkpoint stored for tree size ", tree_size, " is damaged"));
  }
  return IssuedCheckpoint{*std::move(checkpoint), std::move(note)};
}

}  // namespace

absl::StatusOr<std::unique_ptr<Checkpointer>> Checkpointer::Create(
    EventStore* store, NoteSigner signer, Clock* clock) {
  absl::StatusOr<NoteVerifier> verifier =
      NoteVerifier::FromVerifierKey(signer.verifier_key());
  if (!verifier.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the checkpoint signer key \"", signer.name(),
        "\" has no usable verifier key: ", verifier.status().message()));
  }
  return std::unique_ptr<Checkpointer>(
      new Checkpointer(store, std::move(signer), *std::move(verifier), clock));
}

Checkpointer::Checkpointer(EventStore* store, NoteSigner signer,
                           NoteVerifier verifier, Clock* clock)
    : store_(store),
      signer_(std::move(signer)),
      verifier_(std::move(verifier)),
      clock_(clock != nullptr ? clock : Clock::System()) {}

Checkpointer::~Checkpointer() { Stop(); }

absl::StatusOr<IssuedCheckpoint> Checkpointer::Latest() const {
  ASSIGN_OR_RETURN(auto latest, store_->LatestCheckpoint());
  return Parse(latest.first, std::move(latest.second));
}

absl::StatusOr<IssuedCheckpoint> Checkpointer::AtSize(
    uint64_t tree_size) const {
  if (tree_size > store_->LogSize()) {
    return absl::OutOfRangeError(absl::StrCat("tree size ", tree_size,
                                              " is beyond the log's size, ",
                                              store_->LogSize()));
  }
  ASSIGN_OR_RETURN(std::string note, store_->GetCheckpoint(tree_size));
  return Parse(tree_size, std::move(note));
}

absl::StatusOr<IssuedCheckpoint> Checkpointer::Issue() {
  absl::MutexLock l(&issue_mu_);
  const uint64_t size = store_->LogSize();
  absl::StatusOr<IssuedCheckpoint> latest = Latest();
  if (latest.ok() && latest->checkpoint.tree_size >= size &&
      OpenCheckpoint(latest->note, verifier_).ok()) {
    return latest;
  }
  if (!latest.ok() && latest.status().code() != absl::StatusCode::kNotFound) {
    return latest.status();
  }
  IssuedCheckpoint issued;
  issued.checkpoint.origin = signer_.name();
  issued.checkpoint.tree_size = size;
  ASSIGN_OR_RETURN(issued.checkpoint.root, store_->RootHash(size));
  // The note carries whole seconds; keep the struct equal to what it says.
  issued.checkpoint.issued_at =
      absl::FromUnixSeconds(absl::ToUnixSeconds(clock_->Now()));
  ASSIGN_OR_RETURN(issued.note, SignCheckpoint(issued.checkpoint, signer_));
  RETURN_IF_ERROR(store_->PutCheckpoint(size, issued.note));
  return issued;
}

void Checkpointer::StartInterval(
    absl::Duration interval,
    std::function<void(const absl::Status&)> on_error) {
  absl::MutexLock l(&thread_mu_);
  if (interval_thread_.joinable()) return;
  interval_thread_ = std::thread([this, interval, on_error] {
    absl::MutexLock l(&interval_mu_);
    while (!interval_mu_.AwaitWithTimeout(absl::Condition(&stop_), interval)) {
      interval_mu_.Unlock();
      absl::Status status = Issue().status();
      if (!status.ok()) {
        {
          absl::MutexLock f(&failures_mu_);
          ++failures_.count;
          failures_.last_error = status;
          failures_.last_failed_at = clock_->Now();
        }
        if (on_error) on_error(status);
      }
      interval_mu_.Lock();
    }
  });
}

IntervalFailures Checkpointer::interval_failures() const {
  absl::MutexLock l(&failures_mu_);
  return failures_;
}

void Checkpointer::Stop() {
  {
    absl::MutexLock l(&interval_mu_);
    stop_ = true;
  }
  absl::MutexLock l(&thread_mu_);
  if (interval_thread_.joinable()) interval_thread_.join();
}

}  // namespace casetrail::eventstore
