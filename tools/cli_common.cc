#include "tools/cli_common.h"

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "casetraild address.");
ABSL_FLAG(bool, json, false,
          "Print one JSON object per line instead of a table.");
ABSL_FLAG(double, timeout, 10,
          "Seconds to wait for each call (tail: to connect).");

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
