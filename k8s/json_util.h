// Small helpers for the JSON we write and the timestamps Kubernetes uses.
//
//   StrCat("{\"name\":", JsonQuote(name), "}");
//   FormatRfc3339(absl::Now());     // "2024-05-01T10:00:00Z"      (metav1.Time)
//   FormatMicroTime(absl::Now());   // "2024-05-01T10:00:00.123456Z" (metav1.MicroTime)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace drover::k8s {

// `s` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view s);

std::string FormatRfc3339(absl::Time t);
std::string FormatMicroTime(absl::Time t);
// Parses RFC 3339 with optional fractional seconds. Error names the text.
absl::StatusOr<absl::Time> ParseRfc3339(std::string_view text);

// Percent-encodes a query parameter value (continue tokens, selectors).
std::string UrlEncode(std::string_view s);

}  // namespace drover::k8s
