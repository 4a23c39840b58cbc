#include "eventstore/merkle.h"

#include <openssl/evp.h>

#include <bit>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "eventstore/status_macros.h"

namespace casetrail::eventstore {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// SHA-256 of prefix || a || b. The algorithm is fetched from OpenSSL's
// provider once (EVP_sha256() would look it up, under a lock, on every
// initialisation) and the context is reused per thread (creating one per hash
// costs more than the hash of a small node).
MerkleHash Sha256(uint8_t prefix, absl::string_view a, absl::string_view b) {
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
  };
  static thread_local Context context;
  MerkleHash out;
  unsigned int size = 0;
  EVP_MD_CTX* ctx = context.ctx;
  // These calls fail only on allocation failure inside OpenSSL, which is not
  // recoverable here.
  if (ctx == nullptr || sha256 == nullptr ||
      EVP_DigestInit_ex2(ctx, sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx, &prefix, 1) != 1 ||
      EVP_DigestUpdate(ctx, a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx, b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, out.data(), &size) != 1 || size != out.size()) {
    std::abort();
  }
  return out;
}

absl::string_view View(const MerkleHash& h) {
  return absl::string_view(reinterpret_cast<const char*>(h.data()), h.size());
}

// The largest power of two smaller than n. REQUIRES: n > 1.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// MTH(D[start:start+size]). In every range RFC 9162's recursions ask for, the
// left part of a split is a complete subtree, so this reads one stored hash per
// set bit of `size`.
absl::StatusOr<MerkleHash> RangeHash(const SubtreeHashSource& source,
                                     uint64_t start, uint64_t size) {
  if (std::has_single_bit(size) && start % size == 0) {
    return source.Subtree(std::countr_zero(size), start / size);
  }
  const uint64_t k = SplitPoint(size);
  ASSIGN_OR_RETURN(MerkleHash left, RangeHash(source, start, k));
  ASSIGN_OR_RETURN(MerkleHash right, RangeHash(source, start + k, size - k));
  return NodeHash(left, right);
}

absl::Status AppendPath(const SubtreeHashSource& source, uint64_t index,
                        uint64_t start, uint64_t size,
                        std::vector<MerkleHash>& proof) {
  if (size <= 1) return absl::OkStatus();
  const uint64_t k = SplitPoint(size);
  if (index < k) {
    RETURN_IF_ERROR(AppendPath(source, index, start, k, proof));
    ASSIGN_OR_RETURN(MerkleHash sibling,
                     RangeHash(source, start + k, size - k));
    proof.push_back(sibling);
  } else {
    RETURN_IF_ERROR(AppendPath(source, index - k, start + k, size - k, proof));
    ASSIGN_OR_RETURN(MerkleHash sibling, RangeHash(source, start, k));
    proof.push_back(sibling);
  }
  return absl::OkStatus();
}

// SUBPROOF(m, D[start:start+size], complete) of RFC 9162 2.1.4.1.
absl::Status AppendSubproof(const SubtreeHashSource& source, uint64_t m,
                            uint64_t start, uint64_t size, bool complete,
                            std::vector<MerkleHash>& proof) {
  if (m == size) {
    if (!complete) {
      ASSIGN_OR_RETURN(MerkleHash hash, RangeHash(source, start, size));
      proof.push_back(hash);
    }
    return absl::OkStatus();
  }
  const uint64_t k = SplitPoint(size);
  if (m <= k) {
    RETURN_IF_ERROR(AppendSubproof(source, m, start, k, complete, proof));
    ASSIGN_OR_RETURN(MerkleHash right, RangeHash(source, start + k, size - k));
    proof.push_back(right);
  } else {
    RETURN_IF_ERROR(
        AppendSubproof(source, m - k, start + k, size - k, false, proof));
    ASSIGN_OR_RETURN(MerkleHash left, RangeHash(source, start, k));
    proof.push_back(left);
  }
  return absl::OkStatus();
}

}  // namespace

MerkleHash LeafHash(absl::string_view bytes) {
  return Sha256(kLeafPrefix, bytes, {});
}

MerkleHash NodeHash(const MerkleHash& left, const MerkleHash& right) {
  return Sha256(kNodePrefix, View(left), View(right));
}

MerkleHash EmptyTreeHash() {
  static const MerkleHash empty = [] {
    MerkleHash out;
    unsigned int size = 0;
    if (EVP_Digest("", 0, out.data(), &size, EVP_sha256(), nullptr) != 1) {
      std::abort();
    }
    return out;
  }();
  return empty;
}

std::string ToHex(const MerkleHash& hash) {
  return absl::BytesToHexString(View(hash));
}

absl::StatusOr<MerkleHash> InMemorySubtreeHashes::Subtree(
    int level, uint64_t index) const {
  auto it = hashes_.find(std::make_pair(level, index));
  if (it == hashes_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no subtree hash at level ", level, " index ", index));
  }
  return it->second;
}

void InMemorySubtreeHashes::Put(int level, uint64_t index,
                                const MerkleHash& hash) {
  hashes_[std::make_pair(level, index)] = hash;
}

