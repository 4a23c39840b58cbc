#include "projections/runner.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "eventstore/status_macros.h"
#include "google/protobuf/arena.h"

namespace casetrail::projections {
namespace {

using casetrail::v1::ChronologyEntry;
using casetrail::v1::RecordedEvent;
using eventstore::EventStore;

// The flag a NotifyWhenLogGrows callback raises. The callback runs on the
// store's notifier thread, possibly after the runner has given up waiting
// (CancelNotification cannot stop a callback already running), so it owns a
// share of the flag rather than pointing into the runner.
class Wakeup {
 public:
  void Wake() {
    absl::MutexLock l(&mu_);
    woken_ = true;
  }
  void Wait() {
    absl::MutexLock l(&mu_);
    mu_.Await(absl::Condition(&woken_));
  }

 private:
  absl::Mutex mu_;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

// Threads: the background thread (if any), the store's notifier thread (only
// to wake it), and callers. fold_mu_ is held by whoever folds (the background
// thread for one batch at a time, CatchUp, or Rebuild for its whole run) and
// guards the fold cache: folding is serialised, and Rebuild pauses the thread
// by holding it. mu_ guards what the accessors and WaitFor read and is held
// only briefly; it is taken after fold_mu_, never before. thread_mu_ is held
// only to start or join the thread.
class ProjectionRunner::Impl {
 public:
  Impl(EventStore* store, ReadModelStore* read_model, const FoldConfig& config,
       RunnerOptions options)
      : store_(store),
        read_model_(read_model),
        config_(config),
        options_(options),
        checkpoint_(read_model->checkpoint()) {}

  ~Impl() { Stop(); }

  void StartThread() {
    absl::MutexLock l(&thread_mu_);
    thread_ = std::thread([this] { Follow(); });
  }

  void Stop() {
    std::shared_ptr<Wakeup> wakeup;
    {
      absl::MutexLock l(&mu_);
      stop_ = true;
      wakeup = wakeup_;
    }
    // The thread, woken, cancels its own notification and exits.
    if (wakeup != nullptr) wakeup->Wake();
    absl::MutexLock l(&thread_mu_);
    if (thread_.joinable()) thread_.join();
  }

  uint64_t checkpoint() const {
    absl::MutexLock l(&mu_);
    return checkpoint_;
  }

  bool WaitFor(uint64_t position, absl::Duration timeout) {
    absl::MutexLock l(&mu_);
    auto done = [this, position]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return checkpoint_ >= position || !last_error_.ok() || stop_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
    return checkpoint_ >= position;
  }

  absl::Status CatchUp() {
    const uint64_t target = store_->LogSize();
    absl::MutexLock l(&fold_mu_);
    RETURN_IF_ERROR(last_error());
    return FoldUntil(target);
  }

  absl::StatusOr<RebuildResult> Rebuild() {
    absl::MutexLock l(&fold_mu_);
    RETURN_IF_ERROR(last_error());
    const absl::Time start = absl::Now();
    RebuildResult result;
    result.position = store_->LogSize();
    // The checkpoint goes back first, so that no WaitFor returns on the
    // strength of a model that is about to be cleared; the cached folds are
    // ahead of the cleared read model, so they go too.
    SetCheckpoint(0);
    cache_.clear();
    if (absl::Status cleared = read_model_->Clear(); !cleared.ok()) {
      Fail(cleared);
      return cleared;
    }
    RETURN_IF_ERROR(FoldUntil(result.position));
    absl::StatusOr<uint64_t> cases = read_model_->CaseCount();
    if (!cases.ok()) return cases.status();
    result.cases = *cases;
    result.elapsed = absl::Now() - start;
    absl::MutexLock state(&mu_);
    ++rebuilds_;
    return result;
  }

  absl::Status last_error() const {
    absl::MutexLock l(&mu_);
    return last_error_;
  }
  uint64_t events_applied() const {
    absl::MutexLock l(&mu_);
    return events_applied_;
  }
  uint32_t rebuilds() const {
    absl::MutexLock l(&mu_);
    return rebuilds_;
  }
  // Whoever folds holds fold_mu_: holding it holds the runner still.
  void HoldForTesting() ABSL_NO_THREAD_SAFETY_ANALYSIS { fold_mu_.Lock(); }
  void ResumeForTesting() ABSL_NO_THREAD_SAFETY_ANALYSIS { fold_mu_.Unlock(); }

