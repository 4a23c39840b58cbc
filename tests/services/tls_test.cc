// casetraild's transport end to end: the real casetraild serving TLS and mTLS
// with certificates made at test time, clients that do and do not trust it or
// present a certificate, the starts it refuses, the casetrail CLI over TLS,
// and, on an in-process server, the names PeerCertificateNames reads from a
// handshake.
//
// A server with TLS runs with security on (casetraild requires it), so a call
// that crosses the transport without credentials is answered UNAUTHENTICATED:
// the answer shows the transport carried it. The configured system is the
// trusted client certificate's; a person's bearer token comes from a test
// identity provider.

#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "security/jwt.h"
#include "services/transport.h"
#include "tests/testing/cli_process.h"
#include "tests/testing/server_process.h"
#include "tests/testing/test_certificates.h"

namespace casetrail {
namespace {

using ::casetrail::testing::CliResult;
using ::casetrail::testing::Describe;
using ::casetrail::testing::kClientAltName;
using ::casetrail::testing::kClientName;
using ::casetrail::testing::ReadWholeFile;
using ::casetrail::testing::RunCasetrail;
using ::casetrail::testing::ServerProcess;
using ::casetrail::testing::TempDir;
using ::casetrail::testing::TestCertificates;
using ::casetrail::testing::WriteWholeFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// A client's TLS: the roots it trusts and the certificate it presents.
struct ClientTls {
  std::string ca_file;
  std::string cert_file;  // empty: present none
  std::string key_file;
};

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address,
                                          const ClientTls& tls) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadWholeFile(tls.ca_file);
  if (!tls.cert_file.empty()) {
    ssl.pem_cert_chain = ReadWholeFile(tls.cert_file);
    ssl.pem_private_key = ReadWholeFile(tls.key_file);
  }
  return grpc::CreateChannel(address, grpc::SslCredentials(ssl));
}

std::shared_ptr<grpc::Channel> PlaintextChannel(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

constexpr char kIssuer[] = "https://idp.northshire.test";

// The security configuration the TLS servers run with (idp.pub beside it).
constexpr char kSecurityConfig[] = R"(
tenants { id: "northshire" name: "Northshire County Council" }
tenants { id: "southvale" name: "Southvale Borough Council" }
token_issuers {
  issuer: "https://idp.northshire.test" audience: "casetrail"
  keys { public_key_file: "idp.pub" } tenants: "northshire"
}
systems {
  certificate_name: "mosaic.northshire.test" system_id: "mosaic-northshire"
  tenant: "northshire"
}
rpc_permissions {
  method: "casetrail.v1.CaseLog/GetLogInfo"
  roles: [ROLE_UPSTREAM_SYSTEM, ROLE_SOCIAL_WORKER]
}
rpc_permissions {
  method: "casetrail.v1.CaseLog/AppendEvents" roles: [ROLE_UPSTREAM_SYSTEM]
}
purposes: "direct-work"
)";

// One opaque event for `stream`.
v1::AppendEventsRequest OneEvent(const std::string& stream,
                                 const std::string& event_id) {
  v1::AppendEventsRequest request;
  request.set_stream_id(stream);
  request.mutable_expected_version()->set_kind(v1::ExpectedVersion::KIND_ANY);
  v1::CaseEvent* e = request.add_events();
  e->set_event_id(event_id);
  e->set_event_type("CaseNoteRecorded");
  e->mutable_occurred_at()->mutable_time()->set_seconds(1772000000);
  e->mutable_occurred_at()->set_precision(v1::TIME_PRECISION_EXACT);
  e->mutable_recorded_by()->set_user_id("mosaic-import");
  e->mutable_opaque()->set_content_type("application/json");
  e->mutable_opaque()->set_data("{}");
  return request;
}

// GetLogInfo, with "authorization: Bearer `token`" if `token` is not empty.
grpc::Status GetLogInfo(const std::shared_ptr<grpc::Channel>& channel,
                        const std::string& token = "") {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  v1::GetLogInfoResponse response;
  return v1::CaseLog::NewStub(channel)->GetLogInfo(&context, {}, &response);
}

grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = grpc::health::v1::Health::NewStub(channel)->Check(
      &context, {}, &response);
  if (status.ok() &&
      response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return grpc::Status(grpc::StatusCode::UNKNOWN, "not SERVING");
  }
  return status;
}

std::string Show(const grpc::Status& status) {
  return std::to_string(status.error_code()) + " " + status.error_message();
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificates> certificates =
        testing::MakeTestCertificates(dir_.path());
    ASSERT_TRUE(certificates.ok()) << certificates.status();
    certs_ = *certificates;

    absl::StatusOr<security::KeyPairPem> idp =
        security::GenerateEd25519KeyPair();
    ASSERT_TRUE(idp.ok()) << idp.status();
    WriteWholeFile(dir_.Sub("idp.pub"), idp->public_key_pem);
    WriteWholeFile(security_config_, kSecurityConfig);
    security::TokenClaims claims;
    claims.issuer = kIssuer;
    claims.audience = {"casetrail"};
    claims.subject = "ns-lwilliams";
    claims.role = "social_worker";
    claims.tenant = "northshire";
    claims.issued_at = absl::Now();
    claims.expires_at = absl::Now() + absl::Hours(1);
    absl::StatusOr<std::string> token =
        security::SignJwt(claims, idp->private_key_pem, "");
    ASSERT_TRUE(token.ok()) << token.status();
    token_ = *token;
    WriteWholeFile(token_file_, token_ + "\n");
  }

  // casetraild serving TLS, and with `mtls` verifying client certificates
  // against the test CA.
  std::unique_ptr<ServerProcess> StartTlsServer(bool mtls) {
    ServerProcess::Options options;
    options.data_dir = dir_.Sub("data");
    options.plaintext = false;
    options.extra_flags = {"--checkpoint_interval=0",
                           "--security_config=" + security_config_,
                           "--tls_cert_file=" + certs_.server_cert,
                           "--tls_key_file=" + certs_.server_key};
    if (mtls) {
      options.extra_flags.push_back("--tls_client_ca_file=" + certs_.ca_cert);
    }
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start(std::move(options));
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  // The stderr of a casetraild expected to refuse to start with `flags` (and
  // without --plaintext_loopback unless `flags` has it).
  std::string RefusedStart(std::vector<std::string> flags) {
    ServerProcess::Options options;
    options.data_dir = dir_.Sub("refused");
    options.plaintext = false;
    options.extra_flags = std::move(flags);
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start(std::move(options));
    EXPECT_EQ(server.status().code(), absl::StatusCode::kUnavailable)
        << "expected casetraild to exit before listening; got "
        << server.status();
    if (server.ok()) return "";
    // The message is "<command> exited with code N before listening; stderr:
    // ..."; only the stderr part says what casetraild thought, since the
    // command line holds the flags.
    const std::string message(server.status().message());
    EXPECT_THAT(message, HasSubstr("exited with code 1 before listening"));
    const size_t at = message.find("; stderr:\n");
    EXPECT_NE(at, std::string::npos) << message;
    return at == std::string::npos ? message : message.substr(at);
  }

  ClientTls TrustingClient() const { return {certs_.ca_cert, "", ""}; }
  ClientTls TrustedCertClient() const {
    return {certs_.ca_cert, certs_.client_cert, certs_.client_key};
  }
  ClientTls UntrustedCertClient() const {
    return {certs_.ca_cert, certs_.untrusted_cert, certs_.untrusted_key};
  }

  TempDir dir_;
  TestCertificates certs_;
  const std::string security_config_ = dir_.Sub("security.textproto");
  // A social worker's bearer token from the configured identity provider.
  std::string token_;
  const std::string token_file_ = dir_.Sub("token.jwt");
};

