#include "services/transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eventstore/status_macros.h"
#include "grpc/grpc_security_constants.h"
#include "security/file_text.h"

namespace casetrail::services {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

constexpr char kServeHow[] =
    "give --tls_cert_file and --tls_key_file (PEM), or, for development, "
    "--plaintext_loopback with a loopback --listen address (127.0.0.1, [::1] "
    "or localhost)";

// True if `port` is a decimal port number (0 lets the system pick).
bool IsPort(absl::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  if (!absl::c_all_of(port, [](char c) { return absl::ascii_isdigit(c); })) {
    return false;
  }
  int number = 0;
  return absl::SimpleAtoi(port, &number) && number <= 65535;
}

bool IsLoopbackIpv4(absl::string_view host) {
  in_addr address;
  // inet_pton takes only the four-part dotted decimal form, so
  // "127.0.0.1.example.com" and "127.1" are not addresses here.
  if (inet_pton(AF_INET, std::string(host).c_str(), &address) != 1) {
    return false;
  }
  return (ntohl(address.s_addr) >> 24) == 127;
}

bool IsLoopbackIpv6(absl::string_view host) {
  in6_addr address;
  if (inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1) {
    return false;
  }
  if (IN6_IS_ADDR_LOOPBACK(&address)) return true;
  return IN6_IS_ADDR_V4MAPPED(&address) && address.s6_addr[12] == 127;
}

// A private key in a file anyone else on the machine can read is a key that
// may already be someone else's: refuse it, as LoadSignerKeyFile does for the
// checkpoint signing key (eventstore/signed_note.cc).
absl::Status CheckKeyFileMode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read TLS key file ", path, ": ", std::strerror(errno)));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "TLS key file %s can be read by others (mode %04o); run chmod 600 %s",
        path, st.st_mode & 07777, path));
  }
  return absl::OkStatus();
}

// The certificates in `pem`; INVALID_ARGUMENT naming `path` if there are
// none. gRPC only finds a bad certificate when the port is bound, and then
// says no more than that it cannot listen; checking here names the file.
absl::StatusOr<std::vector<X509Ptr>> ParseCertificates(const std::string& pem,
                                                       const std::string& path,
                                                       absl::string_view what) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
             BIO_free);
  std::vector<X509Ptr> certificates;
  while (bio != nullptr) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                 X509_free);
    if (cert == nullptr) break;
    certificates.push_back(std::move(cert));
  }
  // Reading stops at the end of the input with an error on OpenSSL's queue;
  // leave the queue clean for gRPC's own use of OpenSSL on this thread.
  ERR_clear_error();
  if (certificates.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " ", path, " holds no PEM certificate (BEGIN CERTIFICATE)"));
  }
  return certificates;
}

