#include "security/jwt.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "eventstore/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "security/internal/base64url.h"
#include "security/internal/json_object.h"
#include "security/internal/jws_key.h"

namespace casetrail::security {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using internal::DecodeBase64Url;
using internal::EncodeBase64Url;
using internal::JwsAlgorithm;
using internal::JwsKey;

constexpr size_t kMaxTokenBytes = 8192;
// NumericDates beyond this (about the year 5138) are refused, which keeps
// every accepted one exact in a double and far from absl::Time's limits.
constexpr double kMaxNumericDate = 1e11;

absl::Status Refuse(absl::string_view reason) {
  return absl::UnauthenticatedError(absl::StrCat("bearer token ", reason));
}

// Token text in an error message: quoted if short and plain, else left out,
// so a log line cannot be forged through a token.
std::string Quoted(absl::string_view text) {
  const bool plain =
      !text.empty() && text.size() <= 32 && absl::c_all_of(text, [](char c) {
        return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.';
      });
  return plain ? absl::StrCat("'", text, "'") : "(unprintable)";
}

// --- JSON ---

// The JSON object a token part holds. `part` is "header" or "payload"; a
// payload's members are its claims.
absl::StatusOr<Struct> ParseJsonObject(absl::string_view json,
                                       absl::string_view part) {
  internal::JsonObjectError error;
  std::optional<Struct> object = internal::ParseJsonObject(json, &error);
  if (object.has_value()) return *std::move(object);
  switch (error.kind) {
    case internal::JsonObjectError::Kind::kDuplicateMember:
      if (error.nested) {
        return Refuse(absl::StrCat(part, " has a duplicate member ",
                                   Quoted(error.member),
                                   " in a nested object"));
      }
      return Refuse(absl::StrCat(part, " has a duplicate ",
                                 part == "payload" ? "claim " : "member ",
                                 Quoted(error.member)));
    case internal::JsonObjectError::Kind::kNotAnObject:
      return Refuse(absl::StrCat(part, " is not a JSON object"));
    case internal::JsonObjectError::Kind::kNotJson:
      break;
  }
  return Refuse(absl::StrCat(part, " is not valid JSON"));
}

const Value* Member(const Struct& object, const std::string& name) {
  auto it = object.fields().find(name);
  return it == object.fields().end() ? nullptr : &it->second;
}

// An optional string member: absent leaves `out` alone.
absl::Status GetString(const Struct& object, const std::string& name,
                       std::string* out) {
  const Value* value = Member(object, name);
  if (value == nullptr) return absl::OkStatus();
  if (value->kind_case() != Value::kStringValue) {
    return Refuse(absl::StrCat("claim '", name, "' is not a string"));
  }
  *out = value->string_value();
  return absl::OkStatus();
}

absl::Status GetRequiredString(const Struct& object, const std::string& name,
                               std::string* out) {
  if (Member(object, name) == nullptr) {
    return Refuse(absl::StrCat("claim '", name, "' is missing"));
  }
  RETURN_IF_ERROR(GetString(object, name, out));
  if (out->empty()) return Refuse(absl::StrCat("claim '", name, "' is empty"));
  return absl::OkStatus();
}

// A NumericDate (RFC 7519 section 2), restricted to whole seconds.
absl::Status GetTime(const Struct& object, const std::string& name,
                     absl::Time* out) {
  const Value* value = Member(object, name);
  if (value == nullptr) return absl::OkStatus();
  const double seconds = value->number_value();
  if (value->kind_case() != Value::kNumberValue || !std::isfinite(seconds) ||
      std::trunc(seconds) != seconds || std::fabs(seconds) > kMaxNumericDate) {
    return Refuse(absl::StrCat("claim '", name,
                               "' is not a whole number of seconds in range"));
  }
  *out = absl::FromUnixSeconds(static_cast<int64_t>(seconds));
  return absl::OkStatus();
}

absl::Status GetAudience(const Struct& object, std::vector<std::string>* out) {
  const Value* value = Member(object, "aud");
  if (value == nullptr) return Refuse("claim 'aud' is missing");
  if (value->kind_case() == Value::kStringValue) {
    out->push_back(value->string_value());
    return absl::OkStatus();
  }
  if (value->kind_case() == Value::kListValue) {
    for (const Value& item : value->list_value().values()) {
      if (item.kind_case() != Value::kStringValue) break;
      out->push_back(item.string_value());
    }
    if (out->size() == static_cast<size_t>(value->list_value().values_size())) {
      return absl::OkStatus();
    }
  }
  return Refuse("claim 'aud' is not a string or an array of strings");
}

struct Header {
  JwsAlgorithm alg;
  std::optional<std::string> key_id;
};

absl::StatusOr<Header> ParseHeader(const Struct& object) {
  for (const auto& [name, value] : object.fields()) {
    if (name != "alg" && name != "typ" && name != "kid") {
      return Refuse(
          absl::StrCat("header member ", Quoted(name), " is not accepted"));
    }
    if (value.kind_case() != Value::kStringValue) {
      return Refuse(absl::StrCat("header '", name, "' is not a string"));
    }
  }
  const Value* alg_value = Member(object, "alg");
  if (alg_value == nullptr) return Refuse("header has no 'alg'");
  std::optional<JwsAlgorithm> alg =
      internal::JwsAlgorithmFromName(alg_value->string_value());
  if (!alg.has_value()) {
    return Refuse(absl::StrCat("algorithm ", Quoted(alg_value->string_value()),
                               " is not accepted"));
  }
  const Value* typ = Member(object, "typ");
  if (typ != nullptr && !absl::EqualsIgnoreCase(typ->string_value(), "JWT")) {
    return Refuse("header 'typ' is not JWT");
  }
  Header header{*alg, std::nullopt};
  if (const Value* kid = Member(object, "kid"); kid != nullptr) {
    header.key_id = kid->string_value();
  }
  return header;
}

// The claims' types and presence; what they must equal is checked after the
// signature.
absl::StatusOr<TokenClaims> ParseClaims(const Struct& object) {
  TokenClaims claims;
  RETURN_IF_ERROR(GetRequiredString(object, "iss", &claims.issuer));
  RETURN_IF_ERROR(GetRequiredString(object, "sub", &claims.subject));
  RETURN_IF_ERROR(GetRequiredString(object, "role", &claims.role));
  RETURN_IF_ERROR(GetRequiredString(object, "tenant", &claims.tenant));
  RETURN_IF_ERROR(GetString(object, "team", &claims.team));
  RETURN_IF_ERROR(GetString(object, "name", &claims.name));
  RETURN_IF_ERROR(GetString(object, "jti", &claims.token_id));
  RETURN_IF_ERROR(GetAudience(object, &claims.audience));
  if (Member(object, "exp") == nullptr) return Refuse("claim 'exp' is missing");
  RETURN_IF_ERROR(GetTime(object, "exp", &claims.expires_at));
  RETURN_IF_ERROR(GetTime(object, "nbf", &claims.not_before));
  RETURN_IF_ERROR(GetTime(object, "iat", &claims.issued_at));
  return claims;
}

// `text` as a JSON string literal. Bytes from 0x80 up pass through: UTF-8 in,
// UTF-8 out.
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          absl::StrAppend(&out, "\\u00",
                          absl::BytesToHexString(absl::string_view(&c, 1)));
        } else {
          out.push_back(c);
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace

// --- JwtVerifier ---

struct JwtVerifier::Impl {
  struct VerifyingKey {
    std::string key_id;
    JwsKey key;
  };
  struct TrustedIssuer {
    std::string audience;
    absl::Duration leeway;
    absl::Duration max_lifetime;
    std::vector<VerifyingKey> keys;
  };
  // Read-only after Create, so Verify may run on any number of threads.
  absl::flat_hash_map<std::string, TrustedIssuer> issuers;
};

JwtVerifier::JwtVerifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JwtVerifier::JwtVerifier(JwtVerifier&&) noexcept = default;
JwtVerifier& JwtVerifier::operator=(JwtVerifier&&) noexcept = default;
JwtVerifier::~JwtVerifier() = default;

absl::StatusOr<JwtVerifier> JwtVerifier::Create(std::vector<Issuer> issuers) {
  auto impl = std::make_unique<Impl>();
  for (const Issuer& issuer : issuers) {
    const std::string who = absl::StrCat("JWT issuer '", issuer.issuer, "'");
    if (issuer.issuer.empty()) {
      return absl::InvalidArgumentError("a JWT issuer has an empty name");
    }
    if (issuer.audience.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(who, " has no audience"));
    }
    if (issuer.keys.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(who, " has no keys"));
    }
    if (issuer.leeway < absl::ZeroDuration() ||
        issuer.max_lifetime <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          who, ": leeway must not be negative and max_lifetime is required"));
    }
    Impl::TrustedIssuer trusted{
        issuer.audience, issuer.leeway, issuer.max_lifetime, {}};
    absl::flat_hash_set<std::string> key_ids;
    for (size_t i = 0; i < issuer.keys.size(); ++i) {
      const Key& key = issuer.keys[i];
      const std::string which =
          key.key_id.empty() ? absl::StrCat("key #", i + 1, " (no key id)")
                             : absl::StrCat("key '", key.key_id, "'");
      if (!key.key_id.empty() && !key_ids.insert(key.key_id).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(who, " lists ", which, " twice"));
      }
      absl::StatusOr<JwsKey> parsed =
          JwsKey::FromPublicKeyPem(key.public_key_pem);
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(who, " ", which, ": ", parsed.status().message()));
      }
      trusted.keys.push_back({key.key_id, *std::move(parsed)});
    }
    if (!impl->issuers.emplace(issuer.issuer, std::move(trusted)).second) {
      return absl::InvalidArgumentError(absl::StrCat(who, " is listed twice"));
    }
  }
  return JwtVerifier(std::move(impl));
}

