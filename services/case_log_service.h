#ifndef CASETRAIL_SERVICES_CASE_LOG_SERVICE_H_
#define CASETRAIL_SERVICES_CASE_LOG_SERVICE_H_

#include "casetrail/v1/case_log.grpc.pb.h"
#include "eventstore/event_store.h"
#include "services/append_validation.h"
#include "services/audited_read.h"
#include "services/internal/subscriber_waits.h"
#include "services/request_security.h"
#include "services/worker_pool.h"

namespace casetrail::services {

class SubscribeReactor;

// Room left in every read response (ReadCaseStream, ReadLog, a Subscribe
// message) for what is not event bytes: the framing of each event (at most 6
// bytes, for at most 10000 events) and the response's other fields.
inline constexpr size_t kReadResponseHeadroomBytes = 64 << 10;

// The most bytes of stored events one read page carries when responses may be
// `max_message_bytes` long: that less kReadResponseHeadroomBytes, and at least
// 1. A page holds at least one event whatever its size, so the server refuses
// to start unless the largest stored event fits (CasetrailServer::Start).
size_t ReadPageBytes(size_t max_message_bytes);

// casetrail.v1.CaseLog on the callback API. Thin: checks the request, calls the
// event store, converts the status. Appends are prepared on the append pool
// and complete on the store's acknowledger thread, which finishes the RPC;
// reads and the opening of a subscription run on the audited-read pool;
// subscriptions are then woken by the store's notifier thread. Nothing blocks
// a gRPC callback thread.
//
// Thread-safe. `store` is not owned and must outlive the service.
// ReadCaseStream and ReadLog are raw methods: their responses are composed from
// the stored event bytes as they are, without parsing and re-serialising (same
// wire format as the proto). AppendEventsStream is raw so that it answers a
// request that does not parse in place (append_stream_reactor.h); its typed
// callback method has the same signature, so the base lists each method
// rather than wrap CallbackService.
using CaseLogServiceBase =
    casetrail::v1::CaseLog::WithCallbackMethod_AppendEvents<
        casetrail::v1::CaseLog::WithRawCallbackMethod_AppendEventsStream<
            casetrail::v1::CaseLog::WithRawCallbackMethod_ReadCaseStream<
                casetrail::v1::CaseLog::WithRawCallbackMethod_ReadLog<
                    casetrail::v1::CaseLog::WithCallbackMethod_Subscribe<
                        casetrail::v1::CaseLog::WithCallbackMethod_GetLogInfo<
                            casetrail::v1::CaseLog::Service>>>>>>;

class CaseLogService final : public CaseLogServiceBase {
 public:
  // Reads of case data run through `reads` (audited_read.h: authorise,
  // decide, read, record, respond on its worker pool); appends are prepared
  // (validated against the case's history) on `appends`. Not owned; both
  // must outlive the service.
  // Each read page is bounded by ReadPageBytes(max_message_bytes) as well as
  // by its event limit; the next page continues where it stopped.
  CaseLogService(eventstore::EventStore* store, AppendLimits limits,
                 size_t max_message_bytes, AuditedReads* reads,
                 WorkerPool* appends);

  grpc::ServerUnaryReactor* AppendEvents(
      grpc::CallbackServerContext* context,
      const casetrail::v1::AppendEventsRequest* request,
      casetrail::v1::AppendEventsResponse* response) override;
  // Requests: AppendEventsRequest; responses: AppendEventsStreamResponse.
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
  AppendEventsStream(grpc::CallbackServerContext* context) override;
  // Request: ReadCaseStreamRequest; response: ReadCaseStreamResponse.
  grpc::ServerUnaryReactor* ReadCaseStream(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  // Request: ReadLogRequest; response: ReadLogResponse.
  grpc::ServerUnaryReactor* ReadLog(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;
  grpc::ServerWriteReactor<casetrail::v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const casetrail::v1::SubscribeRequest* request) override;
  grpc::ServerUnaryReactor* GetLogInfo(
      grpc::CallbackServerContext* context,
      const casetrail::v1::GetLogInfoRequest* request,
      casetrail::v1::GetLogInfoResponse* response) override;

  // Ends every open subscription with UNAVAILABLE ("server is shutting
  // down"), so that a server shutdown does not wait for them; new
  // subscriptions, and one about to wait for the log to grow, end at once the
  // same way.
  void StopSubscriptions();

 private:
  friend class SubscribeReactor;

  // The filter of a log read or subscription by `call`: with security on,
  // only for a tenant-wide scope, narrowed to the caller's tenant, and
  // without the access audit unless the caller is an auditor.
  // PERMISSION_DENIED otherwise. A person (not an upstream system) may
  // subscribe only to the access audit: a subscription delivers events as
  // they are appended, before the read model knows who may see them.
  absl::StatusOr<eventstore::LogFilter> ScopeLogRead(
      const CallSecurity& call,
      const google::protobuf::RepeatedPtrField<std::string>& event_types,
      const std::string& stream_prefix, bool subscription) const;

  // For a person reading the log, leaves out of `stored` (RecordedEvent
  // bytes) the events of cases they could not read one by one (restricted or
  // sealed records not naming them) and single events restricted away from
  // them, adds the flags of the cases kept to `access`, and returns how many
  // events were left out. Upstream systems, the source of the record, keep
  // everything.
  absl::StatusOr<size_t> WithholdFromLogRead(
      const CallSecurity& call, std::vector<std::string>* stored,
      casetrail::v1::AccessRecorded* access) const;

  eventstore::EventStore* const store_;
  const AppendLimits limits_;
  // ReadPageBytes of the server's message limit.
  const size_t read_page_bytes_;
  RequestSecurity* const security_;
  AuditedReads* const reads_;
  WorkerPool* const appends_;
  SubscriberWaits waits_;
};

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_CASE_LOG_SERVICE_H_
