#ifndef CASETRAIL_TOOLS_CLI_COMMON_H_
#define CASETRAIL_TOOLS_CLI_COMMON_H_

// What the casetrail CLI's commands share: the connection flags (address,
// TLS, bearer token, purpose), error reporting with the CLI's exit codes, and
// time formatting.
//
// Exit status: 0 ok, 1 the server refused or failed (or a verification
// failed), 2 usage or input error, 3 unreachable.

#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/grpcpp.h"

ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(double, timeout);
ABSL_DECLARE_FLAG(std::string, tls_ca_file);
ABSL_DECLARE_FLAG(std::string, tls_cert_file);
ABSL_DECLARE_FLAG(std::string, tls_key_file);
ABSL_DECLARE_FLAG(std::string, tls_server_name);
ABSL_DECLARE_FLAG(std::string, token_file);
ABSL_DECLARE_FLAG(std::string, purpose);
ABSL_DECLARE_FLAG(std::string, break_glass);

namespace casetrail::tools {

// The channel to --server, from the connection flags (tools/client_channel.h):
// TLS when --tls_ca_file is given, and on every call the bearer token from
// --token_file (or $CASETRAIL_TOKEN), --purpose and --break_glass, each only
// when set. Errors: INVALID_ARGUMENT naming the flag or file (a usage error,
// exit status 2).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel();

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
