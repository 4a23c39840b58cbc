#include "services/case_log_service.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "eventstore/stored_event.h"
#include "eventstore/stream_ids.h"
#include "eventstore/wire_format.h"
#include "grpcpp/support/byte_buffer.h"
#include "projections/reader_view.h"
#include "services/append_preparation.h"
#include "services/append_response.h"
#include "services/append_stream_reactor.h"
#include "services/audited_read.h"
#include "services/grpc_status.h"

namespace casetrail::services {
namespace {

using casetrail::v1::AccessRecorded;
using casetrail::v1::CaseEvent;
using casetrail::v1::RecordedEvent;

constexpr uint32_t kDefaultReadLimit = 1000;
constexpr uint32_t kMaxReadLimit = 10000;
// A subscription sends at most this many events per message.
constexpr size_t kSubscribeBatch = 256;

static_assert(kMaxReadLimit * 6 + 4096 <= kReadResponseHeadroomBytes,
              "the headroom must hold the framing of a full page");

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

// The cases a log read returned, for its access event: the first
// kMaxCasesListed distinct stream ids, and how many there were.
constexpr size_t kMaxCasesListed = 100;

void OutlineLogRead(const std::vector<std::string>& stored,
                    AccessRecorded* access) {
  std::set<std::string> cases;
  for (const std::string& bytes : stored) {
    RecordedEvent event;
    if (event.ParseFromString(bytes)) cases.insert(event.event().stream_id());
  }
  size_t listed = 0;
  for (const std::string& c : cases) {
    if (listed++ == kMaxCasesListed) break;
    access->add_cases_returned(c);
  }
  access->set_items_returned(stored.size());
  if (cases.size() > kMaxCasesListed) {
    access->set_request_summary(absl::StrCat(access->request_summary(), " (",
                                             cases.size(), " cases; the first ",
                                             kMaxCasesListed, " listed)"));
  }
}

// Keeps in `stored` (RecordedEvent bytes) the events `keep` says the reader
// may see (`keep` returns true, false, or an error that ends the read);
// returns how many were left out.
template <typename Keep>
absl::StatusOr<size_t> KeepVisible(std::vector<std::string>* stored,
                                   Keep keep) {
  size_t dropped = 0;
  std::vector<std::string> kept;
  kept.reserve(stored->size());
  for (std::string& bytes : *stored) {
    RecordedEvent event;
    if (!event.ParseFromString(bytes)) {
      return absl::DataLossError("a stored event could not be decoded");
    }
    absl::StatusOr<bool> visible = keep(event.event());
    if (!visible.ok()) return visible.status();
    if (*visible) {
      kept.push_back(std::move(bytes));
    } else {
      ++dropped;
    }
  }
  *stored = std::move(kept);
  return dropped;
}

// The finish of a raw read (audited_read.h): on OK, `out` becomes the
// response, handed to gRPC without a copy.
std::function<void(absl::Status)> SendBytesOnOk(
    grpc::ServerUnaryReactor* reactor, std::shared_ptr<std::string> out,
    grpc::ByteBuffer* response_bytes) {
  return [reactor, out = std::move(out), response_bytes](absl::Status status) {
    if (status.ok()) SetResponse(std::move(*out), response_bytes);
    reactor->Finish(ToGrpcStatus(status));
  };
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
  // The subscription ends with UNAUTHENTICATED at its first step after
  // `expires_at` (the subscriber's token's exp).
  SubscribeReactor(CaseLogService* service, uint64_t from_position)
      : service_(service), next_position_(from_position) {}

  // What the subscription delivers, and until when (its credential's exp).
  // Called once, before Start().
  void Open(eventstore::LogFilter filter, absl::Time expires_at) {
    absl::MutexLock l(&mu_);
    filter_ = std::move(filter);
    expires_at_ = expires_at;
  }

  void Start() { Step(); }

  // Ends the call at once with `status` (an authorisation refusal).
  void Refuse(grpc::Status status) {
    {
      absl::MutexLock l(&mu_);
      finished_ = true;
    }
    Finish(std::move(status));
  }

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
      if (!waiting_ || finished_ || !service_->waits_.Cancel(waiter_)) {
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
      if (action == Action::kWait) {
        // Refused once the server is stopping: Decide() saw it running, but
        // StopSubscriptions() may have woken the waiters since.
        absl::StatusOr<eventstore::EventStore::NotificationId> waiter =
            service_->waits_.Park(next_position_, [this] {
              {
                absl::MutexLock l(&mu_);
                waiting_ = false;
              }
              Step();
            });
        if (waiter.ok()) {
          waiting_ = true;
          waiter_ = *waiter;
        } else {
          status = ToGrpcStatus(waiter.status());
          action = Action::kFinish;
        }
      }
      if (action == Action::kFinish) finished_ = true;
    }
    if (action == Action::kWrite) StartWrite(&response_);
    if (action == Action::kFinish) Finish(status);
  }

