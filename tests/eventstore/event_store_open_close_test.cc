// EventStore across Open and Close: recovery on reopen, the on-disk format
// version, and what Close does to queued appends and later calls.

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "eventstore/event_store.h"
#include "eventstore/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/testing/case_events.h"
#include "tests/testing/event_store_fixture.h"

namespace casetrail::eventstore {
namespace {

using casetrail::testing::EditRocksDb;
using casetrail::testing::EventStoreTest;
using casetrail::testing::kT0;
using casetrail::testing::MakeStoreAppend;
using casetrail::testing::ManualClock;
using casetrail::testing::Positions;
using casetrail::testing::StoreEvents;
using casetrail::testing::Versions;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(EventStoreTest, ReopenRecoversLogSizeStreamHeadsAndRecordedAt) {
  ManualClock clock(kT0 + absl::Seconds(5));
  Open(&clock);
  absl::StatusOr<AppendResult> a =
      Append("case-a", ExpectedVersion::Any(), {"a1", "a2", "a3"});
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(Append("case-b", ExpectedVersion::Any(), {"b1", "b2"}).ok());

  clock.Set(kT0);  // behind everything recorded
  Open(&clock);
  EXPECT_EQ(store_->LogSize(), 5u);
  EXPECT_EQ(store_->Info().log_size, 5u);
  EXPECT_EQ(store_->Info().last_recorded_at, kT0 + absl::Seconds(5));

  absl::StatusOr<AppendResult> stale =
      Append("case-a", ExpectedVersion::Exact(2), {"a4"});
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(stale.status().message(), HasSubstr("actual version 3"));
  EXPECT_EQ(
      Append("case-b", ExpectedVersion::NoStream(), {"b3"}).status().code(),
      absl::StatusCode::kAborted);

  absl::StatusOr<AppendResult> a4 =
      Append("case-a", ExpectedVersion::Exact(3), {"a4"});
  ASSERT_TRUE(a4.ok()) << a4.status();
  EXPECT_THAT(Positions(*a4), ElementsAre(5));
  EXPECT_THAT(Versions(*a4), ElementsAre(4));
  EXPECT_EQ(a4->events[0].recorded_at, kT0 + absl::Seconds(5));

  absl::StatusOr<AppendResult> b3 =
      Append("case-b", ExpectedVersion::Exact(2), {"b3"});
  ASSERT_TRUE(b3.ok()) << b3.status();
  EXPECT_THAT(Versions(*b3), ElementsAre(3));

  // Deduplication survives the restart too.
  absl::StatusOr<AppendResult> retry =
      Append("case-a", ExpectedVersion::Any(), {"a1", "a2", "a3"});
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->deduplicated);
  EXPECT_EQ(Positions(*retry), Positions(*a));
  EXPECT_EQ(store_->LogSize(), 7u);
  store_.reset();
}

TEST_F(EventStoreTest, WritesTheFormatVersion) {
  store_.reset();
  absl::StatusOr<uint32_t> version =
      EventStore::ReadFormatVersionForTesting(path());
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, kFormatVersion);
}

TEST_F(EventStoreTest, RefusesANewerFormatVersion) {
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e1"}).ok());
  store_.reset();
  const uint64_t newer = kFormatVersion + 1;
  EditRocksDb(path(), [&](rocksdb::DB* db, auto& cfs) {
    ASSERT_TRUE(cfs.count("meta"));
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), cfs["meta"], "format_version",
                        EncodeU64(newer))
                    .ok());
  });

  StoreOptions options;
  options.path = path();
  absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition)
      << store.status();
  EXPECT_THAT(store.status().message(),
              HasSubstr(absl::StrCat("format version ", newer)));
  EXPECT_THAT(store.status().message(),
              HasSubstr(absl::StrCat("up to ", kFormatVersion)));
}

TEST_F(EventStoreTest, RefusesANewerFormatWithExtraColumnFamilies) {
  store_.reset();
  EditRocksDb(path(), [&](rocksdb::DB* db, auto& cfs) {
    rocksdb::ColumnFamilyHandle* extra = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(),
                                       "added_in_v2", &extra)
                    .ok());
    cfs["added_in_v2"] = extra;
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), cfs["meta"], "format_version",
                        EncodeU64(kFormatVersion + 1))
                    .ok());
  });
  StoreOptions options;
  options.path = path();
  absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition)
      << store.status();
  EXPECT_THAT(store.status().message(),
              HasSubstr(absl::StrCat("format version ", kFormatVersion + 1)));
}

TEST_F(EventStoreTest, RefusesEventsWithoutAFormatVersion) {
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e1"}).ok());
  store_.reset();
  EditRocksDb(path(), [&](rocksdb::DB* db, auto& cfs) {
    ASSERT_TRUE(
        db->Delete(rocksdb::WriteOptions(), cfs["meta"], "format_version")
            .ok());
  });
  StoreOptions options;
  options.path = path();
  absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition)
      << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr("no format version"));
}

TEST_F(EventStoreTest, RefusesADamagedFormatVersion) {
  store_.reset();
  EditRocksDb(path(), [&](rocksdb::DB* db, auto& cfs) {
    ASSERT_TRUE(
        db->Put(rocksdb::WriteOptions(), cfs["meta"], "format_version", "v1")
            .ok());
  });
  StoreOptions options;
  options.path = path();
  EXPECT_EQ(EventStore::Open(options).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(EventStoreTest, CloseCompletesQueuedAppends) {
  constexpr int kAppends = 100;
  std::atomic<int> ok{0};
  std::atomic<int> calls{0};
  for (int i = 0; i < kAppends; ++i) {
    store_->AppendAsync(
        MakeStoreAppend("case-1", ExpectedVersion::Any(),
                        StoreEvents("case-1", {absl::StrCat("e", i)})),
        [&](absl::StatusOr<AppendResult> r) {
          ++calls;
          if (r.ok()) ++ok;
        });
  }
  store_->Close();
  EXPECT_EQ(calls.load(), kAppends);
  EXPECT_EQ(ok.load(), kAppends);
  Open();
  EXPECT_EQ(store_->LogSize(), static_cast<uint64_t>(kAppends));
}

TEST_F(EventStoreTest, AppendAfterCloseIsUnavailable) {
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e1"}).ok());
  EXPECT_FALSE(store_->closing());
  store_->Close();
  EXPECT_TRUE(store_->closing());
  store_->Close();  // idempotent
  absl::StatusOr<AppendResult> result =
      Append("case-1", ExpectedVersion::Any(), {"e2"});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable)
      << result.status();
  EXPECT_EQ(store_->LogSize(), 1u);
}

TEST_F(EventStoreTest, ReadsAfterCloseAreUnavailable) {
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e1"}).ok());
  store_->Close();
  StreamRead stream_read;
  stream_read.stream_id = "case-1";
  EXPECT_EQ(store_->ReadStream(stream_read).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->ReadLog(LogRead()).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(EventStoreOpenTest, RequiresAPath) {
  EXPECT_EQ(EventStore::Open(StoreOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace casetrail::eventstore
