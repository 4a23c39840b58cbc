#include "tests/testing/marked_cases.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "casetrail/v1/case_events.pb.h"
#include "google/protobuf/reflection.h"

namespace casetrail::testing {
namespace {

namespace v1 = casetrail::v1;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// A child of 15-16 in 2026: old enough for a Prevent referral, too young to
// consent to Channel support alone.
constexpr int kBirthYear = 2010;

// The story event a reference field points at, by the field's name.
std::string ReferencedPayload(const FieldDescriptor* field,
                              const StoryIds& ids) {
  const std::string& name = field->name();
  const std::string& parent = field->containing_type()->name();
  if (name == "target_event_id") return ids.amended_payload;
  if (name == "visit_event_id") return "visit_completed";
  if (name == "request_event_id") return "assessment_extension_requested";
  if (name == "strategy_discussion_event_id") return "strategy_discussion_held";
  if (name == "notification_event_id") return "serious_incident_notified";
  if (name == "consent_event_id") {
    return parent == "SupportPlanAgreed" ? "channel_consent_recorded"
                                         : "consent_recorded";
  }
  return "contact_received";
}

// An id for a field that holds one (not free text), or nullopt-like empty
// string with `is_id` false.
bool IdFor(const FieldDescriptor* field, const StoryIds& ids, std::string* id) {
  const std::string& name = field->name();
  const std::string& parent = field->containing_type()->name();
  if (name == "id") {
    *id = parent == "DecisionMaker" ? "ns-sharcourt" : "ns-participant";
    return true;
  }
  if (absl::EndsWith(name, "event_id") || absl::EndsWith(name, "event_ids")) {
    *id = StoryEventId(ids, ReferencedPayload(field, ids));
    return true;
  }
  if (name == "child_id" || absl::EndsWith(name, "person_id") ||
      name == "child_ids") {
    *id = ids.child_id;
    return true;
  }
  if (name == "plan_id") {
    const bool channel =
        parent == "SupportPlanAgreed" || parent == "InterventionDelivered";
    *id = absl::StrCat(ids.prefix, channel ? "-channel-plan" : "-cp-plan");
    return true;
  }
  if (absl::EndsWith(name, "_id") || absl::EndsWith(name, "_ids")) {
    *id = absl::StrCat(ids.prefix, "-", name.substr(0, name.rfind('_')));
    return true;
  }
  return false;
}

// Codes and paths: not free text, and not ids either.
bool IsCode(const FieldDescriptor* field) {
  const std::string& name = field->name();
  return name == "field_path" || name == "source_code" ||
         name == "content_type" ||
         (name == "team" &&
          field->containing_type()->name() == "CaseAllocated");
}

std::string CodeFor(const FieldDescriptor* field, const StoryIds& ids) {
  if (field->name() == "source_code") return "2A";
  if (field->name() == "team") return ids.team;
  return "";
}

void SetTime(Message* timestamp, absl::Time t) {
  const Reflection* r = timestamp->GetReflection();
  const Descriptor* d = timestamp->GetDescriptor();
  r->SetInt64(timestamp, d->FindFieldByName("seconds"), absl::ToUnixSeconds(t));
}

void SetDate(Message* date, absl::Time t) {
  const absl::CivilDay day = absl::ToCivilDay(t, absl::UTCTimeZone());
  const Reflection* r = date->GetReflection();
  const Descriptor* d = date->GetDescriptor();
  r->SetInt32(date, d->FindFieldByName("year"), static_cast<int>(day.year()));
  r->SetInt32(date, d->FindFieldByName("month"), day.month());
  r->SetInt32(date, d->FindFieldByName("day"), day.day());
}

void Fill(Message* m, const StoryIds& ids, const std::string& marker,
          absl::Time day, int depth) {
  const Descriptor* d = m->GetDescriptor();
  const Reflection* r = m->GetReflection();
  if (d->full_name() == "google.protobuf.Timestamp") return SetTime(m, day);
  if (d == v1::CivilDate::descriptor()) return SetDate(m, day);
  if (depth > 6) return;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->real_containing_oneof() != nullptr &&
        r->HasOneof(*m, f->real_containing_oneof())) {
      continue;
    }
    const bool repeated = f->is_repeated();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string value;
        if (IsCode(f)) {
          value = CodeFor(f, ids);
        } else if (!IdFor(f, ids, &value)) {
          value = absl::StrCat(marker, f->name());
        }
        if (value.empty()) break;
        repeated ? r->AddString(m, f, value) : r->SetString(m, f, value);
        // A decision relies on the referral decision too (restricted in
        // some stories), so reconstructions have a withheld event to omit.
        if (f->name() == "event_ids") {
          r->AddString(m, f, StoryEventId(ids, "referral_decision"));
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const auto* e = f->enum_type();
        const auto* value = e->value_count() > 1 ? e->value(1) : e->value(0);
        repeated ? r->AddEnum(m, f, value) : r->SetEnum(m, f, value);
        break;
      }
      case FieldDescriptor::CPPTYPE_BOOL:
        repeated ? r->AddBool(m, f, true) : r->SetBool(m, f, true);
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        Message* child =
            repeated ? r->AddMessage(m, f) : r->MutableMessage(m, f);
        Fill(child, ids, marker, day, depth + 1);
        break;
      }
      default:  // numbers stay 0 (a log position of 0 means "as appended")
        break;
    }
  }
  // Decisions are taken high enough for every rule (docs/events.md).
  if (d == v1::DecisionMaker::descriptor()) {
    static_cast<v1::DecisionMaker*>(m)->set_authority_level(
        v1::AUTHORITY_LEVEL_HEAD_OF_SERVICE);
  }
}

