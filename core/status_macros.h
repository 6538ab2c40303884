// Small in-house replacements for ABSL_RETURN_IF_ERROR / ASSIGN_OR_RETURN, which
// Debian's Abseil (20220623) does not ship.
//
//   RETURN_IF_ERROR(Validate(doc));
//   ASSIGN_OR_RETURN(Quantity q, ParseQuantity(text));
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define DROVER_CONCAT_INNER(a, b) a##b
#define DROVER_CONCAT(a, b) DROVER_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status drover_status_ = (expr);        \
    if (!drover_status_.ok()) return drover_status_; \
  } while (0)

#define DROVER_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  DROVER_ASSIGN_OR_RETURN_IMPL(DROVER_CONCAT(drover_statusor_, __LINE__), lhs, expr)
