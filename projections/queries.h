#ifndef CASETRAIL_PROJECTIONS_QUERIES_H_
#define CASETRAIL_PROJECTIONS_QUERIES_H_

// The answers of casetrail.v1.CaseQueries
// (proto/casetrail/v1/case_queries.proto), as a library the service wraps and
// tests call directly.
//
// "As known now" reads the live read model (ReadModelStore); "as known at T"
// and decision reconstruction fold a prefix of the case's stream (replay.h).
// Both go through the same CaseFold and the same views.
//
// Thread-safety: thread-safe; the store, read model and runner are not owned
// and must outlive the engine.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "casetrail/v1/case_queries.pb.h"
#include "eventstore/event_store.h"
#include "projections/case_fold.h"
#include "projections/read_model.h"
#include "projections/reader_view.h"
#include "projections/runner.h"

namespace casetrail::projections {

// A malformed request field, for google.rpc.BadRequest.
struct RequestViolation {
  std::string field;
  std::string description;
};

class QueryEngine {
 public:
  QueryEngine(const eventstore::EventStore* store,
              const ReadModelStore* read_model, ProjectionRunner* runner,
              const FoldConfig& config)
      : store_(store),
        read_model_(read_model),
        runner_(runner),
        config_(config) {}

  // How long a query waits for the read model to reach a request's
  // min_position before answering UNAVAILABLE.
  void set_min_position_wait(absl::Duration wait) { wait_ = wait; }

  // The request's malformed fields; empty if it is well-formed.
  static std::vector<RequestViolation> Check(
      const casetrail::v1::GetChronologyRequest& request);
  static std::vector<RequestViolation> Check(
      const casetrail::v1::GetCaseStateRequest& request);
  static std::vector<RequestViolation> Check(
      const casetrail::v1::GetChannelPanelPackRequest& request);
  static std::vector<RequestViolation> Check(
      const casetrail::v1::ReconstructDecisionRequest& request);

  // REQUIRES: Check(request) is empty (else INVALID_ARGUMENT).
  // Errors: NOT_FOUND for a case, person or decision the record does not hold;
  // UNAVAILABLE when min_position is not reached in time, or the runner
  // stopped; DATA_LOSS for stored bytes that do not parse.
  // A child's or person's cases pass through `visible` (when set) before
  // anything of them is read: access control (services/request_security.h)
  // leaves out the cases the caller may not see, so those are answered as if
  // they did not exist.
  // Every answer is made for `reader` (reader_view.h): a case with events
  // withheld from them is folded without those events, the answer is
  // redacted, and Provenance.withheld_events counts what was left out.
  using CaseFilter = std::function<bool(const std::string& case_id)>;

  absl::StatusOr<casetrail::v1::GetChronologyResponse> Chronology(
      const casetrail::v1::GetChronologyRequest& request,
      const CaseFilter& visible = nullptr,
      const ReaderView& reader = ReaderView()) const;
  absl::StatusOr<casetrail::v1::GetCaseStateResponse> CaseState(
      const casetrail::v1::GetCaseStateRequest& request,
      const ReaderView& reader = ReaderView()) const;
  absl::StatusOr<casetrail::v1::GetChannelPanelPackResponse> ChannelPanelPack(
      const casetrail::v1::GetChannelPanelPackRequest& request,
      const CaseFilter& visible = nullptr,
      const ReaderView& reader = ReaderView()) const;
  // Errors also: FAILED_PRECONDITION if the event is not a decision; NOT_FOUND
  // if it is withheld from `reader`.
  absl::StatusOr<casetrail::v1::ReconstructDecisionResponse>
  ReconstructDecision(const casetrail::v1::ReconstructDecisionRequest& request,
                      const ReaderView& reader = ReaderView()) const;
  absl::StatusOr<casetrail::v1::GetProjectionStatusResponse> Status(
      const casetrail::v1::GetProjectionStatusRequest& request) const;
  absl::StatusOr<casetrail::v1::RebuildProjectionsResponse> Rebuild();

  // With tenants (docs/security.md), the runner's error text may name another
  // tenant's case: say only that the read model stopped, and where. The text
  // stays in casetraild's log.
  void set_redact_runner_errors(bool redact) { redact_runner_errors_ = redact; }

  // OK once the read model has folded every event below `min_position` (0:
  // at once); UNAVAILABLE, saying how far behind it is, after a short wait.
  absl::Status AwaitPosition(uint64_t min_position) const;

 private:
  struct Loaded {
    std::vector<CaseSnapshot> cases;
    casetrail::v1::Provenance provenance;
  };
  // The snapshots of `case_ids` now (read model) or as known at `known_at`.
  // A case with events withheld from `reader` is folded without them.
  absl::StatusOr<Loaded> Load(const std::vector<std::string>& case_ids,
                              const google::protobuf::Timestamp* known_at,
                              uint64_t min_position,
                              const ReaderView& reader) const;
  absl::CivilDay Today() const;
  // The event `event_id` if it is in case `case_id`'s stream, else nullopt.
  absl::StatusOr<std::optional<casetrail::v1::RecordedEvent>> EventOfCase(
      const std::string& event_id, const std::string& case_id) const;

  const eventstore::EventStore* const store_;
  const ReadModelStore* const read_model_;
  ProjectionRunner* const runner_;
  const FoldConfig& config_;
  absl::Duration wait_ = absl::Seconds(2);
  bool redact_runner_errors_ = false;
};

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_QUERIES_H_