 private:
  // The background thread: fold while there is something to fold, then sleep
  // until the log grows; until Stop or a failure.
  void Follow() {
    for (;;) {
      uint64_t folded_to = 0;
      uint64_t folded_now = 0;
      {
        absl::MutexLock l(&fold_mu_);
        if (stopping()) return;
        absl::StatusOr<uint64_t> folded = FoldBatch(options_.batch_events);
        if (!folded.ok()) return;  // FoldBatch recorded the failure.
        folded_now = *folded;
        folded_to = checkpoint();
      }
      if (folded_now == options_.batch_events) continue;  // more waiting
      if (folded_now > 0) {
        // Caught up with a small batch: let the next one gather.
        if (!Pause(options_.min_batch_interval)) return;
        continue;
      }
      if (!SleepUntilLogGrows(folded_to)) return;
    }
  }

  // Sleeps for `pause` unless stopped first. Returns false if the runner is
  // to stop.
  bool Pause(absl::Duration pause) {
    absl::MutexLock l(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), pause);
    return !stop_;
  }

  // Sleeps until the log holds more than `known_size` events. Returns false
  // if the runner is to stop instead.
  bool SleepUntilLogGrows(uint64_t known_size) {
    auto wakeup = std::make_shared<Wakeup>();
    {
      absl::MutexLock l(&mu_);
      if (stop_) return false;
      // From here Stop() wakes us too.
      wakeup_ = wakeup;
    }
    const EventStore::NotificationId id =
        store_->NotifyWhenLogGrows(known_size, [wakeup] { wakeup->Wake(); });
    wakeup->Wait();
    // Woken by Stop, the notification may still be pending; if it has run
    // (or is running), it only touches its own share of `wakeup`.
    store_->CancelNotification(id);
    {
      absl::MutexLock l(&mu_);
      wakeup_ = nullptr;
      if (stop_) return false;
    }
    if (store_->closing()) {
      Fail(absl::UnavailableError(
          "projection runner: the event store is closing"));
      return false;
    }
    return true;
  }

  bool stopping() const {
    absl::MutexLock l(&mu_);
    return stop_ || !last_error_.ok();
  }

  // Folds batches until the checkpoint reaches `target`.
  absl::Status FoldUntil(uint64_t target)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fold_mu_) {
    while (checkpoint() < target) {
      // A rebuild of a long log must not hold up a stop.
      {
        absl::MutexLock l(&mu_);
        if (stop_) {
          return absl::CancelledError(
              absl::StrCat("projection runner: stopped at position ",
                           checkpoint_, " before reaching ", target));
        }
      }
      ASSIGN_OR_RETURN(uint64_t folded, FoldBatch(options_.bulk_batch_events));
      if (folded == 0) {
        // The log is shorter than it was: only a store replaced under us
        // does that.
        return absl::FailedPreconditionError(
            absl::StrCat("projection runner: the log ends at ", checkpoint(),
                         ", before position ", target));
      }
    }
    return absl::OkStatus();
  }

  // Folds the next batch of the log and commits it. Returns the number of
  // events folded (0 when caught up). A failure also stops the runner.
  absl::StatusOr<uint64_t> FoldBatch(size_t limit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fold_mu_) {
    absl::StatusOr<uint64_t> folded = FoldAndCommit(limit);
    if (!folded.ok()) {
      // The cached folds may hold events that were not committed.
      cache_.clear();
      Fail(folded.status());
    }
    return folded;
  }

  absl::StatusOr<uint64_t> FoldAndCommit(size_t limit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fold_mu_) {
    eventstore::LogRead read;
    read.from_position = checkpoint();
    read.limit = limit;
    ASSIGN_OR_RETURN(eventstore::LogSlice slice, store_->ReadLog(read));
    if (slice.events.empty()) return 0;

    // The batch's events and entries live on one arena, freed at once when
    // the batch is committed: tens of thousands of small messages allocated
    // and freed one by one cost more than the fold itself.
    google::protobuf::ArenaOptions arena_options;
    arena_options.start_block_size = 64 << 10;
    arena_options.max_block_size = 4 << 20;
    google::protobuf::Arena arena(arena_options);
    // With no cache across batches (the default), the batch's case models
    // live on the arena too, and the cache must be empty before the arena
    // goes, on every way out.
    const bool per_batch = options_.max_cached_cases == 0;
    absl::Cleanup drop_cache = [this, per_batch]()
                                   ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                     if (per_batch) cache_.clear();
                                   };
    // What the batch changed: each case folded (in the order first met), its
    // new entries and its children.
    std::vector<CaseFold*> folds;
    absl::flat_hash_set<CaseFold*> folds_seen;
    std::vector<const ChronologyEntry*> entries;
    entries.reserve(slice.events.size());
    std::vector<std::pair<std::string, std::string>> links;
    absl::flat_hash_set<std::pair<std::string, std::string>> links_seen;

