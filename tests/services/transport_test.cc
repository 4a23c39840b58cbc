// services/transport.h without a server: which listen addresses count as
// loopback, which TLS settings MakeServerCredentials accepts and what it says
// about the others, and which certificate names PeerCertificateNames reports.

#include "services/transport.h"

#include <sys/stat.h>

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/server_process.h"
#include "tests/testing/test_certificates.h"

namespace casetrail::services {
namespace {

using ::casetrail::testing::MakeTestCertificates;
using ::casetrail::testing::TempDir;
using ::casetrail::testing::TestCertificates;
using ::casetrail::testing::WriteWholeFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(IsLoopbackListenAddressTest, LoopbackAddresses) {
  for (const char* address :
       {"127.0.0.1:0", "127.0.0.1:50051", "127.1.2.3:5", "127.255.255.254:1",
        "[::1]:9", "[0:0:0:0:0:0:0:1]:9", "[::ffff:127.0.0.1]:9", "localhost:1",
        "LOCALHOST:65535"}) {
    EXPECT_TRUE(IsLoopbackListenAddress(address)) << address;
  }
}

TEST(IsLoopbackListenAddressTest, EverythingElse) {
  for (const char* address : {"",
                              "0.0.0.0",
                              "0.0.0.0:0",
                              "0.0.0.0:50051",
                              "[::]",
                              "[::]:50051",
                              "10.0.0.1:1",
                              "128.0.0.1:1",
                              "126.255.255.255:1",
                              "127.0.0.1.evil.com:1",
                              "localhost.evil.com:1",
                              "evil-localhost:1",
                              "127.0.0.1",
                              "127.0.0.1:",
                              "127.0.0.1:http",
                              "127.0.0.1:65536",
                              "127.0.0.1:-1",
                              "127.1:1",
                              "::1:9",
                              "[::1]",
                              "[::1]9",
                              "[::2]:9",
                              "unix:/tmp/casetrail.sock",
                              "ipv4:127.0.0.1:1",
                              " 127.0.0.1:1",
                              "localhost"}) {
    EXPECT_FALSE(IsLoopbackListenAddress(address)) << '"' << address << '"';
  }
}

TEST(MakeServerCredentialsTest, PlaintextOnlyWhenAskedForOnLoopback) {
  EXPECT_TRUE(MakeServerCredentials({}, true, "127.0.0.1:0").ok());
  EXPECT_TRUE(MakeServerCredentials({}, true, "[::1]:50051").ok());
  EXPECT_TRUE(MakeServerCredentials({}, true, "localhost:50051").ok());

  auto not_asked = MakeServerCredentials({}, false, "127.0.0.1:0");
  EXPECT_EQ(not_asked.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(not_asked.status().message(),
              AllOf(HasSubstr("--tls_cert_file"), HasSubstr("--tls_key_file"),
                    HasSubstr("--plaintext_loopback")));

  auto wildcard = MakeServerCredentials({}, true, "0.0.0.0:50051");
  EXPECT_EQ(wildcard.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      wildcard.status().message(),
      AllOf(HasSubstr("--plaintext_loopback serves only a loopback"),
            HasSubstr("not 0.0.0.0:50051"), HasSubstr("--tls_cert_file")));
}

TEST(MakeServerCredentialsTest, InconsistentFlagsAreInvalidArguments) {
  struct Case {
    TlsOptions tls;
    bool plaintext_loopback;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"server.crt", "", ""}, false, "only --tls_cert_file=server.crt"},
      {{"", "server.key", ""}, false, "only --tls_key_file=server.key"},
      {{"server.crt", "", "ca.crt"}, false, "go together"},
      {{"", "", "ca.crt"}, false, "--tls_client_ca_file"},
      {{"", "", "ca.crt"}, true, "--tls_client_ca_file"},
      {{"server.crt", "server.key", ""}, true, "contradict"},
  };
  for (const Case& c : cases) {
    auto credentials =
        MakeServerCredentials(c.tls, c.plaintext_loopback, "127.0.0.1:0");
    EXPECT_EQ(credentials.status().code(), absl::StatusCode::kInvalidArgument)
        << c.message;
    EXPECT_THAT(credentials.status().message(), HasSubstr(c.message));
  }
}

class MakeServerCredentialsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificates> certificates =
        MakeTestCertificates(dir_.path());
    ASSERT_TRUE(certificates.ok()) << certificates.status();
    certs_ = *certificates;
  }

  absl::Status Make(const TlsOptions& tls) {
    return MakeServerCredentials(tls, false, "0.0.0.0:50051").status();
  }

  TempDir dir_;
  TestCertificates certs_;
};

TEST_F(MakeServerCredentialsFilesTest, TlsAndMtlsWithUsableFiles) {
  EXPECT_TRUE(Make({certs_.server_cert, certs_.server_key, ""}).ok());
  EXPECT_TRUE(
      Make({certs_.server_cert, certs_.server_key, certs_.ca_cert}).ok());
}

