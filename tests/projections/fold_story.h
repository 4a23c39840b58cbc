#ifndef CASETRAIL_TESTS_PROJECTIONS_FOLD_STORY_H_
#define CASETRAIL_TESTS_PROJECTIONS_FOLD_STORY_H_

// Builders for the case-fold tests (case_fold_test.cc, deadlines_test.cc): a
// Story is one case stream of hand-built RecordedEvents, written in log order
// so that each test reads like the case it tells. Times are England and Wales
// local times; the fold is FoldConfig::Default() (the shipped calendar and
// rules, Europe/London days).
//
// Every expected date in the tests is computed by hand from the rules (trigger
// day = day 0, N working days = the Nth working day after it, skipping
// weekends and England and Wales bank holidays) and written as a literal.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "casetrail/v1/case_events.pb.h"
#include "casetrail/v1/event.pb.h"
#include "casetrail/v1/projections.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/timestamp.pb.h"
#include "gtest/gtest.h"
#include "projections/calendar.h"
#include "projections/case_fold.h"
#include "projections/views.h"

namespace casetrail::projections::story {

namespace v1 = ::casetrail::v1;
using ::absl::CivilDay;

// ---------------------------------------------------------------------------
// Dates and times.
// ---------------------------------------------------------------------------

inline absl::TimeZone London() { return FoldConfig::Default().zone; }

inline absl::Time LondonTime(CivilDay day, int hour = 10, int minute = 0) {
  return absl::FromCivil(
      absl::CivilMinute(day.year(), day.month(), day.day(), hour, minute),
      London());
}

inline google::protobuf::Timestamp Ts(absl::Time time) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(time));
  return ts;
}

