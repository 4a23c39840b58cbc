// casetrail.v1.LogIntegrity end to end: the real casetraild on a loopback
// port, a real gRPC client, and every answer checked the way an auditor would:
// roots only as the signed note states them, proofs with the RFC 9162
// verification functions. Also the signing key's file: created on first start,
// refused when missing or readable by others, taken from --signing_key_file.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "casetrail/v1/integrity.grpc.pb.h"
#include "eventstore/checkpoint.h"
#include "eventstore/event_store.h"
#include "eventstore/merkle.h"
#include "eventstore/signed_note.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/testing/case_events.h"
#include "tests/testing/case_log_client.h"
#include "tests/testing/server_process.h"

namespace casetrail {
namespace {

using casetrail::eventstore::Checkpoint;
using casetrail::eventstore::MerkleHash;
using casetrail::eventstore::NoteSigner;
using casetrail::eventstore::NoteVerifier;
using casetrail::testing::BadRequestFields;
using casetrail::testing::CaseLogClient;
using casetrail::testing::MakeAppendRequest;
using casetrail::testing::MakeCaseEvent;
using casetrail::testing::ReadWholeFile;
using casetrail::testing::ServerProcess;
using casetrail::testing::TempDir;
using casetrail::testing::ToString;
using casetrail::v1::AppendedEvent;
using casetrail::v1::AppendEventsResponse;
using casetrail::v1::CaseEvent;
using casetrail::v1::ExpectedVersion;
using casetrail::v1::GetCheckpointRequest;
using casetrail::v1::GetCheckpointResponse;
using casetrail::v1::GetConsistencyProofRequest;
using casetrail::v1::GetConsistencyProofResponse;
using casetrail::v1::GetInclusionProofRequest;
using casetrail::v1::GetInclusionProofResponse;
using casetrail::v1::LogIntegrity;
using casetrail::v1::RecordedEvent;
using ::testing::HasSubstr;
using ::testing::Optional;

constexpr char kKeyFileName[] = "checkpoint_signing.key";
constexpr uint64_t kMaxSize = std::numeric_limits<uint64_t>::max();

// A 32-byte hash field as a MerkleHash; anything else fails the test.
MerkleHash ToHash(const std::string& bytes) {
  MerkleHash hash{};
  EXPECT_EQ(bytes.size(), hash.size());
  if (bytes.size() == hash.size()) {
    std::copy(bytes.begin(), bytes.end(), hash.begin());
  }
  return hash;
}

std::vector<MerkleHash> ToHashes(
    const google::protobuf::RepeatedPtrField<std::string>& fields) {
  std::vector<MerkleHash> hashes;
  for (const std::string& f : fields) hashes.push_back(ToHash(f));
  return hashes;
}

// The checkpoint in a response, opened with the verifier key served with it.
absl::StatusOr<Checkpoint> OpenServed(const GetCheckpointResponse& response) {
  absl::StatusOr<NoteVerifier> verifier =
      NoteVerifier::FromVerifierKey(response.verifier_key());
  if (!verifier.ok()) return verifier.status();
  return eventstore::OpenCheckpoint(response.checkpoint().signed_note(),
                                    *verifier);
}

// Creates `path` holding `text` with exactly `mode` (whatever the umask).
void WriteFileWithMode(const std::string& path, const std::string& text,
                       mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  ASSERT_EQ(fchmod(fd, mode), 0);
  ASSERT_EQ(close(fd), 0);
}

// How a casetraild that was meant not to start ended: its exit code and its
// stderr, taken apart from ServerProcess's error (whose message also holds
// the command line, so a path in it proves nothing about the log).
struct RefusedStart {
  int exit_code = -1;
  std::string stderr_text;
};

RefusedStart ExpectRefusedStart(const std::string& data_dir,
                                std::vector<std::string> extra_flags) {
  ServerProcess::Options options;
  options.data_dir = data_dir;
  options.extra_flags = std::move(extra_flags);
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(std::move(options));
  RefusedStart refused;
  EXPECT_EQ(server.status().code(), absl::StatusCode::kUnavailable)
      << "expected casetraild to exit before listening; got "
      << server.status();
  if (server.ok()) return refused;
  const std::string message(server.status().message());
  constexpr char kCode[] = "exited with code ";
  constexpr char kStderr[] = "; stderr:\n";
  const size_t code_at = message.find(kCode);
  const size_t stderr_at = message.find(kStderr);
  EXPECT_NE(code_at, std::string::npos) << message;
  EXPECT_NE(stderr_at, std::string::npos) << message;
  if (code_at == std::string::npos || stderr_at == std::string::npos) {
    return refused;
  }
  const size_t digits = code_at + sizeof(kCode) - 1;
  EXPECT_TRUE(absl::SimpleAtoi(
      message.substr(digits, message.find(' ', digits) - digits),
      &refused.exit_code))
      << message;
  refused.stderr_text = message.substr(stderr_at + sizeof(kStderr) - 1);
  return refused;
}

class IntegrityIntegrationTest : public ::testing::Test {
 protected:
  // Starts casetraild on dir_ with `extra_flags`. The interval is off unless a
  // flag sets it, so that the only checkpoints are those issued at start, at
  // stop and on request, and a size the test never issued stays unissued.
  void StartServer(std::vector<std::string> extra_flags = {}) {
    integrity_.reset();
    client_.reset();
    ServerProcess::Options options;
    options.data_dir = dir_.path();
    options.extra_flags = {"--checkpoint_interval=0"};
    options.extra_flags.insert(options.extra_flags.end(), extra_flags.begin(),
                               extra_flags.end());
    auto server = ServerProcess::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<CaseLogClient>(server_->address());
    ASSERT_TRUE(client_->WaitForConnected()) << server_->StderrText();
    integrity_ = LogIntegrity::NewStub(client_->channel());
  }

