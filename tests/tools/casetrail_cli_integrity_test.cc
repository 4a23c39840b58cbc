// The casetrail CLI's integrity commands end to end, as an auditor and an
// operator use them: the real casetraild on a loopback port, events appended
// over gRPC, and the real casetrail binary run as a subprocess, judged by its
// exit code and output. Checkpoints and proofs fetched while the server runs
// verify after it is gone; forged or swapped inputs are refused with the
// reason; `verify data-dir` finds and locates tampering in a stopped server's
// data directory; and casetraild refuses to serve a log whose newest event was
// changed.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "casetrail/v1/case_log.pb.h"
#include "casetrail/v1/integrity.pb.h"
#include "eventstore/checkpoint.h"
#include "eventstore/internal/merkle_store.h"
#include "eventstore/keys.h"
#include "eventstore/merkle.h"
#include "eventstore/signed_note.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "tests/testing/case_events.h"
#include "tests/testing/case_log_client.h"
#include "tests/testing/cli_process.h"
#include "tests/testing/event_store_fixture.h"
#include "tests/testing/server_process.h"

namespace casetrail {
namespace {

using casetrail::testing::CaseLogClient;
using casetrail::testing::CliResult;
using casetrail::testing::ColumnFamilies;
using casetrail::testing::Describe;
using casetrail::testing::EditRocksDb;
using casetrail::testing::MakeAppendRequest;
using casetrail::testing::MakeCaseEvent;
using casetrail::testing::ReadWholeFile;
using casetrail::testing::RunCasetrail;
using casetrail::testing::ServerProcess;
using casetrail::testing::TempDir;
using casetrail::testing::ToString;
using casetrail::testing::WriteWholeFile;
using casetrail::v1::ExpectedVersion;
using eventstore::Checkpoint;
using eventstore::EventKey;
using eventstore::MerkleHash;
using eventstore::MerkleKey;
using ::testing::HasSubstr;
using ::testing::Not;

// casetraild's default --log_origin, which names its generated key.
constexpr char kOrigin[] = "casetrail.local/log";

std::string Bytes(const MerkleHash& hash) {
  return std::string(reinterpret_cast<const char*>(hash.data()), hash.size());
}

// Serialises a proof the way `casetrail prove` writes it (proto JSON).
std::string ProofJson(const google::protobuf::Message& proof) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(proof, &json, options).ok());
  return json;
}

template <typename Proof>
Proof ParseProofFile(const std::string& path) {
  Proof proof;
  const auto status =
      google::protobuf::util::JsonStringToMessage(ReadWholeFile(path), &proof);
  EXPECT_TRUE(status.ok()) << path << ": " << status.ToString();
  return proof;
}

