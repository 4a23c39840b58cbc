// AccessLog and ListAccess over a real EventStore: each access becomes one
// AccessRecorded event in "<tenant>/_access", covered by the Merkle tree;
// ListAccess filters by case, principal, child, time and flag, pages through
// every match exactly once, refuses bad requests, and keeps tenants apart.

#include "security/access_log.h"

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "casetrail/v1/access.pb.h"
#include "casetrail/v1/event.pb.h"
#include "eventstore/event_store.h"
#include "eventstore/merkle.h"
#include "eventstore/stored_event.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security/policy.h"
#include "tests/testing/case_events.h"
#include "tests/testing/event_store_fixture.h"
#include "tests/testing/server_process.h"

namespace casetrail::security {
namespace {

using casetrail::testing::DecodeAll;
using casetrail::testing::kT0;
using casetrail::testing::MakeProposedEvent;
using casetrail::testing::MakeStoreAppend;
using casetrail::testing::ManualClock;
using casetrail::testing::TempDir;
using casetrail::v1::AccessRecorded;
using casetrail::v1::ListAccessRequest;
using casetrail::v1::ListAccessResponse;
using casetrail::v1::RecordedEvent;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

Principal Person(const std::string& id, v1::Role role, const std::string& team,
                 const std::string& tenant = "northshire") {
  Principal p;
  p.id = id;
  p.role = role;
  p.team = team;
  p.tenant = tenant;
  p.token_id = "jti-" + id;
  return p;
}

// An access labelled `label` (in request_summary, so tests can tell entries
// apart).
AccessRecorded Access(const std::string& label, const std::string& case_id,
                      const std::string& child_id = "",
                      std::vector<v1::AccessFlag> flags = {},
                      std::vector<std::string> cases_returned = {}) {
  AccessRecorded a;
  a.set_method("/casetrail.v1.CaseQueries/GetChronology");
  a.set_request_summary(label);
  a.set_case_id(case_id);
  a.set_child_id(child_id);
  for (v1::AccessFlag f : flags) a.add_flags(f);
  for (const std::string& c : cases_returned) a.add_cases_returned(c);
  a.set_items_returned(3);
  return a;
}

google::protobuf::Timestamp Proto(absl::Time t) {
  return eventstore::ToProtoTime(t);
}

std::vector<std::string> Labels(const ListAccessResponse& response) {
  std::vector<std::string> out;
  for (const v1::AccessEntry& e : response.entries()) {
    out.push_back(e.access().request_summary());
  }
  return out;
}

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    eventstore::StoreOptions options;
    options.path = dir_.Sub("store");
    options.clock = &clock_;
    absl::StatusOr<std::unique_ptr<eventstore::EventStore>> store =
        eventstore::EventStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    log_ = std::make_unique<AccessLog>(store_.get());
  }

  // Records `access` by `who` with the store's clock at `at`.
  void RecordAt(absl::Time at, const Principal& who, AccessRecorded access,
                const std::string& purpose = "direct-work",
                const std::string& break_glass = "") {
    clock_.Set(at);
    const absl::Status s =
        log_->Record(who, purpose, break_glass, std::move(access));
    ASSERT_TRUE(s.ok()) << s;
  }

  // The decoded events of a stream.
  std::vector<RecordedEvent> StreamEvents(const std::string& stream) {
    eventstore::StreamRead read;
    read.stream_id = stream;
    read.limit = 100000;
    absl::StatusOr<eventstore::StreamSlice> slice = store_->ReadStream(read);
    EXPECT_TRUE(slice.ok()) << slice.status();
    return slice.ok() ? DecodeAll(slice->events) : std::vector<RecordedEvent>{};
  }

  absl::StatusOr<ListAccessResponse> List(const std::string& tenant,
                                          const ListAccessRequest& request) {
    return ListAccess(*store_, tenant, request);
  }

