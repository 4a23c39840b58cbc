#include "tools/integrity_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "casetrail/v1/integrity.grpc.pb.h"
#include "eventstore/checkpoint.h"
#include "eventstore/log_verifier.h"
#include "eventstore/signed_note.h"
#include "eventstore/stored_event.h"
#include "google/protobuf/util/json_util.h"
#include "tools/cli_common.h"
#include "tools/event_json.h"
#include "tools/offline_verify.h"

ABSL_FLAG(int64_t, size, -1,
          "checkpoint: the checkpoint issued at this tree size (default: the "
          "latest).");
ABSL_FLAG(bool, issue, false,
          "checkpoint: sign a new checkpoint at the log's current size first.");
ABSL_FLAG(std::string, out, "",
          "checkpoint/prove: write to this file instead of standard output.");
ABSL_FLAG(std::string, checkpoint, "",
          "prove/verify inclusion: the signed checkpoint file; verify "
          "data-dir: checkpoints you kept (comma-separated files).");
ABSL_FLAG(std::string, old, "",
          "prove/verify consistency: the older checkpoint file.");
ABSL_FLAG(std::string, new, "",
          "prove/verify consistency: the newer checkpoint file.");
ABSL_FLAG(std::string, proof, "", "verify: the proof file (from prove).");
ABSL_FLAG(std::string, key, "",
          "verify: the log's verifier key, or a file holding it.");
ABSL_FLAG(std::string, key_file, "",
          "key: a signing key file (default: ask the server for its key).");
ABSL_FLAG(std::string, log_origin, "",
          "key generate: the log's name for the new key.");

namespace casetrail::tools {

const char kIntegrityUsage[] =
    R"(  checkpoint        Print the latest signed checkpoint (--issue: sign one at the current size
                    first; --size=N: the one issued at N; --out=FILE to save it).
  key show          The log's verifier key and key id (--key_file=FILE: from a signing key file,
                    offline; otherwise from the server).
  key generate      Create a signing key file for --signing_key_file (--key_file, --log_origin).
  prove inclusion POSITION --checkpoint=FILE [--out=PROOF]
                    Fetch the proof that the event at POSITION is in the checkpoint's tree.
  prove consistency --old=FILE --new=FILE [--out=PROOF]
                    Fetch the proof that the newer checkpoint's log extends the older one's.
  verify inclusion --proof=PROOF --checkpoint=FILE --key=KEY
  verify consistency --old=FILE --new=FILE --proof=PROOF --key=KEY
  verify checkpoint --checkpoint=FILE --key=KEY
                    Offline checks of the above with the log's verifier key (KEY or a file).
  verify data-dir DIR [--key=KEY] [--checkpoint=FILE,...]
                    Offline check of a whole (stopped) data directory: every event, every stored
                    hash, the tree head, the stored checkpoints and those you kept. Exits 1 at the
                    first problem.
)";

namespace {

absl::StatusOr<std::string> ReadFile(const std::string& flag,
                                     const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " is required"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `text` to --out, or to standard output.
int Output(const std::string& text, const std::string& what) {
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) return Fail(2, absl::StrCat("cannot write ", out));
  std::fprintf(stderr, "%s saved to %s\n", what.c_str(), out.c_str());
  return 0;
}

std::string Hex(absl::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) absl::StrAppendFormat(&out, "%02x", c);
  return out;
}

std::string Describe(const eventstore::Checkpoint& c) {
  return absl::StrCat(c.origin, " at tree size ", c.tree_size, " (root ",
                      eventstore::ToHex(c.root), ", issued ",
                      absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", c.issued_at,
                                       absl::UTCTimeZone()),
                      ")");
}

std::string ProofJson(const google::protobuf::Message& proof) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(proof, &json, options);
  return json;
}

absl::Status ParseProof(const std::string& path,
                        google::protobuf::Message* proof) {
  absl::StatusOr<std::string> json = ReadFile("proof", path);
  if (!json.ok()) return json.status();
  auto status = google::protobuf::util::JsonStringToMessage(*json, proof);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not a proof from `casetrail prove`: ", status.ToString()));
  }
  return absl::OkStatus();
}

