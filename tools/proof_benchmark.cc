// Latency of the log's proofs on a large store: inclusion and consistency
// proofs against the whole log, at random positions and sizes, each verified.
//
// Store mode (default) calls the EventStore API, which the LogIntegrity RPCs
// call. It fills the store first if it holds fewer than --events events (with
// sync off and large appends, since only the size matters here). Server mode
// (--server) asks a running casetraild over gRPC instead, the way an auditor's
// client does. Prints p50/p99/max per operation. Run:
//   build/tools/proof_benchmark --data_dir=/tmp/proofbench --events=10000000
//   build/tools/proof_benchmark --server=127.0.0.1:50051

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "casetrail/v1/event.pb.h"
#include "casetrail/v1/integrity.grpc.pb.h"
#include "eventstore/event_store.h"
#include "eventstore/merkle.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, data_dir, "/tmp/casetrail-proof-benchmark",
          "Store directory (kept between runs).");
ABSL_FLAG(uint64_t, events, 10000000, "Fill the store to this many events.");
ABSL_FLAG(int, payload_bytes, 200, "Payload size of the filler events.");
ABSL_FLAG(int, samples, 5000, "Proofs of each kind to time.");
ABSL_FLAG(
    std::string, server, "",
    "Time the LogIntegrity RPCs of this casetraild instead of the store.");

