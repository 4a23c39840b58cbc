#include "services/case_log_service.h"

#include <algorithm>

#include "eventstore/stored_event.h"
#include "eventstore/wire_format.h"
#include "grpcpp/support/byte_buffer.h"
#include "services/append_preparation.h"
#include "services/append_response.h"
#include "services/append_stream_reactor.h"
#include "services/grpc_status.h"

namespace casetrail::services {
namespace {

using casetrail::v1::RecordedEvent;

constexpr uint32_t kDefaultReadLimit = 1000;
constexpr uint32_t kMaxReadLimit = 10000;
// A subscription sends at most this many events per message.
constexpr size_t kSubscribeBatch = 256;

size_t ReadLimit(uint32_t requested) {
  return requested == 0 ? kDefaultReadLimit
                        : std::min<uint32_t>(requested, kMaxReadLimit);
}

// Parses stored bytes into `out`; the bytes were written by the store, so a
// failure is damage.
absl::Status AddStored(const std::vector<std::string>& stored,
                       google::protobuf::RepeatedPtrField<RecordedEvent>* out) {
  out->Reserve(static_cast<int>(stored.size()));
  for (const std::string& bytes : stored) {
    if (!out->Add()->ParseFromString(bytes)) {
      return absl::DataLossError("a stored event could not be decoded");
    }
  }
  return absl::OkStatus();
}

bool ParseRequest(const grpc::ByteBuffer& bytes,
                  google::protobuf::Message* message) {
  std::vector<grpc::Slice> slices;
  if (!bytes.Dump(&slices).ok()) return false;
  std::string joined;
  for (const grpc::Slice& s : slices) {
    joined.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return message->ParseFromString(joined);
}

// The repeated RecordedEvent field `field`, written straight from stored bytes.
std::string ComposeEvents(const std::vector<std::string>& stored, int field) {
  size_t size = 0;
  for (const std::string& e : stored) size += e.size() + 8;
  std::string out;
  out.reserve(size + 32);
  for (const std::string& e : stored) {
    eventstore::AppendLengthDelimitedField(field, e, &out);
  }
  return out;
}

// Hands `bytes` to gRPC without copying; gRPC frees them when the response is
// sent.
void SetResponse(std::string bytes, grpc::ByteBuffer* response) {
  auto* owned = new std::string(std::move(bytes));
  grpc::Slice slice(
      owned->data(), owned->size(),
      [](void* p) { delete static_cast<std::string*>(p); }, owned);
  *response = grpc::ByteBuffer(&slice, 1);
}

eventstore::LogFilter ToFilter(
    const google::protobuf::RepeatedPtrField<std::string>& event_types,
    const std::string& stream_prefix) {
  eventstore::LogFilter filter;
  filter.event_types.assign(event_types.begin(), event_types.end());
  filter.stream_prefix = stream_prefix;
  return filter;
}

}  // namespace

// Streams the log: reads a batch, writes it, repeats; once caught up, asks the
// store to wake it when the log grows. At most one write is in flight, so a
// slow client only slows itself.
class SubscribeReactor final
    : public grpc::ServerWriteReactor<casetrail::v1::SubscribeResponse> {
 public:
  SubscribeReactor(CaseLogService* service,
                   const casetrail::v1::SubscribeRequest& request)
      : service_(service),
        next_position_(request.from_position()),
        filter_(ToFilter(request.event_types(), request.stream_prefix())) {}

  void Start() { Step(); }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      absl::MutexLock l(&mu_);
      cancelled_ = true;
    }
    Step();
  }

  void OnCancel() override {
    {
      absl::MutexLock l(&mu_);
      cancelled_ = true;
    }
    TryFinishWhileWaiting(
        grpc::Status(grpc::StatusCode::CANCELLED, "subscription cancelled"));
  }

  void OnDone() override { delete this; }

 private:
  // If the reactor is parked on a store notification, cancels it and finishes.
  // Otherwise a write or a Step is under way and will see the flags.
  void TryFinishWhileWaiting(grpc::Status status) {
    {
      absl::MutexLock l(&mu_);
      if (!waiting_ || finished_ ||
          !service_->store_->CancelNotification(waiter_)) {
        return;
      }
      waiting_ = false;
      finished_ = true;
    }
    Finish(status);
  }

  enum class Action { kWrite, kFinish, kWait };

  void Step() {
    Action action;
    grpc::Status status;
    {
      absl::MutexLock l(&mu_);
      if (finished_) return;
      action = Decide(status);
      if (action == Action::kFinish) finished_ = true;
      if (action == Action::kWait) {
        waiting_ = true;
        waiter_ = service_->store_->NotifyWhenLogGrows(next_position_, [this] {
          {
            absl::MutexLock l(&mu_);
            waiting_ = false;
          }
          Step();
        });
      }
    }
    if (action == Action::kWrite) StartWrite(&response_);
    if (action == Action::kFinish) Finish(status);
  }

  Action Decide(grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (cancelled_) {
      status = grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      return Action::kFinish;
    }
    if (service_->stopping_.load() || service_->store_->closing()) {
      status =
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
      return Action::kFinish;
    }
    eventstore::LogRead read;
    read.from_position = next_position_;
    read.limit = kSubscribeBatch;
    read.filter = filter_;
    absl::StatusOr<eventstore::LogSlice> slice =
        service_->store_->ReadLog(read);
    response_.Clear();
    if (slice.ok()) {
      absl::Status added = AddStored(slice->events, response_.mutable_events());
      if (!added.ok()) slice = added;
    }
    if (!slice.ok()) {
      status = ToGrpcStatus(slice.status());
      return Action::kFinish;
    }
    const bool caught_up = slice->next_position >= slice->log_size;
    const bool progressed = slice->next_position != next_position_;
    next_position_ = slice->next_position;
    if (!response_.events().empty() || progressed ||
        (caught_up && !sent_caught_up_)) {
      response_.set_next_position(next_position_);
      response_.set_caught_up(caught_up);
      sent_caught_up_ = sent_caught_up_ || caught_up;
      return Action::kWrite;
    }
    return Action::kWait;
  }

