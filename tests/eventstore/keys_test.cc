#include "eventstore/keys.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace casetrail::eventstore {
namespace {

TEST(EncodeU64Test, IsEightBytesBigEndian) {
  EXPECT_EQ(EncodeU64(0), std::string(8, '\0'));
  EXPECT_EQ(EncodeU64(1), std::string("\0\0\0\0\0\0\0\x01", 8));
  EXPECT_EQ(EncodeU64(0x0102030405060708),
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(EncodeU64(UINT64_MAX), std::string(8, '\xff'));
}

TEST(EncodeU64Test, RoundTrips) {
  std::mt19937_64 rng(42);
  std::vector<uint64_t> values = {0,          1,
                                  255,        256,
                                  UINT32_MAX, uint64_t{1} << 32,
                                  UINT64_MAX, UINT64_MAX - 1};
  for (int i = 0; i < 1000; ++i) values.push_back(rng());
  for (uint64_t v : values) {
    const std::string encoded = EncodeU64(v);
    ASSERT_EQ(encoded.size(), 8u);
    std::optional<uint64_t> decoded = DecodeU64(encoded);
    ASSERT_TRUE(decoded.has_value()) << v;
    EXPECT_EQ(*decoded, v);
  }
}

TEST(EncodeU64Test, BytewiseOrderIsNumericOrder) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    // Mix full-range values with small ones and close neighbours, where a
    // little-endian encoding would sort wrongly.
    uint64_t a = rng();
    uint64_t b = (i % 3 == 0) ? a + (rng() % 512) : rng();
    if (i % 5 == 0) {
      a >>= (rng() % 64);
      b >>= (rng() % 64);
    }
    const int bytewise = EncodeU64(a).compare(EncodeU64(b));
    const int numeric = a < b ? -1 : (a > b ? 1 : 0);
    ASSERT_EQ(bytewise < 0 ? -1 : (bytewise > 0 ? 1 : 0), numeric)
        << a << " vs " << b;
  }
}

TEST(DecodeU64Test, RejectsWrongLength) {
  EXPECT_FALSE(DecodeU64("").has_value());
  EXPECT_FALSE(DecodeU64(std::string(7, '\0')).has_value());
  EXPECT_FALSE(DecodeU64(std::string(9, '\0')).has_value());
  EXPECT_FALSE(DecodeU64(std::string(16, '\x01')).has_value());
  EXPECT_TRUE(DecodeU64(std::string(8, '\0')).has_value());
}

TEST(StreamEventKeyTest, LayoutIsStreamIdZeroByteVersion) {
  EXPECT_EQ(StreamEventKey("case-1", 3),
            std::string("case-1\0\0\0\0\0\0\0\0\x03", 15));
}

TEST(StreamEventKeyTest, RoundTrips) {
  for (const std::string& stream : std::vector<std::string>{
           "a", "case-1", "Case/2024:ABC~!", std::string(200, 'x')}) {
    for (uint64_t version : {uint64_t{0}, uint64_t{1}, uint64_t{255},
                             uint64_t{256}, uint64_t{1} << 40, UINT64_MAX}) {
      const std::string key = StreamEventKey(stream, version);
      std::optional<StreamEventKeyParts> parts = ParseStreamEventKey(key);
      ASSERT_TRUE(parts.has_value()) << stream << " " << version;
      EXPECT_EQ(parts->stream_id, stream);
      EXPECT_EQ(parts->version, version);
    }
  }
}

TEST(StreamEventKeyTest, SortsByStreamThenVersion) {
  // Versions of one stream sort numerically, including across byte
  // boundaries.
  std::vector<uint64_t> versions = {1, 2, 9, 10, 255, 256, 1000, 65536};
  for (size_t i = 1; i < versions.size(); ++i) {
    EXPECT_LT(StreamEventKey("case-1", versions[i - 1]),
              StreamEventKey("case-1", versions[i]));
  }
  // Every key of a stream sorts before every key of a stream that extends its
  // id, so a stream's keys are one contiguous range.
  EXPECT_LT(StreamEventKey("case-1", UINT64_MAX), StreamEventKey("case-10", 0));
  EXPECT_LT(StreamEventKey("case-1", UINT64_MAX), StreamEventKey("case-1!", 0));
  EXPECT_LT(StreamEventKey("case-1", UINT64_MAX), StreamEventKey("case-2", 1));
  // The range scan bound the store uses: stream id followed by 0x01.
  EXPECT_LT(StreamEventKey("case-1", UINT64_MAX), std::string("case-1\x01"));
  EXPECT_GT(StreamEventKey("case-1!", 0), std::string("case-1\x01"));
}

TEST(ParseStreamEventKeyTest, RejectsNonKeys) {
  EXPECT_FALSE(ParseStreamEventKey("").has_value());
  // No stream id.
  EXPECT_FALSE(ParseStreamEventKey(std::string(9, '\0')).has_value());
  // A 7-byte version: the separator is not 9 bytes from the end.
  EXPECT_FALSE(ParseStreamEventKey(std::string("case\0\0\0\0\0\0\0\x01", 12))
                   .has_value());
  // No 0x00 separator before the version.
  EXPECT_FALSE(ParseStreamEventKey(std::string("case-1x\0\0\0\0\0\0\0\x01", 15))
                   .has_value());
  // Stream id with a space or a control byte.
  EXPECT_FALSE(ParseStreamEventKey(StreamEventKey("case 1", 1)).has_value());
  EXPECT_FALSE(ParseStreamEventKey(StreamEventKey("case\n1", 1)).has_value());
  // Stream id that is too long.
  EXPECT_FALSE(ParseStreamEventKey(StreamEventKey(std::string(201, 'x'), 1))
                   .has_value());
}

TEST(IsValidStreamIdTest, AcceptsPrintableAsciiWithoutSpaces) {
  EXPECT_TRUE(IsValidStreamId("a"));
  EXPECT_TRUE(IsValidStreamId("case-2024-0001"));
  EXPECT_TRUE(IsValidStreamId("!~"));
  EXPECT_TRUE(IsValidStreamId("child/123:referral_7"));
  EXPECT_TRUE(IsValidStreamId(std::string(200, 'x')));
}

TEST(IsValidStreamIdTest, RejectsEmptyLongSpacesControlAndNonAscii) {
  EXPECT_FALSE(IsValidStreamId(""));
  EXPECT_FALSE(IsValidStreamId(std::string(201, 'x')));
  EXPECT_FALSE(IsValidStreamId("case 1"));
  EXPECT_FALSE(IsValidStreamId(" case"));
  EXPECT_FALSE(IsValidStreamId("case\t1"));
  EXPECT_FALSE(IsValidStreamId(std::string("case\0001", 6)));
  EXPECT_FALSE(IsValidStreamId("case\x7f"));
  EXPECT_FALSE(IsValidStreamId("caf\xc3\xa9"));  // UTF-8 "café"
}

}  // namespace
}  // namespace casetrail::eventstore