// Exit status 1 for a verification that failed, 2 for unusable input.
int FailVerify(const absl::Status& status) {
  const bool input = status.code() == absl::StatusCode::kInvalidArgument;
  return Fail(input ? 2 : 1,
              absl::StrCat(input ? "" : "NOT VERIFIED: ", status.message()));
}

absl::StatusOr<eventstore::NoteVerifier> KeyFlag() {
  const std::string key = absl::GetFlag(FLAGS_key);
  if (key.empty()) {
    return absl::InvalidArgumentError(
        "--key is required: the log's verifier key (from `casetrail key show`, "
        "obtained from the log's operator), or a file holding it");
  }
  return LoadVerifierKey(key);
}

int VerifyCheckpointFile() {
  auto key = KeyFlag();
  if (!key.ok()) return FailVerify(key.status());
  auto note = ReadFile("checkpoint", absl::GetFlag(FLAGS_checkpoint));
  if (!note.ok()) return FailVerify(note.status());
  auto checkpoint = eventstore::OpenCheckpoint(*note, *key);
  if (!checkpoint.ok()) return FailVerify(checkpoint.status());
  std::printf("OK: checkpoint of %s, signed by %s\n",
              Describe(*checkpoint).c_str(), key->verifier_key().c_str());
  return 0;
}

int VerifyInclusionFiles() {
  auto key = KeyFlag();
  if (!key.ok()) return FailVerify(key.status());
  casetrail::v1::GetInclusionProofResponse proof;
  if (absl::Status s = ParseProof(absl::GetFlag(FLAGS_proof), &proof);
      !s.ok()) {
    return FailVerify(s);
  }
  auto note = ReadFile("checkpoint", absl::GetFlag(FLAGS_checkpoint));
  if (!note.ok()) return FailVerify(note.status());
  auto verified = VerifyInclusionProof(proof, *note, *key);
  if (!verified.ok()) return FailVerify(verified.status());
  const casetrail::v1::CaseEvent& e = verified->event.event();
  std::printf(
      "OK: event %s (%s, stream %s, version %llu, recorded %s) is at "
      "position %llu of %s\n",
      e.event_id().c_str(), e.event_type().c_str(), e.stream_id().c_str(),
      static_cast<unsigned long long>(verified->event.stream_version()),
      FormatTime(verified->event.recorded_at(), "%Y-%m-%d %H:%M:%S UTC")
          .c_str(),
      static_cast<unsigned long long>(proof.position()),
      Describe(verified->checkpoint).c_str());
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", RecordedEventToJson(verified->event).c_str());
  }
  return 0;
}

int VerifyConsistencyFiles() {
  auto key = KeyFlag();
  if (!key.ok()) return FailVerify(key.status());
  casetrail::v1::GetConsistencyProofResponse proof;
  if (absl::Status s = ParseProof(absl::GetFlag(FLAGS_proof), &proof);
      !s.ok()) {
    return FailVerify(s);
  }
  auto old_note = ReadFile("old", absl::GetFlag(FLAGS_old));
  if (!old_note.ok()) return FailVerify(old_note.status());
  auto new_note = ReadFile("new", absl::GetFlag(FLAGS_new));
  if (!new_note.ok()) return FailVerify(new_note.status());
  auto verified = VerifyConsistencyProof(proof, *old_note, *new_note, *key);
  if (!verified.ok()) return FailVerify(verified.status());
  std::printf(
      "OK: the log only grew: its first %llu events are unchanged from\n"
      "  %s\nto\n  %s\n",
      static_cast<unsigned long long>(verified->old_checkpoint.tree_size),
      Describe(verified->old_checkpoint).c_str(),
      Describe(verified->new_checkpoint).c_str());
  return 0;
}

