#include "tests/testing/case_log_client.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace casetrail::testing {
namespace {

constexpr uint32_t kPage = 10000;

void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

absl::Status ToAbsl(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace

CaseLogClient::CaseLogClient(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  channel_ = grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args);
  stub_ = casetrail::v1::CaseLog::NewStub(channel_);
}

bool CaseLogClient::WaitForConnected(absl::Duration timeout) {
  return channel_->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout));
}

grpc::Status CaseLogClient::Append(
    const casetrail::v1::AppendEventsRequest& request,
    casetrail::v1::AppendEventsResponse* response, absl::Duration timeout) {
  grpc::ClientContext context;
  SetDeadline(context, timeout);
  return stub_->AppendEvents(&context, request, response);
}

grpc::Status CaseLogClient::ReadStream(
    const casetrail::v1::ReadCaseStreamRequest& request,
    casetrail::v1::ReadCaseStreamResponse* response, absl::Duration timeout) {
  grpc::ClientContext context;
  SetDeadline(context, timeout);
  return stub_->ReadCaseStream(&context, request, response);
}

grpc::Status CaseLogClient::ReadLog(
    const casetrail::v1::ReadLogRequest& request,
    casetrail::v1::ReadLogResponse* response, absl::Duration timeout) {
  grpc::ClientContext context;
  SetDeadline(context, timeout);
  return stub_->ReadLog(&context, request, response);
}

absl::StatusOr<std::vector<casetrail::v1::RecordedEvent>>
CaseLogClient::ReadWholeLog() {
  std::vector<casetrail::v1::RecordedEvent> events;
  casetrail::v1::ReadLogRequest request;
  request.set_limit(kPage);
  for (;;) {
    casetrail::v1::ReadLogResponse response;
    grpc::Status status = ReadLog(request, &response);
    if (!status.ok()) return ToAbsl(status);
    for (auto& e : *response.mutable_events()) events.push_back(std::move(e));
    if (response.next_position() >= response.log_size()) return events;
    if (response.next_position() <= request.from_position()) {
      return absl::InternalError(absl::StrCat(
          "ReadLog from ", request.from_position(),
          " did not advance (next_position ", response.next_position(), ")"));
    }
    request.set_from_position(response.next_position());
  }
}

absl::StatusOr<std::vector<casetrail::v1::RecordedEvent>>
CaseLogClient::ReadWholeStream(const std::string& stream_id) {
  std::vector<casetrail::v1::RecordedEvent> events;
  casetrail::v1::ReadCaseStreamRequest request;
  request.set_stream_id(stream_id);
  request.set_limit(kPage);
  request.set_from_version(1);
  for (;;) {
    casetrail::v1::ReadCaseStreamResponse response;
    grpc::Status status = ReadStream(request, &response);
    if (!status.ok()) return ToAbsl(status);
    for (auto& e : *response.mutable_events()) events.push_back(std::move(e));
    if (response.events().empty() ||
        events.back().stream_version() >= response.stream_version()) {
      return events;
    }
    request.set_from_version(events.back().stream_version() + 1);
  }
}

absl::StatusOr<uint64_t> CaseLogClient::StreamVersion(
    const std::string& stream_id) {
  casetrail::v1::ReadCaseStreamRequest request;
  request.set_stream_id(stream_id);
  request.set_direction(casetrail::v1::READ_DIRECTION_BACKWARDS);
  request.set_limit(1);
  casetrail::v1::ReadCaseStreamResponse response;
  grpc::Status status = ReadStream(request, &response);
  if (!status.ok()) return ToAbsl(status);
  return response.stream_version();
}

absl::StatusOr<uint64_t> CaseLogClient::LogSize() {
  grpc::ClientContext context;
  SetDeadline(context, absl::Seconds(30));
  casetrail::v1::GetLogInfoResponse response;
  grpc::Status status = stub_->GetLogInfo(
      &context, casetrail::v1::GetLogInfoRequest(), &response);
  if (!status.ok()) return ToAbsl(status);
  return response.log_size();
}

std::optional<std::vector<std::string>> BadRequestFields(
    const grpc::Status& status) {
  google::rpc::Status details;
  if (status.error_details().empty() ||
      !details.ParseFromString(status.error_details()) ||
      details.details_size() == 0) {
    return std::nullopt;
  }
  google::rpc::BadRequest bad_request;
  if (!details.details(0).UnpackTo(&bad_request)) return std::nullopt;
  std::vector<std::string> fields;
  for (const auto& v : bad_request.field_violations()) {
    fields.push_back(v.field());
  }
  return fields;
}

std::string ToString(const grpc::Status& status) {
  return absl::StrCat("code ", status.error_code(), ": ",
                      status.error_message());
}

}  // namespace casetrail::testing