  // Every page of `request` (limit `limit`), in order; fails the test if a
  // page errs or the paging does not end.
  std::vector<std::string> AllPages(const std::string& tenant,
                                    ListAccessRequest request, uint32_t limit,
                                    int* pages = nullptr) {
    std::vector<std::string> labels;
    request.set_limit(limit);
    int n = 0;
    for (; n < 10000; ++n) {
      absl::StatusOr<ListAccessResponse> r = List(tenant, request);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) break;
      EXPECT_LE(r->entries_size(), static_cast<int>(limit));
      for (const std::string& l : Labels(*r)) labels.push_back(l);
      if (r->next_page_token().empty()) break;
      request.set_page_token(r->next_page_token());
    }
    if (pages != nullptr) *pages = n + 1;
    return labels;
  }

  TempDir dir_;
  ManualClock clock_{kT0};
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<AccessLog> log_;
};

// --- Record ---

TEST_F(AccessLogTest, RecordWritesOneAccessEventToTheTenantsAuditStream) {
  // Some case events first, so the audit event is not at position 0.
  ASSERT_TRUE(store_
                  ->Append(MakeStoreAppend(
                      "northshire/case-1", eventstore::ExpectedVersion::Any(),
                      {MakeProposedEvent("northshire/case-1", "e1"),
                       MakeProposedEvent("northshire/case-1", "e2")}))
                  .ok());
  const uint64_t size_before = store_->LogSize();

  Principal who = Person("ns-sw-1", v1::ROLE_SOCIAL_WORKER, "cp-north");
  AccessRecorded access =
      Access("first", "northshire/case-1", "child-1",
             {v1::ACCESS_FLAG_NO_ALLOCATION, v1::ACCESS_FLAG_BREAK_GLASS},
             {"northshire/case-1"});
  // Who is taken from the principal, whatever the caller put in `access`.
  access.set_principal_id("forged");
  access.set_tenant("southvale");
  access.set_role(v1::ROLE_SERVICE_MANAGER);
  const absl::Time before = absl::Now();
  RecordAt(kT0, who, access, "direct-work", "child at risk tonight");
  const absl::Time after = absl::Now();

  EXPECT_EQ(store_->LogSize(), size_before + 1);
  EXPECT_THAT(StreamEvents("southvale/_access"), IsEmpty());
  const std::vector<RecordedEvent> events = StreamEvents("northshire/_access");
  ASSERT_EQ(events.size(), 1u);
  const RecordedEvent& recorded = events[0];
  EXPECT_EQ(recorded.position(), size_before);
  EXPECT_EQ(recorded.stream_version(), 1u);
  EXPECT_EQ(eventstore::ToAbslTime(recorded.recorded_at()), kT0);
  const v1::CaseEvent& event = recorded.event();
  EXPECT_EQ(event.stream_id(), "northshire/_access");
  EXPECT_EQ(event.event_type(), "AccessRecorded");
  EXPECT_TRUE(absl::StartsWith(event.event_id(), "access-"));
  EXPECT_EQ(event.recorded_by().user_id(), "ns-sw-1");
  EXPECT_EQ(event.recorded_by().role(), "social_worker");
  EXPECT_EQ(event.recorded_by().team(), "cp-north");
  ASSERT_TRUE(event.has_access_recorded());
  const AccessRecorded& a = event.access_recorded();
  EXPECT_EQ(a.principal_id(), "ns-sw-1");
  EXPECT_EQ(a.role(), v1::ROLE_SOCIAL_WORKER);
  EXPECT_EQ(a.team(), "cp-north");
  EXPECT_EQ(a.tenant(), "northshire");
  EXPECT_EQ(a.token_id(), "jti-ns-sw-1");
  EXPECT_EQ(a.purpose(), "direct-work");
  EXPECT_EQ(a.break_glass_reason(), "child at risk tonight");
  EXPECT_EQ(a.method(), "/casetrail.v1.CaseQueries/GetChronology");
  EXPECT_EQ(a.case_id(), "northshire/case-1");
  EXPECT_EQ(a.child_id(), "child-1");
  EXPECT_EQ(a.request_summary(), "first");
  EXPECT_THAT(a.flags(), ElementsAre(v1::ACCESS_FLAG_NO_ALLOCATION,
                                     v1::ACCESS_FLAG_BREAK_GLASS));
  EXPECT_THAT(a.cases_returned(), ElementsAre("northshire/case-1"));
  ASSERT_TRUE(a.has_accessed_at());
  const absl::Time accessed_at = eventstore::ToAbslTime(a.accessed_at());
  EXPECT_GE(accessed_at, before);
  EXPECT_LE(accessed_at, after);
}