absl::Status CheckKeyMatchesCertificate(const std::string& key_pem,
                                        const TlsOptions& tls, X509* cert) {
  BioPtr bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())),
             BIO_free);
  // A passphrase callback that gives none: an encrypted key fails here
  // rather than prompting on the terminal.
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  KeyPtr key(bio == nullptr ? nullptr
                            : PEM_read_bio_PrivateKey(bio.get(), nullptr,
                                                      no_passphrase, nullptr),
             EVP_PKEY_free);
  if (key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("TLS key file ", tls.key_file,
                     " holds no unencrypted PEM private key"));
  }
  const bool matches = X509_check_private_key(cert, key.get()) == 1;
  ERR_clear_error();
  if (!matches) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS key file ", tls.key_file,
                     " is not the key of the certificate in ", tls.cert_file));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLoopbackListenAddress(absl::string_view listen_address) {
  absl::string_view host;
  absl::string_view port;
  if (absl::StartsWith(listen_address, "[")) {
    const size_t close = listen_address.find(']');
    if (close == absl::string_view::npos ||
        listen_address.substr(close + 1, 1) != ":") {
      return false;
    }
    host = listen_address.substr(1, close - 1);
    port = listen_address.substr(close + 2);
    return IsPort(port) && IsLoopbackIpv6(host);
  }
  const size_t colon = listen_address.rfind(':');
  if (colon == absl::string_view::npos) return false;
  host = listen_address.substr(0, colon);
  port = listen_address.substr(colon + 1);
  // A colon in the host is an unbracketed IPv6 address or a URI scheme
  // ("unix:", "ipv4:"): not a form this check vouches for.
  if (!IsPort(port) || absl::StrContains(host, ':')) return false;
  return absl::EqualsIgnoreCase(host, "localhost") || IsLoopbackIpv4(host);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& tls, bool plaintext_loopback,
    absl::string_view listen_address) {
  const bool has_cert = !tls.cert_file.empty();
  const bool has_key = !tls.key_file.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_cert_file and --tls_key_file go together; only ",
                     has_cert ? "--tls_cert_file=" + tls.cert_file
                              : "--tls_key_file=" + tls.key_file,
                     " was given"));
  }
  if (!has_cert) {
    if (!tls.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca_file verifies client certificates over TLS; give "
          "--tls_cert_file and --tls_key_file too");
    }
    if (!plaintext_loopback) {
      return absl::FailedPreconditionError(absl::StrCat(
          "casetraild serves TLS unless told otherwise: ", kServeHow));
    }
    if (!IsLoopbackListenAddress(listen_address)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--plaintext_loopback serves only a loopback --listen address, not ",
          listen_address, "; to serve on ", listen_address,
          " give --tls_cert_file and --tls_key_file (PEM)"));
    }
    return grpc::InsecureServerCredentials();
  }
  if (plaintext_loopback) {
    return absl::InvalidArgumentError(
        "--plaintext_loopback and --tls_cert_file/--tls_key_file contradict "
        "each other; give one or the other");
  }

  ASSIGN_OR_RETURN(
      const std::string cert_pem,
      security::ReadNonEmptyFile(tls.cert_file, "TLS certificate file"));
  ASSIGN_OR_RETURN(
      const std::vector<X509Ptr> certs,
      ParseCertificates(cert_pem, tls.cert_file, "TLS certificate file"));
  RETURN_IF_ERROR(CheckKeyFileMode(tls.key_file));
  ASSIGN_OR_RETURN(const std::string key_pem,
                   security::ReadNonEmptyFile(tls.key_file, "TLS key file"));
  RETURN_IF_ERROR(
      CheckKeyMatchesCertificate(key_pem, tls, certs.front().get()));

  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({key_pem, cert_pem});
  if (!tls.client_ca_file.empty()) {
    ASSIGN_OR_RETURN(
        const std::string ca_pem,
        security::ReadNonEmptyFile(tls.client_ca_file, "TLS client CA file"));
    RETURN_IF_ERROR(
        ParseCertificates(ca_pem, tls.client_ca_file, "TLS client CA file")
            .status());
    // Verify a certificate when one is presented, but let clients without
    // one connect: people authenticate with bearer tokens instead.
    ssl.pem_root_certs = ca_pem;
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

std::vector<std::string> PeerCertificateNames(
    const grpc::AuthContext& context) {
  std::vector<std::string> names;
  if (!context.IsPeerAuthenticated()) return names;
  const std::vector<grpc::string_ref> security_type =
      context.FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  if (security_type.size() != 1 ||
      security_type[0] != GRPC_SSL_TRANSPORT_SECURITY_TYPE) {
    return names;
  }
  auto add = [&names](const grpc::string_ref& value) {
    std::string name(value.data(), value.size());
    if (!name.empty() && !absl::c_linear_search(names, name)) {
      names.push_back(std::move(name));
    }
  };
  for (const grpc::string_ref& cn :
       context.FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME)) {
    add(cn);
  }
  // "x509_subject_alternative_name" mixes DNS names with IP addresses, URIs
  // and e-mail addresses; gRPC also lists the DNS names alone.
  for (const grpc::string_ref& dns :
       context.FindPropertyValues(GRPC_PEER_DNS_PROPERTY_NAME)) {
    add(dns);
  }
  return names;
}

}  // namespace casetrail::services
