#include "security/internal/jws_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace casetrail::security::internal {
namespace {

constexpr int kMinRsaBits = 2048;
// P-256 coordinates, and so each half of a raw ES256 signature.
constexpr int kEs256HalfBytes = 32;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
struct BnFree {
  void operator()(BIGNUM* n) const { BN_free(n); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

// Keeps PEM_read_bio_* from prompting on the terminal for a passphrase.
int NoPassphrase(char*, int, int, void*) { return 0; }

BioPtr ReadOnlyBio(absl::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string MemoryBioContents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : "";
}

// The one algorithm `key` signs with, or why it is not accepted.
absl::StatusOr<JwsAlgorithm> AlgorithmForKey(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) return JwsAlgorithm::kEdDSA;
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1) {
      return absl::InvalidArgumentError("an EC key without a named curve");
    }
    const absl::string_view name(group, len);
    if (name != "prime256v1" && name != "P-256") {
      return absl::InvalidArgumentError(
          absl::StrCat("an EC key on ", name, "; only P-256 is accepted"));
    }
    return JwsAlgorithm::kES256;
  }
  if (EVP_PKEY_is_a(key, "RSA")) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits) {
      return absl::InvalidArgumentError(
          absl::StrCat("an RSA key of ", bits, " bits; at least ", kMinRsaBits,
                       " are required"));
    }
    return JwsAlgorithm::kRS256;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("a key of type ", EVP_PKEY_get0_type_name(key),
                   "; only Ed25519, EC P-256 and RSA are accepted"));
}

// JWS carries an ES256 signature as r || s, each 32 bytes big-endian;
// OpenSSL wants DER.
std::optional<std::string> RawToDerSignature(absl::string_view raw) {
  if (raw.size() != 2 * kEs256HalfBytes) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BnPtr r(BN_bin2bn(bytes, kEs256HalfBytes, nullptr));
  BnPtr s(BN_bin2bn(bytes + kEs256HalfBytes, kEs256HalfBytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || sig == nullptr ||
      ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return std::nullopt;
  }
  (void)r.release();  // Now owned by sig.
  (void)s.release();
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != len) return std::nullopt;
  return der;
}

std::optional<std::string> DerToRawSignature(absl::string_view der) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size())));
  if (sig == nullptr) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kEs256HalfBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kEs256HalfBytes) != kEs256HalfBytes ||
      BN_bn2binpad(s, out + kEs256HalfBytes, kEs256HalfBytes) !=
          kEs256HalfBytes) {
    return std::nullopt;
  }
  return raw;
}

// EdDSA signs the message itself (no digest); the others SHA-256.
const EVP_MD* DigestFor(JwsAlgorithm algorithm) {
  return algorithm == JwsAlgorithm::kEdDSA ? nullptr : EVP_sha256();
}

}  // namespace

const char* JwsAlgorithmName(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kEdDSA:
      return "EdDSA";
    case JwsAlgorithm::kES256:
      return "ES256";
    case JwsAlgorithm::kRS256:
      return "RS256";
  }
  return "?";
}

std::optional<JwsAlgorithm> JwsAlgorithmFromName(absl::string_view name) {
  for (JwsAlgorithm algorithm :
       {JwsAlgorithm::kEdDSA, JwsAlgorithm::kES256, JwsAlgorithm::kRS256}) {
    if (name == JwsAlgorithmName(algorithm)) return algorithm;
  }
  return std::nullopt;
}

void JwsKey::Free::operator()(evp_pkey_st* key) const { EVP_PKEY_free(key); }

JwsKey::JwsKey(std::unique_ptr<evp_pkey_st, Free> key, JwsAlgorithm algorithm)
    : key_(std::move(key)), algorithm_(algorithm) {}
JwsKey::JwsKey(JwsKey&&) noexcept = default;
JwsKey& JwsKey::operator=(JwsKey&&) noexcept = default;
JwsKey::~JwsKey() = default;

