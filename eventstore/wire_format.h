#ifndef CASETRAIL_EVENTSTORE_WIRE_FORMAT_H_
#define CASETRAIL_EVENTSTORE_WIRE_FORMAT_H_

// Minimal protobuf wire-format writers, for composing messages from
// already-serialised parts (stored events) without parsing them again.

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace casetrail::eventstore {

inline void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// Appends field `field` (wire type 2) holding `bytes`.
inline void AppendLengthDelimitedField(int field, absl::string_view bytes,
                                       std::string* out) {
  AppendVarint((static_cast<uint64_t>(field) << 3) | 2, out);
  AppendVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

// Appends field `field` (wire type 0) holding `value`; nothing for 0, as proto3
// does.
inline void AppendVarintField(int field, uint64_t value, std::string* out) {
  if (value == 0) return;
  AppendVarint(static_cast<uint64_t>(field) << 3, out);
  AppendVarint(value, out);
}

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_WIRE_FORMAT_H_