// Makes the story valid and coherent where the first enum value or a filled
// field would not.
void FixPayload(v1::CaseEvent* e, const StoryIds& ids) {
  switch (e->payload_case()) {
    case v1::CaseEvent::kReferralDecision:
      e->mutable_referral_decision()->set_outcome(
          v1::REFERRAL_OUTCOME_ASSESSMENT);
      break;
    case v1::CaseEvent::kHouseholdMemberRecorded: {
      e->mutable_household_member_recorded()->mutable_date_of_birth()->set_year(
          kBirthYear);
      break;
    }
    case v1::CaseEvent::kCaseAllocated: {
      auto* p = e->mutable_case_allocated();
      p->mutable_worker()->set_id(ids.worker_id);
      p->mutable_manager()->set_id(ids.manager_id);
      p->set_team(ids.team);
      break;
    }
    case v1::CaseEvent::kPoliceGatewayAssessed:
      e->mutable_police_gateway_assessed()->set_outcome(
          v1::GATEWAY_OUTCOME_TO_CHANNEL);
      break;
    case v1::CaseEvent::kChannelPanelHeld:
      e->mutable_channel_panel_held()->set_outcome(v1::PANEL_DECISION_ADOPT);
      break;
    case v1::CaseEvent::kChannelConsentRecorded:
      e->mutable_channel_consent_recorded()->set_giver(
          v1::CHANNEL_CONSENT_GIVER_PARENT_OR_GUARDIAN);
      e->mutable_channel_consent_recorded()->set_status(
          v1::CONSENT_STATUS_GIVEN);
      break;
    case v1::CaseEvent::kChannelPostExitReview:
      e->mutable_channel_post_exit_review()->set_reopen(false);
      break;
    case v1::CaseEvent::kConsentRecorded:
      e->mutable_consent_recorded()->set_status(v1::CONSENT_STATUS_GIVEN);
      e->mutable_consent_recorded()->clear_withdrawn_at();
      break;
    case v1::CaseEvent::kRecordCorrected:
      e->mutable_record_corrected()->set_field_path("contact_received.concern");
      break;
    case v1::CaseEvent::kCaseClosed:
      e->mutable_case_closed()->set_reason(
          v1::CASE_CLOSURE_REASON_RC7_SERVICES_CEASED);
      break;
    default:
      break;
  }
}

}  // namespace

std::string MarkerFor(int n) { return absl::StrFormat("LEAKMARK-%04d-", n); }

