// VerifyDataDir, the offline check of a whole store: a store written by
// EventStore verifies, with the roots the store's appends imply; each way of
// tampering with it through RocksDB is reported, naming where; a directory
// that is not a store is an error.

#include "eventstore/log_verifier.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "casetrail/v1/event.pb.h"
#include "eventstore/event_store.h"
#include "eventstore/keys.h"
#include "eventstore/merkle.h"
#include "eventstore/stored_event.h"
#include "eventstore/wire_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/testing/event_store_fixture.h"

namespace casetrail::eventstore {
namespace {

using casetrail::testing::ColumnFamilies;
using casetrail::testing::EditRocksDb;
using casetrail::testing::EventStoreTest;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// Odd, so the newest event is alone on the tree's right edge, and above 1024,
// so subtrees up to level 10 are stored.
constexpr uint64_t kLogSize = 1237;

std::string ValueAt(rocksdb::DB* db, ColumnFamilies& cfs, uint64_t position) {
  std::string value;
  EXPECT_TRUE(db->Get({}, cfs.at("events"), EventKey(position), &value).ok());
  return value;
}

void PutValueAt(rocksdb::DB* db, ColumnFamilies& cfs, uint64_t position,
                const std::string& value) {
  ASSERT_TRUE(db->Put({}, cfs.at("events"), EventKey(position), value).ok());
}

// Flips the lowest bit of the event's last byte. The last byte of a message
// ends a field's value, and that bit is never a varint's continuation bit, so
// the bytes stay well-formed: only the hash can tell.
void FlipLastByte(rocksdb::DB* db, ColumnFamilies& cfs, uint64_t position) {
  std::string value = ValueAt(db, cfs, position);
  value.back() ^= 1;
  PutValueAt(db, cfs, position, value);
}

class LogVerifierTest : public EventStoreTest {
 protected:
  // Appends `n` events over three streams, in appends of 1-40 events, and
  // closes the store. Returns the leaf hashes the appends returned, after
  // checking that they are the hashes of the bytes the log reads back.
  std::vector<MerkleHash> BuildStore(uint64_t n) {
    std::vector<MerkleHash> leaves;
    std::mt19937 rng(7);
    while (leaves.size() < n) {
      std::vector<std::string> ids;
      const uint64_t batch =
          std::min<uint64_t>(n - leaves.size(), 1 + rng() % 40);
      for (uint64_t j = 0; j < batch; ++j) {
        ids.push_back(absl::StrCat("e", leaves.size() + j));
      }
      absl::StatusOr<AppendResult> r =
          Append(absl::StrCat("case-", rng() % 3), ExpectedVersion::Any(), ids);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) return {};
      for (const AppendedEvent& e : r->events) {
        EXPECT_EQ(e.position, leaves.size());
        leaves.push_back(e.leaf_hash);
      }
    }
    LogRead read;
    read.limit = n;
    absl::StatusOr<LogSlice> slice = store_->ReadLog(read);
    EXPECT_TRUE(slice.ok()) << slice.status();
    if (!slice.ok()) return {};
    EXPECT_EQ(slice->events.size(), n);
    for (size_t i = 0; i < slice->events.size(); ++i) {
      EXPECT_EQ(LeafHash(slice->events[i]), leaves[i]) << i;
    }
    store_.reset();
    return leaves;
  }

