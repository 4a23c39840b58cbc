#ifndef CASETRAIL_TOOLS_CLI_COMMON_H_
#define CASETRAIL_TOOLS_CLI_COMMON_H_

// What the casetrail CLI's commands share: the connection flags, error
// reporting with the CLI's exit codes, and time formatting.
//
// Exit status: 0 ok, 1 the server refused or failed (or a verification
// failed), 2 usage or input error, 3 unreachable.

#include <string>

#include "absl/flags/declare.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/grpcpp.h"

ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(double, timeout);

namespace casetrail::tools {

// Prints "casetrail: <message>" to stderr and returns `code`.
int Fail(int code, const std::string& message);
const char* CodeName(grpc::StatusCode code);
// Prints a failed call, with each field violation on its own line, and returns
// the exit status (3 if the server could not be reached, else 1).
int FailRpc(const grpc::Status& status);
// Sets the call's deadline from --timeout.
void SetDeadline(grpc::ClientContext& context);
std::string FormatTime(const google::protobuf::Timestamp& ts,
                       const char* format);

}  // namespace casetrail::tools

#endif  // CASETRAIL_TOOLS_CLI_COMMON_H_