TEST_F(AccessLogTest, EachRecordIsANewEventWithItsOwnId) {
  const Principal who = Person("ns-sw-1", v1::ROLE_SOCIAL_WORKER, "cp-north");
  for (int i = 0; i < 5; ++i) {
    // The same access five times is five accesses, not one deduplicated.
    RecordAt(kT0, who, Access("same", "northshire/case-1"));
  }
  EXPECT_EQ(store_->LogSize(), 5u);
  const std::vector<RecordedEvent> events = StreamEvents("northshire/_access");
  ASSERT_EQ(events.size(), 5u);
  std::set<std::string> ids;
  for (const RecordedEvent& e : events) ids.insert(e.event().event_id());
  EXPECT_EQ(ids.size(), 5u);
}

TEST_F(AccessLogTest, AccessEventIsInTheMerkleTree) {
  const Principal who = Person("ns-sw-1", v1::ROLE_SOCIAL_WORKER, "cp-north");
  ASSERT_TRUE(store_
                  ->Append(MakeStoreAppend(
                      "northshire/case-1", eventstore::ExpectedVersion::Any(),
                      {MakeProposedEvent("northshire/case-1", "e1"),
                       MakeProposedEvent("northshire/case-1", "e2"),
                       MakeProposedEvent("northshire/case-1", "e3")}))
                  .ok());
  RecordAt(kT0, who, Access("a", "northshire/case-1"));
  RecordAt(kT0, who, Access("b", "northshire/case-1"));
  const uint64_t tree_size = store_->LogSize();
  ASSERT_EQ(tree_size, 5u);

  const std::vector<RecordedEvent> events = StreamEvents("northshire/_access");
  ASSERT_EQ(events.size(), 2u);
  absl::StatusOr<eventstore::MerkleHash> root = store_->RootHash(tree_size);
  ASSERT_TRUE(root.ok()) << root.status();
  for (const RecordedEvent& e : events) {
    absl::StatusOr<std::string> bytes = store_->ReadEvent(e.position());
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    absl::StatusOr<std::vector<eventstore::MerkleHash>> proof =
        store_->InclusionProof(e.position(), tree_size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    const eventstore::MerkleHash leaf = eventstore::LeafHash(*bytes);
    EXPECT_TRUE(eventstore::VerifyInclusion(e.position(), tree_size, leaf,
                                            *proof, *root)
                    .ok());
    // The proof is of this event: other bytes do not verify.
    EXPECT_FALSE(eventstore::VerifyInclusion(e.position(), tree_size,
                                             eventstore::LeafHash(*bytes + "x"),
                                             *proof, *root)
                     .ok());
  }
}

TEST_F(AccessLogTest, EachTenantHasItsOwnAuditStream) {
  RecordAt(kT0, Person("ns-sw-1", v1::ROLE_SOCIAL_WORKER, "cp-north"),
           Access("ns", "northshire/case-1"));
  RecordAt(kT0, Person("sv-sw-1", v1::ROLE_SOCIAL_WORKER, "cp", "southvale"),
           Access("sv", "southvale/case-1"));
  ASSERT_EQ(StreamEvents("northshire/_access").size(), 1u);
  ASSERT_EQ(StreamEvents("southvale/_access").size(), 1u);
  EXPECT_EQ(StreamEvents("southvale/_access")[0]
                .event()
                .access_recorded()
                .request_summary(),
            "sv");
}

TEST_F(AccessLogTest, RecordAsyncReportsDurabilityOnce) {
  absl::Notification done;
  std::atomic<int> calls{0};
  absl::Status status = absl::UnknownError("not called");
  log_->RecordAsync(Person("ns-sw-1", v1::ROLE_SOCIAL_WORKER, "cp-north"),
                    "direct-work", "", Access("async", "northshire/case-1"),
                    [&](absl::Status s) {
                      status = std::move(s);
                      calls.fetch_add(1);
                      done.Notify();
                    });
  done.WaitForNotification();
  EXPECT_TRUE(status.ok()) << status;
  // Once durable, it is readable.
  EXPECT_EQ(StreamEvents("northshire/_access").size(), 1u);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(AccessLogTest, RecordFailsUnavailableWhenTheStoreCannotWrite) {
  store_->Close();
  const absl::Status s =
      log_->Record(Person("ns-sw-1", v1::ROLE_SOCIAL_WORKER, "cp-north"),
                   "direct-work", "", Access("x", "northshire/case-1"));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("access audit"));
}

TEST(AccessEventTest, DescribesTheAccessAsACaseEvent) {
  AccessRecorded access = Access("x", "northshire/case-1");
  access.set_principal_id("ns-tm-1");
  access.set_role(v1::ROLE_TEAM_MANAGER);
  access.set_team("cp-north");
  access.set_tenant("northshire");
  const absl::Time now = kT0 + absl::Milliseconds(1500);
  const v1::CaseEvent event = AccessEvent(access, now);
  EXPECT_EQ(event.stream_id(), "northshire/_access");
  EXPECT_EQ(event.event_type(), "AccessRecorded");
  EXPECT_EQ(event.schema_version(), 1u);
  EXPECT_EQ(eventstore::ToAbslTime(event.occurred_at().time()), now);
  EXPECT_EQ(event.occurred_at().precision(), v1::TIME_PRECISION_EXACT);
  EXPECT_EQ(event.recorded_by().user_id(), "ns-tm-1");
  EXPECT_EQ(event.recorded_by().role(), "team_manager");
  EXPECT_EQ(event.source().system(), "casetraild");
  EXPECT_EQ(event.access_recorded().SerializeAsString(),
            access.SerializeAsString());
  EXPECT_NE(AccessEvent(access, now).event_id(), event.event_id());
}

// --- ListAccess ---

class ListAccessTest : public AccessLogTest {
 protected:
  void SetUp() override {
    AccessLogTest::SetUp();
    if (HasFatalFailure()) return;
    const Principal sw1 = Person("ns-sw-1", v1::ROLE_SOCIAL_WORKER, "cp-north");
    const Principal sw2 = Person("ns-sw-2", v1::ROLE_SOCIAL_WORKER, "cp-south");
    const Principal auditor = Person("ns-auditor", v1::ROLE_AUDITOR, "ig");
    const Principal sv =
        Person("sv-sw-1", v1::ROLE_SOCIAL_WORKER, "cp", "southvale");
    RecordAt(kT0, sw1, Access("A1", "northshire/case-1", "child-1"));
    // Southvale's accesses share ids with Northshire's: a child id, and even
    // a (refused) attempt at a Northshire case.
    RecordAt(kT0 + absl::Minutes(30), sv,
             Access("S1", "southvale/case-1", "child-1"));
    RecordAt(
        kT0 + absl::Hours(1), sw2,
        Access("A2", "northshire/case-2", "child-2",
               {v1::ACCESS_FLAG_NO_ALLOCATION, v1::ACCESS_FLAG_BREAK_GLASS}),
        "direct-work", "child at risk tonight");
    RecordAt(kT0 + absl::Minutes(90), sv,
             Access("S2", "northshire/case-1", "", {v1::ACCESS_FLAG_REFUSED}));
    RecordAt(kT0 + absl::Hours(2), auditor,
             Access("A3", "", "", {v1::ACCESS_FLAG_BULK},
                    {"northshire/case-1", "northshire/case-3"}),
             "audit");
    RecordAt(kT0 + absl::Hours(3), sw1,
             Access("A4", "northshire/case-3", "child-1",
                    {v1::ACCESS_FLAG_REFUSED}));
  }

  std::vector<std::string> Northshire(const ListAccessRequest& request) {
    absl::StatusOr<ListAccessResponse> r = List("northshire", request);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {};
    EXPECT_THAT(r->next_page_token(), IsEmpty());
    for (const v1::AccessEntry& e : r->entries()) {
      EXPECT_EQ(e.access().tenant(), "northshire");
    }
    return Labels(*r);
  }
};

TEST_F(ListAccessTest, UnfilteredListsTheTenantsAccessesOldestFirst) {
  absl::StatusOr<ListAccessResponse> r = List("northshire", {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Labels(*r), ElementsAre("A1", "A2", "A3", "A4"));
  EXPECT_EQ(r->scanned(), 4u);
  EXPECT_THAT(r->next_page_token(), IsEmpty());
  // Each entry's position and time are the event's in the log.
  for (const v1::AccessEntry& e : r->entries()) {
    absl::StatusOr<std::string> bytes = store_->ReadEvent(e.position());
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    absl::StatusOr<RecordedEvent> stored =
        eventstore::DecodeStoredEvent(*bytes);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->event().access_recorded().request_summary(),
              e.access().request_summary());
    EXPECT_EQ(stored->recorded_at().seconds(), e.recorded_at().seconds());
  }
  EXPECT_EQ(r->entries(1).access().break_glass_reason(),
            "child at risk tonight");
  EXPECT_EQ(r->entries(2).access().purpose(), "audit");
}

TEST_F(ListAccessTest, TenantsAreSeparate) {
  EXPECT_THAT(AllPages("southvale", {}, 100), ElementsAre("S1", "S2"));
  EXPECT_THAT(AllPages("eastmarch", {}, 100), IsEmpty());
  ListAccessRequest by_case;
  by_case.set_case_id("northshire/case-1");
  EXPECT_THAT(Northshire(by_case), ElementsAre("A1", "A3"));
  EXPECT_THAT(AllPages("southvale", by_case, 100), ElementsAre("S2"));
}

TEST_F(ListAccessTest, FiltersByCaseIncludingCasesReturned) {
  ListAccessRequest request;
  request.set_case_id("northshire/case-1");
  EXPECT_THAT(Northshire(request), ElementsAre("A1", "A3"));
  request.set_case_id("northshire/case-3");
  EXPECT_THAT(Northshire(request), ElementsAre("A3", "A4"));
  request.set_case_id("northshire/case-2");
  EXPECT_THAT(Northshire(request), ElementsAre("A2"));
  request.set_case_id("northshire/case");
  EXPECT_THAT(Northshire(request), IsEmpty());
}

TEST_F(ListAccessTest, FiltersByPrincipal) {
  ListAccessRequest request;
  request.set_principal_id("ns-sw-1");
  EXPECT_THAT(Northshire(request), ElementsAre("A1", "A4"));
  request.set_principal_id("ns-auditor");
  EXPECT_THAT(Northshire(request), ElementsAre("A3"));
  request.set_principal_id("sv-sw-1");
  EXPECT_THAT(Northshire(request), IsEmpty());
}

TEST_F(ListAccessTest, FiltersByChild) {
  ListAccessRequest request;
  request.set_child_id("child-1");
  EXPECT_THAT(Northshire(request), ElementsAre("A1", "A4"));
  request.set_child_id("child-2");
  EXPECT_THAT(Northshire(request), ElementsAre("A2"));
}

TEST_F(ListAccessTest, FiltersByTimeFromInclusiveToExclusive) {
  ListAccessRequest request;
  *request.mutable_from_time() = Proto(kT0 + absl::Hours(1));
  *request.mutable_to_time() = Proto(kT0 + absl::Hours(3));
  EXPECT_THAT(Northshire(request), ElementsAre("A2", "A3"));

  request.clear_to_time();
  *request.mutable_from_time() = Proto(kT0 + absl::Hours(3));
  EXPECT_THAT(Northshire(request), ElementsAre("A4"));

  request.clear_from_time();
  *request.mutable_to_time() = Proto(kT0 + absl::Hours(1));
  EXPECT_THAT(Northshire(request), ElementsAre("A1"));

  *request.mutable_from_time() = Proto(kT0 + absl::Hours(1));
  *request.mutable_to_time() =
      Proto(kT0 + absl::Hours(1) + absl::Nanoseconds(1));
  EXPECT_THAT(Northshire(request), ElementsAre("A2"));

  *request.mutable_from_time() = Proto(kT0 + absl::Hours(4));
  request.clear_to_time();
  EXPECT_THAT(Northshire(request), IsEmpty());
}

TEST_F(ListAccessTest, FiltersByAnyOfTheFlags) {
  ListAccessRequest request;
  request.add_flags(v1::ACCESS_FLAG_BREAK_GLASS);
  request.add_flags(v1::ACCESS_FLAG_REFUSED);
  EXPECT_THAT(Northshire(request), ElementsAre("A2", "A4"));
  request.clear_flags();
  request.add_flags(v1::ACCESS_FLAG_BULK);
  EXPECT_THAT(Northshire(request), ElementsAre("A3"));
  request.clear_flags();
  request.add_flags(v1::ACCESS_FLAG_RESTRICTED_RECORD);
  EXPECT_THAT(Northshire(request), IsEmpty());
}

TEST_F(ListAccessTest, FiltersCombine) {
  ListAccessRequest request;
  request.set_principal_id("ns-sw-1");
  request.add_flags(v1::ACCESS_FLAG_REFUSED);
  EXPECT_THAT(Northshire(request), ElementsAre("A4"));
  request.clear_flags();
  request.set_case_id("northshire/case-1");
  EXPECT_THAT(Northshire(request), ElementsAre("A1"));
  *request.mutable_from_time() = Proto(kT0 + absl::Seconds(1));
  EXPECT_THAT(Northshire(request), IsEmpty());
}

TEST_F(ListAccessTest, BadRequestsAreInvalidArgument) {
  auto expect_invalid = [&](const ListAccessRequest& request,
                            absl::string_view field) {
    absl::StatusOr<ListAccessResponse> r = List("northshire", request);
    EXPECT_TRUE(absl::IsInvalidArgument(r.status()))
        << request.ShortDebugString() << ": " << r.status();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(field));
  };
  for (const char* token : {"garbage", "v0", "v", "v-1", "1", "vx", "v1x", "V1",
                            "v99999999999999999999999"}) {
    ListAccessRequest request;
    request.set_page_token(token);
    expect_invalid(request, "page_token");
  }
  ListAccessRequest request;
  request.set_limit(1001);
  expect_invalid(request, "limit");
  request.set_limit(1000);
  EXPECT_TRUE(List("northshire", request).ok());

  request = {};
  *request.mutable_from_time() = Proto(kT0 + absl::Hours(1));
  *request.mutable_to_time() = Proto(kT0 + absl::Hours(1));
  expect_invalid(request, "to_time");
  *request.mutable_to_time() = Proto(kT0);
  expect_invalid(request, "to_time");

  request = {};
  request.add_flags(v1::ACCESS_FLAG_UNSPECIFIED);
  expect_invalid(request, "flags");
  request = {};
  request.mutable_flags()->Add(99);
  expect_invalid(request, "flags");
}