// Starts casetraild on `data_dir`. Checkpoints are then issued only at start,
// on request and at stop, so a test knows which ones the store holds.
std::unique_ptr<ServerProcess> StartServer(const std::string& data_dir) {
  ServerProcess::Options options;
  options.data_dir = data_dir;
  options.extra_flags = {"--checkpoint_interval=0"};
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(std::move(options));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

// Appends `n` events in appends of 1-`max_batch` events over three streams,
// and records each event's id by position in `ids` (which holds the events
// appended before). Ids are unique across calls: a repeated id would be
// deduplicated rather than appended.
void AppendEvents(CaseLogClient& client, uint64_t n, uint64_t max_batch,
                  std::map<uint64_t, std::string>* ids) {
  const uint64_t target = ids->size() + n;
  for (uint64_t k = 0; ids->size() < target; ++k) {
    const uint64_t batch =
        std::min<uint64_t>(target - ids->size(), 1 + (k * 37) % max_batch);
    std::vector<casetrail::v1::CaseEvent> events;
    for (uint64_t j = 0; j < batch; ++j) {
      events.push_back(MakeCaseEvent(absl::StrCat("evt-", ids->size() + j),
                                     testing::kDefaultEventType,
                                     absl::StrCat("{\"n\": ", k, "}")));
    }
    casetrail::v1::AppendEventsResponse response;
    const grpc::Status status =
        client.Append(MakeAppendRequest(absl::StrCat("case-", k % 3),
                                        ExpectedVersion::KIND_ANY, events),
                      &response);
    ASSERT_TRUE(status.ok()) << ToString(status);
    ASSERT_EQ(response.events_size(), static_cast<int>(batch));
    for (const auto& e : response.events()) {
      ASSERT_EQ(e.position(), ids->size());
      (*ids)[e.position()] = e.event_id();
    }
  }
}

// AppendEvents over a client of its own, closed on return: casetraild's
// graceful stop otherwise waits about 5 s for the idle connection, which no
// thread of this process polls.
void AppendEvents(const ServerProcess& server, uint64_t n, uint64_t max_batch,
                  std::map<uint64_t, std::string>* ids) {
  CaseLogClient client(server.address());
  ASSERT_TRUE(client.WaitForConnected()) << server.StderrText();
  AppendEvents(client, n, max_batch, ids);
}

// The key from `casetrail key show` output ("verifier key  <key>" line).
std::string VerifierKeyLine(const std::string& out) {
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (absl::ConsumePrefix(&line, "verifier key")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  ADD_FAILURE() << "no \"verifier key\" line in:\n" << out;
  return "";
}

// --- The auditor's flow, and what it refuses ---

class CliAuditorTest : public ::testing::Test {
 protected:
  // What an auditor keeps: two checkpoints and proofs between them, fetched
  // with the CLI from a running server, and the log's verifier key. Stops the
  // server, so everything after runs offline.
  void Publish() {
    std::unique_ptr<ServerProcess> server = StartServer(dir_.Sub("data"));
    ASSERT_NE(server, nullptr);
    server_address_ = server->address();
    const std::string at_server = "--server=" + server->address();

    std::map<uint64_t, std::string> ids;
    ASSERT_NO_FATAL_FAILURE(AppendEvents(*server, 20, 6, &ids));
    CliResult r = RunCasetrail(
        {at_server, "checkpoint", "--issue", "--out=" + checkpoint_a_});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);

    r = RunCasetrail({at_server, "key", "show"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    key_ = VerifierKeyLine(r.out);
    ASSERT_THAT(key_, HasSubstr(kOrigin));
    // The key an auditor is given is the one the server signs with, as its
    // operator sees it in the server's log.
    EXPECT_THAT(server->StderrText(), HasSubstr("checkpoint key " + key_));
    ASSERT_NO_FATAL_FAILURE(WriteWholeFile(key_file_, key_ + "\n"));

    ASSERT_NO_FATAL_FAILURE(AppendEvents(*server, 30, 9, &ids));
    r = RunCasetrail(
        {at_server, "checkpoint", "--issue", "--out=" + checkpoint_b_});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    r = RunCasetrail({at_server, "prove", "consistency",
                      "--old=" + checkpoint_a_, "--new=" + checkpoint_b_,
                      "--out=" + consistency_proof_});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    r = RunCasetrail({at_server, "prove", "inclusion", "7",
                      "--checkpoint=" + checkpoint_a_,
                      "--out=" + inclusion_proof_});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    event_id_at_7_ = ids[7];

    // The files are what they claim, so a later refusal is about the forgery
    // a test makes, not about a file that was wrong to begin with.
    note_a_ = ReadWholeFile(checkpoint_a_);
    absl::StatusOr<Checkpoint> a =
        eventstore::ParseCheckpointNoteUnverified(note_a_);
    ASSERT_TRUE(a.ok()) << a.status() << "\n" << note_a_;
    EXPECT_EQ(a->tree_size, 20u);
    EXPECT_EQ(a->origin, kOrigin);
    absl::StatusOr<Checkpoint> b =
        eventstore::ParseCheckpointNoteUnverified(ReadWholeFile(checkpoint_b_));
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(b->tree_size, 50u);
    checkpoint_a_parsed_ = *a;

    EXPECT_EQ(server->Stop(), 0) << server->StderrText();
    // The server is really gone: a command that needs it cannot reach it.
    r = RunCasetrail({at_server, "--timeout=5", "info"});
    ASSERT_EQ(r.exit_code, 3) << Describe(r);
  }

  // `casetrail verify ...` pointed at the stopped server, so a verify that
  // tried to use it would fail.
  CliResult Verify(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server=" + server_address_, "verify"});
    return RunCasetrail(args);
  }

  TempDir dir_;
  const std::string checkpoint_a_ = dir_.Sub("a.checkpoint");
  const std::string checkpoint_b_ = dir_.Sub("b.checkpoint");
  const std::string consistency_proof_ = dir_.Sub("a-b.consistency.json");
  const std::string inclusion_proof_ = dir_.Sub("7-in-a.inclusion.json");
  const std::string key_file_ = dir_.Sub("log.vkey");
  std::string server_address_;
  std::string key_;
  std::string note_a_;
  Checkpoint checkpoint_a_parsed_;
  std::string event_id_at_7_;
};

TEST_F(CliAuditorTest, ProofsFetchedOnlineVerifyOfflineAfterTheServerStops) {
  ASSERT_NO_FATAL_FAILURE(Publish());

  CliResult r =
      Verify({"consistency", "--old=" + checkpoint_a_, "--new=" + checkpoint_b_,
              "--proof=" + consistency_proof_, "--key=" + key_});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("OK: the log only grew: its first 20 events "
                               "are unchanged"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(kOrigin, " at tree size 50")));

  // The key given as a file this time.
  r = Verify({"inclusion", "--proof=" + inclusion_proof_,
              "--checkpoint=" + checkpoint_a_, "--key=" + key_file_});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("OK: event " + event_id_at_7_ + " ("));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("is at position 7 of ", kOrigin,
                                            " at tree size 20")));

  r = Verify({"checkpoint", "--checkpoint=" + checkpoint_b_, "--key=" + key_});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("OK: checkpoint of ", kOrigin,
                                            " at tree size 50")));
}