absl::StatusOr<TokenClaims> JwtVerifier::Verify(absl::string_view token,
                                                absl::Time now) const {
  if (token.empty()) return Refuse("is missing");
  if (token.size() > kMaxTokenBytes) {
    return Refuse(absl::StrCat("is longer than ", kMaxTokenBytes, " bytes"));
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) {
    return Refuse("is not three base64url parts separated by dots");
  }
  std::optional<std::string> header_json = DecodeBase64Url(parts[0]);
  if (!header_json.has_value()) {
    return Refuse("header is not canonical unpadded base64url");
  }
  ASSIGN_OR_RETURN(const Struct header_object,
                   ParseJsonObject(*header_json, "header"));
  ASSIGN_OR_RETURN(const Header header, ParseHeader(header_object));
  std::optional<std::string> payload_json = DecodeBase64Url(parts[1]);
  if (!payload_json.has_value()) {
    return Refuse("payload is not canonical unpadded base64url");
  }
  ASSIGN_OR_RETURN(const Struct payload_object,
                   ParseJsonObject(*payload_json, "payload"));
  ASSIGN_OR_RETURN(TokenClaims claims, ParseClaims(payload_object));

  auto found = impl_->issuers.find(claims.issuer);
  if (found == impl_->issuers.end()) {
    return Refuse("issuer is not trusted (unknown issuer)");
  }
  const Impl::TrustedIssuer& issuer = found->second;
  std::vector<const Impl::VerifyingKey*> candidates;
  bool key_id_known = false;
  for (const Impl::VerifyingKey& key : issuer.keys) {
    if (header.key_id.has_value() &&
        (key.key_id.empty() || key.key_id != *header.key_id)) {
      continue;
    }
    key_id_known = true;
    if (key.key.algorithm() == header.alg) candidates.push_back(&key);
  }
  if (!key_id_known) {
    return Refuse(absl::StrCat("key id ", Quoted(*header.key_id),
                               " is not one of the keys of issuer '",
                               claims.issuer, "'"));
  }
  if (candidates.empty()) {
    return Refuse(
        absl::StrCat("algorithm ", internal::JwsAlgorithmName(header.alg),
                     header.key_id.has_value()
                         ? absl::StrCat(" is not the one key ",
                                        Quoted(*header.key_id), " signs with")
                         : " is not one that the issuer's keys sign with"));
  }
  std::optional<std::string> signature = DecodeBase64Url(parts[2]);
  if (!signature.has_value()) {
    return Refuse("signature is not canonical unpadded base64url");
  }
  if (signature->empty()) return Refuse("signature is missing");
  const absl::string_view signed_text =
      token.substr(0, parts[0].size() + 1 + parts[1].size());
  const bool verified =
      absl::c_any_of(candidates, [&](const Impl::VerifyingKey* key) {
        return key->key.Verify(signed_text, *signature);
      });
  if (!verified) return Refuse("signature does not verify");

  if (!absl::c_linear_search(claims.audience, issuer.audience)) {
    return Refuse("audience does not include this service");
  }
  if (now > claims.expires_at + issuer.leeway) return Refuse("expired");
  if (now + issuer.leeway < claims.not_before) return Refuse("not yet valid");
  if (claims.issued_at > now + issuer.leeway) {
    return Refuse("issued in the future");
  }
  const absl::Time start =
      claims.issued_at == absl::InfinitePast() ? now : claims.issued_at;
  if (claims.expires_at - start > issuer.max_lifetime) {
    return Refuse("lifetime exceeds the issuer's maximum");
  }
  return claims;
}