std::vector<const FieldDescriptor*> CataloguePayloads() {
  const google::protobuf::OneofDescriptor* oneof =
      v1::CaseEvent::descriptor()->FindOneofByName("payload");
  std::vector<const FieldDescriptor*> fields;
  for (int i = 0; i < oneof->field_count(); ++i) {
    fields.push_back(oneof->field(i));
  }
  std::sort(fields.begin(), fields.end(), [](const auto* a, const auto* b) {
    return a->number() < b->number();
  });
  return fields;
}

std::string WhyNotAppendable(const FieldDescriptor* payload) {
  if (payload->name() == "access_recorded") {
    return "written by the server only, to <tenant>/_access; a client's "
           "append of it is refused (docs/security.md)";
  }
  return "";
}

std::string StoryEventId(const StoryIds& ids, const std::string& payload_name) {
  return absl::StrCat(ids.prefix, "-", payload_name);
}

void FillMarked(Message* message, const StoryIds& ids,
                const std::string& marker, absl::Time day) {
  Fill(message, ids, marker, day, 0);
}

void FillEnvelope(v1::CaseEvent* e, const StoryIds& ids,
                  const std::string& event_id, const std::string& marker,
                  absl::Time day) {
  e->set_event_id(event_id);
  e->set_schema_version(1);
  e->mutable_occurred_at()->mutable_time()->set_seconds(
      absl::ToUnixSeconds(day));
  e->mutable_occurred_at()->set_precision(v1::TIME_PRECISION_EXACT);
  v1::RecordedBy* by = e->mutable_recorded_by();
  by->set_user_id(ids.worker_id);
  by->set_role(absl::StrCat(marker, "recorded_by.role"));
  by->set_team(absl::StrCat(marker, "recorded_by.team"));
  by->set_agency(absl::StrCat(marker, "recorded_by.agency"));
  v1::Source* source = e->mutable_source();
  source->set_system("mosaic");
  source->set_source_record_id(absl::StrCat("REC-", event_id));
  source->set_informant(absl::StrCat(marker, "source.informant"));
  source->set_provenance(v1::Source::PROVENANCE_REPORTED);
  e->set_correlation_id(absl::StrCat(ids.prefix, "-work"));
  e->add_child_ids(ids.child_id);
  e->set_jurisdiction(v1::JURISDICTION_ENGLAND);
  e->mutable_significance()->set_significant(true);
  e->mutable_significance()->set_direction(
      v1::Significance::DIRECTION_NEGATIVE);
  e->mutable_significance()->set_why(absl::StrCat(marker, "significance.why"));
  v1::ThirdPartyMarker* third = e->add_third_party();
  third->set_party(absl::StrCat(marker, "third_party.party"));
  third->set_reason(absl::StrCat(marker, "third_party.reason"));
}

std::vector<MarkedEvent> WriteMarkedStory(const StoryIds& ids, int first_marker,
                                          absl::Time first_day) {
  std::vector<MarkedEvent> story;
  for (const FieldDescriptor* payload : CataloguePayloads()) {
    if (!WhyNotAppendable(payload).empty() ||
        payload->name() == "record_restriction_changed") {
      continue;
    }
    MarkedEvent& m = story.emplace_back();
    m.payload = payload->name();
    m.marker = MarkerFor(first_marker + static_cast<int>(story.size()) - 1);
    const absl::Time day =
        first_day + absl::Hours(24) * static_cast<int>(story.size() - 1);
    FillEnvelope(&m.event, ids, StoryEventId(ids, m.payload), m.marker, day);
    if (payload->name() == "opaque") {
      m.event.set_event_type("CaseNoteRecorded");
      m.event.mutable_opaque()->set_content_type("application/json");
      m.event.mutable_opaque()->set_data(
          absl::StrCat(R"({"note": ")", m.marker, R"(opaque.data"})"));
      continue;
    }
    m.event.set_event_type(payload->message_type()->name());
    Message* body = m.event.GetReflection()->MutableMessage(&m.event, payload);
    FillMarked(body, ids, m.marker, day);
    FixPayload(&m.event, ids);
  }
  return story;
}

}  // namespace casetrail::testing
