#include "eventstore/stored_event.h"

#include <cstdint>
#include <fstream>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "eventstore/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/case_events.h"

namespace casetrail::eventstore {
namespace {

using casetrail::v1::CaseEvent;
using casetrail::v1::RecordedEvent;

// What the stored bytes must equal: protobuf's own serialisation of the whole
// RecordedEvent.
std::string SerializedByProtobuf(uint64_t position, uint64_t stream_version,
                                 absl::Time recorded_at,
                                 const CaseEvent& event) {
  RecordedEvent recorded;
  recorded.set_position(position);
  recorded.set_stream_version(stream_version);
  *recorded.mutable_recorded_at() = ToProtoTime(recorded_at);
  *recorded.mutable_event() = event;
  return recorded.SerializeAsString();
}

CaseEvent EventWithPayload(size_t payload_bytes) {
  CaseEvent event = casetrail::testing::MakeCaseEvent(
      "evt-1", "ContactReceived", std::string(payload_bytes, 'p'));
  event.set_stream_id("case-1");
  event.set_schema_version(1);
  return event;
}

struct EncodeCase {
  const char* name;
  uint64_t position;
  uint64_t stream_version;
  absl::Time recorded_at;
  size_t payload_bytes;
};

void PrintTo(const EncodeCase& c, std::ostream* os) { *os << c.name; }

class EncodeStoredEventTest : public ::testing::TestWithParam<EncodeCase> {};

TEST_P(EncodeStoredEventTest, EqualsProtobufSerialisation) {
  const EncodeCase& c = GetParam();
  const CaseEvent event = EventWithPayload(c.payload_bytes);
  const std::string encoded_event =
      casetrail::testing::SerializeDeterministically(event);

  const std::string stored = EncodeStoredEvent(c.position, c.stream_version,
                                               c.recorded_at, encoded_event);

  EXPECT_EQ(stored, SerializedByProtobuf(c.position, c.stream_version,
                                         c.recorded_at, event));
  absl::StatusOr<RecordedEvent> decoded = DecodeStoredEvent(stored);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->position(), c.position);
  EXPECT_EQ(decoded->stream_version(), c.stream_version);
  EXPECT_EQ(ToAbslTime(decoded->recorded_at()), c.recorded_at);
  EXPECT_EQ(decoded->event().SerializeAsString(), encoded_event);
  EXPECT_EQ(decoded->event().opaque().data().size(), c.payload_bytes);
}

const absl::Time kMarch2024 = absl::FromUnixSeconds(1709285400);

INSTANTIATE_TEST_SUITE_P(
    Events, EncodeStoredEventTest,
    ::testing::Values(
        // Position 0 and the Unix epoch: proto3 leaves the zero fields out.
        EncodeCase{"FirstEventAtEpoch", 0, 1, absl::UnixEpoch(), 10},
        EncodeCase{"Small", 7, 3, kMarch2024 + absl::Nanoseconds(123456789),
                   16},
        // An event of 128+ bytes needs a two-byte varint length.
        EncodeCase{"PayloadOver128Bytes", 128, 2, kMarch2024, 200},
        EncodeCase{"PayloadOver16KiB", 300, 300, kMarch2024, 20000},
        EncodeCase{"PayloadOver2MiB", 1ull << 40, 1ull << 33, kMarch2024,
                   (2u << 20) + 5},
        EncodeCase{"BeforeEpochWithNanos", UINT64_MAX - 1, UINT64_MAX,
                   absl::UnixEpoch() - absl::Nanoseconds(1500000001), 1}),
    [](const ::testing::TestParamInfo<EncodeCase>& info) {
      return std::string(info.param.name);
    });

TEST(EncodeStoredEventTest, EmptyEventStillHasTheEventField) {
  const std::string stored = EncodeStoredEvent(1, 1, kMarch2024, "");
  RecordedEvent expected;
  expected.set_position(1);
  expected.set_stream_version(1);
  *expected.mutable_recorded_at() = ToProtoTime(kMarch2024);
  expected.mutable_event();
  EXPECT_EQ(stored, expected.SerializeAsString());
  EXPECT_TRUE(DecodeStoredEvent(stored).ok());
}

TEST(DecodeStoredEventTest, RejectsGarbageWithDataLoss) {
  const std::string valid = EncodeStoredEvent(
      5, 2, kMarch2024,
      casetrail::testing::SerializeDeterministically(EventWithPayload(300)));
  ASSERT_TRUE(DecodeStoredEvent(valid).ok());

  RecordedEvent header_only;
  header_only.set_position(5);
  header_only.set_stream_version(2);

  const std::string cases[] = {
      "",                                 // nothing at all
      std::string(8, '\xff'),             // not protobuf
      "\x7a\x05\x0a\x01",                 // field 15 shorter than its length
      valid.substr(0, valid.size() - 1),  // truncated
      valid.substr(0, valid.size() / 2),
      header_only.SerializeAsString(),  // a RecordedEvent without an event
      "\x78\x01",                       // field 15 as a varint
      EncodeU64(5),                     // a key, not a value
  };
  for (const std::string& bytes : cases) {
    absl::StatusOr<RecordedEvent> decoded = DecodeStoredEvent(bytes);
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss)
        << "bytes of size " << bytes.size();
  }
}