TEST_F(CliAuditorTest, RefusesForgedProofsAndCheckpointsSayingWhy) {
  ASSERT_NO_FATAL_FAILURE(Publish());
  const std::string consistency = "--proof=" + consistency_proof_;
  const std::string key = "--key=" + key_;

  // A checkpoint with another root: the log's signature no longer covers it.
  {
    SCOPED_TRACE("root line changed");
    std::vector<std::string> lines = absl::StrSplit(note_a_, '\n');
    ASSERT_GT(lines.size(), 3u);
    const std::string forged_root =
        absl::Base64Escape(Bytes(eventstore::LeafHash("another tree")));
    ASSERT_NE(lines[2], forged_root);
    lines[2] = forged_root;
    const std::string forged = dir_.Sub("forged-root.checkpoint");
    ASSERT_NO_FATAL_FAILURE(WriteWholeFile(forged, absl::StrJoin(lines, "\n")));
    CliResult r = Verify({"checkpoint", "--checkpoint=" + forged, key});
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("does not verify"));
    r = Verify({"inclusion", "--proof=" + inclusion_proof_,
                "--checkpoint=" + forged, key});
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("does not verify"));
  }

  // The same checkpoint signed by another key of the same name: well formed
  // and validly signed (its own key accepts it), but not by the log's key.
  {
    SCOPED_TRACE("signed by another key");
    absl::StatusOr<eventstore::NoteSigner> other =
        eventstore::NoteSigner::Generate(kOrigin);
    ASSERT_TRUE(other.ok()) << other.status();
    absl::StatusOr<std::string> note =
        eventstore::SignCheckpoint(checkpoint_a_parsed_, *other);
    ASSERT_TRUE(note.ok()) << note.status();
    const std::string forged = dir_.Sub("other-key.checkpoint");
    ASSERT_NO_FATAL_FAILURE(WriteWholeFile(forged, *note));
    CliResult r = Verify({"checkpoint", "--checkpoint=" + forged, key});
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    // The log's key by name and key id (the key's base64 may hold a '+').
    EXPECT_THAT(r.err, HasSubstr("not signed by " +
                                 key_.substr(0, key_.find('+') + 9)));
    r = Verify({"checkpoint", "--checkpoint=" + forged,
                "--key=" + other->verifier_key()});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
  }

  // Inclusion proofs edited: one path hash, or the proven event's bytes.
  {
    const auto proof = ParseProofFile<casetrail::v1::GetInclusionProofResponse>(
        inclusion_proof_);
    ASSERT_GT(proof.hashes_size(), 0);
    ASSERT_FALSE(proof.event().empty());
    struct Edit {
      std::string name;
      std::function<void(casetrail::v1::GetInclusionProofResponse&)> apply;
      int exit_code;
    };
    const std::vector<Edit> edits = {
        // The proof as written back by this test, unchanged, still verifies:
        // the refusals below are the edits', not the rewriting's.
        {"unchanged", [](auto&) {}, 0},
        {"one hash changed", [](auto& p) { (*p.mutable_hashes(0))[0] ^= 1; },
         1},
        // The lowest bit of the last byte ends a field's value, so the event
        // still parses: only the hash can tell.
        {"event bytes changed", [](auto& p) { p.mutable_event()->back() ^= 1; },
         1},
    };
    for (const Edit& edit : edits) {
      SCOPED_TRACE(edit.name);
      casetrail::v1::GetInclusionProofResponse edited = proof;
      edit.apply(edited);
      const std::string path = dir_.Sub("edited.inclusion.json");
      ASSERT_NO_FATAL_FAILURE(WriteWholeFile(path, ProofJson(edited)));
      CliResult r = Verify({"inclusion", "--proof=" + path,
                            "--checkpoint=" + checkpoint_a_, key});
      EXPECT_EQ(r.exit_code, edit.exit_code) << Describe(r);
      if (edit.exit_code != 0) {
        EXPECT_THAT(r.err, HasSubstr("NOT VERIFIED"));
        EXPECT_THAT(r.err, HasSubstr("not proven to be at position 7"));
      }
    }
  }

  // The checkpoints in the wrong order.
  {
    SCOPED_TRACE("old and new swapped");
    CliResult r = Verify({"consistency", "--old=" + checkpoint_b_,
                          "--new=" + checkpoint_a_, consistency, key});
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("smaller"));
  }

  // Two checkpoints of one size with different roots. The log's key cannot
  // be made to sign a rewrite, so a test key signs both; with the same root
  // the same key and proof pass, so the root is what is refused.
  {
    SCOPED_TRACE("same size, different roots");
    absl::StatusOr<eventstore::NoteSigner> test_key =
        eventstore::NoteSigner::Generate(kOrigin);
    ASSERT_TRUE(test_key.ok()) << test_key.status();
    Checkpoint first = checkpoint_a_parsed_;
    Checkpoint same_root = first;
    same_root.issued_at += absl::Minutes(5);
    Checkpoint rewritten = same_root;
    rewritten.root = eventstore::LeafHash("a rewritten log");
    casetrail::v1::GetConsistencyProofResponse proof;
    proof.set_old_size(first.tree_size);
    proof.set_new_size(first.tree_size);
    const std::string proof_path = dir_.Sub("same-size.consistency.json");
    ASSERT_NO_FATAL_FAILURE(WriteWholeFile(proof_path, ProofJson(proof)));
    int n = 0;
    auto write = [&](const Checkpoint& c) {
      absl::StatusOr<std::string> note =
          eventstore::SignCheckpoint(c, *test_key);
      EXPECT_TRUE(note.ok()) << note.status();
      const std::string path = dir_.Sub(absl::StrCat("test-key-", n++));
      WriteWholeFile(path, note.value_or(""));
      return path;
    };
    const std::string first_path = write(first);
    const std::string test_vkey = "--key=" + test_key->verifier_key();
    CliResult r = Verify({"consistency", "--old=" + first_path,
                          "--new=" + write(same_root), "--proof=" + proof_path,
                          test_vkey});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    r = Verify({"consistency", "--old=" + first_path,
                "--new=" + write(rewritten), "--proof=" + proof_path,
                test_vkey});
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("rewritten"));
  }

  {
    SCOPED_TRACE("no --key");
    CliResult r = Verify({"inclusion", "--proof=" + inclusion_proof_,
                          "--checkpoint=" + checkpoint_a_});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("--key is required"));
  }
}

