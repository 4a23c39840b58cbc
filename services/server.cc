#include "services/server.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eventstore/status_macros.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "services/log_line.h"
#include "services/unparseable_request.h"

namespace casetrail::services {

absl::StatusOr<std::unique_ptr<CasetrailServer>> CasetrailServer::Start(
    const ServerOptions& options) {
  // The transport is checked first: a server that would listen without TLS
  // where it should not, or with unusable TLS files, never opens the store.
  ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::ServerCredentials> credentials,
      MakeServerCredentials(options.tls, options.plaintext_loopback,
                            options.listen_address));
  // A read page holds at least one event, so the largest event accepted must
  // fit in one response with room for its other fields.
  if (options.max_message_bytes <= 0 ||
      options.limits.max_event_bytes + kStoredEventOverheadBytes >
          ReadPageBytes(static_cast<size_t>(options.max_message_bytes))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max_event_bytes (", options.limits.max_event_bytes,
        ") must be at most --max_message_bytes (", options.max_message_bytes,
        ") less ", kReadResponseHeadroomBytes + kStoredEventOverheadBytes,
        " bytes, so that a read response can carry the largest event"));
  }
  std::unique_ptr<CasetrailServer> server(new CasetrailServer());
  if (!options.security_config_file.empty()) {
    ASSIGN_OR_RETURN(server->policy_, security::SecurityPolicy::FromFile(
                                          options.security_config_file));
  } else if (!options.plaintext_loopback) {
    return absl::FailedPreconditionError(
        "--security_config is required: without it nobody is authenticated "
        "and no read is audited, which is allowed only with "
        "--plaintext_loopback for development");
  }
  // A malformed holidays or rules file is a deployment mistake: refuse to
  // start rather than compute deadlines without it.
  if (options.bank_holidays_file.empty()) {
    server->calendar_ = projections::WorkingDayCalendar::Default();
  } else {
    ASSIGN_OR_RETURN(
        server->calendar_,
        projections::WorkingDayCalendar::FromFile(options.bank_holidays_file));
  }
  if (options.timescale_rules_file.empty()) {
    server->timescale_rules_ = projections::TimescaleRules::Default();
  } else {
    ASSIGN_OR_RETURN(
        server->timescale_rules_,
        projections::TimescaleRules::FromFile(options.timescale_rules_file));
  }
  eventstore::StoreOptions store_options;
  store_options.path = options.data_dir;
  if (options.unsafe_no_fsync) {
    if (!options.plaintext_loopback) {
      return absl::InvalidArgumentError(
          "--unsafe_no_fsync is for benchmarks on a development server: it "
          "needs --plaintext_loopback");
    }
    store_options.sync = false;
  }
  ASSIGN_OR_RETURN(server->store_, eventstore::EventStore::Open(store_options));
  const std::string key_file =
      options.signing_key_file.empty()
          ? options.data_dir + "/checkpoint_signing.key"
          : options.signing_key_file;
  ASSIGN_OR_RETURN(
      eventstore::NoteSigner signer,
      options.signing_key_file.empty()
          ? eventstore::LoadOrCreateSignerKeyFile(key_file, options.log_origin)
          : eventstore::LoadSignerKeyFile(key_file));
  ASSIGN_OR_RETURN(server->checkpointer_,
                   eventstore::Checkpointer::Create(server->store_.get(),
                                                    std::move(signer)));
  RETURN_IF_ERROR(server->checkpointer_->Issue().status());
  if (options.checkpoint_interval > absl::ZeroDuration()) {
    // A failure loses nothing (the next interval, a request or the stop signs
    // one) but must not pass unseen: it is logged, and counted in
    // checkpointer().interval_failures().
    server->checkpointer_->StartInterval(
        options.checkpoint_interval,
        [checkpointer = server->checkpointer_.get(),
         interval = options.checkpoint_interval](const absl::Status& status) {
          LogLine(absl::StrCat("periodic checkpoint failed (",
                               checkpointer->interval_failures().count,
                               " failures since start); trying again in ",
                               absl::FormatDuration(interval), ": ",
                               status.ToString()));
        });
  }
  server->fold_config_.calendar = &*server->calendar_;
  server->fold_config_.rules = &*server->timescale_rules_;
  server->fold_config_.zone = projections::FoldConfig::Default().zone;
  ASSIGN_OR_RETURN(
      server->read_model_,
      projections::ReadModelStore::Open(options.readmodel_dir.empty()
                                            ? options.data_dir + "/readmodels"
                                            : options.readmodel_dir,
                                        server->fold_config_.Fingerprint()));
  ASSIGN_OR_RETURN(server->runner_,
                   projections::ProjectionRunner::Start(
                       server->store_.get(), server->read_model_.get(),
                       server->fold_config_));
  server->query_engine_ = std::make_unique<projections::QueryEngine>(
      server->store_.get(), server->read_model_.get(), server->runner_.get(),
      server->fold_config_);
  server->query_engine_->set_redact_runner_errors(server->policy_ != nullptr);
  server->security_ = std::make_unique<RequestSecurity>(
      server->policy_.get(), server->store_.get(), server->read_model_.get(),
      server->runner_.get());
  server->read_pool_ =
      std::make_unique<WorkerPool>(std::max(1, options.read_workers));
  server->append_pool_ =
      std::make_unique<WorkerPool>(std::max(1, options.append_workers));
  server->reads_ = std::make_unique<AuditedReads>(server->security_.get(),
                                                  server->read_pool_.get());
  server->queries_service_ = std::make_unique<CaseQueriesService>(
      server->query_engine_.get(), server->reads_.get());
  server->service_ = std::make_unique<CaseLogService>(
      server->store_.get(), options.limits,
      static_cast<size_t>(options.max_message_bytes), server->reads_.get(),
      server->append_pool_.get());
  server->integrity_service_ = std::make_unique<IntegrityService>(
      server->store_.get(), server->checkpointer_.get(), server->reads_.get());
  server->access_audit_service_ = std::make_unique<AccessAuditService>(
      server->store_.get(), server->reads_.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, credentials, &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(server->service_.get());
  builder.RegisterService(server->integrity_service_.get());
  builder.RegisterService(server->queries_service_.get());
  builder.RegisterService(server->access_audit_service_.get());
  // A request that does not parse is INVALID_ARGUMENT naming its type, not
  // gRPC's bare UNIMPLEMENTED (unparseable_request.h).
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      std::make_unique<UnparseableRequestInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address,
                     " (in use, or not an address of this machine?)"));
  }
  return server;
}

CasetrailServer::~CasetrailServer() { Stop(); }

absl::Status CasetrailServer::ReloadTokenKeys() {
  if (policy_ == nullptr) {
    return absl::FailedPreconditionError(
        "security is off (no --security_config): there are no token keys");
  }
  return policy_->ReloadKeys();
}

void CasetrailServer::Stop() {
  // Held throughout, so that a second caller returns only once the server has
  // stopped.
  absl::MutexLock l(&stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  // Stop following the log first: a rebuild in progress stops at its next
  // batch (the read model stays consistent at its checkpoint and resumes at
  // the next start), so the call that asked for it can finish.
  if (runner_ != nullptr) runner_->Stop();
  if (server_ != nullptr) {
    service_->StopSubscriptions();
    // Appends already accepted complete (the store is still open); anything
    // still running after the deadline is cancelled.
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    server_->Wait();
  }
  if (queries_service_ != nullptr) queries_service_->WaitForRebuild();
  if (checkpointer_ != nullptr) {
    checkpointer_->Stop();
    // The log as it stands at stop is covered by a checkpoint. A failure here
    // loses nothing: the next start issues one.
    (void)checkpointer_->Issue();
  }
  if (store_ != nullptr) store_->Close();
}

}  // namespace casetrail::services
