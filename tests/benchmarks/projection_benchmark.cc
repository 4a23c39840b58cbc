// projection_benchmark: the issue-5 figures (docs/benchmarks.md).
//
// --mode=store (in process, real RocksDB in --data_dir):
//   generates --cases cases of --events_per_case typed events plus one case of
//   --big_case_events events, appends them as live traffic mixes them, then
//   measures
//   - rebuild: folding the whole log into an empty read model (--rebuilds
//     runs; events/s);
//   - the big case's chronology from the read model (one page of up to 1000
//     entries; --samples calls; p50/p99);
//   - the same chronology as known at a time (a replay of the case's stream
//     through the fold; p50/p99), and the case state as known at that time.
// --mode=server --server=HOST:PORT: appends the big case (and --cases others)
//   through CaseLog, then measures the same queries over gRPC, including
//   serialising and parsing the responses.
// --mode=lag --server=HOST:PORT: polls GetProjectionStatus every --poll_ms
//   for --duration seconds while something else appends (tools/
//   projection_lag.sh runs casetrail-bench with 64 clients), and reports how
//   long the read model took to reach each log size it saw: for each sample
//   (t, log size L), the first later sample whose checkpoint >= L.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "casetrail/v1/case_queries.grpc.pb.h"
#include "eventstore/event_store.h"
#include "grpcpp/grpcpp.h"
#include "projections/queries.h"
#include "projections/read_model.h"
#include "projections/runner.h"
#include "tests/testing/case_generator.h"
#include "tests/testing/event_store_fixture.h"
#include "tools/client_channel.h"

ABSL_FLAG(std::string, mode, "store", "store | lag | server");
ABSL_FLAG(std::string, data_dir, "/tmp/projection_bench",
          "store: directory for the log and read model (emptied first).");
ABSL_FLAG(int, cases, 1000, "store: generated cases besides the big one.");
ABSL_FLAG(int, events_per_case, 100, "store: events per generated case.");
ABSL_FLAG(int, big_case_events, 1000, "store: events in the big case.");
ABSL_FLAG(int, samples, 1000, "store: calls per latency figure.");
ABSL_FLAG(int, rebuilds, 3, "store: rebuild runs.");
ABSL_FLAG(bool, reuse, false,
          "store: reuse the log and read model --data_dir holds (from an "
          "earlier run) instead of generating them; --rebuilds=0 then "
          "measures the queries in a fresh process.");
ABSL_FLAG(double, settle_seconds, 0,
          "store: pause after the rebuilds, so background compactions finish "
          "before the queries are measured.");
ABSL_FLAG(std::string, server, "127.0.0.1:50051", "lag: casetraild address.");
ABSL_FLAG(double, duration, 20, "lag: seconds to poll.");
ABSL_FLAG(int, poll_ms, 10, "lag: milliseconds between polls.");
ABSL_FLAG(std::string, tls_ca_file, "",
          "lag, server: CA certificates (PEM) trusted for casetraild's "
          "certificate; turns TLS on.");
ABSL_FLAG(std::string, token_file, "",
          "lag, server: file holding a bearer token sent on every call "
          "(default: the token in CASETRAIL_TOKEN, if set).");
ABSL_FLAG(std::string, append_token_file, "",
          "server: the bearer token for the appends (default --token_file), "
          "e.g. an upstream system's while --token_file is a reader's.");
ABSL_FLAG(std::string, stream_prefix, "",
          "server: prefixed to every case id, e.g. \"northshire/\" for a "
          "tenant.");
ABSL_FLAG(std::string, purpose, "",
          "lag, server: sent as the purpose of every call.");

namespace {

namespace v1 = ::casetrail::v1;
using casetrail::projections::FoldConfig;
using casetrail::projections::ProjectionRunner;
using casetrail::projections::QueryEngine;
using casetrail::projections::ReadModelStore;

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t i = std::min(values.size() - 1,
                            static_cast<size_t>(p * (values.size() - 1) + 0.5));
  return values[i];
}

