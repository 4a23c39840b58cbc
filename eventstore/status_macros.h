#ifndef CASETRAIL_EVENTSTORE_STATUS_MACROS_H_
#define CASETRAIL_EVENTSTORE_STATUS_MACROS_H_

// Debian 12's Abseil (20220623) has no status macros; these are the two we use.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CASETRAIL_CONCAT_INNER_(a, b) a##b
#define CASETRAIL_CONCAT_(a, b) CASETRAIL_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                             \
  do {                                                    \
    if (absl::Status _st = (expr); !_st.ok()) return _st; \
  } while (0)

// `lhs = *expr` if `expr` (an absl::StatusOr) is OK; otherwise returns its
// status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CASETRAIL_CONCAT_(_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

#endif  // CASETRAIL_EVENTSTORE_STATUS_MACROS_H_
