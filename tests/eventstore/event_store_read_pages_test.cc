// EventStore reads bounded by bytes as well as by count (issue 14): a page
// stops before the event that would pass max_bytes, holds at least one event,
// and resuming from where it says reads every event exactly once, forwards,
// backwards and through the global log.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eventstore/event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/case_events.h"
#include "tests/testing/event_store_fixture.h"

namespace casetrail::eventstore {
namespace {

using casetrail::testing::DecodeAll;
using casetrail::testing::EventStoreTest;
using casetrail::testing::MakeProposedEvent;
using casetrail::testing::MakeStoreAppend;
using casetrail::v1::RecordedEvent;

constexpr char kBigCase[] = "case-big";
constexpr char kOtherCase[] = "case-other";
constexpr uint64_t kBigEvents = 60;

size_t Bytes(const std::vector<std::string>& events) {
  size_t sum = 0;
  for (const std::string& e : events) sum += e.size();
  return sum;
}

class EventStoreReadPagesTest : public EventStoreTest {
 protected:
  // kBigEvents events of kBigCase with payloads of 500 to ~4000 bytes, one
  // small event of kOtherCase after every third.
  void SetUp() override {
    EventStoreTest::SetUp();
    for (uint64_t i = 0; i < kBigEvents; ++i) {
      const std::string payload(500 + (i * 397) % 3500, 'x');
      ASSERT_TRUE(store_
                      ->Append(MakeStoreAppend(
                          kBigCase, ExpectedVersion::Any(),
                          {MakeProposedEvent(kBigCase, absl::StrCat("big-", i),
                                             "ContactReceived", payload)}))
                      .ok());
      if (i % 3 == 2) {
        ASSERT_TRUE(
            store_
                ->Append(MakeStoreAppend(
                    kOtherCase, ExpectedVersion::Any(),
                    {MakeProposedEvent(kOtherCase, absl::StrCat("other-", i))}))
                .ok());
      }
    }
  }