TEST_F(TlsTest, TlsClientTrustingTheCaCallsCaseLogAndHealth) {
  std::unique_ptr<ServerProcess> server = StartTlsServer(/*mtls=*/false);
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(server->StderrText(),
              HasSubstr("transport TLS, certificate " + certs_.server_cert));
  auto channel = TlsChannel(server->address(), TrustingClient());
  grpc::Status info = GetLogInfo(channel, token_);
  EXPECT_TRUE(info.ok()) << Show(info);
  grpc::Status health = HealthCheck(channel);
  EXPECT_TRUE(health.ok()) << Show(health);
  // Without a token the server answers, and asks who is calling.
  EXPECT_EQ(GetLogInfo(channel).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // The certificate names localhost too.
  grpc::Status by_name = GetLogInfo(
      TlsChannel(absl::StrCat("localhost:", server->port()), TrustingClient()),
      token_);
  EXPECT_TRUE(by_name.ok()) << Show(by_name);
}

TEST_F(TlsTest, TlsServerRefusesPlaintextClients) {
  std::unique_ptr<ServerProcess> server = StartTlsServer(/*mtls=*/false);
  ASSERT_NE(server, nullptr);
  auto channel = PlaintextChannel(server->address());
  EXPECT_EQ(GetLogInfo(channel, token_).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(HealthCheck(channel).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(server->running());
}

TEST_F(TlsTest, ClientNotTrustingTheServerCertificateFails) {
  std::unique_ptr<ServerProcess> server = StartTlsServer(/*mtls=*/false);
  ASSERT_NE(server, nullptr);
  // Roots that did not issue the server's certificate.
  auto channel = TlsChannel(server->address(), {certs_.untrusted_cert, "", ""});
  EXPECT_EQ(GetLogInfo(channel, token_).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(HealthCheck(channel).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MtlsAcceptsTrustedCertificatesAndClientsWithoutOne) {
  std::unique_ptr<ServerProcess> server = StartTlsServer(/*mtls=*/true);
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(
      server->StderrText(),
      HasSubstr("transport mTLS, certificate " + certs_.server_cert +
                "; client certificates verified against " + certs_.ca_cert));
  // The certificate alone authenticates the system it names.
  grpc::Status trusted =
      GetLogInfo(TlsChannel(server->address(), TrustedCertClient()));
  EXPECT_TRUE(trusted.ok()) << Show(trusted);
  // People connect without a certificate and authenticate with tokens.
  auto no_cert = TlsChannel(server->address(), TrustingClient());
  grpc::Status with_token = GetLogInfo(no_cert, token_);
  EXPECT_TRUE(with_token.ok()) << Show(with_token);
  grpc::Status health = HealthCheck(no_cert);
  EXPECT_TRUE(health.ok()) << Show(health);
}

// The client certificate is the upstream system's whole credential: it
// appends to its own authority's cases, and to no other's.
TEST_F(TlsTest, MtlsSystemAppendsToItsOwnTenantOnly) {
  std::unique_ptr<ServerProcess> server = StartTlsServer(/*mtls=*/true);
  ASSERT_NE(server, nullptr);
  auto system =
      v1::CaseLog::NewStub(TlsChannel(server->address(), TrustedCertClient()));
  auto append = [&](const std::string& stream, const std::string& id) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    v1::AppendEventsResponse response;
    return system->AppendEvents(&context, OneEvent(stream, id), &response);
  };
  grpc::Status own = append("northshire/case-1", "tls-own-1");
  EXPECT_TRUE(own.ok()) << Show(own);
  grpc::Status other = append("southvale/case-1", "tls-other-1");
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Show(other);
  // Without a certificate, and without a token, nothing is appended.
  auto anonymous =
      v1::CaseLog::NewStub(TlsChannel(server->address(), TrustingClient()));
  grpc::ClientContext context;
  v1::AppendEventsResponse response;
  EXPECT_EQ(
      anonymous
          ->AppendEvents(&context, OneEvent("northshire/case-1", "tls-anon-1"),
                         &response)
          .error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TlsTest, MtlsRefusesAnUntrustedClientCertificate) {
  std::unique_ptr<ServerProcess> server = StartTlsServer(/*mtls=*/true);
  ASSERT_NE(server, nullptr);
  auto channel = TlsChannel(server->address(), UntrustedCertClient());
  // Not even a valid token gets a call past the refused handshake.
  EXPECT_EQ(GetLogInfo(channel, token_).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(HealthCheck(channel).error_code(), grpc::StatusCode::UNAVAILABLE);
  // The refusal was the handshake's: the server is still up for others.
  grpc::Status trusted =
      GetLogInfo(TlsChannel(server->address(), TrustedCertClient()));
  EXPECT_TRUE(trusted.ok()) << Show(trusted);
}

TEST_F(TlsTest, PlaintextLoopbackServesPlaintextAndSaysSo) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(dir_.Sub("data"));
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string text = (*server)->StderrText();
  EXPECT_THAT(text, HasSubstr("transport plaintext on loopback"));
  // Tests and scripts wait for the listening line: it stays the last.
  EXPECT_LT(text.find("transport plaintext"), text.find("listening on"));
  grpc::Status info = GetLogInfo(PlaintextChannel((*server)->address()));
  EXPECT_TRUE(info.ok()) << Show(info);
}

TEST_F(TlsTest, RefusesToStartWithoutTlsOrPlaintextLoopback) {
  EXPECT_THAT(RefusedStart({}),
              AllOf(HasSubstr("cannot start: FAILED_PRECONDITION"),
                    HasSubstr("--tls_cert_file and --tls_key_file"),
                    HasSubstr("--plaintext_loopback with a loopback --listen"),
                    Not(HasSubstr("listening on"))));
}

TEST_F(TlsTest, RefusesPlaintextLoopbackOnAWildcardAddress) {
  // Later flags win: this --listen replaces ServerProcess's loopback one.
  EXPECT_THAT(
      RefusedStart({"--plaintext_loopback", "--listen=0.0.0.0:0"}),
      AllOf(HasSubstr("--plaintext_loopback serves only a loopback --listen "
                      "address, not 0.0.0.0:0"),
            Not(HasSubstr("listening on"))));
}

TEST_F(TlsTest, RefusesACertificateWithoutItsKey) {
  EXPECT_THAT(RefusedStart({"--tls_cert_file=" + certs_.server_cert}),
              AllOf(HasSubstr("cannot start: INVALID_ARGUMENT"),
                    HasSubstr("--tls_cert_file and --tls_key_file go together"),
                    Not(HasSubstr("listening on"))));
}

TEST_F(TlsTest, RefusesAKeyFileOthersCanRead) {
  ASSERT_EQ(chmod(certs_.server_key.c_str(), 0644), 0);
  EXPECT_THAT(RefusedStart({"--tls_cert_file=" + certs_.server_cert,
                            "--tls_key_file=" + certs_.server_key}),
              AllOf(HasSubstr("TLS key file " + certs_.server_key +
                              " can be read by others (mode 0644)"),
                    HasSubstr("chmod 600 " + certs_.server_key),
                    Not(HasSubstr("listening on"))));
}

// Giving up fsync is for benchmarks on a development server, never for a
// server that others can reach.
TEST_F(TlsTest, RefusesUnsafeNoFsyncOnATlsServer) {
  EXPECT_THAT(RefusedStart({"--unsafe_no_fsync",
                            "--security_config=" + security_config_,
                            "--tls_cert_file=" + certs_.server_cert,
                            "--tls_key_file=" + certs_.server_key}),
              AllOf(HasSubstr("--unsafe_no_fsync"),
                    HasSubstr("needs --plaintext_loopback"),
                    Not(HasSubstr("listening on"))));
  // Refused before the store was opened.
  EXPECT_NE(access(dir_.Sub("refused").c_str(), F_OK), 0);
}

TEST_F(TlsTest, RefusesPlaintextLoopbackWithTlsFiles) {
  EXPECT_THAT(RefusedStart({"--plaintext_loopback",
                            "--tls_cert_file=" + certs_.server_cert,
                            "--tls_key_file=" + certs_.server_key}),
              AllOf(HasSubstr("contradict"), Not(HasSubstr("listening on"))));
}

TEST_F(TlsTest, RefusesAKeyThatIsNotTheCertificates) {
  EXPECT_THAT(
      RefusedStart({"--tls_cert_file=" + certs_.server_cert,
                    "--tls_key_file=" + certs_.client_key}),
      HasSubstr("TLS key file " + certs_.client_key +
                " is not the key of the certificate in " + certs_.server_cert));
}

TEST_F(TlsTest, CliOverTls) {
  std::unique_ptr<ServerProcess> server = StartTlsServer(/*mtls=*/false);
  ASSERT_NE(server, nullptr);
  const std::string at = "--server=" + server->address();
  const std::string ca = "--tls_ca_file=" + certs_.ca_cert;
  const std::string token = "--token_file=" + token_file_;
  CliResult info = RunCasetrail({at, ca, token, "info"});
  EXPECT_EQ(info.exit_code, 0) << Describe(info);
  EXPECT_THAT(info.out, HasSubstr("log size"));
  CliResult health = RunCasetrail({at, ca, "health"});
  EXPECT_EQ(health.exit_code, 0) << Describe(health);
  EXPECT_THAT(health.out, HasSubstr("SERVING"));
  // Without a token the server answers (exit 1, not 3: it was reached).
  CliResult anonymous = RunCasetrail({at, ca, "info"});
  EXPECT_EQ(anonymous.exit_code, 1) << Describe(anonymous);
  EXPECT_THAT(anonymous.err, HasSubstr("UNAUTHENTICATED"));

  // The name checked in the server's certificate can be given.
  CliResult named =
      RunCasetrail({at, ca, token, "--tls_server_name=localhost", "info"});
  EXPECT_EQ(named.exit_code, 0) << Describe(named);
  CliResult misnamed = RunCasetrail(
      {at, ca, token, "--tls_server_name=casetrail.example.org", "info"});
  EXPECT_NE(misnamed.exit_code, 0) << Describe(misnamed);
  EXPECT_THAT(misnamed.err, Not(HasSubstr("UNAUTHENTICATED")));

  CliResult plaintext = RunCasetrail({at, token, "--timeout=5", "info"});
  EXPECT_NE(plaintext.exit_code, 0) << Describe(plaintext);
  EXPECT_THAT(plaintext.err, Not(HasSubstr("UNAUTHENTICATED")));
}

TEST_F(TlsTest, CliTakesTheTokenFromTheEnvironment) {
  std::unique_ptr<ServerProcess> server = StartTlsServer(/*mtls=*/false);
  ASSERT_NE(server, nullptr);
  // The child inherits the environment; nothing else in this process reads
  // it meanwhile.
  ASSERT_EQ(setenv("CASETRAIL_TOKEN", (token_ + "\n").c_str(), 1), 0);
  CliResult info = RunCasetrail({"--server=" + server->address(),
                                 "--tls_ca_file=" + certs_.ca_cert, "info"});
  unsetenv("CASETRAIL_TOKEN");
  EXPECT_EQ(info.exit_code, 0) << Describe(info);
}

TEST_F(TlsTest, CliPresentsAClientCertificate) {
  std::unique_ptr<ServerProcess> server = StartTlsServer(/*mtls=*/true);
  ASSERT_NE(server, nullptr);
  const std::string at = "--server=" + server->address();
  CliResult trusted =
      RunCasetrail({at, "--tls_ca_file=" + certs_.ca_cert,
                    "--tls_cert_file=" + certs_.client_cert,
                    "--tls_key_file=" + certs_.client_key, "info"});
  EXPECT_EQ(trusted.exit_code, 0) << Describe(trusted);
  CliResult untrusted = RunCasetrail(
      {at, "--tls_ca_file=" + certs_.ca_cert,
       "--tls_cert_file=" + certs_.untrusted_cert,
       "--tls_key_file=" + certs_.untrusted_key, "--timeout=5", "info"});
  EXPECT_NE(untrusted.exit_code, 0) << Describe(untrusted);
}

TEST_F(TlsTest, CliRefusesInconsistentTlsFlags) {
  CliResult no_roots = RunCasetrail(
      {"--server=127.0.0.1:1", "--tls_cert_file=" + certs_.client_cert,
       "--tls_key_file=" + certs_.client_key, "info"});
  EXPECT_EQ(no_roots.exit_code, 2) << Describe(no_roots);
  EXPECT_THAT(no_roots.err, HasSubstr("needs --tls_ca_file"));
  CliResult no_key =
      RunCasetrail({"--server=127.0.0.1:1", "--tls_ca_file=" + certs_.ca_cert,
                    "--tls_cert_file=" + certs_.client_cert, "info"});
  EXPECT_EQ(no_key.exit_code, 2) << Describe(no_key);
  EXPECT_THAT(no_key.err, HasSubstr("go together"));
  const std::string missing = dir_.Sub("missing-ca.pem");
  CliResult unreadable = RunCasetrail(
      {"--server=127.0.0.1:1", "--tls_ca_file=" + missing, "info"});
  EXPECT_EQ(unreadable.exit_code, 2) << Describe(unreadable);
  EXPECT_THAT(unreadable.err, HasSubstr("cannot read TLS CA file " + missing));
}

// A CaseLog whose GetLogInfo notes PeerCertificateNames of its caller.
class PeerNamesService final : public v1::CaseLog::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetLogInfo(grpc::CallbackServerContext* context,
                                       const v1::GetLogInfoRequest*,
                                       v1::GetLogInfoResponse*) override {
    {
      absl::MutexLock l(&mu_);
      names_ = services::PeerCertificateNames(*context->auth_context());
    }
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  std::vector<std::string> names() const {
    absl::MutexLock l(&mu_);
    return names_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> names_ ABSL_GUARDED_BY(mu_);
};

// PeerCertificateNames after a real handshake, on an in-process server with
// MakeServerCredentials' credentials.
class PeerCertificateNamesOverTlsTest : public TlsTest {
 protected:
  // Serves PeerNamesService on 127.0.0.1 with `tls` (plaintext if empty);
  // returns the address.
  std::string Serve(const services::TlsOptions& tls) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        services::MakeServerCredentials(tls, tls.cert_file.empty(),
                                        "127.0.0.1:0");
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    if (!credentials.ok()) return "";
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
    return "127.0.0.1:" + std::to_string(port);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // The names the server saw on a call from `channel`.
  std::vector<std::string> NamesSeen(
      const std::shared_ptr<grpc::Channel>& channel) {
    grpc::Status status = casetrail::GetLogInfo(channel);
    EXPECT_TRUE(status.ok()) << Show(status);
    return service_.names();
  }

  PeerNamesService service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(PeerCertificateNamesOverTlsTest,
       CommonNameAndDnsNamesOfAVerifiedClient) {
  const std::string address =
      Serve({certs_.server_cert, certs_.server_key, certs_.ca_cert});
  EXPECT_THAT(NamesSeen(TlsChannel(address, TrustedCertClient())),
              ElementsAre(kClientName, kClientAltName));
}

TEST_F(PeerCertificateNamesOverTlsTest, NoNamesWithoutAClientCertificate) {
  const std::string address =
      Serve({certs_.server_cert, certs_.server_key, certs_.ca_cert});
  EXPECT_THAT(NamesSeen(TlsChannel(address, TrustingClient())), IsEmpty());
}

TEST_F(PeerCertificateNamesOverTlsTest,
       NoNamesWhenClientCertificatesAreNotVerified) {
  // Without a client CA the server does not ask for a certificate, so one the
  // client has is never sent, let alone believed.
  const std::string address =
      Serve({certs_.server_cert, certs_.server_key, ""});
  EXPECT_THAT(NamesSeen(TlsChannel(address, TrustedCertClient())), IsEmpty());
}

TEST_F(PeerCertificateNamesOverTlsTest, NoNamesOverPlaintext) {
  const std::string address = Serve({});
  EXPECT_THAT(NamesSeen(PlaintextChannel(address)), IsEmpty());
}

}  // namespace
}  // namespace casetrail
