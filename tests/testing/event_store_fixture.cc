#include "tests/testing/event_store_fixture.h"

#include <utility>

#include "eventstore/stored_event.h"
#include "tests/testing/case_events.h"

namespace casetrail::testing {

using casetrail::v1::RecordedEvent;
using eventstore::AppendResult;

std::vector<eventstore::ProposedEvent> StoreEvents(
    const std::string& stream, const std::vector<std::string>& ids,
    const std::string& type) {
  std::vector<eventstore::ProposedEvent> events;
  for (const std::string& id : ids) {
    events.push_back(MakeProposedEvent(stream, id, type, "payload-" + id));
  }
  return events;
}

std::vector<RecordedEvent> DecodeAll(const std::vector<std::string>& stored) {
  std::vector<RecordedEvent> out;
  for (const std::string& bytes : stored) {
    absl::StatusOr<RecordedEvent> e = eventstore::DecodeStoredEvent(bytes);
    EXPECT_TRUE(e.ok()) << e.status();
    if (e.ok()) out.push_back(*std::move(e));
  }
  return out;
}

std::vector<uint64_t> Positions(const std::vector<RecordedEvent>& events) {
  std::vector<uint64_t> out;
  for (const RecordedEvent& e : events) out.push_back(e.position());
  return out;
}

std::vector<uint64_t> Positions(const AppendResult& result) {
  std::vector<uint64_t> out;
  for (const auto& e : result.events) out.push_back(e.position);
  return out;
}

std::vector<uint64_t> Versions(const std::vector<RecordedEvent>& events) {
  std::vector<uint64_t> out;
  for (const RecordedEvent& e : events) out.push_back(e.stream_version());
  return out;
}

std::vector<uint64_t> Versions(const AppendResult& result) {
  std::vector<uint64_t> out;
  for (const auto& e : result.events) out.push_back(e.stream_version);
  return out;
}

void EventStoreTest::Open(eventstore::Clock* clock) {
  store_.reset();
  eventstore::StoreOptions options;
  options.path = path();
  options.clock = clock;
  absl::StatusOr<std::unique_ptr<eventstore::EventStore>> store =
      eventstore::EventStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
}

absl::StatusOr<AppendResult> EventStoreTest::Append(
    const std::string& stream, eventstore::ExpectedVersion expected,
    const std::vector<std::string>& ids) {
  return store_->Append(
      MakeStoreAppend(stream, expected, StoreEvents(stream, ids)));
}

std::vector<RecordedEvent> EventStoreTest::ReadAll() {
  eventstore::LogRead read;
  read.limit = 1 << 20;
  absl::StatusOr<eventstore::LogSlice> slice = store_->ReadLog(read);
  EXPECT_TRUE(slice.ok()) << slice.status();
  if (!slice.ok()) return {};
  return DecodeAll(slice->events);
}

std::vector<RecordedEvent> EventStoreTest::ReadStream(
    const std::string& stream, uint64_t from_version, bool backwards,
    size_t limit, uint64_t* stream_version) {
  eventstore::StreamRead read;
  read.stream_id = stream;
  read.from_version = from_version;
  read.backwards = backwards;
  read.limit = limit;
  absl::StatusOr<eventstore::StreamSlice> slice = store_->ReadStream(read);
  EXPECT_TRUE(slice.ok()) << slice.status();
  if (!slice.ok()) return {};
  if (stream_version != nullptr) *stream_version = slice->stream_version;
  return DecodeAll(slice->events);
}

uint64_t EventStoreTest::StreamVersion(const std::string& stream) {
  uint64_t version = 0;
  ReadStream(stream, 0, /*backwards=*/true, 1, &version);
  return version;
}

void EditRocksDb(
    const std::string& path,
    const std::function<void(rocksdb::DB*, ColumnFamilies&)>& edit) {
  rocksdb::Options options;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(options, path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(options, path, descriptors, &handles, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ColumnFamilies by_name;
  for (size_t i = 0; i < names.size(); ++i) by_name[names[i]] = handles[i];
  edit(db, by_name);
  for (auto& [name, handle] : by_name) db->DestroyColumnFamilyHandle(handle);
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

}  // namespace casetrail::testing
