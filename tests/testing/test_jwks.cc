#include "tests/testing/test_jwks.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace casetrail::testing {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnFree {
  void operator()(BIGNUM* n) const { BN_free(n); }
};

// The big-endian bytes of `key`'s BIGNUM parameter `name`, padded to `width`
// bytes if non-zero.
std::string BnParam(EVP_PKEY* key, const char* name, int width) {
  BIGNUM* raw = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &raw), 1) << name;
  std::unique_ptr<BIGNUM, BnFree> bn(raw);
  if (bn == nullptr) return "";
  const int size = width > 0 ? width : BN_num_bytes(bn.get());
  std::string bytes(static_cast<size_t>(size), '\0');
  EXPECT_EQ(BN_bn2binpad(bn.get(),
                         reinterpret_cast<unsigned char*>(bytes.data()), size),
            size);
  return bytes;
}

std::string Member(const char* name, const std::string& bytes) {
  return absl::StrCat("\"", name, "\":\"", absl::WebSafeBase64Escape(bytes),
                      "\"");
}

}  // namespace

std::string PublicJwk(const std::string& public_key_pem, const std::string& kid,
                      const std::string& extra) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(
      public_key_pem.data(), static_cast<int>(public_key_pem.size())));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    ADD_FAILURE() << "not a PEM public key";
    return "{}";
  }
  std::vector<std::string> members;
  if (EVP_PKEY_is_a(key.get(), "ED25519")) {
    std::string x(32, '\0');
    size_t len = x.size();
    EXPECT_EQ(EVP_PKEY_get_raw_public_key(
                  key.get(), reinterpret_cast<unsigned char*>(x.data()), &len),
              1);
    members = {R"("kty":"OKP")", R"("crv":"Ed25519")", Member("x", x)};
  } else if (EVP_PKEY_is_a(key.get(), "EC")) {
    members = {R"("kty":"EC")", R"("crv":"P-256")",
               Member("x", BnParam(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32)),
               Member("y", BnParam(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))};
  } else {
    members = {R"("kty":"RSA")",
               Member("n", BnParam(key.get(), OSSL_PKEY_PARAM_RSA_N, 0)),
               Member("e", BnParam(key.get(), OSSL_PKEY_PARAM_RSA_E, 0))};
  }
  if (!kid.empty()) members.push_back(absl::StrCat(R"("kid":")", kid, "\""));
  if (!extra.empty()) members.push_back(extra);
  return absl::StrCat("{", absl::StrJoin(members, ","), "}");
}

std::string JwkSet(const std::vector<std::string>& jwks) {
  return absl::StrCat(R"({"keys":[)", absl::StrJoin(jwks, ","), "]}");
}

}  // namespace casetrail::testing
