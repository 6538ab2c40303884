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

}  // namespace drover