  Action Decide(grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (cancelled_) {
      status = grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      return Action::kFinish;
    }
    if (absl::Now() >= expires_at_) {
      status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                            "the subscriber's credential expired");
      return Action::kFinish;
    }
    if (service_->waits_.stopped() || service_->store_->closing()) {
      status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "server is shutting down");
      return Action::kFinish;
    }
    eventstore::LogRead read;
    read.from_position = next_position_;
    read.limit = kSubscribeBatch;
    read.max_bytes = service_->read_page_bytes_;
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
  eventstore::LogFilter filter_ ABSL_GUARDED_BY(mu_);
  absl::Time expires_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  casetrail::v1::SubscribeResponse response_;
  bool sent_caught_up_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
  eventstore::EventStore::NotificationId waiter_ ABSL_GUARDED_BY(mu_) = 0;
};

size_t ReadPageBytes(size_t max_message_bytes) {
  return max_message_bytes > kReadResponseHeadroomBytes
             ? max_message_bytes - kReadResponseHeadroomBytes
             : 1;
}

CaseLogService::CaseLogService(eventstore::EventStore* store,
                               AppendLimits limits, size_t max_message_bytes,
                               AuditedReads* reads, WorkerPool* appends)
    : store_(store),
      limits_(limits),
      read_page_bytes_(ReadPageBytes(max_message_bytes)),
      security_(reads->security()),
      reads_(reads),
      appends_(appends),
      waits_(store) {}

grpc::ServerUnaryReactor* CaseLogService::AppendEvents(
    grpc::CallbackServerContext* context,
    const casetrail::v1::AppendEventsRequest* request,
    casetrail::v1::AppendEventsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<CallSecurity> call = security_->Authorize(
      *context, "/casetrail.v1.CaseLog/AppendEvents", /*read=*/false, {});
  absl::Status allowed =
      call.ok() ? security_->CheckWrite(*call, request->stream_id())
                : call.status();
  if (!allowed.ok()) {
    reactor->Finish(ToGrpcStatus(allowed));
    return reactor;
  }
  // Preparation reads the case's history (the rules that look back): on the
  // append pool, not a callback thread. `request` and `response` stay valid
  // until the reactor finishes.
  appends_->Schedule([this, reactor, request, response] {
    PreparedAppend prepared = PrepareAppend(*store_, *request, limits_);
    if (!prepared.status.ok()) {
      reactor->Finish(prepared.status);
      return;
    }
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
  });
  return reactor;
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
CaseLogService::AppendEventsStream(grpc::CallbackServerContext* context) {
  absl::StatusOr<CallSecurity> call = security_->Authorize(
      *context, "/casetrail.v1.CaseLog/AppendEventsStream", /*read=*/false, {});
  if (!call.ok()) return new RefusedStreamReactor(ToGrpcStatus(call.status()));
  // Each request's stream must be in the caller's tenant; a refusal answers
  // that request and the stream goes on.
  return new AppendStreamReactor(
      store_, limits_, appends_,
      [security = security_, call = *std::move(call)](
          const casetrail::v1::AppendEventsRequest& request) {
        if (absl::Now() >= call.principal.expires_at) {
          return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                              "the stream's credential expired");
        }
        return ToGrpcStatus(security->CheckWrite(call, request.stream_id()));
      });
}