// A progress bar on standard error when it is a terminal.
class ProgressBar {
 public:
  ProgressBar() : enabled_(isatty(STDERR_FILENO) != 0) {}
  void Update(const eventstore::VerifyProgress& p) {
    if (!enabled_) return;
    const double fraction =
        p.log_size == 0 ? 1.0
                        : static_cast<double>(p.events_checked) / p.log_size;
    const int filled = static_cast<int>(fraction * 40);
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    std::fprintf(stderr, "\r[%s%s] %3d%%  %llu/%llu events  %.0f events/s ",
                 std::string(filled, '#').c_str(),
                 std::string(40 - filled, ' ').c_str(),
                 static_cast<int>(fraction * 100),
                 static_cast<unsigned long long>(p.events_checked),
                 static_cast<unsigned long long>(p.log_size),
                 seconds > 0 ? p.events_checked / seconds : 0.0);
    std::fflush(stderr);
  }
  void Done() {
    if (enabled_) std::fputc('\n', stderr);
  }

 private:
  const bool enabled_;
  const absl::Time start_ = absl::Now();
};

int VerifyDataDirectory(const std::vector<std::string>& args) {
  if (args.size() != 4) {
    return Fail(2,
                "usage: casetrail verify data-dir DIR [--key=KEY] "
                "[--checkpoint=FILE[,FILE...]]");
  }
  std::optional<eventstore::NoteVerifier> key;
  if (!absl::GetFlag(FLAGS_key).empty()) {
    auto loaded = KeyFlag();
    if (!loaded.ok()) return FailVerify(loaded.status());
    key = *loaded;
  }
  // Checkpoints the auditor kept: unlike the stored ones, whoever changed the
  // directory could not change or delete these.
  std::vector<CheckpointToCheck> held;
  eventstore::VerifyDataDirOptions options;
  for (absl::string_view file : absl::StrSplit(absl::GetFlag(FLAGS_checkpoint),
                                               ',', absl::SkipEmpty())) {
    if (!key) {
      return FailVerify(absl::InvalidArgumentError(
          "--checkpoint needs --key: a checkpoint you kept counts only if "
          "its signature is checked"));
    }
    auto note = ReadFile("checkpoint", std::string(file));
    if (!note.ok()) return FailVerify(note.status());
    auto checkpoint = eventstore::OpenCheckpoint(*note, *key);
    if (!checkpoint.ok()) {
      return FailVerify(absl::Status(
          checkpoint.status().code(),
          absl::StrCat(file, ": ", checkpoint.status().message())));
    }
    options.roots_wanted.push_back(checkpoint->tree_size);
    held.push_back({std::string(file), *std::move(note), std::nullopt});
  }
  ProgressBar bar;
  options.progress = [&](const eventstore::VerifyProgress& p) {
    bar.Update(p);
  };
  const absl::Time start = absl::Now();
  absl::StatusOr<eventstore::DataDirReport> report =
      eventstore::VerifyDataDir(args[3], options);
  bar.Done();
  if (!report.ok()) {
    return Fail(2, absl::StrCat("cannot check ", args[3], ": ",
                                report.status().message()));
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!report->ok) {
    std::printf("DAMAGED: %s\n", report->problem.c_str());
    if (report->first_bad_position) {
      std::printf("first bad position: %llu\n",
                  static_cast<unsigned long long>(*report->first_bad_position));
    }
    std::printf("events read when the check stopped: %llu of %llu\n",
                static_cast<unsigned long long>(report->events_checked),
                static_cast<unsigned long long>(report->log_size));
    return 1;
  }
  std::vector<CheckpointToCheck> checkpoints = StoredCheckpoints(*report);
  checkpoints.insert(checkpoints.end(), held.begin(), held.end());
  const std::vector<std::string> bad_checkpoints =
      CheckCheckpointsAgainstRoots(*report, checkpoints, key ? &*key : nullptr);
  for (const std::string& problem : bad_checkpoints) {
    std::printf("DAMAGED: %s\n", problem.c_str());
  }
  if (!bad_checkpoints.empty()) return 1;
  std::printf(
      "OK: %llu events and %llu stored subtree hashes check out; root %s\n"
      "    checkpoints matching the recomputed roots: %zu stored (signatures "
      "%s), %zu you kept\n"
      "    %.1f s, %.0f events/s\n",
      static_cast<unsigned long long>(report->events_checked),
      static_cast<unsigned long long>(report->subtrees_checked),
      eventstore::ToHex(report->root).c_str(),
      report->stored_checkpoints.size(),
      key ? "verified" : "not checked: no --key", held.size(), seconds,
      seconds > 0 ? report->events_checked / seconds : 0.0);
  if (report->stored_checkpoints.empty() ||
      report->stored_checkpoints.back().first != report->log_size) {
    // The server signs one at every clean stop; after a crash the newest
    // events may not be covered yet, and a rewrite may have removed it.
    std::printf(
        "    note: no stored checkpoint covers the whole log (%llu events); "
        "only checkpoints you kept (--checkpoint) rule out a rewrite of the "
        "whole store\n",
        static_cast<unsigned long long>(report->log_size));
  }
  return 0;
}

}  // namespace

