// casetraild: the casetrail server. Serves casetrail.v1.CaseLog,
// grpc.health.v1.Health and server reflection on an embedded RocksDB event
// store.

#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/log_line.h"
#include "services/server.h"

ABSL_FLAG(std::string, data_dir, "data",
          "Directory of the embedded event store; created if missing.");
ABSL_FLAG(std::string, readmodel_dir, "",
          "The read models' database (chronologies, case state); default "
          "DATA_DIR/readmodels. Rebuilt from the log when missing or built "
          "with other timescale rules.");
ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to listen on (host:port; port 0 picks a free port).");
ABSL_FLAG(int, max_message_bytes, 8 << 20,
          "Largest gRPC message received or sent, in bytes. Read pages stop "
          "short of it; --max_event_bytes must be at least 65 KiB below it.");
ABSL_FLAG(int, max_event_bytes, 64 << 10,
          "Largest serialised event accepted, in bytes.");
ABSL_FLAG(int, max_append_bytes, 4 << 20,
          "Largest total size of the events of one append, in bytes.");
ABSL_FLAG(int, max_events_per_append, 1000, "Most events in one append.");
ABSL_FLAG(std::string, signing_key_file, "",
          "Checkpoint signing key (a PRIVATE+KEY+... signer key, mode 0600). "
          "Default: DATA_DIR/checkpoint_signing.key, generated on first "
          "start.");
ABSL_FLAG(std::string, log_origin, "casetrail.local/log",
          "The log's name in its checkpoints, given to a newly generated key "
          "(e.g. casetrail.example-council.gov.uk/children). An existing "
          "key keeps its own name.");
ABSL_FLAG(std::string, bank_holidays_file, "",
          "England and Wales bank holidays in gov.uk bank-holidays.json "
          "format (default: the file shipped with the build, 2015-2030).");
ABSL_FLAG(std::string, timescale_rules_file, "",
          "Timescale rules in protobuf text format "
          "(proto/casetrail/v1/rules.proto; default: the set shipped with the "
          "build, projections/data/timescales.textproto).");
ABSL_FLAG(absl::Duration, checkpoint_interval, absl::Seconds(60),
          "How often to sign a checkpoint while the log grows (0 = only on "
          "request, at start and at stop).");
ABSL_FLAG(std::string, tls_cert_file, "",
          "The server's TLS certificate chain (PEM, leaf first). Required, "
          "with --tls_key_file, unless --plaintext_loopback.");
ABSL_FLAG(std::string, tls_key_file, "",
          "The TLS certificate's private key (PEM, unencrypted, mode 0600).");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "CA certificates (PEM) that client certificates are verified "
          "against (mTLS). A client presenting a certificate must present "
          "one of theirs; clients without one still connect (bearer tokens).");
ABSL_FLAG(bool, plaintext_loopback, false,
          "Serve without TLS; only on a loopback --listen address, for "
          "development and the quick start.");
ABSL_FLAG(bool, unsafe_no_fsync, false,
          "Benchmarks only: acknowledge appends and answer reads without "
          "syncing the log to disk, so a power loss can lose acknowledged "
          "events and access records. Needs --plaintext_loopback.");
ABSL_FLAG(std::string, security_config, "",
          "Tenants, token issuers, client-certificate systems, the role x "
          "RPC matrix, purposes and grants (protobuf text format, "
          "proto/casetrail/v1/security_config.proto; docs/security.md). "
          "Required unless --plaintext_loopback, where leaving it out turns "
          "security off.");

