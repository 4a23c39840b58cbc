#include "projections/queries.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "projections/dates.h"
#include "projections/payload_fields.h"
#include "projections/replay.h"
#include "projections/views.h"

namespace casetrail::projections {
namespace {

namespace v1 = ::casetrail::v1;

constexpr uint32_t kDefaultPageSize = 100;
constexpr uint32_t kMaxPageSize = 1000;

void CheckDate(const v1::CivilDate& date, const std::string& field,
               std::vector<RequestViolation>* out) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) return;
  const absl::CivilDay day(date.year(), date.month(), date.day());
  if (date.year() < 1900 || date.year() > 2200 || day.year() != date.year() ||
      day.month() != date.month() || day.day() != date.day()) {
    out->push_back({field, "not a valid calendar date"});
  }
}

void CheckTimestamp(const google::protobuf::Timestamp& ts,
                    const std::string& field,
                    std::vector<RequestViolation>* out) {
  if (ts.nanos() < 0 || ts.nanos() > 999999999 || ts.seconds() < 0) {
    out->push_back({field, "not a valid time (on or after 1970)"});
  }
}

void CheckId(const std::string& id, const std::string& field,
             std::vector<RequestViolation>* out) {
  if (id.empty()) {
    out->push_back({field, "required"});
  } else if (id.size() > 200) {
    out->push_back({field, "longer than 200 bytes"});
  }
}

// A chronology page token: the sort key of the last entry of the previous
// page, in the chronology's own order (occurred second, log position, case
// id; views.cc). Keys, not offsets, so that an entry recorded late between
// two pages does not shift them.
using EntryKey = std::tuple<int64_t, uint64_t, std::string>;

EntryKey KeyOf(const v1::ChronologyEntry& e) {
  return {e.occurred_at().time().seconds(), e.position(), e.case_id()};
}

std::string EncodeToken(const EntryKey& key) {
  return absl::WebSafeBase64Escape(absl::StrCat(
      std::get<0>(key), ":", std::get<1>(key), ":", std::get<2>(key)));
}

std::optional<EntryKey> DecodeToken(const std::string& token) {
  std::string text;
  if (!absl::WebSafeBase64Unescape(token, &text)) return std::nullopt;
  std::vector<std::string> parts =
      absl::StrSplit(text, absl::MaxSplits(':', 2));
  EntryKey key;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &std::get<0>(key)) ||
      !absl::SimpleAtoi(parts[1], &std::get<1>(key))) {
    return std::nullopt;
  }
  std::get<2>(key) = parts[2];
  return key;
}

// NOT_FOUND for a case or child the answer's source does not hold.
absl::Status NotFound(absl::string_view what, absl::string_view id,
                      bool known_at) {
  return absl::NotFoundError(absl::StrCat(
      what, id,
      known_at ? " among the events recorded by then" : " in the log"));
}

}  // namespace

std::vector<RequestViolation> QueryEngine::Check(
    const v1::GetChronologyRequest& request) {
  std::vector<RequestViolation> out;
  if (request.case_id().empty() == request.child_id().empty()) {
    out.push_back({request.case_id().empty() ? "case_id" : "child_id",
                   "give exactly one of case_id and child_id"});
  } else {
    CheckId(request.case_id().empty() ? request.child_id() : request.case_id(),
            request.case_id().empty() ? "child_id" : "case_id", &out);
  }
  if (request.has_as_known_at()) {
    CheckTimestamp(request.as_known_at(), "as_known_at", &out);
  }
  if (request.page_size() > kMaxPageSize) {
    out.push_back({"page_size", absl::StrCat("at most ", kMaxPageSize)});
  }
  if (!request.page_token().empty() &&
      !DecodeToken(request.page_token()).has_value()) {
    out.push_back({"page_token", "not a token this service issued"});
  }
  return out;
}

std::vector<RequestViolation> QueryEngine::Check(
    const v1::GetCaseStateRequest& request) {
  std::vector<RequestViolation> out;
  CheckId(request.case_id(), "case_id", &out);
  if (request.has_as_known_at()) {
    CheckTimestamp(request.as_known_at(), "as_known_at", &out);
  }
  CheckDate(request.evaluate_on(), "evaluate_on", &out);
  return out;
}

