// EventStore against a real RocksDB in a temporary directory: appends
// (positions, versions, expected versions, deduplication) and reads.

#include "eventstore/event_store.h"

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "eventstore/stored_event.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/case_events.h"
#include "tests/testing/event_store_fixture.h"

namespace casetrail::eventstore {
namespace {

using casetrail::testing::DecodeAll;
using casetrail::testing::EventStoreTest;
using casetrail::testing::kT0;
using casetrail::testing::MakeProposedEvent;
using casetrail::testing::MakeStoreAppend;
using casetrail::testing::ManualClock;
using casetrail::testing::Positions;
using casetrail::testing::StoreEvents;
using casetrail::testing::Versions;
using casetrail::v1::RecordedEvent;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(EventStoreTest, NewStoreIsEmpty) {
  EXPECT_EQ(store_->LogSize(), 0u);
  EXPECT_EQ(store_->Info().log_size, 0u);
  EXPECT_EQ(store_->Info().last_recorded_at, absl::InfinitePast());
  EXPECT_TRUE(ReadAll().empty());
  EXPECT_EQ(StreamVersion("case-1"), 0u);
}

TEST_F(EventStoreTest, AssignsDensePositionsAndVersionsAcrossStreams) {
  struct Step {
    std::string stream;
    std::vector<std::string> ids;
    std::vector<uint64_t> positions;
    std::vector<uint64_t> versions;
  };
  const std::vector<Step> steps = {
      {"case-a", {"a1"}, {0}, {1}},
      {"case-b", {"b1", "b2"}, {1, 2}, {1, 2}},
      {"case-a", {"a2", "a3", "a4"}, {3, 4, 5}, {2, 3, 4}},
      {"case-c", {"c1"}, {6}, {1}},
      {"case-b", {"b3"}, {7}, {3}},
  };
  std::map<std::string, std::pair<uint64_t, uint64_t>> expected;  // id -> pos,v
  for (const Step& step : steps) {
    absl::StatusOr<AppendResult> result =
        Append(step.stream, ExpectedVersion::Any(), step.ids);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(Positions(*result), step.positions);
    EXPECT_EQ(Versions(*result), step.versions);
    EXPECT_EQ(result->stream_version, step.versions.back());
    EXPECT_FALSE(result->deduplicated);
    for (size_t i = 0; i < step.ids.size(); ++i) {
      expected[step.ids[i]] = {step.positions[i], step.versions[i]};
    }
  }
  EXPECT_EQ(store_->LogSize(), 8u);
  EXPECT_EQ(store_->Info().log_size, 8u);

  const std::vector<RecordedEvent> log = ReadAll();
  ASSERT_EQ(log.size(), 8u);
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].position(), i);
    const auto& [position, version] = expected.at(log[i].event().event_id());
    EXPECT_EQ(log[i].position(), position);
    EXPECT_EQ(log[i].stream_version(), version);
  }
  EXPECT_THAT(Versions(ReadStream("case-a")), ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(Positions(ReadStream("case-a")), ElementsAre(0, 3, 4, 5));
  EXPECT_THAT(Positions(ReadStream("case-b")), ElementsAre(1, 2, 7));
  EXPECT_THAT(Positions(ReadStream("case-c")), ElementsAre(6));
}

TEST_F(EventStoreTest, StoresTheProposedBytesUnderServerFields) {
  const ProposedEvent proposed =
      MakeProposedEvent("case-1", "e1", "ContactReceived", "{\"a\":1}");
  absl::StatusOr<AppendResult> result = store_->Append(
      MakeStoreAppend("case-1", ExpectedVersion::Any(), {proposed}));
  ASSERT_TRUE(result.ok()) << result.status();

  LogRead read;
  absl::StatusOr<LogSlice> slice = store_->ReadLog(read);
  ASSERT_TRUE(slice.ok());
  ASSERT_EQ(slice->events.size(), 1u);
  EXPECT_EQ(slice->events[0],
            EncodeStoredEvent(0, 1, result->events[0].recorded_at,
                              proposed.encoded_event));
  StreamRead stream_read;
  stream_read.stream_id = "case-1";
  absl::StatusOr<StreamSlice> stream = store_->ReadStream(stream_read);
  ASSERT_TRUE(stream.ok());
  ASSERT_EQ(stream->events.size(), 1u);
  EXPECT_EQ(stream->events[0], slice->events[0]);
}