namespace casetrail::eventstore {
namespace {

void Fill(EventStore& store, uint64_t target, int payload_bytes) {
  constexpr int kPerAppend = 1000;
  constexpr int kInFlight = 8;
  const absl::Time start = absl::Now();
  const uint64_t initial = store.LogSize();
  uint64_t next_id = initial;
  while (store.LogSize() < target) {
    const int appends = static_cast<int>(std::min<uint64_t>(
        kInFlight, (target - store.LogSize() + kPerAppend - 1) / kPerAppend));
    absl::BlockingCounter done(appends);
    for (int a = 0; a < appends; ++a) {
      AppendRequest request;
      request.stream_id = absl::StrCat("case-", next_id % 5000);
      for (int i = 0; i < kPerAppend; ++i) {
        casetrail::v1::CaseEvent event;
        event.set_event_id(absl::StrCat("bench-", next_id++));
        event.set_stream_id(request.stream_id);
        event.set_event_type("ContactReceived");
        event.mutable_opaque()->set_content_type("application/octet-stream");
        event.mutable_opaque()->set_data(std::string(payload_bytes, 'x'));
        request.events.push_back({event.event_id(), event.SerializeAsString()});
      }
      store.AppendAsync(std::move(request),
                        [&done](absl::StatusOr<AppendResult> r) {
                          if (!r.ok()) {
                            std::fprintf(stderr, "append failed: %s\n",
                                         r.status().ToString().c_str());
                            std::abort();
                          }
                          done.DecrementCount();
                        });
    }
    done.Wait();
    if (store.LogSize() / 1000000 !=
        (store.LogSize() - appends * kPerAppend) / 1000000) {
      std::fprintf(stderr, "filled %llu events\n",
                   static_cast<unsigned long long>(store.LogSize()));
    }
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (store.LogSize() > initial) {
    std::printf("filled %llu events in %.0f s\n",
                static_cast<unsigned long long>(store.LogSize() - initial),
                seconds);
  }
}

struct Stats {
  std::vector<double> micros;
  void Print(const char* name) {
    std::sort(micros.begin(), micros.end());
    auto at = [&](double q) {
      return micros[std::min(micros.size() - 1,
                             static_cast<size_t>(q * micros.size()))];
    };
    std::printf("%-22s n=%zu  p50 %7.1f us  p99 %7.1f us  max %7.1f us\n", name,
                micros.size(), at(0.50), at(0.99), micros.back());
  }
};

template <typename F>
double TimeMicros(F&& f) {
  const absl::Time start = absl::Now();
  f();
  return absl::ToDoubleMicroseconds(absl::Now() - start);
}

MerkleHash FromBytes(const std::string& bytes) {
  MerkleHash h{};
  if (bytes.size() == h.size())
    std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

std::vector<MerkleHash> FromBytes(
    const google::protobuf::RepeatedPtrField<std::string>& in) {
  std::vector<MerkleHash> out;
  for (const std::string& b : in) out.push_back(FromBytes(b));
  return out;
}

int RunAgainstServer(const std::string& address) {
  auto stub = casetrail::v1::LogIntegrity::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  casetrail::v1::GetCheckpointResponse latest;
  {
    grpc::ClientContext context;
    casetrail::v1::GetCheckpointRequest request;
    request.set_issue(true);
    grpc::Status s = stub->GetCheckpoint(&context, request, &latest);
    if (!s.ok()) {
      std::fprintf(stderr, "GetCheckpoint: %s\n", s.error_message().c_str());
      return 1;
    }
  }
  const uint64_t size = latest.checkpoint().tree_size();
  const MerkleHash root = FromBytes(latest.checkpoint().root_hash());
  std::printf("server %s, checkpoint at tree size %llu\n", address.c_str(),
              static_cast<unsigned long long>(size));
  // Inclusion proofs are verified against the checkpoint's root. Consistency
  // proofs are only timed: verifying one needs the old size's root, which the
  // server gives only in checkpoints (store mode verifies them all).
  std::mt19937_64 rng(42);
  Stats inclusion, consistency;
  for (int i = 0; i < absl::GetFlag(FLAGS_samples); ++i) {
    casetrail::v1::GetInclusionProofRequest request;
    request.set_position(rng() % size);
    request.set_tree_size(size);
    casetrail::v1::GetInclusionProofResponse proof;
    grpc::Status s;
    inclusion.micros.push_back(TimeMicros([&] {
      grpc::ClientContext context;
      s = stub->GetInclusionProof(&context, request, &proof);
    }));
    if (!s.ok() ||
        !VerifyInclusion(request.position(), size, LeafHash(proof.event()),
                         FromBytes(proof.hashes()), root)
             .ok()) {
      std::fprintf(stderr, "inclusion proof of %llu failed\n",
                   static_cast<unsigned long long>(request.position()));
      return 1;
    }
    casetrail::v1::GetConsistencyProofRequest crequest;
    crequest.set_old_size(1 + rng() % (size - 1));
    crequest.set_new_size(size);
    casetrail::v1::GetConsistencyProofResponse cproof;
    consistency.micros.push_back(TimeMicros([&] {
      grpc::ClientContext context;
      s = stub->GetConsistencyProof(&context, crequest, &cproof);
    }));
    if (!s.ok() || cproof.hashes_size() == 0) {
      std::fprintf(stderr, "consistency proof from %llu failed\n",
                   static_cast<unsigned long long>(crequest.old_size()));
      return 1;
    }
  }
  inclusion.Print("inclusion RPC");
  consistency.Print("consistency RPC");
  return 0;
}

int Run() {
  if (!absl::GetFlag(FLAGS_server).empty()) {
    return RunAgainstServer(absl::GetFlag(FLAGS_server));
  }
  StoreOptions options;
  options.path = absl::GetFlag(FLAGS_data_dir);
  options.sync = false;
  auto store = EventStore::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  Fill(**store, absl::GetFlag(FLAGS_events),
       absl::GetFlag(FLAGS_payload_bytes));
  const uint64_t size = (*store)->LogSize();
  const MerkleHash root = *(*store)->RootHash(size);
  std::printf("tree size %llu, root %s\n",
              static_cast<unsigned long long>(size), ToHex(root).c_str());

  std::mt19937_64 rng(42);
  Stats inclusion, consistency, roots;
  for (int i = 0; i < absl::GetFlag(FLAGS_samples); ++i) {
    const uint64_t position = rng() % size;
    absl::StatusOr<std::vector<MerkleHash>> proof;
    std::string event;
    inclusion.micros.push_back(TimeMicros([&] {
      proof = (*store)->InclusionProof(position, size);
      event = *(*store)->ReadEvent(position);
    }));
    if (!proof.ok() ||
        !VerifyInclusion(position, size, LeafHash(event), *proof, root).ok()) {
      std::fprintf(stderr, "inclusion proof of %llu failed\n",
                   static_cast<unsigned long long>(position));
      return 1;
    }

    const uint64_t old_size = 1 + rng() % (size - 1);
    absl::StatusOr<MerkleHash> old_root;
    roots.micros.push_back(
        TimeMicros([&] { old_root = (*store)->RootHash(old_size); }));
    absl::StatusOr<std::vector<MerkleHash>> cproof;
    consistency.micros.push_back(TimeMicros(
        [&] { cproof = (*store)->ConsistencyProof(old_size, size); }));
    if (!old_root.ok() || !cproof.ok() ||
        !VerifyConsistency(old_size, size, *old_root, root, *cproof).ok()) {
      std::fprintf(stderr, "consistency proof from %llu failed\n",
                   static_cast<unsigned long long>(old_size));
      return 1;
    }
  }
  inclusion.Print("inclusion (+ event)");
  consistency.Print("consistency");
  roots.Print("root at a size");
  return 0;
}

}  // namespace
}  // namespace casetrail::eventstore

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return casetrail::eventstore::Run();
}