    for (size_t i = 0; i < slice.events.size(); ++i) {
      auto* event =
          google::protobuf::Arena::CreateMessage<RecordedEvent>(&arena);
      const std::string& bytes = slice.events[i];
      if (!event->ParseFromArray(bytes.data(),
                                 static_cast<int>(bytes.size())) ||
          !event->has_event()) {
        return absl::DataLossError(absl::StrCat(
            "projection runner: the event at position ", read.from_position + i,
            " cannot be folded: its ", bytes.size(),
            " stored bytes are not a RecordedEvent with an event"));
      }
      const std::string& case_id = event->event().stream_id();
      if (case_id.empty()) {
        return absl::DataLossError(
            absl::StrCat("projection runner: the event at position ",
                         read.from_position + i, " names no case stream"));
      }
      // The access audit is not case data: no case model, no chronology.
      if (event->event().has_access_recorded()) continue;
      ASSIGN_OR_RETURN(CaseFold * fold,
                       FoldFor(case_id, per_batch ? &arena : nullptr));
      if (folds_seen.insert(fold).second) folds.push_back(fold);
      auto* entry =
          google::protobuf::Arena::CreateMessage<ChronologyEntry>(&arena);
      if (fold->Apply(*event, entry)) entries.push_back(entry);
      if (!fold->status().ok()) {
        return absl::Status(fold->status().code(),
                            absl::StrCat("projection runner: folding position ",
                                         read.from_position + i, ": ",
                                         fold->status().message()));
      }
      // Every child the case knows of: named in an envelope, or only in a
      // payload (an assessment, a conference decision, a visit).
      for (const casetrail::v1::ChildState& child :
           fold->model().state().children()) {
        std::pair<std::string, std::string> link(child.child_id(), case_id);
        if (links_seen.insert(link).second) links.push_back(std::move(link));
      }
    }

    ReadModelStore::Batch batch;
    batch.models.reserve(folds.size());
    for (const CaseFold* fold : folds) batch.models.push_back(&fold->model());
    batch.entries = std::move(entries);
    batch.child_links = std::move(links);
    batch.next_position = slice.next_position;
    RETURN_IF_ERROR(read_model_->Commit(batch));

    const uint64_t folded = slice.events.size();
    {
      absl::MutexLock l(&mu_);
      checkpoint_ = slice.next_position;
      events_applied_ += folded;
    }
    // Bounded memory: past the limit, start afresh; the folds are read back
    // from the read model as their cases come up again.
    if (cache_.size() > options_.max_cached_cases) cache_.clear();
    return folded;
  }

  // The fold of `case_id`: cached, else resumed from the read model, else a
  // new case.
  // Where the fold of `case_id` finds the events a correction targets: the
  // event store's index of event ids (targets are always earlier in the
  // log). Only events of the same case count, as in a replay of the case.
  EventPositions StorePositions(const std::string& case_id) const {
    return [store = store_, case_id](const std::string& event_id)
               -> absl::StatusOr<std::optional<uint64_t>> {
      ASSIGN_OR_RETURN(std::optional<uint64_t> position,
                       store->PositionOfEvent(event_id));
      if (!position.has_value()) return std::nullopt;
      ASSIGN_OR_RETURN(std::string bytes, store->ReadEvent(*position));
      RecordedEvent event;
      if (!event.ParseFromString(bytes)) {
        return absl::DataLossError(absl::StrCat("the event at position ",
                                                *position, " does not parse"));
      }
      if (event.event().stream_id() != case_id) return std::nullopt;
      return position;
    };
  }

