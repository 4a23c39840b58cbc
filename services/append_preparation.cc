#include "services/append_preparation.h"

#include <vector>

#include "eventstore/stored_event.h"
#include "services/case_history_rules.h"
#include "services/grpc_status.h"

namespace casetrail::services {
namespace {

constexpr size_t kReadPage = 10000;

// The whole case stream, oldest first, and its version when first read.
absl::Status ReadCase(const eventstore::EventStore& store,
                      const std::string& stream_id,
                      std::vector<casetrail::v1::RecordedEvent>* events,
                      uint64_t* version) {
  uint64_t next = 1;
  for (bool first = true;; first = false) {
    absl::StatusOr<eventstore::StreamSlice> slice =
        store.ReadStream({.stream_id = stream_id,
                          .from_version = next,
                          .backwards = false,
                          .limit = kReadPage});
    if (!slice.ok()) return slice.status();
    if (first) *version = slice->stream_version;
    for (const std::string& bytes : slice->events) {
      absl::StatusOr<casetrail::v1::RecordedEvent> event =
          eventstore::DecodeStoredEvent(bytes);
      if (!event.ok()) return event.status();
      events->push_back(*std::move(event));
    }
    if (slice->events.size() < kReadPage) return absl::OkStatus();
    next += kReadPage;
  }
}

}  // namespace

PreparedAppend PrepareAppend(const eventstore::EventStore& store,
                             const casetrail::v1::AppendEventsRequest& request,
                             const AppendLimits& limits) {
  PreparedAppend prepared;
  std::vector<FieldViolation> violations = ValidateAppend(request, limits);
  if (!violations.empty()) {
    prepared.status = BadRequestStatus(violations);
    return prepared;
  }
  prepared.append = ToStoreAppend(request);
  if (!NeedsHistory(request)) return prepared;

  std::vector<casetrail::v1::RecordedEvent> history;
  uint64_t version = 0;
  if (absl::Status read =
          ReadCase(store, request.stream_id(), &history, &version);
      !read.ok()) {
    prepared.status = ToGrpcStatus(read);
    return prepared;
  }
  violations = CheckAgainstHistory(request, history);
  if (!violations.empty()) {
    prepared.status =
        BadRequestStatus(violations, grpc::StatusCode::FAILED_PRECONDITION);
    return prepared;
  }
  eventstore::ExpectedVersion& expected = prepared.append.expected;
  using Kind = eventstore::ExpectedVersion::Kind;
  if (expected.kind == Kind::kAny ||
      (expected.kind == Kind::kStreamExists && version > 0)) {
    expected = eventstore::ExpectedVersion::Exact(version);
  }
  return prepared;
}

}  // namespace casetrail::services
