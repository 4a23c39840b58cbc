#include "projections/case_fold.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "casetrail/v1/case_events.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "openssl/evp.h"
#include "projections/dates.h"
#include "projections/headlines.h"
#include "projections/payload_fields.h"

namespace casetrail::projections {
namespace {

namespace v1 = ::casetrail::v1;

// Raised whenever the fold's output for the same events changes; part of the
// read model's fingerprint, so a new build rebuilds an old read model.
constexpr absl::string_view kFoldVersion = "casetrail-fold-8";
// A chronology entry recorded more than this many working days after the day
// it occurred carries the late-recording badge (the visit-recording timescale
// of rule 6, applied to every entry).
constexpr int kLateRecordingWorkingDays = 2;

void SetLater(v1::CivilDate* field, absl::CivilDay day) {
  if (!HasDate(*field) || FromDate(*field) < day) *field = ToDate(day);
}

// The log position a decision's maker had seen: 0 in the event means "the log
// when it was appended", i.e. the decision's own position; a position beyond
// the decision's own is taken as its own (a decider cannot have seen later
// events).
uint64_t BasisPosition(const v1::Decision& decision,
                       const v1::RecordedEvent& recorded) {
  const uint64_t basis = decision.information_basis().log_position();
  return basis == 0 || basis > recorded.position() ? recorded.position()
                                                   : basis;
}

// The state transitions of one event, with the model they change.
class Folder {
 public:
  using PositionOf = std::function<std::optional<uint64_t>(const std::string&)>;

  Folder(const FoldConfig& config, v1::CaseModel& model,
         const v1::RecordedEvent& recorded, PositionOf position_of)
      : position_of_(std::move(position_of)),
        config_(config),
        model_(model),
        state_(*model.mutable_state()),
        recorded_(recorded),
        event_(recorded.event()),
        day_(LocalDay(config, ToTime(event_.occurred_at().time()))),
        recorded_day_(LocalDay(config, ToTime(recorded.recorded_at()))) {}

  bool Run(v1::ChronologyEntry* entry);

 private:
  v1::ChildState& Child(const std::string& child_id);
  void Envelope();
  void Payload();
  void Deadlines();
  void MeetDeadlines(const google::protobuf::Message& payload);
  void TriggerDeadlines(const google::protobuf::Message& payload);
  void CloseOpenDeadlines(
      bool superseded, const std::string& reason,
      const std::function<bool(const v1::Deadline&)>& which);
  void Amend(v1::Amendment::Kind kind, const std::string& target,
             const std::string& field, const std::string& old_value,
             const std::string& new_value, const std::string& text,
             const std::string& by);
  void AddFlag(v1::PracticeFlag::Kind kind, const std::string& event_id,
               const std::string& child_id, std::string description);
  void ClearFlags(v1::PracticeFlag::Kind kind,
                  const std::function<bool(const v1::PracticeFlag&)>& which);
  void AddOutstanding(std::string needed, std::string description);
  void ClearOutstanding(
      const std::function<bool(const v1::OutstandingAuthorisation&)>& which);
  v1::PreventEpisode* Episode(const std::string& prevent_referral_id,
                              const std::string& channel_case_id, bool create);
  v1::PreventEpisode* OpenEpisode();
  // Records (or lifts, at level NONE) the restriction of each target event.
  void RestrictEvents(const v1::RecordRestrictionChanged& changed);
  void Derive();
  void MakeEntry(v1::ChronologyEntry* entry) const;
  bool IsAmendment() const;

