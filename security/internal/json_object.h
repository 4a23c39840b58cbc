#ifndef CASETRAIL_SECURITY_INTERNAL_JSON_OBJECT_H_
#define CASETRAIL_SECURITY_INTERNAL_JSON_OBJECT_H_

// JSON objects from untrusted text (a token's header and payload, a JWKS
// file), parsed by protobuf's JSON parser into a google.protobuf.Struct, with
// the reason a text is refused told apart: not JSON, not an object, or a
// member named twice (RFC 7515 section 5.2 and RFC 7519 section 4 require
// refusing duplicate member names). Thread-safe (no shared state).

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace casetrail::security::internal {

// Why a text is not a JSON object.
struct JsonObjectError {
  enum class Kind { kNotJson, kNotAnObject, kDuplicateMember };
  Kind kind = Kind::kNotJson;
  // kDuplicateMember: the name given twice (raw: quote it before showing it),
  // and whether it is in an object nested inside the top-level one.
  std::string member;
  bool nested = false;
};

// The object `json` holds, or nullopt with `*error` (if not null) saying why.
std::optional<google::protobuf::Struct> ParseJsonObject(absl::string_view json,
                                                        JsonObjectError* error);

}  // namespace casetrail::security::internal

#endif  // CASETRAIL_SECURITY_INTERNAL_JSON_OBJECT_H_
