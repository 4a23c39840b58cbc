// AppendEventsStream against the real casetraild: ordered responses,
// pipelining, errors that do not end the stream and write nothing.

#include <memory>

#include "casetrail/v1/case_log.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/case_events.h"
#include "tests/testing/server_process.h"

namespace casetrail {
namespace {

using casetrail::v1::AppendEventsRequest;
using casetrail::v1::AppendEventsStreamResponse;
using casetrail::v1::ExpectedVersion;
using testing::MakeAppendRequest;
using testing::MakeCaseEvent;

class AppendStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::ServerProcess::Start(dir_.path());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::CaseLog::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  // Sends every request before reading any response, then returns the
  // responses.
  std::vector<AppendEventsStreamResponse> Exchange(
      const std::vector<AppendEventsRequest>& requests) {
    grpc::ClientContext context;
    auto stream = stub_->AppendEventsStream(&context);
    for (const auto& r : requests) EXPECT_TRUE(stream->Write(r));
    EXPECT_TRUE(stream->WritesDone());
    std::vector<AppendEventsStreamResponse> responses;
    AppendEventsStreamResponse response;
    while (stream->Read(&response)) responses.push_back(response);
    grpc::Status status = stream->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return responses;
  }

  uint64_t LogSize() {
    grpc::ClientContext context;
    v1::GetLogInfoResponse info;
    EXPECT_TRUE(stub_->GetLogInfo(&context, {}, &info).ok());
    return info.log_size();
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::ServerProcess> server_;
  std::unique_ptr<v1::CaseLog::Stub> stub_;
};

TEST_F(AppendStreamTest, PipelinedRequestsAnsweredInOrderWithDensePositions) {
  std::vector<AppendEventsRequest> requests;
  for (int i = 0; i < 150; ++i) {  // more than the server's 64 in flight
    requests.push_back(MakeAppendRequest(
        i % 2 == 0 ? "case-even" : "case-odd", ExpectedVersion::KIND_ANY,
        {MakeCaseEvent("evt-" + std::to_string(i))}));
  }
  std::vector<AppendEventsStreamResponse> responses = Exchange(requests);
  ASSERT_EQ(responses.size(), 150u);
  for (int i = 0; i < 150; ++i) {
    ASSERT_EQ(responses[i].request_index(), static_cast<uint64_t>(i));
    ASSERT_TRUE(responses[i].has_appended()) << responses[i].error().message();
    const auto& appended = responses[i].appended();
    ASSERT_EQ(appended.events_size(), 1);
    EXPECT_EQ(appended.events(0).event_id(), "evt-" + std::to_string(i));
    EXPECT_EQ(appended.events(0).position(), static_cast<uint64_t>(i));
    EXPECT_EQ(appended.events(0).tree_size(), static_cast<uint64_t>(i + 1));
    EXPECT_EQ(appended.events(0).leaf_hash().size(), 32u);
    EXPECT_EQ(appended.events(0).stream_version(),
              static_cast<uint64_t>(i / 2 + 1));
  }
  EXPECT_EQ(LogSize(), 150u);
}

TEST_F(AppendStreamTest, FailedAppendsAreReportedInPlaceAndWriteNothing) {
  AppendEventsRequest malformed = MakeAppendRequest(
      "case-1", ExpectedVersion::KIND_ANY, {MakeCaseEvent("evt-bad")});
  malformed.mutable_events(0)->mutable_occurred_at()->set_precision(
      v1::TIME_PRECISION_UNSPECIFIED);
  std::vector<AppendEventsRequest> requests = {
      MakeAppendRequest("case-1", ExpectedVersion::KIND_NO_STREAM,
                        {MakeCaseEvent("evt-1")}),
      malformed,
      // The stream exists by now: a lost race.
      MakeAppendRequest("case-1", ExpectedVersion::KIND_NO_STREAM,
                        {MakeCaseEvent("evt-2")}),
      // Same id as evt-1, different content.
      MakeAppendRequest("case-1", ExpectedVersion::KIND_ANY,
                        {MakeCaseEvent("evt-1", "OtherType")}),
      MakeAppendRequest("case-1", ExpectedVersion::KIND_EXACT,
                        {MakeCaseEvent("evt-3")}, 1),
  };
  std::vector<AppendEventsStreamResponse> responses = Exchange(requests);
  ASSERT_EQ(responses.size(), 5u);

  EXPECT_TRUE(responses[0].has_appended());

  ASSERT_TRUE(responses[1].has_error());
  EXPECT_EQ(responses[1].error().code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(responses[1].error().details_size(), 1);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(responses[1].error().details(0).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(),
            "events[0].occurred_at.precision");

  ASSERT_TRUE(responses[2].has_error());
  EXPECT_EQ(responses[2].error().code(), grpc::StatusCode::ABORTED);
  EXPECT_NE(responses[2].error().message().find("actual version 1"),
            std::string::npos)
      << responses[2].error().message();

  ASSERT_TRUE(responses[3].has_error());
  EXPECT_EQ(responses[3].error().code(), grpc::StatusCode::ALREADY_EXISTS);

  ASSERT_TRUE(responses[4].has_appended()) << responses[4].error().message();
  EXPECT_EQ(responses[4].appended().events(0).position(), 1u);
  EXPECT_EQ(responses[4].appended().stream_version(), 2u);

  EXPECT_EQ(LogSize(), 2u);  // evt-1 and evt-3 only
}

// A message that is not an AppendEventsRequest in the middle of the stream is
// answered in place with INVALID_ARGUMENT naming the type; nothing of it is
// written, and the requests after it are read and answered.
TEST_F(AppendStreamTest, UnparseableRequestIsAnsweredInPlace) {
  auto channel = grpc::CreateChannel(server_->address(),
                                     grpc::InsecureChannelCredentials());
  grpc::ClientContext context;
  // The stub's own call, with bytes for requests, so one can be garbage.
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>
      stream(grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer,
                                                       grpc::ByteBuffer>::
                 Create(channel.get(),
                        grpc::internal::RpcMethod(
                            "/casetrail.v1.CaseLog/AppendEventsStream",
                            grpc::internal::RpcMethod::BIDI_STREAMING, channel),
                        &context));
  auto bytes = [](const std::string& s) {
    grpc::Slice slice(s);
    return grpc::ByteBuffer(&slice, 1);
  };
  // Field 1 as a length-delimited string whose length runs past the end.
  const std::string garbage("\x0a\x7f\x01", 3);
  const std::vector<std::string> sent = {
      MakeAppendRequest("case-1", ExpectedVersion::KIND_ANY,
                        {MakeCaseEvent("evt-1")})
          .SerializeAsString(),
      garbage,
      MakeAppendRequest("case-1", ExpectedVersion::KIND_ANY,
                        {MakeCaseEvent("evt-2")})
          .SerializeAsString(),
  };
  for (const std::string& s : sent) {
    grpc::ByteBuffer b = bytes(s);
    ASSERT_TRUE(stream->Write(b));
  }
  ASSERT_TRUE(stream->WritesDone());
  std::vector<AppendEventsStreamResponse> responses;
  grpc::ByteBuffer read;
  while (stream->Read(&read)) {
    AppendEventsStreamResponse response;
    ASSERT_TRUE(
        grpc::SerializationTraits<AppendEventsStreamResponse>::Deserialize(
            &read, &response)
            .ok());
    responses.push_back(response);
  }
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), 3u);
  ASSERT_TRUE(responses[0].has_appended()) << responses[0].error().message();
  ASSERT_TRUE(responses[1].has_error());
  EXPECT_EQ(responses[1].request_index(), 1u);
  EXPECT_EQ(responses[1].error().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(
      responses[1].error().message(),
      "request 1 of the stream is not a casetrail.v1.AppendEventsRequest");
  ASSERT_TRUE(responses[2].has_appended()) << responses[2].error().message();
  EXPECT_EQ(responses[2].appended().events(0).position(), 1u);
  EXPECT_EQ(LogSize(), 2u);  // evt-1 and evt-2 only
}

TEST_F(AppendStreamTest, RetryOverTheStreamIsDeduplicated) {
  AppendEventsRequest request =
      MakeAppendRequest("case-1", ExpectedVersion::KIND_NO_STREAM,
                        {MakeCaseEvent("evt-1"), MakeCaseEvent("evt-2")});
  std::vector<AppendEventsStreamResponse> responses =
      Exchange({request, request});
  ASSERT_EQ(responses.size(), 2u);
  ASSERT_TRUE(responses[0].has_appended());
  ASSERT_TRUE(responses[1].has_appended()) << responses[1].error().message();
  EXPECT_FALSE(responses[0].appended().deduplicated());
  EXPECT_TRUE(responses[1].appended().deduplicated());
  EXPECT_EQ(responses[1].appended().events(1).position(),
            responses[0].appended().events(1).position());
  EXPECT_EQ(LogSize(), 2u);
}

TEST_F(AppendStreamTest, ClientCancellingMidStreamLeavesServerServing) {
  {
    grpc::ClientContext context;
    auto stream = stub_->AppendEventsStream(&context);
    for (int i = 0; i < 20; ++i) {
      stream->Write(
          MakeAppendRequest("case-c", ExpectedVersion::KIND_ANY,
                            {MakeCaseEvent("c-" + std::to_string(i))}));
    }
    context.TryCancel();
    stream->Finish();
  }
  // Whatever was acknowledged or not, the server still serves and the log stays
  // dense (appends that were already in the store when the call was cancelled
  // may still land).
  std::vector<AppendEventsStreamResponse> responses =
      Exchange({MakeAppendRequest("case-d", ExpectedVersion::KIND_ANY,
                                  {MakeCaseEvent("d-1")})});
  ASSERT_EQ(responses.size(), 1u);
  ASSERT_TRUE(responses[0].has_appended());
  grpc::ClientContext context;
  v1::ReadLogRequest read;
  v1::ReadLogResponse log;
  ASSERT_TRUE(stub_->ReadLog(&context, read, &log).ok());
  ASSERT_LE(log.log_size(), 21u);
  ASSERT_EQ(static_cast<uint64_t>(log.events_size()), log.log_size());
  for (int i = 0; i < log.events_size(); ++i) {
    EXPECT_EQ(log.events(i).position(), static_cast<uint64_t>(i));
  }
}

}  // namespace
}  // namespace casetrail