template <typename Call>
void Measure(const char* name, int samples, Call call) {
  std::vector<double> ms;
  ms.reserve(samples);
  for (int i = 0; i < samples; ++i) {
    const absl::Time start = absl::Now();
    call();
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  std::printf("%-44s p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms  (%d calls)\n",
              name, Percentile(ms, 0.5), Percentile(ms, 0.99),
              Percentile(ms, 1.0), samples);
}

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "projection_benchmark: %s: %s\n", what,
                 status.ToString().c_str());
    std::exit(1);
  }
}

int StoreMode() {
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  const bool reuse = absl::GetFlag(FLAGS_reuse) &&
                     std::filesystem::exists(dir + "/readmodels");
  if (!reuse) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  casetrail::testing::ManualClock clock(absl::FromUnixSeconds(0));
  casetrail::eventstore::StoreOptions options;
  options.path = dir + "/log";
  options.sync = false;  // loading, not what is measured
  options.clock = &clock;
  auto store = casetrail::eventstore::EventStore::Open(options);
  Check(store.status(), "open store");
  // The big case is the one generated with seed 8.
  const std::string big_case = "case-8-000000";
  if (!reuse) {
    // Generated inside a scope, so that the queries run in a heap like the
    // server's, not one also holding the generated log.
    std::vector<casetrail::testing::GeneratedCase> cases =
        casetrail::testing::GenerateCaseEvents(
            7, absl::GetFlag(FLAGS_cases),
            absl::GetFlag(FLAGS_events_per_case));
    cases.push_back(casetrail::testing::GenerateCaseEvents(
        8, 1, absl::GetFlag(FLAGS_big_case_events))[0]);
    const absl::Time load_start = absl::Now();
    const auto appends = casetrail::testing::InterleaveCases(cases);
    Check(casetrail::testing::AppendTimed(store->get(), &clock, appends),
          "append");
    std::printf(
        "log: %llu events in %zu cases (big case %s), loaded in "
        "%.1f s\n",
        static_cast<unsigned long long>((*store)->LogSize()), cases.size(),
        big_case.c_str(), absl::ToDoubleSeconds(absl::Now() - load_start));
  } else {
    std::printf("log: %llu events (reused %s)\n",
                static_cast<unsigned long long>((*store)->LogSize()),
                dir.c_str());
  }

  const FoldConfig& config = FoldConfig::Default();
  auto read_model =
      ReadModelStore::Open(dir + "/readmodels", config.Fingerprint());
  Check(read_model.status(), "open read model");
  casetrail::projections::RunnerOptions runner_options;
  runner_options.background = false;
  auto runner = ProjectionRunner::Start(store->get(), read_model->get(), config,
                                        runner_options);
  Check(runner.status(), "start runner");
  for (int i = 0; i < absl::GetFlag(FLAGS_rebuilds); ++i) {
    auto result = (*runner)->Rebuild();
    Check(result.status(), "rebuild");
    std::printf(
        "rebuild %d: %llu events, %llu cases in %.2f s = %.0f events/s\n",
        i + 1, static_cast<unsigned long long>(result->position),
        static_cast<unsigned long long>(result->cases),
        absl::ToDoubleSeconds(result->elapsed),
        result->position / absl::ToDoubleSeconds(result->elapsed));
  }

  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_settle_seconds)));
  {
    auto big_model = (*read_model)->ReadModel(big_case);
    if (!big_model.ok() || !big_model->has_value()) {
      std::fprintf(stderr,
                   "projection_benchmark: no read model (--rebuilds=0?)\n");
      return 1;
    }
    auto small_model = (*read_model)->ReadModel("case-7-000000");
    Check(small_model.status(), "read model");
    Check(big_model.status(), "read model");
    std::printf(
        "stored case model: big case %zu bytes (%d deadlines, %d "
        "decisions, %d flags), a %d-event case %zu bytes\n",
        (*big_model)->ByteSizeLong(), (*big_model)->state().deadlines_size(),
        (*big_model)->decisions_size(), (*big_model)->state().flags_size(),
        absl::GetFlag(FLAGS_events_per_case), (*small_model)->ByteSizeLong());
  }
  QueryEngine engine(store->get(), read_model->get(), runner->get(), config);
  v1::GetChronologyRequest now;
  now.set_case_id(big_case);
  now.set_page_size(1000);
  size_t entries = 0;
  Measure("chronology, read model (1 page of <=1000)",
          absl::GetFlag(FLAGS_samples), [&] {
            auto r = engine.Chronology(now);
            Check(r.status(), "chronology");
            entries = r->entries_size();
          });
  std::printf("  (%zu entries per call)\n", entries);
  Measure("  of which: reading the case (model + entries)",
          absl::GetFlag(FLAGS_samples),
          [&] { Check((*read_model)->ReadCase(big_case).status(), "read"); });
  v1::GetChronologyRequest paged = now;
  paged.set_page_size(100);
  Measure("chronology, read model (first page of 100)",
          absl::GetFlag(FLAGS_samples),
          [&] { Check(engine.Chronology(paged).status(), "chronology"); });
  v1::GetChronologyRequest known_at = now;
  // After every event: the replay folds the whole case.
  known_at.mutable_as_known_at()->set_seconds(absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilDay(2100, 1, 1), absl::UTCTimeZone())));
  Measure("chronology as known at T (replay, whole case)",
          absl::GetFlag(FLAGS_samples), [&] {
            auto r = engine.Chronology(known_at);
            Check(r.status(), "chronology as known at");
            entries = r->entries_size();
          });
  std::printf("  (%zu entries per call)\n", entries);
  v1::GetCaseStateRequest state;
  state.set_case_id(big_case);
  Measure("case state, read model", absl::GetFlag(FLAGS_samples),
          [&] { Check(engine.CaseState(state).status(), "state"); });
  *state.mutable_as_known_at() = known_at.as_known_at();
  Measure(
      "case state as known at T (replay)", absl::GetFlag(FLAGS_samples),
      [&] { Check(engine.CaseState(state).status(), "state as known at"); });
  (*runner)->Stop();
  return 0;
}

