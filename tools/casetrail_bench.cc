// casetrail-bench: a load generator for casetraild. Prints events/s and latency
// percentiles.
//
//   closed loop:  --concurrency requests always in flight (throughput)
//   open loop:    --rate events/s issued on a fixed schedule (latency at a
//   steady load) read mode:    --mode=read_stream reads one
//   --stream_events-event case stream repeatedly

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "casetrail/v1/case_log.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/client_channel.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "casetraild address.");
ABSL_FLAG(std::string, mode, "append", "append | read_stream");
ABSL_FLAG(int, concurrency, 64, "Requests in flight (closed loop).");
ABSL_FLAG(int, events_per_request, 1, "Events in each append.");
ABSL_FLAG(int, payload_bytes, 512, "Size of each event's JSON payload.");
ABSL_FLAG(double, duration, 10, "Seconds to measure.");
ABSL_FLAG(double, warmup, 1, "Seconds to run before measuring.");
ABSL_FLAG(double, rate, 0,
          "Events/s on a fixed schedule (open loop); 0 = closed loop.");
ABSL_FLAG(
    bool, stream, false,
    "append: each client sends its appends over one AppendEventsStream call "
    "(one request in flight per client) instead of unary AppendEvents calls.");
ABSL_FLAG(int, channels, 4, "gRPC channels to spread requests over.");
ABSL_FLAG(int, stream_events, 1000, "read_stream: events in the stream read.");
ABSL_FLAG(bool, json, false, "Print the result as one JSON line.");
ABSL_FLAG(std::string, tls_ca_file, "",
          "CA certificates (PEM) trusted for casetraild's certificate; turns "
          "TLS on (default: plaintext, for a --plaintext_loopback server).");
ABSL_FLAG(std::string, token_file, "",
          "File holding a bearer token sent on every call (default: the "
          "token in CASETRAIL_TOKEN, if set).");
ABSL_FLAG(std::string, purpose, "", "Sent as the purpose of every call.");
ABSL_FLAG(std::string, stream_prefix, "",
          "Prefixed to every stream id, e.g. \"northshire/\" for a tenant "
          "when casetraild runs with --security_config.");

namespace {

using casetrail::v1::CaseLog;

struct Sample {
  absl::Time finished;
  int64_t micros;
  int events;
  bool ok;
};

class Recorder {
 public:
  void Add(absl::Time start, int events, bool ok) {
    absl::Time now = absl::Now();
    absl::MutexLock l(&mu_);
    samples_.push_back(
        {now, absl::ToInt64Microseconds(now - start), events, ok});
  }
  std::vector<Sample> Take() {
    absl::MutexLock l(&mu_);
    return std::move(samples_);
  }

 private:
  absl::Mutex mu_;
  std::vector<Sample> samples_ ABSL_GUARDED_BY(mu_);
};

std::string Payload(int bytes) {
  // A JSON object of exactly `bytes` bytes: {"filler":"xxx..."}.
  const std::string head = "{\"filler\":\"";
  const std::string tail = "\"}";
  const int fill =
      std::max(0, bytes - static_cast<int>(head.size() + tail.size()));
  return head + std::string(fill, 'x') + tail;
}

class EventFactory {
 public:
  explicit EventFactory(std::string run_id)
      : run_id_(std::move(run_id)),
        payload_(Payload(absl::GetFlag(FLAGS_payload_bytes))) {}

  casetrail::v1::AppendEventsRequest Request(const std::string& stream,
                                             int events) {
    casetrail::v1::AppendEventsRequest request;
    request.set_stream_id(stream);
    request.mutable_expected_version()->set_kind(
        casetrail::v1::ExpectedVersion::KIND_ANY);
    const absl::Time now = absl::Now();
    for (int i = 0; i < events; ++i) {
      auto* e = request.add_events();
      e->set_event_id(absl::StrCat(run_id_, "-", next_id_.fetch_add(1)));
      e->set_event_type("BenchEventRecorded");
      e->mutable_occurred_at()->mutable_time()->set_seconds(
          absl::ToUnixSeconds(now));
      e->mutable_occurred_at()->set_precision(
          casetrail::v1::TIME_PRECISION_EXACT);
      e->mutable_recorded_by()->set_user_id("bench");
      e->mutable_opaque()->set_content_type("application/json");
      e->mutable_opaque()->set_data(payload_);
    }
    return request;
  }

