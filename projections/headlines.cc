#include "projections/headlines.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "casetrail/v1/case_events.pb.h"
#include "google/protobuf/descriptor.h"
#include "projections/payload_fields.h"

namespace casetrail::projections {
namespace {

namespace v1 = ::casetrail::v1;

#define WORDS(Type, value) EnumWords(v1::Type##_descriptor(), value)

std::string Who(const v1::DecisionMaker& who) {
  std::string text = who.name().empty() ? who.id() : who.name();
  if (!who.role().empty()) absl::StrAppend(&text, ", ", who.role());
  return text;
}

std::string Who(const v1::Participant& who) {
  std::string text = who.name().empty() ? who.id() : who.name();
  if (!who.role().empty()) absl::StrAppend(&text, ", ", who.role());
  if (!who.agency().empty()) absl::StrAppend(&text, " (", who.agency(), ")");
  return text;
}

std::string Date(const v1::CivilDate& date) {
  if (date.year() == 0) return "no date";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

std::string Agencies(
    const google::protobuf::RepeatedPtrField<v1::Participant>& people) {
  std::vector<std::string> agencies;
  for (const auto& p : people) {
    if (!p.agency().empty() && std::find(agencies.begin(), agencies.end(),
                                         p.agency()) == agencies.end()) {
      agencies.push_back(p.agency());
    }
  }
  return absl::StrJoin(agencies, ", ");
}

// Cuts free text to a headline's length at a word boundary.
std::string Brief(absl::string_view text, size_t max = 160) {
  if (text.size() <= max) return std::string(text);
  size_t cut = text.rfind(' ', max);
  if (cut == absl::string_view::npos || cut < max / 2) {
    // No space near the end: cut at a character boundary (never inside a
    // UTF-8 sequence, or the entry would not parse).
    cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
      --cut;
    }
  }
  return absl::StrCat(text.substr(0, cut), "...");
}

}  // namespace

Headline MakeHeadline(const v1::CaseEvent& event) {
  Headline h;
  std::string by;
  if (const v1::Decision* decision = DecisionOf(event)) {
    by = absl::StrCat(" (decided by ", Who(decision->decided_by()), ")");
  }
  switch (event.payload_case()) {
    case v1::CaseEvent::kContactReceived: {
      const auto& p = event.contact_received();
      h.headline = absl::StrCat(
          "Contact from ",
          p.referrer().name().empty() ? "unnamed referrer"
                                      : p.referrer().name(),
          p.referrer().role().empty() ? ""
                                      : absl::StrCat(", ", p.referrer().role()),
          ": ", Brief(p.concern()),
          p.immediate_danger() ? " [immediate danger reported]" : "");
      break;
    }
    case v1::CaseEvent::kReferralDecision: {
      const auto& p = event.referral_decision();
      h.headline = absl::StrCat("Referral decision: ",
                                WORDS(ReferralOutcome, p.outcome()));
      h.action = absl::StrCat(WORDS(ReferralOutcome, p.outcome()), by);
      break;
    }
    case v1::CaseEvent::kHouseholdMemberRecorded: {
      const auto& p = event.household_member_recorded();
      h.headline = absl::StrCat(
          "Household member recorded: ", p.name(), " (", p.relationship(),
          p.parental_responsibility() ? ", parental responsibility" : "", ")");
      break;
    }
    case v1::CaseEvent::kCaseAllocated: {
      const auto& p = event.case_allocated();
      h.headline =
          absl::StrCat("Case allocated to ", Who(p.worker()),
                       p.team().empty() ? "" : absl::StrCat(", ", p.team()));
      h.action = absl::StrCat("allocated; manager ", Who(p.manager()));
      break;
    }
    case v1::CaseEvent::kAssessmentStarted: {
      const auto& p = event.assessment_started();
      h.headline =
          absl::StrCat("Assessment ", p.assessment_id(), " of ", p.child_id(),
                       " started (", WORDS(AssessmentFramework, p.framework()),
                       "), from ", Date(p.start_date()));
      break;
    }
    case v1::CaseEvent::kAssessmentCheckpointReviewed: {
      const auto& p = event.assessment_checkpoint_reviewed();
      h.headline = absl::StrCat(
          "Assessment ", p.assessment_id(),
          " checkpoint review; CIN planning "
          "meeting ",
          p.cin_planning_meeting_considered() ? "considered" : "not considered",
          p.cin_planning_meeting_planned() ? " and planned" : "");
      h.action = absl::StrCat("reviewed", by);
      break;
    }
    case v1::CaseEvent::kSpecialistAssessment: {
      const auto& p = event.specialist_assessment();
      h.headline = absl::StrCat(
          "Specialist assessment (", p.kind(), ") ",
          WORDS(SpecialistAssessmentStage, p.stage()),
          p.summary().empty() ? "" : absl::StrCat(": ", Brief(p.summary())));
      break;
    }
    case v1::CaseEvent::kAssessmentExtensionRequested: {
      const auto& p = event.assessment_extension_requested();
      h.headline = absl::StrCat("Extension of assessment ", p.assessment_id(),
                                " to ", Date(p.new_target_date()),
                                " requested: ", Brief(p.rationale()));
      break;
    }
    case v1::CaseEvent::kAssessmentExtensionDecided: {
      const auto& p = event.assessment_extension_decided();
      h.headline =
          absl::StrCat("Extension of assessment ", p.assessment_id(), " ",
                       WORDS(ExtensionOutcome, p.outcome()),
                       p.outcome() == v1::EXTENSION_OUTCOME_APPROVED
                           ? absl::StrCat(" to ", Date(p.new_target_date()))
                           : "");
      h.action = absl::StrCat(WORDS(ExtensionOutcome, p.outcome()), by);
      break;
    }
    case v1::CaseEvent::kAssessmentAuthorised: {
      const auto& p = event.assessment_authorised();
      std::vector<std::string> outcomes;
      for (int o : p.outcomes()) {
        outcomes.push_back(
            WORDS(AssessmentOutcome, static_cast<v1::AssessmentOutcome>(o)));
      }
      h.headline =
          absl::StrCat("Assessment ", p.assessment_id(), " of ", p.child_id(),
                       " authorised: ", absl::StrJoin(outcomes, ", "),
                       p.child_seen() ? "" : " [child not seen]");
      h.action = absl::StrCat("authorised", by,
                              p.outcome_shared_in_writing()
                                  ? "; shared in writing"
                                  : absl::StrCat("; not shared in writing: ",
                                                 p.outcome_withheld_reason()));
      break;
    }
    case v1::CaseEvent::kStrategyDiscussionHeld: {
      const auto& p = event.strategy_discussion_held();
      h.headline = absl::StrCat(
          "Strategy discussion (", WORDS(MeetingFormat, p.format()), ") with ",
          Agencies(p.attendees()), ": ",
          p.s47_enquiry()
              ? absl::StrCat("s47 enquiry (",
                             WORDS(EnquiryType, p.enquiry_type()), ")")
              : "no s47 enquiry");
      h.action =
          absl::StrCat(p.s47_enquiry() ? "s47 enquiry agreed" : "no s47", by);
      break;
    }
    case v1::CaseEvent::kS47Started: {
      const auto& p = event.s47_started();
      h.headline = absl::StrCat("s47 enquiry ", p.enquiry_id(), " started (",
                                WORDS(EnquiryType, p.enquiry_type()),
                                "), led by ", Who(p.lead_worker()));
      break;
    }
    case v1::CaseEvent::kImmediateProtectionTaken: {
      const auto& p = event.immediate_protection_taken();
      h.headline = absl::StrCat("Immediate protection (",
                                WORDS(ProtectionPower, p.power()),
                                "): ", Brief(p.action()));
      h.action = absl::StrCat(Brief(p.action(), 80), by);
      break;
    }
    case v1::CaseEvent::kS47Concluded: {
      const auto& p = event.s47_concluded();
      h.headline = absl::StrCat("s47 enquiry ", p.enquiry_id(),
                                " concluded: ", WORDS(S47Outcome, p.outcome()));
      h.action = absl::StrCat(WORDS(S47Outcome, p.outcome()), by);
      break;
    }
    case v1::CaseEvent::kConferenceScheduled: {
      const auto& p = event.conference_scheduled();
      h.headline = absl::StrCat(
          WORDS(ConferenceType, p.conference_type()), " scheduled (target ",
          Date(p.target_date()), ")",
          p.delay_reason().empty()
              ? ""
              : absl::StrCat("; delayed: ", Brief(p.delay_reason())));
      break;
    }
    case v1::CaseEvent::kConferenceHeld: {
      const auto& p = event.conference_held();
      std::vector<std::string> decisions;
      for (const auto& d : p.child_decisions()) {
        decisions.push_back(
            absl::StrCat(d.child_id(), ": ",
                         WORDS(ConferencePlanDecision, d.plan_decision())));
      }
      h.headline = absl::StrCat(
          absl::AsciiStrToUpper(WORDS(ConferenceType, p.conference_type())),
          " held", p.quorate() ? "" : " [not quorate]", ": ",
          absl::StrJoin(decisions, "; "),
          p.dissent().empty() ? "" : " [dissent recorded]");
      h.action = absl::StrCat(absl::StrJoin(decisions, "; "), by);
      break;
    }
    case v1::CaseEvent::kPlanChanged: {
      const auto& p = event.plan_changed();
      h.headline = absl::StrCat(
          absl::AsciiStrToUpper(WORDS(PlanType, p.plan_type())), " plan ",
          WORDS(PlanChange, p.change()), " from ", Date(p.effective_date()),
          p.end_reason().empty() ? "" : absl::StrCat(": ", p.end_reason()));
      break;
    }
    case v1::CaseEvent::kCoreGroupHeld: {
      const auto& p = event.core_group_held();
      h.headline = absl::StrCat("Core group held (", p.attendees_size(),
                                " attending): ", Brief(p.summary()));
      break;
    }
    case v1::CaseEvent::kLegalStatusChanged: {
      const auto& p = event.legal_status_changed();
      h.headline =
          absl::StrCat(p.child_id(), ": ", WORDS(LegalStatus, p.status()), " ",
                       WORDS(LegalStatusChange, p.change()), " from ",
                       Date(p.effective_date()));
      break;
    }
    case v1::CaseEvent::kPreventReferralMade: {
      const auto& p = event.prevent_referral_made();
      h.headline =
          absl::StrCat("Prevent referral ", p.prevent_referral_id(), " by ",
                       Who(p.referrer()), ": ", Brief(p.concerns()),
                       p.parents_informed() ? "" : " [parents not informed]");
      break;
    }
    case v1::CaseEvent::kPoliceGatewayAssessed: {
      const auto& p = event.police_gateway_assessed();
      h.headline =
          absl::StrCat("Police gateway assessment of ", p.prevent_referral_id(),
                       ": ", WORDS(GatewayOutcome, p.outcome()));
      h.action = absl::StrCat(WORDS(GatewayOutcome, p.outcome()), by);
      break;
    }
    case v1::CaseEvent::kChannelReferralReceived: {
      const auto& p = event.channel_referral_received();
      h.headline = absl::StrCat("Channel referral ", p.channel_case_id(),
                                " received from ",
                                WORDS(ChannelReferrer, p.referred_by()));
      break;
    }
    case v1::CaseEvent::kVulnerabilityAssessed: {
      const auto& p = event.vulnerability_assessed();
      h.headline = absl::StrCat("Vulnerability assessment (", p.framework(),
                                " ", p.framework_version(), "): engagement ",
                                p.engagement().assessment(), "; intent ",
                                p.intent().assessment(), "; capability ",
                                p.capability().assessment());
      break;
    }
    case v1::CaseEvent::kChannelPanelHeld: {
      const auto& p = event.channel_panel_held();
      h.headline =
          absl::StrCat("Channel panel chaired by ", Who(p.chair()), ": ",
                       WORDS(PanelDecision, p.outcome()),
                       p.dissent().empty() ? "" : " [dissent recorded]");
      h.action = absl::StrCat(WORDS(PanelDecision, p.outcome()), by);
      break;
    }
    case v1::CaseEvent::kChannelConsentRecorded: {
      const auto& p = event.channel_consent_recorded();
      h.headline =
          absl::StrCat("Consent to Channel support ",
                       WORDS(ConsentStatus, p.status()), " by ", p.giver_name(),
                       " (", WORDS(ChannelConsentGiver, p.giver()), ")");
      break;
    }
    case v1::CaseEvent::kSupportPlanAgreed: {
      const auto& p = event.support_plan_agreed();
      std::vector<std::string> support;
      for (const auto& s : p.support()) {
        support.push_back(
            absl::StrCat(s.nature(), " (", Who(s.provider()), ")"));
      }
      h.headline = absl::StrCat(
          "Channel support plan agreed: ", absl::StrJoin(support, "; "),
          "; review ", Date(p.review_date()));
      break;
    }
    case v1::CaseEvent::kInterventionDelivered: {
      const auto& p = event.intervention_delivered();
      h.headline = absl::StrCat("Intervention by ", Who(p.provider()),
                                p.attended() ? "" : " [not attended]", ": ",
                                Brief(p.summary()));
      break;
    }
    case v1::CaseEvent::kChannelExited: {
      const auto& p = event.channel_exited();
      h.headline = absl::StrCat("Exit from Channel: ", Brief(p.reason()));
      h.action = absl::StrCat("exited", by);
      break;
    }
    case v1::CaseEvent::kChannelPostExitReview: {
      const auto& p = event.channel_post_exit_review();
      h.headline = absl::StrCat("Channel post-exit review (",
                                WORDS(PostExitReviewPoint, p.review_point()),
                                ")", p.reopen() ? ": case to be reopened" : "");
      h.action = absl::StrCat(p.reopen() ? "reopen" : "no further action", by);
      break;
    }
    case v1::CaseEvent::kVisitCompleted: {
      const auto& p = event.visit_completed();
      std::vector<std::string> children;
      for (const auto& c : p.children()) {
        children.push_back(absl::StrCat(
            c.child_id(),
            c.seen() ? (c.seen_alone() ? " seen alone" : " seen, not alone")
                     : " not seen",
            c.bedroom_seen() ? ", bedroom seen" : ""));
      }
      h.headline = absl::StrCat(WORDS(VisitType, p.visit_type()), " visit",
                                p.at_home() ? " at home" : "", ": ",
                                absl::StrJoin(children, "; "));
      break;
    }
    case v1::CaseEvent::kDirectWorkRecorded: {
      const auto& p = event.direct_work_recorded();
      h.headline = absl::StrCat(
          "Direct work with ", p.child_id(),
          p.tool().empty() ? "" : absl::StrCat(" (", p.tool(), ")"), ": ",
          Brief(p.wishes_and_feelings()));
      break;
    }
    case v1::CaseEvent::kChildNotSeenAloneAuthorised: {
      const auto& p = event.child_not_seen_alone_authorised();
      h.headline = absl::StrCat("Manager records why ", p.child_id(),
                                " was not seen alone");
      h.action = absl::StrCat("authorised", by);
      break;
    }
    case v1::CaseEvent::kInterpreterDecision: {
      const auto& p = event.interpreter_decision();
      h.headline = absl::StrCat(
          p.interpreter_used() ? "Interpreter used" : "No interpreter", " for ",
          p.person_id(),
          p.language().empty() ? "" : absl::StrCat(" (", p.language(), ")"));
      h.action = absl::StrCat("decided", by);
      break;
    }
    case v1::CaseEvent::kFamilyGroupConferenceHeld: {
      const auto& p = event.family_group_conference_held();
      h.headline =
          absl::StrCat("Family group conference: ", Brief(p.family_plan()),
                       p.plan_agreed() ? " [plan agreed]" : "");
      break;
    }
    case v1::CaseEvent::kSupervisionRecorded: {
      const auto& p = event.supervision_recorded();
      h.headline = absl::StrCat("Supervision of ", Who(p.supervisee()), ": ",
                                Brief(p.discussion()));
      h.action = absl::StrCat(p.actions_size(), " actions", by);
      break;
    }
    case v1::CaseEvent::kManagementDecision: {
      const auto& p = event.management_decision();
      h.headline = absl::StrCat(
          p.escalation() ? "Escalation outcome: " : "Management decision: ",
          Brief(p.subject()));
      h.action = absl::StrCat("decided", by);
      break;
    }
    case v1::CaseEvent::kConsentRecorded: {
      const auto& p = event.consent_recorded();
      h.headline =
          absl::StrCat("Consent ", WORDS(ConsentStatus, p.status()), " for ",
                       p.purpose(), " by ", p.giver_person_id());
      break;
    }
    case v1::CaseEvent::kConsentOverrideAuthorised: {
      const auto& p = event.consent_override_authorised();
      h.headline =
          absl::StrCat("Acting without consent authorised: ", p.purpose());
      h.action = absl::StrCat("authorised", by);
      break;
    }
    case v1::CaseEvent::kInformationShared: {
      const auto& p = event.information_shared();
      std::vector<std::string> to;
      for (const auto& r : p.recipients()) {
        to.push_back(r.agency().empty() ? r.name() : r.agency());
      }
      h.headline = absl::StrCat(
          "Information shared with ", absl::StrJoin(to, ", "), ": ",
          Brief(p.what()),
          p.consent_event_id().empty() ? " [without consent]" : "");
      if (p.has_decision()) h.action = absl::StrCat("shared", by);
      break;
    }
    case v1::CaseEvent::kAgencyInformationRequested: {
      const auto& p = event.agency_information_requested();
      h.headline = absl::StrCat("Information requested from ",
                                p.requested_from().agency().empty()
                                    ? p.requested_from().name()
                                    : p.requested_from().agency(),
                                p.channel_s38() ? " (s38)" : "", ": ",
                                Brief(p.information_requested()));
      break;
    }
    case v1::CaseEvent::kAgencyInformationReceived: {
      const auto& p = event.agency_information_received();
      h.headline = absl::StrCat("Information received from ", p.agency(),
                                p.channel_s38() ? " (s38)" : "", ": ",
                                Brief(p.summary()));
      break;
    }
    case v1::CaseEvent::kRiskAnalysisRecorded: {
      const auto& p = event.risk_analysis_recorded();
      h.headline = absl::StrCat("Risk analysis: ", p.concerns_size(),
                                " concerns, ", p.strengths_size(), " strengths",
                                p.has_decision() ? " [signed off]" : "");
      if (p.has_decision()) h.action = absl::StrCat("signed off", by);
      break;
    }
    case v1::CaseEvent::kRecordCorrected:
      h.headline = absl::StrCat("Correction to ",
                                event.record_corrected().target_event_id());
      break;
    case v1::CaseEvent::kRecordAnnotated:
      h.headline = absl::StrCat("Annotation on ",
                                event.record_annotated().target_event_id());
      break;
    case v1::CaseEvent::kSubjectDisputeRecorded:
      h.headline = absl::StrCat(
          "Dispute of ", event.subject_dispute_recorded().target_event_id());
      break;
    case v1::CaseEvent::kEntryRetracted:
      h.headline = absl::StrCat("Retraction of ",
                                event.entry_retracted().target_event_id());
      break;
    case v1::CaseEvent::kCaseClosed: {
      const auto& p = event.case_closed();
      h.headline = absl::StrCat(
          "Case closed: ", WORDS(CaseClosureReason, p.reason()),
          p.step_down() ? absl::StrCat("; stepped down to ", p.step_down_to())
                        : "");
      h.action = absl::StrCat("closed", by);
      break;
    }
    case v1::CaseEvent::kSeriousIncidentNotified: {
      const auto& p = event.serious_incident_notified();
      h.headline =
          absl::StrCat("Serious incident notified to the Panel (",
                       p.notification_reference(), "): ", Brief(p.incident()));
      break;
    }
    case v1::CaseEvent::kRapidReviewCompleted: {
      const auto& p = event.rapid_review_completed();
      h.headline = absl::StrCat("Rapid review completed",
                                p.local_review_recommended()
                                    ? ": local practice review recommended"
                                    : "");
      h.action = absl::StrCat("completed", by);
      break;
    }
    case v1::CaseEvent::kRecordRestrictionChanged: {
      const auto& p = event.record_restriction_changed();
      h.headline = absl::StrCat(
          "Restriction changed to ", WORDS(RestrictionLevel, p.new_level()),
          p.target_event_ids().empty()
              ? " for the whole case"
              : absl::StrCat(" for ", p.target_event_ids_size(), " entries"),
          p.category().empty() ? "" : absl::StrCat(" (", p.category(), ")"));
      h.action = absl::StrCat("changed", by);
      break;
    }
    case v1::CaseEvent::kSarProcessed: {
      const auto& p = event.sar_processed();
      h.headline = absl::StrCat(
          "Subject access request ", p.request_id(), " processed (received ",
          Date(p.received_date()), ", ", p.redactions_size(), " redactions)");
      break;
    }
    case v1::CaseEvent::kOpaque:
      h.headline =
          absl::StrCat(event.event_type(), " (", event.opaque().content_type(),
                       ", ", event.opaque().data().size(), " bytes)");
      break;
    case v1::CaseEvent::PAYLOAD_NOT_SET:
      h.headline = event.event_type();
      break;
  }
  return h;
}

}  // namespace casetrail::projections
