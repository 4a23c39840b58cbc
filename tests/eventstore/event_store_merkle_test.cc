// The Merkle tree the store keeps over its events: extended in each commit's
// batch, returned with every append, continued across reopen, built for
// format 1 stores, and checked at open (tampering near the head is refused).

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eventstore/event_store.h"
#include "eventstore/internal/merkle_store.h"
#include "eventstore/keys.h"
#include "eventstore/merkle.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/testing/event_store_fixture.h"

namespace casetrail::eventstore {
namespace {

using casetrail::testing::ColumnFamilies;
using casetrail::testing::EditRocksDb;
using casetrail::testing::EventStoreTest;
using ::testing::HasSubstr;

class EventStoreMerkleTest : public EventStoreTest {
 protected:
  // Appends `n` events over a few streams, in appends of 1-5 events.
  std::vector<AppendResult> AppendMany(int n, const std::string& prefix) {
    std::vector<AppendResult> results;
    std::mt19937 rng(n);
    for (int i = 0; i < n;) {
      std::vector<std::string> ids;
      const int batch = std::min<int>(n - i, 1 + rng() % 5);
      for (int j = 0; j < batch; ++j) ids.push_back(absl::StrCat(prefix, i++));
      absl::StatusOr<AppendResult> r =
          Append(absl::StrCat("case-", rng() % 3), ExpectedVersion::Any(), ids);
      EXPECT_TRUE(r.ok()) << r.status();
      results.push_back(*r);
    }
    return results;
  }

  // The leaf hashes of the whole log, from its stored bytes.
  std::vector<MerkleHash> LeavesFromLog() {
    absl::StatusOr<LogSlice> slice =
        store_->ReadLog({.from_position = 0, .limit = 100000, .filter = {}});
    EXPECT_TRUE(slice.ok());
    std::vector<MerkleHash> leaves;
    for (const std::string& bytes : slice->events)
      leaves.push_back(LeafHash(bytes));
    return leaves;
  }

  // Closes the store and checks its stored tree against one built afresh from
  // `leaves`: same root, and inclusion proofs from stored subtrees verify.
  void ExpectStoredTreeIs(const std::vector<MerkleHash>& leaves) {
    store_.reset();
    MerkleFrontier fresh;
    for (const MerkleHash& l : leaves)
      fresh.Append(l, [](int, uint64_t, const MerkleHash&) {});
    EditRocksDb(path(), [&](rocksdb::DB* db, ColumnFamilies& cfs) {
      internal::RocksDbSubtreeHashes stored(db, cfs.at("events"),
                                            cfs.at("merkle"));
      absl::StatusOr<MerkleHash> root = RootHash(stored, leaves.size());
      ASSERT_TRUE(root.ok()) << root.status();
      EXPECT_EQ(*root, fresh.Root());
      for (uint64_t m = 0; m < leaves.size(); m += 7) {
        auto proof = InclusionProof(stored, m, leaves.size());
        ASSERT_TRUE(proof.ok());
        EXPECT_TRUE(
            VerifyInclusion(m, leaves.size(), leaves[m], *proof, *root).ok());
      }
    });
  }

  absl::Status Reopen() {
    store_.reset();
    StoreOptions options;
    options.path = path();
    return EventStore::Open(options).status();
  }
};

TEST_F(EventStoreMerkleTest, AppendsReturnLeafHashAndTreeSize) {
  std::vector<AppendResult> results = AppendMany(40, "e");
  std::vector<MerkleHash> leaves = LeavesFromLog();
  ASSERT_EQ(leaves.size(), 40u);
  for (const AppendResult& r : results) {
    for (const AppendedEvent& e : r.events) {
      EXPECT_EQ(e.leaf_hash, leaves[e.position]) << e.position;
      EXPECT_EQ(e.tree_size, r.events.back().position + 1);
    }
  }
  ExpectStoredTreeIs(leaves);
}

TEST_F(EventStoreMerkleTest, RetryReturnsTheOriginalLeafHash) {
  absl::StatusOr<AppendResult> first =
      Append("case-1", ExpectedVersion::NoStream(), {"a", "b"});
  ASSERT_TRUE(first.ok());
  AppendMany(5, "later");
  absl::StatusOr<AppendResult> retry =
      Append("case-1", ExpectedVersion::NoStream(), {"a", "b"});
  ASSERT_TRUE(retry.ok()) << retry.status();
  ASSERT_TRUE(retry->deduplicated);
  EXPECT_EQ(retry->events[1].leaf_hash, first->events[1].leaf_hash);
  EXPECT_EQ(retry->events[1].tree_size, first->events[1].position + 1);
}

TEST_F(EventStoreMerkleTest, TreeContinuesAcrossReopen) {
  AppendMany(13, "before");
  Open();
  AppendMany(21, "after");
  ExpectStoredTreeIs(LeavesFromLog());
}

TEST_F(EventStoreMerkleTest, FormatOneStoreGetsItsTreeBuiltOnOpen) {
  AppendMany(30, "e");
  std::vector<MerkleHash> leaves = LeavesFromLog();
  store_.reset();
  EditRocksDb(path(), [](rocksdb::DB* db, ColumnFamilies& cfs) {
    ASSERT_TRUE(db->DeleteRange(rocksdb::WriteOptions(), cfs.at("merkle"),
                                std::string(1, '\0'), std::string(1, '\x7f'))
                    .ok());
    ASSERT_TRUE(
        db->Delete(rocksdb::WriteOptions(), cfs.at("meta"), "tree_head").ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), cfs.at("meta"),
                        "format_version", EncodeU64(1))
                    .ok());
  });
  Open();
  EXPECT_EQ(*EventStore::ReadFormatVersionForTesting(path()), kFormatVersion);
  ExpectStoredTreeIs(leaves);
}