 private:
  std::string run_id_;
  std::string payload_;
  std::atomic<uint64_t> next_id_{0};
};

// The --token_file and --purpose headers, added to each call's context
// rather than by a channel interceptor: gRPC's interceptor machinery costs the
// client more per call than the server spends checking the token, and the
// client shares the machine with the server being measured.
struct CallCredentials {
  std::string authorization;
  std::string purpose;
};
CallCredentials& Credentials() {
  static CallCredentials* credentials = new CallCredentials();
  return *credentials;
}
void AddCredentials(grpc::ClientContext& context) {
  const CallCredentials& c = Credentials();
  if (!c.authorization.empty()) {
    context.AddMetadata("authorization", c.authorization);
  }
  if (!c.purpose.empty()) context.AddMetadata("x-casetrail-purpose", c.purpose);
}

// One call in flight; owns what the callback API needs until completion.
struct Call {
  grpc::ClientContext context;
  casetrail::v1::AppendEventsRequest append;
  casetrail::v1::AppendEventsResponse append_response;
  casetrail::v1::ReadCaseStreamRequest read;
  casetrail::v1::ReadCaseStreamResponse read_response;
  absl::Time start;
};

class Bench;

// One client of --stream mode: a long-lived AppendEventsStream call carrying
// one append at a time; the next is written when the previous one's response
// arrives.
class StreamClient final : public grpc::ClientBidiReactor<
                               casetrail::v1::AppendEventsRequest,
                               casetrail::v1::AppendEventsStreamResponse> {
 public:
  StreamClient(Bench* bench, CaseLog::Stub* stub, std::string stream);
  void OnWriteDone(bool ok) override { StepWhenBothDone(); }
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  void WriteNext();
  // The next append may be written once the previous write completed and its
  // response arrived, which can happen in either order.
  void StepWhenBothDone() {
    if (pending_.fetch_sub(1) == 1) {
      WriteNext();
      StartRead(&response_);
    }
  }

  std::atomic<int> pending_{2};
  Bench* bench_;
  std::string stream_;
  grpc::ClientContext context_;
  casetrail::v1::AppendEventsRequest request_;
  casetrail::v1::AppendEventsStreamResponse response_;
  absl::Time start_;
};

// One stub per --channels channel, with the --tls_ca_file of the flags (and
// --token_file and --purpose loaded for AddCredentials).
absl::StatusOr<std::vector<std::unique_ptr<CaseLog::Stub>>> MakeStubs() {
  absl::StatusOr<std::string> token =
      casetrail::tools::ReadBearerToken(absl::GetFlag(FLAGS_token_file));
  if (!token.ok()) return token.status();
  casetrail::tools::ClientChannelOptions options;
  options.target = absl::GetFlag(FLAGS_server);
  options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  if (!token->empty()) Credentials().authorization = "Bearer " + *token;
  Credentials().purpose = absl::GetFlag(FLAGS_purpose);
  std::vector<std::unique_ptr<CaseLog::Stub>> stubs;
  for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_channels)); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("casetrail.bench.channel",
                i);  // distinct channels, not one shared
    args.SetMaxReceiveMessageSize(64 << 20);
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        casetrail::tools::MakeClientChannel(options, args);
    if (!channel.ok()) return channel.status();
    stubs.push_back(CaseLog::NewStub(*channel));
  }
  return stubs;
}

class Bench {
 public:
  explicit Bench(std::vector<std::unique_ptr<CaseLog::Stub>> stubs)
      : factory_(absl::StrFormat("bench-%x", absl::ToUnixNanos(absl::Now()))),
        stubs_(std::move(stubs)) {
    run_id_ = absl::StrFormat("%x", absl::ToUnixNanos(absl::Now()));
  }