  // With `arena`, the model is allocated on it.
  absl::StatusOr<CaseFold*> FoldFor(const std::string& case_id,
                                    google::protobuf::Arena* arena)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fold_mu_) {
    auto it = cache_.find(case_id);
    if (it != cache_.end()) return it->second.get();
    std::unique_ptr<CaseFold> fold;
    if (arena != nullptr) {
      auto* model =
          google::protobuf::Arena::CreateMessage<casetrail::v1::CaseModel>(
              arena);
      ASSIGN_OR_RETURN(bool found, read_model_->ReadModelInto(case_id, model));
      if (!found) model->mutable_state()->set_case_id(case_id);
      fold =
          std::make_unique<CaseFold>(config_, model, StorePositions(case_id));
    } else {
      ASSIGN_OR_RETURN(std::optional<casetrail::v1::CaseModel> stored,
                       read_model_->ReadModel(case_id));
      fold = stored.has_value()
                 ? std::make_unique<CaseFold>(config_, *std::move(stored),
                                              StorePositions(case_id))
                 : std::make_unique<CaseFold>(config_, case_id,
                                              StorePositions(case_id));
    }
    CaseFold* raw = fold.get();
    cache_.emplace(case_id, std::move(fold));
    return raw;
  }

  void SetCheckpoint(uint64_t position) {
    absl::MutexLock l(&mu_);
    checkpoint_ = position;
  }

  // Records the first failure; the thread, WaitFor, CatchUp and Rebuild see
  // it and stop.
  // The first failure is also written to stderr (casetraild's log), where
  // an operator finds it when queries say only that the runner stopped.
  void Fail(absl::Status status) {
    absl::MutexLock l(&mu_);
    if (!last_error_.ok()) return;
    std::fprintf(stderr, "casetraild: the projection runner stopped: %s\n",
                 status.ToString().c_str());
    last_error_ = std::move(status);
  }

  EventStore* const store_;
  ReadModelStore* const read_model_;
  const FoldConfig& config_;
  const RunnerOptions options_;

  absl::Mutex fold_mu_;
  // CaseFold is neither copyable nor movable (it holds the config by
  // reference), and the batch holds pointers to the folds: hence unique_ptr.
  absl::flat_hash_map<std::string, std::unique_ptr<CaseFold>> cache_
      ABSL_GUARDED_BY(fold_mu_);

  mutable absl::Mutex mu_;
  // Written with fold_mu_ held too.
  uint64_t checkpoint_ ABSL_GUARDED_BY(mu_);
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  uint64_t events_applied_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t rebuilds_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // What the sleeping thread waits on, for Stop to wake it.
  std::shared_ptr<Wakeup> wakeup_ ABSL_GUARDED_BY(mu_);

  absl::Mutex thread_mu_;
  std::thread thread_ ABSL_GUARDED_BY(thread_mu_);
};

absl::StatusOr<std::unique_ptr<ProjectionRunner>> ProjectionRunner::Start(
    eventstore::EventStore* store, ReadModelStore* read_model,
    const FoldConfig& config, RunnerOptions options) {
  if (options.batch_events == 0 || options.bulk_batch_events == 0) {
    return absl::InvalidArgumentError(
        "projection runner: batch_events and bulk_batch_events must be > 0");
  }
  // A read model ahead of the log was built from another log; it is only a
  // cache of the log, so start it again.
  if (read_model->checkpoint() > store->LogSize()) {
    RETURN_IF_ERROR(read_model->Clear());
  }
  auto impl = std::make_unique<Impl>(store, read_model, config, options);
  if (options.background) impl->StartThread();
  return std::unique_ptr<ProjectionRunner>(
      new ProjectionRunner(std::move(impl)));
}

ProjectionRunner::ProjectionRunner(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

ProjectionRunner::~ProjectionRunner() { Stop(); }

void ProjectionRunner::Stop() { impl_->Stop(); }

uint64_t ProjectionRunner::checkpoint() const { return impl_->checkpoint(); }

bool ProjectionRunner::WaitFor(uint64_t position, absl::Duration timeout) {
  return impl_->WaitFor(position, timeout);
}

absl::Status ProjectionRunner::CatchUp() { return impl_->CatchUp(); }

absl::StatusOr<RebuildResult> ProjectionRunner::Rebuild() {
  return impl_->Rebuild();
}

absl::Status ProjectionRunner::last_error() const {
  return impl_->last_error();
}

uint64_t ProjectionRunner::events_applied() const {
  return impl_->events_applied();
}

uint32_t ProjectionRunner::rebuilds() const { return impl_->rebuilds(); }

void ProjectionRunner::HoldForTesting() { impl_->HoldForTesting(); }

void ProjectionRunner::ResumeForTesting() { impl_->ResumeForTesting(); }

}  // namespace casetrail::projections
