#include "security/access_log.h"

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "eventstore/stored_event.h"
#include "eventstore/stream_ids.h"

namespace casetrail::security {
namespace {

using casetrail::v1::AccessRecorded;

constexpr uint32_t kDefaultLimit = 100;
constexpr uint32_t kMaxLimit = 1000;
// Audit events examined per ListAccess call; a selective filter continues on
// the next page rather than scanning the whole stream in one call.
constexpr size_t kMaxScanned = 20000;
constexpr size_t kReadBatch = 1000;

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

std::string RandomEventId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // OpenSSL's CSPRNG does not fail once seeded; if it ever does, an id
    // from the clock and a counter is still unique within this process, and
    // the store refuses a clash rather than overwrite.
    static std::atomic<uint64_t> counter{0};
    return absl::StrCat("access-", absl::ToUnixNanos(absl::Now()), "-",
                        counter.fetch_add(1));
  }
  return absl::StrCat(
      "access-", absl::BytesToHexString(absl::string_view(
                     reinterpret_cast<const char*>(bytes), sizeof(bytes))));
}

absl::StatusOr<uint64_t> DecodePageToken(absl::string_view token) {
  uint64_t version = 0;
  if (!absl::ConsumePrefix(&token, "v") || !absl::SimpleAtoi(token, &version) ||
      version == 0) {
    return absl::InvalidArgumentError(
        "page_token was not issued by ListAccess");
  }
  return version;
}

bool Matches(const casetrail::v1::ListAccessRequest& request,
             const casetrail::v1::RecordedEvent& recorded) {
  const AccessRecorded& a = recorded.event().access_recorded();
  if (!request.case_id().empty() && a.case_id() != request.case_id() &&
      std::find(a.cases_returned().begin(), a.cases_returned().end(),
                request.case_id()) == a.cases_returned().end()) {
    return false;
  }
  if (!request.principal_id().empty() &&
      a.principal_id() != request.principal_id()) {
    return false;
  }
  if (!request.child_id().empty() && a.child_id() != request.child_id()) {
    return false;
  }
  const absl::Time at = FromProto(recorded.recorded_at());
  if (request.has_from_time() && at < FromProto(request.from_time())) {
    return false;
  }
  if (request.has_to_time() && at >= FromProto(request.to_time())) {
    return false;
  }
  if (!request.flags().empty()) {
    return std::any_of(a.flags().begin(), a.flags().end(), [&](int flag) {
      return std::find(request.flags().begin(), request.flags().end(), flag) !=
             request.flags().end();
    });
  }
  return true;
}

}  // namespace

casetrail::v1::CaseEvent AccessEvent(const AccessRecorded& access,
                                     absl::Time now) {
  casetrail::v1::CaseEvent event;
  event.set_event_id(RandomEventId());
  event.set_stream_id(eventstore::AccessAuditStream(access.tenant()));
  event.set_event_type("AccessRecorded");
  event.set_schema_version(1);
  *event.mutable_occurred_at()->mutable_time() = eventstore::ToProtoTime(now);
  event.mutable_occurred_at()->set_precision(
      casetrail::v1::TIME_PRECISION_EXACT);
  casetrail::v1::RecordedBy* by = event.mutable_recorded_by();
  by->set_user_id(access.principal_id());
  by->set_role(RoleName(access.role()));
  by->set_team(access.team());
  event.mutable_source()->set_system("casetraild");
  event.mutable_source()->set_provenance(
      casetrail::v1::Source::PROVENANCE_FIRST_HAND);
  *event.mutable_access_recorded() = access;
  return event;
}

void AccessLog::RecordAsync(const Principal& principal,
                            absl::string_view purpose,
                            absl::string_view break_glass_reason,
                            AccessRecorded access,
                            std::function<void(absl::Status)> done) {
  const absl::Time now = absl::Now();
  access.set_principal_id(principal.id);
  access.set_role(principal.role);
  access.set_team(principal.team);
  access.set_tenant(principal.tenant);
  access.set_token_id(principal.token_id);
  access.set_purpose(std::string(purpose));
  access.set_break_glass_reason(std::string(break_glass_reason));
  *access.mutable_accessed_at() = eventstore::ToProtoTime(now);
  const casetrail::v1::CaseEvent event = AccessEvent(access, now);
  eventstore::AppendRequest request;
  request.stream_id = event.stream_id();
  request.expected = eventstore::ExpectedVersion::Any();
  request.events.push_back({event.event_id(), event.SerializeAsString()});
  store_->AppendAsync(
      std::move(request),
      [done = std::move(done)](absl::StatusOr<eventstore::AppendResult> r) {
        done(r.ok() ? absl::OkStatus()
                    : absl::UnavailableError(absl::StrCat(
                          "the access audit could not be written, so nothing "
                          "is shown: ",
                          r.status().message())));
      });
}

