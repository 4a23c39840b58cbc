// tools/client_channel.h: the metadata a channel adds to every call, seen by
// an in-process server; where the bearer token comes from; and the option
// combinations refused before anything is sent.

#include "tools/client_channel.h"

#include <stdlib.h>

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "tests/testing/server_process.h"

namespace casetrail::tools {
namespace {

using ::casetrail::testing::TempDir;
using ::casetrail::testing::WriteWholeFile;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// A CaseLog whose GetLogInfo keeps the casetrail-relevant metadata of its
// caller.
class MetadataRecorder final : public v1::CaseLog::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetLogInfo(grpc::CallbackServerContext* context,
                                       const v1::GetLogInfoRequest*,
                                       v1::GetLogInfoResponse*) override {
    {
      absl::MutexLock l(&mu_);
      seen_.clear();
      for (const auto& [key, value] : context->client_metadata()) {
        const std::string k(key.data(), key.size());
        if (k == kAuthorizationMetadata || k == kPurposeMetadata ||
            k == kBreakGlassMetadata) {
          seen_.emplace(k, std::string(value.data(), value.size()));
        }
      }
    }
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  std::multimap<std::string, std::string> seen() const {
    absl::MutexLock l(&mu_);
    return seen_;
  }

 private:
  mutable absl::Mutex mu_;
  std::multimap<std::string, std::string> seen_ ABSL_GUARDED_BY(mu_);
};

class ClientChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&recorder_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // The metadata the server saw on the second of two calls over one channel
  // from `options` (the first call is not special).
  std::multimap<std::string, std::string> SeenOnCall(
      ClientChannelOptions options) {
    options.target = address_;
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        MakeClientChannel(options);
    EXPECT_TRUE(channel.ok()) << channel.status();
    if (!channel.ok()) return {};
    auto stub = v1::CaseLog::NewStub(*channel);
    for (int call = 0; call < 2; ++call) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      v1::GetLogInfoResponse response;
      grpc::Status status = stub->GetLogInfo(&context, {}, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
    return recorder_.seen();
  }

  MetadataRecorder recorder_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

TEST_F(ClientChannelTest, SendsTokenPurposeAndBreakGlassOnEveryCall) {
  ClientChannelOptions options;
  options.bearer_token = "eyJhbGciOiJFZERTQSJ9.e30.c2ln";
  options.purpose = "section 47 enquiry";
  options.break_glass_reason = "child missing overnight, police request";
  EXPECT_THAT(SeenOnCall(options),
              UnorderedElementsAre(
                  Pair("authorization", "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln"),
                  Pair("x-casetrail-purpose", "section 47 enquiry"),
                  Pair("x-casetrail-break-glass",
                       "child missing overnight, police request")));
}

TEST_F(ClientChannelTest, SendsOnlyWhatIsSet) {
  EXPECT_THAT(SeenOnCall({}), IsEmpty());
  ClientChannelOptions purpose_only;
  purpose_only.purpose = "direct-work";
  EXPECT_THAT(SeenOnCall(purpose_only),
              UnorderedElementsAre(Pair("x-casetrail-purpose", "direct-work")));
}

TEST(ClientChannelOptionsTest, RefusesWhatCannotWork) {
  struct Case {
    ClientChannelOptions options;
    const char* message;
  };
  ClientChannelOptions cert_without_ca;
  cert_without_ca.tls_cert_file = "client.crt";
  cert_without_ca.tls_key_file = "client.key";
  ClientChannelOptions name_without_ca;
  name_without_ca.tls_server_name = "localhost";
  ClientChannelOptions cert_without_key;
  cert_without_key.tls_ca_file = "ca.crt";
  cert_without_key.tls_cert_file = "client.crt";
  ClientChannelOptions missing_ca;
  missing_ca.tls_ca_file = "/nonexistent/ca.crt";
  ClientChannelOptions newline_in_purpose;
  newline_in_purpose.purpose = "direct-work\nx-injected: 1";
  ClientChannelOptions non_ascii_reason;
  non_ascii_reason.break_glass_reason = "enfant disparu \xc3\xa0 minuit";
  const Case cases[] = {
      {cert_without_ca,
       "a client certificate (--tls_cert_file/--tls_key_file) "
       "needs --tls_ca_file"},
      {name_without_ca, "--tls_server_name needs --tls_ca_file"},
      {cert_without_key, "go together"},
      {missing_ca, "cannot read TLS CA file /nonexistent/ca.crt"},
      {newline_in_purpose, "--purpose must be printable ASCII"},
      {non_ascii_reason, "--break_glass must be printable ASCII"},
  };
  for (const Case& c : cases) {
    ClientChannelOptions options = c.options;
    options.target = "127.0.0.1:1";
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        MakeClientChannel(options);
    EXPECT_EQ(channel.status().code(), absl::StatusCode::kInvalidArgument)
        << c.message;
    EXPECT_THAT(channel.status().message(), HasSubstr(c.message));
  }
}

TEST(ReadBearerTokenTest, FileWithoutSurroundingWhitespace) {
  TempDir dir;
  WriteWholeFile(dir.Sub("token"), "  eyJ.e30.sig\n\n");
  absl::StatusOr<std::string> token = ReadBearerToken(dir.Sub("token"));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "eyJ.e30.sig");
}

TEST(ReadBearerTokenTest, EmptyOrMissingFileIsNamed) {
  TempDir dir;
  WriteWholeFile(dir.Sub("empty"), "\n");
  absl::StatusOr<std::string> empty = ReadBearerToken(dir.Sub("empty"));
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(),
              HasSubstr("token file " + dir.Sub("empty") + " is empty"));
  absl::StatusOr<std::string> missing = ReadBearerToken(dir.Sub("missing"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("cannot read token file " + dir.Sub("missing")));
}

TEST(ReadBearerTokenTest, EnvironmentWhenNoFileIsNamed) {
  // No other thread runs yet to read the environment meanwhile.
  ASSERT_EQ(setenv("CASETRAIL_TOKEN", " eyJ.env.sig\n", 1), 0);
  absl::StatusOr<std::string> from_environment = ReadBearerToken("");
  ASSERT_EQ(unsetenv("CASETRAIL_TOKEN"), 0);
  ASSERT_TRUE(from_environment.ok()) << from_environment.status();
  EXPECT_EQ(*from_environment, "eyJ.env.sig");
  absl::StatusOr<std::string> none = ReadBearerToken("");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, "");
}

}  // namespace
}  // namespace casetrail::tools