// --- `verify data-dir` and casetraild's own check, on a real data dir ---

// Even, so every event is under a stored level-1 hash, and above 512, so
// subtrees up to level 9 are stored.
constexpr uint64_t kStoreSize = 1000;

// `key show` against a server reads the key from the latest checkpoint: it
// issues none, so the latest stays the one signed at start, and the log is
// unchanged.
TEST(CliKeyShowTest, KeyShowFromTheServerWritesNothing) {
  TempDir dir;
  std::unique_ptr<ServerProcess> server = StartServer(dir.Sub("data"));
  ASSERT_NE(server, nullptr);
  const std::string at_server = "--server=" + server->address();
  std::map<uint64_t, std::string> ids;
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*server, 5, 2, &ids));
  CaseLogClient client(server->address());
  const absl::StatusOr<uint64_t> size_before = client.LogSize();
  ASSERT_TRUE(size_before.ok()) << size_before.status();
  CliResult before = RunCasetrail({at_server, "checkpoint"});
  ASSERT_EQ(before.exit_code, 0) << Describe(before);
  // Signed at start, before the appends.
  EXPECT_THAT(before.out, HasSubstr("\n0\n")) << before.out;

  CliResult r = RunCasetrail({at_server, "key", "show"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(VerifierKeyLine(r.out), HasSubstr(kOrigin));

  CliResult after = RunCasetrail({at_server, "checkpoint"});
  ASSERT_EQ(after.exit_code, 0) << Describe(after);
  EXPECT_EQ(after.out, before.out);
  EXPECT_EQ(client.LogSize().value_or(0), *size_before);
}

// Flips the lowest bit of the event's last byte; see the inclusion proof edit
// above for why the bytes still parse.
void FlipLastByte(rocksdb::DB* db, ColumnFamilies& cfs, uint64_t position) {
  std::string value;
  ASSERT_TRUE(db->Get({}, cfs.at("events"), EventKey(position), &value).ok());
  value.back() ^= 1;
  ASSERT_TRUE(db->Put({}, cfs.at("events"), EventKey(position), value).ok());
}

class CliDataDirTest : public ::testing::Test {
 protected:
  // One store of kStoreSize events, written by casetraild and stopped, for
  // the whole suite: each test copies it rather than appending again.
  struct SharedStore {
    TempDir dir;
    std::string verifier_key;
  };

  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }

  void SetUp() override {
    if (shared_ == nullptr) {
      ASSERT_NO_FATAL_FAILURE(BuildStore());
    }
  }

  static void BuildStore() {
    auto store = std::make_unique<SharedStore>();
    const std::string path = store->dir.Sub("data");
    std::unique_ptr<ServerProcess> server = StartServer(path);
    ASSERT_NE(server, nullptr);
    std::map<uint64_t, std::string> ids;
    ASSERT_NO_FATAL_FAILURE(AppendEvents(*server, kStoreSize, 90, &ids));
    // SIGTERM: the server drains, signs a checkpoint of the whole log and
    // closes the store.
    ASSERT_EQ(server->Stop(), 0) << server->StderrText();
    CliResult r = RunCasetrail(
        {"key", "show", "--key_file=" + path + "/checkpoint_signing.key"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    store->verifier_key = VerifierKeyLine(r.out);
    shared_ = store.release();
  }

  static std::string StorePath() { return shared_->dir.Sub("data"); }

  // A copy of the stopped store in `dir`.
  static std::string CopyStore(const TempDir& dir) {
    const std::string copy = dir.Sub("data");
    std::filesystem::copy(StorePath(), copy,
                          std::filesystem::copy_options::recursive);
    return copy;
  }

  static SharedStore* shared_;
};

CliDataDirTest::SharedStore* CliDataDirTest::shared_ = nullptr;

TEST_F(CliDataDirTest, UntouchedDataDirVerifies) {
  CliResult r = RunCasetrail({"verify", "data-dir", StorePath()});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("OK: ", kStoreSize, " events")));
  EXPECT_THAT(r.out, Not(HasSubstr("DAMAGED")));

  // With the key, the stored checkpoints' signatures are checked too: the
  // one issued at start (size 0) and the one issued at stop.
  r = RunCasetrail(
      {"verify", "data-dir", StorePath(), "--key=" + shared_->verifier_key});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("checkpoints matching the recomputed roots: 2 "
                               "stored (signatures verified)"));
}