TEST(CheckListAccessTest, NamesEachBadField) {
  ListAccessRequest request;
  EXPECT_THAT(CheckListAccess(request), IsEmpty());
  request.set_limit(5000);
  request.set_page_token("nope");
  std::vector<std::string> fields;
  for (const auto& [field, description] : CheckListAccess(request)) {
    fields.push_back(field);
  }
  EXPECT_THAT(fields, ElementsAre("limit", "page_token"));
}

TEST_F(ListAccessTest, AStoredEventThatIsNotAnAccessIsDataLoss) {
  ASSERT_TRUE(store_
                  ->Append(MakeStoreAppend(
                      "northshire/_access", eventstore::ExpectedVersion::Any(),
                      {MakeProposedEvent("northshire/_access", "intruder")}))
                  .ok());
  absl::StatusOr<ListAccessResponse> r = List("northshire", {});
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
}

// --- Paging ---

class ListAccessPagingTest : public AccessLogTest {
 protected:
  // Records `n` accesses labelled "0", "1", ... by principals p-0, p-1, p-2
  // in turn, concurrently (so the store groups them).
  void RecordMany(int n) {
    std::atomic<int> remaining{n};
    std::atomic<int> failures{0};
    absl::Notification all_done;
    for (int i = 0; i < n; ++i) {
      log_->RecordAsync(
          Person(absl::StrCat("p-", i % 3), v1::ROLE_SOCIAL_WORKER, "cp-north"),
          "direct-work", "", Access(absl::StrCat(i), "northshire/case-1"),
          [&](absl::Status s) {
            if (!s.ok()) failures.fetch_add(1);
            if (remaining.fetch_sub(1) == 1) all_done.Notify();
          });
    }
    all_done.WaitForNotification();
    ASSERT_EQ(failures.load(), 0);
    // RecordAsync's appends may commit in any order; recover it.
    order_.clear();
    for (const RecordedEvent& e : StreamEvents("northshire/_access")) {
      order_.push_back(e.event().access_recorded().request_summary());
    }
    ASSERT_EQ(order_.size(), static_cast<size_t>(n));
  }

