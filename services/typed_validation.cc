#include "services/typed_validation.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "casetrail/v1/case_events.pb.h"
#include "google/protobuf/descriptor.h"

namespace casetrail::services {
namespace {

using casetrail::v1::AuthorityLevel;
using casetrail::v1::CaseEvent;
using casetrail::v1::CivilDate;
using casetrail::v1::Decision;
using casetrail::v1::RiskJudgement;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// How descriptions name their rule: the rule's number in DOMAIN.md section C
// with its source keys, or the section A requirement it comes from.
constexpr absl::string_view kTypedEvent = "typed event (DOMAIN.md A)";
constexpr absl::string_view kDecisionEvent = "decision event (DOMAIN.md A)";
constexpr absl::string_view kCorrection = "corrections [CHR]";
constexpr absl::string_view kRule3 = "rule 3 [GLOSS][GH]";
constexpr absl::string_view kRule5 = "rule 5 [GH]";
constexpr absl::string_view kRule7 = "rule 7 [GH]";
constexpr absl::string_view kRule8 = "rule 8 [GH]";
constexpr absl::string_view kRule9 = "rule 9 [GH]";
constexpr absl::string_view kRule10 = "rule 10 [GH]";
constexpr absl::string_view kRule15 = "rule 15 [CTSA36][CDG23]";
constexpr absl::string_view kRule16 = "rule 16 [CTSA36][WEST]";
constexpr absl::string_view kRule20 = "rule 20 [ISA24][DPA-S1]";
constexpr absl::string_view kRule23 = "rule 23 [CHR]";

// A rationale of spaces records no reason, so it counts as missing.
bool IsBlank(absl::string_view s) {
  return absl::StripAsciiWhitespace(s).empty();
}

// Whether `level` is `min` or above in the management line (Team Manager to
// Director). A chair or a police officer is outside that line: procedure that
// asks for a manager is not met by them, whatever their enum number.
bool InManagementLineFrom(int level, AuthorityLevel min) {
  return level >= min && level <= casetrail::v1::AUTHORITY_LEVEL_DIRECTOR;
}

std::string LevelName(int level) {
  return casetrail::v1::AuthorityLevel_IsValid(level)
             ? casetrail::v1::AuthorityLevel_Name(
                   static_cast<AuthorityLevel>(level))
             : absl::StrCat("unknown authority level ", level);
}

bool IsValidCivilDate(const CivilDate& d) {
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30,
                                         31, 31, 30, 31, 30, 31};
  if (d.year() < 1 || d.year() > 9999 || d.month() < 1 || d.month() > 12) {
    return false;
  }
  const bool leap =
      d.year() % 4 == 0 && (d.year() % 100 != 0 || d.year() % 400 == 0);
  const int days = d.month() == 2 && !leap ? 28 : kDaysInMonth[d.month() - 1];
  return d.day() >= 1 && d.day() <= days;
}

// The catalogue's payload field for each of its event types, by the payload
// message's name ("ReferralDecision" -> referral_decision): every member of
// CaseEvent's payload oneof but `opaque`, so a new payload is covered without
// a change here.
const FieldDescriptor* CataloguePayloadFor(absl::string_view event_type) {
  static const auto* const kByType = [] {
    auto* by_type =
        new absl::flat_hash_map<std::string, const FieldDescriptor*>();
    const google::protobuf::OneofDescriptor* oneof =
        CaseEvent::descriptor()->FindOneofByName("payload");
    for (int i = 0; i < oneof->field_count(); ++i) {
      const FieldDescriptor* field = oneof->field(i);
      if (field->number() == CaseEvent::kOpaqueFieldNumber) continue;
      by_type->emplace(field->message_type()->name(), field);
    }
    return by_type;
  }();
  const auto it = kByType->find(event_type);
  return it == kByType->end() ? nullptr : it->second;
}

// Reports every CivilDate in `message` (at `path`), however deeply nested or
// repeated, that is not a calendar date. By reflection, so a date field added
// to a payload is checked without a change here.
void CheckDates(const Message& message, const std::string& path,
                std::vector<FieldViolation>& out) {
  if (message.GetDescriptor() == CivilDate::descriptor()) {
    const auto& d = static_cast<const CivilDate&>(message);
    if (!IsValidCivilDate(d)) {
      out.push_back(
          {path, absl::StrCat(kTypedEvent, ": ", d.year(), "-", d.month(), "-",
                              d.day(),
                              " is not a calendar date (year 1-9999, month "
                              "1-12, a day the month has)")});
    }
    return;
  }
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string field_path = absl::StrCat(path, ".", field->name());
    if (field->is_repeated()) {
      for (int j = 0; j < reflection->FieldSize(message, field); ++j) {
        CheckDates(reflection->GetRepeatedMessage(message, field, j),
                   absl::StrCat(field_path, "[", j, "]"), out);
      }
    } else {
      CheckDates(reflection->GetMessage(message, field), field_path, out);
    }
  }
}

