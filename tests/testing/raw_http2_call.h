#ifndef CASETRAIL_TESTS_TESTING_RAW_HTTP2_CALL_H_
#define CASETRAIL_TESTS_TESTING_RAW_HTTP2_CALL_H_

// One unary gRPC call written by hand over plaintext HTTP/2 (RFC 9113, prior
// knowledge; headers as HPACK literals, RFC 7541), for tests that must send
// what gRPC's own clients refuse to: header values holding CR, LF or other
// control characters, as an attacker's client can. Loopback test servers
// only.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace casetrail::testing {

struct RawGrpcResponse {
  // grpc-status and the percent-decoded grpc-message.
  int status = -1;
  std::string message;
  // The response message (without gRPC's 5-byte prefix), if one came.
  std::string body;
};

// Calls `method` ("/casetrail.v1.CaseLog/ReadCaseStream") on `address`
// ("127.0.0.1:PORT") with `request` (a serialized message) and `headers`
// (lower-case names, sent in order, repeats and any bytes allowed), on a new
// connection. Errors: UNAVAILABLE if the server cannot be reached or closes
// the connection, DEADLINE_EXCEEDED after `timeout`, INTERNAL for a reply
// this small client cannot read (e.g. a Huffman-coded header).
absl::StatusOr<RawGrpcResponse> RawGrpcCall(
    const std::string& address, const std::string& method,
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& request, absl::Duration timeout = absl::Seconds(30));

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_RAW_HTTP2_CALL_H_
