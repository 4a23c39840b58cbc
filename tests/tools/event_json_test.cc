#include "tools/event_json.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace casetrail::tools {
namespace {

using ::testing::HasSubstr;

constexpr char kOneAppend[] = R"({
  "stream_id": "case-1",
  "events": [{
    "event_type": "ContactReceived",
    "occurred_at": {"time": "2026-03-02T08:40:00Z", "precision": "DAY"},
    "recorded_by": {"user_id": "u1"},
    "payload": {"zeta": 1, "alpha": {"b": [true, null, "x"], "a": 2.5}}
  }]
})";

TEST(EventJsonTest, PayloadBecomesCanonicalJsonOpaquePayload) {
  auto requests = ParseAppendRequests(kOneAppend);
  ASSERT_TRUE(requests.ok()) << requests.status();
  ASSERT_EQ(requests->size(), 1u);
  const auto& event = (*requests)[0].events(0);
  EXPECT_EQ(event.opaque().content_type(), "application/json");
  // Keys sorted at every level, so the same payload always has the same bytes.
  EXPECT_EQ(event.opaque().data(),
            R"({"alpha":{"a":2.5,"b":[true,null,"x"]},"zeta":1})");
}

// The property an idempotent retry relies on: the same payload, however its
// keys are ordered, gives the same bytes. (The bug this guards, protobuf's
// Struct hash order, differed between processes, which one process cannot
// show; PayloadBecomesCanonicalJsonOpaquePayload pins the exact bytes.)
TEST(EventJsonTest, SamePayloadTextGivesSameBytesWhateverTheKeyOrder) {
  auto a = ParseAppendRequests(
      R"({"stream_id":"s","events":[{"event_id":"e","payload":{"x":1,"y":2,"z":3}}]})");
  auto b = ParseAppendRequests(
      R"({"stream_id":"s","events":[{"event_id":"e","payload":{"z":3,"y":2,"x":1}}]})");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)[0].events(0).opaque().data(),
            (*b)[0].events(0).opaque().data());
}

TEST(EventJsonTest, FillsDefaultsAPersonWouldLeaveOut) {
  auto requests = ParseAppendRequests(kOneAppend);
  ASSERT_TRUE(requests.ok());
  const auto& request = (*requests)[0];
  EXPECT_EQ(request.expected_version().kind(), v1::ExpectedVersion::KIND_ANY);
  EXPECT_THAT(request.events(0).event_id(), ::testing::StartsWith("evt-"));
  EXPECT_EQ(request.events(0).occurred_at().precision(),
            v1::TIME_PRECISION_DAY);
}

TEST(EventJsonTest, ArrayGivesOneRequestPerElement) {
  auto requests = ParseAppendRequests(
      R"([{"stream_id":"a","events":[]},{"streamId":"b","expectedVersion":{"kind":"KIND_EXACT","version":"2"}}])");
  ASSERT_TRUE(requests.ok()) << requests.status();
  ASSERT_EQ(requests->size(), 2u);
  EXPECT_EQ((*requests)[1].stream_id(), "b");
  EXPECT_EQ((*requests)[1].expected_version().version(), 2u);
}

TEST(EventJsonTest, BadInputIsInvalidArgumentNamingTheProblem) {
  auto syntax = ParseAppendRequests("{\"stream_id\": ");
  EXPECT_EQ(syntax.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(syntax.status().message(), HasSubstr("not valid JSON"));

  auto unknown = ParseAppendRequests(R"({"stream_id":"a","colour":"red"})");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("colour"));

  auto not_object = ParseAppendRequests(R"([1])");
  EXPECT_EQ(not_object.status().code(), absl::StatusCode::kInvalidArgument);

  auto bad_time = ParseAppendRequests(
      R"({"stream_id":"a","events":[{"occurred_at":{"time":"yesterday"}}]})");
  EXPECT_EQ(bad_time.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EventJsonTest, OutputTurnsJsonPayloadBackIntoPayloadSoOutputCanBeInput) {
  auto requests = ParseAppendRequests(kOneAppend);
  ASSERT_TRUE(requests.ok());
  v1::RecordedEvent recorded;
  recorded.set_position(7);
  *recorded.mutable_event() = (*requests)[0].events(0);
  const std::string json = RecordedEventToJson(recorded);
  EXPECT_THAT(json, HasSubstr(R"("payload":{)"));
  EXPECT_THAT(json, ::testing::Not(HasSubstr("opaque")));
  EXPECT_THAT(json, HasSubstr(R"("position":"7")"));
}

}  // namespace
}  // namespace casetrail::tools
