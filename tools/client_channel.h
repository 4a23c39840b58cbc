#ifndef CASETRAIL_TOOLS_CLIENT_CHANNEL_H_
#define CASETRAIL_TOOLS_CLIENT_CHANNEL_H_

// The client end of casetraild's transport, shared by the casetrail CLI and
// the benchmarks: a channel over TLS (optionally presenting a client
// certificate) or plaintext, that sends the caller's bearer token, purpose and
// break-glass reason as metadata on every call.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/channel_arguments.h"

namespace casetrail::tools {

// Metadata keys sent on every call (lower case, as gRPC requires).
inline constexpr char kAuthorizationMetadata[] = "authorization";
inline constexpr char kPurposeMetadata[] = "x-casetrail-purpose";
inline constexpr char kBreakGlassMetadata[] = "x-casetrail-break-glass";

// The environment variable holding a bearer token when no token file is named.
inline constexpr char kTokenEnvironmentVariable[] = "CASETRAIL_TOKEN";

struct ClientChannelOptions {
  // casetraild's address, host:port. Required.
  std::string target;
  // PEM CA certificates trusted for the server's certificate. Non-empty turns
  // TLS on; empty (the default) means plaintext, which casetraild accepts only
  // on loopback when started with --plaintext_loopback.
  std::string tls_ca_file;
  // A PEM client certificate and its private key, presented for mTLS. Both or
  // neither (the default); require tls_ca_file.
  std::string tls_cert_file;
  std::string tls_key_file;
  // The name the server's certificate must carry, instead of target's host.
  // Default empty: target's host. Requires tls_ca_file.
  std::string tls_server_name;
  // Sent as "authorization: Bearer <bearer_token>". Default empty: not sent.
  std::string bearer_token;
  // Why the caller reads, sent as x-casetrail-purpose. Default empty: not
  // sent.
  std::string purpose;
  // The reason for breaking the glass, sent as x-casetrail-break-glass.
  // Default empty: not sent.
  std::string break_glass_reason;
};

// The bearer token: the contents of `token_file` without surrounding
// whitespace, or, when `token_file` is empty, the value of $CASETRAIL_TOKEN
// (trimmed the same way; empty when unset). Errors: INVALID_ARGUMENT naming
// the file when it cannot be read or holds no token.
absl::StatusOr<std::string> ReadBearerToken(const std::string& token_file);

// A channel to options.target as described above. `args` are passed on
// (message sizes, distinct-channel keys); the TLS name override is added to
// them. Thread-safe, as grpc::Channel is. Errors: INVALID_ARGUMENT naming the
// option or file: a certificate, key or CA file that cannot be read or is
// empty; only one of tls_cert_file and tls_key_file; client certificate or
// tls_server_name without tls_ca_file; a token, purpose or reason that cannot
// travel as gRPC metadata (only printable ASCII can).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeClientChannel(
    const ClientChannelOptions& options,
    grpc::ChannelArguments args = grpc::ChannelArguments());

}  // namespace casetrail::tools

#endif  // CASETRAIL_TOOLS_CLIENT_CHANNEL_H_
