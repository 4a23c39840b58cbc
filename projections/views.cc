#include "projections/views.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "casetrail/v1/case_events.pb.h"
#include "projections/dates.h"

namespace casetrail::projections {
namespace {

namespace v1 = ::casetrail::v1;

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list,
              const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Age in whole years and months on `day`; unknown before birth.
v1::ChildAge AgeOn(const std::string& child_id, const v1::CivilDate& born,
                   const v1::CivilDate& on) {
  v1::ChildAge age;
  age.set_child_id(child_id);
  if (!HasDate(born) || !HasDate(on)) return age;
  int years = on.year() - born.year();
  int months = on.month() - born.month();
  if (on.day() < born.day()) --months;
  if (months < 0) {
    --years;
    months += 12;
  }
  if (years < 0) return age;
  age.set_known(true);
  age.set_years(years);
  age.set_months(months);
  return age;
}

const v1::ChildState* FindChild(const v1::CaseState& state,
                                const std::string& child_id) {
  for (const v1::ChildState& child : state.children()) {
    if (child.child_id() == child_id) return &child;
  }
  return nullptr;
}

}  // namespace

namespace {

// Filters, decorates and sorts the entries of `cases`; `take` gives each kept
// entry (copied or moved) to the output.
template <typename Snapshot, typename Take>
std::vector<v1::ChronologyEntry> Chronology(const std::vector<Snapshot*>& cases,
                                            const ChronologyFilter& filter,
                                            Take take) {
  std::vector<v1::ChronologyEntry> out;
  for (Snapshot* snapshot : cases) {
    const v1::CaseState& state = snapshot->model.state();
    absl::flat_hash_map<absl::string_view, std::vector<const v1::Amendment*>>
        amendments;
    for (const v1::Amendment& amendment : snapshot->model.amendments()) {
      amendments[amendment.target_event_id()].push_back(&amendment);
    }
    for (auto& entry : snapshot->entries) {
      if (!filter.child_id.empty() && !entry.child_ids().empty() &&
          !Contains(entry.child_ids(), filter.child_id)) {
        continue;
      }
      if (!filter.agency.empty() && entry.agency() != filter.agency) continue;
      if (filter.significant_only && !entry.significance().significant()) {
        continue;
      }
      v1::ChronologyEntry& shown = out.emplace_back(take(entry));
      if (auto it = amendments.find(shown.event_id()); it != amendments.end()) {
        for (const v1::Amendment* amendment : it->second) {
          *shown.add_amendments() = *amendment;
          if (amendment->kind() == v1::Amendment::KIND_RETRACTED) {
            shown.set_retracted(true);
          }
        }
      }
      for (const std::string& child_id : shown.child_ids()) {
        const v1::ChildState* child = FindChild(state, child_id);
        *shown.add_child_ages() =
            AgeOn(child_id, child ? child->date_of_birth() : v1::CivilDate(),
                  shown.occurred_date());
      }
    }
  }
  // The order of ChronologyKey (occurred second, then log position), so a
  // case's stored entries are already in it.
  std::sort(out.begin(), out.end(),
            [](const v1::ChronologyEntry& a, const v1::ChronologyEntry& b) {
              const int64_t sa = a.occurred_at().time().seconds();
              const int64_t sb = b.occurred_at().time().seconds();
              if (sa != sb) return sa < sb;
              if (a.position() != b.position()) {
                return a.position() < b.position();
              }
              return a.case_id() < b.case_id();
            });
  uint32_t sequence = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const v1::CivilDate& day = out[i].occurred_date();
    const bool same_day = i > 0 &&
                          day.year() == out[i - 1].occurred_date().year() &&
                          day.month() == out[i - 1].occurred_date().month() &&
                          day.day() == out[i - 1].occurred_date().day();
    sequence = same_day ? sequence + 1 : 1;
    out[i].set_same_day_sequence(sequence);
  }
  return out;
}

}  // namespace