std::vector<RequestViolation> QueryEngine::Check(
    const v1::GetChannelPanelPackRequest& request) {
  std::vector<RequestViolation> out;
  CheckId(request.person_id(), "person_id", &out);
  if (request.has_as_known_at()) {
    CheckTimestamp(request.as_known_at(), "as_known_at", &out);
  }
  CheckDate(request.pack_date(), "pack_date", &out);
  return out;
}

std::vector<RequestViolation> QueryEngine::Check(
    const v1::ReconstructDecisionRequest& request) {
  std::vector<RequestViolation> out;
  CheckId(request.case_id(), "case_id", &out);
  CheckId(request.event_id(), "event_id", &out);
  CheckDate(request.evaluate_on(), "evaluate_on", &out);
  return out;
}

absl::CivilDay QueryEngine::Today() const {
  return LocalDay(config_, absl::Now());
}

absl::Status QueryEngine::AwaitPosition(uint64_t min_position) const {
  // A runner that stopped on an error no longer follows the log: its read
  // model would answer "as known now" with what it knew when it stopped.
  if (absl::Status failed = runner_->last_error(); !failed.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "the read model stopped following the log at position ",
        runner_->checkpoint(), ": ",
        redact_runner_errors_ ? "see casetraild's log" : failed.message(),
        "; ask as known at a time, or restart casetraild"));
  }
  if (min_position == 0 || runner_->checkpoint() >= min_position) {
    return absl::OkStatus();
  }
  if (runner_->WaitFor(min_position, wait_)) return absl::OkStatus();
  const uint64_t at = runner_->checkpoint();
  if (!runner_->last_error().ok()) return AwaitPosition(min_position);
  return absl::UnavailableError(absl::StrCat(
      "the read model is at position ", at, ", ", min_position - at,
      " events short of the requested ", min_position, " (log size ",
      store_->LogSize(), "); retry, or ask as known at a time"));
}

// True when `reader` withholds an event restricted in `model`'s case.
bool WithholdsFrom(const ReaderView& reader, const v1::CaseModel& model) {
  if (reader.sees_everything()) return false;
  for (const v1::EventRestriction& r : model.state().event_restrictions()) {
    if (reader.Withholds(r.event_id())) return true;
  }
  return false;
}

absl::StatusOr<QueryEngine::Loaded> QueryEngine::Load(
    const std::vector<std::string>& case_ids,
    const google::protobuf::Timestamp* known_at, uint64_t min_position,
    const ReaderView& reader) const {
  Loaded loaded;
  loaded.provenance.set_rule_set(config_.rules->set().name());
  loaded.provenance.set_rule_set_version(config_.rules->set().version());
  if (known_at != nullptr) {
    ReplayLimit limit;
    limit.known_at = ToTime(*known_at);
    limit.reader = &reader;
    *loaded.provenance.mutable_as_known_at() = *known_at;
    loaded.provenance.set_log_size(store_->LogSize());
    uint64_t position = 0;
    for (const std::string& case_id : case_ids) {
      absl::StatusOr<CaseSnapshot> snapshot =
          ReplayCase(*store_, config_, case_id, limit);
      if (!snapshot.ok()) return snapshot.status();
      if (snapshot->model.state().event_count() == 0) continue;
      position = std::max(position, snapshot->model.state().next_position());
      loaded.provenance.set_withheld_events(
          loaded.provenance.withheld_events() + snapshot->withheld_events);
      loaded.cases.push_back(*std::move(snapshot));
    }
    loaded.provenance.set_position(position);
    return loaded;
  }
  if (absl::Status s = AwaitPosition(min_position); !s.ok()) return s;
  loaded.provenance.set_log_size(store_->LogSize());
  uint64_t position = read_model_->checkpoint();
  for (const std::string& case_id : case_ids) {
    absl::StatusOr<std::optional<ReadModelStore::CaseRead>> read =
        read_model_->ReadCase(case_id);
    if (!read.ok()) return read.status();
    if (!read->has_value()) {
      // Not in the read model: unknown, or recorded but not yet folded (the
      // read model lags, or is being rebuilt). Only the log can say which.
      eventstore::StreamRead head;
      head.stream_id = case_id;
      head.backwards = true;
      head.limit = 1;
      absl::StatusOr<eventstore::StreamSlice> stream = store_->ReadStream(head);
      if (!stream.ok()) return stream.status();
      if (stream->stream_version > 0) {
        return absl::UnavailableError(
            absl::StrCat("case ", case_id,
                         " is in the log but not yet in the read model "
                         "(at position ",
                         read_model_->checkpoint(), " of ", store_->LogSize(),
                         "); retry with min_position, or ask as known "
                         "at a time"));
      }
      continue;
    }
    position = (*read)->checkpoint;
    if (WithholdsFrom(reader, (*read)->snapshot.model)) {
      // Folded again without what the reader may not see: the stored model
      // holds what every event contributed.
      ReplayLimit limit;
      limit.reader = &reader;
      absl::StatusOr<CaseSnapshot> replayed =
          ReplayCase(*store_, config_, case_id, limit);
      if (!replayed.ok()) return replayed.status();
      position = std::max(position, replayed->model.state().next_position());
      loaded.provenance.set_withheld_events(
          loaded.provenance.withheld_events() + replayed->withheld_events);
      loaded.cases.push_back(*std::move(replayed));
      continue;
    }
    loaded.cases.push_back(std::move((*read)->snapshot));
  }
  loaded.provenance.set_position(position);
  return loaded;
}

