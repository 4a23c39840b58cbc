// The stateless checks on typed events: for each rule a valid event is
// accepted and each way of breaking the rule is reported at its exact field,
// naming the rule and its source; and through ValidateAppend, a typed
// violation is a violation of the append while opaque events are unchanged.

#include "services/typed_validation.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "casetrail/v1/case_events.pb.h"
#include "casetrail/v1/case_log.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "services/append_validation.h"
#include "tests/testing/case_events.h"

namespace casetrail::services {
namespace {

using casetrail::testing::MakeAppendRequest;
using casetrail::testing::MakeCaseEvent;
using casetrail::v1::AuthorityLevel;
using casetrail::v1::CaseEvent;
using casetrail::v1::Decision;
using casetrail::v1::ExpectedVersion;
using google::protobuf::FieldDescriptor;
using google::protobuf::OneofDescriptor;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kTyped[] = "typed event (DOMAIN.md A)";
constexpr char kDecision[] = "decision event (DOMAIN.md A)";
constexpr char kCorrections[] = "corrections [CHR]";
constexpr char kRule3[] = "rule 3 [GLOSS][GH]";
constexpr char kRule5[] = "rule 5 [GH]";
constexpr char kRule7[] = "rule 7 [GH]";
constexpr char kRule8[] = "rule 8 [GH]";
constexpr char kRule9[] = "rule 9 [GH]";
constexpr char kRule10[] = "rule 10 [GH]";
constexpr char kRule15[] = "rule 15 [CTSA36][CDG23]";
constexpr char kRule16[] = "rule 16 [CTSA36][WEST]";
constexpr char kRule20[] = "rule 20 [ISA24][DPA-S1]";

std::vector<std::string> Fields(const std::vector<FieldViolation>& violations) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : violations) fields.push_back(v.field);
  return fields;
}

std::string Describe(const std::vector<FieldViolation>& violations) {
  std::string out;
  for (const FieldViolation& v : violations) {
    absl::StrAppend(&out, "\n  ", v.field, ": ", v.description);
  }
  return out;
}

// A typed event with the envelope a typed event needs; the caller sets the
// payload.
CaseEvent Typed(const std::string& type) {
  CaseEvent e = MakeCaseEvent("evt-1", type);
  e.clear_opaque();
  e.set_jurisdiction(casetrail::v1::JURISDICTION_ENGLAND);
  e.mutable_source()->set_provenance(
      casetrail::v1::Source::PROVENANCE_FIRST_HAND);
  return e;
}

void Decide(Decision* d, AuthorityLevel level) {
  d->mutable_decided_by()->set_id("mgr-7");
  d->mutable_decided_by()->set_name("M. Manager");
  d->mutable_decided_by()->set_role("Manager, Assessment Team 2");
  d->mutable_decided_by()->set_authority_level(level);
  d->set_rationale("Home conditions and the school's account were weighed.");
}

template <typename Change>
CaseEvent With(CaseEvent e, Change change) {
  change(e);
  return e;
}

Decision* DecisionOf(CaseEvent& e) {
  const auto* field =
      CaseEvent::descriptor()->FindFieldByNumber(e.payload_case());
  auto* payload = e.GetReflection()->MutableMessage(&e, field);
  return static_cast<Decision*>(payload->GetReflection()->MutableMessage(
      payload, payload->GetDescriptor()->FindFieldByName("decision")));
}

auto SetLevel(int level) {
  return [level](CaseEvent& e) {
    DecisionOf(e)->mutable_decided_by()->set_authority_level(
        static_cast<AuthorityLevel>(level));
  };
}

auto SetRationale(const std::string& rationale) {
  return [rationale](CaseEvent& e) { DecisionOf(e)->set_rationale(rationale); };
}

// Valid events, one or more per rule.

CaseEvent ReferralDecided() {
  CaseEvent e = Typed("ReferralDecision");
  auto* p = e.mutable_referral_decision();
  Decide(p->mutable_decision(), casetrail::v1::AUTHORITY_LEVEL_SOCIAL_WORKER);
  p->set_outcome(casetrail::v1::REFERRAL_OUTCOME_ASSESSMENT);
  return e;
}

CaseEvent ExtensionDecided() {
  CaseEvent e = Typed("AssessmentExtensionDecided");
  auto* p = e.mutable_assessment_extension_decided();
  Decide(p->mutable_decision(), casetrail::v1::AUTHORITY_LEVEL_SERVICE_MANAGER);
  p->set_assessment_id("asmt-1");
  p->set_request_event_id("evt-0");
  p->set_outcome(casetrail::v1::EXTENSION_OUTCOME_APPROVED);
  p->mutable_new_target_date()->set_year(2024);
  p->mutable_new_target_date()->set_month(2);
  p->mutable_new_target_date()->set_day(29);
  return e;
}