  // The stored size of the event at `position`.
  size_t SizeAt(uint64_t position) {
    absl::StatusOr<std::string> event = store_->ReadEvent(position);
    EXPECT_TRUE(event.ok()) << event.status();
    return event.ok() ? event->size() : 0;
  }
};

TEST_F(EventStoreReadPagesTest,
       LogPagesStopAtTheByteBoundAndResumeExactlyOnce) {
  const uint64_t log_size = store_->LogSize();
  constexpr size_t kMaxBytes = 10000;
  std::vector<uint64_t> positions;
  int pages = 0;
  for (uint64_t from = 0; from < log_size; ++pages) {
    ASSERT_LT(pages, 1000) << "paging does not end";
    LogRead read;
    read.from_position = from;
    read.limit = 1000;
    read.max_bytes = kMaxBytes;
    absl::StatusOr<LogSlice> slice = store_->ReadLog(read);
    ASSERT_TRUE(slice.ok()) << slice.status();
    ASSERT_FALSE(slice->events.empty()) << "from " << from;
    EXPECT_LE(Bytes(slice->events), kMaxBytes);
    EXPECT_GT(slice->next_position, from);
    if (slice->next_position < log_size) {
      // Stopped at the bound: the next event would have passed it.
      EXPECT_GT(Bytes(slice->events) + SizeAt(slice->next_position), kMaxBytes);
    }
    for (const RecordedEvent& e : DecodeAll(slice->events)) {
      positions.push_back(e.position());
    }
    from = slice->next_position;
  }
  EXPECT_GT(pages, 2);
  ASSERT_EQ(positions.size(), log_size);
  for (uint64_t i = 0; i < log_size; ++i) EXPECT_EQ(positions[i], i);
}

TEST_F(EventStoreReadPagesTest, FilteredLogPagesStopAtTheByteBound) {
  constexpr size_t kMaxBytes = 9000;
  std::vector<std::string> ids;
  uint64_t from = 0;
  for (int pages = 0; from < store_->LogSize(); ++pages) {
    ASSERT_LT(pages, 1000) << "paging does not end";
    LogRead read;
    read.from_position = from;
    read.max_bytes = kMaxBytes;
    read.filter.stream_prefix = kBigCase;
    absl::StatusOr<LogSlice> slice = store_->ReadLog(read);
    ASSERT_TRUE(slice.ok()) << slice.status();
    EXPECT_LE(Bytes(slice->events), kMaxBytes);
    EXPECT_GT(slice->next_position, from);
    for (const RecordedEvent& e : DecodeAll(slice->events)) {
      EXPECT_EQ(e.event().stream_id(), kBigCase);
      ids.push_back(e.event().event_id());
    }
    from = slice->next_position;
  }
  ASSERT_EQ(ids.size(), kBigEvents);
  for (uint64_t i = 0; i < kBigEvents; ++i) {
    EXPECT_EQ(ids[i], absl::StrCat("big-", i));
  }
}

TEST_F(EventStoreReadPagesTest, EventLargerThanTheBoundIsReadAlone) {
  for (uint64_t from = 0; from < 5; ++from) {
    LogRead read;
    read.from_position = from;
    read.max_bytes = 1;
    absl::StatusOr<LogSlice> slice = store_->ReadLog(read);
    ASSERT_TRUE(slice.ok()) << slice.status();
    ASSERT_EQ(slice->events.size(), 1u);
    EXPECT_EQ(slice->next_position, from + 1);

    StreamRead stream;
    stream.stream_id = kBigCase;
    stream.from_version = from + 1;
    stream.max_bytes = 1;
    absl::StatusOr<StreamSlice> page = store_->ReadStream(stream);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_EQ(page->events.size(), 1u);
    EXPECT_EQ(page->next_version, from + 2);
  }
}

// Pages `kBigCase` in one direction with `max_bytes`; returns the versions
// read, in order.
std::vector<uint64_t> PageStream(const EventStore& store, bool backwards,
                                 size_t max_bytes, size_t limit) {
  std::vector<uint64_t> versions;
  uint64_t from = 0;
  for (int pages = 0;; ++pages) {
    if (pages > 1000) {
      ADD_FAILURE() << "paging does not end";
      break;
    }
    StreamRead read;
    read.stream_id = kBigCase;
    read.from_version = from;
    read.backwards = backwards;
    read.limit = limit;
    read.max_bytes = max_bytes;
    absl::StatusOr<StreamSlice> slice = store.ReadStream(read);
    if (!slice.ok()) {
      ADD_FAILURE() << slice.status();
      break;
    }
    EXPECT_FALSE(slice->events.empty());
    EXPECT_LE(Bytes(slice->events), max_bytes);
    EXPECT_LE(slice->events.size(), limit);
    EXPECT_EQ(slice->stream_version, kBigEvents);
    std::vector<RecordedEvent> events = DecodeAll(slice->events);
    for (const RecordedEvent& e : events)
      versions.push_back(e.stream_version());
    if (slice->next_version == 0) {
      // The end: forwards the head, backwards version 1, was read.
      if (!events.empty()) {
        EXPECT_EQ(events.back().stream_version(), backwards ? 1u : kBigEvents);
      }
      break;
    }
    EXPECT_EQ(slice->next_version, backwards
                                       ? events.back().stream_version() - 1
                                       : events.back().stream_version() + 1);
    if (events.size() < limit) {
      // Stopped at the bound: the next event would have passed it.
      StreamRead next = read;
      next.from_version = slice->next_version;
      next.limit = 1;
      absl::StatusOr<StreamSlice> one = store.ReadStream(next);
      EXPECT_TRUE(one.ok() && one->events.size() == 1);
      if (one.ok() && !one->events.empty()) {
        EXPECT_GT(Bytes(slice->events) + one->events[0].size(), max_bytes);
      }
    }
    from = slice->next_version;
  }
  return versions;
}

TEST_F(EventStoreReadPagesTest,
       StreamPagesForwardsStopAtTheByteBoundAndResumeOnce) {
  const std::vector<uint64_t> versions =
      PageStream(*store_, /*backwards=*/false, 12000, 1000);
  ASSERT_EQ(versions.size(), kBigEvents);
  for (uint64_t i = 0; i < kBigEvents; ++i) EXPECT_EQ(versions[i], i + 1);
}

TEST_F(EventStoreReadPagesTest,
       StreamPagesBackwardsStopAtTheByteBoundAndResumeOnce) {
  const std::vector<uint64_t> versions =
      PageStream(*store_, /*backwards=*/true, 12000, 1000);
  ASSERT_EQ(versions.size(), kBigEvents);
  for (uint64_t i = 0; i < kBigEvents; ++i) {
    EXPECT_EQ(versions[i], kBigEvents - i);
  }
}

TEST_F(EventStoreReadPagesTest, StreamPagesStopAtTheLimitWithNextVersion) {
  const std::vector<uint64_t> forwards =
      PageStream(*store_, /*backwards=*/false, kUnboundedReadBytes, 7);
  EXPECT_EQ(forwards.size(), kBigEvents);
  const std::vector<uint64_t> backwards =
      PageStream(*store_, /*backwards=*/true, kUnboundedReadBytes, 7);
  EXPECT_EQ(backwards.size(), kBigEvents);
}

TEST_F(EventStoreReadPagesTest, ZeroMaxBytesIsInvalid) {
  LogRead log;
  log.max_bytes = 0;
  EXPECT_EQ(store_->ReadLog(log).status().code(),
            absl::StatusCode::kInvalidArgument);
  StreamRead stream;
  stream.stream_id = kBigCase;
  stream.max_bytes = 0;
  EXPECT_EQ(store_->ReadStream(stream).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace casetrail::eventstore