struct ExpectedVersionCase {
  const char* name;
  uint64_t version_before;  // events in the stream before the append
  ExpectedVersion expected;
  bool accepted;
  const char* message_expected;  // for a rejection: how `expected` is named
};

void PrintTo(const ExpectedVersionCase& c, std::ostream* os) { *os << c.name; }

class ExpectedVersionTest
    : public EventStoreTest,
      public ::testing::WithParamInterface<ExpectedVersionCase> {};

TEST_P(ExpectedVersionTest, AcceptsOrRejects) {
  const ExpectedVersionCase& c = GetParam();
  for (uint64_t i = 0; i < c.version_before; ++i) {
    ASSERT_TRUE(
        Append("case-1", ExpectedVersion::Any(), {absl::StrCat("before-", i)})
            .ok());
  }
  // Another stream, so that positions and versions differ.
  ASSERT_TRUE(Append("case-2", ExpectedVersion::Any(), {"other"}).ok());
  const uint64_t size_before = store_->LogSize();

  absl::StatusOr<AppendResult> result =
      Append("case-1", c.expected, {"candidate-1", "candidate-2"});

  if (c.accepted) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->stream_version, c.version_before + 2);
    EXPECT_EQ(Positions(*result),
              (std::vector<uint64_t>{size_before, size_before + 1}));
    EXPECT_EQ(store_->LogSize(), size_before + 2);
    return;
  }
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted)
      << result.status();
  EXPECT_THAT(result.status().message(), HasSubstr("case-1"));
  EXPECT_THAT(result.status().message(), HasSubstr(c.message_expected));
  EXPECT_THAT(result.status().message(),
              HasSubstr(absl::StrCat("actual version ", c.version_before)));
  EXPECT_EQ(store_->LogSize(), size_before);
  EXPECT_EQ(StreamVersion("case-1"), c.version_before);
  // Nothing of the rejected append was recorded: its ids are still free.
  absl::StatusOr<AppendResult> again =
      Append("case-1", ExpectedVersion::Any(), {"candidate-1", "candidate-2"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->deduplicated);
  EXPECT_EQ(Positions(*again),
            (std::vector<uint64_t>{size_before, size_before + 1}));
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, ExpectedVersionTest,
    ::testing::Values(
        ExpectedVersionCase{"AnyOnNewStream", 0, ExpectedVersion::Any(), true,
                            ""},
        ExpectedVersionCase{"AnyOnExistingStream", 2, ExpectedVersion::Any(),
                            true, ""},
        ExpectedVersionCase{"NoStreamOnNewStream", 0,
                            ExpectedVersion::NoStream(), true, ""},
        ExpectedVersionCase{"NoStreamOnExistingStream", 2,
                            ExpectedVersion::NoStream(), false,
                            "expected no stream"},
        ExpectedVersionCase{"StreamExistsOnNewStream", 0,
                            ExpectedVersion::StreamExists(), false,
                            "expected an existing stream"},
        ExpectedVersionCase{"StreamExistsOnExistingStream", 1,
                            ExpectedVersion::StreamExists(), true, ""},
        ExpectedVersionCase{"ExactZeroOnNewStream", 0,
                            ExpectedVersion::Exact(0), true, ""},
        ExpectedVersionCase{"ExactHeadOnExistingStream", 3,
                            ExpectedVersion::Exact(3), true, ""},
        ExpectedVersionCase{"ExactBehindHead", 3, ExpectedVersion::Exact(2),
                            false, "expected version 2"},
        ExpectedVersionCase{"ExactAheadOfHead", 3, ExpectedVersion::Exact(4),
                            false, "expected version 4"},
        ExpectedVersionCase{"ExactOneOnNewStream", 0, ExpectedVersion::Exact(1),
                            false, "expected version 1"},
        ExpectedVersionCase{"ExactZeroOnExistingStream", 1,
                            ExpectedVersion::Exact(0), false,
                            "expected version 0"}),
    [](const ::testing::TestParamInfo<ExpectedVersionCase>& info) {
      return std::string(info.param.name);
    });

