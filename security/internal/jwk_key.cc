#include "security/internal/jwk_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace casetrail::security::internal {
namespace {

// Ed25519 public keys and P-256 coordinates (RFC 8037 2, RFC 7518 6.2.1.2).
constexpr size_t kKeyBytes = 32;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnFree {
  void operator()(BIGNUM* n) const { BN_free(n); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// `key` as PEM "PUBLIC KEY", after OpenSSL's public-key check.
absl::StatusOr<std::string> CheckedPem(PkeyPtr key, absl::string_view what) {
  PkeyCtxPtr check(
      key == nullptr ? nullptr
                     : EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("its members are not a valid ", what, " public key"));
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  char* data = nullptr;
  long len = 0;
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1 ||
      (len = BIO_get_mem_data(bio.get(), &data)) <= 0) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL could not write the key as PEM");
  }
  return std::string(data, static_cast<size_t>(len));
}

// A key of OpenSSL type `type` from the parameters `build` fills in.
template <typename Build>
PkeyPtr FromData(const char* type, Build build) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr || !build(bld.get())) return nullptr;
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr ||
      EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) !=
          1) {
    ERR_clear_error();
    return nullptr;
  }
  return PkeyPtr(raw);
}

}  // namespace

absl::StatusOr<std::string> Ed25519PublicKeyPem(absl::string_view x) {
  if (x.size() != kKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'x' is ", x.size(), " bytes; an Ed25519 key is ", kKeyBytes));
  }
  PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(x),
                                          x.size()));
  ERR_clear_error();
  return CheckedPem(std::move(key), "Ed25519");
}

absl::StatusOr<std::string> P256PublicKeyPem(absl::string_view x,
                                             absl::string_view y) {
  if (x.size() != kKeyBytes || y.size() != kKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("'x' and 'y' are ", x.size(), " and ", y.size(),
                     " bytes; a P-256 coordinate is ", kKeyBytes));
  }
  // SEC 1 uncompressed point: 0x04 || x || y.
  const std::string point = absl::StrCat("\x04", x, y);
  PkeyPtr key = FromData("EC", [&](OSSL_PARAM_BLD* bld) {
    return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           "prime256v1", 0) == 1 &&
           OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            point.data(), point.size()) == 1;
  });
  if (key == nullptr) {
    return absl::InvalidArgumentError("'x' and 'y' are not a point of P-256");
  }
  return CheckedPem(std::move(key), "P-256");
}

absl::StatusOr<std::string> RsaPublicKeyPem(absl::string_view n,
                                            absl::string_view e) {
  BnPtr modulus(BN_bin2bn(Bytes(n), static_cast<int>(n.size()), nullptr));
  BnPtr exponent(BN_bin2bn(Bytes(e), static_cast<int>(e.size()), nullptr));
  PkeyPtr key;
  if (modulus != nullptr && exponent != nullptr) {
    key = FromData("RSA", [&](OSSL_PARAM_BLD* bld) {
      return OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N,
                                    modulus.get()) == 1 &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E,
                                    exponent.get()) == 1;
    });
  }
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError("'n' and 'e' are not an RSA public key");
  }
  return CheckedPem(std::move(key), "RSA");
}

}  // namespace casetrail::security::internal