  // A copy of the (closed) store in `dir`.
  std::string CopyStore(const testing::TempDir& dir) {
    const std::string copy = dir.Sub("store");
    EXPECT_EQ(std::system(absl::StrCat("cp -r ", path(), " ", copy).c_str()),
              0);
    return copy;
  }
};

TEST_F(LogVerifierTest, IntactStoreVerifies) {
  const std::vector<MerkleHash> leaves = BuildStore(kLogSize);
  // The tree the appends imply, built independently of the store.
  MerkleFrontier frontier;
  InMemorySubtreeHashes subtrees;
  for (const MerkleHash& leaf : leaves) {
    frontier.Append(leaf, [&](int level, uint64_t index, const MerkleHash& h) {
      subtrees.Put(level, index, h);
    });
  }
  uint64_t stored_subtrees = 0;
  for (int level = 1; (uint64_t{1} << level) <= kLogSize; ++level) {
    stored_subtrees += kLogSize >> level;
  }

  VerifyDataDirOptions options;
  options.roots_wanted = {kLogSize, 5, 0, 1024, 1, 5, kLogSize + 1};
  absl::StatusOr<DataDirReport> report = VerifyDataDir(path(), options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->problem, "");
  EXPECT_EQ(report->first_bad_position, std::nullopt);
  EXPECT_EQ(report->log_size, kLogSize);
  EXPECT_EQ(report->events_checked, kLogSize);
  EXPECT_EQ(report->subtrees_checked, stored_subtrees);
  EXPECT_EQ(report->root, frontier.Root());
  // Sorted, without the duplicate, and without the size beyond the log.
  std::vector<std::pair<uint64_t, MerkleHash>> expected_roots;
  for (uint64_t size : std::vector<uint64_t>{0, 1, 5, 1024, kLogSize}) {
    absl::StatusOr<MerkleHash> root = RootHash(subtrees, size);
    ASSERT_TRUE(root.ok()) << root.status();
    expected_roots.emplace_back(size, *root);
  }
  EXPECT_THAT(report->roots_at, ElementsAreArray(expected_roots));
}

// Each way of tampering with a closed store, on a fresh copy each, is found
// and located; the untouched original still verifies.
TEST_F(LogVerifierTest, ReportsTheFirstProblemAndWhere) {
  BuildStore(kLogSize);
  struct Case {
    std::string name;
    std::function<void(rocksdb::DB*, ColumnFamilies&)> tamper;
    std::optional<uint64_t> first_bad_position;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      // Leaf hashes are not stored, so a changed event shows first as its
      // level-1 pair not hashing to the stored pair hash, and the verifier
      // cannot tell which of the two events (or that hash) was changed.
      {"one byte of an event in the middle",
       [](rocksdb::DB* db, ColumnFamilies& cfs) { FlipLastByte(db, cfs, 617); },
       616,
       {"positions 616-617 do not hash to the stored subtree hash at level 1 "
        "index 308",
        "one of these events or that hash was changed"}},
      {"one byte of an event near the start",
       [](rocksdb::DB* db, ColumnFamilies& cfs) { FlipLastByte(db, cfs, 3); },
       2,
       {"positions 2-3 do not hash"}},
      {"an event deleted in the middle",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         ASSERT_TRUE(db->Delete({}, cfs.at("events"), EventKey(500)).ok());
       },
       500,
       {"position 500 is missing (the next stored event is at 501)"}},
      {"the newest event deleted",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         ASSERT_TRUE(
             db->Delete({}, cfs.at("events"), EventKey(kLogSize - 1)).ok());
       },
       kLogSize - 1,
       {"covers 1237 events but the log holds 1236",
        "events were removed from its end"}},
      {"two events swapped",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         const std::string a = ValueAt(db, cfs, 300);
         const std::string b = ValueAt(db, cfs, 700);
         PutValueAt(db, cfs, 300, b);
         PutValueAt(db, cfs, 700, a);
       },
       300,
       {"the event stored at position 300 says it is at position 700"}},
      // The verifier does not rely on `position` being the first field.
      {"an event rewritten with its fields reordered and moved",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         absl::StatusOr<casetrail::v1::RecordedEvent> event =
             DecodeStoredEvent(ValueAt(db, cfs, 40));
         ASSERT_TRUE(event.ok()) << event.status();
         // Field 15 (`event`) first, then fields 1-3 with another position.
         std::string value;
         AppendLengthDelimitedField(15, event->event().SerializeAsString(),
                                    &value);
         event->clear_event();
         event->set_position(41);
         value += event->SerializeAsString();
         PutValueAt(db, cfs, 40, value);
       },
       40,
       {"the event stored at position 40 says it is at position 41"}},
      {"an event truncated",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         const std::string value = ValueAt(db, cfs, 900);
         PutValueAt(db, cfs, 900, value.substr(0, value.size() - 3));
       },
       900,
       {"stored at position 900 are not a RecordedEvent with an event"}},
      // Its halves, level 2 indexes 80 and 81, match their stored hashes, so
      // the changed hash itself is named.
      {"a subtree hash at level 3 replaced",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         ASSERT_TRUE(db->Put({}, cfs.at("merkle"), MerkleKey(3, 40),
                             std::string(32, 'x'))
                         .ok());
       },
       320,
       {"the stored subtree hash at level 3 index 40 was changed",
        "positions 320-327 hash correctly to the stored hashes at level 2"}},
      {"a subtree hash deleted",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         ASSERT_TRUE(db->Delete({}, cfs.at("merkle"), MerkleKey(2, 10)).ok());
       },
       40,
       {"the stored subtree hash at level 2 index 10 (positions 40-43) is "
        "missing"}},
      {"a subtree hash stored beyond the end",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         // Level 1 index 618 would cover positions 1236-1237.
         ASSERT_TRUE(db->Put({}, cfs.at("merkle"), MerkleKey(1, 618),
                             std::string(32, 'x'))
                         .ok());
       },
       std::nullopt,
       {"a subtree hash is stored at level 1 index 618, beyond the complete "
        "subtrees of the log's 1237 events"}},
      // No stored subtree covers the newest event of an odd-sized log; only
      // the tree head's root does.
      {"one byte of the newest event",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         FlipLastByte(db, cfs, kLogSize - 1);
       },
       kLogSize - 1,
       {"not the tree head's",
        "position 1236 (the newest event, which no stored subtree hash "
        "covers) or the tree head was changed"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    testing::TempDir dir;
    const std::string copy = CopyStore(dir);
    EditRocksDb(copy, c.tamper);
    absl::StatusOr<DataDirReport> report = VerifyDataDir(copy);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_FALSE(report->ok);
    EXPECT_EQ(report->first_bad_position, c.first_bad_position);
    for (const std::string& expect : c.expect) {
      EXPECT_THAT(report->problem, HasSubstr(expect));
    }
  }
  absl::StatusOr<DataDirReport> original = VerifyDataDir(path());
  ASSERT_TRUE(original.ok()) << original.status();
  EXPECT_TRUE(original->ok) << original->problem;
}