TEST_F(EventStoreTest,
       IdempotentRetryReturnsOriginalPositionsAndWritesNothing) {
  absl::StatusOr<AppendResult> first =
      Append("case-1", ExpectedVersion::Exact(0), {"e1", "e2"});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(Append("case-2", ExpectedVersion::Any(), {"x1"}).ok());
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e3"}).ok());
  const uint64_t size = store_->LogSize();
  const std::vector<RecordedEvent> log_before = ReadAll();

  // The same request again, expected version and all.
  absl::StatusOr<AppendResult> retry =
      Append("case-1", ExpectedVersion::Exact(0), {"e1", "e2"});
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->deduplicated);
  EXPECT_EQ(Positions(*retry), Positions(*first));
  EXPECT_EQ(Versions(*retry), Versions(*first));
  for (size_t i = 0; i < first->events.size(); ++i) {
    EXPECT_EQ(retry->events[i].recorded_at, first->events[i].recorded_at);
  }
  EXPECT_EQ(retry->stream_version, 3u);  // the stream's version now
  EXPECT_EQ(store_->LogSize(), size);
  const std::vector<RecordedEvent> log_after = ReadAll();
  ASSERT_EQ(log_after.size(), log_before.size());
  for (size_t i = 0; i < log_after.size(); ++i) {
    EXPECT_EQ(log_after[i].SerializeAsString(),
              log_before[i].SerializeAsString());
  }
}

TEST_F(EventStoreTest, SameIdWithDifferentContentIsAlreadyExists) {
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e1"}).ok());
  const uint64_t size = store_->LogSize();

  // Other payload.
  absl::StatusOr<AppendResult> other_payload = store_->Append(
      MakeStoreAppend("case-1", ExpectedVersion::Any(),
                      {MakeProposedEvent("case-1", "e1", "ContactReceived",
                                         "something else")}));
  EXPECT_EQ(other_payload.status().code(), absl::StatusCode::kAlreadyExists)
      << other_payload.status();
  EXPECT_THAT(other_payload.status().message(), HasSubstr("e1"));

  // Same event, other stream (the stream id is part of the content).
  absl::StatusOr<AppendResult> other_stream = store_->Append(MakeStoreAppend(
      "case-2", ExpectedVersion::Any(),
      {MakeProposedEvent("case-2", "e1", "ContactReceived", "payload-e1")}));
  EXPECT_EQ(other_stream.status().code(), absl::StatusCode::kAlreadyExists)
      << other_stream.status();

  // A batch whose second event collides writes nothing, not even the first.
  std::vector<ProposedEvent> batch = StoreEvents("case-1", {"fresh"});
  batch.push_back(
      MakeProposedEvent("case-1", "e1", "ContactReceived", "changed"));
  absl::StatusOr<AppendResult> mixed = store_->Append(
      MakeStoreAppend("case-1", ExpectedVersion::Any(), std::move(batch)));
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kAlreadyExists)
      << mixed.status();

  EXPECT_EQ(store_->LogSize(), size);
  EXPECT_EQ(StreamVersion("case-1"), 1u);
  EXPECT_EQ(StreamVersion("case-2"), 0u);
  absl::StatusOr<AppendResult> fresh =
      Append("case-1", ExpectedVersion::Any(), {"fresh"});
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_FALSE(fresh->deduplicated);
}

TEST_F(EventStoreTest, PartiallyRecordedRetryIsAlreadyExists) {
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e1"}).ok());
  const uint64_t size = store_->LogSize();

  for (const std::vector<std::string>& ids :
       {std::vector<std::string>{"e1", "e2"},
        std::vector<std::string>{"e2", "e1"}}) {
    absl::StatusOr<AppendResult> result =
        Append("case-1", ExpectedVersion::Any(), ids);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kAlreadyExists)
        << result.status();
    EXPECT_THAT(result.status().message(), HasSubstr("e1"));
  }
  EXPECT_EQ(store_->LogSize(), size);
  EXPECT_EQ(StreamVersion("case-1"), 1u);
}

