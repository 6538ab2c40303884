#include "sim/duration.h"

#include <cstdlib>
#include <string>

#include "core/strings.h"

namespace drover {

absl::StatusOr<int64_t> ParseDurationMillis(std::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        StrCat("duration \"", text, "\": want a number of seconds or a Go duration like 1h30m, 90s, 250ms"));
  };
  if (text.empty()) return bad();
  const std::string s(text);
  char* end = nullptr;
  const double plain = std::strtod(s.c_str(), &end);
  if (end == s.c_str() + s.size() && plain >= 0) return static_cast<int64_t>(plain * 1000.0 + 0.5);
  double total_ms = 0;
  size_t i = 0;
  while (i < s.size()) {
    const char* start = s.c_str() + i;
    const double v = std::strtod(start, &end);
    if (end == start || v < 0) return bad();
    i = end - s.c_str();
    std::string unit;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) unit += s[i++];
    if (unit == "h") total_ms += v * 3600e3;
    else if (unit == "m") total_ms += v * 60e3;
    else if (unit == "s") total_ms += v * 1e3;
    else if (unit == "ms") total_ms += v;
    else return bad();
  }
  return static_cast<int64_t>(total_ms + 0.5);
}

}  // namespace drover