  // SIGTERMs the server; returns its exit code. Our channel is closed first:
  // an idle channel only sees the server's GOAWAY when gRPC's backup poller
  // runs (every 5 s), and a graceful shutdown waits for it.
  int StopServer() {
    integrity_.reset();
    client_.reset();
    return server_->Stop();
  }

  uint64_t LogSize() {
    absl::StatusOr<uint64_t> size = client_->LogSize();
    EXPECT_TRUE(size.ok()) << size.status();
    return size.value_or(kMaxSize);
  }

  // Appends `n` events with ids "<prefix><i>" over two streams, in appends of
  // 1-4 events. Returns what the server said of each, in position order.
  std::vector<AppendedEvent> AppendN(int n, const std::string& prefix) {
    std::vector<AppendedEvent> appended;
    for (int i = 0; i < n;) {
      std::vector<CaseEvent> events;
      const int batch = std::min(n - i, 1 + i % 4);
      for (int j = 0; j < batch; ++j) {
        events.push_back(MakeCaseEvent(absl::StrCat(prefix, i++)));
      }
      AppendEventsResponse response;
      grpc::Status status = client_->Append(
          MakeAppendRequest(absl::StrCat("case-", i % 2),
                            ExpectedVersion::KIND_ANY, std::move(events)),
          &response);
      EXPECT_TRUE(status.ok()) << ToString(status);
      for (const AppendedEvent& e : response.events()) appended.push_back(e);
    }
    return appended;
  }

  static void SetDeadline(grpc::ClientContext& context) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  }

  grpc::Status GetCheckpoint(const GetCheckpointRequest& request,
                             GetCheckpointResponse* response) {
    grpc::ClientContext context;
    SetDeadline(context);
    return integrity_->GetCheckpoint(&context, request, response);
  }

  grpc::Status GetInclusionProof(uint64_t position, uint64_t tree_size,
                                 GetInclusionProofResponse* response) {
    GetInclusionProofRequest request;
    request.set_position(position);
    request.set_tree_size(tree_size);
    grpc::ClientContext context;
    SetDeadline(context);
    return integrity_->GetInclusionProof(&context, request, response);
  }

  grpc::Status GetConsistencyProof(uint64_t old_size, uint64_t new_size,
                                   GetConsistencyProofResponse* response) {
    GetConsistencyProofRequest request;
    request.set_old_size(old_size);
    request.set_new_size(new_size);
    grpc::ClientContext context;
    SetDeadline(context);
    return integrity_->GetConsistencyProof(&context, request, response);
  }