// The channel to --server, with --tls_ca_file, `token_file` (default
// --token_file) and --purpose.
std::shared_ptr<grpc::Channel> ServerChannel(std::string token_file = "") {
  if (token_file.empty()) token_file = absl::GetFlag(FLAGS_token_file);
  absl::StatusOr<std::string> token =
      casetrail::tools::ReadBearerToken(token_file);
  Check(token.status(), "--token_file");
  casetrail::tools::ClientChannelOptions options;
  options.target = absl::GetFlag(FLAGS_server);
  options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  options.bearer_token = *std::move(token);
  options.purpose = absl::GetFlag(FLAGS_purpose);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      casetrail::tools::MakeClientChannel(options);
  Check(channel.status(), "channel");
  return *std::move(channel);
}

int ServerMode() {
  auto channel = ServerChannel();
  // With security on, an upstream system appends and someone else reads.
  auto log = v1::CaseLog::NewStub(
      ServerChannel(absl::GetFlag(FLAGS_append_token_file)));
  auto queries = v1::CaseQueries::NewStub(channel);
  std::vector<casetrail::testing::GeneratedCase> cases =
      casetrail::testing::GenerateCaseEvents(
          7, absl::GetFlag(FLAGS_cases), absl::GetFlag(FLAGS_events_per_case));
  cases.push_back(casetrail::testing::GenerateCaseEvents(
      8, 1, absl::GetFlag(FLAGS_big_case_events))[0]);
  const std::string prefix = absl::GetFlag(FLAGS_stream_prefix);
  for (auto& c : cases) {
    c.case_id = prefix + c.case_id;
    for (auto& e : c.events) e.clear_stream_id();
  }
  const std::string big_case = cases.back().case_id;
  uint64_t last_position = 0;
  for (const auto& c : cases) {
    for (size_t i = 0; i < c.events.size(); i += 100) {
      v1::AppendEventsRequest request;
      request.set_stream_id(c.case_id);
      request.mutable_expected_version()->set_kind(
          v1::ExpectedVersion::KIND_ANY);
      for (size_t j = i; j < std::min(c.events.size(), i + 100); ++j) {
        *request.add_events() = c.events[j];
      }
      grpc::ClientContext context;
      v1::AppendEventsResponse response;
      grpc::Status s = log->AppendEvents(&context, request, &response);
      if (!s.ok()) {
        std::fprintf(stderr, "projection_benchmark: append: %s\n",
                     s.error_message().c_str());
        return 1;
      }
      last_position = response.events().rbegin()->position();
    }
  }
  std::printf("appended %zu cases; big case %s\n", cases.size(),
              big_case.c_str());
  auto query = [&](const char* name, v1::GetChronologyRequest request) {
    size_t entries = 0;
    Measure(name, absl::GetFlag(FLAGS_samples), [&] {
      grpc::ClientContext context;
      v1::GetChronologyResponse response;
      grpc::Status s = queries->GetChronology(&context, request, &response);
      if (!s.ok()) {
        std::fprintf(stderr, "projection_benchmark: %s\n",
                     s.error_message().c_str());
        std::exit(1);
      }
      entries = response.entries_size();
    });
    std::printf("  (%zu entries per call)\n", entries);
  };
  v1::GetChronologyRequest now;
  now.set_case_id(big_case);
  now.set_page_size(1000);
  now.set_min_position(last_position + 1);
  query("gRPC chronology, read model (<=1000)", now);
  now.set_page_size(100);
  query("gRPC chronology, read model (first 100)", now);
  v1::GetChronologyRequest known_at;
  known_at.set_case_id(big_case);
  known_at.set_page_size(1000);
  known_at.mutable_as_known_at()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  query("gRPC chronology as known at T (replay)", known_at);
  return 0;
}