std::vector<v1::ChronologyEntry> BuildChronology(
    const std::vector<const CaseSnapshot*>& cases,
    const ChronologyFilter& filter) {
  return Chronology(
      cases, filter,
      [](const v1::ChronologyEntry& e) -> const v1::ChronologyEntry& {
        return e;
      });
}

std::vector<v1::ChronologyEntry> TakeChronology(
    std::vector<CaseSnapshot>& cases, const ChronologyFilter& filter) {
  std::vector<CaseSnapshot*> pointers;
  for (CaseSnapshot& c : cases) pointers.push_back(&c);
  return Chronology(pointers, filter,
                    [](v1::ChronologyEntry& e) { return std::move(e); });
}

void DescribeDeadlines(const TimescaleRules& rules, v1::CaseState* state) {
  for (v1::Deadline& d : *state->mutable_deadlines()) {
    auto rule = rules.Find(d.rule_id(), d.jurisdiction());
    if (rule.ok()) d.set_description((*rule)->description());
  }
}

void EvaluateDeadlines(const WorkingDayCalendar& calendar, absl::CivilDay day,
                       v1::CaseState* state) {
  for (v1::Deadline& d : *state->mutable_deadlines()) {
    *d.mutable_evaluated_on() = ToDate(day);
    d.set_status(v1::DEADLINE_STATUS_UNSPECIFIED);
    d.set_working_days_late(0);
    if (!d.error().empty() || !HasDate(d.due())) continue;
    if (HasDate(d.trigger_date()) && FromDate(d.trigger_date()) > day) {
      d.set_status(v1::DEADLINE_STATUS_NOT_YET_STARTED);
      continue;
    }
    const absl::CivilDay due = FromDate(d.due());
    const bool met = HasDate(d.met_on()) && FromDate(d.met_on()) <= day;
    const bool extended = HasDate(d.extended_to()) &&
                          HasDate(d.extension_approved_on()) &&
                          FromDate(d.extension_approved_on()) <= day;
    const bool reason = !d.late_reason().empty() &&
                        HasDate(d.late_reason_recorded_on()) &&
                        FromDate(d.late_reason_recorded_on()) <= day;
    auto late_by = [&](absl::CivilDay until) {
      absl::StatusOr<int64_t> days = calendar.WorkingDaysBetween(due, until);
      d.set_working_days_late(days.ok() ? static_cast<int32_t>(*days) : 0);
    };
    if (met) {
      const absl::CivilDay met_on = FromDate(d.met_on());
      late_by(met_on);
      if (met_on <= due) {
        d.set_status(v1::DEADLINE_STATUS_MET);
      } else if (extended && met_on <= FromDate(d.extended_to())) {
        // An extension granted before the deadline passed keeps the work in
        // time; one granted afterwards is a recorded reason for lateness.
        d.set_status(FromDate(d.extension_approved_on()) <= due
                         ? v1::DEADLINE_STATUS_WITHIN_AUTHORISED_EXTENSION
                         : v1::DEADLINE_STATUS_MET_LATE_WITH_REASON);
      } else if (reason) {
        d.set_status(v1::DEADLINE_STATUS_MET_LATE_WITH_REASON);
      } else {
        d.set_status(v1::DEADLINE_STATUS_MET_LATE);
      }
      continue;
    }
    const bool closed = (d.superseded() || d.not_applicable()) &&
                        HasDate(d.closed_on()) &&
                        FromDate(d.closed_on()) <= day;
    if (closed) {
      d.set_status(d.superseded() ? v1::DEADLINE_STATUS_SUPERSEDED
                                  : v1::DEADLINE_STATUS_NOT_APPLICABLE);
      continue;
    }
    late_by(day);
    if (day < due) {
      d.set_status(v1::DEADLINE_STATUS_PENDING);
    } else if (day == due) {
      d.set_status(v1::DEADLINE_STATUS_DUE_TODAY);
    } else if (extended && day <= FromDate(d.extended_to())) {
      d.set_status(v1::DEADLINE_STATUS_WITHIN_AUTHORISED_EXTENSION);
    } else {
      d.set_status(v1::DEADLINE_STATUS_OVERDUE);
    }
  }
}