// Violations under one path, e.g. "events[2].assessment_authorised".
class Violations {
 public:
  Violations(std::string base, std::vector<FieldViolation>& out)
      : base_(std::move(base)), out_(out) {}

  void Add(absl::string_view field, absl::string_view rule,
           absl::string_view what) {
    out_.push_back(
        {absl::StrCat(base_, ".", field), absl::StrCat(rule, ": ", what)});
  }

 private:
  std::string base_;
  std::vector<FieldViolation>& out_;
};

// What a decision event's Decision must show beyond section A's requirements.
struct DecisionRule {
  // The lowest level that may take the decision; UNSPECIFIED for any level.
  AuthorityLevel min_level = casetrail::v1::AUTHORITY_LEVEL_UNSPECIFIED;
  // The rule that sets min_level or `why`.
  absl::string_view rule = kDecisionEvent;
  // What the rule asks of the decision maker, when min_level is set.
  absl::string_view who;
  // What the rationale must give, when the rule asks for a reason.
  absl::string_view why;
};

void CheckDecision(const Decision& d, const DecisionRule& rule, Violations& v) {
  if (IsBlank(d.decided_by().id())) {
    v.Add("decision.decided_by.id", kDecisionEvent,
          "who decided is required (their id in the upstream system)");
  }
  const int level = d.decided_by().authority_level();
  if (rule.min_level != casetrail::v1::AUTHORITY_LEVEL_UNSPECIFIED) {
    if (!InManagementLineFrom(level, rule.min_level)) {
      v.Add("decision.decided_by.authority_level", rule.rule,
            level == casetrail::v1::AUTHORITY_LEVEL_UNSPECIFIED
                ? absl::StrCat(rule.who, "; authority_level is unset")
                : absl::StrCat(rule.who, ", not ", LevelName(level)));
    }
  } else if (level == casetrail::v1::AUTHORITY_LEVEL_UNSPECIFIED) {
    v.Add("decision.decided_by.authority_level", kDecisionEvent,
          "the level of authority the decision was taken at is required");
  } else if (!casetrail::v1::AuthorityLevel_IsValid(level)) {
    v.Add("decision.decided_by.authority_level", kDecisionEvent,
          LevelName(level));
  }
  if (IsBlank(d.rationale())) {
    if (rule.why.empty()) {
      v.Add("decision.rationale", kDecisionEvent,
            "the rationale is mandatory: why this option was chosen");
    } else {
      v.Add("decision.rationale", rule.rule, rule.why);
    }
  }
}

// Rule 10: a risk judgement is framed with likelihood, severity and timescale.
void CheckRiskJudgement(const RiskJudgement& j, absl::string_view path,
                        Violations& v) {
  if (j.likelihood() == casetrail::v1::RISK_RATING_UNSPECIFIED ||
      !casetrail::v1::RiskRating_IsValid(j.likelihood())) {
    v.Add(absl::StrCat(path, ".likelihood"), kRule10,
          "a risk judgement states its likelihood (LOW, MEDIUM or HIGH)");
  }
  if (j.severity() == casetrail::v1::RISK_RATING_UNSPECIFIED ||
      !casetrail::v1::RiskRating_IsValid(j.severity())) {
    v.Add(absl::StrCat(path, ".severity"), kRule10,
          "a risk judgement states its severity (LOW, MEDIUM or HIGH)");
  }
  if (IsBlank(j.timescale())) {
    v.Add(absl::StrCat(path, ".timescale"), kRule10,
          "a risk judgement states its timescale: when harm could occur");
  }
}