  GetCheckpointResponse MustGetCheckpoint(const GetCheckpointRequest& request) {
    GetCheckpointResponse response;
    grpc::Status status = GetCheckpoint(request, &response);
    EXPECT_TRUE(status.ok()) << ToString(status);
    return response;
  }
  GetCheckpointResponse Latest() { return MustGetCheckpoint({}); }
  GetCheckpointResponse Issue() {
    GetCheckpointRequest request;
    request.set_issue(true);
    return MustGetCheckpoint(request);
  }
  GetCheckpointResponse AtSize(uint64_t tree_size) {
    GetCheckpointRequest request;
    request.set_tree_size(tree_size);
    return MustGetCheckpoint(request);
  }

  // Opens the served checkpoint and checks that the fields beside the note
  // say what the note says; returns what it says.
  Checkpoint MustOpen(const GetCheckpointResponse& response) {
    absl::StatusOr<Checkpoint> opened = OpenServed(response);
    EXPECT_TRUE(opened.ok()) << opened.status() << "\n"
                             << response.DebugString();
    if (!opened.ok()) return {};
    EXPECT_EQ(response.checkpoint().tree_size(), opened->tree_size);
    EXPECT_EQ(eventstore::ToHex(ToHash(response.checkpoint().root_hash())),
              eventstore::ToHex(opened->root));
    EXPECT_EQ(response.checkpoint().issued_at().seconds(),
              absl::ToUnixSeconds(opened->issued_at));
    return *opened;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<CaseLogClient> client_;
  std::unique_ptr<LogIntegrity::Stub> integrity_;
};

TEST_F(IntegrityIntegrationTest, FirstStartCreatesTheKeyAndAnEmptyCheckpoint) {
  StartServer();
  const std::string key_file = dir_.Sub(kKeyFileName);
  struct stat st;
  ASSERT_EQ(stat(key_file.c_str(), &st), 0) << key_file;
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  const std::string key_text = ReadWholeFile(key_file);

  // Issued at start: the latest exists before anything asked for one.
  GetCheckpointResponse first = Latest();
  const Checkpoint opened = MustOpen(first);
  EXPECT_EQ(opened.tree_size, 0u);
  EXPECT_EQ(eventstore::ToHex(opened.root),
            eventstore::ToHex(eventstore::EmptyTreeHash()));
  EXPECT_EQ(opened.origin, "casetrail.local/log");
  absl::StatusOr<NoteSigner> from_file = NoteSigner::FromSignerKey(key_text);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(first.verifier_key(), from_file->verifier_key());

  AppendN(3, "e");
  ASSERT_EQ(StopServer(), 0) << server_->StderrText();
  StartServer();
  GetCheckpointResponse after_restart = Latest();
  EXPECT_EQ(after_restart.verifier_key(), first.verifier_key());
  EXPECT_EQ(ReadWholeFile(key_file), key_text);
  // The size-0 checkpoint of the first run still opens with the key served now.
  GetCheckpointResponse kept = AtSize(0);
  EXPECT_EQ(kept.checkpoint().signed_note(), first.checkpoint().signed_note());
  MustOpen(after_restart);
}

TEST_F(IntegrityIntegrationTest, IssuedCheckpointCoversTheLogAndIsKept) {
  StartServer();
  AppendN(12, "e");
  ASSERT_EQ(LogSize(), 12u);
  // Without issue=true the latest is returned even though it is behind.
  EXPECT_EQ(MustOpen(Latest()).tree_size, 0u);

  GetCheckpointResponse issued = Issue();
  const Checkpoint opened = MustOpen(issued);
  EXPECT_EQ(opened.tree_size, 12u);
  EXPECT_NE(eventstore::ToHex(opened.root),
            eventstore::ToHex(eventstore::EmptyTreeHash()));

  EXPECT_EQ(AtSize(12).checkpoint().signed_note(),
            issued.checkpoint().signed_note());
  EXPECT_EQ(Latest().checkpoint().signed_note(),
            issued.checkpoint().signed_note());
  // Nothing new to sign: the same note again.
  EXPECT_EQ(Issue().checkpoint().signed_note(),
            issued.checkpoint().signed_note());

  for (uint64_t unissued : {1u, 5u, 11u}) {
    GetCheckpointRequest request;
    request.set_tree_size(unissued);
    GetCheckpointResponse response;
    EXPECT_EQ(GetCheckpoint(request, &response).error_code(),
              grpc::StatusCode::NOT_FOUND)
        << "tree size " << unissued;
  }
  {
    GetCheckpointRequest request;
    request.set_tree_size(Issue().checkpoint().tree_size() + 1);
    GetCheckpointResponse response;
    EXPECT_EQ(GetCheckpoint(request, &response).error_code(),
              grpc::StatusCode::OUT_OF_RANGE);
  }
  // issue=true only ever signs at the current size, so naming a size with it
  // is refused, even size 0 (presence, not value, is what counts).
  for (uint64_t size : {0u, 12u}) {
    GetCheckpointRequest request;
    request.set_tree_size(size);
    request.set_issue(true);
    GetCheckpointResponse response;
    grpc::Status status = GetCheckpoint(request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << ToString(status);
    EXPECT_THAT(BadRequestFields(status),
                Optional(std::vector<std::string>{"issue"}));
  }
  EXPECT_EQ(LogSize(), 12u);
}

TEST_F(IntegrityIntegrationTest, InclusionOfEveryEventVerifiesAgainstTheRoot) {
  StartServer();
  const std::vector<AppendedEvent> appended = AppendN(40, "e");
  ASSERT_EQ(appended.size(), 40u);
  const Checkpoint checkpoint = MustOpen(Issue());
  ASSERT_EQ(checkpoint.tree_size, 40u);

  for (uint64_t position = 0; position < 40; ++position) {
    SCOPED_TRACE(absl::StrCat("position ", position));
    const AppendedEvent& sent = appended[position];
    ASSERT_EQ(sent.position(), position);
    GetInclusionProofResponse proof;
    grpc::Status status = GetInclusionProof(position, 40, &proof);
    ASSERT_TRUE(status.ok()) << ToString(status);
    EXPECT_EQ(proof.position(), position);
    EXPECT_EQ(proof.tree_size(), 40u);
    // The event served is the one stored: its leaf is what the append said.
    const MerkleHash leaf = eventstore::LeafHash(proof.event());
    EXPECT_EQ(eventstore::ToHex(leaf),
              eventstore::ToHex(ToHash(sent.leaf_hash())));
    RecordedEvent recorded;
    ASSERT_TRUE(recorded.ParseFromString(proof.event()));
    EXPECT_EQ(recorded.position(), position);
    EXPECT_EQ(recorded.event().event_id(), sent.event_id());

    const std::vector<MerkleHash> path = ToHashes(proof.hashes());
    EXPECT_TRUE(
        eventstore::VerifyInclusion(position, 40, leaf, path, checkpoint.root)
            .ok());
    // The proof is specific to its leaf: another event's leaf fails it.
    const MerkleHash other = ToHash(appended[(position + 1) % 40].leaf_hash());
    EXPECT_FALSE(
        eventstore::VerifyInclusion(position, 40, other, path, checkpoint.root)
            .ok());
  }
}

TEST_F(IntegrityIntegrationTest, ConsistencyBetweenCheckpointsVerifies) {
  StartServer();
  const Checkpoint at0 = MustOpen(AtSize(0));
  AppendN(10, "a");
  const Checkpoint at10 = MustOpen(Issue());
  AppendN(30, "b");
  const Checkpoint at40 = MustOpen(Issue());
  ASSERT_EQ(at10.tree_size, 10u);
  ASSERT_EQ(at40.tree_size, 40u);

  struct Pair {
    const Checkpoint& old_checkpoint;
    const Checkpoint& new_checkpoint;
  };
  for (const Pair& pair : {Pair{at10, at40}, Pair{at40, at40}, Pair{at10, at10},
                           Pair{at0, at40}}) {
    const uint64_t old_size = pair.old_checkpoint.tree_size;
    const uint64_t new_size = pair.new_checkpoint.tree_size;
    SCOPED_TRACE(absl::StrCat(old_size, " -> ", new_size));
    GetConsistencyProofResponse proof;
    grpc::Status status = GetConsistencyProof(old_size, new_size, &proof);
    ASSERT_TRUE(status.ok()) << ToString(status);
    EXPECT_EQ(proof.old_size(), old_size);
    EXPECT_EQ(proof.new_size(), new_size);
    absl::Status verified = eventstore::VerifyConsistency(
        old_size, new_size, pair.old_checkpoint.root, pair.new_checkpoint.root,
        ToHashes(proof.hashes()));
    EXPECT_TRUE(verified.ok()) << verified;
  }
  // The proof ties the two roots together: another old root fails it.
  GetConsistencyProofResponse proof;
  ASSERT_TRUE(GetConsistencyProof(10, 40, &proof).ok());
  EXPECT_FALSE(eventstore::VerifyConsistency(10, 40, at40.root, at40.root,
                                             ToHashes(proof.hashes()))
                   .ok());
}

TEST_F(IntegrityIntegrationTest, ImpossibleProofRequestsAreRefused) {
  StartServer();
  AppendN(5, "e");
  const std::string latest_note = Issue().checkpoint().signed_note();
  struct Case {
    std::string name;
    bool inclusion;  // else consistency
    uint64_t a;      // position, or old_size
    uint64_t b;      // tree_size, or new_size
    grpc::StatusCode code;
  };
  const std::vector<Case> cases = {
      {"InclusionTreeSizeEqualsPosition", true, 3, 3,
       grpc::StatusCode::INVALID_ARGUMENT},
      {"InclusionEmptyTree", true, 0, 0, grpc::StatusCode::INVALID_ARGUMENT},
      {"InclusionTreeSizeBelowPosition", true, 4, 2,
       grpc::StatusCode::INVALID_ARGUMENT},
      {"InclusionPositionBeyondLog", true, 9, 2,
       grpc::StatusCode::INVALID_ARGUMENT},
      {"InclusionTreeOneBeyondLog", true, 0, 6, grpc::StatusCode::OUT_OF_RANGE},
      {"InclusionOfTheNextPosition", true, 5, 6,
       grpc::StatusCode::OUT_OF_RANGE},
      {"InclusionLargestTree", true, kMaxSize - 1, kMaxSize,
       grpc::StatusCode::OUT_OF_RANGE},
      {"ConsistencyOldAboveNew", false, 4, 3,
       grpc::StatusCode::INVALID_ARGUMENT},
      {"ConsistencyOldAboveNewBeyondLog", false, 9, 6,
       grpc::StatusCode::INVALID_ARGUMENT},
      {"ConsistencyNewOneBeyondLog", false, 5, 6,
       grpc::StatusCode::OUT_OF_RANGE},
      {"ConsistencyFromEmptyBeyondLog", false, 0, 6,
       grpc::StatusCode::OUT_OF_RANGE},
      {"ConsistencyBothBeyondLog", false, 6, 7, grpc::StatusCode::OUT_OF_RANGE},
      {"ConsistencyLargestTree", false, 1, kMaxSize,
       grpc::StatusCode::OUT_OF_RANGE},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    grpc::Status status;
    if (c.inclusion) {
      GetInclusionProofResponse response;
      status = GetInclusionProof(c.a, c.b, &response);
    } else {
      GetConsistencyProofResponse response;
      status = GetConsistencyProof(c.a, c.b, &response);
    }
    EXPECT_EQ(status.error_code(), c.code) << ToString(status);
    // Nothing written: no event, and no checkpoint signed on the way.
    EXPECT_EQ(LogSize(), 5u);
    EXPECT_EQ(Latest().checkpoint().signed_note(), latest_note);
  }
}

TEST_F(IntegrityIntegrationTest, MissingSigningKeyFileRefusesToStart) {
  TempDir keys;
  const std::string key_file = keys.Sub("absent.key");
  const RefusedStart refused =
      ExpectRefusedStart(dir_.path(), {"--signing_key_file=" + key_file});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.exit_code, -1);
  EXPECT_THAT(refused.stderr_text, HasSubstr(key_file));
  // A key named on the command line is never made up.
  EXPECT_NE(access(key_file.c_str(), F_OK), 0);
  EXPECT_NE(access(dir_.Sub(kKeyFileName).c_str(), F_OK), 0);
}

TEST_F(IntegrityIntegrationTest, KeyFileReadableByOthersRefusesToStart) {
  TempDir keys;
  const std::string key_file = keys.Sub("log.key");
  absl::StatusOr<NoteSigner> signer = NoteSigner::Generate("test.example/log");
  ASSERT_TRUE(signer.ok()) << signer.status();
  WriteFileWithMode(key_file, signer->signer_key() + "\n", 0644);
  const RefusedStart refused =
      ExpectRefusedStart(dir_.path(), {"--signing_key_file=" + key_file});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.exit_code, -1);
  EXPECT_THAT(refused.stderr_text, HasSubstr("chmod 600"));
  EXPECT_THAT(refused.stderr_text, HasSubstr(key_file));
}

TEST_F(IntegrityIntegrationTest, KeyFileFromTheFlagIsTheOneServed) {
  TempDir keys;
  const std::string key_file = keys.Sub("log.key");
  absl::StatusOr<NoteSigner> signer = NoteSigner::Generate("test.example/log");
  ASSERT_TRUE(signer.ok()) << signer.status();
  WriteFileWithMode(key_file, signer->signer_key() + "\n", 0600);
  StartServer({"--signing_key_file=" + key_file});
  AppendN(4, "e");
  GetCheckpointResponse issued = Issue();
  EXPECT_EQ(issued.verifier_key(), signer->verifier_key());
  const Checkpoint opened = MustOpen(issued);
  EXPECT_EQ(opened.origin, "test.example/log");
  EXPECT_EQ(opened.tree_size, 4u);
  // Checked with our copy of the key, not only with the one served.
  absl::StatusOr<NoteVerifier> ours =
      NoteVerifier::FromVerifierKey(signer->verifier_key());
  ASSERT_TRUE(ours.ok()) << ours.status();
  EXPECT_TRUE(
      eventstore::OpenCheckpoint(issued.checkpoint().signed_note(), *ours)
          .ok());
  // With a key given, none is generated in the data dir.
  EXPECT_NE(access(dir_.Sub(kKeyFileName).c_str(), F_OK), 0);
}

TEST_F(IntegrityIntegrationTest, SigtermIssuesACheckpointCoveringEveryAppend) {
  StartServer();
  AppendN(23, "e");
  ASSERT_EQ(StopServer(), 0) << server_->StderrText();

  // Look in the stopped server's store before a restart could issue anything:
  // the latest checkpoint there was signed at stop (the interval is off and
  // none was requested) and covers every append.
  std::string note_at_stop;
  {
    eventstore::StoreOptions options;
    options.path = dir_.path();
    auto store = eventstore::EventStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    auto latest = (*store)->LatestCheckpoint();
    ASSERT_TRUE(latest.ok()) << latest.status();
    EXPECT_EQ(latest->first, 23u);
    note_at_stop = latest->second;
  }
  absl::StatusOr<NoteSigner> signer =
      eventstore::LoadSignerKeyFile(dir_.Sub(kKeyFileName));
  ASSERT_TRUE(signer.ok()) << signer.status();
  absl::StatusOr<NoteVerifier> verifier =
      NoteVerifier::FromVerifierKey(signer->verifier_key());
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  absl::StatusOr<Checkpoint> opened =
      eventstore::OpenCheckpoint(note_at_stop, *verifier);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->tree_size, 23u);

  // The restarted server serves that very note: it already covered the log.
  StartServer();
  EXPECT_EQ(LogSize(), 23u);
  GetCheckpointResponse latest = Latest();
  EXPECT_EQ(MustOpen(latest).tree_size, 23u);
  EXPECT_EQ(latest.checkpoint().signed_note(), note_at_stop);
}

}  // namespace
}  // namespace casetrail