absl::StatusOr<MerkleHash> RootHash(const SubtreeHashSource& source,
                                    uint64_t tree_size) {
  if (tree_size == 0) return EmptyTreeHash();
  return RangeHash(source, 0, tree_size);
}

absl::StatusOr<std::vector<MerkleHash>> InclusionProof(
    const SubtreeHashSource& source, uint64_t index, uint64_t tree_size) {
  if (index >= tree_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf ", index, " is not in a tree of ", tree_size, " leaves"));
  }
  std::vector<MerkleHash> proof;
  RETURN_IF_ERROR(AppendPath(source, index, 0, tree_size, proof));
  return proof;
}

absl::StatusOr<std::vector<MerkleHash>> ConsistencyProof(
    const SubtreeHashSource& source, uint64_t old_size, uint64_t new_size) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("a tree of ", old_size,
                     " leaves cannot be a prefix of one of ", new_size));
  }
  std::vector<MerkleHash> proof;
  if (old_size == 0 || old_size == new_size) return proof;
  RETURN_IF_ERROR(AppendSubproof(source, old_size, 0, new_size, true, proof));
  return proof;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t tree_size,
                             const MerkleHash& leaf_hash,
                             absl::Span<const MerkleHash> proof,
                             const MerkleHash& root) {
  if (index >= tree_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf ", index, " is not in a tree of ", tree_size, " leaves"));
  }
  uint64_t fn = index;
  uint64_t sn = tree_size - 1;
  MerkleHash r = leaf_hash;
  for (const MerkleHash& p : proof) {
    if (sn == 0) {
      return absl::FailedPreconditionError(
          "inclusion proof is longer than the tree is deep");
    }
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::FailedPreconditionError(
        "inclusion proof is shorter than the tree is deep");
  }
  if (r != root) {
    return absl::FailedPreconditionError(
        absl::StrCat("inclusion proof of leaf ", index, " gives root ",
                     ToHex(r), ", not the checkpoint's ", ToHex(root)));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               const MerkleHash& old_root,
                               const MerkleHash& new_root,
                               absl::Span<const MerkleHash> proof) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("a tree of ", old_size,
                     " leaves cannot be a prefix of one of ", new_size));
  }
  if (old_size == 0 || old_size == new_size) {
    if (!proof.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("consistency proof from ", old_size, " to ", new_size,
                       " leaves must be empty"));
    }
    if (old_size == new_size && old_root != new_root) {
      return absl::FailedPreconditionError(absl::StrCat(
          "two trees of ", new_size, " leaves have different roots"));
    }
    return absl::OkStatus();
  }
  if (proof.empty()) {
    return absl::FailedPreconditionError("consistency proof is empty");
  }
  std::vector<MerkleHash> path(proof.begin(), proof.end());
  if (std::has_single_bit(old_size)) path.insert(path.begin(), old_root);
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  MerkleHash fr = path[0];
  MerkleHash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const MerkleHash& c = path[i];
    if (sn == 0) {
      return absl::FailedPreconditionError(
          "consistency proof is longer than the tree is deep");
    }
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::FailedPreconditionError(
        "consistency proof is shorter than the tree is deep");
  }
  if (fr != old_root) {
    return absl::FailedPreconditionError(
        absl::StrCat("consistency proof gives old root ", ToHex(fr), ", not ",
                     ToHex(old_root), ": the log did not only grow"));
  }
  if (sr != new_root) {
    return absl::FailedPreconditionError(
        absl::StrCat("consistency proof gives new root ", ToHex(sr), ", not ",
                     ToHex(new_root)));
  }
  return absl::OkStatus();
}

absl::StatusOr<MerkleFrontier> MerkleFrontier::Load(
    const SubtreeHashSource& source, uint64_t tree_size) {
  MerkleFrontier frontier;
  frontier.size_ = tree_size;
  uint64_t start = 0;
  for (int level = 63; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((tree_size & width) == 0) continue;
    ASSIGN_OR_RETURN(MerkleHash hash, source.Subtree(level, start / width));
    frontier.edge_.push_back({level, hash});
    start += width;
  }
  return frontier;
}

void MerkleFrontier::Append(const MerkleHash& leaf_hash, const EmitFn& emit) {
  emit(0, size_, leaf_hash);
  edge_.push_back({0, leaf_hash});
  ++size_;
  // Two complete subtrees of one level side by side make one of the next.
  while (edge_.size() >= 2 &&
         edge_[edge_.size() - 1].level == edge_[edge_.size() - 2].level) {
    const int level = edge_.back().level + 1;
    MerkleHash joined =
        NodeHash(edge_[edge_.size() - 2].hash, edge_.back().hash);
    edge_.pop_back();
    edge_.back() = {level, joined};
    emit(level, (size_ >> level) - 1, joined);
  }
}

MerkleHash MerkleFrontier::Root() const {
  if (edge_.empty()) return EmptyTreeHash();
  MerkleHash root = edge_.back().hash;
  for (size_t i = edge_.size() - 1; i-- > 0;)
    root = NodeHash(edge_[i].hash, root);
  return root;
}

}  // namespace casetrail::eventstore
