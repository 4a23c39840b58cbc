#include "tools/cli_common.h"

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tools/client_channel.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "casetraild address.");
ABSL_FLAG(bool, json, false,
          "Print one JSON object per line instead of a table.");
ABSL_FLAG(double, timeout, 10,
          "Seconds to wait for each call (tail: to connect).");
ABSL_FLAG(std::string, tls_ca_file, "",
          "CA certificates (PEM) trusted for casetraild's certificate; turns "
          "TLS on. Without it the CLI speaks plaintext, which casetraild "
          "accepts only on loopback with --plaintext_loopback.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "Client certificate (PEM) to present for mTLS, with "
          "--tls_key_file.");
ABSL_FLAG(std::string, tls_key_file, "",
          "The client certificate's private key (PEM).");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name to check in casetraild's certificate instead of the --server "
          "host.");
ABSL_FLAG(std::string, token_file, "",
          "File holding a bearer token (JWT), sent on every call. Default: "
          "the token in the CASETRAIL_TOKEN environment variable, if set.");
ABSL_FLAG(std::string, purpose, "",
          "Why you are reading (e.g. \"section 47 enquiry\"); sent on every "
          "call.");
ABSL_FLAG(std::string, break_glass, "",
          "The reason for breaking the glass; sent on every call when "
          "given.");

namespace casetrail::tools {

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "casetrail: %s\n", message.c_str());
  return code;
}

const char* CodeName(grpc::StatusCode code) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kNames[i] : "UNKNOWN";
}

// Prints a failed call, with each field violation on its own line.
int FailRpc(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      status.error_message().find("failed to connect") != std::string::npos) {
    return Fail(3, absl::StrCat("cannot reach casetraild at ",
                                absl::GetFlag(FLAGS_server), ": ",
                                status.error_message()));
  }
  google::rpc::Status details;
  google::rpc::BadRequest bad_request;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details()) &&
      details.details_size() > 0 && details.details(0).UnpackTo(&bad_request)) {
    std::fprintf(stderr, "casetrail: %s: the request is malformed\n",
                 CodeName(status.error_code()));
    for (const auto& v : bad_request.field_violations()) {
      std::fprintf(stderr, "  %s: %s\n", v.field().c_str(),
                   v.description().c_str());
    }
    return 1;
  }
  return Fail(1, absl::StrCat(CodeName(status.error_code()), ": ",
                              status.error_message()));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel() {
  absl::StatusOr<std::string> token =
      ReadBearerToken(absl::GetFlag(FLAGS_token_file));
  if (!token.ok()) return token.status();
  ClientChannelOptions options;
  options.target = absl::GetFlag(FLAGS_server);
  options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  options.bearer_token = *std::move(token);
  options.purpose = absl::GetFlag(FLAGS_purpose);
  options.break_glass_reason = absl::GetFlag(FLAGS_break_glass);
  return MakeClientChannel(options);
}

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(
      absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_timeout))));
}

std::string FormatTime(const google::protobuf::Timestamp& ts,
                       const char* format) {
  return absl::FormatTime(
      format,
      absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos()),
      absl::UTCTimeZone());
}

}  // namespace casetrail::tools
