#include "security/issuer_keys.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "security/file_text.h"
#include "security/jwks.h"

namespace casetrail::security {
namespace {

std::string Resolve(const std::string& key_dir, const std::string& file) {
  return absl::StartsWith(file, "/") ? file : key_dir + "/" + file;
}

}  // namespace

absl::StatusOr<std::vector<JwtVerifier::Issuer>> ReadTokenIssuers(
    const casetrail::v1::SecurityConfig& config, const std::string& key_dir) {
  std::vector<JwtVerifier::Issuer> issuers;
  for (const casetrail::v1::TokenIssuer& i : config.token_issuers()) {
    const std::string where = absl::StrCat("token issuer '", i.issuer(), "'");
    if (i.issuer().empty() || i.audience().empty() || i.tenants().empty() ||
        (i.keys().empty() && i.jwks_file().empty())) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " needs issuer, audience, tenants, and keys or jwks_file"));
    }
    JwtVerifier::Issuer issuer;
    issuer.issuer = i.issuer();
    issuer.audience = i.audience();
    if (i.leeway_seconds() > 0) {
      issuer.leeway = absl::Seconds(i.leeway_seconds());
    }
    if (i.max_lifetime_seconds() > 0) {
      issuer.max_lifetime = absl::Seconds(i.max_lifetime_seconds());
    }
    for (const casetrail::v1::VerificationKey& k : i.keys()) {
      absl::StatusOr<std::string> pem = ReadNonEmptyFile(
          Resolve(key_dir, k.public_key_file()), "public key file");
      if (!pem.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": ", pem.status().message()));
      }
      issuer.keys.push_back({k.key_id(), *std::move(pem)});
    }
    if (!i.jwks_file().empty()) {
      const std::string file = Resolve(key_dir, i.jwks_file());
      absl::StatusOr<std::string> json = ReadNonEmptyFile(file, "JWKS file");
      if (!json.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": ", json.status().message()));
      }
      absl::StatusOr<std::vector<JwtVerifier::Key>> keys = ParseJwks(*json);
      if (!keys.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": JWKS file ", file, ": ", keys.status().message()));
      }
      for (JwtVerifier::Key& key : *keys) issuer.keys.push_back(std::move(key));
    }
    issuers.push_back(std::move(issuer));
  }
  return issuers;
}

}  // namespace casetrail::security
