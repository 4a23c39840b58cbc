#include "services/append_stream_reactor.h"

#include "absl/strings/str_cat.h"
#include "google/rpc/status.pb.h"
#include "services/append_preparation.h"
#include "services/append_response.h"
#include "services/grpc_status.h"

namespace casetrail::services {

AppendStreamReactor::AppendStreamReactor(eventstore::EventStore* store,
                                         const AppendLimits& limits,
                                         WorkerPool* pool, Check check)
    : store_(store), limits_(limits), pool_(pool), check_(std::move(check)) {
  Actions next;
  {
    absl::MutexLock l(&mu_);
    next = Decide();
  }
  Act(next);
}

void AppendStreamReactor::OnReadDone(bool ok) {
  // Parsed before taking mu_: no other thread touches incoming_ while a read
  // is in progress, and this one has not started the next.
  casetrail::v1::AppendEventsRequest request;
  const bool parsed =
      ok &&
      grpc::SerializationTraits<
          casetrail::v1::AppendEventsRequest>::Deserialize(&incoming_, &request)
          .ok();
  incoming_.Clear();
  uint64_t index = 0;
  Slot* slot = nullptr;
  Actions next;
  {
    absl::MutexLock l(&mu_);
    if (!ok || cancelled_) {  // nothing more is taken from a cancelled stream
      reading_ = false;
      reads_done_ = reads_done_ || !ok;
      next = Decide();
    } else {
      // reading_ stays true until this request is in the store's queue, so
      // that the next request cannot overtake it (the store commits in queue
      // order), and so that the call cannot finish while it is prepared.
      index = next_index_++;
      slot = &slots_[index];  // stays put until written, which needs
                              // Complete(index)
      slot->response.set_request_index(index);
      ++in_store_;
      if (parsed) {
        slot->request.Swap(&request);
      } else {
        // Answered in place, like any refused request; the next is read.
        RecordOutcome(
            index,
            grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                         absl::StrCat("request ", index,
                                      " of the stream is not a "
                                      "casetrail.v1.AppendEventsRequest")));
        slot = nullptr;
        reading_ = false;
        next = Decide();
      }
    }
  }
  if (slot == nullptr) {
    Act(next);
    return;
  }
  // Preparation reads the case's history: on the pool, not this callback
  // thread.
  pool_->Schedule([this, index, slot] { PrepareAndAppend(index, slot); });
}

void AppendStreamReactor::PrepareAndAppend(uint64_t index, Slot* slot) {
  PreparedAppend prepared;
  if (check_) prepared.status = check_(slot->request);
  if (prepared.status.ok()) {
    prepared = PrepareAppend(*store_, slot->request, limits_);
  }
  if (prepared.status.ok()) {
    // Its completion cannot finish the call: reading_ is still true.
    store_->AppendAsync(
        std::move(prepared.append),
        [this, index, slot](absl::StatusOr<eventstore::AppendResult> result) {
          if (result.ok()) {
            FillAppendResponse(*result, slot->request,
                               slot->response.mutable_appended());
          }
          Complete(index, result.ok() ? grpc::Status::OK
                                      : ToGrpcStatus(result.status()));
        });
  }
  Actions next;
  {
    absl::MutexLock l(&mu_);
    reading_ = false;
    if (!prepared.status.ok()) RecordOutcome(index, prepared.status);
    // Read the next request while this one is committed.
    next = Decide();
  }
  Act(next);
}

void AppendStreamReactor::RecordOutcome(uint64_t index,
                                        const grpc::Status& status) {
  Slot& slot = slots_.at(index);
  if (!status.ok()) {
    google::rpc::Status* error = slot.response.mutable_error();
    if (!error->ParseFromString(status.error_details())) error->Clear();
    error->set_code(status.error_code());
    error->set_message(status.error_message());
  }
  slot.done = true;
  --in_store_;
}

void AppendStreamReactor::Complete(uint64_t index, const grpc::Status& status) {
  Actions next;
  {
    absl::MutexLock l(&mu_);
    RecordOutcome(index, status);
    next = Decide();
  }
  Act(next);
}

void AppendStreamReactor::OnWriteDone(bool ok) {
  Actions next;
  {
    absl::MutexLock l(&mu_);
    writing_ = false;
    slots_.erase(slots_.begin());
    if (!ok) cancelled_ = true;
    next = Decide();
  }
  Act(next);
}

void AppendStreamReactor::OnCancel() {
  Actions next;
  {
    absl::MutexLock l(&mu_);
    cancelled_ = true;
    next = Decide();
  }
  Act(next);
}

AppendStreamReactor::Actions AppendStreamReactor::Decide() {
  Actions next;
  if (finished_) return next;
  if (cancelled_) {
    // Appends already in the store will still call Complete(), and a request
    // being prepared will still clear reading_; finish after the last.
    if (in_store_ == 0 && !writing_ && !reading_) {
      finished_ = next.finish = true;
      next.status =
          grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled");
    }
    return next;
  }
  // Bounded by slots, not by appends in the store: a client that stops
  // reading responses stops the server reading its requests instead of
  // growing its memory.
  if (!reading_ && !reads_done_ &&
      slots_.size() < static_cast<size_t>(kMaxInFlight)) {
    reading_ = next.read = true;
  }
  if (!writing_ && !slots_.empty() && slots_.begin()->second.done) {
    writing_ = true;
    next.write = &slots_.begin()->second;
  }
  if (reads_done_ && slots_.empty() && !writing_ && !reading_) {
    finished_ = next.finish = true;
  }
  return next;
}

// Touches the reactor only for the operations `next` gives this thread: a
// started read or write keeps the call from finishing (Decide() needs
// !reading_ and !writing_), and only one thread is given the finish.
void AppendStreamReactor::Act(const Actions& next) {
  if (next.read) StartRead(&incoming_);
  if (next.write != nullptr) {
    // The slot is done, so no other thread changes it until its write is.
    bool own_buffer = false;
    grpc::Status serialised =
        grpc::SerializationTraits<casetrail::v1::AppendEventsStreamResponse>::
            Serialize(next.write->response, &next.write->response_bytes,
                      &own_buffer);
    (void)serialised;  // a message the server built always serialises
    StartWrite(&next.write->response_bytes);
  }
  if (next.finish) Finish(next.status);
}

}  // namespace casetrail::services