// Each way of tampering, on a fresh copy each, is found and located.
TEST_F(CliDataDirTest, TamperingIsFoundAndLocated) {
  struct Case {
    std::string name;
    std::function<void(rocksdb::DB*, ColumnFamilies&)> tamper;
    uint64_t first_bad_position;
    std::string problem;
  };
  const std::vector<Case> cases = {
      // Leaf hashes are not stored, so a changed event is found as its
      // level-1 pair not hashing to the stored pair hash, and the first of
      // the pair is reported (log_verifier.h).
      {"one byte of the event at 517",
       [](rocksdb::DB* db, ColumnFamilies& cfs) { FlipLastByte(db, cfs, 517); },
       516,
       "positions 516-517 do not hash to the stored subtree hash at level 1 "
       "index 258"},
      {"the event at 400 deleted",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         ASSERT_TRUE(db->Delete({}, cfs.at("events"), EventKey(400)).ok());
       },
       400, "position 400 is missing (the next stored event is at 401)"},
      {"the events at 200 and 300 swapped",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         std::string a, b;
         ASSERT_TRUE(db->Get({}, cfs.at("events"), EventKey(200), &a).ok());
         ASSERT_TRUE(db->Get({}, cfs.at("events"), EventKey(300), &b).ok());
         ASSERT_TRUE(db->Put({}, cfs.at("events"), EventKey(200), b).ok());
         ASSERT_TRUE(db->Put({}, cfs.at("events"), EventKey(300), a).ok());
       },
       200, "the event stored at position 200 says it is at position 300"},
      // Level 3 index 20 covers positions 160-167.
      {"the subtree hash at level 3 index 20 replaced",
       [](rocksdb::DB* db, ColumnFamilies& cfs) {
         ASSERT_TRUE(db->Put({}, cfs.at("merkle"), MerkleKey(3, 20),
                             std::string(32, 'x'))
                         .ok());
       },
       160, "the stored subtree hash at level 3 index 20 was changed"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const std::string copy = CopyStore(dir);
    ASSERT_NO_FATAL_FAILURE(EditRocksDb(copy, c.tamper));
    CliResult r = RunCasetrail({"verify", "data-dir", copy});
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.out, HasSubstr("DAMAGED: " + c.problem));
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("first bad position: ",
                                              c.first_bad_position, "\n")));
  }
}