absl::StatusOr<v1::GetChronologyResponse> QueryEngine::Chronology(
    const v1::GetChronologyRequest& request, const CaseFilter& visible,
    const ReaderView& reader) const {
  if (!Check(request).empty()) {
    return absl::InvalidArgumentError("malformed chronology request");
  }
  std::vector<std::string> case_ids;
  if (!request.case_id().empty()) {
    case_ids.push_back(request.case_id());
  } else {
    // The child's cases come from the read model's index, so it must have
    // caught up first (for an as-known-at answer too).
    if (absl::Status s = AwaitPosition(request.min_position()); !s.ok()) {
      return s;
    }
    absl::StatusOr<std::vector<std::string>> found =
        read_model_->CasesForChild(request.child_id());
    if (!found.ok()) return found.status();
    case_ids = *std::move(found);
    if (visible) std::erase_if(case_ids, std::not_fn(visible));
  }
  absl::StatusOr<Loaded> loaded = Load(
      case_ids, request.has_as_known_at() ? &request.as_known_at() : nullptr,
      request.min_position(), reader);
  if (!loaded.ok()) return loaded.status();
  if (loaded->cases.empty()) {
    return NotFound(
        request.case_id().empty() ? "no case records child " : "no case ",
        request.case_id().empty() ? request.child_id() : request.case_id(),
        request.has_as_known_at());
  }
  ChronologyFilter filter;
  filter.child_id = request.child_id();
  filter.agency = request.agency();
  filter.significant_only = request.significant_only();
  std::vector<v1::ChronologyEntry> entries =
      TakeChronology(loaded->cases, filter);

  v1::GetChronologyResponse response;
  response.set_total_entries(static_cast<uint32_t>(entries.size()));
  const uint32_t page_size =
      request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  auto begin = entries.begin();
  if (!request.page_token().empty()) {
    const EntryKey after = *DecodeToken(request.page_token());
    begin =
        std::upper_bound(entries.begin(), entries.end(), after,
                         [](const EntryKey& key, const v1::ChronologyEntry& e) {
                           return key < KeyOf(e);
                         });
  }
  const auto end =
      entries.end() - begin > page_size ? begin + page_size : entries.end();
  for (auto it = begin; it != end; ++it) {
    *response.add_entries() = std::move(*it);
  }
  if (end != entries.end() && !response.entries().empty()) {
    response.set_next_page_token(
        EncodeToken(KeyOf(*response.entries().rbegin())));
  }
  *response.mutable_provenance() = loaded->provenance;
  reader.Redact(&response);
  return response;
}

