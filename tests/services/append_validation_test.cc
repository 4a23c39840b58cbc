#include "services/append_validation.h"

#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eventstore/wire_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/case_events.h"
#include "tests/testing/malformed_appends.h"

namespace casetrail::services {
namespace {

using casetrail::testing::MakeAppendRequest;
using casetrail::testing::MakeCaseEvent;
using casetrail::testing::ValidAppendRequest;
using casetrail::v1::AppendEventsRequest;
using casetrail::v1::CaseEvent;
using casetrail::v1::ExpectedVersion;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

std::vector<std::string> Fields(const std::vector<FieldViolation>& violations) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : violations) fields.push_back(v.field);
  return fields;
}

std::string Describe(const std::vector<FieldViolation>& violations) {
  std::string out;
  for (const FieldViolation& v : violations) {
    absl::StrAppend(&out, "\n  ", v.field, ": ", v.description);
  }
  return out;
}

TEST(ValidateAppendTest, AcceptsAValidRequest) {
  EXPECT_THAT(ValidateAppend(ValidAppendRequest(), AppendLimits{}), IsEmpty());
}

TEST(ValidateAppendTest, AcceptsEveryKindAndPrecisionAndOptionalFields) {
  for (ExpectedVersion::Kind kind :
       {ExpectedVersion::KIND_ANY, ExpectedVersion::KIND_NO_STREAM,
        ExpectedVersion::KIND_STREAM_EXISTS, ExpectedVersion::KIND_EXACT}) {
    AppendEventsRequest request = ValidAppendRequest();
    request.mutable_expected_version()->set_kind(kind);
    if (kind == ExpectedVersion::KIND_EXACT) {
      request.mutable_expected_version()->set_version(17);
    }
    EXPECT_THAT(Fields(ValidateAppend(request, AppendLimits{})), IsEmpty())
        << kind;
  }
  for (casetrail::v1::TimePrecision precision :
       {casetrail::v1::TIME_PRECISION_EXACT, casetrail::v1::TIME_PRECISION_DAY,
        casetrail::v1::TIME_PRECISION_MONTH,
        casetrail::v1::TIME_PRECISION_APPROXIMATE}) {
    AppendEventsRequest request = ValidAppendRequest();
    request.mutable_events(0)->mutable_occurred_at()->set_precision(precision);
    EXPECT_THAT(Fields(ValidateAppend(request, AppendLimits{})), IsEmpty())
        << precision;
  }
  AppendEventsRequest request = ValidAppendRequest();
  CaseEvent& e = *request.mutable_events(0);
  e.set_stream_id("case-1");  // equal to the request's: allowed
  e.set_schema_version(3);
  e.set_correlation_id("referral-9");
  e.set_causation_id("evt-0");
  e.mutable_source()->set_system("mosaic");
  // The ends of the timestamp range.
  e.mutable_occurred_at()->mutable_time()->set_seconds(253402300799);
  e.mutable_occurred_at()->mutable_time()->set_nanos(999999999);
  request.mutable_events(1)->mutable_occurred_at()->mutable_time()->set_seconds(
      -62135596800);
  EXPECT_THAT(Fields(ValidateAppend(request, AppendLimits{})), IsEmpty());
}

TEST(ValidateAppendTest, AcceptsAppendsAtTheLimits) {
  AppendLimits limits;
  limits.max_events_per_append = 3;
  limits.max_event_bytes = 400;
  limits.max_append_bytes = 1200;
  AppendEventsRequest request =
      MakeAppendRequest("case-1", ExpectedVersion::KIND_ANY, {});
  for (int i = 0; i < 3; ++i) {
    CaseEvent e = MakeCaseEvent(absl::StrCat("evt-", i));
    // Pad the payload so that the event is exactly max_event_bytes.
    std::string* data = e.mutable_opaque()->mutable_data();
    while (e.ByteSizeLong() < limits.max_event_bytes) data->push_back('x');
    ASSERT_EQ(e.ByteSizeLong(), limits.max_event_bytes);
    *request.add_events() = e;
  }
  EXPECT_THAT(Fields(ValidateAppend(request, limits)), IsEmpty());
}

TEST(ValidateAppendTest, ReportsEachMalformedField) {
  for (const casetrail::testing::MalformedAppend& c :
       casetrail::testing::MalformedAppends()) {
    SCOPED_TRACE(c.name);
    const std::vector<FieldViolation> violations =
        ValidateAppend(c.request, AppendLimits{});
    EXPECT_THAT(Fields(violations),
                UnorderedElementsAreArray(c.violated_fields))
        << Describe(violations);
    for (const FieldViolation& v : violations) {
      EXPECT_FALSE(v.description.empty()) << v.field;
    }
  }
}

TEST(ValidateAppendTest, HonoursTheGivenLimits) {
  AppendLimits limits;
  limits.max_events_per_append = 2;
  limits.max_event_bytes = 300;
  limits.max_append_bytes = 500;

  AppendEventsRequest three = ValidAppendRequest();
  *three.add_events() = MakeCaseEvent("evt-3");
  EXPECT_THAT(Fields(ValidateAppend(three, limits)), ElementsAre("events"));

  AppendEventsRequest big_event = ValidAppendRequest();
  big_event.mutable_events(0)->mutable_opaque()->set_data(
      std::string(300, 'x'));
  EXPECT_THAT(Fields(ValidateAppend(big_event, limits)),
              ElementsAre("events[0]"));

  AppendEventsRequest big_append = ValidAppendRequest();
  for (CaseEvent& e : *big_append.mutable_events()) {
    e.mutable_opaque()->set_data(std::string(200, 'x'));
  }
  ASSERT_LE(big_append.events(0).ByteSizeLong(), 300u);
  EXPECT_THAT(Fields(ValidateAppend(big_append, limits)),
              ElementsAre("events"));
}

