// casetrail: the command-line client of casetraild. Tables for people, --json
// for scripts.

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/cli_common.h"
#include "tools/event_json.h"
#include "tools/integrity_commands.h"
#include "tools/query_commands.h"
#include "tools/token_commands.h"

ABSL_FLAG(uint64_t, from, 0,
          "read: first version (0 = start, or head with --backwards); "
          "log/tail: first position.");
ABSL_FLAG(bool, backwards, false, "read: newest first.");
ABSL_FLAG(uint32_t, limit, 100, "read/log: most events to show.");
ABSL_FLAG(std::string, type, "",
          "log/tail: only these event types (comma-separated).");
ABSL_FLAG(std::string, stream_prefix, "",
          "log/tail: only streams starting with this.");
namespace {

using casetrail::tools::Fail;
using casetrail::tools::FailRpc;
using casetrail::tools::FormatTime;
using casetrail::tools::SetDeadline;
using casetrail::v1::CaseLog;
using casetrail::v1::RecordedEvent;

constexpr char kUsage[] = R"(casetrail [flags] COMMAND [ARGS]

Commands:
  append [FILE]     Append events from JSON (FILE, or standard input if FILE is - or absent).
                    The JSON is one AppendEventsRequest or an array of them, e.g.
                    {"stream_id": "case-0042", "expected_version": {"kind": "KIND_NO_STREAM"},
                     "events": [{"event_type": "CaseNoteRecorded",
                                 "occurred_at": {"time": "2026-03-02T09:15:00Z", "precision": "EXACT"},
                                 "recorded_by": {"user_id": "u123", "role": "Social Worker"},
                                 "payload": {"summary": "..."}}]}
                    A missing event_id is generated; a missing expected_version means ANY.
  read STREAM       Read a case stream (--from, --backwards, --limit).
  log               Read the global log (--from, --limit, --type, --stream_prefix).
  tail              Follow the log live from --from (Ctrl-C to stop).
  info              Log size and format version.
  health            The server's grpc.health.v1 status.
{queries}{integrity}{token}
Flags: --server=HOST:PORT (default 127.0.0.1:50051), --json, --help for all flags.
Connection: --tls_ca_file=PEM (TLS), --tls_cert_file=PEM --tls_key_file=PEM (mTLS),
  --tls_server_name=NAME, --token_file=FILE (default $CASETRAIL_TOKEN), --purpose=TEXT,
  --break_glass=REASON.
Exit status: 0 ok, 1 the server refused or failed (or a verification failed), 2 usage or
input error, 3 unreachable.
)";

std::string FormatOccurred(const casetrail::v1::OccurredAt& at) {
  switch (at.precision()) {
    case casetrail::v1::TIME_PRECISION_EXACT:
      return FormatTime(at.time(), "%Y-%m-%d %H:%M");
    case casetrail::v1::TIME_PRECISION_DAY:
      return FormatTime(at.time(), "%Y-%m-%d");
    case casetrail::v1::TIME_PRECISION_MONTH:
      return FormatTime(at.time(), "%Y-%m");
    case casetrail::v1::TIME_PRECISION_APPROXIMATE:
      return "~" + FormatTime(at.time(), "%Y-%m-%d");
    default:
      return "?";
  }
}

// A typed payload as one line of proto JSON, without its Decision (who
// decided and why do not fit a column; --json shows them), unless that is all
// it holds.
std::string TypedPayloadJson(const casetrail::v1::CaseEvent& e) {
  const google::protobuf::FieldDescriptor* field =
      casetrail::v1::CaseEvent::descriptor()->FindFieldByNumber(
          e.payload_case());
  if (field == nullptr ||
      field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
    return "";
  }
  const google::protobuf::Message& payload =
      e.GetReflection()->GetMessage(e, field);
  std::unique_ptr<google::protobuf::Message> shown(payload.New());
  shown->CopyFrom(payload);
  const google::protobuf::FieldDescriptor* decision =
      shown->GetDescriptor()->FindFieldByName("decision");
  if (decision != nullptr &&
      decision->message_type() == casetrail::v1::Decision::descriptor()) {
    shown->GetReflection()->ClearField(shown.get(), decision);
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(*shown, &text, options)
           .ok() ||
      text == "{}") {
    text.clear();
    (void)google::protobuf::util::MessageToJsonString(payload, &text, options);
  }
  return text;
}

std::string Summary(const casetrail::v1::CaseEvent& e, size_t width) {
  std::string text;
  if (e.has_opaque()) {
    text = e.opaque().content_type() == "application/json"
               ? e.opaque().data()
               : absl::StrCat("(", e.opaque().data().size(), " bytes ",
                              e.opaque().content_type(), ")");
  } else {
    text = TypedPayloadJson(e);
  }
  for (char& c : text) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  if (text.size() > width) text = text.substr(0, width - 3) + "...";
  return text;
}

