#ifndef CASETRAIL_TESTS_TESTING_MALFORMED_APPENDS_H_
#define CASETRAIL_TESTS_TESTING_MALFORMED_APPENDS_H_

// One table of malformed AppendEventsRequests, shared by the validation unit
// test and the server integration test so that both check the same list.

#include <string>
#include <vector>

#include "casetrail/v1/case_log.pb.h"

namespace casetrail::testing {

struct MalformedAppend {
  // A CamelCase name for test output.
  std::string name;
  casetrail::v1::AppendEventsRequest request;
  // Exactly the field paths ValidateAppend (default AppendLimits) reports.
  std::vector<std::string> violated_fields;
};

// A well-formed request: two events to stream "case-1", KIND_ANY.
casetrail::v1::AppendEventsRequest ValidAppendRequest();

// Every way to break ValidAppendRequest() that the server must reject.
// Under the server's default limits (64 KiB per event, 4 MiB per append,
// 1000 events); the largest request is about 4.2 MB.
std::vector<MalformedAppend> MalformedAppends();

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_MALFORMED_APPENDS_H_