  int Run() {
    const std::string mode = absl::GetFlag(FLAGS_mode);
    if (mode == "read_stream") {
      if (!PrepareReadStream()) return 1;
    } else if (mode != "append") {
      std::fprintf(stderr, "casetrail-bench: unknown --mode %s\n",
                   mode.c_str());
      return 2;
    }
    start_ = absl::Now();
    measure_from_ = start_ + absl::Seconds(absl::GetFlag(FLAGS_warmup));
    stop_at_ = measure_from_ + absl::Seconds(absl::GetFlag(FLAGS_duration));
    if (absl::GetFlag(FLAGS_rate) > 0) {
      RunOpenLoop();
    } else {
      const int n = absl::GetFlag(FLAGS_concurrency);
      outstanding_ = n;
      const bool stream = absl::GetFlag(FLAGS_stream) && read_stream_.empty();
      for (int slot = 0; slot < n; ++slot) {
        if (stream) {
          new StreamClient(this, stubs_[slot % stubs_.size()].get(),
                           StreamFor(slot));
        } else {
          Issue(slot);
        }
      }
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(
          +[](int* o) { return *o == 0; }, &outstanding_));
    }
    return Report(mode);
  }

 private:
  friend class StreamClient;

  void Retire() {
    absl::MutexLock l(&mu_);
    --outstanding_;
  }

  bool PrepareReadStream() {
    read_stream_ = absl::StrCat(absl::GetFlag(FLAGS_stream_prefix),
                                "bench-read-", run_id_);
    const int total = absl::GetFlag(FLAGS_stream_events);
    for (int done = 0; done < total; done += 100) {
      auto request =
          factory_.Request(read_stream_, std::min(100, total - done));
      grpc::ClientContext context;
      AddCredentials(context);
      casetrail::v1::AppendEventsResponse response;
      grpc::Status s = stubs_[0]->AppendEvents(&context, request, &response);
      if (!s.ok()) {
        std::fprintf(stderr, "casetrail-bench: preparing stream: %s\n",
                     s.error_message().c_str());
        return false;
      }
    }
    return true;
  }

  std::string StreamFor(int slot) {
    return absl::StrCat(absl::GetFlag(FLAGS_stream_prefix), "bench-", run_id_,
                        "-", slot);
  }

  // Closed loop: issues the next call of `slot`, or retires the slot when time
  // is up.
  void Issue(int slot) {
    if (absl::Now() >= stop_at_) {
      absl::MutexLock l(&mu_);
      --outstanding_;
      return;
    }
    auto* call = new Call();
    AddCredentials(call->context);
    CaseLog::Stub& stub = *stubs_[slot % stubs_.size()];
    call->start = absl::Now();
    if (!read_stream_.empty()) {
      call->read.set_stream_id(read_stream_);
      call->read.set_limit(absl::GetFlag(FLAGS_stream_events));
      stub.async()->ReadCaseStream(
          &call->context, &call->read, &call->read_response,
          [this, call, slot](grpc::Status s) {
            Record(call->start, call->read_response.events_size(), s);
            delete call;
            Issue(slot);
          });
      return;
    }
    const int events = absl::GetFlag(FLAGS_events_per_request);
    call->append = factory_.Request(StreamFor(slot), events);
    stub.async()->AppendEvents(&call->context, &call->append,
                               &call->append_response,
                               [this, call, slot, events](grpc::Status s) {
                                 Record(call->start, events, s);
                                 delete call;
                                 Issue(slot);
                               });
  }

  // Open loop: one append every 1/rate-per-request seconds, whatever the
  // responses do.
  void RunOpenLoop() {
    const int events = absl::GetFlag(FLAGS_events_per_request);
    const absl::Duration interval =
        absl::Seconds(events / absl::GetFlag(FLAGS_rate));
    std::atomic<int> in_flight{0};
    absl::Time next = absl::Now();
    for (uint64_t i = 0; next < stop_at_; ++i, next += interval) {
      absl::SleepFor(next - absl::Now());
      auto* call = new Call();
      call->append =
          factory_.Request(StreamFor(static_cast<int>(i % 64)), events);
      call->start =
          next;  // latency from the scheduled time: no coordinated omission
      in_flight.fetch_add(1);
      stubs_[i % stubs_.size()]->async()->AppendEvents(
          &call->context, &call->append, &call->append_response,
          [this, call, events, &in_flight](grpc::Status s) {
            Record(call->start, events, s);
            delete call;
            in_flight.fetch_sub(1);
          });
    }
    while (in_flight.load() > 0) absl::SleepFor(absl::Milliseconds(5));
  }

  void Record(absl::Time start, int events, const grpc::Status& s) {
    if (!s.ok()) {
      absl::MutexLock l(&mu_);
      if (first_error_.empty()) first_error_ = s.error_message();
    }
    if (start >= measure_from_) recorder_.Add(start, events, s.ok());
  }

  int Report(const std::string& mode) {
    std::vector<Sample> samples = recorder_.Take();
    std::vector<int64_t> latencies;
    uint64_t events = 0, requests = 0, errors = 0;
    for (const Sample& s : samples) {
      if (!s.ok) {
        ++errors;
        continue;
      }
      ++requests;
      events += s.events;
      latencies.push_back(s.micros);
    }
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) -> double {
      if (latencies.empty()) return 0;
      size_t i = std::min(latencies.size() - 1,
                          static_cast<size_t>(p / 100.0 * latencies.size()));
      return latencies[i] / 1000.0;
    };
    const double seconds = absl::GetFlag(FLAGS_duration);
    const double events_per_s = events / seconds;
    const double requests_per_s = requests / seconds;
    if (absl::GetFlag(FLAGS_json)) {
      std::printf(
          "{\"mode\":\"%s\",\"stream\":%s,\"concurrency\":%d,\"events_per_"
          "request\":%d,"
          "\"payload_bytes\":%d,\"rate\":%.0f,\"duration_s\":%.1f,\"requests\":"
          "%llu,"
          "\"events\":%llu,\"errors\":%llu,\"events_per_s\":%.0f,"
          "\"requests_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
          "\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
          mode.c_str(), absl::GetFlag(FLAGS_stream) ? "true" : "false",
          absl::GetFlag(FLAGS_concurrency),
          absl::GetFlag(FLAGS_events_per_request),
          absl::GetFlag(FLAGS_payload_bytes), absl::GetFlag(FLAGS_rate),
          seconds, (unsigned long long)requests, (unsigned long long)events,
          (unsigned long long)errors, events_per_s, requests_per_s, pct(50),
          pct(99), pct(99.9), pct(100));
    } else {
      std::printf(
          "casetrail-bench: mode=%s %s events/request=%d payload=%dB "
          "duration=%.1fs\n",
          mode.c_str(),
          absl::GetFlag(FLAGS_rate) > 0
              ? absl::StrFormat("rate=%.0f/s", absl::GetFlag(FLAGS_rate))
                    .c_str()
              : absl::StrFormat("concurrency=%d",
                                absl::GetFlag(FLAGS_concurrency))
                    .c_str(),
          absl::GetFlag(FLAGS_events_per_request),
          absl::GetFlag(FLAGS_payload_bytes), seconds);
      std::printf("requests %llu  events %llu  errors %llu\n",
                  (unsigned long long)requests, (unsigned long long)events,
                  (unsigned long long)errors);
      std::printf("throughput  %.0f events/s  (%.0f requests/s)\n",
                  events_per_s, requests_per_s);
      std::printf("latency ms  p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
                  pct(50), pct(99), pct(99.9), pct(100));
    }
    if (errors > 0) {
      std::fprintf(stderr, "casetrail-bench: %llu failed requests; first: %s\n",
                   (unsigned long long)errors, first_error_.c_str());
      return 1;
    }
    return requests > 0 ? 0 : 1;
  }

  EventFactory factory_;
  std::vector<std::unique_ptr<CaseLog::Stub>> stubs_;
  std::string run_id_;
  std::string read_stream_;
  absl::Time start_, measure_from_, stop_at_;
  Recorder recorder_;
  absl::Mutex mu_;
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