// Regression: a "retry" that combined events of two separate appends was once
// acknowledged as a deduplicated append with non-consecutive positions.
TEST_F(EventStoreTest, RetryCombiningSeparateAppendsIsAlreadyExists) {
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e1"}).ok());
  ASSERT_TRUE(Append("case-2", ExpectedVersion::Any(), {"x"}).ok());
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e2"}).ok());

  absl::StatusOr<AppendResult> combined =
      Append("case-1", ExpectedVersion::Any(), {"e1", "e2"});
  EXPECT_EQ(combined.status().code(), absl::StatusCode::kAlreadyExists)
      << "acknowledged as deduplicated="
      << (combined.ok() ? combined->deduplicated : false) << " at positions "
      << (combined.ok() ? absl::StrCat(combined->events[0].position, ",",
                                       combined->events[1].position)
                        : "");
}

TEST_F(EventStoreTest, ReadStreamForwardsAndBackwards) {
  for (int i = 1; i <= 10; ++i) {
    ASSERT_TRUE(
        Append("case-1", ExpectedVersion::Any(), {absl::StrCat("a", i)}).ok());
    // Interleave streams whose ids extend or precede "case-1".
    ASSERT_TRUE(
        Append("case-10", ExpectedVersion::Any(), {absl::StrCat("b", i)}).ok());
    ASSERT_TRUE(
        Append("case-", ExpectedVersion::Any(), {absl::StrCat("c", i)}).ok());
  }
  uint64_t version = 0;
  EXPECT_THAT(Versions(ReadStream("case-1", 0, false, 1000, &version)),
              ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  EXPECT_EQ(version, 10u);
  EXPECT_THAT(Versions(ReadStream("case-1", 1, false, 1000)),
              ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  EXPECT_THAT(Versions(ReadStream("case-1", 4, false, 3)),
              ElementsAre(4, 5, 6));
  EXPECT_THAT(Versions(ReadStream("case-1", 9, false, 5)), ElementsAre(9, 10));
  EXPECT_TRUE(ReadStream("case-1", 11, false, 5, &version).empty());
  EXPECT_EQ(version, 10u);

  EXPECT_THAT(Versions(ReadStream("case-1", 0, true, 1000)),
              ElementsAre(10, 9, 8, 7, 6, 5, 4, 3, 2, 1));
  EXPECT_THAT(Versions(ReadStream("case-1", 5, true, 2)), ElementsAre(5, 4));
  EXPECT_THAT(Versions(ReadStream("case-1", 2, true, 5)), ElementsAre(2, 1));
  EXPECT_THAT(Versions(ReadStream("case-1", 50, true, 3)),
              ElementsAre(10, 9, 8));

  for (const RecordedEvent& e : ReadStream("case-1")) {
    EXPECT_EQ(e.event().stream_id(), "case-1");
    EXPECT_EQ(e.event().event_id(), absl::StrCat("a", e.stream_version()));
  }
  for (const RecordedEvent& e : ReadStream("case-", 0, true)) {
    EXPECT_EQ(e.event().stream_id(), "case-");
  }

  EXPECT_TRUE(ReadStream("case-2", 0, false, 10, &version).empty());
  EXPECT_EQ(version, 0u);
  EXPECT_TRUE(ReadStream("case-2", 0, true, 10, &version).empty());
  EXPECT_EQ(version, 0u);
}

TEST_F(EventStoreTest, ReadStreamRejectsBadArguments) {
  StreamRead read;
  read.stream_id = "case 1";
  EXPECT_EQ(store_->ReadStream(read).status().code(),
            absl::StatusCode::kInvalidArgument);
  read.stream_id = "case-1";
  read.limit = 0;
  EXPECT_EQ(store_->ReadStream(read).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class ReadLogTest : public EventStoreTest {
 protected:
  void SetUp() override {
    EventStoreTest::SetUp();
    // position: stream, type
    // 0 north-1 Contact, 1 south-1 Visit, 2 north-2 Visit, 3 north-1 Closed,
    // 4 south-1 Contact, 5 north-2 Contact, 6 other Visit, 7 north-1 Visit
    const std::vector<std::pair<std::string, std::string>> events = {
        {"north-1", "Contact"}, {"south-1", "Visit"},   {"north-2", "Visit"},
        {"north-1", "Closed"},  {"south-1", "Contact"}, {"north-2", "Contact"},
        {"other", "Visit"},     {"north-1", "Visit"}};
    for (size_t i = 0; i < events.size(); ++i) {
      const auto& [stream, type] = events[i];
      ASSERT_TRUE(store_
                      ->Append(MakeStoreAppend(
                          stream, ExpectedVersion::Any(),
                          StoreEvents(stream, {absl::StrCat("e", i)}, type)))
                      .ok());
    }
  }

  std::vector<uint64_t> Read(LogRead read, uint64_t* next = nullptr) {
    absl::StatusOr<LogSlice> slice = store_->ReadLog(read);
    EXPECT_TRUE(slice.ok()) << slice.status();
    if (!slice.ok()) return {};
    EXPECT_EQ(slice->log_size, 8u);
    if (next != nullptr) *next = slice->next_position;
    return Positions(DecodeAll(slice->events));
  }
};

TEST_F(ReadLogTest, Unfiltered) {
  uint64_t next = 0;
  LogRead read;
  EXPECT_THAT(Read(read, &next), ElementsAre(0, 1, 2, 3, 4, 5, 6, 7));
  EXPECT_EQ(next, 8u);
  read.from_position = 5;
  read.limit = 2;
  EXPECT_THAT(Read(read, &next), ElementsAre(5, 6));
  EXPECT_EQ(next, 7u);
  read.from_position = 8;
  EXPECT_TRUE(Read(read, &next).empty());
  EXPECT_EQ(next, 8u);
  read.from_position = 100;
  EXPECT_TRUE(Read(read, &next).empty());
  EXPECT_EQ(next, 100u);
}

TEST_F(ReadLogTest, FiltersByEventType) {
  uint64_t next = 0;
  LogRead read;
  read.filter.event_types = {"Visit"};
  EXPECT_THAT(Read(read, &next), ElementsAre(1, 2, 6, 7));
  EXPECT_EQ(next, 8u);
  read.filter.event_types = {"Closed", "Contact"};
  EXPECT_THAT(Read(read, &next), ElementsAre(0, 3, 4, 5));
  read.filter.event_types = {"NoSuchType"};
  EXPECT_TRUE(Read(read, &next).empty());
  EXPECT_EQ(next, 8u);
  // With a limit, the read stops after the last match it returns.
  read.filter.event_types = {"Visit"};
  read.limit = 2;
  EXPECT_THAT(Read(read, &next), ElementsAre(1, 2));
  EXPECT_EQ(next, 3u);
}

TEST_F(ReadLogTest, FiltersByStreamPrefix) {
  LogRead read;
  read.filter.stream_prefix = "north-";
  EXPECT_THAT(Read(read), ElementsAre(0, 2, 3, 5, 7));
  read.filter.stream_prefix = "north-1";
  EXPECT_THAT(Read(read), ElementsAre(0, 3, 7));
  read.filter.stream_prefix = "south";
  EXPECT_THAT(Read(read), ElementsAre(1, 4));
  read.filter.stream_prefix = "north-";
  read.filter.event_types = {"Visit"};
  EXPECT_THAT(Read(read), ElementsAre(2, 7));
}

TEST_F(ReadLogTest, MaxScannedBoundsAReadAndPagingContinuesIt) {
  LogRead read;
  read.filter.event_types = {"Closed"};
  read.max_scanned = 3;
  uint64_t next = 0;
  EXPECT_TRUE(Read(read, &next).empty());
  EXPECT_EQ(next, 3u);

  read.filter.event_types = {"Visit"};
  std::vector<uint64_t> all;
  read.from_position = 0;
  int pages = 0;
  while (read.from_position < 8) {
    std::vector<uint64_t> page = Read(read, &next);
    EXPECT_LE(next - read.from_position, 3u);
    EXPECT_GT(next, read.from_position);
    all.insert(all.end(), page.begin(), page.end());
    read.from_position = next;
    ASSERT_LT(++pages, 10);
  }
  EXPECT_THAT(all, ElementsAre(1, 2, 6, 7));
  EXPECT_EQ(pages, 3);
}

TEST_F(ReadLogTest, ZeroLimitIsInvalid) {
  LogRead read;
  read.limit = 0;
  EXPECT_EQ(store_->ReadLog(read).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EventStoreTest, RecordedAtNeverDecreasesWhenTheClockGoesBack) {
  ManualClock clock(kT0);
  Open(&clock);
  absl::StatusOr<AppendResult> first =
      Append("case-1", ExpectedVersion::Any(), {"e1", "e2"});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->events[0].recorded_at, kT0);
  EXPECT_EQ(first->events[1].recorded_at, kT0);

  clock.Set(kT0 - absl::Hours(1));
  absl::StatusOr<AppendResult> second =
      Append("case-2", ExpectedVersion::Any(), {"e3"});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->events[0].recorded_at, kT0);

  clock.Set(kT0 + absl::Seconds(1));
  absl::StatusOr<AppendResult> third =
      Append("case-1", ExpectedVersion::Any(), {"e4"});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->events[0].recorded_at, kT0 + absl::Seconds(1));

  clock.Set(kT0 - absl::Hours(48));
  ASSERT_TRUE(Append("case-1", ExpectedVersion::Any(), {"e5"}).ok());
  EXPECT_EQ(store_->Info().last_recorded_at, kT0 + absl::Seconds(1));

  const std::vector<RecordedEvent> log = ReadAll();
  ASSERT_EQ(log.size(), 5u);
  for (size_t i = 1; i < log.size(); ++i) {
    EXPECT_GE(ToAbslTime(log[i].recorded_at()),
              ToAbslTime(log[i - 1].recorded_at()))
        << "position " << i;
  }
  EXPECT_EQ(ToAbslTime(log[3].recorded_at()), kT0 + absl::Seconds(1));
  store_.reset();  // before `clock` goes
}

TEST_F(EventStoreTest, MalformedAppendsAreInvalidArgumentAndWriteNothing) {
  std::vector<AppendRequest> requests;
  requests.push_back(MakeStoreAppend("case 1", ExpectedVersion::Any(),
                                     StoreEvents("case 1", {"e1"})));
  requests.push_back(
      MakeStoreAppend("", ExpectedVersion::Any(), StoreEvents("", {"e1"})));
  requests.push_back(MakeStoreAppend("case-1", ExpectedVersion::Any(), {}));
  requests.push_back(MakeStoreAppend("case-1", ExpectedVersion::Any(),
                                     StoreEvents("case-1", {"e1", "e1"})));
  requests.push_back(MakeStoreAppend("case-1", ExpectedVersion::Any(),
                                     StoreEvents("case-1", {"e1", ""})));
  for (AppendRequest& request : requests) {
    absl::StatusOr<AppendResult> result = store_->Append(std::move(request));
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
        << result.status();
  }
  EXPECT_EQ(store_->LogSize(), 0u);
}

}  // namespace
}  // namespace casetrail::eventstore

namespace casetrail::eventstore {
namespace {

// With a stream-head cache of two, heads are dropped and reloaded from
// `stream_meta` over and over; versions and expected-version checks stay
// exact.
TEST_F(EventStoreTest, StreamHeadsStayExactWhenTheCacheIsDropped) {
  store_.reset();
  StoreOptions options;
  options.path = path();
  options.max_cached_stream_heads = 2;
  absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
  for (int round = 1; round <= 3; ++round) {
    for (int s = 0; s < 5; ++s) {
      const std::string stream = absl::StrCat("case-", s);
      absl::StatusOr<AppendResult> r =
          Append(stream, ExpectedVersion::Exact(round - 1),
                 {absl::StrCat(stream, "-", round)});
      ASSERT_TRUE(r.ok()) << stream << " round " << round << ": " << r.status();
      EXPECT_EQ(r->stream_version, static_cast<uint64_t>(round));
    }
  }
  // A stale expectation is still refused after its head was dropped.
  EXPECT_EQ(
      Append("case-0", ExpectedVersion::Exact(2), {"late"}).status().code(),
      absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace casetrail::eventstore