// Changes the event at 333 and recomputes every stored hash above it and the
// tree head, leaving a store consistent with itself.
void RewriteWholeTree(rocksdb::DB* db, ColumnFamilies& cfs) {
  FlipLastByte(db, cfs, 333);
  eventstore::MerkleFrontier frontier;
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, cfs.at("events")));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    frontier.Append(eventstore::LeafHash(it->value().ToString()),
                    [&](int level, uint64_t index, const MerkleHash& hash) {
                      if (level > 0) {
                        batch.Put(cfs.at("merkle"), MerkleKey(level, index),
                                  Bytes(hash));
                      }
                    });
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_EQ(frontier.size(), kStoreSize);
  batch.Put(
      cfs.at("meta"), eventstore::internal::kTreeHeadKey,
      eventstore::internal::EncodeTreeHead(frontier.size(), frontier.Root()));
  ASSERT_TRUE(db->Write({}, &batch).ok());
}

// Only the checkpoint the server signed at stop, kept in the store, still
// holds the old root.
TEST_F(CliDataDirTest, WholeTreeRewriteIsCaughtByTheStoredCheckpoint) {
  TempDir dir;
  const std::string copy = CopyStore(dir);
  ASSERT_NO_FATAL_FAILURE(EditRocksDb(copy, RewriteWholeTree));

  CliResult r = RunCasetrail({"verify", "data-dir", copy});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  // The scan itself passes: the rewrite is consistent with itself...
  EXPECT_THAT(r.out, Not(HasSubstr("first bad position")));
  // ...but the checkpoint at stop signed the root before the change. The one
  // at start (size 0) covers no event and still matches.
  EXPECT_THAT(r.out,
              HasSubstr(absl::StrCat("DAMAGED: stored checkpoint at tree size ",
                                     kStoreSize, ": it signed root ")));
  EXPECT_THAT(r.out, HasSubstr("the log was changed after the checkpoint was "
                               "issued"));
  EXPECT_THAT(r.out, Not(HasSubstr("checkpoint at tree size 0")));
}

