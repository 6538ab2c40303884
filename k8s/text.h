// Internal to k8s/: std::string_view text helpers. Debian's Abseil has its own
// absl::string_view, so its string utilities do not take std::string_view; these
// cover what the adapter needs (see also core/strings.h for StrCat).
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace drover::k8s {

inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Pieces between `sep`, trimmed; empty pieces dropped.
inline std::vector<std::string_view> SplitTrimmed(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    size_t pos = s.find(sep);
    std::string_view piece = Trim(s.substr(0, pos));
    if (!piece.empty()) out.push_back(piece);
    if (pos == std::string_view::npos) break;
    s.remove_prefix(pos + 1);
  }
  return out;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A status message as std::string_view.
inline std::string_view Msg(const absl::Status& s) { return std::string_view(s.message().data(), s.message().size()); }

}  // namespace drover::k8s
