#ifndef CASETRAIL_SERVICES_APPEND_STREAM_REACTOR_H_
#define CASETRAIL_SERVICES_APPEND_STREAM_REACTOR_H_

#include <cstdint>
#include <functional>
#include <map>

#include "absl/synchronization/mutex.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "eventstore/event_store.h"
#include "services/append_validation.h"
#include "services/worker_pool.h"

namespace casetrail::services {

// One AppendEventsStream call, on the raw method: it parses each request
// itself, so that a message that is not an AppendEventsRequest is answered in
// place (INVALID_ARGUMENT naming the type and the request's index, nothing
// written) and the stream goes on, rather than gRPC ending the reads as if
// the client had closed them. Reads requests, submits each to the store as it
// arrives (up to kMaxInFlight requests read but not yet answered; then it stops
// reading), and writes one response per request in request order, each after
// its append is durable or has failed.
//
// Threads: gRPC callback threads (reads, writes, cancel), a WorkerPool thread
// (each request's preparation, which reads the case's history) and the
// store's acknowledger thread (completions). All state is under mu_; gRPC
// operations are started outside it. Deletes itself in OnDone, which gRPC calls
// only after Finish, and Finish is called only when no append is still in the
// store and no request is being prepared.
class AppendStreamReactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  static constexpr int kMaxInFlight = 64;

  // Decides whether one request may be appended (e.g. its stream is in the
  // caller's tenant); a refusal answers that request only.
  using Check =
      std::function<grpc::Status(const casetrail::v1::AppendEventsRequest&)>;

  // `store` and `pool` (where requests are prepared) must outlive the call.
  AppendStreamReactor(eventstore::EventStore* store, const AppendLimits& limits,
                      WorkerPool* pool, Check check = nullptr);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override { delete this; }

 private:
  struct Slot {
    casetrail::v1::AppendEventsRequest request;
    casetrail::v1::AppendEventsStreamResponse response;
    // `response` serialised, while it is written.
    grpc::ByteBuffer response_bytes;
    bool done = false;
  };

  // The gRPC operations a state change leads to, decided under mu_ and
  // started outside it.
  struct Actions {
    bool read = false;
    Slot* write = nullptr;
    bool finish = false;
    grpc::Status status;
  };

  // Checks and prepares request `index` and hands it to the store; on the
  // pool.
  void PrepareAndAppend(uint64_t index, Slot* slot);
  // Records the outcome of request `index`.
  void RecordOutcome(uint64_t index, const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records the outcome of request `index` and writes whatever is ready.
  void Complete(uint64_t index, const grpc::Status& status);
  // The next gRPC operations the state allows, marked as started.
  Actions Decide() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts them. Call without mu_ held; every state change decides and acts
  // in one step, so that no thread touches the reactor after another may
  // have finished it.
  void Act(const Actions& next);

  eventstore::EventStore* const store_;
  const AppendLimits limits_;
  WorkerPool* const pool_;
  const Check check_;
  // Touched only by the one read in progress and its OnReadDone.
  grpc::ByteBuffer incoming_;

  absl::Mutex mu_;
  std::map<uint64_t, Slot> slots_ ABSL_GUARDED_BY(mu_);
  uint64_t next_index_ ABSL_GUARDED_BY(mu_) = 0;
  int in_store_ ABSL_GUARDED_BY(mu_) = 0;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// A bidi call refused before it starts (e.g. UNAUTHENTICATED): finishes at
// once with the status.
class RefusedStreamReactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RefusedStreamReactor(grpc::Status status) {
    Finish(std::move(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_APPEND_STREAM_REACTOR_H_