// Each way of tampering near the head of the log stops the store opening,
// with DATA_LOSS naming where.
TEST_F(EventStoreMerkleTest, OpenRefusesATamperedHead) {
  AppendMany(20, "e");
  store_.reset();
  struct Case {
    std::string name;
    std::function<void(rocksdb::DB*, ColumnFamilies&)> tamper;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"one byte of the newest event",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         std::string value;
         ASSERT_TRUE(db->Get({}, cfs.at("events"), EventKey(19), &value).ok());
         value.back() ^= 1;
         ASSERT_TRUE(db->Put({}, cfs.at("events"), EventKey(19), value).ok());
       },
       "positions 18-19 do not hash"},
      {"the newest event deleted",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         ASSERT_TRUE(db->Delete({}, cfs.at("events"), EventKey(19)).ok());
       },
       "covers 20 events but the log holds 19"},
      {"two newest events swapped",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         std::string a, b;
         ASSERT_TRUE(db->Get({}, cfs.at("events"), EventKey(18), &a).ok());
         ASSERT_TRUE(db->Get({}, cfs.at("events"), EventKey(19), &b).ok());
         ASSERT_TRUE(db->Put({}, cfs.at("events"), EventKey(18), b).ok());
         ASSERT_TRUE(db->Put({}, cfs.at("events"), EventKey(19), a).ok());
       },
       "stored at position 19 says it is at position 18"},
      {"a subtree of the right edge deleted",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         // 20 events: the right edge is subtrees (4, 0) and (2, 4).
         ASSERT_TRUE(db->Delete({}, cfs.at("merkle"), MerkleKey(2, 4)).ok());
       },
       "does not cover"},
      {"a subtree of the right edge replaced",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         ASSERT_TRUE(db->Put({}, cfs.at("merkle"), MerkleKey(2, 4),
                             std::string(32, 'x'))
                         .ok());
       },
       "not the tree head's"},
      {"the tree head deleted",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         ASSERT_TRUE(db->Delete({}, cfs.at("meta"), "tree_head").ok());
       },
       "tree head is missing"},
      {"a subtree hash inside the newest events replaced",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         ASSERT_TRUE(db->Put({}, cfs.at("merkle"), MerkleKey(1, 8),
                             std::string(32, 'x'))
                         .ok());
       },
       "stored subtree hash at level 1 index 8"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    // A fresh copy of the untampered store for each case.
    testing::TempDir copy;
    const std::string copy_path = copy.Sub("store");
    ASSERT_EQ(
        std::system(absl::StrCat("cp -r ", path(), " ", copy_path).c_str()), 0);
    EditRocksDb(copy_path, c.tamper);
    StoreOptions options;
    options.path = copy_path;
    absl::Status opened = EventStore::Open(options).status();
    EXPECT_EQ(opened.code(), absl::StatusCode::kDataLoss) << opened;
    EXPECT_THAT(opened.message(), HasSubstr(c.expect));
  }
  // The untampered original still opens.
  EXPECT_TRUE(Reopen().ok());
}