namespace {

void Log(const std::string& line) { casetrail::services::LogLine(line); }

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "casetraild --data_dir=DIR --listen=HOST:PORT\n"
      "           (--tls_cert_file=PEM --tls_key_file=PEM "
      "[--tls_client_ca_file=PEM] | --plaintext_loopback)\n"
      "           [--security_config=FILE]\n"
      "Serves the casetrail case event log over gRPC.");
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil is built with Mutex deadlock detection, which records the
  // order locks are taken in (gRPC's too) and finds a cycle in it: a potential
  // deadlock. -Wthread-safety does not check lock order (there are no
  // ABSL_ACQUIRED_AFTER annotations), so keep it on, reporting to stderr
  // rather than aborting the server. Its cost did not show in append
  // throughput (tools/ab_append.sh, on against off, issue 13).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kReport);

  // Block the stop signals, and SIGHUP (reload token keys), before any thread
  // starts so that only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  casetrail::services::ServerOptions options;
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.limits.max_event_bytes = absl::GetFlag(FLAGS_max_event_bytes);
  options.limits.max_append_bytes = absl::GetFlag(FLAGS_max_append_bytes);
  options.limits.max_events_per_append =
      absl::GetFlag(FLAGS_max_events_per_append);
  options.signing_key_file = absl::GetFlag(FLAGS_signing_key_file);
  options.log_origin = absl::GetFlag(FLAGS_log_origin);
  options.checkpoint_interval = absl::GetFlag(FLAGS_checkpoint_interval);
  options.bank_holidays_file = absl::GetFlag(FLAGS_bank_holidays_file);
  options.timescale_rules_file = absl::GetFlag(FLAGS_timescale_rules_file);
  options.readmodel_dir = absl::GetFlag(FLAGS_readmodel_dir);
  options.unsafe_no_fsync = absl::GetFlag(FLAGS_unsafe_no_fsync);
  options.tls.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls.key_file = absl::GetFlag(FLAGS_tls_key_file);
  options.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  options.plaintext_loopback = absl::GetFlag(FLAGS_plaintext_loopback);
  options.security_config_file = absl::GetFlag(FLAGS_security_config);
  if (options.limits.max_append_bytes >=
      static_cast<size_t>(options.max_message_bytes)) {
    Log("--max_append_bytes must be below --max_message_bytes");
    return 2;
  }

  auto server = casetrail::services::CasetrailServer::Start(options);
  if (!server.ok()) {
    Log(absl::StrCat("cannot start: ", server.status().ToString()));
    return 1;
  }
  const std::string host =
      options.listen_address.substr(0, options.listen_address.rfind(':'));
  Log(absl::StrCat("checkpoint key ",
                   (*server)->checkpointer().verifier().verifier_key()));
  const auto& rules = (*server)->timescale_rules().set();
  Log(absl::StrCat("timescale rules ", rules.name(), " version ",
                   rules.version(), " (", rules.rules_size(),
                   " rules), bank holidays ",
                   (*server)->calendar().first_year().year(), "-",
                   (*server)->calendar().last_year().year()));
  Log(absl::StrCat("read models at position ", (*server)->runner().checkpoint(),
                   " of ", (*server)->store().LogSize(),
                   "; following the log (casetrail projections status)"));
  if (options.unsafe_no_fsync) {
    Log("UNSAFE: --unsafe_no_fsync: appends and access records are not "
        "synced to disk; a power loss can lose acknowledged data. "
        "Benchmarks only.");
  }
  if (options.plaintext_loopback) {
    Log("transport plaintext on loopback (--plaintext_loopback): for "
        "development only");
  } else if (options.tls.client_ca_file.empty()) {
    Log(absl::StrCat("transport TLS, certificate ", options.tls.cert_file));
  } else {
    Log(absl::StrCat("transport mTLS, certificate ", options.tls.cert_file,
                     "; client certificates verified against ",
                     options.tls.client_ca_file,
                     " (clients without one may connect)"));
  }
  if (const auto* policy = (*server)->policy(); policy != nullptr) {
    Log(absl::StrCat("security on (", options.security_config_file,
                     "): ", policy->config().tenants_size(), " tenants, ",
                     policy->config().token_issuers_size(), " token issuers, ",
                     policy->config().systems_size(), " systems, ",
                     policy->config().grants_size(),
                     " grants; every read is audited"));
  } else {
    Log("SECURITY OFF (no --security_config): no authentication, no "
        "tenants, no access audit; for development only");
  }
  // Last, because it says the server is ready: tests and scripts wait for it.
  Log(absl::StrCat("listening on ", host, ":", (*server)->port(), ", data dir ",
                   options.data_dir, ", log size ",
                   (*server)->store().LogSize(), " events"));

  int signal = 0;
  while (sigwait(&stop_signals, &signal) == 0 && signal == SIGHUP) {
    // The token issuers' keys only; the rest of the security file is read at
    // start. A bad file leaves the keys in use as they were.
    const absl::Status reloaded = (*server)->ReloadTokenKeys();
    Log(reloaded.ok()
            ? "SIGHUP: token issuer keys reloaded (PEM keys and JWKS files)"
            : absl::StrCat("SIGHUP: token issuer keys NOT reloaded, the keys "
                           "in use are kept: ",
                           reloaded.ToString()));
  }
  Log(absl::StrCat("received ", signal == SIGTERM ? "SIGTERM" : "SIGINT",
                   "; draining appends"));
  (*server)->Stop();  // drains appends, then closes the store
  const uint64_t log_size = (*server)->store().LogSize();
  Log(absl::StrCat("stopped cleanly, log size ", log_size, " events"));
  return 0;
}