class EventPrinter {
 public:
  explicit EventPrinter(bool with_stream) : with_stream_(with_stream) {}

  void Print(const RecordedEvent& r) {
    if (absl::GetFlag(FLAGS_json)) {
      std::printf("%s\n", casetrail::tools::RecordedEventToJson(r).c_str());
      return;
    }
    if (!header_printed_) {
      header_printed_ = true;
      std::printf("%-8s %-4s %s%-17s %-19s %-26s %-14s %s\n", "POS", "VER",
                  with_stream_ ? "STREAM               " : "", "OCCURRED",
                  "RECORDED (UTC)", "TYPE", "BY", "PAYLOAD");
    }
    const auto& e = r.event();
    std::string stream =
        with_stream_ ? absl::StrFormat("%-20.20s ", e.stream_id()) : "";
    std::printf("%-8llu %-4llu %s%-17s %-19s %-26.26s %-14.14s %s\n",
                static_cast<unsigned long long>(r.position()),
                static_cast<unsigned long long>(r.stream_version()),
                stream.c_str(), FormatOccurred(e.occurred_at()).c_str(),
                FormatTime(r.recorded_at(), "%Y-%m-%d %H:%M:%S").c_str(),
                e.event_type().c_str(), e.recorded_by().user_id().c_str(),
                Summary(e, 60).c_str());
    std::fflush(stdout);
  }

 private:
  bool with_stream_;
  bool header_printed_ = false;
};

int Append(CaseLog::Stub& stub, const std::vector<std::string>& args) {
  std::string path = args.size() > 2 ? args[2] : "-";
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(path);
    if (!in) return Fail(2, absl::StrCat("cannot read ", path));
    text << in.rdbuf();
  }
  auto requests = casetrail::tools::ParseAppendRequests(text.str());
  if (!requests.ok()) {
    return Fail(2, absl::StrCat(path == "-" ? "stdin" : path, ": ",
                                requests.status().message()));
  }
  bool first = true;
  for (const auto& request : *requests) {
    grpc::ClientContext context;
    SetDeadline(context);
    casetrail::v1::AppendEventsResponse response;
    grpc::Status status = stub.AppendEvents(&context, request, &response);
    if (!status.ok()) {
      std::fprintf(stderr, "casetrail: append to %s failed\n",
                   request.stream_id().c_str());
      return FailRpc(status);
    }
    if (absl::GetFlag(FLAGS_json)) {
      std::printf("%s\n",
                  casetrail::tools::MessageToJsonLine(response).c_str());
      continue;
    }
    if (first) {
      std::printf("%-8s %-4s %-20s %s\n", "POS", "VER", "STREAM", "EVENT ID");
      first = false;
    }
    for (const auto& e : response.events()) {
      std::printf("%-8llu %-4llu %-20s %s\n",
                  static_cast<unsigned long long>(e.position()),
                  static_cast<unsigned long long>(e.stream_version()),
                  request.stream_id().c_str(), e.event_id().c_str());
    }
    if (response.deduplicated()) {
      std::printf("  (already recorded: a retry of an earlier append)\n");
    }
  }
  return 0;
}

int Read(CaseLog::Stub& stub, const std::vector<std::string>& args) {
  if (args.size() != 3) return Fail(2, "usage: casetrail read STREAM");
  casetrail::v1::ReadCaseStreamRequest request;
  request.set_stream_id(args[2]);
  request.set_from_version(absl::GetFlag(FLAGS_from));
  request.set_limit(absl::GetFlag(FLAGS_limit));
  request.set_direction(absl::GetFlag(FLAGS_backwards)
                            ? casetrail::v1::READ_DIRECTION_BACKWARDS
                            : casetrail::v1::READ_DIRECTION_FORWARDS);
  grpc::ClientContext context;
  SetDeadline(context);
  casetrail::v1::ReadCaseStreamResponse response;
  grpc::Status status = stub.ReadCaseStream(&context, request, &response);
  if (!status.ok()) return FailRpc(status);
  if (response.stream_version() == 0) {
    return Fail(1, absl::StrCat("NOT_FOUND: no case stream ", args[2]));
  }
  EventPrinter printer(false);
  for (const auto& e : response.events()) printer.Print(e);
  if (!absl::GetFlag(FLAGS_json)) {
    std::printf("%s: %d of %llu events shown\n", args[2].c_str(),
                response.events_size(),
                static_cast<unsigned long long>(response.stream_version()));
    // A page ends at --limit or at the server's message size; say where the
    // next one starts.
    if (response.next_version() != 0) {
      std::printf("more from version %llu: casetrail read %s --from=%llu%s\n",
                  static_cast<unsigned long long>(response.next_version()),
                  args[2].c_str(),
                  static_cast<unsigned long long>(response.next_version()),
                  absl::GetFlag(FLAGS_backwards) ? " --backwards" : "");
    }
  }
  return 0;
}