absl::Status AccessLog::Record(const Principal& principal,
                               absl::string_view purpose,
                               absl::string_view break_glass_reason,
                               AccessRecorded access) {
  absl::Notification written;
  absl::Status status;
  RecordAsync(principal, purpose, break_glass_reason, std::move(access),
              [&](absl::Status s) {
                status = std::move(s);
                written.Notify();
              });
  written.WaitForNotification();
  return status;
}

std::vector<std::pair<std::string, std::string>> CheckListAccess(
    const casetrail::v1::ListAccessRequest& request) {
  std::vector<std::pair<std::string, std::string>> out;
  if (request.limit() > kMaxLimit) {
    out.push_back({"limit", absl::StrCat("at most ", kMaxLimit)});
  }
  if (!request.page_token().empty() &&
      !DecodePageToken(request.page_token()).ok()) {
    out.push_back({"page_token", "was not issued by ListAccess"});
  }
  if (request.has_from_time() && request.has_to_time() &&
      FromProto(request.to_time()) <= FromProto(request.from_time())) {
    out.push_back({"to_time", "must be after from_time"});
  }
  for (int flag : request.flags()) {
    if (!casetrail::v1::AccessFlag_IsValid(flag) ||
        flag == casetrail::v1::ACCESS_FLAG_UNSPECIFIED) {
      out.push_back({"flags", absl::StrCat("unknown flag ", flag)});
      break;
    }
  }
  return out;
}

absl::StatusOr<casetrail::v1::ListAccessResponse> ListAccess(
    const eventstore::EventStore& store, absl::string_view tenant,
    const casetrail::v1::ListAccessRequest& request) {
  if (auto violations = CheckListAccess(request); !violations.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(violations[0].first, ": ", violations[0].second));
  }
  uint64_t next_version = 1;
  if (!request.page_token().empty()) {
    next_version = *DecodePageToken(request.page_token());
  }
  const uint32_t limit = request.limit() == 0 ? kDefaultLimit : request.limit();
  casetrail::v1::ListAccessResponse response;
  uint64_t scanned = 0;
  bool more = false;
  while (true) {
    eventstore::StreamRead read;
    read.stream_id = eventstore::AccessAuditStream(tenant);
    read.from_version = next_version;
    read.limit = kReadBatch;
    absl::StatusOr<eventstore::StreamSlice> slice = store.ReadStream(read);
    if (!slice.ok()) return slice.status();
    for (const std::string& bytes : slice->events) {
      casetrail::v1::RecordedEvent recorded;
      if (!recorded.ParseFromString(bytes) ||
          !recorded.event().has_access_recorded()) {
        return absl::DataLossError(absl::StrCat(
            "access audit event ", next_version, " does not parse"));
      }
      ++next_version;
      ++scanned;
      if (Matches(request, recorded)) {
        casetrail::v1::AccessEntry* entry = response.add_entries();
        entry->set_position(recorded.position());
        *entry->mutable_recorded_at() = recorded.recorded_at();
        *entry->mutable_access() =
            std::move(*recorded.mutable_event()->mutable_access_recorded());
      }
      if (response.entries_size() >= static_cast<int>(limit) ||
          scanned >= kMaxScanned) {
        break;
      }
    }
    more = next_version <= slice->stream_version;
    if (!more || response.entries_size() >= static_cast<int>(limit) ||
        scanned >= kMaxScanned || slice->events.empty()) {
      break;
    }
  }
  response.set_scanned(scanned);
  if (more) response.set_next_page_token(absl::StrCat("v", next_version));
  return response;
}

}  // namespace casetrail::security
