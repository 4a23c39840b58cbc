#include "tools/terminal_text.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace casetrail::tools {
namespace {

// The code point of the well-formed UTF-8 sequence of 2-4 bytes at the
// start of `text` and its length, or {0, 0}.
struct CodePoint {
  uint32_t value = 0;
  size_t length = 0;
};

CodePoint DecodeUtf8(absl::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(0);
  // Sequence length, the lead byte's payload bits, and the least value a
  // sequence of that length may encode (shorter forms are overlong).
  struct Form {
    uint8_t first, last;
    size_t length;
    uint8_t mask;
    uint32_t min;
  };
  static constexpr Form kForms[] = {{0xc2, 0xdf, 2, 0x1f, 0x80},
                                    {0xe0, 0xef, 3, 0x0f, 0x800},
                                    {0xf0, 0xf4, 4, 0x07, 0x10000}};
  const Form* form = nullptr;
  for (const Form& f : kForms) {
    if (lead >= f.first && lead <= f.last) form = &f;
  }
  if (form == nullptr) return {};
  const size_t length = form->length;
  const uint32_t min = form->min;
  uint32_t value = lead & form->mask;
  if (text.size() < length) return {};
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return {};
    value = (value << 6) | (byte(i) & 0x3f);
  }
  // Overlong forms, UTF-16 surrogates and values past U+10FFFF.
  if (value < min || (value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff) {
    return {};
  }
  return {value, length};
}

bool Disruptive(uint32_t c) {
  return (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
         c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
         (c >= 0x2066 && c <= 0x2069);
}

}  // namespace

std::string TerminalText(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<uint8_t>(text[i]);
    if (byte < 0x80) {
      switch (byte) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\\':
          out += "\\\\";
          break;
        default:
          if (byte < 0x20 || byte == 0x7f) {
            absl::StrAppendFormat(&out, "\\x%02x", byte);
          } else {
            out.push_back(static_cast<char>(byte));
          }
      }
      ++i;
      continue;
    }
    const CodePoint c = DecodeUtf8(text.substr(i));
    if (c.length == 0) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
      ++i;
    } else if (Disruptive(c.value)) {
      absl::StrAppendFormat(&out, "\\u%04x", c.value);
      i += c.length;
    } else {
      out.append(text.data() + i, c.length);
      i += c.length;
    }
  }
  return out;
}

}  // namespace casetrail::tools
