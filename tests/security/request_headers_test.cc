// SecurityHeaderValue: one value per security header, and no control
// characters in it, refused with INVALID_ARGUMENT naming the header and never
// quoting the value (it may be a forged audit line).

#include "security/request_headers.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace casetrail::security {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SecurityHeaderValueTest, AbsentIsEmpty) {
  const absl::StatusOr<std::string> value =
      SecurityHeaderValue(kPurposeHeader, {});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, "");
}

TEST(SecurityHeaderValueTest, OneValueIsReturnedAsSent) {
  for (const char* sent : {"direct-work", "direct-work ", " a reason  ",
                           "Child seen at A&E, worker off sick (ref 42)"}) {
    const absl::StatusOr<std::string> value =
        SecurityHeaderValue(kBreakGlassHeader, {sent});
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_EQ(*value, sent);
  }
}

TEST(SecurityHeaderValueTest, ASecondValueIsRefusedNamingTheHeader) {
  for (const char* header :
       {kPurposeHeader, kBreakGlassHeader, kAuthorizationHeader}) {
    SCOPED_TRACE(header);
    const absl::StatusOr<std::string> value =
        SecurityHeaderValue(header, {"direct-work", "audit"});
    ASSERT_FALSE(value.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(value.status())) << value.status();
    EXPECT_EQ(value.status().message(), std::string("header ") + header +
                                            " was sent 2 times; send it once");
  }
  // The same value twice too.
  EXPECT_TRUE(absl::IsInvalidArgument(
      SecurityHeaderValue(kPurposeHeader, {"audit", "audit"}).status()));
}

TEST(SecurityHeaderValueTest, ControlCharactersAreRefusedNamingTheHeader) {
  const std::string forged =
      "flood at home\r\n2026-01-01 09:00  ns-ig (Auditor)  audit";
  struct Case {
    std::string value;
    const char* where;
  };
  const Case cases[] = {
      {forged, "byte 14 is 0x0d"},
      {"line\nbreak", "byte 5 is 0x0a"},
      {"tab\there", "byte 4 is 0x09"},
      {std::string("nul\0x", 5), "byte 4 is 0x00"},
      {"escape \x1b[2J", "byte 8 is 0x1b"},
      {"delete \x7f", "byte 8 is 0x7f"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.where);
    const absl::StatusOr<std::string> value =
        SecurityHeaderValue(kBreakGlassHeader, {c.value});
    ASSERT_FALSE(value.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(value.status())) << value.status();
    const std::string message(value.status().message());
    EXPECT_THAT(message, HasSubstr("header x-casetrail-break-glass holds a "
                                   "control character"));
    EXPECT_THAT(message, HasSubstr(c.where));
    EXPECT_THAT(message, Not(HasSubstr("flood")));
  }
  EXPECT_TRUE(absl::IsInvalidArgument(
      SecurityHeaderValue(kPurposeHeader, {"direct-work\n"}).status()));
  // UTF-8 text is not a control character.
  EXPECT_TRUE(SecurityHeaderValue(kBreakGlassHeader,
                                  {"Gwasanaeth brys \xE2\x80\x94 plentyn"})
                  .ok());
}

}  // namespace
}  // namespace casetrail::security