int LagMode() {
  auto channel = ServerChannel();
  auto stub = v1::CaseQueries::NewStub(channel);
  struct Sample {
    absl::Time at;
    uint64_t log_size;
    uint64_t checkpoint;
  };
  std::vector<Sample> samples;
  const absl::Time end =
      absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_duration));
  while (absl::Now() < end) {
    grpc::ClientContext context;
    v1::GetProjectionStatusResponse status;
    const absl::Time at = absl::Now();
    grpc::Status s = stub->GetProjectionStatus(
        &context, v1::GetProjectionStatusRequest(), &status);
    if (!s.ok()) {
      std::fprintf(stderr, "projection_benchmark: %s\n",
                   s.error_message().c_str());
      return 1;
    }
    samples.push_back({at, status.log_size(), status.checkpoint()});
    absl::SleepFor(absl::Milliseconds(absl::GetFlag(FLAGS_poll_ms)));
  }
  std::vector<double> lag_ms;
  uint64_t max_events = 0;
  size_t j = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    max_events = std::max(
        max_events, samples[i].log_size -
                        std::min(samples[i].log_size, samples[i].checkpoint));
    j = std::max(j, i);
    while (j < samples.size() && samples[j].checkpoint < samples[i].log_size) {
      ++j;
    }
    if (j == samples.size()) break;  // not caught up before the end
    lag_ms.push_back(absl::ToDoubleMilliseconds(samples[j].at - samples[i].at));
  }
  const double seconds =
      absl::ToDoubleSeconds(samples.back().at - samples.front().at);
  std::printf(
      "lag over %.1f s (%zu polls, log %llu -> %llu events, %.0f events/s): "
      "p50 %.0f ms, p99 %.0f ms, max %.0f ms (poll interval %d ms); most "
      "events behind at a poll: %llu\n",
      seconds, samples.size(),
      static_cast<unsigned long long>(samples.front().log_size),
      static_cast<unsigned long long>(samples.back().log_size),
      (samples.back().log_size - samples.front().log_size) / seconds,
      Percentile(lag_ms, 0.5), Percentile(lag_ms, 0.99),
      Percentile(lag_ms, 1.0), absl::GetFlag(FLAGS_poll_ms),
      static_cast<unsigned long long>(max_events));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "store") return StoreMode();
  if (mode == "lag") return LagMode();
  if (mode == "server") return ServerMode();
  std::fprintf(stderr, "projection_benchmark: unknown --mode %s\n",
               mode.c_str());
  return 2;
}
