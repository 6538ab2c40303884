// Request checks shared by the admin API's read files (admin_reads*.cc); not
// part of the module's interface.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "core/strings.h"
#include "store/store.h"

namespace drover {
namespace admin_reads {

// InvalidArgument "field: what".
inline absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(StrCat(field, ": ", what));
}

// A page size: 0 = `fallback`; negative is an error naming page_size; capped at kMaxPage.
inline absl::Status PageSize(int32_t requested, int fallback, int* out) {
  if (requested < 0) return Invalid("page_size", StrCat(requested, " is negative"));
  *out = requested == 0 ? fallback : std::min<int>(requested, kMaxPage);
  return absl::OkStatus();
}

// A page token we issued: a non-negative decimal; "" = 0. Error names page_token.
inline absl::Status PageToken(const std::string& token, int64_t* out) {
  *out = 0;
  if (token.empty()) return absl::OkStatus();
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), *out);
  if (ec != std::errc() || end != token.data() + token.size() || *out < 0) {
    return Invalid("page_token", StrCat("\"", CutForMessage(token), "\" is not a token this server issued"));
  }
  return absl::OkStatus();
}

// True if queue path `queue` is `root` or below it; every queue for root "".
inline bool InSubtree(const std::string& queue, const std::string& root) {
  if (root.empty()) return true;
  if (!queue.starts_with(root)) return false;
  return queue.size() == root.size() || queue[root.size()] == '.';
}

}  // namespace admin_reads
}  // namespace drover
