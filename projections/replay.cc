#include "projections/replay.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace casetrail::projections {

absl::StatusOr<CaseSnapshot> ReplayCase(const eventstore::EventStore& store,
                                        const FoldConfig& config,
                                        const std::string& case_id,
                                        const ReplayLimit& limit) {
  CaseFold fold(config, case_id);
  CaseSnapshot snapshot;
  casetrail::v1::RecordedEvent event;
  casetrail::v1::ChronologyEntry entry;
  eventstore::StreamRead read;
  read.stream_id = case_id;
  read.from_version = 1;
  read.limit = 1000;
  auto within = [&limit](const casetrail::v1::RecordedEvent& e) {
    if (limit.below_position.has_value() &&
        e.position() >= *limit.below_position) {
      return false;
    }
    return !limit.known_at.has_value() ||
           absl::FromUnixSeconds(e.recorded_at().seconds()) +
                   absl::Nanoseconds(e.recorded_at().nanos()) <=
               *limit.known_at;
  };
  // Positions and recorded_at never decrease along a stream, so the events
  // within the limit are a prefix of it.
  bool done = false;
  while (!done) {
    absl::StatusOr<eventstore::StreamSlice> slice = store.ReadStream(read);
    if (!slice.ok()) return slice.status();
    for (const std::string& bytes : slice->events) {
      if (!event.ParseFromString(bytes)) {
        return absl::DataLossError(absl::StrCat("stored event ",
                                                read.from_version, " of ",
                                                case_id, " does not parse"));
      }
      ++read.from_version;
      if (!within(event)) {
        done = true;
        break;
      }
      if (limit.reader != nullptr && limit.reader->Withholds(event.event())) {
        ++snapshot.withheld_events;
        continue;
      }
      if (fold.Apply(event, &entry)) snapshot.entries.push_back(entry);
    }
    done = done || slice->events.size() < read.limit;
  }
  snapshot.model = std::move(fold.mutable_model());
  return snapshot;
}

}  // namespace casetrail::projections
