#ifndef CASETRAIL_SERVICES_SERVER_H_
#define CASETRAIL_SERVICES_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eventstore/checkpointer.h"
#include "eventstore/event_store.h"
#include "grpcpp/server.h"
#include "projections/calendar.h"
#include "projections/case_fold.h"
#include "projections/queries.h"
#include "projections/read_model.h"
#include "projections/runner.h"
#include "projections/timescales.h"
#include "security/policy.h"
#include "services/access_audit_service.h"
#include "services/append_validation.h"
#include "services/audited_read.h"
#include "services/case_log_service.h"
#include "services/case_queries_service.h"
#include "services/integrity_service.h"
#include "services/request_security.h"
#include "services/transport.h"
#include "services/worker_pool.h"

namespace casetrail::services {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port. Default 127.0.0.1:50051.
  std::string listen_address = "127.0.0.1:50051";
  // The event store's directory. Required.
  std::string data_dir;
  // Largest gRPC message the server receives or sends. Default 8 MiB. Appends
  // over limits.max_append_bytes but under this get INVALID_ARGUMENT with a
  // field violation; messages over this get gRPC's RESOURCE_EXHAUSTED. Read
  // pages (ReadCaseStream, ReadLog, Subscribe) stop at ReadPageBytes() of it,
  // so a read never exceeds it; Start() refuses a limits.max_event_bytes that
  // would not fit in one page (case_log_service.h).
  int max_message_bytes = 8 << 20;
  AppendLimits limits;
  // The checkpoint signing key (a signer key, eventstore/signed_note.h). Empty
  // means data_dir/checkpoint_signing.key, generated on first start with
  // permissions 0600.
  std::string signing_key_file;
  // The log's name (checkpoint origin) given to a newly generated key; an
  // existing key keeps its own name.
  std::string log_origin = "casetrail.local/log";
  // How often a checkpoint is issued while the log grows; zero turns it off.
  // One is also issued at start and at stop.
  absl::Duration checkpoint_interval = absl::Seconds(60);
  // England and Wales bank holidays (gov.uk bank-holidays.json format); empty
  // means the file shipped with the build (2015-2030).
  std::string bank_holidays_file;
  // Timescale rules (protobuf text format, proto/casetrail/v1/rules.proto);
  // empty means the set shipped with the build.
  std::string timescale_rules_file;
  // The read models' database (projections/read_model.h); empty means
  // data_dir/readmodels. Everything in it is rebuilt from the log when
  // missing, or when built with other rules or another fold version.
  std::string readmodel_dir;
  // The port's TLS (services/transport.h). Default: none, which is refused
  // unless plaintext_loopback is set.
  TlsOptions tls;
  // Serve plaintext, only on a loopback listen_address, for development and
  // the quick start. Default false. Contradicts TLS files.
  bool plaintext_loopback = false;
  // Acknowledge appends, and answer reads, without syncing the log's WAL.
  // Only for benchmarks that measure what the fsync costs: a power loss can
  // lose acknowledged events and the access records of reads already
  // answered. Refused unless plaintext_loopback is set. Default false.
  bool unsafe_no_fsync = false;
  // Authentication, authorisation and the access audit
  // (proto/casetrail/v1/security_config.proto, text format;
  // docs/security.md). Required unless plaintext_loopback is set; without it
  // security is off: no tenants, every call allowed, nothing audited.
  std::string security_config_file;
  // Threads that run reads of case data (audited_read.h: authorise, decide,
  // read, record, respond). An access decision may wait up to 2 s for the
  // read model, holding its thread; appends never wait for these. Default 8.
  int read_workers = 8;
  // Threads that prepare appends (validation against the case's history)
  // before they go to the store's writer. Default 2.
  int append_workers = 2;
};

// The casetraild process minus flags and signals: the event store, its
// checkpointer, the projection runner and its read models, the CaseLog,
// CaseQueries and LogIntegrity services, health and reflection.
// Thread-safe; Stop() is idempotent. Threads: the caller's (Start, Stop, the
// accessors), gRPC's callback threads (the services), the store's writer,
// acknowledger and notifier threads, the checkpointer's interval thread (which
// logs its failures to stderr), the projection runner's, and two worker pools
// (reads, append preparation) so that no gRPC callback thread blocks.
class CasetrailServer {
 public:
  // Opens the store, loads (or creates) the signing key, issues a checkpoint
  // and starts serving. Errors: MakeServerCredentials' error for a transport
  // that is not allowed or TLS files that are not usable (checked before the
  // store is touched), INVALID_ARGUMENT if limits.max_event_bytes would not
  // fit in one read page (ServerOptions.max_message_bytes), the store's open
  // error, the key file's error, or UNAVAILABLE if the address cannot be
  // bound.
  static absl::StatusOr<std::unique_ptr<CasetrailServer>> Start(
      const ServerOptions& options);
  ~CasetrailServer();

  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  eventstore::EventStore& store() { return *store_; }
  eventstore::Checkpointer& checkpointer() { return *checkpointer_; }
  // The working-day calendar and timescale rules deadlines are computed with.
  const projections::WorkingDayCalendar& calendar() const { return *calendar_; }
  const projections::TimescaleRules& timescale_rules() const {
    return *timescale_rules_;
  }
  projections::ProjectionRunner& runner() { return *runner_; }
  // Null when security is off.
  const security::SecurityPolicy* policy() const { return policy_.get(); }
  // Reads the token issuers' key files (PEM keys and JWKS files) again, for
  // SIGHUP: security::SecurityPolicy::ReloadKeys. On error the keys in use
  // are kept. FAILED_PRECONDITION when security is off. Thread-safe.
  absl::Status ReloadTokenKeys();

  // Ends subscriptions, stops taking calls, lets in-flight appends finish and
  // be acknowledged, issues a last checkpoint, then closes the store. A call
  // made while another is stopping the server returns once it has stopped.
  // REQUIRES: not called from a gRPC callback (it waits for them to finish).
  void Stop();

 private:
  CasetrailServer() = default;

  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<eventstore::Checkpointer> checkpointer_;
  std::optional<projections::WorkingDayCalendar> calendar_;
  std::optional<projections::TimescaleRules> timescale_rules_;
  projections::FoldConfig fold_config_;
  std::unique_ptr<projections::ReadModelStore> read_model_;
  std::unique_ptr<projections::ProjectionRunner> runner_;
  std::unique_ptr<projections::QueryEngine> query_engine_;
  std::unique_ptr<security::SecurityPolicy> policy_;
  std::unique_ptr<RequestSecurity> security_;
  std::unique_ptr<AccessAuditService> access_audit_service_;
  std::unique_ptr<CaseQueriesService> queries_service_;
  std::unique_ptr<CaseLogService> service_;
  std::unique_ptr<IntegrityService> integrity_service_;
  // Declared after the services, so destroyed (their threads joined) before
  // them; by then the gRPC server has finished every call, so nothing is
  // queued.
  std::unique_ptr<AuditedReads> reads_;
  std::unique_ptr<WorkerPool> read_pool_;
  std::unique_ptr<WorkerPool> append_pool_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  absl::Mutex stop_mu_;
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_SERVER_H_
