#include "tests/testing/test_certificates.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/testing/cli_process.h"

namespace casetrail::testing {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";

absl::Status Openssl(const std::vector<std::string>& args) {
  const CliResult result = RunProgram(kOpenssl, args, absl::Seconds(30));
  if (result.exit_code != 0) return absl::InternalError(Describe(result));
  return absl::OkStatus();
}

// An openssl configuration naming the subject `common_name` and holding the
// section [ext] of `extensions` (one "name = value" per line), so that what
// goes into a certificate does not depend on the machine's openssl.cnf.
absl::StatusOr<std::string> WriteConfig(const std::string& path,
                                        const std::string& common_name,
                                        const std::string& extensions) {
  std::ofstream out(path, std::ios::trunc);
  out << "[req]\ndistinguished_name = dn\nprompt = no\n"
      << "[dn]\nCN = " << common_name << "\n[ext]\n"
      << extensions;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return path;
}

// A new P-256 key in `key` and a self-signed certificate for it in `cert`.
absl::Status SelfSigned(const std::string& config, const std::string& key,
                        const std::string& cert) {
  return Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                  "-out", cert, "-days", "2", "-sha256", "-config", config,
                  "-extensions", "ext"});
}

// A new P-256 key in `key` and a certificate for it in `cert`, issued by the
// CA in `ca_cert`/`ca_key`.
absl::Status Issued(const std::string& config, const std::string& key,
                    const std::string& cert, const std::string& ca_cert,
                    const std::string& ca_key, int serial) {
  const std::string request = cert + ".csr";
  if (absl::Status s =
          Openssl({"req", "-new", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                   "-out", request, "-config", config});
      !s.ok()) {
    return s;
  }
  return Openssl({"x509", "-req", "-in", request, "-CA", ca_cert, "-CAkey",
                  ca_key, "-set_serial", absl::StrCat(serial), "-days", "2",
                  "-sha256", "-extfile", config, "-extensions", "ext", "-out",
                  cert});
}

}  // namespace

absl::StatusOr<TestCertificates> MakeTestCertificates(const std::string& dir) {
  TestCertificates c;
  c.ca_cert = dir + "/ca.crt";
  const std::string ca_key = dir + "/ca.key";
  c.server_cert = dir + "/server.crt";
  c.server_key = dir + "/server.key";
  c.client_cert = dir + "/client.crt";
  c.client_key = dir + "/client.key";
  c.untrusted_cert = dir + "/untrusted.crt";
  c.untrusted_key = dir + "/untrusted.key";

  const std::string client_extensions = absl::StrCat(
      "basicConstraints = critical, CA:FALSE\n"
      "keyUsage = critical, digitalSignature\n"
      "extendedKeyUsage = clientAuth\n"
      "subjectAltName = DNS:",
      kClientName, ", DNS:", kClientAltName, ", IP:10.1.2.3\n");
  absl::StatusOr<std::string> ca_config =
      WriteConfig(dir + "/ca.cnf", "casetrail test CA",
                  "basicConstraints = critical, CA:TRUE\n"
                  "keyUsage = critical, keyCertSign, cRLSign\n");
  absl::StatusOr<std::string> server_config =
      WriteConfig(dir + "/server.cnf", "localhost",
                  "basicConstraints = critical, CA:FALSE\n"
                  "keyUsage = critical, digitalSignature\n"
                  "extendedKeyUsage = serverAuth\n"
                  "subjectAltName = DNS:localhost, IP:127.0.0.1\n");
  absl::StatusOr<std::string> client_config =
      WriteConfig(dir + "/client.cnf", kClientName, client_extensions);
  for (const auto* config : {&ca_config, &server_config, &client_config}) {
    if (!config->ok()) return config->status();
  }
  if (absl::Status s = SelfSigned(*ca_config, ca_key, c.ca_cert); !s.ok()) {
    return s;
  }
  if (absl::Status s = Issued(*server_config, c.server_key, c.server_cert,
                              c.ca_cert, ca_key, 2);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Issued(*client_config, c.client_key, c.client_cert,
                              c.ca_cert, ca_key, 3);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          SelfSigned(*client_config, c.untrusted_key, c.untrusted_cert);
      !s.ok()) {
    return s;
  }
  for (const std::string& key :
       {ca_key, c.server_key, c.client_key, c.untrusted_key}) {
    if (chmod(key.c_str(), 0600) != 0) {
      return absl::InternalError(
          absl::StrCat("chmod 600 ", key, ": ", std::strerror(errno)));
    }
  }
  return c;
}

}  // namespace casetrail::testing
