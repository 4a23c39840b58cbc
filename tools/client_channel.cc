#include "tools/client_channel.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/client_interceptor.h"
#include "security/file_text.h"

namespace casetrail::tools {
namespace {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// gRPC sends an ASCII metadata value as an HTTP/2 header value, which only
// printable ASCII may be; anything else would fail every call.
absl::Status CheckMetadataValue(absl::string_view value,
                                absl::string_view what) {
  const bool printable = absl::c_all_of(value, [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 &&
           static_cast<unsigned char>(c) <= 0x7e;
  });
  if (!printable) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must be printable ASCII (it travels as gRPC metadata)"));
  }
  return absl::OkStatus();
}

// Adds the same metadata to every call's initial metadata.
class CallMetadataInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit CallMetadataInterceptor(const Metadata* metadata)
      : metadata_(metadata) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::
                PRE_SEND_INITIAL_METADATA)) {
      std::multimap<std::string, std::string>* sent =
          methods->GetSendInitialMetadata();
      for (const auto& [key, value] : *metadata_) sent->emplace(key, value);
    }
    methods->Proceed();
  }

 private:
  const Metadata* metadata_;  // owned by the factory
};

// Owned by the channel, so it outlives every call's interceptor.
class CallMetadataInterceptorFactory
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit CallMetadataInterceptorFactory(Metadata metadata)
      : metadata_(std::move(metadata)) {}

  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return new CallMetadataInterceptor(&metadata_);
  }

 private:
  const Metadata metadata_;
};

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(
    const ClientChannelOptions& options) {
  const bool has_cert = !options.tls_cert_file.empty();
  const bool has_key = !options.tls_key_file.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        "--tls_cert_file and --tls_key_file go together (a client "
        "certificate and its key)");
  }
  if (options.tls_ca_file.empty()) {
    if (has_cert || !options.tls_server_name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          has_cert ? "a client certificate (--tls_cert_file/--tls_key_file)"
                   : "--tls_server_name",
          " needs --tls_ca_file, the CA certificates that the server's "
          "certificate is checked against"));
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> roots =
      security::ReadNonEmptyFile(options.tls_ca_file, "TLS CA file");
  if (!roots.ok()) return roots.status();
  ssl.pem_root_certs = *std::move(roots);
  if (has_cert) {
    absl::StatusOr<std::string> cert = security::ReadNonEmptyFile(
        options.tls_cert_file, "TLS certificate file");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        security::ReadNonEmptyFile(options.tls_key_file, "TLS key file");
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::string> ReadBearerToken(const std::string& token_file) {
  if (token_file.empty()) {
    const char* from_environment = std::getenv(kTokenEnvironmentVariable);
    return std::string(absl::StripAsciiWhitespace(
        from_environment == nullptr ? "" : from_environment));
  }
  absl::StatusOr<std::string> text =
      security::ReadNonEmptyFile(token_file, "token file");
  if (!text.ok()) return text.status();
  return std::string(absl::StripAsciiWhitespace(*text));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeClientChannel(
    const ClientChannelOptions& options, grpc::ChannelArguments args) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeCredentials(options);
  if (!credentials.ok()) return credentials.status();
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }

  Metadata metadata;
  const std::pair<absl::string_view, absl::string_view> fields[] = {
      {"the bearer token", options.bearer_token},
      {"--purpose", options.purpose},
      {"--break_glass", options.break_glass_reason}};
  for (const auto& [what, value] : fields) {
    if (absl::Status s = CheckMetadataValue(value, what); !s.ok()) return s;
  }
  if (!options.bearer_token.empty()) {
    metadata.emplace_back(kAuthorizationMetadata,
                          absl::StrCat("Bearer ", options.bearer_token));
  }
  if (!options.purpose.empty()) {
    metadata.emplace_back(kPurposeMetadata, options.purpose);
  }
  if (!options.break_glass_reason.empty()) {
    metadata.emplace_back(kBreakGlassMetadata, options.break_glass_reason);
  }
  if (metadata.empty()) {
    return grpc::CreateCustomChannel(options.target, *credentials, args);
  }
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      std::make_unique<CallMetadataInterceptorFactory>(std::move(metadata)));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      options.target, *credentials, args, std::move(interceptors));
}

}  // namespace casetrail::tools