grpc::ServerUnaryReactor* CaseLogService::ReadCaseStream(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto request = std::make_shared<casetrail::v1::ReadCaseStreamRequest>();
  if (!ParseRequest(*request_bytes, request.get())) {
    reactor->Finish(
        BadRequestStatus({{"", "cannot parse ReadCaseStreamRequest"}}));
    return reactor;
  }
  std::vector<FieldViolation> violations;
  if (auto violation = CheckStreamId(request->stream_id())) {
    violations.push_back(*violation);
  }
  if (!casetrail::v1::ReadDirection_IsValid(request->direction())) {
    violations.push_back({"direction", "unknown direction"});
  }
  if (!violations.empty()) {
    reactor->Finish(BadRequestStatus(violations));
    return reactor;
  }
  AccessRecorded asked;
  asked.set_case_id(request->stream_id());
  asked.set_request_summary(absl::StrCat(
      "case stream ",
      request->direction() == casetrail::v1::READ_DIRECTION_BACKWARDS
          ? "backwards"
          : "forwards",
      " from version ", request->from_version(), ", limit ",
      ReadLimit(request->limit())));
  auto out = std::make_shared<std::string>();
  reads_->Run(
      *context, "/casetrail.v1.CaseLog/ReadCaseStream", std::move(asked),
      [this, request, out](const CallSecurity& call, AccessRecorded& access) {
        absl::StatusOr<security::CaseDecision> decision =
            security_->DecideCase(call, request->stream_id());
        if (!decision.ok()) return ReadOutcome::NotRecorded(decision.status());
        AddFlags(decision->flags, &access);
        if (!decision->allowed) {
          return ReadOutcome::Refused(std::move(decision->refusal));
        }
        eventstore::StreamRead read;
        read.stream_id = request->stream_id();
        read.from_version = request->from_version();
        read.backwards =
            request->direction() == casetrail::v1::READ_DIRECTION_BACKWARDS;
        read.limit = ReadLimit(request->limit());
        read.max_bytes = read_page_bytes_;
        absl::StatusOr<eventstore::StreamSlice> slice =
            store_->ReadStream(read);
        // Events restricted away from this reader are left out (the stream
        // version still says how many there are).
        const projections::ReaderView reader(
            std::move(decision->hidden_events));
        size_t withheld = 0;
        if (slice.ok() && !reader.sees_everything()) {
          absl::StatusOr<size_t> dropped = KeepVisible(
              &slice->events, [&](const CaseEvent& e) -> absl::StatusOr<bool> {
                return !reader.Withholds(e);
              });
          if (dropped.ok()) {
            withheld = *dropped;
          } else {
            slice = dropped.status();
          }
        }
        if (!slice.ok()) {
          access.set_response_summary(std::string(slice.status().message()));
          return ReadOutcome::Answered(slice.status());
        }
        // ReadCaseStreamResponse: events = 1, stream_version = 2,
        // next_version = 3.
        *out = ComposeEvents(slice->events, 1);
        eventstore::AppendVarintField(2, slice->stream_version, out.get());
        if (slice->next_version != 0) {
          eventstore::AppendVarintField(3, slice->next_version, out.get());
        }
        access.set_items_returned(slice->events.size());
        if (!slice->events.empty()) {
          access.add_cases_returned(request->stream_id());
        }
        access.set_response_summary(
            absl::StrCat(slice->events.size(), " events; stream version ",
                         slice->stream_version, WithheldNote(withheld)));
        return ReadOutcome::Answered();
      },
      SendBytesOnOk(reactor, out, response_bytes));
  return reactor;
}

absl::StatusOr<eventstore::LogFilter> CaseLogService::ScopeLogRead(
    const CallSecurity& call,
    const google::protobuf::RepeatedPtrField<std::string>& event_types,
    const std::string& stream_prefix, bool subscription) const {
  eventstore::LogFilter filter = ToFilter(event_types, stream_prefix);
  if (!call.enabled) return filter;
  absl::StatusOr<security::LogScope> scope = security_->policy()->ScopeLogRead(
      call.principal, stream_prefix, subscription, absl::Now());
  if (!scope.ok()) return scope.status();
  filter.stream_prefix = std::move(scope->stream_prefix);
  filter.exclude_stream_prefix = std::move(scope->exclude_stream_prefix);
  return filter;
}

absl::StatusOr<size_t> CaseLogService::WithholdFromLogRead(
    const CallSecurity& call, std::vector<std::string>* stored,
    AccessRecorded* access) const {
  if (!call.enabled ||
      call.principal.role == casetrail::v1::ROLE_UPSTREAM_SYSTEM) {
    return 0;
  }
  // One decision per case in the slice.
  // What the reader may see of each case in the slice (nullopt: nothing).
  absl::flat_hash_map<std::string, std::optional<projections::ReaderView>>
      readers;
  return KeepVisible(stored, [&](const CaseEvent& e) -> absl::StatusOr<bool> {
    // The access audit, for auditors (ScopeLogRead keeps it from others).
    if (eventstore::IsReservedStream(e.stream_id())) return true;
    auto it = readers.find(e.stream_id());
    if (it == readers.end()) {
      absl::StatusOr<security::CaseDecision> decision =
          security_->DecideCase(call, e.stream_id());
      if (!decision.ok()) return decision.status();
      std::optional<projections::ReaderView> reader;
      if (decision->allowed) {
        AddFlags(decision->flags, access);
        reader.emplace(std::move(decision->hidden_events));
      }
      it = readers.emplace(e.stream_id(), std::move(reader)).first;
    }
    return it->second.has_value() && !it->second->Withholds(e);
  });
}

