// The typed payloads of case_events.proto: that the CaseEvent.payload oneof
// holds exactly the event catalogue of DOMAIN.md section A, that decision
// events carry a Decision, that typed events survive the CLI's JSON form, and
// that events written before (or after) a build's schema still parse and
// re-serialise to the same bytes.

#include <algorithm>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "casetrail/v1/case_events.pb.h"
#include "casetrail/v1/case_log.pb.h"
#include "casetrail/v1/event.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/wire_format_lite.h"
#include "gtest/gtest.h"
#include "tools/event_json.h"

namespace casetrail::tools {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::DescriptorPool;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::OneofDescriptor;
using ::google::protobuf::internal::WireFormatLite;
using ::google::protobuf::util::MessageDifferencer;

// The event types of DOMAIN.md section A, in catalogue order. The section's
// heading says 49: it counts "AgencyInformationRequested/Received" and
// "RecordAnnotated/SubjectDisputeRecorded" once each; they are two types each.
constexpr const char* kCatalogue[] = {
    // Contact/referral.
    "ContactReceived", "ReferralDecision", "HouseholdMemberRecorded",
    "CaseAllocated",
    // Assessment.
    "AssessmentStarted", "AssessmentCheckpointReviewed", "SpecialistAssessment",
    "AssessmentExtensionRequested", "AssessmentExtensionDecided",
    "AssessmentAuthorised",
    // Strategy & S47.
    "StrategyDiscussionHeld", "S47Started", "ImmediateProtectionTaken",
    "S47Concluded",
    // Conferences & plans.
    "ConferenceScheduled", "ConferenceHeld", "PlanChanged", "CoreGroupHeld",
    "LegalStatusChanged",
    // Prevent/Channel.
    "PreventReferralMade", "PoliceGatewayAssessed", "ChannelReferralReceived",
    "VulnerabilityAssessed", "ChannelPanelHeld", "ChannelConsentRecorded",
    "SupportPlanAgreed", "InterventionDelivered", "ChannelExited",
    "ChannelPostExitReview",
    // Visits & direct work.
    "VisitCompleted", "DirectWorkRecorded", "ChildNotSeenAloneAuthorised",
    "InterpreterDecision", "FamilyGroupConferenceHeld",
    // Decisions.
    "SupervisionRecorded", "ManagementDecision",
    // Consent & sharing.
    "ConsentRecorded", "ConsentOverrideAuthorised", "InformationShared",
    "AgencyInformationRequested", "AgencyInformationReceived",
    // Risk & strengths.
    "RiskAnalysisRecorded",
    // Corrections.
    "RecordCorrected", "RecordAnnotated", "SubjectDisputeRecorded",
    "EntryRetracted",
    // Closure & review.
    "CaseClosed", "SeriousIncidentNotified", "RapidReviewCompleted",
    "RecordRestrictionChanged", "SARProcessed"};
static_assert(std::size(kCatalogue) == 51);

// The types marked [D] in DOMAIN.md section A (InformationShared is [D] when
// shared without consent, RiskAnalysisRecorded when signed off).
constexpr const char* kDecisionTypes[] = {"ReferralDecision",
                                          "AssessmentCheckpointReviewed",
                                          "AssessmentExtensionDecided",
                                          "AssessmentAuthorised",
                                          "StrategyDiscussionHeld",
                                          "ImmediateProtectionTaken",
                                          "S47Concluded",
                                          "ConferenceHeld",
                                          "PoliceGatewayAssessed",
                                          "ChannelPanelHeld",
                                          "ChannelExited",
                                          "ChannelPostExitReview",
                                          "ChildNotSeenAloneAuthorised",
                                          "InterpreterDecision",
                                          "SupervisionRecorded",
                                          "ManagementDecision",
                                          "ConsentOverrideAuthorised",
                                          "InformationShared",
                                          "RiskAnalysisRecorded",
                                          "CaseClosed",
                                          "RapidReviewCompleted",
                                          "RecordRestrictionChanged"};

const Descriptor* CatalogueType(const std::string& name) {
  return DescriptorPool::generated_pool()->FindMessageTypeByName(
      absl::StrCat("casetrail.v1.", name));
}

TEST(TypedEventsTest, PayloadOneofIsOpaquePlusTheCatalogueInOrderFrom100) {
  const OneofDescriptor* payload =
      v1::CaseEvent::descriptor()->FindOneofByName("payload");
  ASSERT_NE(payload, nullptr);
  // Opaque, the catalogue, and the server's access events.
  ASSERT_EQ(payload->field_count(), 2 + std::size(kCatalogue));

  const std::set<std::string> catalogue(std::begin(kCatalogue),
                                        std::end(kCatalogue));
  std::set<std::string> seen;
  for (int i = 0; i < payload->field_count(); ++i) {
    const FieldDescriptor* field = payload->field(i);
    if (field->name() == "opaque") {
      EXPECT_EQ(field->number(), 20);
      continue;
    }
    if (field->name() == "access_recorded") {
      EXPECT_EQ(field->number(), 21);
      continue;
    }
    EXPECT_GE(field->number(), 100) << field->name();
    ASSERT_EQ(field->type(), FieldDescriptor::TYPE_MESSAGE) << field->name();
    const std::string& type = field->message_type()->name();
    EXPECT_EQ(field->message_type()->full_name(), "casetrail.v1." + type);
    EXPECT_TRUE(catalogue.contains(type)) << type << " is not in DOMAIN.md";
    EXPECT_TRUE(seen.insert(type).second) << type << " appears twice";
  }
  EXPECT_EQ(seen, catalogue);

  // Catalogue order: the i-th type has number 100 + i.
  for (size_t i = 0; i < std::size(kCatalogue); ++i) {
    const Descriptor* type = CatalogueType(kCatalogue[i]);
    ASSERT_NE(type, nullptr) << kCatalogue[i];
    const FieldDescriptor* field =
        v1::CaseEvent::descriptor()->FindFieldByNumber(100 + i);
    ASSERT_NE(field, nullptr) << kCatalogue[i];
    EXPECT_EQ(field->message_type(), type) << "field " << 100 + i;
  }
}

TEST(TypedEventsTest, DecisionTypesAndOnlyTheyCarryDecisionAsField1) {
  const std::set<std::string> decisions(std::begin(kDecisionTypes),
                                        std::end(kDecisionTypes));
  for (const char* name : kCatalogue) {
    const Descriptor* type = CatalogueType(name);
    ASSERT_NE(type, nullptr) << name;
    const FieldDescriptor* decision = type->FindFieldByName("decision");
    if (!decisions.contains(name)) {
      EXPECT_EQ(decision, nullptr) << name << " is not [D] in DOMAIN.md";
      continue;
    }
    ASSERT_NE(decision, nullptr) << name;
    EXPECT_EQ(decision->number(), 1) << name;
    EXPECT_FALSE(decision->is_repeated()) << name;
    EXPECT_EQ(decision->message_type(), v1::Decision::descriptor()) << name;
  }
}

// proto3 style (and buf lint): every enum's zero value is <PREFIX>_UNSPECIFIED.
TEST(TypedEventsTest, EveryEnumHasUnspecifiedZero) {
  std::vector<const google::protobuf::EnumDescriptor*> enums;
  for (const auto* file : {v1::CaseEvent::descriptor()->file(),
                           v1::Decision::descriptor()->file()}) {
    for (int i = 0; i < file->enum_type_count(); ++i) {
      enums.push_back(file->enum_type(i));
    }
    for (int i = 0; i < file->message_type_count(); ++i) {
      for (int j = 0; j < file->message_type(i)->enum_type_count(); ++j) {
        enums.push_back(file->message_type(i)->enum_type(j));
      }
    }
  }
  ASSERT_GT(enums.size(), 30u);
  for (const auto* e : enums) {
    ASSERT_GT(e->value_count(), 1) << e->full_name();
    EXPECT_EQ(e->value(0)->number(), 0) << e->full_name();
    EXPECT_THAT(e->value(0)->name(), ::testing::EndsWith("_UNSPECIFIED"))
        << e->full_name();
  }
}

v1::CaseEvent Envelope(const std::string& id, const std::string& type) {
  v1::CaseEvent e;
  e.set_event_id(id);
  e.set_event_type(type);
  e.mutable_occurred_at()->mutable_time()->set_seconds(1772440800);
  e.mutable_occurred_at()->set_precision(v1::TIME_PRECISION_EXACT);
  e.mutable_recorded_by()->set_user_id("u-17");
  e.mutable_recorded_by()->set_role("Social Worker");
  e.mutable_source()->set_system("mosaic");
  e.mutable_source()->set_informant("class teacher");
  e.mutable_source()->set_provenance(v1::Source::PROVENANCE_REPORTED);
  e.add_child_ids("child-1");
  e.add_child_ids("child-2");
  e.set_jurisdiction(v1::JURISDICTION_ENGLAND);
  return e;
}

v1::AppendEventsRequest TypedAppend() {
  v1::AppendEventsRequest request;
  request.set_stream_id("case-42");
  request.mutable_expected_version()->set_kind(
      v1::ExpectedVersion::KIND_NO_STREAM);

  v1::CaseEvent* contact = request.add_events();
  *contact = Envelope("evt-1", "ContactReceived");
  contact->mutable_significance()->set_significant(true);
  contact->mutable_significance()->set_direction(
      v1::Significance::DIRECTION_NEGATIVE);
  contact->mutable_significance()->set_why("first report of injury");
  v1::ThirdPartyMarker* marker = contact->add_third_party();
  marker->set_party("referrer");
  marker->set_field_path("contact_received.referrer");
  marker->set_reason("asked not to be named");
  v1::ContactReceived* c = contact->mutable_contact_received();
  c->set_source_code("2A");
  c->mutable_referrer()->set_name("J. Okafor");
  c->mutable_referrer()->set_role("class teacher");
  c->mutable_referrer()->set_agency("Northshire Primary");
  c->set_concern("bruise to the left cheek; child says he fell");
  c->set_immediate_danger(false);

  v1::CaseEvent* referral = request.add_events();
  *referral = Envelope("evt-2", "ReferralDecision");
  referral->set_causation_id("evt-1");
  referral->set_restriction(v1::RESTRICTION_LEVEL_RESTRICTED);
  v1::ReferralDecision* r = referral->mutable_referral_decision();
  v1::Decision* d = r->mutable_decision();
  d->mutable_decided_by()->set_id("u-3");
  d->mutable_decided_by()->set_name("A. Patel");
  d->mutable_decided_by()->set_role("Team Manager, MASH");
  d->mutable_decided_by()->set_authority_level(
      v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  d->set_rationale("unexplained bruising to a four-year-old's face");
  d->add_options_considered("early help");
  d->add_options_considered("strategy discussion");
  d->set_legal_basis("Children Act 1989 s47");
  d->set_child_views("not yet seen");
  d->set_parents_views("mother says he fell from the sofa");
  d->mutable_information_basis()->add_event_ids("evt-1");
  d->mutable_information_basis()->set_log_position(41);
  d->mutable_review_by()->set_year(2026);
  d->mutable_review_by()->set_month(3);
  d->mutable_review_by()->set_day(4);
  r->set_outcome(v1::REFERRAL_OUTCOME_STRATEGY_DISCUSSION);
  r->set_primary_need(v1::PRIMARY_NEED_N1_ABUSE_OR_NEGLECT);
  r->mutable_referrer_acknowledged_at()->set_seconds(1772445600);

  v1::CaseEvent* consent = request.add_events();
  *consent = Envelope("evt-3", "ChannelConsentRecorded");
  consent->mutable_occurred_at()->set_precision(v1::TIME_PRECISION_DAY);
  v1::ChannelConsentRecorded* cc = consent->mutable_channel_consent_recorded();
  cc->set_channel_case_id("ch-9");
  cc->set_giver(v1::CHANNEL_CONSENT_GIVER_PARENT_OR_GUARDIAN);
  cc->set_giver_name("R. Smith");
  cc->mutable_sought_by()->set_name("L. Jones");
  cc->mutable_sought_by()->set_agency("Northshire County Council");
  cc->mutable_sought_at()->set_seconds(1772440800);
  cc->set_how_sought("home visit with the Channel coordinator");
  cc->set_status(v1::CONSENT_STATUS_GIVEN);
  cc->set_child_view("wants to keep going to the youth club");
  return request;
}

TEST(TypedEventsTest, TypedAppendSurvivesTheCliJsonForm) {
  const v1::AppendEventsRequest request = TypedAppend();
  const std::string json = MessageToJsonLine(request);
  EXPECT_THAT(json, ::testing::HasSubstr(
                        R"("outcome":"REFERRAL_OUTCOME_STRATEGY_DISCUSSION")"));

  auto parsed = ParseAppendRequests(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 1u);
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(request, (*parsed)[0])) << diff;
}

// What a person writes by hand: camelCase or snake_case keys, a short
// precision, enums by name, dates as objects.
TEST(TypedEventsTest, HandWrittenTypedJsonParses) {
  auto parsed = ParseAppendRequests(R"({
    "stream_id": "case-42",
    "events": [{
      "event_id": "evt-2",
      "event_type": "ReferralDecision",
      "occurredAt": {"time": "2026-03-02T08:40:00Z", "precision": "DAY"},
      "recorded_by": {"user_id": "u-3"},
      "child_ids": ["child-1"],
      "jurisdiction": "JURISDICTION_WALES",
      "referralDecision": {
        "decision": {
          "decided_by": {"name": "A. Patel",
                         "authority_level": "AUTHORITY_LEVEL_TEAM_MANAGER"},
          "rationale": "needs assessment",
          "information_basis": {"event_ids": ["evt-1"], "log_position": "7"},
          "review_by": {"year": 2026, "month": 3, "day": 9}
        },
        "outcome": "REFERRAL_OUTCOME_ASSESSMENT",
        "primary_need": "PRIMARY_NEED_N4_FAMILY_IN_ACUTE_STRESS"
      }
    }]
  })");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const v1::CaseEvent& e = (*parsed)[0].events(0);
  ASSERT_EQ(e.payload_case(), v1::CaseEvent::kReferralDecision);
  EXPECT_EQ(e.jurisdiction(), v1::JURISDICTION_WALES);
  EXPECT_EQ(e.referral_decision().primary_need(),
            v1::PRIMARY_NEED_N4_FAMILY_IN_ACUTE_STRESS);
  EXPECT_EQ(e.referral_decision().decision().decided_by().authority_level(),
            v1::AUTHORITY_LEVEL_TEAM_MANAGER);
  EXPECT_EQ(e.referral_decision().decision().information_basis().log_position(),
            7u);
  EXPECT_EQ(e.referral_decision().decision().review_by().day(), 9);
}