// A hole in the log is refused wherever it is met: at open among the newest
// events, by a read of the log further back, and by the tree build of a
// format 1 store, which then writes no tree.
TEST_F(EventStoreMerkleTest, HoleInTheLogIsDataLoss) {
  AppendMany(100, "e");
  store_.reset();
  {
    testing::TempDir copy;
    const std::string copy_path = copy.Sub("store");
    ASSERT_EQ(
        std::system(absl::StrCat("cp -r ", path(), " ", copy_path).c_str()), 0);
    EditRocksDb(copy_path, [](rocksdb::DB* db, ColumnFamilies& cfs) {
      ASSERT_TRUE(db->Delete({}, cfs.at("events"), EventKey(90)).ok());
    });
    StoreOptions options;
    options.path = copy_path;
    absl::Status opened = EventStore::Open(options).status();
    EXPECT_EQ(opened.code(), absl::StatusCode::kDataLoss) << opened;
    EXPECT_THAT(opened.message(), HasSubstr("no event at position 90"));
  }
  store_.reset();
  EditRocksDb(path(), [](rocksdb::DB* db, ColumnFamilies& cfs) {
    ASSERT_TRUE(db->Delete({}, cfs.at("events"), EventKey(4)).ok());
  });
  Open();
  absl::StatusOr<LogSlice> read =
      store_->ReadLog({.from_position = 0, .limit = 1000, .filter = {}});
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(), HasSubstr("gap"));
  EXPECT_THAT(read.status().message(), HasSubstr("position 4"));
  store_.reset();

  EditRocksDb(path(), [](rocksdb::DB* db, ColumnFamilies& cfs) {
    ASSERT_TRUE(db->DeleteRange({}, cfs.at("merkle"), std::string(1, '\0'),
                                std::string(1, '\x7f'))
                    .ok());
    ASSERT_TRUE(db->Delete({}, cfs.at("meta"), "tree_head").ok());
    ASSERT_TRUE(
        db->Put({}, cfs.at("meta"), "format_version", EncodeU64(1)).ok());
  });
  StoreOptions options;
  options.path = path();
  absl::Status opened = EventStore::Open(options).status();
  EXPECT_EQ(opened.code(), absl::StatusCode::kDataLoss) << opened;
  EXPECT_THAT(opened.message(), HasSubstr("position 4 is missing"));
  EditRocksDb(path(), [](rocksdb::DB* db, ColumnFamilies& cfs) {
    std::string value;
    EXPECT_TRUE(db->Get({}, cfs.at("meta"), "tree_head", &value).IsNotFound());
  });
  EXPECT_EQ(*EventStore::ReadFormatVersionForTesting(path()), 1u);
}

}  // namespace
}  // namespace casetrail::eventstore

namespace casetrail::eventstore {
namespace {

class EventStoreProofTest : public EventStoreMerkleTest {};

TEST_F(EventStoreProofTest, RootsAndProofsAtEverySizeVerify) {
  AppendMany(70, "p");
  const std::vector<MerkleHash> leaves = LeavesFromLog();
  ASSERT_EQ(leaves.size(), 70u);
  MerkleFrontier fresh;
  std::vector<MerkleHash> roots = {EmptyTreeHash()};
  for (const MerkleHash& l : leaves) {
    fresh.Append(l, [](int, uint64_t, const MerkleHash&) {});
    roots.push_back(fresh.Root());
  }
  for (uint64_t size = 0; size <= leaves.size(); ++size) {
    absl::StatusOr<MerkleHash> root = store_->RootHash(size);
    ASSERT_TRUE(root.ok()) << root.status();
    ASSERT_EQ(*root, roots[size]) << size;
    for (uint64_t m = 0; m < size; ++m) {
      auto proof = store_->InclusionProof(m, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(VerifyInclusion(m, size, leaves[m], *proof, roots[size]).ok())
          << m << " in " << size;
    }
    for (uint64_t old_size = 0; old_size <= size; old_size += 3) {
      auto proof = store_->ConsistencyProof(old_size, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(VerifyConsistency(old_size, size, roots[old_size],
                                    roots[size], *proof)
                      .ok())
          << old_size << " to " << size;
    }
  }
  EXPECT_EQ(LeafHash(*store_->ReadEvent(69)), leaves[69]);
}

TEST_F(EventStoreProofTest, ImpossibleRequestsAreRefused) {
  AppendMany(10, "p");
  EXPECT_EQ(store_->RootHash(11).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->InclusionProof(3, 11).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->InclusionProof(5, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ConsistencyProof(3, 11).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->ConsistencyProof(6, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ReadEvent(10).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EventStoreProofTest, CheckpointsAreKeptBySizeAcrossReopen) {
  EXPECT_EQ(store_->LatestCheckpoint().status().code(),
            absl::StatusCode::kNotFound);
  AppendMany(10, "p");
  ASSERT_TRUE(store_->PutCheckpoint(4, "note at 4\n").ok());
  ASSERT_TRUE(store_->PutCheckpoint(10, "note at 10\n").ok());
  ASSERT_TRUE(store_->PutCheckpoint(7, "note at 7\n").ok());
  EXPECT_EQ(store_->PutCheckpoint(11, "too far\n").code(),
            absl::StatusCode::kOutOfRange);
  Open();
  EXPECT_EQ(*store_->GetCheckpoint(7), "note at 7\n");
  EXPECT_EQ(store_->GetCheckpoint(5).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetCheckpoint(11).status().code(),
            absl::StatusCode::kNotFound);
  auto latest = store_->LatestCheckpoint();
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->first, 10u);
  EXPECT_EQ(latest->second, "note at 10\n");
}

}  // namespace
}  // namespace casetrail::eventstore
