#include "security/jwks.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "eventstore/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "security/internal/base64url.h"
#include "security/internal/json_object.h"
#include "security/internal/jwk_key.h"
#include "security/internal/jws_key.h"

namespace casetrail::security {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// Members that only a private or symmetric key has (RFC 7518 section 6).
constexpr const char* kPrivateMembers[] = {"d",  "p",  "q",   "dp",
                                           "dq", "qi", "oth", "k"};

// Text from the file in a message: quoted if short and plain, else left out,
// so a log line cannot be forged through the file.
std::string Quoted(absl::string_view text) {
  const bool plain =
      !text.empty() && text.size() <= 64 && absl::c_all_of(text, [](char c) {
        return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.' ||
               c == ':';
      });
  return plain ? absl::StrCat("'", text, "'") : "(unprintable)";
}

// One JWK of the set, for messages: "key #2 (kid 'a')".
class JwkReader {
 public:
  JwkReader(const Struct& jwk, int index) : jwk_(jwk), index_(index) {}

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(Name(), ": ", what));
  }

  std::string Name() const {
    const Value* kid = Find("kid");
    return absl::StrCat(
        "key #", index_,
        kid != nullptr && kid->has_string_value()
            ? absl::StrCat(" (kid ", Quoted(kid->string_value()), ")")
            : "");
  }

  const Value* Find(const std::string& name) const {
    auto it = jwk_.fields().find(name);
    return it == jwk_.fields().end() ? nullptr : &it->second;
  }

  // An optional string member.
  absl::StatusOr<std::optional<std::string>> OptionalString(
      const std::string& name) const {
    const Value* value = Find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->has_string_value()) {
      return Error(absl::StrCat("'", name, "' is not a string"));
    }
    return value->string_value();
  }

  absl::StatusOr<std::string> RequiredString(const std::string& name) const {
    ASSIGN_OR_RETURN(std::optional<std::string> value, OptionalString(name));
    if (!value.has_value()) {
      return Error(absl::StrCat("'", name, "' is missing"));
    }
    return *std::move(value);
  }

  // A base64url member's bytes.
  absl::StatusOr<std::string> Bytes(const std::string& name) const {
    ASSIGN_OR_RETURN(const std::string text, RequiredString(name));
    std::optional<std::string> bytes = internal::DecodeBase64Url(text);
    if (!bytes.has_value() || bytes->empty()) {
      return Error(
          absl::StrCat("'", name, "' is not canonical unpadded base64url"));
    }
    return *std::move(bytes);
  }

 private:
  const Struct& jwk_;
  const int index_;
};

// Whether the key is for verifying signatures ("use", "key_ops").
absl::StatusOr<bool> IsSigningKey(const JwkReader& jwk) {
  ASSIGN_OR_RETURN(std::optional<std::string> use, jwk.OptionalString("use"));
  if (use.has_value() && *use != "sig") return false;
  const Value* ops = jwk.Find("key_ops");
  if (ops == nullptr) return true;
  if (!ops->has_list_value()) {
    return jwk.Error("'key_ops' is not an array of strings");
  }
  bool verify = false;
  for (const Value& op : ops->list_value().values()) {
    if (!op.has_string_value()) {
      return jwk.Error("'key_ops' is not an array of strings");
    }
    verify = verify || op.string_value() == "verify";
  }
  return verify;
}

// The key's public half as PEM, from its kty and members.
absl::StatusOr<std::string> PublicKeyPem(const JwkReader& jwk) {
  ASSIGN_OR_RETURN(const std::string kty, jwk.RequiredString("kty"));
  absl::StatusOr<std::string> pem;
  if (kty == "OKP" || kty == "EC") {
    ASSIGN_OR_RETURN(const std::string crv, jwk.RequiredString("crv"));
    const char* expected = kty == "OKP" ? "Ed25519" : "P-256";
    if (crv != expected) {
      return jwk.Error(absl::StrCat("curve ", Quoted(crv), " of kty ", kty,
                                    " is not accepted; only ", expected));
    }
    ASSIGN_OR_RETURN(const std::string x, jwk.Bytes("x"));
    if (kty == "OKP") {
      pem = internal::Ed25519PublicKeyPem(x);
    } else {
      ASSIGN_OR_RETURN(const std::string y, jwk.Bytes("y"));
      pem = internal::P256PublicKeyPem(x, y);
    }
  } else if (kty == "RSA") {
    ASSIGN_OR_RETURN(const std::string n, jwk.Bytes("n"));
    ASSIGN_OR_RETURN(const std::string e, jwk.Bytes("e"));
    pem = internal::RsaPublicKeyPem(n, e);
  } else {
    return jwk.Error(absl::StrCat("kty ", Quoted(kty),
                                  " is not accepted; only OKP (Ed25519), EC "
                                  "(P-256) and RSA"));
  }
  if (!pem.ok()) return jwk.Error(pem.status().message());
  return pem;
}

