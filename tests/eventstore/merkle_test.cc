// The Merkle tree against the RFC 6962 / Certificate Transparency reference
// vectors (the standard 8-leaf set: every complete subtree, every root, and the
// published inclusion and consistency proofs), and property tests against a
// direct implementation of RFC 9162's MTH.

#include "eventstore/merkle.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace casetrail::eventstore {
namespace {

MerkleHash H(absl::string_view hex) {
  const std::string bytes = absl::HexStringToBytes(hex);
  MerkleHash out{};
  EXPECT_EQ(bytes.size(), out.size()) << hex;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

std::vector<std::string> Leaves() {
  return {absl::HexStringToBytes(""),
          absl::HexStringToBytes("00"),
          absl::HexStringToBytes("10"),
          absl::HexStringToBytes("2021"),
          absl::HexStringToBytes("3031"),
          absl::HexStringToBytes("40414243"),
          absl::HexStringToBytes("5051525354555657"),
          absl::HexStringToBytes("606162636465666768696a6b6c6d6e6f")};
}

// Complete-subtree hashes of the 8-leaf tree, by level.
const std::vector<std::vector<const char*>> kNodeHashes = {
    {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"},
    {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"},
    {"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
    {"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"}};

// Roots by tree size 0..8.
const std::vector<const char*> kRoots = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

struct InclusionVector {
  uint64_t index;  // 0-based
  uint64_t size;
  std::vector<const char*> proof;
};
const std::vector<InclusionVector> kInclusion = {
    {0, 1, {}},
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     3,
     {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

struct ConsistencyVector {
  uint64_t old_size;
  uint64_t new_size;
  std::vector<const char*> proof;
};
const std::vector<ConsistencyVector> kConsistency = {
    {1, 1, {}},
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

std::vector<MerkleHash> Hashes(const std::vector<const char*>& hex) {
  std::vector<MerkleHash> out;
  for (const char* h : hex) out.push_back(H(h));
  return out;
}

// Builds a tree from leaf hashes with MerkleFrontier, storing every emitted
// subtree.
struct BuiltTree {
  InMemorySubtreeHashes subtrees;
  MerkleFrontier frontier;
  std::map<std::pair<int, uint64_t>, MerkleHash> emitted;
  std::vector<MerkleHash> roots;  // by size, from 0
};

BuiltTree Build(const std::vector<MerkleHash>& leaf_hashes) {
  BuiltTree t;
  t.roots.push_back(t.frontier.Root());
  for (const MerkleHash& leaf : leaf_hashes) {
    t.frontier.Append(
        leaf, [&](int level, uint64_t index, const MerkleHash& h) {
          EXPECT_TRUE(t.emitted.emplace(std::make_pair(level, index), h).second)
              << "subtree emitted twice: " << level << "/" << index;
          t.subtrees.Put(level, index, h);
        });
    t.roots.push_back(t.frontier.Root());
  }
  return t;
}

// MTH of RFC 9162 2.1.1, directly.
MerkleHash ReferenceMth(const std::vector<MerkleHash>& leaves, size_t begin,
                        size_t end) {
  if (end - begin == 0) return EmptyTreeHash();
  if (end - begin == 1) return leaves[begin];
  size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return NodeHash(ReferenceMth(leaves, begin, begin + k),
                  ReferenceMth(leaves, begin + k, end));
}

std::vector<MerkleHash> VectorLeafHashes() {
  std::vector<MerkleHash> out;
  for (const std::string& leaf : Leaves()) out.push_back(LeafHash(leaf));
  return out;
}

TEST(MerkleVectorsTest, FrontierEmitsEveryCompleteSubtreeHash) {
  BuiltTree t = Build(VectorLeafHashes());
  size_t expected = 0;
  for (size_t level = 0; level < kNodeHashes.size(); ++level) {
    for (size_t index = 0; index < kNodeHashes[level].size(); ++index) {
      ++expected;
      auto it = t.emitted.find({static_cast<int>(level), index});
      ASSERT_NE(it, t.emitted.end()) << level << "/" << index;
      EXPECT_EQ(ToHex(it->second), kNodeHashes[level][index])
          << level << "/" << index;
    }
  }
  EXPECT_EQ(t.emitted.size(), expected);
}

TEST(MerkleVectorsTest, RootsForEverySize) {
  BuiltTree t = Build(VectorLeafHashes());
  for (uint64_t size = 0; size <= 8; ++size) {
    EXPECT_EQ(ToHex(t.roots[size]), kRoots[size]) << "frontier, size " << size;
    absl::StatusOr<MerkleHash> stored = RootHash(t.subtrees, size);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(ToHex(*stored), kRoots[size]) << "stored subtrees, size " << size;
  }
}

TEST(MerkleVectorsTest, InclusionProofsMatchAndVerify) {
  BuiltTree t = Build(VectorLeafHashes());
  const std::vector<MerkleHash> leaves = VectorLeafHashes();
  for (const InclusionVector& v : kInclusion) {
    absl::StatusOr<std::vector<MerkleHash>> proof =
        InclusionProof(t.subtrees, v.index, v.size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, Hashes(v.proof)) << v.index << " in " << v.size;
    EXPECT_TRUE(VerifyInclusion(v.index, v.size, leaves[v.index], *proof,
                                H(kRoots[v.size]))
                    .ok());
  }
}

TEST(MerkleVectorsTest, ConsistencyProofsMatchAndVerify) {
  BuiltTree t = Build(VectorLeafHashes());
  for (const ConsistencyVector& v : kConsistency) {
    absl::StatusOr<std::vector<MerkleHash>> proof =
        ConsistencyProof(t.subtrees, v.old_size, v.new_size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, Hashes(v.proof)) << v.old_size << " -> " << v.new_size;
    EXPECT_TRUE(VerifyConsistency(v.old_size, v.new_size, H(kRoots[v.old_size]),
                                  H(kRoots[v.new_size]), *proof)
                    .ok());
  }
}

TEST(MerkleVectorsTest, CorruptedInclusionProofsFail) {
  const std::vector<MerkleHash> leaves = VectorLeafHashes();
  const InclusionVector& v = kInclusion[2];  // leaf 5 of 8
  const std::vector<MerkleHash> proof = Hashes(v.proof);
  const MerkleHash root = H(kRoots[8]);
  auto fails = [&](uint64_t index, uint64_t size, const MerkleHash& leaf,
                   const std::vector<MerkleHash>& p, const MerkleHash& r) {
    return !VerifyInclusion(index, size, leaf, p, r).ok();
  };
  EXPECT_TRUE(fails(v.index - 1, 8, leaves[5], proof, root));
  EXPECT_TRUE(fails(v.index + 1, 8, leaves[5], proof, root));
  EXPECT_TRUE(fails(v.index ^ 2, 8, leaves[5], proof, root));
  EXPECT_TRUE(fails(v.index, 16, leaves[5], proof, root));
  EXPECT_TRUE(fails(v.index, 4, leaves[5], proof, root));
  EXPECT_TRUE(fails(v.index, 8, leaves[4], proof, root));
  EXPECT_TRUE(fails(v.index, 8, leaves[5], proof, EmptyTreeHash()));
  std::vector<MerkleHash> longer = proof;
  longer.push_back(root);
  EXPECT_TRUE(fails(v.index, 8, leaves[5], longer, root));
  std::vector<MerkleHash> preceded = proof;
  preceded.insert(preceded.begin(), root);
  EXPECT_TRUE(fails(v.index, 8, leaves[5], preceded, root));
  std::vector<MerkleHash> shorter(proof.begin(), proof.end() - 1);
  EXPECT_TRUE(fails(v.index, 8, leaves[5], shorter, root));
  EXPECT_EQ(VerifyInclusion(8, 8, leaves[5], proof, root).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MerkleVectorsTest, CorruptedConsistencyProofsFail) {
  const ConsistencyVector& v = kConsistency[2];  // 6 -> 8
  const std::vector<MerkleHash> proof = Hashes(v.proof);
  const MerkleHash old_root = H(kRoots[6]);
  const MerkleHash new_root = H(kRoots[8]);
  EXPECT_FALSE(VerifyConsistency(5, 8, old_root, new_root, proof).ok());
  EXPECT_FALSE(VerifyConsistency(7, 8, old_root, new_root, proof).ok());
  EXPECT_FALSE(VerifyConsistency(6, 16, old_root, new_root, proof).ok());
  EXPECT_FALSE(VerifyConsistency(6, 8, new_root, old_root, proof).ok());
  EXPECT_FALSE(VerifyConsistency(6, 8, old_root, new_root, {}).ok());
  std::vector<MerkleHash> shorter(proof.begin(), proof.end() - 1);
  EXPECT_FALSE(VerifyConsistency(6, 8, old_root, new_root, shorter).ok());
  std::vector<MerkleHash> longer = proof;
  longer.push_back(new_root);
  EXPECT_FALSE(VerifyConsistency(6, 8, old_root, new_root, longer).ok());
  EXPECT_EQ(VerifyConsistency(9, 8, old_root, new_root, proof).code(),
            absl::StatusCode::kInvalidArgument);
  // Equal sizes: consistent exactly when the roots are equal and the proof is
  // empty.
  EXPECT_TRUE(VerifyConsistency(8, 8, new_root, new_root, {}).ok());
  EXPECT_FALSE(VerifyConsistency(8, 8, old_root, new_root, {}).ok());
  EXPECT_FALSE(VerifyConsistency(8, 8, new_root, new_root, proof).ok());
}

TEST(MerkleVectorsTest, MissingSubtreeIsNotFound) {
  BuiltTree t = Build(VectorLeafHashes());
  EXPECT_EQ(RootHash(t.subtrees, 9).status().code(),
            absl::StatusCode::kNotFound);
}

// Random tree sizes up to a few thousand: every inclusion and consistency proof
// built from stored subtrees verifies, roots agree with the reference MTH, and
// a proof with any one byte changed does not verify.
TEST(MerklePropertyTest, ProofsVerifyAndAnyChangedByteFails) {
  std::mt19937_64 rng(20261123);
  std::vector<MerkleHash> leaves;
  for (int i = 0; i < 3000; ++i)
    leaves.push_back(LeafHash(std::to_string(rng())));
  BuiltTree t = Build(leaves);
  std::vector<uint64_t> sizes = {1,   2,   3,   7,    8,    9,
                                 255, 256, 257, 1023, 1024, 3000};
  for (int i = 0; i < 8; ++i) sizes.push_back(1 + rng() % 3000);
  for (uint64_t n : sizes) {
    ASSERT_EQ(t.roots[n], ReferenceMth(leaves, 0, n)) << "size " << n;
    absl::StatusOr<MerkleFrontier> loaded = MerkleFrontier::Load(t.subtrees, n);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->Root(), t.roots[n]) << "loaded frontier, size " << n;
    for (int trial = 0; trial < 10; ++trial) {
      const uint64_t m = rng() % n;
      absl::StatusOr<std::vector<MerkleHash>> proof =
          InclusionProof(t.subtrees, m, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_TRUE(VerifyInclusion(m, n, leaves[m], *proof, t.roots[n]).ok())
          << m << " in " << n;
      if (!proof->empty()) {
        std::vector<MerkleHash> bad = *proof;
        bad[rng() % bad.size()][rng() % 32] ^= 1 + rng() % 255;
        EXPECT_FALSE(VerifyInclusion(m, n, leaves[m], bad, t.roots[n]).ok());
      }
      const uint64_t old_size = 1 + rng() % n;
      absl::StatusOr<std::vector<MerkleHash>> consistency =
          ConsistencyProof(t.subtrees, old_size, n);
      ASSERT_TRUE(consistency.ok()) << consistency.status();
      ASSERT_TRUE(VerifyConsistency(old_size, n, t.roots[old_size], t.roots[n],
                                    *consistency)
                      .ok())
          << old_size << " -> " << n;
      if (!consistency->empty()) {
        std::vector<MerkleHash> bad = *consistency;
        bad[rng() % bad.size()][rng() % 32] ^= 1 + rng() % 255;
        EXPECT_FALSE(
            VerifyConsistency(old_size, n, t.roots[old_size], t.roots[n], bad)
                .ok());
      }
    }
  }
}

}  // namespace
}  // namespace casetrail::eventstore