  // The labels recorded by `principal`, in log order.
  std::vector<std::string> By(const std::string& principal) const {
    std::vector<std::string> out;
    for (const std::string& label : order_) {
      int i = 0;
      EXPECT_TRUE(absl::SimpleAtoi(label, &i));
      if (absl::StrCat("p-", i % 3) == principal) out.push_back(label);
    }
    return out;
  }

  std::vector<std::string> order_;
};

TEST_F(ListAccessPagingTest, EveryLimitVisitsEachAccessOnce) {
  RecordMany(23);
  for (uint32_t limit : {1u, 2u, 5u, 7u, 22u, 23u, 24u, 1000u}) {
    SCOPED_TRACE(limit);
    int pages = 0;
    EXPECT_THAT(AllPages("northshire", {}, limit, &pages),
                ElementsAreArray(order_));
    EXPECT_EQ(pages, static_cast<int>((23 + limit - 1) / limit));
  }
}

TEST_F(ListAccessPagingTest, FilteredPagesVisitEachMatchOnce) {
  RecordMany(23);
  ListAccessRequest request;
  request.set_principal_id("p-1");
  for (uint32_t limit : {1u, 2u, 3u, 8u, 100u}) {
    SCOPED_TRACE(limit);
    EXPECT_THAT(AllPages("northshire", request, limit),
                ElementsAreArray(By("p-1")));
  }
}

