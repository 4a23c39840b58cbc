// Fuzz target for the server's handling of untrusted appends: parses bytes as
// an AppendEventsRequest, validates it, and converts it when it is valid.
// Checks that everything ValidateAppend accepts is something the event store
// accepts as well-formed. Bytes that do not parse (most mutations of a
// serialised request) are read as a recipe for a request instead, so that
// every input reaches the validator.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "casetrail/v1/case_events.pb.h"
#include "casetrail/v1/case_log.pb.h"
#include "eventstore/keys.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/append_validation.h"
#include "services/typed_validation.h"
#include "tests/fuzz/fuzz_seeds.h"

namespace {

using casetrail::services::AppendLimits;
using casetrail::services::FieldViolation;
using casetrail::services::ToStoreAppend;
using casetrail::services::ValidateAppend;
using casetrail::services::ValidateTypedEvent;
using casetrail::v1::AppendEventsRequest;

void CheckAccepted(const AppendEventsRequest& request,
                   const AppendLimits& limits) {
  const casetrail::eventstore::AppendRequest append = ToStoreAppend(request);
  FUZZ_CHECK(casetrail::eventstore::IsValidStreamId(append.stream_id));
  FUZZ_CHECK(!append.events.empty());
  FUZZ_CHECK(append.events.size() <= limits.max_events_per_append);
  FUZZ_CHECK(static_cast<int>(append.events.size()) == request.events_size());
  std::set<std::string> ids;
  for (size_t i = 0; i < append.events.size(); ++i) {
    const auto& proposed = append.events[i];
    FUZZ_CHECK(!proposed.event_id.empty());
    FUZZ_CHECK(ids.insert(proposed.event_id).second);
    casetrail::v1::CaseEvent event;
    FUZZ_CHECK(event.ParseFromString(proposed.encoded_event));
    FUZZ_CHECK(event.event_id() == proposed.event_id);
    // The spliced bytes are those of serialising a normalised copy.
    casetrail::v1::CaseEvent normalised = request.events(static_cast<int>(i));
    normalised.set_stream_id(request.stream_id());
    if (normalised.schema_version() == 0) normalised.set_schema_version(1);
    std::string expected;
    {
      google::protobuf::io::StringOutputStream raw(&expected);
      google::protobuf::io::CodedOutputStream out(&raw);
      out.SetSerializationDeterministic(true);
      normalised.SerializeToCodedStream(&out);
    }
    FUZZ_CHECK(proposed.encoded_event == expected);
    FUZZ_CHECK(event.stream_id() == request.stream_id());
    FUZZ_CHECK(event.schema_version() >= 1);
    FUZZ_CHECK(!event.event_type().empty());
    FUZZ_CHECK(event.has_occurred_at() && event.occurred_at().has_time());
    FUZZ_CHECK(event.occurred_at().precision() !=
               casetrail::v1::TIME_PRECISION_UNSPECIFIED);
    FUZZ_CHECK(!event.recorded_by().user_id().empty());
    FUZZ_CHECK(ValidateTypedEvent(event, static_cast<int>(i)).empty());
  }
}

// Hands out the input's bytes as small choices; zeros once they run out.
class Recipe {
 public:
  Recipe(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  bool Bool() { return Byte() & 1; }
  // One of `options`, or (one time in 8) a short string of input bytes made
  // ASCII (a request that arrives over gRPC has parsed, so its strings are
  // valid UTF-8).
  std::string Pick(const std::vector<std::string>& options) {
    const uint8_t b = Byte();
    if (b % 8 != 0) return options[b % options.size()];
    std::string raw;
    for (uint8_t n = Byte() % 12; n > 0; --n) {
      raw.push_back(static_cast<char>(Byte() & 0x7f));
    }
    return raw;
  }
  int64_t Int() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | Byte();
    return static_cast<int64_t>(v);
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// A typed payload of a type the input picks, with the envelope and decision
// fields the typed checks read also chosen by the input, so that fuzzed
// requests reach those checks and some pass them.
void SetTypedPayload(Recipe& r, casetrail::v1::CaseEvent& e) {
  const google::protobuf::OneofDescriptor* payload =
      casetrail::v1::CaseEvent::descriptor()->FindOneofByName("payload");
  const google::protobuf::FieldDescriptor* field =
      payload->field(r.Byte() % payload->field_count());
  google::protobuf::Message* m = e.GetReflection()->MutableMessage(&e, field);
  if (r.Bool()) e.set_event_type(field->message_type()->name());
  e.set_jurisdiction(static_cast<casetrail::v1::Jurisdiction>(r.Byte() % 4));
  const google::protobuf::FieldDescriptor* d =
      m->GetDescriptor()->FindFieldByName("decision");
  if (d != nullptr && r.Bool()) {
    auto* decision = static_cast<casetrail::v1::Decision*>(
        m->GetReflection()->MutableMessage(m, d));
    decision->mutable_decided_by()->set_id(r.Pick({"mgr-1", "", " "}));
    decision->mutable_decided_by()->set_authority_level(
        static_cast<casetrail::v1::AuthorityLevel>(r.Byte() % 9));
    decision->set_rationale(r.Pick({"reasons", "", " "}));
  }
}

AppendEventsRequest FromRecipe(Recipe& r) {
  static const std::vector<std::string> kStreams = {"case-1",
                                                    "case-2",
                                                    "",
                                                    "case 1",
                                                    std::string(200, 'c'),
                                                    std::string(201, 'c'),
                                                    "c\x7f",
                                                    "a"};
  static const std::vector<std::string> kIds = {
      "evt-1", "evt-2", "evt-3", "", "evt 4", std::string(129, 'e')};
  static const std::vector<std::string> kTypes = {
      "ContactReceived", "Visit",   "",
      "Bad Type",        "a.b-c_d", std::string(101, 't')};
  static const int64_t kSeconds[] = {
      0, 1709285400, -62135596800, -62135596801, 253402300799, 253402300800};
  AppendEventsRequest request;
  request.set_stream_id(r.Pick(kStreams));
  if (r.Bool()) {
    auto* expected = request.mutable_expected_version();
    expected->set_kind(
        static_cast<casetrail::v1::ExpectedVersion::Kind>(r.Byte() % 6));
    if (r.Bool()) expected->set_version(r.Byte());
  }
  for (int n = r.Byte() % 8; n > 0; --n) {
    casetrail::v1::CaseEvent* e = request.add_events();
    e->set_event_id(r.Pick(kIds));
    e->set_event_type(r.Pick(kTypes));
    if (r.Bool()) e->set_stream_id(r.Pick(kStreams));
    if (r.Bool()) e->set_schema_version(r.Byte());
    if (r.Byte() % 4 != 0) {
      auto* at = e->mutable_occurred_at();
      if (r.Byte() % 4 != 0) {
        const uint8_t b = r.Byte();
        at->mutable_time()->set_seconds(b < 200 ? kSeconds[b % 6] : r.Int());
        at->mutable_time()->set_nanos(r.Bool() ? 0
                                               : static_cast<int32_t>(r.Int()));
      }
      at->set_precision(
          static_cast<casetrail::v1::TimePrecision>(r.Byte() % 6));
    }
    if (r.Byte() % 4 != 0) e->mutable_recorded_by()->set_user_id(r.Pick(kIds));
    if (r.Bool()) {
      e->mutable_opaque()->set_data(std::string(r.Byte() * 2, 'p'));
    } else if (r.Bool()) {
      SetTypedPayload(r, *e);
    }
  }
  return request;
}

void Check(const AppendEventsRequest& request, const AppendLimits& limits) {
  const std::vector<FieldViolation> violations =
      ValidateAppend(request, limits);
  for (const FieldViolation& v : violations) {
    FUZZ_CHECK(!v.description.empty());
  }
  if (violations.empty()) CheckAccepted(request, limits);
}

}  // namespace

std::vector<std::string> FuzzSeeds() {
  AppendEventsRequest request;
  request.set_stream_id("case-1");
  request.mutable_expected_version()->set_kind(
      casetrail::v1::ExpectedVersion::KIND_EXACT);
  request.mutable_expected_version()->set_version(3);
  for (int i = 0; i < 3; ++i) {
    auto* e = request.add_events();
    e->set_event_id("evt-" + std::to_string(i));
    e->set_event_type("ContactReceived");
    e->mutable_occurred_at()->mutable_time()->set_seconds(1709285400);
    e->mutable_occurred_at()->set_precision(casetrail::v1::TIME_PRECISION_DAY);
    e->mutable_recorded_by()->set_user_id("sw-1");
    e->mutable_opaque()->set_data("{}");
  }
  std::vector<std::string> seeds = {request.SerializeAsString()};
  request.mutable_events(1)->set_stream_id("case-1");
  request.mutable_events(2)->set_schema_version(2);
  request.mutable_events(2)->mutable_source()->set_system("mosaic");
  seeds.push_back(request.SerializeAsString());
  request.mutable_events(0)->clear_occurred_at();
  request.mutable_events(1)->set_event_id("evt-2");
  seeds.push_back(request.SerializeAsString());
  // A valid typed event (rule 3), for mutations to break.
  request.mutable_events(0)->mutable_occurred_at()->mutable_time()->set_seconds(
      1709285400);
  request.mutable_events(0)->mutable_occurred_at()->set_precision(
      casetrail::v1::TIME_PRECISION_DAY);
  request.mutable_events(1)->set_event_id("evt-1");
  auto* typed = request.mutable_events(2);
  typed->set_event_type("AssessmentExtensionDecided");
  typed->set_jurisdiction(casetrail::v1::JURISDICTION_ENGLAND);
  typed->mutable_source()->set_provenance(
      casetrail::v1::Source::PROVENANCE_FIRST_HAND);
  auto* extension = typed->mutable_assessment_extension_decided();
  extension->mutable_decision()->mutable_decided_by()->set_id("sm-1");
  extension->mutable_decision()->mutable_decided_by()->set_authority_level(
      casetrail::v1::AUTHORITY_LEVEL_SERVICE_MANAGER);
  extension->mutable_decision()->set_rationale("specialist report awaited");
  extension->set_outcome(casetrail::v1::EXTENSION_OUTCOME_APPROVED);
  extension->mutable_new_target_date()->set_year(2024);
  extension->mutable_new_target_date()->set_month(5);
  extension->mutable_new_target_date()->set_day(1);
  seeds.push_back(request.SerializeAsString());
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SilenceProtobufLogs();
  AppendEventsRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) {
    Recipe recipe(data, size);
    request = FromRecipe(recipe);
  }
  Check(request, AppendLimits{});
  // Small limits, so that fuzzed inputs reach the size checks too.
  AppendLimits small;
  small.max_events_per_append = 4;
  small.max_event_bytes = 200;
  small.max_append_bytes = 400;
  Check(request, small);
  return 0;
}