absl::StatusOr<JwsKey> JwsKey::FromPublicKeyPem(absl::string_view pem) {
  BioPtr bio = ReadOnlyBio(pem);
  std::unique_ptr<evp_pkey_st, Free> key(
      bio == nullptr
          ? nullptr
          : PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  absl::StatusOr<JwsAlgorithm> algorithm =
      key == nullptr ? absl::InvalidArgumentError(
                           "not a PEM PUBLIC KEY (SubjectPublicKeyInfo)")
                     : AlgorithmForKey(key.get());
  ERR_clear_error();
  if (!algorithm.ok()) return algorithm.status();
  return JwsKey(std::move(key), *algorithm);
}

absl::StatusOr<JwsKey> JwsKey::FromPrivateKeyPem(absl::string_view pem) {
  BioPtr bio = ReadOnlyBio(pem);
  std::unique_ptr<evp_pkey_st, Free> key(
      bio == nullptr
          ? nullptr
          : PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  absl::StatusOr<JwsAlgorithm> algorithm =
      key == nullptr
          ? absl::InvalidArgumentError("not an unencrypted PEM PRIVATE KEY")
          : AlgorithmForKey(key.get());
  ERR_clear_error();
  if (!algorithm.ok()) return algorithm.status();
  return JwsKey(std::move(key), *algorithm);
}

bool JwsKey::Verify(absl::string_view signed_text,
                    absl::string_view signature) const {
  std::string der;
  if (algorithm_ == JwsAlgorithm::kES256) {
    std::optional<std::string> converted = RawToDerSignature(signature);
    if (!converted.has_value()) return false;
    der = *std::move(converted);
    signature = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx != nullptr &&
      EVP_DigestVerifyInit(ctx.get(), nullptr, DigestFor(algorithm_), nullptr,
                           key_.get()) == 1 &&
      EVP_DigestVerify(
          ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
          signature.size(),
          reinterpret_cast<const unsigned char*>(signed_text.data()),
          signed_text.size()) == 1;
  ERR_clear_error();
  return ok;
}

absl::StatusOr<std::string> JwsKey::Sign(absl::string_view signed_text) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const auto* tbs = reinterpret_cast<const unsigned char*>(signed_text.data());
  size_t len = 0;
  std::string signature;
  bool ok =
      ctx != nullptr &&
      EVP_DigestSignInit(ctx.get(), nullptr, DigestFor(algorithm_), nullptr,
                         key_.get()) == 1 &&
      EVP_DigestSign(ctx.get(), nullptr, &len, tbs, signed_text.size()) == 1;
  if (ok) {
    signature.resize(len);
    ok = EVP_DigestSign(ctx.get(),
                        reinterpret_cast<unsigned char*>(signature.data()),
                        &len, tbs, signed_text.size()) == 1;
    signature.resize(len);
  }
  ERR_clear_error();
  if (!ok) return absl::InternalError("OpenSSL could not sign the token");
  if (algorithm_ != JwsAlgorithm::kES256) return signature;
  std::optional<std::string> raw = DerToRawSignature(signature);
  if (!raw.has_value()) {
    return absl::InternalError("OpenSSL made an ES256 signature out of range");
  }
  return *std::move(raw);
}

absl::StatusOr<std::string> JwsKey::KeyId() const {
  unsigned char* der = nullptr;
  const int der_len = i2d_PUBKEY(key_.get(), &der);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  const bool ok =
      der_len > 0 && EVP_Digest(der, static_cast<size_t>(der_len), digest,
                                &digest_len, EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  ERR_clear_error();
  if (!ok) return absl::InternalError("OpenSSL could not hash the public key");
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), 8));
}

absl::StatusOr<KeyPairPem> NewEd25519KeyPairPem() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "ED25519", nullptr));
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL could not generate an Ed25519 key");
  }
  std::unique_ptr<EVP_PKEY, PkeyFree> key(raw);
  // Secure memory, cleared when freed, for the private key's PEM.
  BioPtr private_bio(BIO_new(BIO_s_secmem()));
  BioPtr public_bio(BIO_new(BIO_s_mem()));
  if (private_bio == nullptr || public_bio == nullptr ||
      PEM_write_bio_PrivateKey(private_bio.get(), key.get(), nullptr, nullptr,
                               0, nullptr, nullptr) != 1 ||
      PEM_write_bio_PUBKEY(public_bio.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL could not write the key pair as PEM");
  }
  return KeyPairPem{MemoryBioContents(private_bio.get()),
                    MemoryBioContents(public_bio.get())};
}

}  // namespace casetrail::security::internal