absl::StatusOr<v1::GetCaseStateResponse> QueryEngine::CaseState(
    const v1::GetCaseStateRequest& request, const ReaderView& reader) const {
  if (!Check(request).empty()) {
    return absl::InvalidArgumentError("malformed case state request");
  }
  absl::StatusOr<Loaded> loaded =
      Load({request.case_id()},
           request.has_as_known_at() ? &request.as_known_at() : nullptr,
           request.min_position(), reader);
  if (!loaded.ok()) return loaded.status();
  if (loaded->cases.empty()) {
    return NotFound("no case ", request.case_id(), request.has_as_known_at());
  }
  v1::GetCaseStateResponse response;
  *response.mutable_state() = loaded->cases[0].model.state();
  EvaluateDeadlines(*config_.calendar, DayOr(request.evaluate_on(), Today()),
                    response.mutable_state());
  DescribeDeadlines(*config_.rules, response.mutable_state());
  *response.mutable_provenance() = loaded->provenance;
  reader.Redact(&response);
  return response;
}

absl::StatusOr<v1::GetChannelPanelPackResponse> QueryEngine::ChannelPanelPack(
    const v1::GetChannelPanelPackRequest& request, const CaseFilter& visible,
    const ReaderView& reader) const {
  if (!Check(request).empty()) {
    return absl::InvalidArgumentError("malformed Channel panel pack request");
  }
  // The person's cases come from the read model's index: wait for it first.
  if (absl::Status s = AwaitPosition(request.min_position()); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::vector<std::string>> case_ids =
      read_model_->CasesForChild(request.person_id());
  if (!case_ids.ok()) return case_ids.status();
  if (visible) std::erase_if(*case_ids, std::not_fn(visible));
  absl::StatusOr<Loaded> loaded = Load(
      *case_ids, request.has_as_known_at() ? &request.as_known_at() : nullptr,
      request.min_position(), reader);
  if (!loaded.ok()) return loaded.status();
  std::vector<const CaseSnapshot*> cases;
  for (const CaseSnapshot& c : loaded->cases) cases.push_back(&c);
  absl::StatusOr<v1::ChannelPanelPack> pack = BuildChannelPanelPack(
      config_, request.person_id(), cases, DayOr(request.pack_date(), Today()));
  if (!pack.ok()) return pack.status();
  v1::GetChannelPanelPackResponse response;
  *response.mutable_pack() = *std::move(pack);
  *response.mutable_provenance() = loaded->provenance;
  reader.Redact(&response);
  return response;
}

absl::StatusOr<std::optional<v1::RecordedEvent>> QueryEngine::EventOfCase(
    const std::string& event_id, const std::string& case_id) const {
  absl::StatusOr<std::optional<uint64_t>> position =
      store_->PositionOfEvent(event_id);
  if (!position.ok()) return position.status();
  if (!position->has_value()) return std::nullopt;
  absl::StatusOr<std::string> bytes = store_->ReadEvent(**position);
  if (!bytes.ok()) return bytes.status();
  v1::RecordedEvent event;
  if (!event.ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat("stored event at position ",
                                            **position, " does not parse"));
  }
  if (event.event().stream_id() != case_id) return std::nullopt;
  return event;
}