// The checks particular to one payload type. Returns what the type's Decision
// must show, and sets `decision_required` false for the types that are
// decisions only sometimes (DOMAIN.md A: "[D if no consent]", "[D when signed
// off]").
DecisionRule CheckPayload(const CaseEvent& event, bool& decision_required,
                          Violations& v) {
  DecisionRule rule;
  switch (event.payload_case()) {
    case CaseEvent::kAssessmentExtensionDecided: {
      const auto& p = event.assessment_extension_decided();
      rule = {casetrail::v1::AUTHORITY_LEVEL_SERVICE_MANAGER, kRule3,
              "an assessment extension is decided by a Service Manager or "
              "above",
              "an assessment extension is decided with the Service Manager's "
              "rationale"};
      if (p.outcome() == casetrail::v1::EXTENSION_OUTCOME_UNSPECIFIED ||
          !casetrail::v1::ExtensionOutcome_IsValid(p.outcome())) {
        v.Add("outcome", kRule3,
              "the decision's outcome is required: APPROVED or REFUSED");
      } else if (p.outcome() == casetrail::v1::EXTENSION_OUTCOME_APPROVED &&
                 (!p.has_new_target_date() ||
                  !IsValidCivilDate(p.new_target_date()))) {
        v.Add("new_target_date", kRule3,
              "an approved extension states the new target date (a valid "
              "calendar date)");
      }
      break;
    }
    case CaseEvent::kChildNotSeenAloneAuthorised:
      rule = {casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER, kRule5,
              "a child not seen alone is accepted by a Team Manager or above",
              "the manager records the reason the child was not seen alone"};
      break;
    case CaseEvent::kConsentOverrideAuthorised:
      rule = {casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER, kRule7,
              "acting without consent is authorised by a Team Manager or "
              "above",
              "the manager records the reasons for acting without consent"};
      if (IsBlank(
              event.consent_override_authorised().significant_harm_reason())) {
        v.Add("significant_harm_reason", kRule7,
              "why seeking or waiting for consent would risk significant "
              "harm is required");
      }
      break;
    case CaseEvent::kInterpreterDecision:
      // Using an interpreter needs no particular authority; not using one
      // does.
      if (!event.interpreter_decision().interpreter_used()) {
        rule = {casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER, kRule8,
                "a decision not to use an interpreter is approved by a Team "
                "Manager or above",
                ""};
      }
      break;
    case CaseEvent::kAssessmentAuthorised: {
      // The rule asks for the social worker and the line manager. The social
      // worker is the envelope's recorder, whose role is free text; the
      // payload's one decision maker is the manager.
      const auto& p = event.assessment_authorised();
      rule = {casetrail::v1::AUTHORITY_LEVEL_TEAM_MANAGER, kRule9,
              "an assessment outcome is decided with the line manager: a Team "
              "Manager or above",
              ""};
      if (!p.outcome_shared_in_writing() &&
          IsBlank(p.outcome_withheld_reason())) {
        v.Add("outcome_withheld_reason", kRule9,
              "the outcome is shared in writing (outcome_shared_in_writing) "
              "unless the reason for withholding it is recorded");
      }
      break;
    }
    case CaseEvent::kSupervisionRecorded: {
      const auto& p = event.supervision_recorded();
      rule.rule = kRule10;
      rule.why = "supervision records its reasoning (the decision's rationale)";
      if (p.has_risk()) CheckRiskJudgement(p.risk(), "risk", v);
      break;
    }
    case CaseEvent::kRiskAnalysisRecorded: {
      // Only a signed-off analysis is a decision; a draft may be incomplete.
      const auto& p = event.risk_analysis_recorded();
      decision_required = false;
      if (p.has_decision()) {
        for (int j = 0; j < p.concerns_size(); ++j) {
          const std::string path = absl::StrCat("concerns[", j, "].judgement");
          if (!p.concerns(j).has_judgement()) {
            v.Add(path, kRule10,
                  "a signed-off risk analysis frames each concern with "
                  "likelihood, severity and timescale");
          } else {
            CheckRiskJudgement(p.concerns(j).judgement(), path, v);
          }
        }
      }
      break;
    }
    case CaseEvent::kChannelReferralReceived: {
      const auto by = event.channel_referral_received().referred_by();
      if (by != casetrail::v1::CHANNEL_REFERRER_POLICE &&
          by != casetrail::v1::CHANNEL_REFERRER_LOCAL_AUTHORITY) {
        v.Add("referred_by", kRule15,
              "a Channel referral is made only by the police or the local "
              "authority (CTSA 2015 s36(2))");
      }
      break;
    }
    case CaseEvent::kChannelConsentRecorded: {
      // The payload has no age, so whether a parent's consent was needed is
      // not decidable here; whose consent it was must at least be known.
      const auto giver = event.channel_consent_recorded().giver();
      if (giver != casetrail::v1::CHANNEL_CONSENT_GIVER_INDIVIDUAL &&
          giver != casetrail::v1::CHANNEL_CONSENT_GIVER_PARENT_OR_GUARDIAN) {
        v.Add("giver", kRule16,
              "whose consent this is is required: the individual, or a parent "
              "or guardian if they are under 18");
      }
      break;
    }
    case CaseEvent::kSupportPlanAgreed: {
      const auto& p = event.support_plan_agreed();
      if (IsBlank(p.consent_event_id())) {
        // The plan has no fields of its own for how, when and by whom
        // consent was sought: it states them by naming the consent event.
        v.Add("consent_event_id", kRule16,
              "Channel support needs consent: the plan names the "
              "ChannelConsentRecorded event (how, when and by whom consent "
              "was sought) it rests on");
      }
      if (p.support().empty()) {
        v.Add("support", kRule16, "the plan states the support to be given");
      }
      for (int j = 0; j < p.support_size(); ++j) {
        const auto& s = p.support(j);
        const std::string path = absl::StrCat("support[", j, "]");
        if (IsBlank(s.nature())) {
          v.Add(path + ".nature", kRule16,
                "the plan states the nature of the support");
        }
        if (IsBlank(s.provider().id()) && IsBlank(s.provider().name())) {
          v.Add(path + ".provider", kRule16,
                "the plan states who provides the support, by id or name");
        }
        if (IsBlank(s.timing())) {
          v.Add(path + ".timing", kRule16,
                "the plan states when the support is given");
        }
      }
      break;
    }
    case CaseEvent::kInformationShared: {
      const auto& p = event.information_shared();
      if (IsBlank(p.what())) {
        v.Add("what", kRule20, "what was shared is required");
      }
      if (p.recipients().empty()) {
        v.Add("recipients", kRule20, "with whom it was shared is required");
      }
      if (IsBlank(p.purpose())) {
        v.Add("purpose", kRule20, "the purpose of sharing is required");
      }
      if (IsBlank(p.reasoning())) {
        v.Add("reasoning", kRule20,
              "why sharing was necessary and proportionate is required");
      }
      // With consent the sharing rests on the consent event; without it, it
      // is a decision and needs its lawful basis.
      decision_required = IsBlank(p.consent_event_id());
      if (decision_required && IsBlank(p.lawful_basis())) {
        v.Add("lawful_basis", kRule20,
              "sharing without consent needs its lawful basis (UK GDPR Art "
              "6, and the Art 9 or 10 condition for special category or "
              "offence data, e.g. DPA 2018 Sch 1 para 18)");
      }
      break;
    }
    case CaseEvent::kRecordCorrected: {
      const auto& p = event.record_corrected();
      if (IsBlank(p.target_event_id())) {
        v.Add("target_event_id", kCorrection,
              "the event corrected is required");
      }
      if (IsBlank(p.field_path())) {
        v.Add("field_path", kCorrection, "the field corrected is required");
      }
      if (IsBlank(p.new_value())) {
        v.Add("new_value", kCorrection,
              "the new value is required (proto JSON text)");
      }
      if (IsBlank(p.reason())) {
        v.Add("reason", kCorrection,
              "the reason for the correction is required");
      }
      if (IsBlank(p.approved_by().id())) {
        v.Add("approved_by.id", kCorrection,
              "who approved the correction is required");
      }
      break;
    }
    case CaseEvent::kEntryRetracted: {
      const auto& p = event.entry_retracted();
      if (IsBlank(p.target_event_id())) {
        v.Add("target_event_id", kCorrection,
              "the event retracted is required");
      }
      if (p.reason() == casetrail::v1::RETRACTION_REASON_UNSPECIFIED ||
          !casetrail::v1::RetractionReason_IsValid(p.reason())) {
        v.Add("reason", kCorrection,
              "the reason for the retraction is required (WRONG_CHILD)");
      }
      break;
    }
    case CaseEvent::kRecordAnnotated:
      if (IsBlank(event.record_annotated().target_event_id())) {
        v.Add("target_event_id", kCorrection,
              "the event annotated is required");
      }
      break;
    case CaseEvent::kSubjectDisputeRecorded:
      if (IsBlank(event.subject_dispute_recorded().target_event_id())) {
        v.Add("target_event_id", kCorrection, "the event disputed is required");
      }
      break;
    default:
      break;
  }
  return rule;
}

}  // namespace

