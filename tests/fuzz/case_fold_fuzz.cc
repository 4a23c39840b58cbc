// Fuzz target for the projections' decoders: the stored events the fold reads
// (any RecordedEvent that parses, in any order of fields and payloads), a
// stored case model it resumes from, and the query requests a client sends
// (ids, dates, page tokens). Besides not crashing: folding the same events
// twice gives the same bytes, every view can be built from the result, and a
// request that passes Check has a page token that decodes.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "casetrail/v1/case_queries.pb.h"
#include "projections/case_fold.h"
#include "projections/queries.h"
#include "projections/views.h"
#include "tests/fuzz/fuzz_seeds.h"

namespace v1 = ::casetrail::v1;
using casetrail::projections::CaseFold;
using casetrail::projections::CaseSnapshot;
using casetrail::projections::FoldConfig;
using casetrail::projections::QueryEngine;

namespace {

// Chunks of the input separated by "\n--\n": each one a serialised
// RecordedEvent (or, first, a CaseModel to resume from when it starts with
// "model:").
std::vector<std::string> Chunks(absl::string_view input) {
  return absl::StrSplit(input, "\n--\n");
}

std::string Bytes(const google::protobuf::Message& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

std::string Fold(const std::vector<std::string>& chunks,
                 std::vector<v1::ChronologyEntry>* entries,
                 v1::CaseModel* model_out) {
  const FoldConfig& config = FoldConfig::Default();
  v1::CaseModel start;
  size_t first = 0;
  if (!chunks.empty() && absl::StartsWith(chunks[0], "model:")) {
    if (!start.ParseFromString(chunks[0].substr(6))) start.Clear();
    first = 1;
  }
  CaseFold fold(config, start);
  uint64_t position = 0;
  for (size_t i = first; i < chunks.size(); ++i) {
    v1::RecordedEvent event;
    if (!event.ParseFromString(chunks[i])) continue;
    // The store assigns dense positions and a stream id; keep them sane so
    // the fold sees what it would in a log.
    event.set_position(position++);
    event.mutable_event()->set_stream_id("case-fuzz");
    v1::ChronologyEntry entry;
    if (fold.Apply(event, &entry)) entries->push_back(entry);
  }
  *model_out = fold.model();
  return Bytes(fold.model());
}

}  // namespace

std::vector<std::string> FuzzSeeds() {
  std::vector<std::string> seeds;
  v1::RecordedEvent contact;
  contact.mutable_event()->set_event_id("e1");
  contact.mutable_event()->set_event_type("ContactReceived");
  contact.mutable_event()->set_jurisdiction(v1::JURISDICTION_ENGLAND);
  contact.mutable_event()->add_child_ids("c1");
  contact.mutable_event()->mutable_occurred_at()->mutable_time()->set_seconds(
      1772442000);
  contact.mutable_recorded_at()->set_seconds(1772445600);
  contact.mutable_event()->mutable_contact_received()->set_concern("x");
  v1::RecordedEvent decision = contact;
  decision.mutable_event()->set_event_id("e2");
  decision.mutable_event()->set_event_type("ReferralDecision");
  auto* rd = decision.mutable_event()->mutable_referral_decision();
  rd->set_outcome(v1::REFERRAL_OUTCOME_ASSESSMENT);
  rd->mutable_decision()->set_rationale("because");
  v1::RecordedEvent correction = contact;
  correction.mutable_event()->set_event_id("e3");
  correction.mutable_event()->set_event_type("RecordCorrected");
  correction.mutable_event()->mutable_record_corrected()->set_target_event_id(
      "e1");
  seeds.push_back(Bytes(contact) + "\n--\n" + Bytes(decision) + "\n--\n" +
                  Bytes(correction));
  v1::GetChronologyRequest request;
  request.set_case_id("case-1");
  request.set_page_token("MTc3MjQ0MjAwMDowOjA6Y2FzZS0x");
  seeds.push_back("request:" + Bytes(request));
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SilenceProtobufLogs();
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  if (absl::StartsWith(input, "request:")) {
    const std::string bytes(input.substr(8));
    v1::GetChronologyRequest chronology;
    if (chronology.ParseFromString(bytes)) {
      (void)QueryEngine::Check(chronology);
    }
    v1::GetCaseStateRequest state;
    if (state.ParseFromString(bytes)) (void)QueryEngine::Check(state);
    v1::GetChannelPanelPackRequest pack;
    if (pack.ParseFromString(bytes)) (void)QueryEngine::Check(pack);
    v1::ReconstructDecisionRequest decision;
    if (decision.ParseFromString(bytes)) (void)QueryEngine::Check(decision);
    return 0;
  }
  const std::vector<std::string> chunks = Chunks(input);
  std::vector<v1::ChronologyEntry> entries, again;
  v1::CaseModel model, model_again;
  const std::string first = Fold(chunks, &entries, &model);
  const std::string second = Fold(chunks, &again, &model_again);
  FUZZ_CHECK(first == second);
  FUZZ_CHECK(entries.size() == again.size());
  CaseSnapshot snapshot;
  snapshot.model = model;
  snapshot.entries = entries;
  (void)casetrail::projections::BuildChronology({&snapshot}, {});
  v1::CaseState state = model.state();
  casetrail::projections::EvaluateDeadlines(*FoldConfig::Default().calendar,
                                            absl::CivilDay(2026, 6, 1), &state);
  for (const v1::ChildState& child : model.state().children()) {
    (void)casetrail::projections::BuildChannelPanelPack(
        FoldConfig::Default(), child.child_id(), {&snapshot},
        absl::CivilDay(2026, 6, 1));
  }
  return 0;
}