int CheckpointCommand(const std::shared_ptr<grpc::Channel>& channel,
                      const std::vector<std::string>& args) {
  if (args.size() != 2) return Fail(2, "usage: casetrail checkpoint [flags]");
  auto stub = casetrail::v1::LogIntegrity::NewStub(channel);
  casetrail::v1::GetCheckpointRequest request;
  if (absl::GetFlag(FLAGS_size) >= 0) {
    request.set_tree_size(absl::GetFlag(FLAGS_size));
  }
  request.set_issue(absl::GetFlag(FLAGS_issue));
  grpc::ClientContext context;
  SetDeadline(context);
  casetrail::v1::GetCheckpointResponse response;
  grpc::Status status = stub->GetCheckpoint(&context, request, &response);
  if (!status.ok()) return FailRpc(status);
  if (absl::GetFlag(FLAGS_json)) {
    return Output(MessageToJsonLine(response) + "\n", "checkpoint");
  }
  return Output(response.checkpoint().signed_note(),
                absl::StrCat("checkpoint at tree size ",
                             response.checkpoint().tree_size(), " (root ",
                             Hex(response.checkpoint().root_hash()), ")"));
}

int KeyCommand(const std::shared_ptr<grpc::Channel>& channel,
               const std::vector<std::string>& args) {
  const std::string sub = args.size() > 2 ? args[2] : "";
  const std::string key_file = absl::GetFlag(FLAGS_key_file);
  if (sub == "generate" && args.size() == 3) {
    if (key_file.empty() || absl::GetFlag(FLAGS_log_origin).empty()) {
      return Fail(2,
                  "usage: casetrail key generate --key_file=FILE "
                  "--log_origin=NAME");
    }
    struct stat st;
    if (stat(key_file.c_str(), &st) == 0) {
      return Fail(2, absl::StrCat(key_file, " exists; not overwriting a key"));
    }
    auto signer = eventstore::LoadOrCreateSignerKeyFile(
        key_file, absl::GetFlag(FLAGS_log_origin));
    if (!signer.ok()) return Fail(2, std::string(signer.status().message()));
    std::printf("signing key written to %s (mode 0600)\nverifier key %s\n",
                key_file.c_str(), signer->verifier_key().c_str());
    return 0;
  }
  if (sub != "show" || args.size() != 3) {
    return Fail(2,
                "usage: casetrail key show [--key_file=FILE] | key generate");
  }
  std::string verifier_key;
  if (!key_file.empty()) {
    auto signer = eventstore::LoadSignerKeyFile(key_file);
    if (!signer.ok()) return Fail(2, std::string(signer.status().message()));
    verifier_key = signer->verifier_key();
  } else {
    auto stub = casetrail::v1::LogIntegrity::NewStub(channel);
    grpc::ClientContext context;
    SetDeadline(context);
    // The latest checkpoint carries the key; showing the key never issues
    // one (the server signs one at start, so there is one to read).
    casetrail::v1::GetCheckpointRequest request;
    casetrail::v1::GetCheckpointResponse response;
    grpc::Status status = stub->GetCheckpoint(&context, request, &response);
    if (!status.ok()) return FailRpc(status);
    verifier_key = response.verifier_key();
  }
  auto verifier = eventstore::NoteVerifier::FromVerifierKey(verifier_key);
  if (!verifier.ok()) return Fail(1, std::string(verifier.status().message()));
  if (absl::GetFlag(FLAGS_json)) {
    std::printf(
        "{\"verifier_key\": \"%s\", \"key_id\": \"%08x\", "
        "\"log_origin\": \"%s\"}\n",
        verifier->verifier_key().c_str(), verifier->key_id(),
        verifier->name().c_str());
    return 0;
  }
  std::printf("verifier key  %s\nkey id        %08x\nlog origin    %s\n",
              verifier->verifier_key().c_str(), verifier->key_id(),
              verifier->name().c_str());
  return 0;
}

