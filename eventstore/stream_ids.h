#ifndef CASETRAIL_EVENTSTORE_STREAM_IDS_H_
#define CASETRAIL_EVENTSTORE_STREAM_IDS_H_

// How stream ids are named. With security on (docs/security.md), a stream
// belongs to the tenant (local authority) named before its first '/':
// "northshire/case-0001". After the tenant, names beginning with '_' are the
// server's: "<tenant>/_access" is the tenant's access-audit stream.

#include <string>

#include "absl/strings/string_view.h"

namespace casetrail::eventstore {

// The text before the first '/', or "" when there is none.
inline absl::string_view TenantOfStream(absl::string_view stream_id) {
  const size_t slash = stream_id.find('/');
  return slash == absl::string_view::npos ? absl::string_view()
                                          : stream_id.substr(0, slash);
}

// True for "<tenant>/_...": streams only the server writes.
inline bool IsReservedStream(absl::string_view stream_id) {
  const size_t slash = stream_id.find('/');
  return slash != absl::string_view::npos && slash + 1 < stream_id.size() &&
         stream_id[slash + 1] == '_';
}

inline constexpr absl::string_view kAccessAuditSuffix = "/_access";

// The tenant's access-audit stream: "<tenant>/_access".
inline std::string AccessAuditStream(absl::string_view tenant) {
  return std::string(tenant) + std::string(kAccessAuditSuffix);
}

inline bool IsAccessAuditStream(absl::string_view stream_id) {
  const absl::string_view tenant = TenantOfStream(stream_id);
  return !tenant.empty() &&
         stream_id.size() == tenant.size() + kAccessAuditSuffix.size() &&
         stream_id.substr(tenant.size()) == kAccessAuditSuffix;
}

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_STREAM_IDS_H_
