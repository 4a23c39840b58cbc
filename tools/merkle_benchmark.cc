// Google Benchmark of the Merkle tree's CPU costs: hashing a stored event as a
// leaf, extending the tree by one leaf, and building/verifying proofs over an
// in-memory tree of 2^20 leaves. Run: build/tools/merkle_benchmark

#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "eventstore/merkle.h"

namespace casetrail::eventstore {
namespace {

void BM_LeafHash700Bytes(benchmark::State& state) {
  const std::string event(
      700, 'x');  // about one stored event with a 512-byte payload
  for (auto _ : state) benchmark::DoNotOptimize(LeafHash(event));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LeafHash700Bytes);

void BM_FrontierAppend(benchmark::State& state) {
  MerkleFrontier frontier;
  const MerkleHash leaf = LeafHash("leaf");
  uint64_t emitted = 0;
  for (auto _ : state) {
    frontier.Append(leaf, [&](int, uint64_t, const MerkleHash&) { ++emitted; });
  }
  benchmark::DoNotOptimize(emitted);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FrontierAppend);

struct Tree {
  InMemorySubtreeHashes subtrees;
  MerkleHash root;
  std::vector<MerkleHash> leaves;
  static const Tree& Get() {
    static const Tree* tree = [] {
      auto* t = new Tree();
      MerkleFrontier frontier;
      for (uint64_t i = 0; i < (1u << 20); ++i) {
        t->leaves.push_back(LeafHash(std::to_string(i)));
        frontier.Append(t->leaves.back(),
                        [&](int level, uint64_t index, const MerkleHash& h) {
                          t->subtrees.Put(level, index, h);
                        });
      }
      t->root = frontier.Root();
      return t;
    }();
    return *tree;
  }
};

void BM_InclusionProofAndVerify(benchmark::State& state) {
  const Tree& tree = Tree::Get();
  const uint64_t n = tree.leaves.size() - 3;  // not a power of two
  const MerkleHash root = *RootHash(tree.subtrees, n);
  uint64_t i = 0;
  for (auto _ : state) {
    const uint64_t m = (i++ * 7919) % n;
    auto proof = InclusionProof(tree.subtrees, m, n);
    benchmark::DoNotOptimize(
        VerifyInclusion(m, n, tree.leaves[m], *proof, root));
  }
}
BENCHMARK(BM_InclusionProofAndVerify);

void BM_ConsistencyProofAndVerify(benchmark::State& state) {
  const Tree& tree = Tree::Get();
  const uint64_t n = tree.leaves.size() - 3;
  const MerkleHash new_root = *RootHash(tree.subtrees, n);
  uint64_t i = 0;
  for (auto _ : state) {
    const uint64_t m = 1 + (i++ * 7919) % (n - 1);
    const MerkleHash old_root = *RootHash(tree.subtrees, m);
    auto proof = ConsistencyProof(tree.subtrees, m, n);
    benchmark::DoNotOptimize(
        VerifyConsistency(m, n, old_root, new_root, *proof));
  }
}
BENCHMARK(BM_ConsistencyProofAndVerify);

}  // namespace
}  // namespace casetrail::eventstore

BENCHMARK_MAIN();