int ProveCommand(const std::shared_ptr<grpc::Channel>& channel,
                 const std::vector<std::string>& args) {
  const std::string sub = args.size() > 2 ? args[2] : "";
  auto stub = casetrail::v1::LogIntegrity::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(context);
  if (sub == "inclusion" && args.size() == 4) {
    uint64_t position;
    if (!absl::SimpleAtoi(args[3], &position)) {
      return Fail(2, absl::StrCat("position '", args[3], "' is not a number"));
    }
    auto note = ReadFile("checkpoint", absl::GetFlag(FLAGS_checkpoint));
    if (!note.ok()) return Fail(2, std::string(note.status().message()));
    auto checkpoint = eventstore::ParseCheckpointNoteUnverified(*note);
    if (!checkpoint.ok()) {
      return Fail(2, std::string(checkpoint.status().message()));
    }
    casetrail::v1::GetInclusionProofRequest request;
    request.set_position(position);
    request.set_tree_size(checkpoint->tree_size);
    casetrail::v1::GetInclusionProofResponse response;
    grpc::Status status = stub->GetInclusionProof(&context, request, &response);
    if (!status.ok()) return FailRpc(status);
    return Output(ProofJson(response),
                  absl::StrCat("inclusion proof of position ", position,
                               " in tree size ", checkpoint->tree_size));
  }
  if (sub == "consistency" && args.size() == 3) {
    auto old_note = ReadFile("old", absl::GetFlag(FLAGS_old));
    auto new_note = ReadFile("new", absl::GetFlag(FLAGS_new));
    if (!old_note.ok())
      return Fail(2, std::string(old_note.status().message()));
    if (!new_note.ok())
      return Fail(2, std::string(new_note.status().message()));
    auto old_cp = eventstore::ParseCheckpointNoteUnverified(*old_note);
    auto new_cp = eventstore::ParseCheckpointNoteUnverified(*new_note);
    if (!old_cp.ok()) return Fail(2, std::string(old_cp.status().message()));
    if (!new_cp.ok()) return Fail(2, std::string(new_cp.status().message()));
    casetrail::v1::GetConsistencyProofRequest request;
    request.set_old_size(old_cp->tree_size);
    request.set_new_size(new_cp->tree_size);
    casetrail::v1::GetConsistencyProofResponse response;
    grpc::Status status =
        stub->GetConsistencyProof(&context, request, &response);
    if (!status.ok()) return FailRpc(status);
    return Output(ProofJson(response),
                  absl::StrCat("consistency proof from tree size ",
                               old_cp->tree_size, " to ", new_cp->tree_size));
  }
  return Fail(2,
              "usage: casetrail prove inclusion POSITION --checkpoint=FILE | "
              "prove consistency --old=FILE --new=FILE");
}

int VerifyCommand(const std::vector<std::string>& args) {
  const std::string sub = args.size() > 2 ? args[2] : "";
  if (sub == "data-dir") return VerifyDataDirectory(args);
  if (args.size() == 3) {
    if (sub == "inclusion") return VerifyInclusionFiles();
    if (sub == "consistency") return VerifyConsistencyFiles();
    if (sub == "checkpoint") return VerifyCheckpointFile();
  }
  return Fail(2,
              "usage: casetrail verify inclusion|consistency|checkpoint|"
              "data-dir (see casetrail --help)");
}

}  // namespace casetrail::tools