StreamClient::StreamClient(Bench* bench, CaseLog::Stub* stub,
                           std::string stream)
    : bench_(bench), stream_(std::move(stream)) {
  AddCredentials(context_);
  stub->async()->AppendEventsStream(&context_, this);
  WriteNext();
  StartRead(&response_);
  StartCall();
}

void StreamClient::WriteNext() {
  if (absl::Now() >= bench_->stop_at_) {
    StartWritesDone();
    return;
  }
  request_ = bench_->factory_.Request(stream_,
                                      absl::GetFlag(FLAGS_events_per_request));
  start_ = absl::Now();
  pending_.store(2);
  StartWrite(&request_);
}

void StreamClient::OnReadDone(bool ok) {
  if (!ok) return;
  grpc::Status status = grpc::Status::OK;
  if (response_.has_error()) {
    status =
        grpc::Status(static_cast<grpc::StatusCode>(response_.error().code()),
                     response_.error().message());
  }
  bench_->Record(start_, request_.events_size(), status);
  StepWhenBothDone();
}

void StreamClient::OnDone(const grpc::Status& status) {
  if (!status.ok()) bench_->Record(absl::Now(), 0, status);
  bench_->Retire();
  delete this;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "casetrail-bench [--mode=append|read_stream] [--concurrency=N | "
      "--rate=EVENTS_PER_S]\n"
      "  [--events_per_request=N] [--payload_bytes=N] [--duration=S] "
      "[--server=HOST:PORT]");
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil is built with Mutex deadlock detection on, which walks a
  // lock graph on every acquisition (gRPC's locks too); the lock order is
  // checked by -Wthread-safety instead.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::StatusOr<std::vector<std::unique_ptr<CaseLog::Stub>>> stubs =
      MakeStubs();
  if (!stubs.ok()) {
    std::fprintf(stderr, "casetrail-bench: %s\n",
                 std::string(stubs.status().message()).c_str());
    return 2;
  }
  return Bench(*std::move(stubs)).Run();
}
