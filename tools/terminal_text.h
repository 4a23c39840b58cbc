#ifndef CASETRAIL_TOOLS_TERMINAL_TEXT_H_
#define CASETRAIL_TOOLS_TERMINAL_TEXT_H_

// Stored text shown on a terminal. What the server stores came from clients
// (a break-glass reason, a purpose, ids), and records written before the
// server refused control characters may still hold them: printed as they
// are, a CR or LF would start a forged row of a listing, and an escape
// sequence would drive the terminal.

#include <string>

#include "absl/strings/string_view.h"

namespace casetrail::tools {

// `text` with everything that could move the cursor, end a line or change
// how text after it is shown written as a visible escape, so one stored
// field is always one piece of one line:
//   - C0 controls and DEL as \n, \r, \t or \xNN, and a backslash as "\\";
//   - C1 controls (U+0080-U+009F), the line and paragraph separators
//     (U+2028, U+2029) and the bidirectional formatting characters (U+200E,
//     U+200F, U+202A-U+202E, U+2066-U+2069) as \uNNNN;
//   - bytes that are not well-formed UTF-8 as \xNN.
// Other text, UTF-8 included, is unchanged. Pure.
std::string TerminalText(absl::string_view text);

}  // namespace casetrail::tools

#endif  // CASETRAIL_TOOLS_TERMINAL_TEXT_H_
