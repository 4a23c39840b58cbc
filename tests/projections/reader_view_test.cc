// The one redaction point (projections/reader_view.h): what a reader from
// whom events are withheld gets of a case, from a fold that leaves the events
// out (ReplayCase with a reader) and from Redact() on any answer.

#include "projections/reader_view.h"

#include <string>
#include <vector>

#include "casetrail/v1/case_queries.pb.h"
#include "eventstore/event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/replay.h"
#include "tests/testing/case_events.h"
#include "tests/testing/event_store_fixture.h"

namespace casetrail::projections {
namespace {

namespace v1 = ::casetrail::v1;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "SECRET-TEXT-OF-A-WITHHELD-EVENT";

v1::RecordedEvent Recorded(const std::string& id, uint64_t position) {
  v1::RecordedEvent e;
  e.set_position(position);
  e.mutable_event()->set_event_id(id);
  e.mutable_event()->set_event_type("VulnerabilityAssessed");
  e.mutable_event()->mutable_recorded_by()->set_role(
      id == "hidden" ? kSecret : "visible author");
  return e;
}

v1::Amendment AmendmentBy(const std::string& id, const std::string& target) {
  v1::Amendment a;
  a.set_kind(v1::Amendment::KIND_ANNOTATED);
  a.set_event_id(id);
  a.set_target_event_id(target);
  a.set_text(id == "hidden" ? kSecret : "a visible note");
  return a;
}

TEST(ReaderViewTest, ARedactedAnswerHoldsNothingOfAWithheldEvent) {
  v1::GetCaseStateResponse state;
  v1::PreventEpisode* episode = state.mutable_state()->add_prevent_episodes();
  *episode->add_events() = Recorded("open-1", 1);
  *episode->add_events() = Recorded("hidden", 2);
  *episode->add_events() = Recorded("open-2", 3);
  v1::EventRestriction* restriction =
      state.mutable_state()->add_event_restrictions();
  restriction->set_event_id("hidden");
  restriction->add_permitted_user_ids("ns-named");
  v1::PracticeFlag* flag = state.mutable_state()->add_flags();
  flag->set_event_id("hidden");
  flag->set_description(kSecret);

  const ReaderView reader({"hidden"});
  EXPECT_EQ(reader.Redact(&state), 3u);
  const std::string text = state.DebugString();
  EXPECT_THAT(text, Not(HasSubstr(kSecret)));
  EXPECT_THAT(text, Not(HasSubstr("\"hidden\"")));
  ASSERT_EQ(episode->events_size(), 2);
  EXPECT_EQ(episode->events(0).event().event_id(), "open-1");
  EXPECT_EQ(episode->events(1).event().event_id(), "open-2");
}

TEST(ReaderViewTest, AmendmentsByAWithheldEventAreRemovedFromEveryEntry) {
  v1::GetChronologyResponse chronology;
  v1::ChronologyEntry* entry = chronology.add_entries();
  entry->set_event_id("open-1");
  *entry->add_amendments() = AmendmentBy("hidden", "open-1");
  *entry->add_amendments() = AmendmentBy("note-1", "open-1");
  v1::ChronologyEntry* withheld = chronology.add_entries();
  withheld->set_event_id("hidden");
  withheld->set_headline(kSecret);

  EXPECT_EQ(ReaderView({"hidden"}).Redact(&chronology), 2u);
  ASSERT_EQ(chronology.entries_size(), 1);
  ASSERT_EQ(chronology.entries(0).amendments_size(), 1);
  EXPECT_EQ(chronology.entries(0).amendments(0).event_id(), "note-1");
  EXPECT_THAT(chronology.DebugString(), Not(HasSubstr(kSecret)));
}

TEST(ReaderViewTest, PackSectionsAndReconstructionsAreRedactedAtAnyDepth) {
  v1::GetChannelPanelPackResponse pack;
  *pack.mutable_pack()->add_vulnerability_assessments() = Recorded("hidden", 2);
  *pack.mutable_pack()->add_consent() = Recorded("open-1", 1);
  *pack.mutable_pack()->mutable_current_episode()->add_events() =
      Recorded("hidden", 2);
  *pack.mutable_pack()->add_prior_episodes()->add_events() =
      Recorded("hidden", 2);
  EXPECT_EQ(ReaderView({"hidden"}).Redact(&pack), 3u);
  EXPECT_THAT(pack.DebugString(), Not(HasSubstr(kSecret)));
  EXPECT_EQ(pack.pack().consent_size(), 1);

  v1::ReconstructDecisionResponse decision;
  *decision.add_relied_on() = Recorded("hidden", 2);
  *decision.add_relied_on() = Recorded("open-1", 1);
  *decision.add_later_corrections() = AmendmentBy("hidden", "open-1");
  decision.mutable_marker()->add_information_basis_event_ids("hidden");
  decision.mutable_marker()->add_information_basis_event_ids("open-1");
  *decision.mutable_state_at_basis()->add_prevent_episodes()->add_events() =
      Recorded("hidden", 2);
  EXPECT_EQ(ReaderView({"hidden"}).Redact(&decision), 4u);
  EXPECT_THAT(decision.DebugString(), Not(HasSubstr(kSecret)));
  EXPECT_THAT(decision.marker().information_basis_event_ids(),
              ::testing::ElementsAre("open-1"));
}

TEST(ReaderViewTest, VisibleStoredEventsAreNeverEdited) {
  // A visible decision may name a withheld event as relied on: the decision
  // is shown as stored, because its bytes are what the log proves.
  v1::RecordedEvent decision_event = Recorded("open-1", 1);
  decision_event.mutable_event()
      ->mutable_referral_decision()
      ->mutable_decision()
      ->mutable_information_basis()
      ->add_event_ids("hidden");
  v1::ReconstructDecisionResponse decision;
  *decision.mutable_decision_event() = decision_event;
  *decision.add_relied_on() = decision_event;
  EXPECT_EQ(ReaderView({"hidden"}).Redact(&decision), 0u);
  EXPECT_EQ(decision.relied_on(0).SerializeAsString(),
            decision_event.SerializeAsString());
  EXPECT_EQ(decision.decision_event().SerializeAsString(),
            decision_event.SerializeAsString());
}

TEST(ReaderViewTest, AnAmendmentOfAWithheldEventIsWithheldWithIt) {
  // A correction's old value is the withheld event's text: the correction,
  // though not restricted itself, goes with what it corrects.
  v1::CaseEvent correction;
  correction.set_event_id("correction-1");
  correction.mutable_record_corrected()->set_target_event_id("hidden");
  correction.mutable_record_corrected()->set_old_value(kSecret);
  v1::CaseEvent annotation;
  annotation.set_event_id("note-2");
  annotation.mutable_record_annotated()->set_target_event_id("open-1");
  const ReaderView reader({"hidden"});
  EXPECT_TRUE(reader.Withholds(correction));
  EXPECT_FALSE(reader.Withholds(annotation));

  v1::ReconstructDecisionResponse decision;
  *decision.add_later_corrections() = AmendmentBy("correction-1", "hidden");
  *decision.add_later_corrections() = AmendmentBy("note-1", "open-1");
  v1::RecordedEvent stored;
  *stored.mutable_event() = correction;
  *decision.add_relied_on() = stored;
  EXPECT_EQ(reader.Redact(&decision), 2u);
  ASSERT_EQ(decision.later_corrections_size(), 1);
  EXPECT_EQ(decision.later_corrections(0).event_id(), "note-1");
  EXPECT_EQ(decision.relied_on_size(), 0);
}

TEST(ReaderViewTest, AReaderWhoSeesEverythingChangesNothing) {
  v1::GetCaseStateResponse state;
  *state.mutable_state()->add_prevent_episodes()->add_events() =
      Recorded("hidden", 2);
  const std::string before = state.SerializeAsString();
  EXPECT_TRUE(ReaderView().sees_everything());
  EXPECT_EQ(ReaderView().Redact(&state), 0u);
  EXPECT_EQ(state.SerializeAsString(), before);
}

class ReplayForReaderTest : public testing::EventStoreTest {};

TEST_F(ReplayForReaderTest, AWithheldAnnotationLeavesNoAmendmentAndIsCounted) {
  v1::CaseEvent annotation =
      testing::MakeCaseEvent("note-1", "RecordAnnotated");
  annotation.clear_opaque();
  annotation.set_stream_id("case-r");
  annotation.set_schema_version(1);
  annotation.mutable_record_annotated()->set_target_event_id("contact-1");
  annotation.mutable_record_annotated()->set_annotation(kSecret);
  ASSERT_TRUE(
      store_
          ->Append(testing::MakeStoreAppend(
              "case-r", eventstore::ExpectedVersion::NoStream(),
              {testing::MakeProposedEvent("case-r", "contact-1"),
               eventstore::ProposedEvent{
                   "note-1", testing::SerializeDeterministically(annotation)}}))
          .ok());

  // Everyone else: the annotation shows beside the contact.
  absl::StatusOr<CaseSnapshot> everything =
      ReplayCase(*store_, FoldConfig::Default(), "case-r", ReplayLimit());
  ASSERT_TRUE(everything.ok()) << everything.status();
  EXPECT_THAT(everything->model.DebugString(), HasSubstr(kSecret));
  EXPECT_EQ(everything->withheld_events, 0u);

  const ReaderView reader({"note-1"});
  ReplayLimit limit;
  limit.reader = &reader;
  absl::StatusOr<CaseSnapshot> withheld =
      ReplayCase(*store_, FoldConfig::Default(), "case-r", limit);
  ASSERT_TRUE(withheld.ok()) << withheld.status();
  EXPECT_EQ(withheld->withheld_events, 1u);
  EXPECT_EQ(withheld->model.amendments_size(), 0);
  EXPECT_THAT(withheld->model.DebugString(), Not(HasSubstr(kSecret)));
  ASSERT_EQ(withheld->entries.size(), 1u);
  EXPECT_EQ(withheld->entries[0].event_id(), "contact-1");
}

TEST_F(ReplayForReaderTest, ACorrectionOfAWithheldEventIsLeftOutOfTheFold) {
  v1::CaseEvent correction =
      testing::MakeCaseEvent("correction-1", "RecordCorrected");
  correction.clear_opaque();
  correction.set_stream_id("case-c");
  correction.set_schema_version(1);
  v1::RecordCorrected* c = correction.mutable_record_corrected();
  c->set_target_event_id("contact-1");
  c->set_field_path("contact_received.concern");
  c->set_old_value(kSecret);
  c->set_new_value("\"corrected\"");
  ASSERT_TRUE(store_
                  ->Append(testing::MakeStoreAppend(
                      "case-c", eventstore::ExpectedVersion::NoStream(),
                      {testing::MakeProposedEvent("case-c", "contact-1"),
                       testing::MakeProposedEvent("case-c", "note-1"),
                       eventstore::ProposedEvent{
                           "correction-1",
                           testing::SerializeDeterministically(correction)}}))
                  .ok());
  const ReaderView reader({"contact-1"});
  ReplayLimit limit;
  limit.reader = &reader;
  absl::StatusOr<CaseSnapshot> snapshot =
      ReplayCase(*store_, FoldConfig::Default(), "case-c", limit);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->withheld_events, 2u);
  EXPECT_THAT(snapshot->model.DebugString(), Not(HasSubstr(kSecret)));
  ASSERT_EQ(snapshot->entries.size(), 1u);
  EXPECT_EQ(snapshot->entries[0].event_id(), "note-1");
}

}  // namespace
}  // namespace casetrail::projections