TEST(ValidateAppendTest, DescriptionsNameTheProblem) {
  AppendEventsRequest request = ValidAppendRequest();
  request.mutable_events(1)->set_stream_id("case-2");
  const std::vector<FieldViolation> violations =
      ValidateAppend(request, AppendLimits{});
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_THAT(violations[0].description, ::testing::HasSubstr("case-2"));
  EXPECT_THAT(violations[0].description, ::testing::HasSubstr("case-1"));
}

TEST(ToStoreAppendTest, SetsStreamIdAndSchemaVersion) {
  AppendEventsRequest request = ValidAppendRequest();
  request.mutable_events(1)->set_schema_version(4);
  const AppendEventsRequest original = request;

  const eventstore::AppendRequest append = ToStoreAppend(request);

  EXPECT_EQ(request.SerializeAsString(), original.SerializeAsString())
      << "the request was modified";
  EXPECT_EQ(append.stream_id, "case-1");
  EXPECT_EQ(append.expected.kind, eventstore::ExpectedVersion::Kind::kAny);
  ASSERT_EQ(append.events.size(), 2u);
  for (size_t i = 0; i < append.events.size(); ++i) {
    const eventstore::ProposedEvent& proposed = append.events[i];
    EXPECT_EQ(proposed.event_id, request.events(i).event_id());
    CaseEvent decoded;
    ASSERT_TRUE(decoded.ParseFromString(proposed.encoded_event));
    EXPECT_EQ(decoded.stream_id(), "case-1");
    CaseEvent expected = request.events(i);
    expected.set_stream_id("case-1");
    if (expected.schema_version() == 0) expected.set_schema_version(1);
    EXPECT_EQ(proposed.encoded_event,
              casetrail::testing::SerializeDeterministically(expected));
  }
  CaseEvent first, second;
  ASSERT_TRUE(first.ParseFromString(append.events[0].encoded_event));
  ASSERT_TRUE(second.ParseFromString(append.events[1].encoded_event));
  EXPECT_EQ(first.schema_version(), 1u);   // 0 made 1
  EXPECT_EQ(second.schema_version(), 4u);  // kept
}

TEST(ToStoreAppendTest, KeepsAStreamIdThatMatches) {
  AppendEventsRequest with_id = ValidAppendRequest();
  for (CaseEvent& e : *with_id.mutable_events()) e.set_stream_id("case-1");
  const eventstore::AppendRequest a = ToStoreAppend(ValidAppendRequest());
  const eventstore::AppendRequest b = ToStoreAppend(with_id);
  ASSERT_EQ(a.events.size(), b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) {
    // Leaving stream_id empty and setting it are the same content, so a retry
    // may do either.
    EXPECT_EQ(a.events[i].encoded_event, b.events[i].encoded_event);
  }
}

// The splice that sets stream_id and schema_version gives the very bytes of
// serialising a normalised copy, for events with and without each field, with
// fields around them missing, and with unknown fields.
TEST(EncodeNormalisedEventTest, EqualsSerialisingANormalisedCopy) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    CaseEvent e;
    if (rng() % 8) e.set_event_id(absl::StrCat("evt-", i));
    if (rng() % 3 == 0) e.set_stream_id("case-1");
    if (rng() % 8) e.set_event_type("ContactReceived");
    if (rng() % 3 == 0) e.set_schema_version(1 + rng() % 5);
    if (rng() % 2) e.mutable_occurred_at()->mutable_time()->set_seconds(i);
    if (rng() % 2) e.mutable_recorded_by()->set_user_id("u1");
    if (rng() % 2) e.set_correlation_id("corr");
    if (rng() % 2) {
      e.mutable_opaque()->set_content_type("application/json");
      e.mutable_opaque()->set_data(std::string(rng() % 300, 'x'));
    }
    if (rng() % 4 == 0) {
      // Fields of a newer schema: 998 (varint) and 999 (bytes).
      std::string unknown;
      eventstore::AppendVarintField(998, 42, &unknown);
      eventstore::AppendLengthDelimitedField(999, "future", &unknown);
      ASSERT_TRUE(e.ParseFromString(e.SerializeAsString() + unknown));
    }
    CaseEvent normalised = e;
    normalised.set_stream_id("case-1");
    if (normalised.schema_version() == 0) normalised.set_schema_version(1);
    ASSERT_EQ(EncodeNormalisedEvent(e, "case-1"),
              casetrail::testing::SerializeDeterministically(normalised))
        << e.DebugString();
  }
}

TEST(ToStoreAppendTest, MapsEachExpectedVersionKind) {
  using StoreKind = eventstore::ExpectedVersion::Kind;
  const std::pair<ExpectedVersion::Kind, StoreKind> kinds[] = {
      {ExpectedVersion::KIND_ANY, StoreKind::kAny},
      {ExpectedVersion::KIND_NO_STREAM, StoreKind::kNoStream},
      {ExpectedVersion::KIND_STREAM_EXISTS, StoreKind::kStreamExists},
      {ExpectedVersion::KIND_EXACT, StoreKind::kExact},
  };
  for (const auto& [kind, store_kind] : kinds) {
    AppendEventsRequest request = ValidAppendRequest();
    request.mutable_expected_version()->set_kind(kind);
    if (kind == ExpectedVersion::KIND_EXACT) {
      request.mutable_expected_version()->set_version(12);
    }
    const eventstore::AppendRequest append = ToStoreAppend(request);
    EXPECT_EQ(append.expected.kind, store_kind) << kind;
    EXPECT_EQ(append.expected.version,
              kind == ExpectedVersion::KIND_EXACT ? 12u : 0u);
  }
}

}  // namespace
}  // namespace casetrail::services