TEST_F(LogVerifierTest, DirectoryThatIsNotAStoreIsAnError) {
  store_.reset();
  testing::TempDir dir;
  const std::string empty_dir = dir.Sub("empty");
  ASSERT_EQ(std::system(absl::StrCat("mkdir ", empty_dir).c_str()), 0);
  for (const std::string& not_a_store : {empty_dir, dir.Sub("missing")}) {
    SCOPED_TRACE(not_a_store);
    absl::StatusOr<DataDirReport> report = VerifyDataDir(not_a_store);
    EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition)
        << report.status();
  }

  // A RocksDB database, but not a store.
  const std::string other = dir.Sub("other");
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, other, &db).ok());
  ASSERT_TRUE(db->Put({}, "key", "value").ok());
  delete db;
  absl::StatusOr<DataDirReport> report = VerifyDataDir(other);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition)
      << report.status();
  EXPECT_THAT(report.status().message(), HasSubstr("not a casetrail store"));
}

TEST_F(LogVerifierTest, EmptyStoreVerifies) {
  store_.reset();
  VerifyDataDirOptions options;
  options.roots_wanted = {0, 1};
  absl::StatusOr<DataDirReport> report = VerifyDataDir(path(), options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->log_size, 0u);
  EXPECT_EQ(report->events_checked, 0u);
  EXPECT_EQ(report->subtrees_checked, 0u);
  EXPECT_EQ(report->root, EmptyTreeHash());
  EXPECT_THAT(report->roots_at,
              ElementsAreArray({std::make_pair(uint64_t{0}, EmptyTreeHash())}));
}

// Every 65536 events, and once at the end.
TEST_F(LogVerifierTest, ReportsProgress) {
  constexpr uint64_t kSize = 70000;
  for (uint64_t i = 0; i < kSize; i += 1000) {
    std::vector<std::string> ids;
    for (uint64_t j = i; j < i + 1000; ++j) ids.push_back(absl::StrCat("e", j));
    absl::StatusOr<AppendResult> r =
        Append("case-1", ExpectedVersion::Any(), ids);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  store_.reset();
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  VerifyDataDirOptions options;
  options.progress = [&](const VerifyProgress& p) {
    calls.emplace_back(p.events_checked, p.log_size);
  };
  absl::StatusOr<DataDirReport> report = VerifyDataDir(path(), options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_THAT(calls, ElementsAreArray({std::make_pair(uint64_t{65536}, kSize),
                                       std::make_pair(kSize, kSize)}));
}

}  // namespace
}  // namespace casetrail::eventstore
