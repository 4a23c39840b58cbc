// A failed disk write: the append fails with UNAVAILABLE, the store refuses
// every later write rather than guess its head, and nothing of the failed
// append is on disk after a reopen.

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "eventstore/event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "tests/testing/case_events.h"
#include "tests/testing/server_process.h"

namespace casetrail::eventstore {
namespace {

using casetrail::testing::MakeProposedEvent;
using casetrail::testing::MakeStoreAppend;
using ::testing::HasSubstr;

// Fails every append to a WAL file (*.log) while `fail` is set, as a full or
// broken disk would.
class WalFailingFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit WalFailingFileSystem(std::atomic<bool>* fail)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), fail_(fail) {}
  const char* Name() const override { return "WalFailingFileSystem"; }

  rocksdb::IOStatus NewWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok() && absl::EndsWith(name, ".log")) {
      *result = std::make_unique<FailingFile>(std::move(*result), fail_);
    }
    return s;
  }

 private:
  class FailingFile : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    FailingFile(std::unique_ptr<rocksdb::FSWritableFile> file,
                std::atomic<bool>* fail)
        : FSWritableFileOwnerWrapper(std::move(file)), fail_(fail) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (fail_->load())
        return rocksdb::IOStatus::IOError("injected: disk full");
      return FSWritableFileOwnerWrapper::Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (fail_->load())
        return rocksdb::IOStatus::IOError("injected: disk full");
      return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
    }

   private:
    std::atomic<bool>* fail_;
  };

  std::atomic<bool>* fail_;
};

TEST(EventStoreWriteFailureTest, FailedWriteStopsWritesAndWritesNothing) {
  casetrail::testing::TempDir dir;
  std::atomic<bool> fail{false};
  std::unique_ptr<rocksdb::Env> env =
      rocksdb::NewCompositeEnv(std::make_shared<WalFailingFileSystem>(&fail));
  StoreOptions options;
  options.path = dir.Sub("store");
  options.env = env.get();
  {
    auto store = EventStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(
        (*store)
            ->Append(MakeStoreAppend("case-1", ExpectedVersion::Any(),
                                     {MakeProposedEvent("case-1", "e1")}))
            .ok());

    fail = true;
    absl::StatusOr<AppendResult> failed =
        (*store)->Append(MakeStoreAppend("case-1", ExpectedVersion::Any(),
                                         {MakeProposedEvent("case-1", "e2"),
                                          MakeProposedEvent("case-1", "e3")}));
    EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(failed.status().message(),
                HasSubstr("stopped accepting writes"));
    EXPECT_EQ((*store)->LogSize(), 1u);

    // The disk recovers, but the store does not guess: it refuses until
    // reopened.
    fail = false;
    absl::StatusOr<AppendResult> later = (*store)->Append(MakeStoreAppend(
        "case-2", ExpectedVersion::Any(), {MakeProposedEvent("case-2", "x1")}));
    EXPECT_EQ(later.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ((*store)->LogSize(), 1u);
  }

  options.env = nullptr;
  auto reopened = EventStore::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->LogSize(), 1u);
  absl::StatusOr<StreamSlice> stream =
      (*reopened)->ReadStream({.stream_id = "case-1"});
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->stream_version, 1u);
  EXPECT_EQ(stream->events.size(), 1u);
  // Writes work again after the reopen, at the next dense position.
  absl::StatusOr<AppendResult> after =
      (*reopened)->Append(MakeStoreAppend("case-1", ExpectedVersion::Exact(1),
                                          {MakeProposedEvent("case-1", "e2")}));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->events[0].position, 1u);
}

}  // namespace
}  // namespace casetrail::eventstore
