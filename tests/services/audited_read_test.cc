// AuditedReads::Run with security off (a RequestSecurity without a policy, so
// nothing is authenticated or recorded and no gRPC traffic is needed; the
// CallbackServerContext is one made by hand, which Run then never reads):
// Run returns before the read starts, the read runs on a pool thread and not
// the caller's, and `finish` is called exactly once with the read's answer.
// A refusal becomes PERMISSION_DENIED carrying what the caller is told; a read
// that is not recorded finishes with its own status. With security on, Run is
// exercised through the real server (security_integration_test.cc).

#include "services/audited_read.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "casetrail/v1/access.pb.h"
#include "grpcpp/server_context.h"
#include "gtest/gtest.h"
#include "services/request_security.h"
#include "services/worker_pool.h"

namespace casetrail::services {
namespace {

namespace v1 = casetrail::v1;

// Bounds a failing test only; a passing one never waits this long.
constexpr absl::Duration kPatience = absl::Seconds(10);
constexpr char kMethod[] = "/casetrail.v1.CaseQueries/GetCaseState";
constexpr char kCase[] = "northshire/case-1";

class AuditedReadTest : public ::testing::Test {
 protected:
  // What one Run came to.
  struct Finished {
    absl::Mutex mu;
    absl::Status status ABSL_GUARDED_BY(mu);
    int calls ABSL_GUARDED_BY(mu) = 0;
    std::thread::id thread ABSL_GUARDED_BY(mu);
    absl::Notification done;
  };

  // Runs a read of kCase that answers `outcome`, lets the pool finish (its
  // destructor runs the queued read, then joins), and returns what `finish`
  // was called with, checking that it was called exactly once.
  absl::Status RunToTheEnd(ReadOutcome outcome) {
    Finished finished;
    reads_.Run(
        context_, kMethod, Asked(),
        [outcome](const CallSecurity&, v1::AccessRecorded&) { return outcome; },
        Finish(finished));
    pool_.reset();
    absl::MutexLock lock(&finished.mu);
    EXPECT_EQ(finished.calls, 1);
    return finished.status;
  }

  static v1::AccessRecorded Asked() {
    v1::AccessRecorded asked;
    asked.set_case_id(kCase);
    return asked;
  }

  static std::function<void(absl::Status)> Finish(Finished& finished) {
    return [&finished](absl::Status status) {
      absl::MutexLock lock(&finished.mu);
      finished.status = std::move(status);
      finished.thread = std::this_thread::get_id();
      if (++finished.calls == 1) finished.done.Notify();
    };
  }

  // Security off: no policy, so neither the store nor the read model is used.
  RequestSecurity security_{/*policy=*/nullptr, /*store=*/nullptr,
                            /*read_model=*/nullptr};
  grpc::CallbackServerContext context_;
  // Declared after everything its work uses, so destroyed (and joined) first.
  std::unique_ptr<WorkerPool> pool_ = std::make_unique<WorkerPool>(2);
  AuditedReads reads_{&security_, pool_.get()};
};

TEST_F(AuditedReadTest, ReadRunsOnAPoolThreadAndFinishIsCalledOnceWithOk) {
  Finished finished;
  std::thread::id read_on;
  CallSecurity seen_call;
  std::string seen_case;
  reads_.Run(
      context_, kMethod, Asked(),
      [&](const CallSecurity& call, v1::AccessRecorded& access) {
        read_on = std::this_thread::get_id();
        seen_call = call;
        seen_case = access.case_id();
        return ReadOutcome::Answered();
      },
      Finish(finished));
  ASSERT_TRUE(finished.done.WaitForNotificationWithTimeout(kPatience));
  // Joining the pool lets any second call of `finish` happen first.
  pool_.reset();

  EXPECT_NE(read_on, std::this_thread::get_id());
  EXPECT_NE(read_on, std::thread::id());
  EXPECT_FALSE(seen_call.enabled);
  EXPECT_EQ(seen_call.method, kMethod);
  EXPECT_EQ(seen_case, kCase);
  absl::MutexLock lock(&finished.mu);
  EXPECT_EQ(finished.calls, 1);
  EXPECT_TRUE(finished.status.ok()) << finished.status;
  EXPECT_NE(finished.thread, std::this_thread::get_id());
}

TEST_F(AuditedReadTest, RunReturnsBeforeTheReadStarts) {
  // A reaction must not block: Run only schedules.
  absl::Notification release;
  std::atomic<bool> read_started{false};
  Finished finished;
  reads_.Run(
      context_, kMethod, Asked(),
      [&](const CallSecurity&, v1::AccessRecorded&) {
        read_started = true;
        release.WaitForNotificationWithTimeout(kPatience);
        return ReadOutcome::Answered();
      },
      Finish(finished));
  EXPECT_FALSE(finished.done.HasBeenNotified());
  release.Notify();
  ASSERT_TRUE(finished.done.WaitForNotificationWithTimeout(kPatience));
  EXPECT_TRUE(read_started.load());
  pool_.reset();
}

TEST_F(AuditedReadTest, AnsweredErrorFinishesWithTheReadsStatus) {
  const absl::Status status = RunToTheEnd(ReadOutcome::Answered(
      absl::NotFoundError("case 'northshire/case-1' is not known")));
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_EQ(status.message(), "case 'northshire/case-1' is not known");
}

TEST_F(AuditedReadTest,
       RefusalFinishesPermissionDeniedWithWhatTheCallerIsTold) {
  const absl::Status status = RunToTheEnd(ReadOutcome::Refused(
      "event 'e7' of case 'northshire/case-1' is restricted",
      "no such event in case 'northshire/case-1'"));
  EXPECT_TRUE(absl::IsPermissionDenied(status)) << status;
  EXPECT_EQ(status.message(), "no such event in case 'northshire/case-1'");
}

TEST_F(AuditedReadTest, RefusalWithNothingToTellFinishesWithTheReason) {
  const absl::Status status = RunToTheEnd(ReadOutcome::Refused(
      "you have no allocation or grant for case 'northshire/case-1'"));
  EXPECT_TRUE(absl::IsPermissionDenied(status)) << status;
  EXPECT_EQ(status.message(),
            "you have no allocation or grant for case 'northshire/case-1'");
}

TEST_F(AuditedReadTest, NotRecordedFinishesWithItsStatus) {
  const absl::Status status = RunToTheEnd(ReadOutcome::NotRecorded(
      absl::UnavailableError("the read model has not folded the case yet")));
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_EQ(status.message(), "the read model has not folded the case yet");
}

TEST_F(AuditedReadTest, ManyReadsEachFinishExactlyOnce) {
  constexpr int kReads = 50;
  Finished finished[kReads];
  for (int i = 0; i < kReads; ++i) {
    reads_.Run(
        context_, kMethod, Asked(),
        [i](const CallSecurity&, v1::AccessRecorded&) {
          return i % 2 == 0 ? ReadOutcome::Answered()
                            : ReadOutcome::Refused("refused");
        },
        Finish(finished[i]));
  }
  pool_.reset();
  for (int i = 0; i < kReads; ++i) {
    SCOPED_TRACE(i);
    absl::MutexLock lock(&finished[i].mu);
    EXPECT_EQ(finished[i].calls, 1);
    EXPECT_EQ(finished[i].status.code(),
              i % 2 == 0 ? absl::StatusCode::kOk
                         : absl::StatusCode::kPermissionDenied);
  }
}

}  // namespace
}  // namespace casetrail::services