grpc::ServerUnaryReactor* CaseLogService::ReadLog(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto request = std::make_shared<casetrail::v1::ReadLogRequest>();
  if (!ParseRequest(*request_bytes, request.get())) {
    reactor->Finish(BadRequestStatus({{"", "cannot parse ReadLogRequest"}}));
    return reactor;
  }
  AccessRecorded asked;
  asked.set_request_summary(absl::StrCat(
      "log from position ", request->from_position(), ", limit ",
      ReadLimit(request->limit()),
      request->stream_prefix().empty()
          ? ""
          : ", streams starting " + request->stream_prefix(),
      request->event_types().empty()
          ? ""
          : ", types " + absl::StrJoin(request->event_types(), ",")));
  auto out = std::make_shared<std::string>();
  reads_->Run(
      *context, "/casetrail.v1.CaseLog/ReadLog", std::move(asked),
      [this, request, out](const CallSecurity& call, AccessRecorded& access) {
        absl::StatusOr<eventstore::LogFilter> filter =
            ScopeLogRead(call, request->event_types(), request->stream_prefix(),
                         /*subscription=*/false);
        if (!filter.ok()) {
          return ReadOutcome::Refused(std::string(filter.status().message()));
        }
        eventstore::LogRead read;
        read.from_position = request->from_position();
        read.limit = ReadLimit(request->limit());
        read.max_bytes = read_page_bytes_;
        read.filter = *std::move(filter);
        absl::StatusOr<eventstore::LogSlice> slice = store_->ReadLog(read);
        size_t withheld = 0;
        if (slice.ok()) {
          absl::StatusOr<size_t> dropped =
              WithholdFromLogRead(call, &slice->events, &access);
          if (dropped.ok()) {
            withheld = *dropped;
          } else {
            slice = dropped.status();
          }
        }
        if (!slice.ok()) {
          access.set_response_summary(std::string(slice.status().message()));
          return ReadOutcome::Answered(slice.status());
        }
        // ReadLogResponse: events = 1, next_position = 2, log_size = 3.
        *out = ComposeEvents(slice->events, 1);
        eventstore::AppendVarintField(2, slice->next_position, out.get());
        eventstore::AppendVarintField(3, slice->log_size, out.get());
        if (call.enabled) OutlineLogRead(slice->events, &access);
        access.set_response_summary(
            absl::StrCat(slice->events.size(), " events below position ",
                         slice->next_position, WithheldNote(withheld)));
        return ReadOutcome::Answered();
      },
      SendBytesOnOk(reactor, out, response_bytes));
  return reactor;
}

grpc::ServerWriteReactor<casetrail::v1::SubscribeResponse>*
CaseLogService::Subscribe(grpc::CallbackServerContext* context,
                          const casetrail::v1::SubscribeRequest* request) {
  AccessRecorded asked;
  asked.set_request_summary(absl::StrCat(
      "subscription from position ", request->from_position(),
      request->stream_prefix().empty()
          ? ""
          : ", streams starting " + request->stream_prefix(),
      request->event_types().empty()
          ? ""
          : ", types " + absl::StrJoin(request->event_types(), ",")));
  // Authorised and recorded on a worker; the reactor starts streaming once
  // the access event is durable.
  auto* reactor = new SubscribeReactor(this, request->from_position());
  reads_->Run(
      *context, "/casetrail.v1.CaseLog/Subscribe", std::move(asked),
      [this, request, reactor](const CallSecurity& call,
                               AccessRecorded& access) {
        absl::StatusOr<eventstore::LogFilter> filter =
            ScopeLogRead(call, request->event_types(), request->stream_prefix(),
                         /*subscription=*/true);
        if (!filter.ok()) {
          return ReadOutcome::Refused(std::string(filter.status().message()));
        }
        // One access event for the whole subscription, when it opens: what
        // it delivers later is bounded by the filter recorded here.
        AddFlags({casetrail::v1::ACCESS_FLAG_BULK}, &access);
        access.set_response_summary("subscription opened");
        reactor->Open(*std::move(filter), call.principal.expires_at);
        return ReadOutcome::Answered();
      },
      [this, reactor](absl::Status status) {
        if (status.ok()) {
          // Not on the store's thread that acknowledged the access event:
          // the first step reads the log.
          reads_->Schedule([reactor] { reactor->Start(); });
        } else {
          // It never reads: it finishes with the refusal at once.
          reactor->Refuse(ToGrpcStatus(status));
        }
      });
  return reactor;
}

grpc::ServerUnaryReactor* CaseLogService::GetLogInfo(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetLogInfoRequest* request,
    casetrail::v1::GetLogInfoResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<CallSecurity> call = security_->Authorize(
          *context, "/casetrail.v1.CaseLog/GetLogInfo", /*read=*/false, {});
      !call.ok()) {
    reactor->Finish(ToGrpcStatus(call.status()));
    return reactor;
  }
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
  // Parked subscriptions wake, see it, and finish with UNAVAILABLE; the others
  // see it when their current write completes, or are refused when they try
  // to park.
  waits_.Stop();
}

}  // namespace casetrail::services