TEST_F(ListAccessPagingTest, PagesSpanTheStoresReadBatches) {
  // More accesses than ListAccess reads from the store at once (1000).
  RecordMany(1500);
  int pages = 0;
  EXPECT_THAT(AllPages("northshire", {}, 1000, &pages),
              ElementsAreArray(order_));
  EXPECT_EQ(pages, 2);
  EXPECT_THAT(AllPages("northshire", {}, 999, &pages),
              ElementsAreArray(order_));
  EXPECT_EQ(pages, 2);

  ListAccessRequest request;
  request.set_principal_id("p-2");
  EXPECT_THAT(AllPages("northshire", request, 1000, &pages),
              ElementsAreArray(By("p-2")));
  EXPECT_EQ(pages, 1);
  EXPECT_THAT(AllPages("northshire", request, 7), ElementsAreArray(By("p-2")));

  // A token from the first page continues exactly after its last entry.
  request = {};
  request.set_limit(10);
  absl::StatusOr<ListAccessResponse> first = List("northshire", request);
  ASSERT_TRUE(first.ok()) << first.status();
  request.set_page_token(first->next_page_token());
  absl::StatusOr<ListAccessResponse> second = List("northshire", request);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->entries_size(), 10);
  EXPECT_EQ(second->entries(0).access().request_summary(), order_[10]);
}