// --- Signing and keys ---

absl::StatusOr<std::string> SignJwt(const TokenClaims& claims,
                                    absl::string_view private_key_pem,
                                    absl::string_view key_id) {
  absl::StatusOr<JwsKey> key = JwsKey::FromPrivateKeyPem(private_key_pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the signing key is ", key.status().message()));
  }

  std::string header =
      absl::StrCat(R"({"alg":")", internal::JwsAlgorithmName(key->algorithm()),
                   R"(","typ":"JWT")");
  if (!key_id.empty()) {
    absl::StrAppend(&header, ",\"kid\":", JsonString(key_id));
  }
  header += "}";

  std::vector<std::string> members = {
      absl::StrCat("\"iss\":", JsonString(claims.issuer)),
      absl::StrCat("\"sub\":", JsonString(claims.subject))};
  if (claims.audience.size() == 1) {
    members.push_back(absl::StrCat("\"aud\":", JsonString(claims.audience[0])));
  } else if (!claims.audience.empty()) {
    std::vector<std::string> audience;
    for (const std::string& a : claims.audience) {
      audience.push_back(JsonString(a));
    }
    members.push_back(
        absl::StrCat("\"aud\":[", absl::StrJoin(audience, ","), "]"));
  }
  members.push_back(absl::StrCat("\"role\":", JsonString(claims.role)));
  members.push_back(absl::StrCat("\"tenant\":", JsonString(claims.tenant)));
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string*>{"team", &claims.team},
        {"name", &claims.name},
        {"jti", &claims.token_id}}) {
    if (!value->empty()) {
      members.push_back(absl::StrCat("\"", name, "\":", JsonString(*value)));
    }
  }
  for (const auto& [name, time] :
       {std::pair<const char*, absl::Time>{"iat", claims.issued_at},
        {"nbf", claims.not_before},
        {"exp", claims.expires_at}}) {
    if (time == absl::InfinitePast() || time == absl::InfiniteFuture()) {
      continue;
    }
    const int64_t seconds = absl::ToUnixSeconds(time);
    if (std::fabs(static_cast<double>(seconds)) > kMaxNumericDate) {
      return absl::InvalidArgumentError(
          absl::StrCat("the token's '", name, "' time is out of range"));
    }
    members.push_back(absl::StrCat("\"", name, "\":", seconds));
  }
  const std::string payload =
      absl::StrCat("{", absl::StrJoin(members, ","), "}");

  const std::string signed_text =
      absl::StrCat(EncodeBase64Url(header), ".", EncodeBase64Url(payload));
  ASSIGN_OR_RETURN(const std::string signature, key->Sign(signed_text));
  return absl::StrCat(signed_text, ".", EncodeBase64Url(signature));
}

absl::StatusOr<KeyPairPem> GenerateEd25519KeyPair() {
  return internal::NewEd25519KeyPairPem();
}

absl::StatusOr<std::string> JwtKeyId(absl::string_view pem) {
  absl::StatusOr<JwsKey> key = JwsKey::FromPublicKeyPem(pem);
  if (!key.ok()) key = JwsKey::FromPrivateKeyPem(pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        "not a PEM PUBLIC KEY or unencrypted PRIVATE KEY of an accepted type");
  }
  return key->KeyId();
}

}  // namespace casetrail::security
