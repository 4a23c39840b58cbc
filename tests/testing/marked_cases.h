#ifndef CASETRAIL_TESTS_TESTING_MARKED_CASES_H_
#define CASETRAIL_TESTS_TESTING_MARKED_CASES_H_

// Case stories for leak hunting: one event of every payload type of the
// catalogue (CaseEvent's payload oneof), each carrying a marker unique to the
// event ("LEAKMARK-0042-") in every free-text field of its payload and
// envelope, so that a test can tell which event's text an answer shows.
//
// Payloads are filled by protobuf reflection, so a type added to the
// catalogue is covered without changing this file: strings that are free
// text get the marker; ids and references (fields named `id`, `*_id`,
// `*_ids`) get ids that point at the story's own events, children and
// episodes; enums take their first value after UNSPECIFIED, then a few
// fixes make the story valid (the server's append rules, docs/events.md)
// and coherent (a Prevent referral that reaches Channel and a panel that
// adopts it, so that every Channel view has something to show).

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "casetrail/v1/event.pb.h"
#include "google/protobuf/descriptor.h"

namespace casetrail::testing {

// "LEAKMARK-" then four digits then "-": every marker, and nothing else,
// matches this shape.
inline constexpr char kMarkerPrefix[] = "LEAKMARK-";
std::string MarkerFor(int n);

// The payload fields of CaseEvent's oneof, in field-number (catalogue) order.
std::vector<const google::protobuf::FieldDescriptor*> CataloguePayloads();

// Why a catalogue payload cannot be appended by a client, or empty if it
// can: access_recorded is the server's own.
std::string WhyNotAppendable(const google::protobuf::FieldDescriptor* payload);

// What a story's ids are built from.
struct StoryIds {
  // The stream, e.g. "northshire/leak-open-1".
  std::string case_id;
  // Prefix of every event id and domain id of the story, e.g. "lk-o1".
  std::string prefix;
  // The child the whole story concerns (also the Prevent/Channel person).
  std::string child_id;
  // Allocation: CaseAllocated names this worker, team and manager.
  std::string worker_id;
  std::string team;
  std::string manager_id;
  // The event that corrections, annotations, disputes and retractions
  // target, as a payload field name (e.g. "contact_received").
  std::string amended_payload = "contact_received";
};

// The event id the story gives the event of `payload_name`.
std::string StoryEventId(const StoryIds& ids, const std::string& payload_name);

// One event of the story. `event.stream_id` is empty (the append sets it).
struct MarkedEvent {
  casetrail::v1::CaseEvent event;
  // The payload field name, e.g. "vulnerability_assessed"; "opaque" for the
  // opaque note.
  std::string payload;
  std::string marker;
};

// Every appendable payload type once (record_restriction_changed excepted:
// a test restricts its stories with restriction events of its own), and an
// opaque note, in catalogue order, the n-th event marked with
// MarkerFor(first_marker + n). Events occur a day apart from `first_day`.
std::vector<MarkedEvent> WriteMarkedStory(const StoryIds& ids, int first_marker,
                                          absl::Time first_day);

// Fills every field of `message` as WriteMarkedStory does, with `marker` in
// its free text. Exposed for restriction events a test writes itself.
void FillMarked(google::protobuf::Message* message, const StoryIds& ids,
                const std::string& marker, absl::Time day);

// The envelope of a story event: ids, type, occurred_at at `day`, recorder,
// source (reported, with the informant), significance, a third-party marker,
// jurisdiction England and the story's child, text fields marked.
void FillEnvelope(casetrail::v1::CaseEvent* event, const StoryIds& ids,
                  const std::string& event_id, const std::string& marker,
                  absl::Time day);

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_MARKED_CASES_H_
