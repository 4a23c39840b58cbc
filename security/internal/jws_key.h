#ifndef CASETRAIL_SECURITY_INTERNAL_JWS_KEY_H_
#define CASETRAIL_SECURITY_INTERNAL_JWS_KEY_H_

// The OpenSSL 3 side of security/jwt.cc: JWS keys, signatures and key
// generation (RFC 7515, RFC 7518 section 3, RFC 8037). Only jwt.cc uses this.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "security/jwt.h"

// OpenSSL's EVP_PKEY, so this header needs no OpenSSL include.
struct evp_pkey_st;

namespace casetrail::security::internal {

enum class JwsAlgorithm { kEdDSA, kES256, kRS256 };

// "EdDSA", "ES256" or "RS256".
const char* JwsAlgorithmName(JwsAlgorithm algorithm);
std::optional<JwsAlgorithm> JwsAlgorithmFromName(absl::string_view name);

// A public or private key of an accepted type (Ed25519, EC P-256, RSA of at
// least 2048 bits); its type fixes its algorithm. Thread-safe: Verify and
// Sign may run concurrently on one key (each call has its own EVP_MD_CTX).
class JwsKey {
 public:
  // From a PEM "PUBLIC KEY" (SubjectPublicKeyInfo). INVALID_ARGUMENT, with a
  // reason but no context, if it does not parse or is not accepted.
  static absl::StatusOr<JwsKey> FromPublicKeyPem(absl::string_view pem);
  // From an unencrypted PEM "PRIVATE KEY"; never asks for a passphrase.
  static absl::StatusOr<JwsKey> FromPrivateKeyPem(absl::string_view pem);

  JwsKey(JwsKey&&) noexcept;
  JwsKey& operator=(JwsKey&&) noexcept;
  ~JwsKey();

  JwsAlgorithm algorithm() const { return algorithm_; }

  // Whether `signature` (as JWS carries it: ES256 as raw r || s of 64 bytes)
  // is this key's signature over `signed_text`.
  bool Verify(absl::string_view signed_text, absl::string_view signature) const;
  // A JWS signature over `signed_text`. REQUIRES: a private key.
  absl::StatusOr<std::string> Sign(absl::string_view signed_text) const;
  // The first 16 hex digits of the SHA-256 of the DER SubjectPublicKeyInfo.
  absl::StatusOr<std::string> KeyId() const;

 private:
  struct Free {
    void operator()(evp_pkey_st* key) const;
  };
  JwsKey(std::unique_ptr<evp_pkey_st, Free> key, JwsAlgorithm algorithm);

  std::unique_ptr<evp_pkey_st, Free> key_;
  JwsAlgorithm algorithm_;
};

// A new Ed25519 key pair from OpenSSL's CSPRNG, as PEM.
absl::StatusOr<KeyPairPem> NewEd25519KeyPairPem();

}  // namespace casetrail::security::internal

#endif  // CASETRAIL_SECURITY_INTERNAL_JWS_KEY_H_