TEST_F(MakeServerCredentialsFilesTest, UnusableFilesAreNamed) {
  const std::string missing = dir_.Sub("missing.pem");
  const std::string empty = dir_.Sub("empty.pem");
  const std::string not_pem = dir_.Sub("not.pem");
  WriteWholeFile(empty, "\n");
  WriteWholeFile(not_pem, "certificate goes here\n");
  ASSERT_EQ(chmod(not_pem.c_str(), 0600), 0);
  const std::string& cert = certs_.server_cert;
  const std::string& key = certs_.server_key;
  const std::map<std::string, TlsOptions> cases = {
      {"cannot read TLS certificate file " + missing, {missing, key, ""}},
      {"TLS certificate file " + empty + " is empty", {empty, key, ""}},
      {"TLS certificate file " + not_pem + " holds no PEM certificate",
       {not_pem, key, ""}},
      {"cannot read TLS key file " + missing, {cert, missing, ""}},
      {"TLS key file " + not_pem + " holds no unencrypted PEM private key",
       {cert, not_pem, ""}},
      {"TLS key file " + certs_.client_key +
           " is not the key of the certificate in " + cert,
       {cert, certs_.client_key, ""}},
      {"cannot read TLS client CA file " + missing, {cert, key, missing}},
      {"TLS client CA file " + not_pem + " holds no PEM certificate",
       {cert, key, not_pem}},
  };
  for (const auto& [message, tls] : cases) {
    absl::Status status = Make(tls);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_THAT(status.message(), HasSubstr(message));
  }
}

TEST_F(MakeServerCredentialsFilesTest, KeyReadableByOthersIsRefused) {
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    ASSERT_EQ(chmod(certs_.server_key.c_str(), mode), 0);
    absl::Status status = Make({certs_.server_cert, certs_.server_key, ""});
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << mode;
    EXPECT_THAT(status.message(),
                AllOf(HasSubstr("TLS key file " + certs_.server_key),
                      HasSubstr("chmod 600 " + certs_.server_key)));
  }
  ASSERT_EQ(chmod(certs_.server_key.c_str(), 0400), 0);
  EXPECT_TRUE(Make({certs_.server_cert, certs_.server_key, ""}).ok());
}

// An AuthContext holding given properties, as gRPC's would after a handshake.
class FakeAuthContext : public grpc::AuthContext {
 public:
  FakeAuthContext(bool authenticated,
                  std::multimap<std::string, std::string> properties)
      : authenticated_(authenticated), properties_(std::move(properties)) {}

  bool IsPeerAuthenticated() const override { return authenticated_; }
  std::vector<grpc::string_ref> GetPeerIdentity() const override {
    return FindPropertyValues("x509_common_name");
  }
  std::string GetPeerIdentityPropertyName() const override {
    return "x509_common_name";
  }
  std::vector<grpc::string_ref> FindPropertyValues(
      const std::string& name) const override {
    std::vector<grpc::string_ref> values;
    auto [begin, end] = properties_.equal_range(name);
    for (auto it = begin; it != end; ++it) values.emplace_back(it->second);
    return values;
  }
  grpc::AuthPropertyIterator begin() const override { return NoProperties(); }
  grpc::AuthPropertyIterator end() const override { return NoProperties(); }
  void AddProperty(const std::string& key,
                   const grpc::string_ref& value) override {
    properties_.emplace(key, std::string(value.data(), value.size()));
  }
  bool SetPeerIdentityPropertyName(const std::string& name) override {
    return false;
  }

 private:
  // PeerCertificateNames looks properties up by name and never iterates.
  class NoProperties : public grpc::AuthPropertyIterator {};

  bool authenticated_;
  std::multimap<std::string, std::string> properties_;
};

const std::multimap<std::string, std::string> kVerifiedClient = {
    {"transport_security_type", "ssl"},
    {"x509_common_name", "mosaic.northshire.test"},
    {"x509_subject_alternative_name", "mosaic.northshire.test"},
    {"x509_subject_alternative_name", "mosaic-api.northshire.test"},
    {"x509_subject_alternative_name", "10.1.2.3"},
    {"peer_dns", "mosaic.northshire.test"},
    {"peer_dns", "mosaic-api.northshire.test"},
    {"peer_ip", "10.1.2.3"},
};

TEST(PeerCertificateNamesTest, CommonNameThenDnsNamesOfAVerifiedPeer) {
  EXPECT_THAT(
      PeerCertificateNames(FakeAuthContext(true, kVerifiedClient)),
      ElementsAre("mosaic.northshire.test", "mosaic-api.northshire.test"));
}

TEST(PeerCertificateNamesTest, NothingFromAnUnauthenticatedPeer) {
  EXPECT_THAT(PeerCertificateNames(FakeAuthContext(false, kVerifiedClient)),
              IsEmpty());
}

TEST(PeerCertificateNamesTest, NothingOverAnotherTransport) {
  std::multimap<std::string, std::string> properties = kVerifiedClient;
  properties.erase("transport_security_type");
  EXPECT_THAT(PeerCertificateNames(FakeAuthContext(true, properties)),
              IsEmpty());
  properties.emplace("transport_security_type", "insecure");
  EXPECT_THAT(PeerCertificateNames(FakeAuthContext(true, properties)),
              IsEmpty());
}

}  // namespace
}  // namespace casetrail::services
