#include "services/case_history_rules.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "projections/case_fold.h"
#include "projections/dates.h"

namespace casetrail::services {
namespace {

using casetrail::v1::CaseEvent;

// The event a correction-like payload targets, and the payload's field name;
// empty if the event is not one.
std::pair<std::string, std::string> Target(const CaseEvent& e) {
  switch (e.payload_case()) {
    case CaseEvent::kRecordCorrected:
      return {e.record_corrected().target_event_id(), "record_corrected"};
    case CaseEvent::kRecordAnnotated:
      return {e.record_annotated().target_event_id(), "record_annotated"};
    case CaseEvent::kSubjectDisputeRecorded:
      return {e.subject_dispute_recorded().target_event_id(),
              "subject_dispute_recorded"};
    case CaseEvent::kEntryRetracted:
      return {e.entry_retracted().target_event_id(), "entry_retracted"};
    default:
      return {};
  }
}

// What the case says so far, folded event by event.
class CaseFacts {
 public:
  void Add(const CaseEvent& e) {
    event_ids_[e.event_id()] = true;
    if (e.payload_case() == CaseEvent::kHouseholdMemberRecorded) {
      const auto& member = e.household_member_recorded();
      if (member.has_date_of_birth()) {
        born_[member.person_id()] = member.date_of_birth();
      }
    }
    if (e.payload_case() == CaseEvent::kChannelConsentRecorded) {
      const auto& consent = e.channel_consent_recorded();
      Consent& latest = latest_consent_[consent.channel_case_id()];
      latest = {e.event_id(), consent.status(), consent.giver(), "", {}};
      // The individual is the child the consent event concerns.
      if (!e.child_ids().empty()) latest.individual = e.child_ids(0);
      // The day is the local day (Europe/London) the fold gives the event,
      // so that an age here agrees with the case read back.
      latest.on =
          projections::LocalDay(projections::FoldConfig::Default(),
                                projections::ToTime(e.occurred_at().time()));
      consent_events_[e.event_id()] = consent.channel_case_id();
    }
  }
  bool HasEvent(const std::string& id) const { return event_ids_.contains(id); }

  // Why Channel support for `plan` may not be agreed; empty if it may.
  std::string ConsentProblem(
      const casetrail::v1::SupportPlanAgreed& plan) const {
    if (!plan.consent_event_id().empty()) {
      auto named = consent_events_.find(plan.consent_event_id());
      if (named == consent_events_.end()) {
        return absl::StrCat("consent event ", plan.consent_event_id(),
                            " is not a ChannelConsentRecorded of this case");
      }
      if (named->second != plan.channel_case_id()) {
        return absl::StrCat("consent event ", plan.consent_event_id(),
                            " is for Channel case ", named->second, ", not ",
                            plan.channel_case_id());
      }
    }
    auto latest = latest_consent_.find(plan.channel_case_id());
    if (latest == latest_consent_.end()) {
      return absl::StrCat("no consent is recorded for Channel case ",
                          plan.channel_case_id());
    }
    const Consent& consent = latest->second;
    if (consent.status != casetrail::v1::CONSENT_STATUS_GIVEN) {
      return absl::StrCat("the latest consent recorded for Channel case ",
                          plan.channel_case_id(), " (event ", consent.event_id,
                          ") is ",
                          casetrail::v1::ConsentStatus_Name(consent.status));
    }
    // Under 18, consent is a parent's or guardian's (s36(4)(b)). Decidable
    // only when the case records the individual's date of birth.
    auto born = born_.find(consent.individual);
    if (consent.giver == casetrail::v1::CHANNEL_CONSENT_GIVER_INDIVIDUAL &&
        born != born_.end()) {
      const int age = AgeOn(born->second, consent.on);
      if (age < 18) {
        return absl::StrCat("consent (event ", consent.event_id,
                            ") was given by the individual, who was ", age,
                            " then; under 18 a parent or guardian consents");
      }
    }
    return "";
  }

 private:
  struct Consent {
    std::string event_id;
    casetrail::v1::ConsentStatus status;
    casetrail::v1::ChannelConsentGiver giver;
    std::string individual;
    absl::CivilDay on;
  };

  static int AgeOn(const casetrail::v1::CivilDate& born, absl::CivilDay day) {
    int age = static_cast<int>(day.year()) - born.year();
    if (day.month() < born.month() ||
        (day.month() == born.month() && day.day() < born.day())) {
      --age;
    }
    return age;
  }

  absl::flat_hash_map<std::string, casetrail::v1::CivilDate> born_;
  absl::flat_hash_map<std::string, bool> event_ids_;
  absl::flat_hash_map<std::string, Consent> latest_consent_;
  absl::flat_hash_map<std::string, std::string> consent_events_;
};

}  // namespace

bool NeedsHistory(const casetrail::v1::AppendEventsRequest& request) {
  for (const CaseEvent& e : request.events()) {
    if (!Target(e).second.empty() ||
        e.payload_case() == CaseEvent::kSupportPlanAgreed) {
      return true;
    }
  }
  return false;
}

std::vector<FieldViolation> CheckAgainstHistory(
    const casetrail::v1::AppendEventsRequest& request,
    const std::vector<casetrail::v1::RecordedEvent>& history) {
  CaseFacts facts;
  for (const auto& recorded : history) facts.Add(recorded.event());
  std::vector<FieldViolation> violations;
  for (int i = 0; i < request.events_size(); ++i) {
    const CaseEvent& e = request.events(i);
    const auto [target, payload] = Target(e);
    if (!payload.empty() && !facts.HasEvent(target)) {
      violations.push_back(
          {absl::StrCat("events[", i, "].", payload, ".target_event_id"),
           absl::StrCat(
               "corrections [CHR]: ", target.empty() ? "(empty)" : target,
               " is not an event of case ", request.stream_id(),
               "; the original must be in the same case")});
    }
    if (e.payload_case() == CaseEvent::kSupportPlanAgreed) {
      const std::string problem = facts.ConsentProblem(e.support_plan_agreed());
      if (!problem.empty()) {
        violations.push_back(
            {absl::StrCat("events[", i, "].support_plan_agreed"),
             absl::StrCat("rule 16 [CTSA36][WEST]: Channel support needs "
                          "consent recorded and not since withdrawn or "
                          "refused: ",
                          problem)});
      }
    }
    facts.Add(e);
  }
  return violations;
}

}  // namespace casetrail::services