  const PositionOf position_of_;
  const FoldConfig& config_;
  v1::CaseModel& model_;
  v1::CaseState& state_;
  const v1::RecordedEvent& recorded_;
  const v1::CaseEvent& event_;
  const absl::CivilDay day_;
  const absl::CivilDay recorded_day_;
};

bool Folder::IsAmendment() const {
  switch (event_.payload_case()) {
    case v1::CaseEvent::kRecordCorrected:
    case v1::CaseEvent::kRecordAnnotated:
    case v1::CaseEvent::kSubjectDisputeRecorded:
    case v1::CaseEvent::kEntryRetracted:
      return true;
    default:
      return false;
  }
}

bool Folder::Run(v1::ChronologyEntry* entry) {
  Envelope();
  Payload();
  Deadlines();
  Derive();
  if (IsAmendment()) return false;
  if (entry != nullptr) MakeEntry(entry);
  return true;
}

v1::ChildState& Folder::Child(const std::string& child_id) {
  for (v1::ChildState& child : *state_.mutable_children()) {
    if (child.child_id() == child_id) return child;
  }
  v1::ChildState& child = *state_.add_children();
  child.set_child_id(child_id);
  for (const v1::HouseholdMember& member : state_.household()) {
    if (member.person_id() == child_id) {
      child.set_name(member.name());
      *child.mutable_date_of_birth() = member.date_of_birth();
    }
  }
  return child;
}

void Folder::Envelope() {
  if (state_.case_id().empty()) state_.set_case_id(event_.stream_id());
  state_.set_event_count(state_.event_count() + 1);
  state_.set_next_position(recorded_.position() + 1);
  *state_.mutable_last_recorded_at() = recorded_.recorded_at();
  if (event_.jurisdiction() != v1::JURISDICTION_UNSPECIFIED) {
    state_.set_jurisdiction(event_.jurisdiction());
  }
  for (const std::string& child_id : event_.child_ids()) Child(child_id);
  if (const v1::Decision* decision = DecisionOf(event_)) {
    v1::DecisionRecord& record = *model_.add_decisions();
    record.set_event_id(event_.event_id());
    record.set_position(recorded_.position());
    record.set_event_type(event_.event_type());
    v1::DecisionMarker& marker = *record.mutable_marker();
    // The rationale stays in the event and its chronology entry; the record
    // keeps what corrections are checked against.
    *marker.mutable_decided_by() = decision->decided_by();
    marker.set_information_basis_position(BasisPosition(*decision, recorded_));
    *marker.mutable_information_basis_event_ids() =
        decision->information_basis().event_ids();
    *record.mutable_occurred_at() = event_.occurred_at().time();
    *record.mutable_recorded_at() = recorded_.recorded_at();
  }
}

void Folder::Amend(v1::Amendment::Kind kind, const std::string& target,
                   const std::string& field, const std::string& old_value,
                   const std::string& new_value, const std::string& text,
                   const std::string& by) {
  v1::Amendment& amendment = *model_.add_amendments();
  amendment.set_kind(kind);
  amendment.set_event_id(event_.event_id());
  amendment.set_position(recorded_.position());
  *amendment.mutable_recorded_at() = recorded_.recorded_at();
  amendment.set_target_event_id(target);
  amendment.set_field_path(field);
  amendment.set_old_value(old_value);
  amendment.set_new_value(new_value);
  amendment.set_text(text);
  amendment.set_by(by.empty() ? event_.recorded_by().user_id() : by);
  if (kind != v1::Amendment::KIND_CORRECTED &&
      kind != v1::Amendment::KIND_RETRACTED) {
    return;
  }
  // A decision taken on the amended fact is flagged: named in its basis, or,
  // when it names none, below its basis position.
  const std::optional<uint64_t> target_position = position_of_(target);
  if (!target_position.has_value()) return;
  for (v1::DecisionRecord& decision : *model_.mutable_decisions()) {
    const v1::DecisionMarker& marker = decision.marker();
    const bool relied_on =
        marker.information_basis_event_ids().empty()
            ? *target_position < marker.information_basis_position()
            : std::count(marker.information_basis_event_ids().begin(),
                         marker.information_basis_event_ids().end(),
                         target) > 0;
    if (!relied_on || decision.event_id() == event_.event_id()) continue;
    decision.add_corrected_by_event_ids(event_.event_id());
    AddFlag(v1::PracticeFlag::KIND_DECISION_BASIS_CORRECTED,
            decision.event_id(), "",
            absl::StrCat(decision.event_type(), " ", decision.event_id(),
                         " relied on ", target, ", ",
                         kind == v1::Amendment::KIND_RETRACTED
                             ? "since retracted"
                             : absl::StrCat("since corrected (", field, ")")));
  }
}

void Folder::AddFlag(v1::PracticeFlag::Kind kind, const std::string& event_id,
                     const std::string& child_id, std::string description) {
  v1::PracticeFlag& flag = *state_.add_flags();
  flag.set_kind(kind);
  flag.set_event_id(event_id);
  flag.set_child_id(child_id);
  flag.set_description(std::move(description));
  flag.set_raised_by_event_id(event_.event_id());
}

void Folder::ClearFlags(
    v1::PracticeFlag::Kind kind,
    const std::function<bool(const v1::PracticeFlag&)>& which) {
  for (v1::PracticeFlag& flag : *state_.mutable_flags()) {
    if (flag.kind() == kind && !flag.cleared() && which(flag)) {
      flag.set_cleared(true);
      flag.set_cleared_by_event_id(event_.event_id());
    }
  }
}

void Folder::AddOutstanding(std::string needed, std::string description) {
  v1::OutstandingAuthorisation& item = *state_.add_outstanding_authorisations();
  item.set_needed(std::move(needed));
  item.set_description(std::move(description));
  item.set_event_id(event_.event_id());
  *item.mutable_since() = ToDate(day_);
}

void Folder::ClearOutstanding(
    const std::function<bool(const v1::OutstandingAuthorisation&)>& which) {
  auto* items = state_.mutable_outstanding_authorisations();
  items->erase(std::remove_if(items->begin(), items->end(), which),
               items->end());
}

v1::PreventEpisode* Folder::Episode(const std::string& prevent_referral_id,
                                    const std::string& channel_case_id,
                                    bool create) {
  for (v1::PreventEpisode& episode : *state_.mutable_prevent_episodes()) {
    if ((!prevent_referral_id.empty() &&
         episode.prevent_referral_id() == prevent_referral_id) ||
        (!channel_case_id.empty() &&
         episode.channel_case_id() == channel_case_id)) {
      return &episode;
    }
  }
  if (!create) return nullptr;
  v1::PreventEpisode& episode = *state_.add_prevent_episodes();
  episode.set_prevent_referral_id(
      prevent_referral_id.empty() ? channel_case_id : prevent_referral_id);
  episode.set_channel_case_id(channel_case_id);
  episode.set_stage(v1::CHANNEL_STAGE_PREVENT_REFERRAL);
  *episode.mutable_referred_on() = ToDate(day_);
  return &episode;
}

v1::PreventEpisode* Folder::OpenEpisode() {
  auto* episodes = state_.mutable_prevent_episodes();
  for (int i = episodes->size() - 1; i >= 0; --i) {
    if (!HasDate(episodes->at(i).closed_on())) return episodes->Mutable(i);
  }
  return nullptr;
}

void Folder::CloseOpenDeadlines(
    bool superseded, const std::string& reason,
    const std::function<bool(const v1::Deadline&)>& which) {
  for (v1::Deadline& deadline : *state_.mutable_deadlines()) {
    if (!deadline.met_by_event_id().empty() || deadline.superseded() ||
        deadline.not_applicable() || !which(deadline)) {
      continue;
    }
    deadline.set_superseded(superseded);
    deadline.set_not_applicable(!superseded);
    deadline.set_closed_reason(reason);
    deadline.set_closed_by_event_id(event_.event_id());
    *deadline.mutable_closed_on() = ToDate(day_);
  }
}

std::string DecisionMakerText(const v1::DecisionMaker& who) {
  std::string text = who.name().empty() ? who.id() : who.name();
  if (!who.role().empty()) absl::StrAppend(&text, " (", who.role(), ")");
  return text;
}

// The outstanding authorisation for a child seen but not alone (rule 5).
std::string NotSeenAloneDescription(absl::string_view child_id) {
  return absl::StrCat("a manager to record why ", child_id,
                      " was not seen alone (rule 5)");
}

// Deadlines that outlive the case's casework: reviews after a Channel exit, a
// serious incident's rapid review and a subject access request.
bool OutlivesTheCase(const v1::Deadline& d) {
  return d.trigger_event_type() == "ChannelExited" ||
         d.trigger_event_type() == "SeriousIncidentNotified" ||
         d.trigger_event_type() == "SARProcessed";
}

// The date a deadline is due by: its due date, or an approved extension's.
const v1::CivilDate& EffectiveDue(const v1::Deadline& d) {
  return HasDate(d.extended_to()) &&
                 FromDate(d.extended_to()) > FromDate(d.due())
             ? d.extended_to()
             : d.due();
}

bool IsEnglish(absl::string_view language) {
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(language),
                                "english");
}

void Folder::Payload() {
  const std::string& id = event_.event_id();
  switch (event_.payload_case()) {
    case v1::CaseEvent::kContactReceived:
      if (state_.closed()) {
        state_.set_closed(false);
        CloseOpenDeadlines(
            /*superseded=*/true, "the case was reopened by a new contact",
            [](const v1::Deadline& d) { return !OutlivesTheCase(d); });
      }
      break;
    case v1::CaseEvent::kReferralDecision: {
      const auto outcome = event_.referral_decision().outcome();
      if (outcome == v1::REFERRAL_OUTCOME_ASSESSMENT ||
          outcome == v1::REFERRAL_OUTCOME_STRATEGY_DISCUSSION ||
          outcome == v1::REFERRAL_OUTCOME_IMMEDIATE_PROTECTION) {
        if (!model_.referral_dates().empty()) {
          const absl::CivilDay previous =
              FromDate(*model_.referral_dates().rbegin());
          if (day_ <= AddCalendarMonths(previous, 12)) {
            state_.set_re_referrals_within_12_months(
                state_.re_referrals_within_12_months() + 1);
          }
        }
        *model_.add_referral_dates() = ToDate(day_);
      }
      break;
    }
    case v1::CaseEvent::kHouseholdMemberRecorded: {
      const auto& recorded = event_.household_member_recorded();
      v1::HouseholdMember* member = nullptr;
      for (v1::HouseholdMember& m : *state_.mutable_household()) {
        if (m.person_id() == recorded.person_id()) member = &m;
      }
      if (member == nullptr) member = state_.add_household();
      member->set_person_id(recorded.person_id());
      member->set_name(recorded.name());
      *member->mutable_date_of_birth() = recorded.date_of_birth();
      member->set_relationship(recorded.relationship());
      member->set_parental_responsibility(recorded.parental_responsibility());
      member->set_language(recorded.language());
      member->set_communication_needs(recorded.communication_needs());
      member->set_event_id(id);
      for (v1::ChildState& child : *state_.mutable_children()) {
        if (child.child_id() == recorded.person_id()) {
          child.set_name(recorded.name());
          *child.mutable_date_of_birth() = recorded.date_of_birth();
        }
      }
      // Rule 8: someone whose language is not English needs an interpreter
      // decision; not using one needs a Team Manager's approval. Raised once
      // per person: not again while raised, nor once a decision settled it.
      const bool flagged_before = std::any_of(
          state_.flags().begin(), state_.flags().end(),
          [&](const v1::PracticeFlag& f) {
            return f.kind() ==
                       v1::PracticeFlag::KIND_INTERPRETER_NOT_APPROVED &&
                   f.child_id() == recorded.person_id();
          });
      if (!recorded.language().empty() && !IsEnglish(recorded.language()) &&
          !flagged_before) {
        AddFlag(v1::PracticeFlag::KIND_INTERPRETER_NOT_APPROVED, id,
                recorded.person_id(),
                absl::StrCat(recorded.name(), "'s language is recorded as ",
                             recorded.language(),
                             " and no interpreter decision is recorded"));
      }
      break;
    }
    case v1::CaseEvent::kCaseAllocated: {
      const auto& allocated = event_.case_allocated();
      v1::Allocation& allocation = *state_.mutable_allocation();
      *allocation.mutable_worker() = allocated.worker();
      allocation.set_team(allocated.team());
      *allocation.mutable_manager() = allocated.manager();
      *allocation.mutable_since() = ToDate(day_);
      break;
    }
    case v1::CaseEvent::kAssessmentStarted:
      if (!event_.assessment_started().child_id().empty()) {
        Child(event_.assessment_started().child_id());
      }
      state_.add_open_assessments(event_.assessment_started().assessment_id());
      break;
    case v1::CaseEvent::kAssessmentExtensionRequested:
      AddOutstanding(
          "AssessmentExtensionDecided",
          absl::StrCat("an extension of assessment ",
                       event_.assessment_extension_requested().assessment_id(),
                       " needs a Service Manager's decision"));
      break;
    case v1::CaseEvent::kAssessmentExtensionDecided: {
      const auto& decided = event_.assessment_extension_decided();
      ClearOutstanding([&](const v1::OutstandingAuthorisation& item) {
        return item.event_id() == decided.request_event_id();
      });
      if (decided.outcome() != v1::EXTENSION_OUTCOME_APPROVED ||
          !HasDate(decided.new_target_date())) {
        break;
      }
      for (v1::Deadline& deadline : *state_.mutable_deadlines()) {
        if (deadline.key() == decided.assessment_id() &&
            deadline.trigger_event_type() == "AssessmentStarted" &&
            deadline.rule_id() == "assessment-45wd") {
          *deadline.mutable_extended_to() = decided.new_target_date();
          *deadline.mutable_extension_approved_on() = ToDate(day_);
          deadline.set_extension_event_id(id);
        }
      }
      break;
    }
    case v1::CaseEvent::kAssessmentAuthorised: {
      auto* open = state_.mutable_open_assessments();
      open->erase(std::remove(open->begin(), open->end(),
                              event_.assessment_authorised().assessment_id()),
                  open->end());
      break;
    }
    case v1::CaseEvent::kS47Started:
      state_.add_open_s47_enquiries(event_.s47_started().enquiry_id());
      break;
    case v1::CaseEvent::kS47Concluded: {
      const auto& concluded = event_.s47_concluded();
      auto* open = state_.mutable_open_s47_enquiries();
      open->erase(
          std::remove(open->begin(), open->end(), concluded.enquiry_id()),
          open->end());
      if (concluded.outcome() != v1::S47_OUTCOME_ICPC) {
        CloseOpenDeadlines(
            /*superseded=*/false,
            absl::StrCat(
                "the s47 enquiry concluded without a conference (",
                EnumName(v1::S47Outcome_descriptor(), concluded.outcome(),
                         /*strip=*/false),
                ")"),
            [](const v1::Deadline& d) {
              return d.trigger_event_type() == "StrategyDiscussionHeld";
            });
      }
      break;
    }
    case v1::CaseEvent::kConferenceScheduled: {
      const auto& scheduled = event_.conference_scheduled();
      if (scheduled.delay_reason().empty()) break;
      const bool agreed = !scheduled.delay_agreed_by_manager().id().empty() &&
                          !scheduled.delay_agreed_by_chair().id().empty();
      if (agreed) {
        // An agreed rescheduling settles any earlier unagreed delay.
        ClearOutstanding([](const v1::OutstandingAuthorisation& item) {
          return item.needed() == "ConferenceScheduled";
        });
      } else {
        AddOutstanding("ConferenceScheduled",
                       "a conference delay needs the agreement of a manager "
                       "and the chair (rule 12)");
        break;
      }
      const std::string trigger =
          scheduled.conference_type() == v1::CONFERENCE_TYPE_ICPC
              ? "StrategyDiscussionHeld"
              : "ConferenceHeld";
      for (v1::Deadline& deadline : *state_.mutable_deadlines()) {
        if (deadline.trigger_event_type() == trigger &&
            deadline.met_by_event_id().empty() && !deadline.superseded() &&
            !deadline.not_applicable() &&
            (trigger == "StrategyDiscussionHeld" ||
             deadline.rule_id() != "first-core-group-10wd")) {
          deadline.set_late_reason(absl::StrCat(
              scheduled.delay_reason(), " (agreed by ",
              DecisionMakerText(scheduled.delay_agreed_by_manager()), " and ",
              DecisionMakerText(scheduled.delay_agreed_by_chair()), ")"));
          *deadline.mutable_late_reason_recorded_on() = ToDate(day_);
        }
      }
      break;
    }
    case v1::CaseEvent::kConferenceHeld:
      // Once held, an unagreed delay can no longer be agreed: the lateness
      // shows in the deadline.
      ClearOutstanding([](const v1::OutstandingAuthorisation& item) {
        return item.needed() == "ConferenceScheduled";
      });
      for (const auto& decision : event_.conference_held().child_decisions()) {
        v1::ChildState& child = Child(decision.child_id());
        switch (decision.plan_decision()) {
          case v1::CONFERENCE_PLAN_DECISION_PLAN_STARTED:
          case v1::CONFERENCE_PLAN_DECISION_PLAN_CONTINUED:
            child.set_child_protection_plan(true);
            if (!decision.categories().empty()) {
              *child.mutable_plan_categories() = decision.categories();
            }
            break;
          case v1::CONFERENCE_PLAN_DECISION_PLAN_ENDED:
          case v1::CONFERENCE_PLAN_DECISION_PLAN_NOT_REQUIRED:
            child.set_child_protection_plan(false);
            child.clear_plan_categories();
            break;
          default:
            break;
        }
      }
      break;
    case v1::CaseEvent::kPlanChanged: {
      const auto& plan = event_.plan_changed();
      const bool on = plan.change() != v1::PLAN_CHANGE_END;
      for (const std::string& child_id : event_.child_ids()) {
        v1::ChildState& child = Child(child_id);
        switch (plan.plan_type()) {
          case v1::PLAN_TYPE_CIN:
            child.set_child_in_need_plan(on);
            break;
          case v1::PLAN_TYPE_CP:
            child.set_child_protection_plan(on);
            child.set_registered(on && plan.registered());
            break;
          case v1::PLAN_TYPE_CLA:
            child.set_looked_after(on);
            break;
          default:
            break;
        }
      }
      break;
    }
    case v1::CaseEvent::kLegalStatusChanged: {
      const auto& changed = event_.legal_status_changed();
      v1::ChildState& child = Child(changed.child_id());
      auto* statuses = child.mutable_legal_statuses();
      statuses->erase(
          std::remove(statuses->begin(), statuses->end(), changed.status()),
          statuses->end());
      if (changed.change() == v1::LEGAL_STATUS_CHANGE_STARTED) {
        statuses->Add(changed.status());
      }
      child.set_looked_after(
          std::any_of(statuses->begin(), statuses->end(), [](int status) {
            return status == v1::LEGAL_STATUS_CA1989_S20 ||
                   status == v1::LEGAL_STATUS_CA1989_S31 ||
                   status == v1::LEGAL_STATUS_CA1989_S38;
          }));
      break;
    }
    case v1::CaseEvent::kPreventReferralMade:
      *Episode(event_.prevent_referral_made().prevent_referral_id(), "", true)
           ->add_events() = recorded_;
      break;
    case v1::CaseEvent::kPoliceGatewayAssessed: {
      v1::PreventEpisode* episode = Episode(
          event_.police_gateway_assessed().prevent_referral_id(), "", true);
      *episode->add_events() = recorded_;
      switch (event_.police_gateway_assessed().outcome()) {
        case v1::GATEWAY_OUTCOME_NOT_SUITABLE:
          episode->set_stage(v1::CHANNEL_STAGE_GATEWAY_NOT_SUITABLE);
          *episode->mutable_closed_on() = ToDate(day_);
          break;
        case v1::GATEWAY_OUTCOME_POLICE_LED:
          episode->set_stage(v1::CHANNEL_STAGE_GATEWAY_POLICE_LED);
          break;
        default:
          break;
      }
      break;
    }
    case v1::CaseEvent::kChannelReferralReceived: {
      const auto& received = event_.channel_referral_received();
      v1::PreventEpisode* episode = Episode(received.prevent_referral_id(),
                                            received.channel_case_id(), true);
      episode->set_channel_case_id(received.channel_case_id());
      episode->set_stage(v1::CHANNEL_STAGE_CHANNEL_REFERRAL);
      *episode->add_events() = recorded_;
      break;
    }
    case v1::CaseEvent::kVulnerabilityAssessed:
    case v1::CaseEvent::kInterventionDelivered:
    case v1::CaseEvent::kChannelPanelHeld:
    case v1::CaseEvent::kChannelConsentRecorded:
    case v1::CaseEvent::kSupportPlanAgreed:
    case v1::CaseEvent::kChannelExited:
    case v1::CaseEvent::kChannelPostExitReview: {
      const google::protobuf::Message* payload = TypedPayload(event_);
      const std::string channel_case_id =
          FieldText(*payload, "channel_case_id").value_or("");
      // A Channel event that names no Channel case belongs to the open
      // episode, rather than starting one of its own.
      v1::PreventEpisode* episode =
          channel_case_id.empty() ? OpenEpisode() : nullptr;
      if (episode == nullptr) episode = Episode("", channel_case_id, true);
      *episode->add_events() = recorded_;
      if (event_.has_channel_panel_held()) {
        switch (event_.channel_panel_held().outcome()) {
          case v1::PANEL_DECISION_ADOPT:
            episode->set_stage(v1::CHANNEL_STAGE_ADOPTED);
            break;
          case v1::PANEL_DECISION_NOT_ADOPT:
            episode->set_stage(v1::CHANNEL_STAGE_PANEL_NOT_ADOPTED);
            *episode->mutable_closed_on() = ToDate(day_);
            break;
          case v1::PANEL_DECISION_ONWARD_REFERRAL:
            episode->set_stage(v1::CHANNEL_STAGE_PANEL_ONWARD_REFERRAL);
            *episode->mutable_closed_on() = ToDate(day_);
            break;
          default:
            break;
        }
      } else if (event_.has_channel_consent_recorded()) {
        const auto status = event_.channel_consent_recorded().status();
        if (status == v1::CONSENT_STATUS_REFUSED ||
            status == v1::CONSENT_STATUS_WITHDRAWN) {
          episode->set_stage(v1::CHANNEL_STAGE_CONSENT_REFUSED);
        }
      } else if (event_.has_support_plan_agreed()) {
        episode->set_stage(v1::CHANNEL_STAGE_SUPPORT);
      } else if (event_.has_channel_exited()) {
        episode->set_stage(v1::CHANNEL_STAGE_EXITED);
        *episode->mutable_closed_on() = ToDate(day_);
      }
      break;
    }
    case v1::CaseEvent::kAgencyInformationRequested:
    case v1::CaseEvent::kAgencyInformationReceived: {
      const bool s38 = event_.has_agency_information_requested()
                           ? event_.agency_information_requested().channel_s38()
                           : event_.agency_information_received().channel_s38();
      if (v1::PreventEpisode* episode = OpenEpisode(); s38 && episode) {
        *episode->add_events() = recorded_;
      }
      break;
    }
    case v1::CaseEvent::kVisitCompleted:
      for (const auto& seen : event_.visit_completed().children()) {
        v1::ChildState& child = Child(seen.child_id());
        if (seen.seen()) SetLater(child.mutable_last_seen(), day_);
        if (seen.seen_alone()) SetLater(child.mutable_last_seen_alone(), day_);
        if (seen.bedroom_seen()) {
          SetLater(child.mutable_last_bedroom_seen(), day_);
        }
        if (seen.seen() && !seen.seen_alone()) {
          // Rule 5: a manager records why the child was not seen alone.
          AddFlag(v1::PracticeFlag::KIND_CHILD_NOT_SEEN_ALONE, id,
                  seen.child_id(),
                  absl::StrCat(seen.child_id(),
                               " was seen but not alone, and no manager has "
                               "recorded why"));
          AddOutstanding("ChildNotSeenAloneAuthorised",
                         NotSeenAloneDescription(seen.child_id()));
        }
      }
      break;
    case v1::CaseEvent::kChildNotSeenAloneAuthorised: {
      const auto& authorised = event_.child_not_seen_alone_authorised();
      ClearFlags(v1::PracticeFlag::KIND_CHILD_NOT_SEEN_ALONE,
                 [&](const v1::PracticeFlag& f) {
                   return f.event_id() == authorised.visit_event_id() &&
                          f.child_id() == authorised.child_id();
                 });
      ClearOutstanding([&](const v1::OutstandingAuthorisation& item) {
        // The whole description: "child-1" must not clear "child-10".
        return item.event_id() == authorised.visit_event_id() &&
               item.needed() == "ChildNotSeenAloneAuthorised" &&
               item.description() ==
                   NotSeenAloneDescription(authorised.child_id());
      });
      break;
    }
    case v1::CaseEvent::kInterpreterDecision: {
      const auto& decision = event_.interpreter_decision();
      const bool approved =
          decision.interpreter_used() ||
          decision.decision().decided_by().authority_level() >=
              v1::AUTHORITY_LEVEL_TEAM_MANAGER;
      ClearFlags(v1::PracticeFlag::KIND_INTERPRETER_NOT_APPROVED,
                 [&](const v1::PracticeFlag& f) {
                   return f.child_id() == decision.person_id();
                 });
      if (!approved) {
        AddFlag(v1::PracticeFlag::KIND_INTERPRETER_NOT_APPROVED, id,
                decision.person_id(),
                absl::StrCat("no interpreter for ", decision.person_id(),
                             " without a Team Manager's approval"));
      }
      break;
    }
    case v1::CaseEvent::kConsentRecorded: {
      const auto& consent = event_.consent_recorded();
      v1::ConsentState* state = nullptr;
      for (v1::ConsentState& c : *state_.mutable_consents()) {
        if (c.purpose() == consent.purpose()) state = &c;
      }
      if (state == nullptr) state = state_.add_consents();
      *state = v1::ConsentState();
      state->set_purpose(consent.purpose());
      switch (consent.status()) {
        case v1::CONSENT_STATUS_GIVEN:
          state->set_status(v1::ConsentState::STATUS_VALID);
          break;
        case v1::CONSENT_STATUS_REFUSED:
          state->set_status(v1::ConsentState::STATUS_REFUSED);
          break;
        case v1::CONSENT_STATUS_WITHDRAWN:
          state->set_status(v1::ConsentState::STATUS_WITHDRAWN);
          break;
        default:
          break;
      }
      state->set_consent_id(consent.consent_id());
      state->set_giver_person_id(consent.giver_person_id());
      state->set_event_id(id);
      *state->mutable_date() = ToDate(day_);
      break;
    }
    case v1::CaseEvent::kConsentOverrideAuthorised: {
      const auto& override_ = event_.consent_override_authorised();
      v1::ConsentState* state = nullptr;
      for (v1::ConsentState& c : *state_.mutable_consents()) {
        if (c.purpose() == override_.purpose()) state = &c;
      }
      if (state == nullptr) {
        state = state_.add_consents();
        state->set_purpose(override_.purpose());
      }
      state->set_status(v1::ConsentState::STATUS_OVERRIDDEN);
      *state->mutable_overridden_by() = override_.decision().decided_by();
      state->set_override_reason(override_.significant_harm_reason());
      state->set_event_id(id);
      *state->mutable_date() = ToDate(day_);
      break;
    }
    case v1::CaseEvent::kRiskAnalysisRecorded:
      if (event_.risk_analysis_recorded().has_decision()) {
        ClearOutstanding([](const v1::OutstandingAuthorisation& item) {
          return item.needed() == "RiskAnalysisRecorded";
        });
      } else {
        AddOutstanding("RiskAnalysisRecorded",
                       "a manager to sign off the risk analysis");
      }
      break;
    case v1::CaseEvent::kRecordCorrected: {
      const auto& corrected = event_.record_corrected();
      Amend(v1::Amendment::KIND_CORRECTED, corrected.target_event_id(),
            corrected.field_path(), corrected.old_value(),
            corrected.new_value(), corrected.reason(),
            corrected.approved_by().id().empty()
                ? ""
                : DecisionMakerText(corrected.approved_by()));
      break;
    }
    case v1::CaseEvent::kRecordAnnotated:
      Amend(v1::Amendment::KIND_ANNOTATED,
            event_.record_annotated().target_event_id(),
            event_.record_annotated().field_path(), "", "",
            event_.record_annotated().annotation(), "");
      break;
    case v1::CaseEvent::kSubjectDisputeRecorded: {
      const auto& dispute = event_.subject_dispute_recorded();
      Amend(v1::Amendment::KIND_DISPUTED, dispute.target_event_id(),
            dispute.field_path(), "", "", dispute.statement(),
            dispute.disputed_by_name().empty() ? dispute.disputed_by_person_id()
                                               : dispute.disputed_by_name());
      break;
    }
    case v1::CaseEvent::kEntryRetracted:
      Amend(v1::Amendment::KIND_RETRACTED,
            event_.entry_retracted().target_event_id(), "", "", "",
            event_.entry_retracted().explanation(), "");
      break;
    case v1::CaseEvent::kCaseClosed:
      state_.set_closed(true);
      *state_.mutable_closed_on() = ToDate(day_);
      state_.clear_open_assessments();
      state_.clear_open_s47_enquiries();
      for (v1::ChildState& child : *state_.mutable_children()) {
        child.set_child_in_need_plan(false);
        child.set_child_protection_plan(false);
        child.clear_plan_categories();
      }
      for (v1::PreventEpisode& episode : *state_.mutable_prevent_episodes()) {
        if (!HasDate(episode.closed_on())) {
          *episode.mutable_closed_on() = ToDate(day_);
        }
      }
      // Casework not yet due when the case closed is no longer needed; a
      // deadline already missed stays missed. Reviews after a Channel exit, a
      // serious incident's rapid review and a subject access request outlive
      // the case.
      CloseOpenDeadlines(
          /*superseded=*/false, "the case was closed",
          [&](const v1::Deadline& d) {
            if (OutlivesTheCase(d)) return false;
            return !HasDate(d.due()) || FromDate(EffectiveDue(d)) >= day_;
          });
      break;
    case v1::CaseEvent::kRecordRestrictionChanged: {
      const auto& changed = event_.record_restriction_changed();
      if (changed.target_event_ids().empty()) {
        state_.set_restriction(changed.new_level());
        *state_.mutable_restriction_permitted_user_ids() =
            changed.permitted_user_ids();
        *state_.mutable_restriction_permitted_roles() =
            changed.permitted_roles();
      } else {
        RestrictEvents(changed);
      }
      break;
    }
    default:
      break;
  }
}

void Folder::Deadlines() {
  const google::protobuf::Message* payload = TypedPayload(event_);
  if (payload == nullptr || config_.rules == nullptr) return;
  MeetDeadlines(*payload);
  TriggerDeadlines(*payload);
  if (event_.has_conference_held()) {
    // No child on a plan: the core group and review timescales do not apply.
    const bool any_plan = std::any_of(
        state_.children().begin(), state_.children().end(),
        [](const v1::ChildState& c) { return c.child_protection_plan(); });
    if (!any_plan) {
      CloseOpenDeadlines(/*superseded=*/false,
                         "no child is subject to a child protection plan",
                         [&](const v1::Deadline& d) {
                           return d.trigger_event_id() == event_.event_id();
                         });
    }
  }
  if (event_.has_assessment_authorised()) {
    // The assessment is concluded: its checkpoint is no longer needed if not
    // yet due; one already missed stays missed.
    const std::string& id = event_.assessment_authorised().assessment_id();
    CloseOpenDeadlines(/*superseded=*/false, "the assessment was authorised",
                       [&](const v1::Deadline& d) {
                         return d.trigger_event_type() == "AssessmentStarted" &&
                                d.key() == id && HasDate(d.due()) &&
                                FromDate(EffectiveDue(d)) >= day_;
                       });
  }
  if (event_.has_visit_completed()) {
    for (const v1::Deadline& d : state_.deadlines()) {
      if (d.trigger_event_id() == event_.event_id() && HasDate(d.met_on()) &&
          HasDate(d.due()) && FromDate(d.met_on()) > FromDate(d.due())) {
        AddFlag(
            v1::PracticeFlag::KIND_VISIT_RECORDED_LATE, event_.event_id(), "",
            absl::StrCat("visit on ", absl::FormatCivilTime(day_),
                         " recorded on ", absl::FormatCivilTime(recorded_day_),
                         ", after ", absl::FormatCivilTime(FromDate(d.due()))));
      }
    }
  }
}

void Folder::MeetDeadlines(const google::protobuf::Message& payload) {
  for (v1::Deadline& deadline : *state_.mutable_deadlines()) {
    if (!deadline.met_by_event_id().empty() || deadline.superseded() ||
        deadline.not_applicable() ||
        deadline.trigger_event_id() == event_.event_id()) {
      continue;
    }
    auto rule =
        config_.rules->Find(deadline.rule_id(), deadline.jurisdiction());
    if (!rule.ok()) continue;
    const v1::TimescaleRule& r = **rule;
    if (r.met_by_event() != event_.event_type() ||
        !ConditionHolds(payload, r.met_when())) {
      continue;
    }
    if (!r.key_field().empty() &&
        FieldText(payload, r.key_field()).value_or("") != deadline.key()) {
      continue;
    }
    deadline.set_met_by_event_id(event_.event_id());
    *deadline.mutable_met_on() =
        ToDate(r.met_on_recorded() ? recorded_day_ : day_);
  }
}

void Folder::TriggerDeadlines(const google::protobuf::Message& payload) {
  for (const v1::TimescaleRule* rule :
       config_.rules->TriggeredBy(event_.event_type(), state_.jurisdiction())) {
    if (!ConditionHolds(payload, rule->trigger_when())) continue;
    const std::string key =
        rule->key_field().empty()
            ? ""
            : FieldText(payload, rule->key_field()).value_or("");
    const absl::CivilDay trigger_day =
        rule->trigger_date_field().empty()
            ? day_
            : FieldDay(payload, rule->trigger_date_field(), config_.zone)
                  .value_or(day_);
    // A later trigger of the same rule replaces an open deadline (e.g. the
    // ICPC runs from the last strategy discussion).
    CloseOpenDeadlines(
        /*superseded=*/true,
        absl::StrCat("replaced by a later ", event_.event_type()),
        [&](const v1::Deadline& d) {
          return d.rule_id() == rule->id() && d.key() == key;
        });
    v1::Deadline& deadline = *state_.add_deadlines();
    deadline.set_rule_id(rule->id());
    deadline.set_rule_version(rule->version());
    deadline.set_rule_set(config_.rules->set().name());
    deadline.set_rule_set_version(config_.rules->set().version());
    deadline.set_jurisdiction(state_.jurisdiction());
    deadline.set_key(key);
    deadline.set_trigger_event_id(event_.event_id());
    deadline.set_trigger_event_type(event_.event_type());
    *deadline.mutable_trigger_date() = ToDate(trigger_day);
    absl::StatusOr<Deadline> due =
        config_.rules->Due(*rule, trigger_day, *config_.calendar);
    if (due.ok()) {
      *deadline.mutable_due() = ToDate(due->due);
    } else {
      deadline.set_error(std::string(due.status().message()));
    }
    // An event meets the deadline it starts only when the clock runs from
    // another time than its own occurrence (an earlier date in its payload,
    // or its recording). Otherwise, e.g. a review conference starting the
    // next review's clock, the next event of the type meets it.
    if (rule->met_by_event() == event_.event_type() &&
        ConditionHolds(payload, rule->met_when()) &&
        (rule->met_on_recorded() || !rule->trigger_date_field().empty())) {
      deadline.set_met_by_event_id(event_.event_id());
      *deadline.mutable_met_on() =
          ToDate(rule->met_on_recorded() ? recorded_day_ : day_);
    }
  }
}

// The stage, the legal basis lines: derived from the rest of the state after
// every event.
void Folder::RestrictEvents(const v1::RecordRestrictionChanged& changed) {
  const bool lifted = changed.new_level() != v1::RESTRICTION_LEVEL_RESTRICTED &&
                      changed.new_level() != v1::RESTRICTION_LEVEL_SEALED;
  auto* restrictions = state_.mutable_event_restrictions();
  for (const std::string& event_id : changed.target_event_ids()) {
    auto it = std::find_if(restrictions->begin(), restrictions->end(),
                           [&](const v1::EventRestriction& r) {
                             return r.event_id() == event_id;
                           });
    if (lifted) {
      if (it != restrictions->end()) restrictions->erase(it);
      continue;
    }
    v1::EventRestriction* r =
        it != restrictions->end() ? &*it : restrictions->Add();
    r->set_event_id(event_id);
    r->set_level(changed.new_level());
    *r->mutable_permitted_user_ids() = changed.permitted_user_ids();
    *r->mutable_permitted_roles() = changed.permitted_roles();
  }
}

void Folder::Derive() {
  bool looked_after = false, cp = false, cin = false;
  state_.clear_legal_basis();
  for (const v1::ChildState& child : state_.children()) {
    const std::string& who = child.child_id();
    if (child.child_protection_plan()) {
      cp = true;
      std::vector<std::string> categories;
      for (int c : child.plan_categories()) {
        categories.push_back(EnumWords(v1::AbuseCategory_descriptor(), c));
      }
      state_.add_legal_basis(absl::StrCat(
          who, ": child protection plan",
          categories.empty()
              ? ""
              : absl::StrCat(" (", absl::StrJoin(categories, ", "), ")"),
          child.registered() ? ", on the child protection register" : ""));
    }
    if (child.child_in_need_plan()) {
      cin = true;
      state_.add_legal_basis(
          absl::StrCat(who, ": child in need plan (Children Act 1989 s17)"));
    }
    for (int status : child.legal_statuses()) {
      state_.add_legal_basis(absl::StrCat(
          who, ": ",
          EnumName(v1::LegalStatus_descriptor(), status, /*strip=*/true)));
    }
    looked_after = looked_after || child.looked_after();
  }
  for (const std::string& enquiry : state_.open_s47_enquiries()) {
    state_.add_legal_basis(
        absl::StrCat("Children Act 1989 s47 enquiry ", enquiry, " open"));
  }
  const bool channel = std::any_of(
      state_.prevent_episodes().begin(), state_.prevent_episodes().end(),
      [](const v1::PreventEpisode& e) { return !HasDate(e.closed_on()); });
  v1::CaseStage stage = v1::CASE_STAGE_CONTACT;
  if (state_.closed()) {
    stage = v1::CASE_STAGE_CLOSED;
  } else if (looked_after) {
    stage = v1::CASE_STAGE_LOOKED_AFTER;
  } else if (cp) {
    stage = v1::CASE_STAGE_CHILD_PROTECTION;
  } else if (!state_.open_s47_enquiries().empty()) {
    stage = v1::CASE_STAGE_S47_ENQUIRY;
  } else if (cin) {
    stage = v1::CASE_STAGE_CHILD_IN_NEED;
  } else if (!state_.open_assessments().empty()) {
    stage = v1::CASE_STAGE_ASSESSMENT;
  } else if (channel) {
    stage = v1::CASE_STAGE_CHANNEL;
  } else if (!model_.referral_dates().empty() &&
             (!HasDate(state_.closed_on()) ||
              FromDate(*model_.referral_dates().rbegin()) >=
                  FromDate(state_.closed_on()))) {
    // A referral since the case last closed: a case reopened by a contact is
    // at the contact stage until that contact is decided.
    stage = v1::CASE_STAGE_REFERRAL;
  }
  state_.set_stage(stage);
}

void Folder::MakeEntry(v1::ChronologyEntry* entry) const {
  entry->Clear();
  entry->set_case_id(state_.case_id());
  entry->set_event_id(event_.event_id());
  entry->set_position(recorded_.position());
  entry->set_event_type(event_.event_type());
  *entry->mutable_occurred_at() = event_.occurred_at();
  *entry->mutable_occurred_date() = ToDate(day_);
  *entry->mutable_child_ids() = event_.child_ids();
  Headline headline = MakeHeadline(event_);
  entry->set_headline(std::move(headline.headline));
  entry->set_action(std::move(headline.action));
  *entry->mutable_source() = event_.source();
  entry->set_agency(event_.recorded_by().agency());
  *entry->mutable_significance() = event_.significance();
  if (const v1::Decision* decision = DecisionOf(event_)) {
    v1::DecisionMarker& marker = *entry->mutable_decision();
    *marker.mutable_decided_by() = decision->decided_by();
    marker.set_rationale(decision->rationale());
    marker.set_information_basis_position(BasisPosition(*decision, recorded_));
    *marker.mutable_information_basis_event_ids() =
        decision->information_basis().event_ids();
  }
  *entry->mutable_recorded_by() = event_.recorded_by();
  *entry->mutable_recorded_at() = recorded_.recorded_at();
  entry->set_restriction(event_.restriction());
  const auto precision = event_.occurred_at().precision();
  if ((precision == v1::TIME_PRECISION_EXACT ||
       precision == v1::TIME_PRECISION_DAY) &&
      config_.calendar != nullptr) {
    absl::StatusOr<int64_t> days =
        config_.calendar->WorkingDaysBetween(day_, recorded_day_);
    if (days.ok()) {
      entry->set_working_days_to_record(static_cast<int32_t>(*days));
      entry->set_late_recording(*days > kLateRecordingWorkingDays);
    }
  }
}

void AppendU64(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

}  // namespace

const FoldConfig& FoldConfig::Default() {
  static const FoldConfig* config = [] {
    auto* c = new FoldConfig;
    c->calendar = &WorkingDayCalendar::Default();
    c->rules = &TimescaleRules::Default();
    if (!absl::LoadTimeZone("Europe/London", &c->zone)) {
      c->zone = absl::UTCTimeZone();
    }
    return c;
  }();
  return *config;
}

std::string FoldConfig::Fingerprint() const {
  std::string input(kFoldVersion);
  absl::StrAppend(&input, "\nzone=", zone.name(), "\n");
  if (rules != nullptr) {
    std::string bytes;
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    rules->set().SerializeToCodedStream(&coded);
    coded.Trim();
    absl::StrAppend(&input, "rules=", rules->set().name(), "/",
                    rules->set().version(), "\n", bytes, "\n");
  }
  if (calendar != nullptr) {
    absl::StrAppend(&input, "calendar=", calendar->first_year().year(), "-",
                    calendar->last_year().year(), "\n");
    for (absl::CivilDay day(calendar->first_year().year(), 1, 1);
         day.year() <= calendar->last_year().year(); ++day) {
      if (auto holiday = calendar->BankHoliday(day);
          holiday.ok() && holiday->has_value()) {
        absl::StrAppend(&input, absl::FormatCivilTime(day), "\n");
      }
    }
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(),
             nullptr);
  std::string hex;
  for (unsigned int i = 0; i < 8; ++i) {
    absl::StrAppend(&hex, absl::Hex(digest[i], absl::kZeroPad2));
  }
  return absl::StrCat(kFoldVersion, "/", rules ? rules->set().name() : "", "-v",
                      rules ? rules->set().version() : 0, "/", hex);
}

absl::CivilDay LocalDay(const FoldConfig& config, absl::Time time) {
  return absl::ToCivilDay(time, config.zone);
}

CaseFold::CaseFold(const FoldConfig& config, std::string case_id,
                   EventPositions positions)
    : config_(config), positions_(std::move(positions)) {
  owned_.mutable_state()->set_case_id(std::move(case_id));
}

CaseFold::CaseFold(const FoldConfig& config, casetrail::v1::CaseModel model,
                   EventPositions positions)
    : config_(config),
      owned_(std::move(model)),
      positions_(std::move(positions)) {}

CaseFold::CaseFold(const FoldConfig& config, casetrail::v1::CaseModel* model,
                   EventPositions positions)
    : config_(config), model_(model), positions_(std::move(positions)) {}

std::optional<uint64_t> CaseFold::PositionOf(const std::string& event_id) {
  if (positions_ == nullptr) {
    auto it = applied_.find(event_id);
    if (it == applied_.end()) return std::nullopt;
    return it->second;
  }
  absl::StatusOr<std::optional<uint64_t>> position = positions_(event_id);
  if (!position.ok()) {
    if (status_.ok()) status_ = position.status();
    return std::nullopt;
  }
  return *position;
}

bool CaseFold::Apply(const casetrail::v1::RecordedEvent& event,
                     casetrail::v1::ChronologyEntry* entry) {
  const bool made_entry =
      Folder(config_, *model_, event, [this](const std::string& id) {
        return PositionOf(id);
      }).Run(entry);
  if (positions_ == nullptr) {
    applied_.emplace(event.event().event_id(), event.position());
  }
  return made_entry;
}

std::string ChronologyKey(const casetrail::v1::ChronologyEntry& entry) {
  std::string key;
  key.reserve(16);
  const int64_t seconds = entry.occurred_at().time().seconds();
  AppendU64(&key, static_cast<uint64_t>(seconds) ^ (uint64_t{1} << 63));
  AppendU64(&key, entry.position());
  return key;
}

}  // namespace casetrail::projections
