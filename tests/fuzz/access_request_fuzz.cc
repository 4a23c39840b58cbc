// Fuzz target for what a caller of AccessAudit/ListAccess controls: the
// request bytes (filters, limit, page token). The input is parsed as a
// ListAccessRequest and, if it passes CheckListAccess, listed against a real
// store holding a few access events of two tenants. Besides not crashing,
// checks that ListAccess refuses exactly what CheckListAccess refuses, that a
// listing never returns another tenant's event or more than the limit, and
// that every entry matches the case and person filters.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eventstore/event_store.h"
#include "security/access_log.h"
#include "tests/fuzz/fuzz_seeds.h"

namespace {

namespace v1 = casetrail::v1;

struct Fixture {
  std::string dir;
  std::unique_ptr<casetrail::eventstore::EventStore> store;

  Fixture() {
    char path[] = "/tmp/access_request_fuzz.XXXXXX";
    dir = mkdtemp(path);
    // The fixture lives until the process ends; so does the directory.
    static std::string to_remove = dir;
    std::atexit([] { std::filesystem::remove_all(to_remove); });
    casetrail::eventstore::StoreOptions options;
    options.path = dir;
    options.sync = false;
    store = *casetrail::eventstore::EventStore::Open(options);
    casetrail::security::AccessLog log(store.get());
    for (int i = 0; i < 12; ++i) {
      casetrail::security::Principal who;
      who.id = absl::StrCat("user-", i % 3);
      who.role = v1::ROLE_SOCIAL_WORKER;
      who.tenant = i % 4 == 0 ? "southvale" : "northshire";
      v1::AccessRecorded access;
      access.set_case_id(absl::StrCat(who.tenant, "/case-", i % 2));
      access.set_child_id(absl::StrCat("child-", i % 5));
      if (i % 3 == 0) access.add_flags(v1::ACCESS_FLAG_BREAK_GLASS);
      if (!log.Record(who, "direct-work", "", access).ok()) std::abort();
    }
  }
};

const Fixture& F() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

std::string Serialize(const v1::ListAccessRequest& r) {
  return r.SerializeAsString();
}

}  // namespace

std::vector<std::string> FuzzSeeds() {
  v1::ListAccessRequest all;
  v1::ListAccessRequest by_case;
  by_case.set_case_id("northshire/case-1");
  by_case.set_limit(2);
  v1::ListAccessRequest page = by_case;
  page.set_page_token("v3");
  v1::ListAccessRequest flags;
  flags.add_flags(v1::ACCESS_FLAG_BREAK_GLASS);
  flags.set_principal_id("user-0");
  flags.mutable_from_time()->set_seconds(1);
  flags.mutable_to_time()->set_seconds(4102444800);
  return {Serialize(all), Serialize(by_case), Serialize(page), Serialize(flags)};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SilenceProtobufLogs();
  const Fixture& f = F();
  v1::ListAccessRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  const bool well_formed = casetrail::security::CheckListAccess(request).empty();
  absl::StatusOr<v1::ListAccessResponse> listed =
      casetrail::security::ListAccess(*f.store, "northshire", request);
  FUZZ_CHECK(listed.ok() == well_formed);
  if (!listed.ok()) return 0;
  const uint32_t limit = request.limit() == 0 ? 100 : request.limit();
  FUZZ_CHECK(listed->entries_size() <= static_cast<int>(limit));
  for (const v1::AccessEntry& e : listed->entries()) {
    FUZZ_CHECK(e.access().tenant() == "northshire");
    if (!request.principal_id().empty()) {
      FUZZ_CHECK(e.access().principal_id() == request.principal_id());
    }
    if (!request.case_id().empty()) {
      FUZZ_CHECK(e.access().case_id() == request.case_id());
    }
  }
  return 0;
}