CaseEvent NotSeenAlone() {
  CaseEvent e = Typed("ChildNotSeenAloneAuthorised");
  auto* p = e.mutable_child_not_seen_alone_authorised();
  Decide(p->mutable_decision(), casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  p->set_child_id("child-1");
  p->set_visit_event_id("evt-0");
  return e;
}

CaseEvent ConsentOverride() {
  CaseEvent e = Typed("ConsentOverrideAuthorised");
  auto* p = e.mutable_consent_override_authorised();
  Decide(p->mutable_decision(), casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  p->set_purpose("discuss the referral with the GP and school");
  p->set_significant_harm_reason(
      "telling the father first could put the child at risk of harm");
  return e;
}

CaseEvent InterpreterNotUsed() {
  CaseEvent e = Typed("InterpreterDecision");
  auto* p = e.mutable_interpreter_decision();
  Decide(p->mutable_decision(), casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  p->set_person_id("person-2");
  p->set_language("Polish");
  p->set_interpreter_used(false);
  return e;
}

CaseEvent OutcomeAuthorised() {
  CaseEvent e = Typed("AssessmentAuthorised");
  auto* p = e.mutable_assessment_authorised();
  Decide(p->mutable_decision(), casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  p->set_assessment_id("asmt-1");
  p->set_child_id("child-1");
  p->add_outcomes(casetrail::v1::ASSESSMENT_OUTCOME_CHILD_IN_NEED_PLAN);
  p->add_basis(casetrail::v1::STATUTORY_BASIS_CA1989_S17);
  p->set_child_seen(true);
  p->set_outcome_shared_in_writing(true);
  return e;
}

CaseEvent Supervision() {
  CaseEvent e = Typed("SupervisionRecorded");
  auto* p = e.mutable_supervision_recorded();
  Decide(p->mutable_decision(), casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  p->set_discussion("progress of the CIN plan");
  p->mutable_risk()->set_likelihood(casetrail::v1::RISK_RATING_MEDIUM);
  p->mutable_risk()->set_severity(casetrail::v1::RISK_RATING_HIGH);
  p->mutable_risk()->set_timescale("within weeks if the partner returns");
  return e;
}

CaseEvent SignedOffRiskAnalysis() {
  CaseEvent e = Typed("RiskAnalysisRecorded");
  auto* p = e.mutable_risk_analysis_recorded();
  Decide(p->mutable_decision(), casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  for (const char* concern : {"domestic abuse", "parental drinking"}) {
    auto* c = p->add_concerns();
    c->set_description(concern);
    c->set_evidence("police notifications");
    c->mutable_judgement()->set_likelihood(casetrail::v1::RISK_RATING_HIGH);
    c->mutable_judgement()->set_severity(casetrail::v1::RISK_RATING_HIGH);
    c->mutable_judgement()->set_timescale("now");
  }
  // Strengths are not risk judgements: none is asked of them.
  p->add_strengths()->set_description("grandmother visits daily");
  return e;
}

CaseEvent ChannelReferral() {
  CaseEvent e = Typed("ChannelReferralReceived");
  auto* p = e.mutable_channel_referral_received();
  p->set_channel_case_id("ch-1");
  p->set_prevent_referral_id("pr-1");
  p->set_referred_by(casetrail::v1::CHANNEL_REFERRER_POLICE);
  return e;
}

CaseEvent ChannelConsent() {
  CaseEvent e = Typed("ChannelConsentRecorded");
  auto* p = e.mutable_channel_consent_recorded();
  p->set_channel_case_id("ch-1");
  p->set_giver(casetrail::v1::CHANNEL_CONSENT_GIVER_PARENT_OR_GUARDIAN);
  p->set_giver_name("A. Parent");
  p->set_how_sought("home visit with the Channel coordinator");
  p->set_status(casetrail::v1::CONSENT_STATUS_GIVEN);
  return e;
}

CaseEvent SupportPlan() {
  CaseEvent e = Typed("SupportPlanAgreed");
  auto* p = e.mutable_support_plan_agreed();
  p->set_channel_case_id("ch-1");
  p->set_plan_id("plan-1");
  p->set_consent_event_id("evt-consent");
  auto* s = p->add_support();
  s->set_nature("mentoring");
  s->mutable_provider()->set_name("Intervention Provider 12");
  s->set_intervention_provider(true);
  s->set_timing("weekly sessions from 3 March for 12 weeks");
  return e;
}

CaseEvent SharedWithoutConsent() {
  CaseEvent e = Typed("InformationShared");
  auto* p = e.mutable_information_shared();
  Decide(p->mutable_decision(), casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  p->set_what("the assessment summary");
  p->add_recipients()->set_agency("Northshire Police");
  p->set_purpose("s47 enquiry");
  p->set_lawful_basis("UK GDPR Art 6(1)(e); DPA 2018 Sch 1 para 18");
  p->set_reasoning("seeking consent would alert the alleged abuser");
  return e;
}

CaseEvent SharedWithConsent() {
  CaseEvent e = Typed("InformationShared");
  auto* p = e.mutable_information_shared();
  p->set_what("the assessment summary");
  p->add_recipients()->set_agency("Elm Park Primary");
  p->set_purpose("support in school");
  p->set_reasoning("the school needs it to put support in place");
  p->set_consent_event_id("evt-consent");
  return e;
}

CaseEvent Correction() {
  CaseEvent e = Typed("RecordCorrected");
  auto* p = e.mutable_record_corrected();
  p->set_target_event_id("evt-0");
  p->set_field_path("contact_received.concern");
  p->set_old_value("\"bruise on left arm\"");
  p->set_new_value("\"bruise on right arm\"");
  p->set_reason("transcription error");
  p->mutable_approved_by()->set_id("mgr-7");
  return e;
}

CaseEvent Retraction() {
  CaseEvent e = Typed("EntryRetracted");
  auto* p = e.mutable_entry_retracted();
  p->set_target_event_id("evt-0");
  p->set_reason(casetrail::v1::RETRACTION_REASON_WRONG_CHILD);
  return e;
}

CaseEvent Annotation() {
  CaseEvent e = Typed("RecordAnnotated");
  e.mutable_record_annotated()->set_target_event_id("evt-0");
  e.mutable_record_annotated()->set_annotation("see the GP letter");
  return e;
}

CaseEvent Dispute() {
  CaseEvent e = Typed("SubjectDisputeRecorded");
  e.mutable_subject_dispute_recorded()->set_target_event_id("evt-0");
  e.mutable_subject_dispute_recorded()->set_statement("I was not there.");
  return e;
}

struct Valid {
  std::string name;
  CaseEvent event;
};

std::vector<Valid> ValidEvents() {
  using namespace casetrail::v1;  // NOLINT: enum values, for brevity
  std::vector<Valid> valid = {
      {"a typed event with no rule of its own",
       With(Typed("ContactReceived"),
            [](CaseEvent& e) {
              e.mutable_contact_received()->set_concern("bruise");
            })},
      {"Wales", With(Typed("ContactReceived"),
                     [](CaseEvent& e) {
                       e.set_jurisdiction(JURISDICTION_WALES);
                       e.mutable_contact_received();
                     })},
      {"a decision any level may take", ReferralDecided()},
      {"rule 3", ExtensionDecided()},
      {"rule 3, refused: no new target date",
       With(ExtensionDecided(),
            [](CaseEvent& e) {
              auto* p = e.mutable_assessment_extension_decided();
              p->set_outcome(EXTENSION_OUTCOME_REFUSED);
              p->clear_new_target_date();
            })},
      {"rule 5", NotSeenAlone()},
      {"rule 7", ConsentOverride()},
      {"rule 8", InterpreterNotUsed()},
      {"rule 8, interpreter used: any level",
       With(InterpreterNotUsed(),
            [](CaseEvent& e) {
              auto* p = e.mutable_interpreter_decision();
              p->set_interpreter_used(true);
              p->mutable_decision()->mutable_decided_by()->set_authority_level(
                  AUTHORITY_LEVEL_SOCIAL_WORKER);
            })},
      {"rule 9", OutcomeAuthorised()},
      {"rule 9, withheld with a reason",
       With(OutcomeAuthorised(),
            [](CaseEvent& e) {
              auto* p = e.mutable_assessment_authorised();
              p->set_outcome_shared_in_writing(false);
              p->set_outcome_withheld_reason(
                  "sharing it would alert the alleged abuser");
            })},
      {"rule 10, supervision", Supervision()},
      {"rule 10, supervision without a risk judgement",
       With(Supervision(),
            [](CaseEvent& e) {
              e.mutable_supervision_recorded()->clear_risk();
            })},
      {"rule 10, signed-off risk analysis", SignedOffRiskAnalysis()},
      {"rule 10, a draft risk analysis need not be complete",
       With(SignedOffRiskAnalysis(),
            [](CaseEvent& e) {
              auto* p = e.mutable_risk_analysis_recorded();
              p->clear_decision();
              p->mutable_concerns(0)->clear_judgement();
              p->mutable_concerns(1)->mutable_judgement()->clear_timescale();
            })},
      {"rule 15, police", ChannelReferral()},
      {"rule 15, local authority",
       With(ChannelReferral(),
            [](CaseEvent& e) {
              e.mutable_channel_referral_received()->set_referred_by(
                  CHANNEL_REFERRER_LOCAL_AUTHORITY);
            })},
      {"rule 16, consent", ChannelConsent()},
      {"rule 16, the individual's own consent",
       With(ChannelConsent(),
            [](CaseEvent& e) {
              e.mutable_channel_consent_recorded()->set_giver(
                  CHANNEL_CONSENT_GIVER_INDIVIDUAL);
            })},
      {"rule 16, plan", SupportPlan()},
      {"rule 16, plan provider by id only",
       With(SupportPlan(),
            [](CaseEvent& e) {
              auto* provider = e.mutable_support_plan_agreed()
                                   ->mutable_support(0)
                                   ->mutable_provider();
              provider->clear_name();
              provider->set_id("ip-12");
            })},
      {"rule 20, without consent", SharedWithoutConsent()},
      {"rule 20, with consent: no decision or lawful basis",
       SharedWithConsent()},
      {"RecordCorrected", Correction()},
      {"EntryRetracted", Retraction()},
      {"RecordAnnotated", Annotation()},
      {"SubjectDisputeRecorded", Dispute()},
  };
  for (AuthorityLevel level :
       {AUTHORITY_LEVEL_HEAD_OF_SERVICE, AUTHORITY_LEVEL_DIRECTOR}) {
    valid.push_back({absl::StrCat("rule 3 at ", AuthorityLevel_Name(level)),
                     With(ExtensionDecided(), [level](CaseEvent& e) {
                       e.mutable_assessment_extension_decided()
                           ->mutable_decision()
                           ->mutable_decided_by()
                           ->set_authority_level(level);
                     })});
  }
  for (AuthorityLevel level :
       {AUTHORITY_LEVEL_SERVICE_MANAGER, AUTHORITY_LEVEL_HEAD_OF_SERVICE,
        AUTHORITY_LEVEL_DIRECTOR}) {
    const auto raise = SetLevel(level);
    const std::string at = AuthorityLevel_Name(level);
    valid.push_back({"rule 5 at " + at, With(NotSeenAlone(), raise)});
    valid.push_back({"rule 7 at " + at, With(ConsentOverride(), raise)});
    valid.push_back({"rule 8 at " + at, With(InterpreterNotUsed(), raise)});
    valid.push_back({"rule 9 at " + at, With(OutcomeAuthorised(), raise)});
  }
  return valid;
}

TEST(ValidateTypedEventTest, AcceptsAValidEventOfEachRule) {
  for (const Valid& c : ValidEvents()) {
    SCOPED_TRACE(c.name);
    const std::vector<FieldViolation> violations =
        ValidateTypedEvent(c.event, 0);
    EXPECT_THAT(violations, IsEmpty()) << Describe(violations);
  }
}

// One way of breaking a rule: the one violation it gives.
struct Broken {
  std::string name;
  CaseEvent event;
  // The violation's exact path, for the event at index 2 of an append.
  std::string field;
  // What the description starts with: the rule and its source.
  std::string rule;
};

std::vector<Broken> BrokenEvents() {
  using namespace casetrail::v1;  // NOLINT: enum values, for brevity
  const std::string ext = "events[2].assessment_extension_decided";
  std::vector<Broken> broken = {
      // Every typed event.
      {"event_type is not the payload's message name",
       With(ReferralDecided(),
            [](CaseEvent& e) { e.set_event_type("Referral"); }),
       "events[2].event_type", kTyped},
      {"event_type is the payload's field name",
       With(ReferralDecided(),
            [](CaseEvent& e) { e.set_event_type("referral_decision"); }),
       "events[2].event_type", kTyped},
      {"no jurisdiction",
       With(ReferralDecided(), [](CaseEvent& e) { e.clear_jurisdiction(); }),
       "events[2].jurisdiction", kTyped},
      {"unknown jurisdiction",
       With(ReferralDecided(),
            [](CaseEvent& e) {
              e.set_jurisdiction(static_cast<Jurisdiction>(3));
            }),
       "events[2].jurisdiction", kTyped},
      // Rule 23: where the information came from.
      {"no provenance",
       With(ReferralDecided(), [](CaseEvent& e) { e.clear_source(); }),
       "events[2].source.provenance", "rule 23 [CHR]"},
      {"reported without the informant",
       With(ReferralDecided(),
            [](CaseEvent& e) {
              e.mutable_source()->set_provenance(
                  casetrail::v1::Source::PROVENANCE_REPORTED);
              e.mutable_source()->set_informant("  ");
            }),
       "events[2].source.informant", "rule 23 [CHR]"},
      // Every decision event.
      {"no decision",
       With(ReferralDecided(),
            [](CaseEvent& e) {
              e.mutable_referral_decision()->clear_decision();
            }),
       "events[2].referral_decision.decision", kDecision},
      {"no decision maker",
       With(ReferralDecided(),
            [](CaseEvent& e) {
              DecisionOf(e)->mutable_decided_by()->clear_id();
            }),
       "events[2].referral_decision.decision.decided_by.id", kDecision},
      {"a blank decision maker",
       With(ReferralDecided(),
            [](CaseEvent& e) {
              DecisionOf(e)->mutable_decided_by()->set_id(" ");
            }),
       "events[2].referral_decision.decision.decided_by.id", kDecision},
      {"no authority level",
       With(ReferralDecided(), SetLevel(AUTHORITY_LEVEL_UNSPECIFIED)),
       "events[2].referral_decision.decision.decided_by.authority_level",
       kDecision},
      {"an unknown authority level", With(ReferralDecided(), SetLevel(42)),
       "events[2].referral_decision.decision.decided_by.authority_level",
       kDecision},
      {"no rationale", With(ReferralDecided(), SetRationale("")),
       "events[2].referral_decision.decision.rationale", kDecision},
      {"a whitespace rationale",
       With(ReferralDecided(), SetRationale(" \t\n ")),
       "events[2].referral_decision.decision.rationale", kDecision},
      {"decision on another decision type",
       With(ConsentOverride(),
            [](CaseEvent& e) {
              e.mutable_consent_override_authorised()->clear_decision();
            }),
       "events[2].consent_override_authorised.decision", kDecision},
      // Rule 3.
      {"rule 3: decided below Service Manager",
       With(ExtensionDecided(), SetLevel(AUTHORITY_LEVEL_TEAM_MANAGER)),
       ext + ".decision.decided_by.authority_level", kRule3},
      {"rule 3: no rationale", With(ExtensionDecided(), SetRationale(" ")),
       ext + ".decision.rationale", kRule3},
      {"rule 3: no outcome",
       With(ExtensionDecided(),
            [](CaseEvent& e) {
              e.mutable_assessment_extension_decided()->clear_outcome();
            }),
       ext + ".outcome", kRule3},
      {"rule 3: approved without a new target date",
       With(ExtensionDecided(),
            [](CaseEvent& e) {
              e.mutable_assessment_extension_decided()->clear_new_target_date();
            }),
       ext + ".new_target_date", kRule3},
      {"rule 3: approved with an impossible new target date",
       With(ExtensionDecided(),
            [](CaseEvent& e) {
              e.mutable_assessment_extension_decided()
                  ->mutable_new_target_date()
                  ->set_year(2025);  // 29 February 2025
            }),
       ext + ".new_target_date", kRule3},
      {"rule 3: approved with an empty new target date",
       With(ExtensionDecided(),
            [](CaseEvent& e) {
              e.mutable_assessment_extension_decided()
                  ->mutable_new_target_date()
                  ->Clear();
            }),
       ext + ".new_target_date", kRule3},
      // Rule 5.
      {"rule 5: no reason", With(NotSeenAlone(), SetRationale("")),
       "events[2].child_not_seen_alone_authorised.decision.rationale", kRule5},
      // Rule 7.
      {"rule 7: no significant-harm reason",
       With(ConsentOverride(),
            [](CaseEvent& e) {
              e.mutable_consent_override_authorised()
                  ->set_significant_harm_reason("  ");
            }),
       "events[2].consent_override_authorised.significant_harm_reason", kRule7},
      {"rule 7: no reasons", With(ConsentOverride(), SetRationale("")),
       "events[2].consent_override_authorised.decision.rationale", kRule7},
      // Rule 9.
      {"rule 9: not shared in writing and no reason",
       With(OutcomeAuthorised(),
            [](CaseEvent& e) {
              e.mutable_assessment_authorised()->set_outcome_shared_in_writing(
                  false);
            }),
       "events[2].assessment_authorised.outcome_withheld_reason", kRule9},
      {"rule 9: not shared in writing and a blank reason",
       With(OutcomeAuthorised(),
            [](CaseEvent& e) {
              auto* p = e.mutable_assessment_authorised();
              p->set_outcome_shared_in_writing(false);
              p->set_outcome_withheld_reason("\n");
            }),
       "events[2].assessment_authorised.outcome_withheld_reason", kRule9},
      // Rule 10.
      {"rule 10: supervision without reasoning",
       With(Supervision(), SetRationale("")),
       "events[2].supervision_recorded.decision.rationale", kRule10},
      {"rule 10: supervision risk without likelihood",
       With(Supervision(),
            [](CaseEvent& e) {
              e.mutable_supervision_recorded()
                  ->mutable_risk()
                  ->clear_likelihood();
            }),
       "events[2].supervision_recorded.risk.likelihood", kRule10},
      {"rule 10: supervision risk with an unknown severity",
       With(Supervision(),
            [](CaseEvent& e) {
              e.mutable_supervision_recorded()->mutable_risk()->set_severity(
                  static_cast<RiskRating>(9));
            }),
       "events[2].supervision_recorded.risk.severity", kRule10},
      {"rule 10: supervision risk without timescale",
       With(Supervision(),
            [](CaseEvent& e) {
              e.mutable_supervision_recorded()->mutable_risk()->set_timescale(
                  " ");
            }),
       "events[2].supervision_recorded.risk.timescale", kRule10},
      {"rule 10: signed-off concern without a judgement",
       With(SignedOffRiskAnalysis(),
            [](CaseEvent& e) {
              e.mutable_risk_analysis_recorded()
                  ->mutable_concerns(1)
                  ->clear_judgement();
            }),
       "events[2].risk_analysis_recorded.concerns[1].judgement", kRule10},
      {"rule 10: signed-off concern without severity",
       With(SignedOffRiskAnalysis(),
            [](CaseEvent& e) {
              e.mutable_risk_analysis_recorded()
                  ->mutable_concerns(0)
                  ->mutable_judgement()
                  ->clear_severity();
            }),
       "events[2].risk_analysis_recorded.concerns[0].judgement.severity",
       kRule10},
      {"rule 10: signed-off concern without timescale",
       With(SignedOffRiskAnalysis(),
            [](CaseEvent& e) {
              e.mutable_risk_analysis_recorded()
                  ->mutable_concerns(1)
                  ->mutable_judgement()
                  ->clear_timescale();
            }),
       "events[2].risk_analysis_recorded.concerns[1].judgement.timescale",
       kRule10},
      {"rule 10: signed off without rationale",
       With(SignedOffRiskAnalysis(), SetRationale("")),
       "events[2].risk_analysis_recorded.decision.rationale", kDecision},
      // Rule 15.
      {"rule 15: no referrer",
       With(ChannelReferral(),
            [](CaseEvent& e) {
              e.mutable_channel_referral_received()->clear_referred_by();
            }),
       "events[2].channel_referral_received.referred_by", kRule15},
      {"rule 15: an unknown referrer",
       With(ChannelReferral(),
            [](CaseEvent& e) {
              e.mutable_channel_referral_received()->set_referred_by(
                  static_cast<ChannelReferrer>(3));
            }),
       "events[2].channel_referral_received.referred_by", kRule15},
      // Rule 16.
      {"rule 16: whose consent is not recorded",
       With(ChannelConsent(),
            [](CaseEvent& e) {
              e.mutable_channel_consent_recorded()->clear_giver();
            }),
       "events[2].channel_consent_recorded.giver", kRule16},
      {"rule 16: plan names no consent",
       With(SupportPlan(),
            [](CaseEvent& e) {
              e.mutable_support_plan_agreed()->set_consent_event_id(" ");
            }),
       "events[2].support_plan_agreed.consent_event_id", kRule16},
      {"rule 16: plan with no support",
       With(SupportPlan(),
            [](CaseEvent& e) {
              e.mutable_support_plan_agreed()->clear_support();
            }),
       "events[2].support_plan_agreed.support", kRule16},
      {"rule 16: support of no nature",
       With(SupportPlan(),
            [](CaseEvent& e) {
              e.mutable_support_plan_agreed()->mutable_support(0)->set_nature(
                  "");
            }),
       "events[2].support_plan_agreed.support[0].nature", kRule16},
      {"rule 16: support with no provider",
       With(SupportPlan(),
            [](CaseEvent& e) {
              e.mutable_support_plan_agreed()
                  ->mutable_support(0)
                  ->mutable_provider()
                  ->set_name(" ");
            }),
       "events[2].support_plan_agreed.support[0].provider", kRule16},
      {"rule 16: the second support element with no timing",
       With(SupportPlan(),
            [](CaseEvent& e) {
              auto* p = e.mutable_support_plan_agreed();
              *p->add_support() = p->support(0);
              p->mutable_support(1)->clear_timing();
            }),
       "events[2].support_plan_agreed.support[1].timing", kRule16},
      // Rule 20.
      {"rule 20: without consent and no decision",
       With(SharedWithoutConsent(),
            [](CaseEvent& e) {
              e.mutable_information_shared()->clear_decision();
            }),
       "events[2].information_shared.decision", kDecision},
      {"rule 20: without consent and no lawful basis",
       With(SharedWithoutConsent(),
            [](CaseEvent& e) {
              e.mutable_information_shared()->set_lawful_basis(" ");
            }),
       "events[2].information_shared.lawful_basis", kRule20},
      {"rule 20: without consent and no reasoning",
       With(SharedWithoutConsent(),
            [](CaseEvent& e) {
              e.mutable_information_shared()->clear_reasoning();
            }),
       "events[2].information_shared.reasoning", kRule20},
      {"rule 20: with consent and no reasoning",
       With(SharedWithConsent(),
            [](CaseEvent& e) {
              e.mutable_information_shared()->clear_reasoning();
            }),
       "events[2].information_shared.reasoning", kRule20},
      {"rule 20: not what",
       With(SharedWithConsent(),
            [](CaseEvent& e) { e.mutable_information_shared()->clear_what(); }),
       "events[2].information_shared.what", kRule20},
      {"rule 20: not with whom",
       With(SharedWithConsent(),
            [](CaseEvent& e) {
              e.mutable_information_shared()->clear_recipients();
            }),
       "events[2].information_shared.recipients", kRule20},
      {"rule 20: no purpose",
       With(SharedWithoutConsent(),
            [](CaseEvent& e) {
              e.mutable_information_shared()->clear_purpose();
            }),
       "events[2].information_shared.purpose", kRule20},
      // Corrections.
      {"correction without a target",
       With(Correction(),
            [](CaseEvent& e) {
              e.mutable_record_corrected()->clear_target_event_id();
            }),
       "events[2].record_corrected.target_event_id", kCorrections},
      {"correction without a field",
       With(Correction(),
            [](CaseEvent& e) {
              e.mutable_record_corrected()->clear_field_path();
            }),
       "events[2].record_corrected.field_path", kCorrections},
      {"correction without a new value",
       With(Correction(),
            [](CaseEvent& e) {
              e.mutable_record_corrected()->clear_new_value();
            }),
       "events[2].record_corrected.new_value", kCorrections},
      {"correction without a reason",
       With(
           Correction(),
           [](CaseEvent& e) { e.mutable_record_corrected()->set_reason(" "); }),
       "events[2].record_corrected.reason", kCorrections},
      {"correction without approval",
       With(Correction(),
            [](CaseEvent& e) {
              e.mutable_record_corrected()->clear_approved_by();
            }),
       "events[2].record_corrected.approved_by.id", kCorrections},
      {"retraction without a target",
       With(Retraction(),
            [](CaseEvent& e) {
              e.mutable_entry_retracted()->clear_target_event_id();
            }),
       "events[2].entry_retracted.target_event_id", kCorrections},
      {"retraction without a reason",
       With(Retraction(),
            [](CaseEvent& e) { e.mutable_entry_retracted()->clear_reason(); }),
       "events[2].entry_retracted.reason", kCorrections},
      {"retraction with an unknown reason",
       With(Retraction(),
            [](CaseEvent& e) {
              e.mutable_entry_retracted()->set_reason(
                  static_cast<RetractionReason>(5));
            }),
       "events[2].entry_retracted.reason", kCorrections},
      {"annotation without a target",
       With(Annotation(),
            [](CaseEvent& e) {
              e.mutable_record_annotated()->set_target_event_id(" ");
            }),
       "events[2].record_annotated.target_event_id", kCorrections},
      {"dispute without a target",
       With(Dispute(),
            [](CaseEvent& e) {
              e.mutable_subject_dispute_recorded()->clear_target_event_id();
            }),
       "events[2].subject_dispute_recorded.target_event_id", kCorrections},
  };
  // Who may decide: each level below the rule's, and the levels outside the
  // management line (a chair, the police), and none.
  const struct {
    CaseEvent (*make)();
    std::string path;
    const char* rule;
    std::vector<int> refused;
  } authority[] = {
      {ExtensionDecided,
       ext,
       kRule3,
       {AUTHORITY_LEVEL_UNSPECIFIED, AUTHORITY_LEVEL_SOCIAL_WORKER,
        AUTHORITY_LEVEL_TEAM_MANAGER, AUTHORITY_LEVEL_CHAIR,
        AUTHORITY_LEVEL_POLICE, 42}},
      {NotSeenAlone,
       "events[2].child_not_seen_alone_authorised",
       kRule5,
       {AUTHORITY_LEVEL_UNSPECIFIED, AUTHORITY_LEVEL_SOCIAL_WORKER,
        AUTHORITY_LEVEL_CHAIR, AUTHORITY_LEVEL_POLICE}},
      {ConsentOverride,
       "events[2].consent_override_authorised",
       kRule7,
       {AUTHORITY_LEVEL_UNSPECIFIED, AUTHORITY_LEVEL_SOCIAL_WORKER,
        AUTHORITY_LEVEL_CHAIR, AUTHORITY_LEVEL_POLICE}},
      {InterpreterNotUsed,
       "events[2].interpreter_decision",
       kRule8,
       {AUTHORITY_LEVEL_UNSPECIFIED, AUTHORITY_LEVEL_SOCIAL_WORKER,
        AUTHORITY_LEVEL_CHAIR, AUTHORITY_LEVEL_POLICE}},
      {OutcomeAuthorised,
       "events[2].assessment_authorised",
       kRule9,
       {AUTHORITY_LEVEL_UNSPECIFIED, AUTHORITY_LEVEL_SOCIAL_WORKER,
        AUTHORITY_LEVEL_CHAIR, AUTHORITY_LEVEL_POLICE}},
  };
  for (const auto& a : authority) {
    for (int level : a.refused) {
      broken.push_back({absl::StrCat(a.rule, ": decided at level ", level),
                        With(a.make(), SetLevel(level)),
                        a.path + ".decision.decided_by.authority_level",
                        a.rule});
    }
  }
  return broken;
}

TEST(ValidateTypedEventTest, ReportsEachBrokenRuleAtItsField) {
  for (const Broken& c : BrokenEvents()) {
    SCOPED_TRACE(c.name);
    const std::vector<FieldViolation> violations =
        ValidateTypedEvent(c.event, 2);
    ASSERT_EQ(violations.size(), 1u) << Describe(violations);
    EXPECT_EQ(violations[0].field, c.field);
    EXPECT_THAT(violations[0].description, StartsWith(c.rule + ": "));
    EXPECT_GT(violations[0].description.size(), c.rule.size() + 2);
  }
}

TEST(ValidateTypedEventTest, DescriptionsSayWhatTheRuleAsks) {
  const std::vector<FieldViolation> violations = ValidateTypedEvent(
      With(ExtensionDecided(), SetLevel(casetrail::v1::AUTHORITY_LEVEL_CHAIR)),
      1);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field,
            "events[1].assessment_extension_decided.decision.decided_by."
            "authority_level");
  EXPECT_EQ(violations[0].description,
            "rule 3 [GLOSS][GH]: an assessment extension is decided by a "
            "Service Manager or above, not AUTHORITY_LEVEL_CHAIR");
}

TEST(ValidateTypedEventTest, ReportsEveryViolationOfAnEvent) {
  CaseEvent e = Typed("AssessmentExtensionDecided");
  e.clear_jurisdiction();
  e.set_event_type("Extension");
  e.mutable_assessment_extension_decided()->mutable_decision();
  EXPECT_THAT(
      Fields(ValidateTypedEvent(e, 0)),
      ::testing::UnorderedElementsAre(
          "events[0].event_type", "events[0].jurisdiction",
          "events[0].assessment_extension_decided.outcome",
          "events[0].assessment_extension_decided.decision.decided_by.id",
          "events[0].assessment_extension_decided.decision.decided_by."
          "authority_level",
          "events[0].assessment_extension_decided.decision.rationale"));
}

// Access events are written by the server for the reads it answers; a client
// cannot append one (docs/security.md).
TEST(ValidateTypedEventTest, RefusesAnAccessEventFromAClient) {
  CaseEvent e = Typed("AccessRecorded");
  e.mutable_access_recorded()->set_principal_id("someone-else");
  EXPECT_THAT(Fields(ValidateTypedEvent(e, 0)),
              ElementsAre("events[0].access_recorded"));
}

// Over the whole payload oneof: event_type must be the message's name, and
// every decision event needs its decision (except a risk analysis, which is a
// decision only once signed off).
TEST(ValidateTypedEventTest, AppliesTheCommonRulesToEveryTypedPayload) {
  const OneofDescriptor* oneof =
      CaseEvent::descriptor()->FindOneofByName("payload");
  ASSERT_NE(oneof, nullptr);
  int decision_types = 0;
  for (int i = 0; i < oneof->field_count(); ++i) {
    const FieldDescriptor* field = oneof->field(i);
    // Opaque payloads are not checked; access events are the server's.
    if (field->name() == "opaque" || field->name() == "access_recorded") {
      continue;
    }
    const std::string type = field->message_type()->name();
    SCOPED_TRACE(type);
    CaseEvent e = Typed(type);
    e.GetReflection()->MutableMessage(&e, field);
    const std::string base = absl::StrCat("events[0].", field->name());

    std::vector<std::string> fields = Fields(ValidateTypedEvent(e, 0));
    EXPECT_THAT(fields, Not(Contains("events[0].event_type")));
    EXPECT_THAT(fields, Not(Contains("events[0].jurisdiction")));
    const bool is_decision =
        field->message_type()->FindFieldByName("decision") != nullptr;
    if (is_decision && type != "RiskAnalysisRecorded") {
      ++decision_types;
      EXPECT_THAT(fields, Contains(base + ".decision"));
    } else {
      EXPECT_THAT(fields, Not(Contains(base + ".decision")));
    }

    e.set_event_type(field->name());
    e.clear_jurisdiction();
    fields = Fields(ValidateTypedEvent(e, 0));
    EXPECT_THAT(fields, Contains("events[0].event_type"));
    EXPECT_THAT(fields, Contains("events[0].jurisdiction"));
  }
  // DOMAIN.md section A's [D] types, less RiskAnalysisRecorded.
  EXPECT_EQ(decision_types, 21);
}

// A type outside the catalogue (CaseNoteRecorded, a local type) may be
// opaque or carry no payload; nothing else of it is checked here.
TEST(ValidateTypedEventTest, IgnoresOpaqueAndMissingPayloadsOfOtherTypes) {
  CaseEvent opaque = MakeCaseEvent("evt-1", "CaseNoteRecorded");
  EXPECT_THAT(ValidateTypedEvent(opaque, 0), IsEmpty());
  CaseEvent none = MakeCaseEvent("evt-1", "Anything");
  none.clear_opaque();
  EXPECT_THAT(ValidateTypedEvent(none, 0), IsEmpty());
}

// A catalogue type sent opaque would skip every rule of its type: refused at
// event_type, naming the payload it must carry, for every catalogue type.
TEST(ValidateTypedEventTest, RefusesACatalogueTypeWithoutItsPayload) {
  const OneofDescriptor* oneof =
      CaseEvent::descriptor()->FindOneofByName("payload");
  int catalogue_types = 0;
  for (int i = 0; i < oneof->field_count(); ++i) {
    const FieldDescriptor* field = oneof->field(i);
    if (field->name() == "opaque") continue;
    ++catalogue_types;
    SCOPED_TRACE(field->name());
    CaseEvent opaque = MakeCaseEvent("evt-1", field->message_type()->name());
    std::vector<FieldViolation> violations = ValidateTypedEvent(opaque, 3);
    ASSERT_EQ(violations.size(), 1u) << Describe(violations);
    EXPECT_EQ(violations[0].field, "events[3].event_type");
    EXPECT_EQ(violations[0].description,
              absl::StrCat(kTyped, ": '", field->message_type()->name(),
                           "' is a catalogue type: its event carries the ",
                           field->name(), " payload, not an opaque one"));
    opaque.clear_opaque();
    violations = ValidateTypedEvent(opaque, 0);
    ASSERT_EQ(violations.size(), 1u) << Describe(violations);
    EXPECT_THAT(violations[0].description, ::testing::EndsWith("not none"));
  }
  // The 51 types of docs/events.md and the server's AccessRecorded.
  EXPECT_EQ(catalogue_types, 52);
}

// Every CivilDate of a payload, however deep or repeated, is a calendar date;
// each impossible one is reported at its path.
TEST(ValidateTypedEventTest, RefusesImpossibleDatesAnywhereInThePayload) {
  struct Case {
    int year, month, day;
  };
  for (const Case& d : {Case{2019, 2, 30}, Case{2024, 13, 1}, Case{0, 1, 1},
                        Case{2024, 4, 31}, Case{2024, 1, 0}}) {
    SCOPED_TRACE(absl::StrCat(d.year, "-", d.month, "-", d.day));
    CaseEvent e = ReferralDecided();
    casetrail::v1::CivilDate* review =
        e.mutable_referral_decision()->mutable_decision()->mutable_review_by();
    review->set_year(d.year);
    review->set_month(d.month);
    review->set_day(d.day);
    const std::vector<FieldViolation> violations = ValidateTypedEvent(e, 0);
    ASSERT_EQ(violations.size(), 1u) << Describe(violations);
    EXPECT_EQ(violations[0].field,
              "events[0].referral_decision.decision.review_by");
    EXPECT_THAT(violations[0].description,
                ::testing::HasSubstr("is not a calendar date"));
  }
  // A leap day is a date; a repeated message's dates are found by index.
  CaseEvent leap = ReferralDecided();
  auto* review =
      leap.mutable_referral_decision()->mutable_decision()->mutable_review_by();
  review->set_year(2024);
  review->set_month(2);
  review->set_day(29);
  EXPECT_THAT(ValidateTypedEvent(leap, 0), IsEmpty());
  CaseEvent group = Typed("CoreGroupHeld");
  auto* held = group.mutable_core_group_held();
  held->add_actions()->mutable_due()->set_year(2024);  // month and day 0
  held->add_actions()->set_description("no due date");
  auto* due = held->add_actions()->mutable_due();
  due->set_year(2023);
  due->set_month(2);
  due->set_day(29);
  EXPECT_THAT(Fields(ValidateTypedEvent(group, 1)),
              ElementsAre("events[1].core_group_held.actions[0].due",
                          "events[1].core_group_held.actions[2].due"));
}

TEST(ValidateAppendTypedTest, TypedViolationsAreViolationsOfTheAppend) {
  CaseEvent opaque = MakeCaseEvent("evt-1", "Some.Local_Type-2");
  opaque.clear_jurisdiction();
  CaseEvent typed = NotSeenAlone();
  typed.set_event_id("evt-2");
  CaseEvent below = With(ExtensionDecided(),
                         SetLevel(casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER));
  below.set_event_id("evt-3");

  const std::vector<FieldViolation> violations =
      ValidateAppend(MakeAppendRequest("case-1", ExpectedVersion::KIND_ANY,
                                       {opaque, typed, below}),
                     AppendLimits{});
  ASSERT_EQ(violations.size(), 1u) << Describe(violations);
  EXPECT_EQ(violations[0].field,
            "events[2].assessment_extension_decided.decision.decided_by."
            "authority_level");
  EXPECT_THAT(violations[0].description, StartsWith("rule 3 [GLOSS][GH]: "));

  // Without the broken event the append is accepted: the opaque event's type
  // and missing jurisdiction are not checked.
  EXPECT_THAT(
      ValidateAppend(MakeAppendRequest("case-1", ExpectedVersion::KIND_ANY,
                                       {opaque, typed}),
                     AppendLimits{}),
      IsEmpty());
}

// Recording late is never an error ("never block recording reality").
TEST(ValidateAppendTypedTest, NeverRejectsLateness) {
  CaseEvent late = ExtensionDecided();
  // Decided in January 2010 (recorded now, years later), extending to a date
  // that had already passed when it was decided.
  late.mutable_occurred_at()->mutable_time()->set_seconds(1262304000);
  late.mutable_occurred_at()->set_precision(
      casetrail::v1::TIME_PRECISION_MONTH);
  auto* date =
      late.mutable_assessment_extension_decided()->mutable_new_target_date();
  date->set_year(2009);
  date->set_month(3);
  date->set_day(31);
  EXPECT_THAT(ValidateAppend(MakeAppendRequest(
                                 "case-1", ExpectedVersion::KIND_ANY, {late}),
                             AppendLimits{}),
              IsEmpty());
}

}  // namespace
}  // namespace casetrail::services