namespace {

// Whether an episode concerns `person_id`: one of its events names them, or
// none names anyone and the case's children include them.
bool EpisodeConcerns(const v1::PreventEpisode& episode,
                     const v1::CaseState& state, const std::string& person_id) {
  bool any_named = false;
  for (const v1::RecordedEvent& event : episode.events()) {
    if (Contains(event.event().child_ids(), person_id)) return true;
    any_named = any_named || !event.event().child_ids().empty();
  }
  return !any_named && FindChild(state, person_id) != nullptr;
}

}  // namespace

absl::StatusOr<v1::ChannelPanelPack> BuildChannelPanelPack(
    const FoldConfig& config, const std::string& person_id,
    const std::vector<const CaseSnapshot*>& cases, absl::CivilDay pack_date) {
  struct Found {
    const v1::PreventEpisode* episode;
    const CaseSnapshot* snapshot;
  };
  std::vector<Found> episodes;
  for (const CaseSnapshot* snapshot : cases) {
    for (const v1::PreventEpisode& episode :
         snapshot->model.state().prevent_episodes()) {
      if (EpisodeConcerns(episode, snapshot->model.state(), person_id)) {
        episodes.push_back({&episode, snapshot});
      }
    }
  }
  if (episodes.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no Prevent referral or Channel case is recorded for ", person_id));
  }
  auto first_position = [](const Found& f) {
    return f.episode->events().empty() ? 0 : f.episode->events(0).position();
  };
  std::sort(episodes.begin(), episodes.end(),
            [&](const Found& a, const Found& b) {
              return first_position(a) < first_position(b);
            });
  const Found& current = episodes.back();
  v1::ChannelPanelPack pack;
  *pack.mutable_current_episode() = *current.episode;
  for (size_t i = 0; i + 1 < episodes.size(); ++i) {
    *pack.add_prior_episodes() = *episodes[i].episode;
  }
  pack.set_repeat_referral(episodes.size() > 1);

  // 1: cover, from the latest panel of the current episode.
  v1::ChannelPanelPack::Cover& cover = *pack.mutable_cover();
  cover.set_case_reference(current.episode->channel_case_id().empty()
                               ? current.episode->prevent_referral_id()
                               : current.episode->channel_case_id());
  *cover.mutable_pack_date() = ToDate(pack_date);
  bool s38 = false;
  for (const v1::RecordedEvent& recorded : current.episode->events()) {
    const v1::CaseEvent& e = recorded.event();
    // The pack is as restricted as the most restricted record in it.
    cover.set_restriction(std::max(cover.restriction(), e.restriction()));
    switch (e.payload_case()) {
      case v1::CaseEvent::kChannelPanelHeld: {
        *cover.mutable_chair() = e.channel_panel_held().chair();
        *cover.mutable_attendees() = e.channel_panel_held().attendees();
        *pack.add_decisions() = recorded;
        break;
      }
      case v1::CaseEvent::kPreventReferralMade:
      case v1::CaseEvent::kChannelReferralReceived:
        *pack.add_referrals() = recorded;
        break;
      case v1::CaseEvent::kPoliceGatewayAssessed:
        *pack.add_referrals() = recorded;
        *pack.add_decisions() = recorded;
        break;
      case v1::CaseEvent::kAgencyInformationRequested:
      case v1::CaseEvent::kAgencyInformationReceived:
        s38 = true;
        *pack.add_agency_returns() = recorded;
        break;
      case v1::CaseEvent::kVulnerabilityAssessed:
        *pack.add_vulnerability_assessments() = recorded;
        break;
      case v1::CaseEvent::kChannelConsentRecorded:
        *pack.add_consent() = recorded;
        break;
      case v1::CaseEvent::kSupportPlanAgreed:
      case v1::CaseEvent::kInterventionDelivered:
        *pack.add_support_plans() = recorded;
        break;
      case v1::CaseEvent::kChannelExited:
        *pack.add_exit() = recorded;
        *pack.add_decisions() = recorded;
        break;
      case v1::CaseEvent::kChannelPostExitReview:
        *pack.add_exit() = recorded;
        *pack.add_decisions() = recorded;
        break;
      default:
        break;
    }
  }
  cover.set_information_sharing_basis(
      s38 ? "Counter-Terrorism and Security Act 2015 s38 (partners' "
            "co-operation with the panel)"
          : "no s38 requests recorded");
  for (const v1::Participant& attendee : cover.attendees()) {
    if (!attendee.agency().empty() &&
        !Contains(cover.distribution(), attendee.agency())) {
      cover.add_distribution(attendee.agency());
    }
  }

  // 2: the individual, and 6: the children's social care context, from every
  // case they appear in.
  v1::ChannelPanelPack::Individual& individual = *pack.mutable_individual();
  individual.set_person_id(person_id);
  std::vector<const CaseSnapshot*> theirs;
  for (const CaseSnapshot* snapshot : cases) {
    const v1::CaseState& state = snapshot->model.state();
    const v1::ChildState* child = FindChild(state, person_id);
    if (child == nullptr) continue;
    theirs.push_back(snapshot);
    pack.add_case_ids(state.case_id());
    cover.set_restriction(std::max(cover.restriction(), state.restriction()));
    if (!child->name().empty()) individual.set_name(child->name());
    if (HasDate(child->date_of_birth())) {
      *individual.mutable_date_of_birth() = child->date_of_birth();
    }
    for (const v1::HouseholdMember& member : state.household()) {
      if (member.person_id() == person_id) {
        individual.set_language(member.language());
        individual.set_communication_needs(member.communication_needs());
        continue;
      }
      *individual.add_household() = member;
      if (member.parental_responsibility()) {
        *individual.add_parental_responsibility() = member;
      }
    }
    const std::string stage =
        state.stage() == v1::CASE_STAGE_UNSPECIFIED
            ? std::string("UNKNOWN")
            : v1::CaseStage_Name(state.stage()).substr(strlen("CASE_STAGE_"));
    individual.add_current_status(absl::StrCat(
        state.case_id(), ": ", stage,
        state.legal_basis().empty()
            ? ""
            : absl::StrCat("; ", absl::StrJoin(state.legal_basis(), "; "))));
    int open_flags = 0;
    for (const v1::PracticeFlag& flag : state.flags()) {
      if (!flag.cleared()) ++open_flags;
    }
    pack.add_safeguarding_context(absl::StrCat(
        state.case_id(), ": stage ", stage, "; open assessments ",
        state.open_assessments_size(), "; open s47 enquiries ",
        state.open_s47_enquiries_size(), "; outstanding authorisations ",
        state.outstanding_authorisations_size(), "; open practice flags ",
        open_flags));
  }
  *individual.mutable_age() =
      AgeOn(person_id, individual.date_of_birth(), ToDate(pack_date));

  // 10: the significant multi-agency chronology of their cases.
  ChronologyFilter filter;
  filter.child_id = person_id;
  filter.significant_only = true;
  for (v1::ChronologyEntry& entry : BuildChronology(theirs, filter)) {
    *pack.add_chronology_extract() = std::move(entry);
  }

  // 12: the post-exit review schedule of every episode of theirs (an earlier
  // exit's reviews may still be due), evaluated on the pack's date.
  v1::CaseState reviews;
  for (const Found& found : episodes) {
    for (const v1::Deadline& d : found.snapshot->model.state().deadlines()) {
      if (d.trigger_event_type() == "ChannelExited" &&
          !found.episode->channel_case_id().empty() &&
          d.key() == found.episode->channel_case_id()) {
        *reviews.add_deadlines() = d;
      }
    }
  }
  if (config.calendar != nullptr) {
    EvaluateDeadlines(*config.calendar, pack_date, &reviews);
  }
  if (config.rules != nullptr) DescribeDeadlines(*config.rules, &reviews);
  *pack.mutable_review_schedule() = reviews.deadlines();
  return pack;
}

}  // namespace casetrail::projections
