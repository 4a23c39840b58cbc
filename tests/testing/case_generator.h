#ifndef CASETRAIL_TESTS_TESTING_CASE_GENERATOR_H_
#define CASETRAIL_TESTS_TESTING_CASE_GENERATOR_H_

// Generated case histories for the projections' tests and benchmarks: typed
// events (proto/casetrail/v1/case_events.proto) of fictional children's social
// care cases, written like tools/demo/demo_case.json, and a way to append
// them to an EventStore mixed as live traffic mixes them.
//
// Three kinds of case, chosen per case:
// - child protection: contact, household, referral decision (strategy
//   discussion), allocation, assessments, strategy discussion and s47
//   enquiry, ICPC with a plan per child, core groups and visits, a correction,
//   the assessments authorised, a review conference ending the plans, closure;
// - assessment: the same up to allocation, then assessment visits, a
//   correction, the assessments authorised, closure;
// - Prevent/Channel (a teenager): contact, Prevent referral, police gateway,
//   Channel referral, vulnerability assessment, parental consent, panel,
//   support plan and sessions, a correction, exit, closure.
// About one case in twenty is a re-referral of the family of an earlier case,
// so some children appear in two cases.
//
// Every event has an id unique in the log, event_type naming its payload,
// occurred_at, recorded_by, source with provenance (and an informant when
// reported), JURISDICTION_ENGLAND, child_ids, stream_id (the case id) and
// schema_version 1; decisions name who decided, at what level, and why. The
// events pass the service's validation (case_generator_test checks). Cases
// start on weekdays from January 2024 to March 2026 and end by December 2026.
// Practice is mostly good, not always: some visits are recorded days late,
// some children are not seen alone, some interpreter decisions are missing,
// and every case corrects a fact a decision relied on, so the fold's flags
// have something to find.
//
// Deterministic: the same seed gives the same bytes, and case i's events do
// not depend on how many cases are generated.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "casetrail/v1/event.pb.h"
#include "eventstore/event_store.h"
#include "tests/testing/event_store_fixture.h"

namespace casetrail::testing {

struct GeneratedCase {
  std::string case_id;
  // Every child of the case; each event's child_ids is a subset.
  std::vector<std::string> child_ids;
  // In recording (append) order.
  std::vector<casetrail::v1::CaseEvent> events;
  // When each event is recorded: never before it occurred, and never before
  // the case's event before it.
  std::vector<absl::Time> recorded_at;
};

// `cases` cases of exactly `events_per_case` events each. A case whose story
// needs more is cut short (left open); one that needs fewer gets more visits,
// core groups, supervision or Channel sessions. Ids: case "case-<seed>-<i>"
// with i zero-padded, events "<case id>-e<n>", people "NS-P-<seed>-<n>".
std::vector<GeneratedCase> GenerateCaseEvents(uint64_t seed, size_t cases,
                                              size_t events_per_case);

// One append of a generated log and the time to record it at.
struct TimedAppend {
  // The latest recorded_at of its events.
  absl::Time recorded_at;
  eventstore::AppendRequest request;
};

// The appends that record `cases` as live traffic would: every event in
// order of its recorded_at (ties by case, then event order); consecutive
// events of one case recorded within 30 minutes of each other (one sitting)
// share an append, up to `max_events_per_append`, under
// ExpectedVersion::Any(). Each event is its deterministic serialisation.
std::vector<TimedAppend> InterleaveCases(
    const std::vector<GeneratedCase>& cases, size_t max_events_per_append = 4);

// Appends `appends` in order, setting `clock` to each one's recorded_at
// first, so that the log's recorded_at is the same on every run and never
// before an event occurred. REQUIRES: `store` was opened with `clock`.
// Errors: the first append's error.
absl::Status AppendTimed(eventstore::EventStore* store, ManualClock* clock,
                         absl::Span<const TimedAppend> appends);

// The number of events in `cases`.
size_t CountEvents(const std::vector<GeneratedCase>& cases);

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_CASE_GENERATOR_H_
