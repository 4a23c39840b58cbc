// The generated case histories are what the projections' tests and
// benchmarks fold, so they must be events the server would accept, in a
// realistic order, and the same on every run.

#include "tests/testing/case_generator.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/civil_time.h"
#include "casetrail/v1/case_log.pb.h"
#include "eventstore/stored_event.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/append_validation.h"
#include "services/case_history_rules.h"
#include "services/typed_validation.h"
#include "tests/testing/case_events.h"

namespace casetrail::testing {
namespace {

using casetrail::v1::CaseEvent;
using ::testing::IsEmpty;

constexpr uint64_t kSeed = 7;

std::string Describe(const std::vector<services::FieldViolation>& violations) {
  std::string out;
  for (const auto& v : violations) {
    out += v.field + ": " + v.description + "\n";
  }
  return out;
}

TEST(CaseGeneratorTest, SameSeedSameBytesOtherSeedOtherBytes) {
  const auto a = GenerateCaseEvents(kSeed, 30, 25);
  const auto b = GenerateCaseEvents(kSeed, 30, 25);
  const auto c = GenerateCaseEvents(kSeed + 1, 30, 25);
  ASSERT_EQ(a.size(), 30u);
  int differing = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].events.size(), b[i].events.size());
    for (size_t j = 0; j < a[i].events.size(); ++j) {
      EXPECT_EQ(SerializeDeterministically(a[i].events[j]),
                SerializeDeterministically(b[i].events[j]));
      EXPECT_EQ(a[i].recorded_at[j], b[i].recorded_at[j]);
    }
    if (SerializeDeterministically(a[i].events[3]) !=
        SerializeDeterministically(c[i].events[3])) {
      ++differing;
    }
  }
  EXPECT_EQ(differing, 30);
}

TEST(CaseGeneratorTest, CaseDoesNotDependOnHowManyAreGenerated) {
  const auto few = GenerateCaseEvents(kSeed, 3, 20);
  const auto many = GenerateCaseEvents(kSeed, 50, 20);
  for (size_t i = 0; i < few.size(); ++i) {
    ASSERT_EQ(few[i].events.size(), many[i].events.size());
    for (size_t j = 0; j < few[i].events.size(); ++j) {
      EXPECT_EQ(SerializeDeterministically(few[i].events[j]),
                SerializeDeterministically(many[i].events[j]));
    }
  }
}

TEST(CaseGeneratorTest, EveryCaseHasExactlyTheEventsAsked) {
  for (size_t per_case : {5u, 12u, 30u, 80u}) {
    const auto cases = GenerateCaseEvents(kSeed, 40, per_case);
    for (const GeneratedCase& c : cases) {
      EXPECT_EQ(c.events.size(), per_case) << c.case_id;
      EXPECT_EQ(c.recorded_at.size(), per_case) << c.case_id;
    }
    EXPECT_EQ(CountEvents(cases), 40 * per_case);
  }
}

TEST(CaseGeneratorTest, EnvelopesAreComplete) {
  const auto cases = GenerateCaseEvents(kSeed, 60, 30);
  absl::flat_hash_set<std::string> ids;
  const absl::Time earliest =
      absl::FromCivil(absl::CivilDay(2024, 1, 1), absl::UTCTimeZone());
  const absl::Time latest =
      absl::FromCivil(absl::CivilDay(2027, 1, 1), absl::UTCTimeZone());
  for (const GeneratedCase& c : cases) {
    ASSERT_FALSE(c.child_ids.empty());
    // 30 events tell every kind of case from contact to closure.
    EXPECT_TRUE(c.events.front().has_contact_received()) << c.case_id;
    EXPECT_TRUE(c.events.back().has_case_closed()) << c.case_id;
    const std::set<std::string> children(c.child_ids.begin(),
                                         c.child_ids.end());
    absl::Time previous = absl::InfinitePast();
    for (size_t i = 0; i < c.events.size(); ++i) {
      const CaseEvent& e = c.events[i];
      SCOPED_TRACE(e.event_id());
      EXPECT_TRUE(ids.insert(e.event_id()).second) << "duplicate id";
      EXPECT_EQ(e.stream_id(), c.case_id);
      const auto* payload =
          CaseEvent::descriptor()->FindFieldByNumber(e.payload_case());
      ASSERT_NE(payload, nullptr);
      EXPECT_EQ(e.event_type(), payload->message_type()->name());
      EXPECT_EQ(e.jurisdiction(), casetrail::v1::JURISDICTION_ENGLAND);
      EXPECT_NE(e.occurred_at().precision(),
                casetrail::v1::TIME_PRECISION_UNSPECIFIED);
      EXPECT_FALSE(e.recorded_by().user_id().empty());
      EXPECT_FALSE(e.recorded_by().role().empty());
      EXPECT_FALSE(e.recorded_by().team().empty());
      EXPECT_FALSE(e.recorded_by().agency().empty());
      EXPECT_FALSE(e.child_ids().empty());
      for (const std::string& child : e.child_ids()) {
        EXPECT_TRUE(children.contains(child)) << child;
      }
      const absl::Time occurred =
          eventstore::ToAbslTime(e.occurred_at().time());
      EXPECT_GE(occurred, earliest);
      EXPECT_LT(c.recorded_at[i], latest);
      EXPECT_GE(c.recorded_at[i], occurred);
      EXPECT_GE(c.recorded_at[i], previous);
      previous = c.recorded_at[i];
    }
  }
}