  CaseLogService* const service_;
  absl::Mutex mu_;
  uint64_t next_position_ ABSL_GUARDED_BY(mu_);
  const eventstore::LogFilter filter_;
  casetrail::v1::SubscribeResponse response_;
  bool sent_caught_up_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
  eventstore::EventStore::NotificationId waiter_ ABSL_GUARDED_BY(mu_) = 0;
};

CaseLogService::CaseLogService(eventstore::EventStore* store,
                               AppendLimits limits)
    : store_(store), limits_(limits) {}

grpc::ServerUnaryReactor* CaseLogService::AppendEvents(
    grpc::CallbackServerContext* context,
    const casetrail::v1::AppendEventsRequest* request,
    casetrail::v1::AppendEventsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  PreparedAppend prepared = PrepareAppend(*store_, *request, limits_);
  if (!prepared.status.ok()) {
    reactor->Finish(prepared.status);
    return reactor;
  }
  // `request` stays valid until the reactor finishes.
  store_->AppendAsync(std::move(prepared.append),
                      [reactor, request, response](
                          absl::StatusOr<eventstore::AppendResult> result) {
                        if (!result.ok()) {
                          reactor->Finish(ToGrpcStatus(result.status()));
                          return;
                        }
                        FillAppendResponse(*result, *request, response);
                        reactor->Finish(grpc::Status::OK);
                      });
  return reactor;
}

grpc::ServerBidiReactor<casetrail::v1::AppendEventsRequest,
                        casetrail::v1::AppendEventsStreamResponse>*
CaseLogService::AppendEventsStream(grpc::CallbackServerContext* context) {
  return new AppendStreamReactor(store_, limits_);
}

grpc::ServerUnaryReactor* CaseLogService::ReadCaseStream(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  casetrail::v1::ReadCaseStreamRequest request;
  if (!ParseRequest(*request_bytes, &request)) {
    reactor->Finish(
        BadRequestStatus({{"", "cannot parse ReadCaseStreamRequest"}}));
    return reactor;
  }
  std::vector<FieldViolation> violations;
  if (auto violation = CheckStreamId(request.stream_id())) {
    violations.push_back(*violation);
  }
  if (!casetrail::v1::ReadDirection_IsValid(request.direction())) {
    violations.push_back({"direction", "unknown direction"});
  }
  if (!violations.empty()) {
    reactor->Finish(BadRequestStatus(violations));
    return reactor;
  }
  eventstore::StreamRead read;
  read.stream_id = request.stream_id();
  read.from_version = request.from_version();
  read.backwards =
      request.direction() == casetrail::v1::READ_DIRECTION_BACKWARDS;
  read.limit = ReadLimit(request.limit());
  absl::StatusOr<eventstore::StreamSlice> slice = store_->ReadStream(read);
  if (slice.ok()) {
    // ReadCaseStreamResponse: events = 1, stream_version = 2.
    std::string out = ComposeEvents(slice->events, 1);
    eventstore::AppendVarintField(2, slice->stream_version, &out);
    SetResponse(std::move(out), response_bytes);
  }
  reactor->Finish(ToGrpcStatus(slice.status()));
  return reactor;
}

grpc::ServerUnaryReactor* CaseLogService::ReadLog(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  casetrail::v1::ReadLogRequest request;
  if (!ParseRequest(*request_bytes, &request)) {
    reactor->Finish(BadRequestStatus({{"", "cannot parse ReadLogRequest"}}));
    return reactor;
  }
  eventstore::LogRead read;
  read.from_position = request.from_position();
  read.limit = ReadLimit(request.limit());
  read.filter = ToFilter(request.event_types(), request.stream_prefix());
  absl::StatusOr<eventstore::LogSlice> slice = store_->ReadLog(read);
  if (slice.ok()) {
    // ReadLogResponse: events = 1, next_position = 2, log_size = 3.
    std::string out = ComposeEvents(slice->events, 1);
    eventstore::AppendVarintField(2, slice->next_position, &out);
    eventstore::AppendVarintField(3, slice->log_size, &out);
    SetResponse(std::move(out), response_bytes);
  }
  reactor->Finish(ToGrpcStatus(slice.status()));
  return reactor;
}

grpc::ServerWriteReactor<casetrail::v1::SubscribeResponse>*
CaseLogService::Subscribe(grpc::CallbackServerContext* context,
                          const casetrail::v1::SubscribeRequest* request) {
  auto* reactor = new SubscribeReactor(this, *request);
  reactor->Start();
  return reactor;
}

grpc::ServerUnaryReactor* CaseLogService::GetLogInfo(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetLogInfoRequest* request,
    casetrail::v1::GetLogInfoResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  eventstore::LogInfo info = store_->Info();
  response->set_log_size(info.log_size);
  response->set_format_version(eventstore::kFormatVersion);
  if (info.log_size > 0) {
    *response->mutable_last_recorded_at() =
        eventstore::ToProtoTime(info.last_recorded_at);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

void CaseLogService::StopSubscriptions() {
  stopping_.store(true);
  // Parked subscriptions wake, see stopping_, and finish with UNAVAILABLE; the
  // others see it when their current write completes.
  store_->WakeAllWaiters();
}

}  // namespace casetrail::services
