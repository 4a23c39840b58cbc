#include "services/append_stream_reactor.h"

#include "google/rpc/status.pb.h"
#include "services/append_preparation.h"
#include "services/append_response.h"
#include "services/grpc_status.h"

namespace casetrail::services {

AppendStreamReactor::AppendStreamReactor(eventstore::EventStore* store,
                                         const AppendLimits& limits,
                                         WorkerPool* pool, Check check)
    : store_(store), limits_(limits), pool_(pool), check_(std::move(check)) {
  Advance();
}

void AppendStreamReactor::OnReadDone(bool ok) {
  uint64_t index = 0;
  Slot* slot = nullptr;
  {
    absl::MutexLock l(&mu_);
    if (!ok || cancelled_) {  // nothing more is taken from a cancelled stream
      reading_ = false;
      reads_done_ = reads_done_ || !ok;
    } else {
      // reading_ stays true until this request is in the store's queue, so that
      // the next request cannot overtake it: the store commits in queue order.
      index = next_index_++;
      slot = &slots_[index];  // stays put until written, which needs
                              // Complete(index)
      slot->request.Swap(&incoming_);
      slot->response.set_request_index(index);
      ++in_store_;
    }
  }
  if (slot == nullptr) {
    Advance();
    return;
  }
  // Preparation reads the case's history: on the pool, not this callback
  // thread. reading_ stays true until the request is in the store's queue.
  pool_->Schedule([this, index, slot] { PrepareAndAppend(index, slot); });
}

void AppendStreamReactor::PrepareAndAppend(uint64_t index, Slot* slot) {
  PreparedAppend prepared;
  if (check_) prepared.status = check_(slot->request);
  if (prepared.status.ok()) {
    prepared = PrepareAppend(*store_, slot->request, limits_);
  }
  if (prepared.status.ok()) {
    store_->AppendAsync(
        std::move(prepared.append),
        [this, index, slot](absl::StatusOr<eventstore::AppendResult> result) {
          if (!result.ok()) {
            Complete(index, ToGrpcStatus(result.status()));
            return;
          }
          FillAppendResponse(*result, slot->request,
                             slot->response.mutable_appended());
          Complete(index, grpc::Status::OK);
        });
  }
  {
    absl::MutexLock l(&mu_);
    reading_ = false;
  }
  if (!prepared.status.ok()) {
    Complete(index, prepared.status);  // also advances
  } else {
    Advance();  // read the next request while this one is committed
  }
}

void AppendStreamReactor::Complete(uint64_t index, const grpc::Status& status) {
  {
    absl::MutexLock l(&mu_);
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
  Advance();
}

void AppendStreamReactor::OnWriteDone(bool ok) {
  {
    absl::MutexLock l(&mu_);
    writing_ = false;
    slots_.erase(slots_.begin());
    if (!ok) cancelled_ = true;
  }
  Advance();
}

void AppendStreamReactor::OnCancel() {
  {
    absl::MutexLock l(&mu_);
    cancelled_ = true;
  }
  Advance();
}

void AppendStreamReactor::Advance() {
  bool read = false;
  const casetrail::v1::AppendEventsStreamResponse* write = nullptr;
  bool finish = false;
  grpc::Status finish_status = grpc::Status::OK;
  {
    absl::MutexLock l(&mu_);
    if (finished_) return;
    if (cancelled_) {
      // Appends already in the store will still call Complete(); finish after
      // the last.
      if (in_store_ == 0 && !writing_) {
        finished_ = finish = true;
        finish_status =
            grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled");
      }
    } else {
      // Bounded by slots, not by appends in the store: a client that stops
      // reading responses stops the server reading its requests instead of
      // growing its memory.
      if (!reading_ && !reads_done_ &&
          slots_.size() < static_cast<size_t>(kMaxInFlight)) {
        reading_ = read = true;
      }
      if (!writing_ && !slots_.empty() && slots_.begin()->second.done) {
        writing_ = true;
        write = &slots_.begin()->second.response;
      }
      if (reads_done_ && slots_.empty() && !writing_ && !reading_) {
        finished_ = finish = true;
      }
    }
  }
  if (read) StartRead(&incoming_);
  if (write != nullptr) StartWrite(write);
  if (finish) Finish(finish_status);
}

}  // namespace casetrail::services