std::vector<std::string> EventTypes() {
  std::vector<std::string> types;
  for (absl::string_view t :
       absl::StrSplit(absl::GetFlag(FLAGS_type), ',', absl::SkipEmpty())) {
    types.emplace_back(t);
  }
  return types;
}

int Log(CaseLog::Stub& stub) {
  casetrail::v1::ReadLogRequest request;
  request.set_from_position(absl::GetFlag(FLAGS_from));
  request.set_limit(absl::GetFlag(FLAGS_limit));
  for (const std::string& t : EventTypes()) request.add_event_types(t);
  request.set_stream_prefix(absl::GetFlag(FLAGS_stream_prefix));
  grpc::ClientContext context;
  SetDeadline(context);
  casetrail::v1::ReadLogResponse response;
  grpc::Status status = stub.ReadLog(&context, request, &response);
  if (!status.ok()) return FailRpc(status);
  EventPrinter printer(true);
  for (const auto& e : response.events()) printer.Print(e);
  if (!absl::GetFlag(FLAGS_json)) {
    std::printf("log size %llu; next position %llu\n",
                static_cast<unsigned long long>(response.log_size()),
                static_cast<unsigned long long>(response.next_position()));
  }
  return 0;
}

int Tail(CaseLog::Stub& stub) {
  casetrail::v1::SubscribeRequest request;
  request.set_from_position(absl::GetFlag(FLAGS_from));
  for (const std::string& t : EventTypes()) request.add_event_types(t);
  request.set_stream_prefix(absl::GetFlag(FLAGS_stream_prefix));
  grpc::ClientContext context;
  auto reader = stub.Subscribe(&context, request);
  casetrail::v1::SubscribeResponse response;
  EventPrinter printer(true);
  bool announced = false;
  while (reader->Read(&response)) {
    for (const auto& e : response.events()) printer.Print(e);
    if (response.caught_up() && !announced && !absl::GetFlag(FLAGS_json)) {
      std::fprintf(stderr, "-- caught up at position %llu; following live --\n",
                   static_cast<unsigned long long>(response.next_position()));
      announced = true;
    }
  }
  grpc::Status status = reader->Finish();
  return status.ok() ? 0 : FailRpc(status);
}

int Info(CaseLog::Stub& stub) {
  grpc::ClientContext context;
  SetDeadline(context);
  casetrail::v1::GetLogInfoResponse response;
  grpc::Status status = stub.GetLogInfo(&context, {}, &response);
  if (!status.ok()) return FailRpc(status);
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", casetrail::tools::MessageToJsonLine(response).c_str());
    return 0;
  }
  std::printf("server          %s\n", absl::GetFlag(FLAGS_server).c_str());
  std::printf("log size        %llu events\n",
              static_cast<unsigned long long>(response.log_size()));
  std::printf("format version  %u\n", response.format_version());
  if (response.has_last_recorded_at()) {
    std::printf("last recorded   %s\n",
                FormatTime(response.last_recorded_at(), "%Y-%m-%d %H:%M:%S UTC")
                    .c_str());
  }
  return 0;
}

int Health(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(context);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, {}, &response);
  if (!status.ok()) return FailRpc(status);
  std::printf("%s\n", grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                          response.status())
                          .c_str());
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? 0
             : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage = absl::StrReplaceAll(
      kUsage, {{"{integrity}", casetrail::tools::kIntegrityUsage},
               {"{queries}", casetrail::tools::kQueryUsage},
               {"{token}", casetrail::tools::kTokenUsage}});
  absl::SetProgramUsageMessage(usage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> args(positional.begin(), positional.end());
  if (args.size() < 2) {
    std::fputs(usage.c_str(), stderr);
    return 2;
  }
  const std::string& command = args[1];
  // verify works offline, whatever the connection flags say.
  if (command == "verify") return casetrail::tools::VerifyCommand(args);
  if (command == "token") return casetrail::tools::TokenCommand(args);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel_or =
      casetrail::tools::MakeChannel();
  if (!channel_or.ok()) {
    return Fail(2, std::string(channel_or.status().message()));
  }
  const std::shared_ptr<grpc::Channel> channel = *std::move(channel_or);
  auto stub = CaseLog::NewStub(channel);
  if (command == "append") return Append(*stub, args);
  if (command == "read") return Read(*stub, args);
  if (command == "log") return Log(*stub);
  if (command == "tail") return Tail(*stub);
  if (command == "info") return Info(*stub);
  if (command == "health") return Health(channel);
  if (command == "checkpoint") {
    return casetrail::tools::CheckpointCommand(channel, args);
  }
  if (command == "key") return casetrail::tools::KeyCommand(channel, args);
  if (command == "prove") return casetrail::tools::ProveCommand(channel, args);
  if (casetrail::tools::IsQueryCommand(command)) {
    return casetrail::tools::QueryCommand(channel, args);
  }
  std::fputs(usage.c_str(), stderr);
  return Fail(2, absl::StrCat("unknown command '", command, "'"));
}
