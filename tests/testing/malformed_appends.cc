#include "tests/testing/malformed_appends.h"

#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/testing/case_events.h"

namespace casetrail::testing {
namespace {

using casetrail::v1::AppendEventsRequest;
using casetrail::v1::CaseEvent;
using casetrail::v1::ExpectedVersion;

// 9999-12-31T23:59:59Z, the last second a google.protobuf.Timestamp allows.
constexpr int64_t kMaxTimestampSeconds = 253402300799;

MalformedAppend Broken(std::string name, std::vector<std::string> fields,
                       const std::function<void(AppendEventsRequest&)>& edit) {
  AppendEventsRequest request = ValidAppendRequest();
  edit(request);
  return MalformedAppend{std::move(name), std::move(request),
                         std::move(fields)};
}

}  // namespace

AppendEventsRequest ValidAppendRequest() {
  return MakeAppendRequest(
      "case-1", ExpectedVersion::KIND_ANY,
      {MakeCaseEvent("evt-1", "ReferralReceived", "{\"source\":\"school\"}"),
       MakeCaseEvent("evt-2", "StrategyMeetingHeld", "{}")});
}

std::vector<MalformedAppend> MalformedAppends() {
  std::vector<MalformedAppend> cases;
  cases.push_back(Broken(
      "MissingEventId", {"events[0].event_id"},
      [](AppendEventsRequest& r) { r.mutable_events(0)->clear_event_id(); }));
  cases.push_back(Broken("EventIdWithSpace", {"events[1].event_id"},
                         [](AppendEventsRequest& r) {
                           r.mutable_events(1)->set_event_id("evt 2");
                         }));
  cases.push_back(Broken("DuplicateEventIds", {"events[1].event_id"},
                         [](AppendEventsRequest& r) {
                           r.mutable_events(1)->set_event_id("evt-1");
                         }));
  cases.push_back(Broken("EmptyStreamId", {"stream_id"},
                         [](AppendEventsRequest& r) { r.clear_stream_id(); }));
  cases.push_back(
      Broken("StreamIdWithSpace", {"stream_id"},
             [](AppendEventsRequest& r) { r.set_stream_id("case 1"); }));
  cases.push_back(Broken(
      "StreamIdTooLong", {"stream_id"},
      [](AppendEventsRequest& r) { r.set_stream_id(std::string(201, 'c')); }));
  cases.push_back(
      Broken("ExpectedVersionKindUnspecified", {"expected_version.kind"},
             [](AppendEventsRequest& r) { r.clear_expected_version(); }));
  cases.push_back(Broken("ExpectedVersionKindUnknown",
                         {"expected_version.kind"}, [](AppendEventsRequest& r) {
                           r.mutable_expected_version()->set_kind(
                               static_cast<ExpectedVersion::Kind>(42));
                         }));
  cases.push_back(Broken("VersionWithoutKindExact",
                         {"expected_version.version"},
                         [](AppendEventsRequest& r) {
                           r.mutable_expected_version()->set_version(3);
                         }));
  cases.push_back(Broken("NoEvents", {"events"},
                         [](AppendEventsRequest& r) { r.clear_events(); }));
  cases.push_back(Broken("OccurredAtMissing", {"events[0].occurred_at"},
                         [](AppendEventsRequest& r) {
                           r.mutable_events(0)->clear_occurred_at();
                         }));
  cases.push_back(
      Broken("OccurredAtTimeMissing", {"events[1].occurred_at.time"},
             [](AppendEventsRequest& r) {
               r.mutable_events(1)->mutable_occurred_at()->clear_time();
             }));
  cases.push_back(
      Broken("PrecisionUnspecified", {"events[0].occurred_at.precision"},
             [](AppendEventsRequest& r) {
               r.mutable_events(0)->mutable_occurred_at()->clear_precision();
             }));
  cases.push_back(
      Broken("PrecisionUnknown", {"events[0].occurred_at.precision"},
             [](AppendEventsRequest& r) {
               r.mutable_events(0)->mutable_occurred_at()->set_precision(
                   static_cast<casetrail::v1::TimePrecision>(9));
             }));
  cases.push_back(Broken(
      "NegativeNanos", {"events[0].occurred_at.time"},
      [](AppendEventsRequest& r) {
        r.mutable_events(0)->mutable_occurred_at()->mutable_time()->set_nanos(
            -1);
      }));
  cases.push_back(Broken(
      "NanosOverOneSecond", {"events[0].occurred_at.time"},
      [](AppendEventsRequest& r) {
        r.mutable_events(0)->mutable_occurred_at()->mutable_time()->set_nanos(
            1000000000);
      }));
  cases.push_back(Broken(
      "SecondsAfterYear9999", {"events[1].occurred_at.time"},
      [](AppendEventsRequest& r) {
        r.mutable_events(1)->mutable_occurred_at()->mutable_time()->set_seconds(
            kMaxTimestampSeconds + 1);
      }));
  cases.push_back(Broken(
      "SecondsBeforeYear1", {"events[0].occurred_at.time"},
      [](AppendEventsRequest& r) {
        r.mutable_events(0)->mutable_occurred_at()->mutable_time()->set_seconds(
            -62135596801);
      }));
  cases.push_back(Broken("RecordedByMissing", {"events[0].recorded_by.user_id"},
                         [](AppendEventsRequest& r) {
                           r.mutable_events(0)->clear_recorded_by();
                         }));
  cases.push_back(
      Broken("RecordedByUserIdEmpty", {"events[1].recorded_by.user_id"},
             [](AppendEventsRequest& r) {
               r.mutable_events(1)->mutable_recorded_by()->clear_user_id();
             }));
  cases.push_back(Broken(
      "EventTypeEmpty", {"events[0].event_type"},
      [](AppendEventsRequest& r) { r.mutable_events(0)->clear_event_type(); }));
  cases.push_back(Broken("EventTypeWithSpace", {"events[1].event_type"},
                         [](AppendEventsRequest& r) {
                           r.mutable_events(1)->set_event_type("Contact Made");
                         }));
  cases.push_back(Broken("EventStreamIdMismatch", {"events[1].stream_id"},
                         [](AppendEventsRequest& r) {
                           r.mutable_events(1)->set_stream_id("case-2");
                         }));
  cases.push_back(
      Broken("TooManyEvents", {"events"}, [](AppendEventsRequest& r) {
        r.clear_events();
        for (int i = 0; i < 1001; ++i) {
          *r.add_events() = MakeCaseEvent(absl::StrCat("evt-", i));
        }
      }));
  cases.push_back(Broken("EventOverMaxEventBytes", {"events[1]"},
                         [](AppendEventsRequest& r) {
                           r.mutable_events(1)->mutable_opaque()->set_data(
                               std::string((64 << 10) + 1, 'x'));
                         }));
  cases.push_back(Broken(
      "AppendOverMaxAppendBytes", {"events"}, [](AppendEventsRequest& r) {
        // 70 events of 60 KiB: each under the event limit,
        // together over 4 MiB (but under the 8 MiB message
        // limit).
        r.clear_events();
        for (int i = 0; i < 70; ++i) {
          *r.add_events() =
              MakeCaseEvent(absl::StrCat("evt-", i), "DocumentAttached",
                            std::string(60 << 10, 'd'));
        }
      }));
  cases.push_back(Broken("SeveralAtOnce",
                         {"stream_id", "expected_version.kind",
                          "events[0].event_id", "events[1].occurred_at"},
                         [](AppendEventsRequest& r) {
                           r.set_stream_id("case\t1");
                           r.clear_expected_version();
                           r.mutable_events(0)->clear_event_id();
                           r.mutable_events(1)->clear_occurred_at();
                         }));
  return cases;
}

}  // namespace casetrail::testing