// One JWK as a verifier key, or nullopt for a key that is not for signing.
absl::StatusOr<std::optional<JwtVerifier::Key>> ReadKey(const JwkReader& jwk) {
  for (const char* member : kPrivateMembers) {
    if (jwk.Find(member) != nullptr) {
      return jwk.Error(absl::StrCat(
          "has the private-key member '", member,
          "'; a JWKS file for casetraild must hold public keys only (remove "
          "the private key from it, and treat it as disclosed)"));
    }
  }
  ASSIGN_OR_RETURN(const bool signing, IsSigningKey(jwk));
  if (!signing) return std::nullopt;
  ASSIGN_OR_RETURN(std::optional<std::string> kid, jwk.OptionalString("kid"));
  ASSIGN_OR_RETURN(std::optional<std::string> alg, jwk.OptionalString("alg"));
  ASSIGN_OR_RETURN(std::string pem, PublicKeyPem(jwk));
  // The same checks as a PEM key (RSA size, the algorithm the key fixes).
  absl::StatusOr<internal::JwsKey> key =
      internal::JwsKey::FromPublicKeyPem(pem);
  if (!key.ok()) return jwk.Error(absl::StrCat("is ", key.status().message()));
  const char* fixed = internal::JwsAlgorithmName(key->algorithm());
  if (alg.has_value() && *alg != fixed) {
    return jwk.Error(absl::StrCat("'alg' is ", Quoted(*alg),
                                  ", but this key signs with ", fixed));
  }
  return JwtVerifier::Key{kid.value_or(""), std::move(pem)};
}

}  // namespace

absl::StatusOr<std::vector<JwtVerifier::Key>> ParseJwks(
    absl::string_view json) {
  internal::JsonObjectError error;
  std::optional<Struct> set = internal::ParseJsonObject(json, &error);
  if (!set.has_value()) {
    switch (error.kind) {
      case internal::JsonObjectError::Kind::kDuplicateMember:
        return absl::InvalidArgumentError(
            absl::StrCat("the JWK Set names the member ", Quoted(error.member),
                         error.nested ? " twice in one key" : " twice"));
      case internal::JsonObjectError::Kind::kNotAnObject:
        return absl::InvalidArgumentError(
            "not a JWK Set: the document is not a JSON object");
      case internal::JsonObjectError::Kind::kNotJson:
        break;
    }
    return absl::InvalidArgumentError("not a JWK Set: not valid JSON");
  }
  auto keys = set->fields().find("keys");
  if (keys == set->fields().end() || !keys->second.has_list_value()) {
    return absl::InvalidArgumentError(
        "not a JWK Set: it has no \"keys\" array");
  }
  std::vector<JwtVerifier::Key> out;
  absl::flat_hash_set<std::string> key_ids;
  int index = 0;
  for (const Value& value : keys->second.list_value().values()) {
    ++index;
    if (!value.has_struct_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("key #", index, ": not a JSON object"));
    }
    const JwkReader jwk(value.struct_value(), index);
    ASSIGN_OR_RETURN(std::optional<JwtVerifier::Key> key, ReadKey(jwk));
    if (!key.has_value()) continue;
    if (!key->key_id.empty() && !key_ids.insert(key->key_id).second) {
      return jwk.Error("its kid is also another key's");
    }
    out.push_back(*std::move(key));
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(
        "the JWK Set holds no signing key (\"use\": \"sig\")");
  }
  return out;
}

}  // namespace casetrail::security