std::vector<FieldViolation> ValidateTypedEvent(const CaseEvent& event,
                                               int index) {
  std::vector<FieldViolation> out;
  const std::string path = absl::StrCat("events[", index, "]");
  if (event.payload_case() == CaseEvent::PAYLOAD_NOT_SET ||
      event.payload_case() == CaseEvent::kOpaque) {
    // An opaque payload is for the types the catalogue has no message for
    // (e.g. CaseNoteRecorded). A catalogue type without its payload would
    // skip every rule of its type.
    if (const FieldDescriptor* typed =
            CataloguePayloadFor(event.event_type())) {
      out.push_back(
          {absl::StrCat(path, ".event_type"),
           absl::StrCat(kTypedEvent, ": '", event.event_type(),
                        "' is a catalogue type: its event carries the ",
                        typed->name(), " payload, not ",
                        event.has_opaque() ? "an opaque one" : "none")});
    }
    return out;
  }
  // The payload case is the oneof field's number.
  const FieldDescriptor* field =
      CaseEvent::descriptor()->FindFieldByNumber(event.payload_case());
  if (event.payload_case() == CaseEvent::kAccessRecorded) {
    out.push_back({absl::StrCat(path, ".access_recorded"),
                   "access events are written by the server only, for the "
                   "reads it answers"});
    return out;
  }
  Violations envelope(path, out);
  const std::string& type = field->message_type()->name();
  // An empty type is already reported as missing by ValidateAppend.
  if (!event.event_type().empty() && event.event_type() != type) {
    envelope.Add("event_type", kTypedEvent,
                 absl::StrCat("must be '", type, "', the name of the ",
                              field->name(), " payload's message"));
  }
  if (event.jurisdiction() != casetrail::v1::JURISDICTION_ENGLAND &&
      event.jurisdiction() != casetrail::v1::JURISDICTION_WALES) {
    envelope.Add("jurisdiction", kTypedEvent,
                 "required: ENGLAND or WALES, whose law and procedure the "
                 "rules come from");
  }
  // A chronology says where each entry's information came from.
  const casetrail::v1::Source& source = event.source();
  if (source.provenance() != casetrail::v1::Source::PROVENANCE_FIRST_HAND &&
      source.provenance() != casetrail::v1::Source::PROVENANCE_REPORTED) {
    envelope.Add("source.provenance", kRule23,
                 "the source is recorded: FIRST_HAND (the recorder saw or "
                 "heard it) or REPORTED (they were told)");
  } else if (source.provenance() ==
                 casetrail::v1::Source::PROVENANCE_REPORTED &&
             IsBlank(source.informant())) {
    envelope.Add("source.informant", kRule23,
                 "reported information names who gave it");
  }

  Violations v(absl::StrCat(path, ".", field->name()), out);
  bool decision_required = true;
  const DecisionRule rule = CheckPayload(event, decision_required, v);
  // Decision events are found by their `Decision decision = 1` (see
  // case_events.proto), so a new one is checked without a change here.
  const Message& payload = event.GetReflection()->GetMessage(event, field);
  // A date a rule has already reported (e.g. rule 3's new target date) is
  // reported once, under its rule.
  std::vector<FieldViolation> dates;
  CheckDates(payload, absl::StrCat(path, ".", field->name()), dates);
  for (FieldViolation& date : dates) {
    if (std::none_of(out.begin(), out.end(), [&](const FieldViolation& f) {
          return f.field == date.field;
        })) {
      out.push_back(std::move(date));
    }
  }
  const FieldDescriptor* decision_field =
      payload.GetDescriptor()->FindFieldByNumber(1);
  if (decision_field != nullptr && decision_field->name() == "decision" &&
      decision_field->message_type() == Decision::descriptor()) {
    if (payload.GetReflection()->HasField(payload, decision_field)) {
      CheckDecision(
          static_cast<const Decision&>(
              payload.GetReflection()->GetMessage(payload, decision_field)),
          rule, v);
    } else if (decision_required) {
      v.Add("decision", kDecisionEvent,
            "required: who decided, at what level of authority, and why");
    }
  }
  return out;
}

}  // namespace casetrail::services