// Raw wire-format writers, so the old event below does not depend on the
// generated code under test.
std::string Field(int number, const std::string& bytes) {
  std::string out;
  google::protobuf::io::StringOutputStream raw(&out);
  google::protobuf::io::CodedOutputStream coded(&raw);
  WireFormatLite::WriteBytes(number, bytes, &coded);
  coded.Trim();
  return out;
}

std::string Varint(int number, uint64_t value) {
  std::string out;
  google::protobuf::io::StringOutputStream raw(&out);
  google::protobuf::io::CodedOutputStream coded(&raw);
  WireFormatLite::WriteUInt64(number, value, &coded);
  coded.Trim();
  return out;
}

// A CaseEvent as a client wrote it before the typed payloads: fields 1-9 and
// opaque (20), in field-number order.
std::string OldEventBytes() {
  return Field(1, "evt-old") + Field(2, "case-7") +
         Field(3, "ContactReceived") + Varint(4, 1) +
         Field(5, Field(1, Varint(1, 1709285400)) + Varint(2, 1)) +
         Field(6, Field(1, "u1") + Field(2, "Social Worker") +
                      Field(3, "Assessment 2") + Field(4, "Northshire CC")) +
         Field(7, Field(1, "mosaic") + Field(2, "M-123")) + Field(8, "corr-1") +
         Field(9, "evt-prev") +
         Field(20, Field(1, "application/json") + Field(2, R"({"a":1})"));
}

