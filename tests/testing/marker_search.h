#ifndef CASETRAIL_TESTS_TESTING_MARKER_SEARCH_H_
#define CASETRAIL_TESTS_TESTING_MARKER_SEARCH_H_

// Finds the markers of tests/testing/marked_cases.h in answers: in every
// string and bytes field of a message (with the field's path), in its
// serialized bytes and its text format, and in text such as an error
// message.

#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace casetrail::testing {

// The numbers of the markers ("LEAKMARK-0042-" is 42) that `text` holds.
std::set<int> MarkersIn(absl::string_view text);

struct MarkerHit {
  int marker = 0;
  // The field it was found in, e.g.
  // "state.prevent_episodes[0].events[3].event.vulnerability_assessed.
  // engagement.evidence"; "<serialized>" or "<text format>" when only those
  // forms held it (e.g. in unknown fields).
  std::string path;
  // Found inside an event or what shows one (a recorded event, a chronology
  // entry, an amendment, a decision marker, stored event bytes) rather than
  // in state derived from events.
  bool event_text = false;
};

// Every marker in `message`, once per field that holds it, then any found
// only in its serialized bytes or its text format.
std::vector<MarkerHit> FindMarkers(const google::protobuf::Message& message);

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_MARKER_SEARCH_H_
