#ifndef CASETRAIL_TESTS_TESTING_CASE_LOG_CLIENT_H_
#define CASETRAIL_TESTS_TESTING_CASE_LOG_CLIENT_H_

// A blocking casetrail.v1.CaseLog client for tests, over a real channel.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace casetrail::testing {

// Thread-safe: one client may be shared by many threads.
class CaseLogClient {
 public:
  // Connects lazily to `address` ("host:port"), insecure.
  explicit CaseLogClient(const std::string& address);

  // True once the channel is connected; false after `timeout`.
  bool WaitForConnected(absl::Duration timeout = absl::Seconds(20));

  // Each call has a deadline of `timeout` from now.
  grpc::Status Append(const casetrail::v1::AppendEventsRequest& request,
                      casetrail::v1::AppendEventsResponse* response,
                      absl::Duration timeout = absl::Seconds(30));
  grpc::Status ReadStream(const casetrail::v1::ReadCaseStreamRequest& request,
                          casetrail::v1::ReadCaseStreamResponse* response,
                          absl::Duration timeout = absl::Seconds(30));
  grpc::Status ReadLog(const casetrail::v1::ReadLogRequest& request,
                       casetrail::v1::ReadLogResponse* response,
                       absl::Duration timeout = absl::Seconds(30));

  // The whole log from position 0, read in pages. Errors: the failing call's
  // status, as absl::Status.
  absl::StatusOr<std::vector<casetrail::v1::RecordedEvent>> ReadWholeLog();
  // Every event of `stream_id`, forwards.
  absl::StatusOr<std::vector<casetrail::v1::RecordedEvent>> ReadWholeStream(
      const std::string& stream_id);
  // The stream's current version (0 if it does not exist).
  absl::StatusOr<uint64_t> StreamVersion(const std::string& stream_id);
  // GetLogInfo().log_size.
  absl::StatusOr<uint64_t> LogSize();

  casetrail::v1::CaseLog::Stub& stub() { return *stub_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<casetrail::v1::CaseLog::Stub> stub_;
};

// The field paths of the google.rpc.BadRequest in `status`'s details, in
// order; nullopt if the status carries no google.rpc.Status whose first detail
// is a BadRequest.
std::optional<std::vector<std::string>> BadRequestFields(
    const grpc::Status& status);

// grpc::Status as text, for failure messages.
std::string ToString(const grpc::Status& status);

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_CASE_LOG_CLIENT_H_