// A rewrite that also deletes the stored checkpoints passes the store's own
// check, with a warning; the checkpoint an auditor kept still catches it.
TEST_F(CliDataDirTest, RewriteThatDeletesStoredCheckpointsIsCaughtByAKeptOne) {
  TempDir dir;
  const std::string copy = CopyStore(dir);
  const std::string kept = dir.Sub("kept-checkpoint.txt");
  ASSERT_NO_FATAL_FAILURE(
      EditRocksDb(copy, [&](rocksdb::DB* db, ColumnFamilies& cfs) {
        // What an auditor fetched before the rewrite.
        std::string note;
        ASSERT_TRUE(db->Get({}, cfs.at("meta"),
                            eventstore::CheckpointKey(kStoreSize), &note)
                        .ok());
        std::ofstream(kept) << note;
        RewriteWholeTree(db, cfs);
        ASSERT_TRUE(
            db->Delete({}, cfs.at("meta"), eventstore::CheckpointKey(0)).ok());
        ASSERT_TRUE(db->Delete({}, cfs.at("meta"),
                               eventstore::CheckpointKey(kStoreSize))
                        .ok());
      }));

  CliResult r = RunCasetrail({"verify", "data-dir", copy});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("no stored checkpoint covers the whole log"));

  r = RunCasetrail({"verify", "data-dir", copy, "--checkpoint=" + kept,
                    "--key=" + shared_->verifier_key});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.out,
              HasSubstr(absl::StrCat("DAMAGED: ", kept, ": it signed root ")));

  // Without --key a kept checkpoint proves nothing, so it is refused.
  r = RunCasetrail({"verify", "data-dir", copy, "--checkpoint=" + kept});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("--checkpoint needs --key"));
}

TEST_F(CliDataDirTest, ServerRefusesToStartOnATamperedHead) {
  // The untouched copy starts, so a refusal below is the tampering's.
  {
    TempDir dir;
    std::unique_ptr<ServerProcess> server = StartServer(CopyStore(dir));
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(server->Stop(), 0) << server->StderrText();
  }

  TempDir dir;
  const std::string copy = CopyStore(dir);
  ASSERT_NO_FATAL_FAILURE(
      EditRocksDb(copy, [](rocksdb::DB* db, ColumnFamilies& cfs) {
        FlipLastByte(db, cfs, kStoreSize - 1);
      }));
  // Run directly rather than through ServerProcess, for its exit code. A
  // server that does not refuse keeps running until RunProgram's timeout
  // kills it, which fails the test.
  CliResult r =
      testing::RunProgram(testing::CasetraildPath(),
                          {"--data_dir=" + copy, "--listen=127.0.0.1:0",
                           "--plaintext_loopback", "--checkpoint_interval=0"},
                          absl::Seconds(20));
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("refusing to serve an unverifiable log"));
  // The newest pair is under the hashes the server checks at open.
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("positions ", kStoreSize - 2, "-",
                                            kStoreSize - 1)));
  EXPECT_THAT(r.err, Not(HasSubstr("listening on")));
}

}  // namespace
}  // namespace casetrail
