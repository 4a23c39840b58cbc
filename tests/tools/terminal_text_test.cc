// TerminalText: a stored field always prints as one piece of one line, so an
// access record holding a CR/LF (written before the server refused them)
// cannot print as a forged row of `casetrail access`.

#include "tools/terminal_text.h"

#include <string>

#include "gtest/gtest.h"

namespace casetrail::tools {
namespace {

TEST(TerminalTextTest, PlainTextAndUtf8AreUnchanged) {
  for (const char* text :
       {"", "direct-work", "Emergency duty team call at 02:10",
        "Gwasanaeth brys \xE2\x80\x94 plentyn",
        "caf\xC3\xA9 \xF0\x9F\x98\x80"}) {
    EXPECT_EQ(TerminalText(text), text);
  }
}

TEST(TerminalTextTest, LineBreaksAndControlsAreEscaped) {
  EXPECT_EQ(TerminalText("flood\r\n2026-01-01 09:00  ns-ig (Auditor)"),
            "flood\\r\\n2026-01-01 09:00  ns-ig (Auditor)");
  EXPECT_EQ(TerminalText("a\tb"), "a\\tb");
  EXPECT_EQ(TerminalText(std::string("nul\0!", 5)), "nul\\x00!");
  EXPECT_EQ(TerminalText("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(TerminalText("del\x7f"), "del\\x7f");
  // A backslash is escaped too, so "\n" in stored text reads apart from an
  // escaped line break.
  EXPECT_EQ(TerminalText("a\\nb"), "a\\\\nb");
}

TEST(TerminalTextTest, UnicodeLineSeparatorsC1AndBidiControlsAreEscaped) {
  EXPECT_EQ(TerminalText("a\xC2\x85"
                         "b"),
            "a\\u0085b");  // NEL
  EXPECT_EQ(TerminalText("a\xC2\x9B"
                         "2J"),
            "a\\u009b2J");  // CSI
  EXPECT_EQ(TerminalText("a\xE2\x80\xA8"
                         "b"),
            "a\\u2028b");  // LS
  EXPECT_EQ(TerminalText("a\xE2\x80\xAE"
                         "b"),
            "a\\u202eb");  // RLO
  EXPECT_EQ(TerminalText("a\xE2\x81\xA6"
                         "b"),
            "a\\u2066b");  // LRI
}

TEST(TerminalTextTest, BytesThatAreNotUtf8AreEscaped) {
  EXPECT_EQ(TerminalText("a\x9b"
                         "2J"),
            "a\\x9b2J");                                       // a lone C1 byte
  EXPECT_EQ(TerminalText("\xC0\x8A"), "\\xc0\\x8a");           // overlong LF
  EXPECT_EQ(TerminalText("\xE2\x80"), "\\xe2\\x80");           // cut short
  EXPECT_EQ(TerminalText("\xED\xA0\x80"), "\\xed\\xa0\\x80");  // surrogate
}

}  // namespace
}  // namespace casetrail::tools