TEST_F(ListAccessPagingTest, SelectiveFilterContinuesAfterTheScanLimit) {
  // One call examines at most 20000 audit events; a filter matching only
  // the last of 20001 gets an empty page with a token, then the match.
  constexpr int kCount = 20001;
  RecordMany(kCount);
  ListAccessRequest request;
  request.set_case_id("northshire/case-1");
  request.add_flags(v1::ACCESS_FLAG_REFUSED);
  RecordAt(kT0, Person("p-x", v1::ROLE_SOCIAL_WORKER, "cp-north"),
           Access("last", "northshire/case-1", "", {v1::ACCESS_FLAG_REFUSED}));
  absl::StatusOr<ListAccessResponse> first = List("northshire", request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(first->entries(), IsEmpty());
  EXPECT_EQ(first->scanned(), 20000u);
  ASSERT_THAT(first->next_page_token(), Not(IsEmpty()));
  request.set_page_token(first->next_page_token());
  absl::StatusOr<ListAccessResponse> second = List("northshire", request);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_THAT(Labels(*second), ElementsAre("last"));
  EXPECT_EQ(second->scanned(), 2u);
  EXPECT_THAT(second->next_page_token(), IsEmpty());
}

TEST_F(ListAccessPagingTest, TokenPastTheEndListsNothing) {
  RecordMany(3);
  ListAccessRequest request;
  request.set_page_token("v4");
  absl::StatusOr<ListAccessResponse> r = List("northshire", request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->entries(), IsEmpty());
  EXPECT_THAT(r->next_page_token(), IsEmpty());
}

}  // namespace
}  // namespace casetrail::security