inline v1::CivilDate Date(CivilDay day) {
  v1::CivilDate date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

inline CivilDay Day(const v1::CivilDate& date) {
  return CivilDay(date.year(), date.month(), date.day());
}

inline std::string Text(const v1::CivilDate& date) {
  if (date.year() == 0) return "-";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

// ---------------------------------------------------------------------------
// People (all fictional).
// ---------------------------------------------------------------------------

inline v1::DecisionMaker Maker(absl::string_view id, absl::string_view name,
                               absl::string_view role,
                               v1::AuthorityLevel level) {
  v1::DecisionMaker who;
  who.set_id(std::string(id));
  who.set_name(std::string(name));
  who.set_role(std::string(role));
  who.set_authority_level(level);
  return who;
}

inline v1::DecisionMaker SocialWorker() {
  return Maker("sw-ayo", "Ayo Bankole", "Social Worker",
               v1::AUTHORITY_LEVEL_SOCIAL_WORKER);
}
inline v1::DecisionMaker TeamManager() {
  return Maker("tm-helen", "Helen Marsh", "Team Manager",
               v1::AUTHORITY_LEVEL_TEAM_MANAGER);
}
inline v1::DecisionMaker ServiceManager() {
  return Maker("sm-priya", "Priya Nair", "Service Manager",
               v1::AUTHORITY_LEVEL_SERVICE_MANAGER);
}
inline v1::DecisionMaker ConferenceChair() {
  return Maker("chair-owen", "Owen Pryce", "Independent Chair",
               v1::AUTHORITY_LEVEL_CHAIR);
}
inline v1::DecisionMaker PoliceOfficer() {
  return Maker("ds-rhodes", "DS Carla Rhodes", "Prevent Gateway Officer",
               v1::AUTHORITY_LEVEL_POLICE);
}

inline v1::Participant Person(absl::string_view id, absl::string_view name,
                              absl::string_view role,
                              absl::string_view agency) {
  v1::Participant p;
  p.set_id(std::string(id));
  p.set_name(std::string(name));
  p.set_role(std::string(role));
  p.set_agency(std::string(agency));
  return p;
}

inline constexpr char kCouncil[] =
    "Northshire County Council Children's Services";
inline constexpr char kPolice[] = "Northshire Police";
inline constexpr char kHealth[] = "Northshire NHS Foundation Trust";
inline constexpr char kSchool[] = "Riverside Academy";

// A decision by `by`; its information basis is the log as it stood when it
// was recorded (log_position 0) unless `basis_event_ids` names events.
inline v1::Decision Decided(const v1::DecisionMaker& by,
                            absl::string_view rationale,
                            std::vector<std::string> basis_event_ids = {}) {
  v1::Decision d;
  *d.mutable_decided_by() = by;
  d.set_rationale(std::string(rationale));
  for (std::string& id : basis_event_ids) {
    d.mutable_information_basis()->add_event_ids(std::move(id));
  }
  return d;
}

// ---------------------------------------------------------------------------
// Payloads.
// ---------------------------------------------------------------------------

inline v1::ContactReceived Contact(absl::string_view referrer,
                                   absl::string_view role,
                                   absl::string_view concern) {
  v1::ContactReceived p;
  p.set_source_code("1A");
  p.mutable_referrer()->set_name(std::string(referrer));
  p.mutable_referrer()->set_role(std::string(role));
  p.set_concern(std::string(concern));
  return p;
}

inline v1::ReferralDecision Referral(v1::ReferralOutcome outcome,
                                     v1::Decision decision) {
  v1::ReferralDecision p;
  *p.mutable_decision() = std::move(decision);
  p.set_outcome(outcome);
  p.set_primary_need(v1::PRIMARY_NEED_N1_ABUSE_OR_NEGLECT);
  return p;
}

inline v1::HouseholdMemberRecorded Member(
    absl::string_view person_id, absl::string_view name, CivilDay born,
    absl::string_view relationship, bool parental_responsibility,
    absl::string_view language = "English", absl::string_view needs = "") {
  v1::HouseholdMemberRecorded p;
  p.set_person_id(std::string(person_id));
  p.set_name(std::string(name));
  *p.mutable_date_of_birth() = Date(born);
  p.set_relationship(std::string(relationship));
  p.set_parental_responsibility(parental_responsibility);
  p.set_language(std::string(language));
  p.set_communication_needs(std::string(needs));
  return p;
}

inline v1::CaseAllocated Allocated(v1::Participant worker,
                                   absl::string_view team,
                                   v1::Participant manager) {
  v1::CaseAllocated p;
  *p.mutable_worker() = std::move(worker);
  p.set_team(std::string(team));
  *p.mutable_manager() = std::move(manager);
  p.set_reason("new referral");
  return p;
}

inline v1::AssessmentStarted AssessmentStart(absl::string_view id,
                                             absl::string_view child,
                                             CivilDay referral_date) {
  v1::AssessmentStarted p;
  p.set_assessment_id(std::string(id));
  p.set_child_id(std::string(child));
  p.set_framework(v1::ASSESSMENT_FRAMEWORK_CA1989_S17);
  *p.mutable_start_date() = Date(referral_date);
  return p;
}

inline v1::AssessmentCheckpointReviewed Checkpoint(absl::string_view id) {
  v1::AssessmentCheckpointReviewed p;
  *p.mutable_decision() = Decided(TeamManager(), "progress reviewed at day 10");
  p.set_assessment_id(std::string(id));
  p.set_cin_planning_meeting_considered(true);
  return p;
}

inline v1::AssessmentExtensionRequested ExtensionRequest(absl::string_view id,
                                                         CivilDay target) {
  v1::AssessmentExtensionRequested p;
  p.set_assessment_id(std::string(id));
  *p.mutable_new_target_date() = Date(target);
  p.set_rationale("paediatric report not yet received");
  return p;
}

inline v1::AssessmentExtensionDecided ExtensionDecision(
    absl::string_view id, absl::string_view request_event_id,
    v1::ExtensionOutcome outcome, std::optional<CivilDay> target,
    v1::DecisionMaker by = ServiceManager()) {
  v1::AssessmentExtensionDecided p;
  *p.mutable_decision() =
      Decided(by, "the report is essential to the analysis");
  p.set_assessment_id(std::string(id));
  p.set_request_event_id(std::string(request_event_id));
  p.set_outcome(outcome);
  if (target) *p.mutable_new_target_date() = Date(*target);
  return p;
}

inline v1::AssessmentAuthorised AssessmentDone(absl::string_view id,
                                               absl::string_view child) {
  v1::AssessmentAuthorised p;
  *p.mutable_decision() =
      Decided(TeamManager(), "needs met by a child in need plan");
  p.set_assessment_id(std::string(id));
  p.set_child_id(std::string(child));
  p.add_outcomes(v1::ASSESSMENT_OUTCOME_CHILD_IN_NEED_PLAN);
  p.add_basis(v1::STATUTORY_BASIS_CA1989_S17);
  p.set_child_seen(true);
  p.set_outcome_shared_in_writing(true);
  return p;
}

inline v1::StrategyDiscussionHeld Strategy(bool s47) {
  v1::StrategyDiscussionHeld p;
  *p.mutable_decision() =
      Decided(TeamManager(), "injury consistent with the child's account");
  p.set_format(v1::MEETING_FORMAT_VIDEO);
  *p.mutable_chair() =
      Person("tm-helen", "Helen Marsh", "Team Manager", kCouncil);
  *p.add_attendees() =
      Person("sw-ayo", "Ayo Bankole", "Social Worker", kCouncil);
  *p.add_attendees() =
      Person("ds-lowe", "DS Sam Lowe", "Detective Sergeant", kPolice);
  *p.add_attendees() =
      Person("nurse-ivy", "Ivy Clarke", "Named Nurse", kHealth);
  p.set_information_shared("school, police and health records shared");
  p.set_s47_enquiry(s47);
  if (s47) p.set_enquiry_type(v1::ENQUIRY_TYPE_JOINT);
  return p;
}

inline v1::S47Started S47Start(absl::string_view enquiry,
                               absl::string_view strategy_event) {
  v1::S47Started p;
  p.set_enquiry_id(std::string(enquiry));
  p.set_strategy_discussion_event_id(std::string(strategy_event));
  p.set_enquiry_type(v1::ENQUIRY_TYPE_JOINT);
  *p.mutable_lead_worker() =
      Person("sw-ayo", "Ayo Bankole", "Social Worker", kCouncil);
  return p;
}

inline v1::S47Concluded S47End(absl::string_view enquiry,
                               v1::S47Outcome outcome) {
  v1::S47Concluded p;
  *p.mutable_decision() = Decided(TeamManager(), "enquiry findings");
  p.set_enquiry_id(std::string(enquiry));
  p.set_outcome(outcome);
  return p;
}

inline v1::ConferenceScheduled Scheduled(
    absl::string_view conference, v1::ConferenceType type, absl::Time when,
    CivilDay target, absl::string_view delay_reason = "",
    std::optional<v1::DecisionMaker> manager = std::nullopt,
    std::optional<v1::DecisionMaker> chair = std::nullopt) {
  v1::ConferenceScheduled p;
  p.set_conference_id(std::string(conference));
  p.set_conference_type(type);
  *p.mutable_scheduled_for() = Ts(when);
  *p.mutable_target_date() = Date(target);
  p.set_delay_reason(std::string(delay_reason));
  if (manager) *p.mutable_delay_agreed_by_manager() = *manager;
  if (chair) *p.mutable_delay_agreed_by_chair() = *chair;
  return p;
}

inline v1::ChildPlanDecision PlanFor(
    absl::string_view child, v1::ConferencePlanDecision decision,
    std::vector<v1::AbuseCategory> categories = {}) {
  v1::ChildPlanDecision d;
  d.set_child_id(std::string(child));
  d.set_plan_decision(decision);
  for (v1::AbuseCategory c : categories) d.add_categories(c);
  return d;
}

inline v1::ConferenceHeld Conference(absl::string_view conference,
                                     v1::ConferenceType type,
                                     std::vector<v1::ChildPlanDecision> plans) {
  v1::ConferenceHeld p;
  *p.mutable_decision() = Decided(ConferenceChair(), "conference decision");
  p.set_conference_id(std::string(conference));
  p.set_conference_type(type);
  p.set_quorate(true);
  *p.add_attendees() =
      Person("sw-ayo", "Ayo Bankole", "Social Worker", kCouncil);
  *p.add_attendees() =
      Person("ds-lowe", "DS Sam Lowe", "Detective Sergeant", kPolice);
  for (auto& plan : plans) *p.add_child_decisions() = std::move(plan);
  *p.add_core_group() =
      Person("sw-ayo", "Ayo Bankole", "Social Worker", kCouncil);
  return p;
}

inline v1::CoreGroupHeld CoreGroup(absl::string_view plan) {
  v1::CoreGroupHeld p;
  p.set_plan_id(std::string(plan));
  *p.add_attendees() =
      Person("sw-ayo", "Ayo Bankole", "Social Worker", kCouncil);
  p.set_summary("plan reviewed; safety plan in place");
  return p;
}

inline v1::PlanChanged Plan(absl::string_view plan, v1::PlanType type,
                            v1::PlanChange change, CivilDay effective) {
  v1::PlanChanged p;
  p.set_plan_id(std::string(plan));
  p.set_plan_type(type);
  p.set_change(change);
  *p.mutable_effective_date() = Date(effective);
  return p;
}

inline v1::LegalStatusChanged Legal(absl::string_view child,
                                    v1::LegalStatus status,
                                    v1::LegalStatusChange change,
                                    CivilDay effective) {
  v1::LegalStatusChanged p;
  p.set_child_id(std::string(child));
  p.set_status(status);
  p.set_change(change);
  *p.mutable_effective_date() = Date(effective);
  return p;
}

inline v1::ChildSeen Seen(absl::string_view child, bool seen, bool alone,
                          bool bedroom) {
  v1::ChildSeen c;
  c.set_child_id(std::string(child));
  c.set_seen(seen);
  c.set_seen_alone(alone);
  c.set_bedroom_seen(bedroom);
  return c;
}

inline v1::VisitCompleted Visit(v1::VisitType type,
                                std::vector<v1::ChildSeen> children) {
  v1::VisitCompleted p;
  p.set_visit_type(type);
  p.set_at_home(true);
  for (auto& c : children) *p.add_children() = std::move(c);
  return p;
}

inline v1::ChildNotSeenAloneAuthorised NotSeenAloneAccepted(
    absl::string_view child, absl::string_view visit_event) {
  v1::ChildNotSeenAloneAuthorised p;
  *p.mutable_decision() = Decided(
      TeamManager(), "child too distressed to be separated from mother");
  p.set_child_id(std::string(child));
  p.set_visit_event_id(std::string(visit_event));
  return p;
}

inline v1::InterpreterDecision Interpreter(absl::string_view person,
                                           absl::string_view language,
                                           bool used, v1::DecisionMaker by) {
  v1::InterpreterDecision p;
  *p.mutable_decision() =
      Decided(by, used ? "interpreter booked" : "father speaks fluent English");
  p.set_person_id(std::string(person));
  p.set_language(std::string(language));
  p.set_interpreter_used(used);
  return p;
}

inline v1::ConsentRecorded Consent(absl::string_view id,
                                   absl::string_view purpose,
                                   v1::ConsentStatus status,
                                   absl::string_view giver) {
  v1::ConsentRecorded p;
  p.set_consent_id(std::string(id));
  p.set_purpose(std::string(purpose));
  p.set_giver(v1::CONSENT_GIVER_PR_HOLDER);
  p.set_giver_person_id(std::string(giver));
  p.set_form(v1::CONSENT_FORM_WRITTEN);
  p.set_status(status);
  return p;
}

inline v1::ConsentOverrideAuthorised ConsentOverride(
    absl::string_view purpose, absl::string_view consent_event,
    absl::string_view reason) {
  v1::ConsentOverrideAuthorised p;
  *p.mutable_decision() = Decided(ServiceManager(), "risk of significant harm");
  p.set_purpose(std::string(purpose));
  p.set_consent_event_id(std::string(consent_event));
  p.set_significant_harm_reason(std::string(reason));
  return p;
}

inline v1::RecordCorrected Correction(
    absl::string_view target, absl::string_view field, absl::string_view old_v,
    absl::string_view new_v, absl::string_view reason,
    std::optional<v1::DecisionMaker> approved_by = TeamManager()) {
  v1::RecordCorrected p;
  p.set_target_event_id(std::string(target));
  p.set_field_path(std::string(field));
  p.set_old_value(std::string(old_v));
  p.set_new_value(std::string(new_v));
  p.set_reason(std::string(reason));
  p.set_source("referrer's written follow-up");
  if (approved_by) *p.mutable_approved_by() = *approved_by;
  return p;
}

inline v1::ManagementDecision Management(absl::string_view subject,
                                         v1::Decision decision) {
  v1::ManagementDecision p;
  *p.mutable_decision() = std::move(decision);
  p.set_subject(std::string(subject));
  return p;
}

inline v1::CaseClosed Closed(v1::CaseClosureReason reason) {
  v1::CaseClosed p;
  *p.mutable_decision() = Decided(TeamManager(), "no further role for CSC");
  p.set_reason(reason);
  return p;
}

inline v1::SeriousIncidentNotified Incident(absl::string_view reference,
                                            absl::Time became_aware) {
  v1::SeriousIncidentNotified p;
  p.set_notification_reference(std::string(reference));
  *p.mutable_became_aware_at() = Ts(became_aware);
  p.set_incident("serious injury to a child known to services");
  return p;
}

inline v1::RapidReviewCompleted RapidReview(absl::string_view notification) {
  v1::RapidReviewCompleted p;
  *p.mutable_decision() = Decided(ServiceManager(), "rapid review findings");
  p.set_notification_event_id(std::string(notification));
  return p;
}

inline v1::RecordRestrictionChanged Restrict(
    v1::RestrictionLevel from, v1::RestrictionLevel to,
    std::vector<std::string> permitted, std::vector<std::string> targets = {}) {
  v1::RecordRestrictionChanged p;
  *p.mutable_decision() = Decided(ServiceManager(), "staff member's family");
  for (auto& t : targets) p.add_target_event_ids(std::move(t));
  p.set_previous_level(from);
  p.set_new_level(to);
  p.set_category("staff member's family");
  for (auto& u : permitted) p.add_permitted_user_ids(std::move(u));
  return p;
}

inline v1::SARProcessed Sar(absl::string_view request, CivilDay received,
                            bool extended) {
  v1::SARProcessed p;
  p.set_request_id(std::string(request));
  p.set_data_subject("mother");
  p.set_requester("mother");
  *p.mutable_received_date() = Date(received);
  p.set_extended(extended);
  return p;
}

// Prevent and Channel.
inline v1::PreventReferralMade PreventReferral(absl::string_view id,
                                               absl::string_view concerns) {
  v1::PreventReferralMade p;
  p.set_prevent_referral_id(std::string(id));
  *p.mutable_referrer() = Person("dsl-grant", "Maya Grant",
                                 "Designated Safeguarding Lead", kSchool);
  p.set_concerns(std::string(concerns));
  p.set_how_identified("disclosure to a teacher");
  p.set_parents_informed(true);
  return p;
}

inline v1::PoliceGatewayAssessed Gateway(absl::string_view referral,
                                         v1::GatewayOutcome outcome) {
  v1::PoliceGatewayAssessed p;
  *p.mutable_decision() = Decided(PoliceOfficer(), "vulnerability indicators");
  p.set_prevent_referral_id(std::string(referral));
  p.set_framework("Prevent Assessment Framework 2024");
  p.set_outcome(outcome);
  return p;
}

inline v1::ChannelReferralReceived ChannelReferral(absl::string_view channel,
                                                   absl::string_view referral) {
  v1::ChannelReferralReceived p;
  p.set_channel_case_id(std::string(channel));
  p.set_prevent_referral_id(std::string(referral));
  p.set_referred_by(v1::CHANNEL_REFERRER_POLICE);
  return p;
}

inline v1::VulnerabilityAssessed Vulnerability(absl::string_view channel) {
  v1::VulnerabilityAssessed p;
  p.set_channel_case_id(std::string(channel));
  p.set_framework("Channel Vulnerability Assessment Framework");
  p.set_framework_version("2024");
  p.mutable_engagement()->set_assessment("moderate");
  p.mutable_intent()->set_assessment("low");
  p.mutable_capability()->set_assessment("low");
  return p;
}

inline v1::Participant PanelChair() {
  return Person("chair-lewis", "Dana Lewis", "Channel Panel Chair", kCouncil);
}

inline v1::ChannelPanelHeld Panel(absl::string_view channel,
                                  v1::PanelDecision outcome) {
  v1::ChannelPanelHeld p;
  *p.mutable_decision() =
      Decided(Maker("chair-lewis", "Dana Lewis", "Channel Panel Chair",
                    v1::AUTHORITY_LEVEL_CHAIR),
              "susceptible to radicalisation; support appropriate");
  p.set_channel_case_id(std::string(channel));
  *p.mutable_chair() = PanelChair();
  *p.add_attendees() = Person("ds-rhodes", "DS Carla Rhodes",
                              "Prevent Gateway Officer", kPolice);
  *p.add_attendees() = Person("dsl-grant", "Maya Grant",
                              "Designated Safeguarding Lead", kSchool);
  *p.add_attendees() =
      Person("nurse-ivy", "Ivy Clarke", "Named Nurse", kHealth);
  *p.add_attendees() =
      Person("sw-ayo", "Ayo Bankole", "Social Worker", kCouncil);
  p.set_outcome(outcome);
  return p;
}

inline v1::ChannelConsentRecorded ChannelConsent(absl::string_view channel,
                                                 v1::ConsentStatus status,
                                                 absl::string_view giver) {
  v1::ChannelConsentRecorded p;
  p.set_channel_case_id(std::string(channel));
  p.set_giver(v1::CHANNEL_CONSENT_GIVER_PARENT_OR_GUARDIAN);
  p.set_giver_name(std::string(giver));
  *p.mutable_sought_by() =
      Person("sw-ayo", "Ayo Bankole", "Social Worker", kCouncil);
  p.set_how_sought("home visit with leaflet");
  p.set_status(status);
  p.set_child_view("does not see the point of mentoring");
  return p;
}

inline v1::SupportPlanAgreed SupportPlan(absl::string_view channel,
                                         absl::string_view plan,
                                         absl::string_view consent_event,
                                         CivilDay review) {
  v1::SupportPlanAgreed p;
  p.set_channel_case_id(std::string(channel));
  p.set_plan_id(std::string(plan));
  p.set_consent_event_id(std::string(consent_event));
  v1::SupportElement* mentoring = p.add_support();
  mentoring->set_nature("theological and ideological mentoring");
  *mentoring->mutable_provider() =
      Person("ip-07", "Rob Kerr", "Intervention Provider", "Home Office IP");
  mentoring->set_intervention_provider(true);
  mentoring->set_timing("fortnightly for 12 weeks");
  *p.mutable_review_date() = Date(review);
  return p;
}

inline v1::InterventionDelivered Intervention(absl::string_view channel,
                                              absl::string_view plan) {
  v1::InterventionDelivered p;
  p.set_channel_case_id(std::string(channel));
  p.set_plan_id(std::string(plan));
  *p.mutable_provider() =
      Person("ip-07", "Rob Kerr", "Intervention Provider", "Home Office IP");
  p.set_attended(true);
  p.set_summary("discussed online sources");
  return p;
}

inline v1::ChannelExited Exited(absl::string_view channel,
                                absl::string_view reason) {
  v1::ChannelExited p;
  *p.mutable_decision() =
      Decided(Maker("chair-lewis", "Dana Lewis", "Channel Panel Chair",
                    v1::AUTHORITY_LEVEL_CHAIR),
              reason);
  p.set_channel_case_id(std::string(channel));
  p.set_reason(std::string(reason));
  p.set_closing_report("closing report held on the Channel case file");
  return p;
}

inline v1::ChannelPostExitReview PostExitReview(absl::string_view channel,
                                                v1::PostExitReviewPoint point) {
  v1::ChannelPostExitReview p;
  *p.mutable_decision() =
      Decided(Maker("chair-lewis", "Dana Lewis", "Channel Panel Chair",
                    v1::AUTHORITY_LEVEL_CHAIR),
              "no new concerns");
  p.set_channel_case_id(std::string(channel));
  p.set_review_point(point);
  return p;
}

inline v1::AgencyInformationRequested S38Request(absl::string_view request) {
  v1::AgencyInformationRequested p;
  p.set_request_id(std::string(request));
  p.mutable_requested_from()->set_agency(kSchool);
  p.set_information_requested("attendance and behaviour");
  p.set_purpose("Channel panel");
  p.set_channel_s38(true);
  return p;
}

inline v1::AgencyInformationReceived S38Return(absl::string_view request) {
  v1::AgencyInformationReceived p;
  p.set_request_id(std::string(request));
  p.set_agency(kSchool);
  p.set_summary("attendance 91%; no incidents");
  p.set_channel_s38(true);
  return p;
}

// ---------------------------------------------------------------------------
// A case stream.
// ---------------------------------------------------------------------------

// How an event differs from the story's defaults (occurred at 10:00 on its
// day with exact precision, recorded 30 minutes later by the social worker
// for the story's children, not significant).
struct Opts {
  int hour = 10;
  int minute = 0;
  // Recorded on this day at 17:00 (London) rather than 30 minutes after it
  // occurred; or at exactly `recorded_at`.
  std::optional<CivilDay> recorded_on = std::nullopt;
  std::optional<absl::Time> recorded_at = std::nullopt;
  v1::TimePrecision precision = v1::TIME_PRECISION_EXACT;
  std::optional<std::vector<std::string>> children = std::nullopt;
  bool significant = false;
  v1::Significance::Direction direction = v1::Significance::DIRECTION_NEGATIVE;
  std::string agency = kCouncil;
  std::string user = "sw-ayo";
  std::string role = "Social Worker";
  std::string informant = "";
  v1::RestrictionLevel restriction = v1::RESTRICTION_LEVEL_UNSPECIFIED;
  v1::Jurisdiction jurisdiction = v1::JURISDICTION_ENGLAND;
};

class Story {
 public:
  Story(std::string case_id, std::vector<std::string> children,
        uint64_t first_position = 0)
      : case_id_(std::move(case_id)),
        children_(std::move(children)),
        next_position_(first_position) {}

  // Appends the event `id` with `payload`, occurring on `day`.
  template <typename Payload>
  const v1::RecordedEvent& Add(absl::string_view id, CivilDay day,
                               const Payload& payload, const Opts& opts = {}) {
    v1::RecordedEvent recorded;
    recorded.set_position(next_position_++);
    recorded.set_stream_version(events_.size() + 1);
    const absl::Time occurred = LondonTime(day, opts.hour, opts.minute);
    absl::Time at = occurred + absl::Minutes(30);
    if (opts.recorded_on) at = LondonTime(*opts.recorded_on, 17, 0);
    if (opts.recorded_at) at = *opts.recorded_at;
    if (!events_.empty() && at < last_recorded_) {
      ADD_FAILURE() << id << " would be recorded before the event before it; "
                    << "give it a recorded time";
    }
    last_recorded_ = at;
    *recorded.mutable_recorded_at() = Ts(at);
    v1::CaseEvent& e = *recorded.mutable_event();
    e.set_event_id(std::string(id));
    e.set_stream_id(case_id_);
    e.set_event_type(Payload::descriptor()->name());
    e.set_schema_version(1);
    *e.mutable_occurred_at()->mutable_time() = Ts(occurred);
    e.mutable_occurred_at()->set_precision(opts.precision);
    e.mutable_recorded_by()->set_user_id(opts.user);
    e.mutable_recorded_by()->set_role(opts.role);
    e.mutable_recorded_by()->set_team("Assessment Team 2");
    e.mutable_recorded_by()->set_agency(opts.agency);
    e.mutable_source()->set_system("mosaic");
    e.mutable_source()->set_source_record_id(absl::StrCat("M-", id));
    e.mutable_source()->set_informant(opts.informant);
    e.mutable_source()->set_provenance(opts.informant.empty()
                                           ? v1::Source::PROVENANCE_FIRST_HAND
                                           : v1::Source::PROVENANCE_REPORTED);
    for (const std::string& child : opts.children.value_or(children_)) {
      e.add_child_ids(child);
    }
    e.set_jurisdiction(opts.jurisdiction);
    if (opts.significant) {
      e.mutable_significance()->set_significant(true);
      e.mutable_significance()->set_direction(opts.direction);
      e.mutable_significance()->set_why("marks a turning point");
    }
    e.set_restriction(opts.restriction);
    SetPayload(&e, payload);
    events_.push_back(std::move(recorded));
    return events_.back();
  }

  const std::vector<v1::RecordedEvent>& events() const { return events_; }
  const std::string& case_id() const { return case_id_; }

  // The index of event `id` in the story (its place in the case's log).
  size_t IndexOf(absl::string_view id) const {
    for (size_t i = 0; i < events_.size(); ++i) {
      if (events_[i].event().event_id() == id) return i;
    }
    ADD_FAILURE() << "no event " << id;
    return events_.size();
  }
  uint64_t PositionOf(absl::string_view id) const {
    return events_[IndexOf(id)].position();
  }

  // Folds the first `n` events (all by default) with a fresh CaseFold.
  CaseSnapshot Fold(size_t n = SIZE_MAX) const {
    CaseFold fold(FoldConfig::Default(), case_id_);
    CaseSnapshot snapshot;
    for (size_t i = 0; i < events_.size() && i < n; ++i) {
      v1::ChronologyEntry entry;
      if (fold.Apply(events_[i], &entry)) {
        snapshot.entries.push_back(std::move(entry));
      }
    }
    snapshot.model = fold.model();
    return snapshot;
  }
  // Folds every event before `id` (the case as known just before it).
  CaseSnapshot FoldBefore(absl::string_view id) const {
    return Fold(IndexOf(id));
  }

 private:
  template <typename Payload>
  static void SetPayload(v1::CaseEvent* e, const Payload& payload) {
    const auto* oneof = v1::CaseEvent::descriptor()->FindOneofByName("payload");
    for (int i = 0; i < oneof->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* field = oneof->field(i);
      if (field->message_type() == Payload::descriptor()) {
        e->GetReflection()->MutableMessage(e, field)->CopyFrom(payload);
        return;
      }
    }
    ADD_FAILURE() << "no payload field for " << Payload::descriptor()->name();
  }

  std::string case_id_;
  std::vector<std::string> children_;
  uint64_t next_position_;
  std::vector<v1::RecordedEvent> events_;
  absl::Time last_recorded_;
};

// ---------------------------------------------------------------------------
// Reading the result.
// ---------------------------------------------------------------------------

// The case state with every deadline evaluated on `day`.
inline v1::CaseState StateOn(const v1::CaseModel& model, CivilDay day) {
  v1::CaseState state = model.state();
  EvaluateDeadlines(WorkingDayCalendar::Default(), day, &state);
  return state;
}

// The deadline of `rule` that `trigger` started; fails the test if there is
// not exactly one.
inline v1::Deadline FindDeadline(const v1::CaseState& state,
                                 absl::string_view rule,
                                 absl::string_view trigger) {
  const v1::Deadline* found = nullptr;
  int count = 0;
  for (const v1::Deadline& d : state.deadlines()) {
    if (d.rule_id() == rule && d.trigger_event_id() == trigger) {
      found = &d;
      ++count;
    }
  }
  if (count != 1) {
    ADD_FAILURE() << count << " deadlines of " << rule << " from " << trigger;
    return v1::Deadline();
  }
  return *found;
}

inline v1::DeadlineStatus StatusOn(const v1::CaseModel& model,
                                   absl::string_view rule,
                                   absl::string_view trigger, CivilDay day) {
  return FindDeadline(StateOn(model, day), rule, trigger).status();
}

inline std::string StatusName(v1::DeadlineStatus status) {
  return v1::DeadlineStatus_Name(status).substr(
      std::string("DEADLINE_STATUS_").size());
}

// One line per deadline, e.g.
// "icpc-15wd from sd1 2025-12-12 due 2026-01-07: MET".
inline std::vector<std::string> DeadlineLines(const v1::CaseState& state) {
  std::vector<std::string> lines;
  for (const v1::Deadline& d : state.deadlines()) {
    lines.push_back(absl::StrCat(
        d.rule_id(), d.key().empty() ? "" : absl::StrCat(" [", d.key(), "]"),
        " from ", d.trigger_event_id(), " ", Text(d.trigger_date()), " due ",
        Text(d.due()), ": ", StatusName(d.status())));
  }
  return lines;
}

// One line per practice flag, e.g.
// "CHILD_NOT_SEEN_ALONE v1 child-1 raised by v1, cleared by auth1".
inline std::vector<std::string> FlagLines(const v1::CaseState& state) {
  std::vector<std::string> lines;
  for (const v1::PracticeFlag& f : state.flags()) {
    lines.push_back(absl::StrCat(
        v1::PracticeFlag::Kind_Name(f.kind()).substr(5), " ", f.event_id(),
        f.child_id().empty() ? "" : absl::StrCat(" ", f.child_id()),
        " raised by ", f.raised_by_event_id(),
        f.cleared() ? absl::StrCat(", cleared by ", f.cleared_by_event_id())
                    : ""));
  }
  return lines;
}

inline std::vector<std::string> OutstandingLines(const v1::CaseState& state) {
  std::vector<std::string> lines;
  for (const v1::OutstandingAuthorisation& o :
       state.outstanding_authorisations()) {
    lines.push_back(absl::StrCat(o.needed(), " for ", o.event_id(), " since ",
                                 Text(o.since())));
  }
  return lines;
}

inline std::vector<std::string> EventIds(
    const google::protobuf::RepeatedPtrField<v1::RecordedEvent>& events) {
  std::vector<std::string> ids;
  for (const auto& e : events) ids.push_back(e.event().event_id());
  return ids;
}

inline std::vector<std::string> EntryIds(
    const std::vector<v1::ChronologyEntry>& entries) {
  std::vector<std::string> ids;
  for (const auto& e : entries) ids.push_back(e.event_id());
  return ids;
}

inline std::string Deterministic(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

}  // namespace casetrail::projections::story

#endif  // CASETRAIL_TESTS_PROJECTIONS_FOLD_STORY_H_