TEST(TimeConversionTest, RoundTripsIncludingBeforeEpoch) {
  for (absl::Time t :
       {absl::UnixEpoch(), kMarch2024, kMarch2024 + absl::Nanoseconds(1),
        absl::UnixEpoch() - absl::Nanoseconds(1),
        absl::UnixEpoch() - absl::Seconds(86400) - absl::Nanoseconds(5)}) {
    google::protobuf::Timestamp ts = ToProtoTime(t);
    EXPECT_GE(ts.nanos(), 0);
    EXPECT_LE(ts.nanos(), 999999999);
    EXPECT_EQ(ToAbslTime(ts), t);
  }
  google::protobuf::Timestamp before_epoch =
      ToProtoTime(absl::UnixEpoch() - absl::Nanoseconds(1));
  EXPECT_EQ(before_epoch.seconds(), -1);
  EXPECT_EQ(before_epoch.nanos(), 999999999);
}

// Regression: ToProtoTime once went through absl::ToUnixNanos, an int64 count
// of nanoseconds, which saturates outside 1677-09-21..2262-04-11, while
// google.protobuf.Timestamp covers years 1-9999.
TEST(TimeConversionTest, ToProtoTimeCoversTheTimestampRange) {
  const absl::Time year_3000 = absl::FromUnixSeconds(32503680000);
  EXPECT_EQ(ToProtoTime(year_3000).seconds(), 32503680000);
  const absl::Time year_1600 = absl::FromUnixSeconds(-11676096000);
  EXPECT_EQ(ToProtoTime(year_1600).seconds(), -11676096000);
}

}  // namespace
}  // namespace casetrail::eventstore

namespace casetrail::eventstore {
namespace {

// Schema evolution: an event written by an older build (store format 1, before
// typed payloads and the envelope fields that came with them) decodes with
// every field it had, and re-encodes to exactly the bytes it was stored as, so
// its leaf hash, and any proof of it, stay valid (tests/data/README.md).
TEST(DecodeStoredEventTest, AnEventWrittenByAnOlderBuildStillDecodes) {
  std::ifstream in(std::string(CASETRAIL_TEST_DATA_DIR) +
                   "/format1_strategy_discussion.hex");
  std::string hex;
  ASSERT_TRUE(std::getline(in, hex)) << "missing test data";
  const std::string bytes = absl::HexStringToBytes(hex);
  ASSERT_FALSE(bytes.empty());

  absl::StatusOr<casetrail::v1::RecordedEvent> decoded =
      DecodeStoredEvent(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->position(), 2u);
  EXPECT_EQ(decoded->stream_version(), 3u);
  const casetrail::v1::CaseEvent& e = decoded->event();
  EXPECT_EQ(e.event_id(), "demo-ns0001-003");
  EXPECT_EQ(e.stream_id(), "case-NS-0001");
  EXPECT_EQ(e.event_type(), "StrategyDiscussionHeld");
  EXPECT_EQ(e.schema_version(), 1u);
  EXPECT_EQ(e.recorded_by().user_id(), "cp-lwilliams");
  ASSERT_TRUE(e.has_opaque());
  EXPECT_THAT(e.opaque().data(), ::testing::HasSubstr("s47 enquiry to start"));
  // Fields added since are simply absent.
  EXPECT_EQ(e.jurisdiction(), casetrail::v1::JURISDICTION_UNSPECIFIED);
  EXPECT_TRUE(e.child_ids().empty());
  EXPECT_TRUE(decoded->GetReflection()->GetUnknownFields(*decoded).empty());
  EXPECT_EQ(decoded->SerializeAsString(), bytes);
  EXPECT_EQ(EncodeStoredEvent(decoded->position(), decoded->stream_version(),
                              ToAbslTime(decoded->recorded_at()),
                              e.SerializeAsString()),
            bytes);
}

}  // namespace
}  // namespace casetrail::eventstore
