#ifndef CASETRAIL_SERVICES_TRANSPORT_H_
#define CASETRAIL_SERVICES_TRANSPORT_H_

// How casetraild's gRPC port is secured: TLS, TLS with client certificates
// (mTLS), or, for development only, plaintext on a loopback address. What a
// verified client certificate says about its holder is read here too; mapping
// those names to principals is the security/ library's business.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/server_credentials.h"

namespace casetrail::services {

// PEM files for the server's TLS. All empty (the default) means no TLS.
struct TlsOptions {
  // The server's certificate chain, leaf first. Set together with key_file.
  std::string cert_file;
  // The certificate's private key; must not be readable by group or others
  // (chmod 600). Set together with cert_file.
  std::string key_file;
  // CA certificates that client certificates are verified against. Non-empty
  // turns on mTLS verification: a client presenting a certificate must
  // present one these CAs issued, or the handshake fails. A client may still
  // connect without a certificate (and authenticate with a bearer token).
  // Requires cert_file and key_file.
  std::string client_ca_file;
};

// True if `listen_address` ("host:port") names only this machine: an IPv4
// address in 127.0.0.0/8, [::1] (or an IPv4-mapped 127.x address), or
// "localhost". False for wildcard addresses (0.0.0.0, [::]), any other host,
// a missing or non-numeric port, and anything else gRPC might accept
// (unix: sockets, URI schemes): the check errs on the side of refusing.
bool IsLoopbackListenAddress(absl::string_view listen_address);

// The credentials casetraild listens with.
// - tls.cert_file and tls.key_file set: TLS with that certificate, and with
//   tls.client_ca_file, client certificates verified against those CAs.
// - neither set: plaintext, only if `plaintext_loopback` and `listen_address`
//   is a loopback address (IsLoopbackListenAddress).
// Errors, each naming the flag or file concerned:
// - INVALID_ARGUMENT: only one of cert_file and key_file; client_ca_file
//   without them; plaintext_loopback together with TLS files; a file that
//   cannot be read, is empty, or does not hold what it should (PEM
//   certificates, a private key matching the certificate).
// - FAILED_PRECONDITION: the key file is readable by group or others; no TLS
//   files and no plaintext_loopback; plaintext_loopback with a non-loopback
//   listen_address.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& tls, bool plaintext_loopback,
    absl::string_view listen_address);

// The names in the peer's verified X.509 certificate: the subject common name
// ("x509_common_name"), then each DNS subject alternative name, without
// repeats. Empty unless the connection is TLS ("ssl" transport security type)
// and the peer is authenticated, i.e. presented a certificate that the server
// verified (MakeServerCredentials with client_ca_file). IP, URI and e-mail
// alternative names are not included.
std::vector<std::string> PeerCertificateNames(const grpc::AuthContext& context);

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_TRANSPORT_H_