// Every event passes what the service checks before appending: structure,
// the typed rules, and the rules against the case's earlier events.
TEST(CaseGeneratorTest, EventsPassTheServicesValidation) {
  const auto cases = GenerateCaseEvents(kSeed, 60, 30);
  for (const GeneratedCase& c : cases) {
    std::vector<casetrail::v1::RecordedEvent> history;
    for (const CaseEvent& e : c.events) {
      casetrail::v1::AppendEventsRequest request = MakeAppendRequest(
          c.case_id, casetrail::v1::ExpectedVersion::KIND_ANY, {e});
      EXPECT_THAT(Describe(services::ValidateAppend(request, {})), IsEmpty())
          << e.event_id();
      EXPECT_THAT(Describe(services::ValidateTypedEvent(e, 0)), IsEmpty())
          << e.event_id();
      EXPECT_THAT(Describe(services::CheckAgainstHistory(request, history)),
                  IsEmpty())
          << e.event_id();
      *history.emplace_back().mutable_event() = e;
    }
  }
}

TEST(CaseGeneratorTest, CoversTheCaseEventsTheFoldInterpretsAndEachChild) {
  const auto cases = GenerateCaseEvents(kSeed, 60, 30);
  std::map<std::string, int> types;
  for (const GeneratedCase& c : cases) {
    std::set<std::string> children_recorded;
    for (const CaseEvent& e : c.events) {
      ++types[e.event_type()];
      if (e.has_household_member_recorded() &&
          e.household_member_recorded().has_date_of_birth()) {
        children_recorded.insert(e.household_member_recorded().person_id());
      }
      if (e.has_record_corrected()) {
        // The target is an earlier event of the same case.
        const std::string& target = e.record_corrected().target_event_id();
        bool earlier = false;
        for (const CaseEvent& other : c.events) {
          if (other.event_id() == e.event_id()) break;
          if (other.event_id() == target) earlier = true;
        }
        EXPECT_TRUE(earlier) << e.event_id() << " targets " << target;
      }
    }
    for (const std::string& child : c.child_ids) {
      EXPECT_TRUE(children_recorded.contains(child))
          << c.case_id << " has no household record of " << child;
    }
  }
  for (const char* type :
       {"ContactReceived", "HouseholdMemberRecorded", "ReferralDecision",
        "CaseAllocated", "AssessmentStarted", "VisitCompleted",
        "StrategyDiscussionHeld", "S47Started", "ConferenceHeld",
        "CoreGroupHeld", "RecordCorrected", "AssessmentAuthorised",
        "CaseClosed", "PreventReferralMade", "PoliceGatewayAssessed",
        "ChannelReferralReceived", "ChannelPanelHeld",
        "ChannelConsentRecorded"}) {
    EXPECT_GT(types[type], 0) << type;
  }
}

TEST(CaseGeneratorTest, InterleavingKeepsEachCasesOrderAndMixesStreams) {
  const auto cases = GenerateCaseEvents(kSeed, 50, 30);
  const std::vector<TimedAppend> appends = InterleaveCases(cases, 3);
  std::map<std::string, std::vector<std::string>> by_case;
  absl::Time previous = absl::InfinitePast();
  size_t stream_changes = 0;
  size_t events = 0;
  for (size_t i = 0; i < appends.size(); ++i) {
    const TimedAppend& a = appends[i];
    ASSERT_GE(a.request.events.size(), 1u);
    ASSERT_LE(a.request.events.size(), 3u);
    EXPECT_GE(a.recorded_at, previous);
    previous = a.recorded_at;
    if (i > 0 && appends[i - 1].request.stream_id != a.request.stream_id) {
      ++stream_changes;
    }
    for (const auto& e : a.request.events) {
      by_case[a.request.stream_id].push_back(e.event_id);
      ++events;
    }
  }
  EXPECT_EQ(events, CountEvents(cases));
  for (const GeneratedCase& c : cases) {
    std::vector<std::string> ids;
    for (const CaseEvent& e : c.events) ids.push_back(e.event_id());
    EXPECT_EQ(by_case[c.case_id], ids) << c.case_id;
  }
  // Live traffic: mostly one case after another, not one case at a time.
  EXPECT_GT(stream_changes, appends.size() / 2);
}

}  // namespace
}  // namespace casetrail::testing
