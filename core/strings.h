// String helpers over Abseil that accept std::string_view.
//
// Debian's Abseil 20220623 is built with its own absl::string_view (not an alias
// of std::string_view), so absl::StrCat does not take std::string_view. These
// forward to Abseil after converting; use them instead of absl::StrCat/StrAppend.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace drover {
namespace strings_internal {
template <typename T>
decltype(auto) Arg(const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string_view> && !std::is_convertible_v<const T&, const char*> &&
                !std::is_same_v<T, std::string>) {
    const std::string_view s = v;
    return absl::string_view(s.data(), s.size());
  } else {
    return (v);
  }
}
}  // namespace strings_internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  return absl::StrCat(strings_internal::Arg(args)...);
}

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  absl::StrAppend(out, strings_internal::Arg(args)...);
}

inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Input quoted in an error message, cut to at most `max_bytes` (never inside a
// UTF-8 sequence) and marked with its full size: "abc…(52428800 bytes)". Text up
// to `max_bytes` is returned whole. A 50 MB value must not become a 50 MB log line.
inline constexpr size_t kMaxQuotedBytes = 200;
// How many leading bytes of `s` CutForMessage keeps (s.size() when it keeps all).
inline size_t MessageCutPoint(std::string_view s, size_t max_bytes = kMaxQuotedBytes) {
  if (s.size() <= max_bytes) return s.size();
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;  // a continuation byte
  return end;
}
// The marker CutForMessage appends: "…(N bytes)".
inline std::string CutMarker(size_t full_size) { return StrCat("\u2026(", full_size, " bytes)"); }
inline std::string CutForMessage(std::string_view s, size_t max_bytes = kMaxQuotedBytes) {
  const size_t keep = MessageCutPoint(s, max_bytes);
  if (keep == s.size()) return std::string(s);
  return StrCat(s.substr(0, keep), CutMarker(s.size()));
}

}  // namespace drover