std::string SerializeDeterministically(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream raw(&out);
  google::protobuf::io::CodedOutputStream coded(&raw);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

TEST(TypedEventsTest, EventWrittenBeforeTypedPayloadsParsesToTheSameBytes) {
  const std::string bytes = OldEventBytes();
  v1::CaseEvent e;
  ASSERT_TRUE(e.ParseFromString(bytes));
  EXPECT_EQ(e.event_id(), "evt-old");
  EXPECT_EQ(e.stream_id(), "case-7");
  EXPECT_EQ(e.event_type(), "ContactReceived");
  EXPECT_EQ(e.schema_version(), 1u);
  EXPECT_EQ(e.occurred_at().time().seconds(), 1709285400);
  EXPECT_EQ(e.occurred_at().precision(), v1::TIME_PRECISION_EXACT);
  EXPECT_EQ(e.recorded_by().agency(), "Northshire CC");
  EXPECT_EQ(e.source().source_record_id(), "M-123");
  EXPECT_EQ(e.causation_id(), "evt-prev");
  ASSERT_EQ(e.payload_case(), v1::CaseEvent::kOpaque);
  EXPECT_EQ(e.opaque().data(), R"({"a":1})");
  // The new fields read as unset.
  EXPECT_TRUE(e.child_ids().empty());
  EXPECT_EQ(e.jurisdiction(), v1::JURISDICTION_UNSPECIFIED);
  EXPECT_FALSE(e.has_significance());
  EXPECT_EQ(e.restriction(), v1::RESTRICTION_LEVEL_UNSPECIFIED);
  EXPECT_TRUE(e.third_party().empty());
  EXPECT_EQ(e.source().provenance(), v1::Source::PROVENANCE_UNSPECIFIED);
  EXPECT_TRUE(e.GetReflection()->GetUnknownFields(e).empty());
  // A stored event's bytes are hashed into the log, so re-serialising must not
  // change them.
  EXPECT_EQ(SerializeDeterministically(e), bytes);
}

TEST(TypedEventsTest, UnknownFieldSurvivesParseAndSerialise) {
  const std::string bytes = OldEventBytes() + Field(999, "from the future");
  v1::CaseEvent e;
  ASSERT_TRUE(e.ParseFromString(bytes));
  const auto& unknown = e.GetReflection()->GetUnknownFields(e);
  ASSERT_EQ(unknown.field_count(), 1);
  EXPECT_EQ(unknown.field(0).number(), 999);
  EXPECT_EQ(unknown.field(0).length_delimited(), "from the future");
  EXPECT_EQ(SerializeDeterministically(e), bytes);
}

// A casetraild built before this change (event.proto without case_events.proto,
// CaseEvent fields 10-14, the typed payloads or Source fields 3-4) keeps a
// typed event's new fields as unknown fields and writes the event back byte for
// byte.
TEST(TypedEventsTest, BuildWithoutTheNewFieldsKeepsThemByteForByte) {
  google::protobuf::FileDescriptorProto old_file;
  v1::CaseEvent::descriptor()->file()->CopyTo(&old_file);
  auto drop = [](auto* list, auto predicate) {
    list->erase(std::remove_if(list->begin(), list->end(), predicate),
                list->end());
  };
  drop(old_file.mutable_dependency(), [](const std::string& dependency) {
    return dependency != "google/protobuf/timestamp.proto";
  });
  drop(old_file.mutable_message_type(), [](const auto& message) {
    return message.name() == "Significance" ||
           message.name() == "ThirdPartyMarker";
  });
  for (auto& message : *old_file.mutable_message_type()) {
    if (message.name() == "CaseEvent") {
      drop(message.mutable_field(), [](const auto& field) {
        return field.number() >= 10 && field.number() != 20;
      });
    } else if (message.name() == "Source") {
      drop(message.mutable_field(),
           [](const auto& field) { return field.number() > 2; });
      message.clear_enum_type();
    }
  }
  DescriptorPool old_pool;
  google::protobuf::FileDescriptorProto timestamp_file;
  google::protobuf::Timestamp::descriptor()->file()->CopyTo(&timestamp_file);
  ASSERT_NE(old_pool.BuildFile(timestamp_file), nullptr);
  ASSERT_NE(old_pool.BuildFile(old_file), nullptr);
  const Descriptor* old_event =
      old_pool.FindMessageTypeByName("casetrail.v1.CaseEvent");
  ASSERT_NE(old_event, nullptr);
  ASSERT_EQ(old_event->field_count(), 10);

  google::protobuf::DynamicMessageFactory factory(&old_pool);
  const v1::AppendEventsRequest request = TypedAppend();
  for (const v1::CaseEvent& event : request.events()) {
    const std::string bytes = SerializeDeterministically(event);
    std::unique_ptr<google::protobuf::Message> old(
        factory.GetPrototype(old_event)->New());
    ASSERT_TRUE(old->ParseFromString(bytes)) << event.event_id();
    EXPECT_FALSE(old->GetReflection()->GetUnknownFields(*old).empty())
        << event.event_id();
    EXPECT_EQ(SerializeDeterministically(*old), bytes) << event.event_id();
  }
}

}  // namespace
}  // namespace casetrail::tools