absl::StatusOr<v1::ReconstructDecisionResponse>
QueryEngine::ReconstructDecision(const v1::ReconstructDecisionRequest& request,
                                 const ReaderView& reader) const {
  if (!Check(request).empty()) {
    return absl::InvalidArgumentError("malformed reconstruction request");
  }
  // A decision withheld from the reader is, for them, not in the case.
  if (reader.Withholds(request.event_id())) {
    return absl::NotFoundError(absl::StrCat("no event ", request.event_id(),
                                            " in case ", request.case_id()));
  }
  // The whole case as known now, for the decision and what followed it.
  ReplayLimit all;
  all.reader = &reader;
  absl::StatusOr<CaseSnapshot> now =
      ReplayCase(*store_, config_, request.case_id(), all);
  if (!now.ok()) return now.status();
  const v1::CaseModel& model = now->model;
  if (model.state().event_count() == 0) {
    return absl::NotFoundError(absl::StrCat("no case ", request.case_id()));
  }
  const v1::DecisionRecord* decision = nullptr;
  for (const v1::DecisionRecord& d : model.decisions()) {
    if (d.event_id() == request.event_id()) decision = &d;
  }
  if (decision == nullptr) {
    // An event of this case that is not a decision, or no such event.
    absl::StatusOr<std::optional<v1::RecordedEvent>> event =
        EventOfCase(request.event_id(), request.case_id());
    if (!event.ok()) return event.status();
    if (event->has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "event ", request.event_id(), " is a ",
          (*event)->event().event_type(), ", which records no decision"));
    }
    return absl::NotFoundError(absl::StrCat("no event ", request.event_id(),
                                            " in case ", request.case_id()));
  }
  v1::ReconstructDecisionResponse response;
  absl::StatusOr<std::string> bytes = store_->ReadEvent(decision->position());
  if (!bytes.ok()) return bytes.status();
  if (!response.mutable_decision_event()->ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat(
        "stored event at position ", decision->position(), " does not parse"));
  }
  *response.mutable_marker() = decision->marker();
  if (const v1::Decision* d = DecisionOf(response.decision_event().event())) {
    response.mutable_marker()->set_rationale(d->rationale());
  }

  // The case as it stood for the decider: every event below the basis.
  ReplayLimit at_basis;
  at_basis.below_position = decision->marker().information_basis_position();
  at_basis.reader = &reader;
  absl::StatusOr<CaseSnapshot> then =
      ReplayCase(*store_, config_, request.case_id(), at_basis);
  if (!then.ok()) return then.status();
  *response.mutable_state_at_basis() = then->model.state();
  const absl::CivilDay decided_on =
      LocalDay(config_, ToTime(decision->occurred_at()));
  EvaluateDeadlines(*config_.calendar, DayOr(request.evaluate_on(), decided_on),
                    response.mutable_state_at_basis());
  DescribeDeadlines(*config_.rules, response.mutable_state_at_basis());
  std::vector<CaseSnapshot> then_cases;
  then_cases.push_back(*std::move(then));
  for (v1::ChronologyEntry& entry : TakeChronology(then_cases, {})) {
    *response.add_chronology_at_basis() = std::move(entry);
  }
  for (const std::string& id :
       decision->marker().information_basis_event_ids()) {
    absl::StatusOr<std::optional<v1::RecordedEvent>> relied =
        EventOfCase(id, request.case_id());
    if (!relied.ok()) return relied.status();
    if (relied->has_value()) *response.add_relied_on() = **std::move(relied);
  }
  for (const std::string& id : decision->corrected_by_event_ids()) {
    for (const v1::Amendment& amendment : model.amendments()) {
      if (amendment.event_id() == id) {
        *response.add_later_corrections() = amendment;
      }
    }
  }
  v1::Provenance& provenance = *response.mutable_provenance();
  provenance.set_position(decision->marker().information_basis_position());
  provenance.set_log_size(store_->LogSize());
  provenance.set_rule_set(config_.rules->set().name());
  provenance.set_rule_set_version(config_.rules->set().version());
  provenance.set_withheld_events(now->withheld_events);
  reader.Redact(&response);
  return response;
}

absl::StatusOr<v1::GetProjectionStatusResponse> QueryEngine::Status(
    const v1::GetProjectionStatusRequest& request) const {
  v1::GetProjectionStatusResponse response;
  response.set_checkpoint(runner_->checkpoint());
  response.set_log_size(store_->LogSize());
  response.set_lag_events(response.log_size() > response.checkpoint()
                              ? response.log_size() - response.checkpoint()
                              : 0);
  response.set_fingerprint(config_.Fingerprint());
  response.set_events_applied(runner_->events_applied());
  if (!runner_->last_error().ok()) {
    response.set_error(redact_runner_errors_
                           ? "stopped on an error; see casetraild's log"
                           : std::string(runner_->last_error().message()));
  }
  response.set_rebuilds(runner_->rebuilds());
  if (request.digest()) {
    absl::StatusOr<std::string> digest = read_model_->Digest();
    if (!digest.ok()) return digest.status();
    // Digest() is hex text; the field holds the SHA-256 digest itself.
    response.set_digest(absl::HexStringToBytes(*digest));
  }
  return response;
}

absl::StatusOr<v1::RebuildProjectionsResponse> QueryEngine::Rebuild() {
  absl::StatusOr<RebuildResult> result = runner_->Rebuild();
  if (!result.ok()) return result.status();
  v1::RebuildProjectionsResponse response;
  response.set_position(result->position);
  response.set_seconds(absl::ToDoubleSeconds(result->elapsed));
  response.set_cases(result->cases);
  return response;
}

}  // namespace casetrail::projections
