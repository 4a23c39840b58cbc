#ifndef CASETRAIL_SERVICES_WORKER_POOL_H_
#define CASETRAIL_SERVICES_WORKER_POOL_H_

// A fixed set of threads that run queued work in order of arrival. gRPC
// reactions must not block (../STYLE.md): work that may wait (an access
// decision waiting for the read model, a durable access record, a replay, an
// append's read of the case's history) is scheduled here instead, and the
// reaction finishes the RPC from the work when it is done.
//
// Thread-safe. The destructor runs the work already queued, then joins.

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace casetrail::services {

class WorkerPool {
 public:
  // REQUIRES: threads >= 1.
  explicit WorkerPool(int threads);
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `work` on one of the pool's threads.
  void Schedule(std::function<void()> work);

  // Work queued and not yet started.
  size_t queued() const;

 private:
  void Work();

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_WORKER_POOL_H_
