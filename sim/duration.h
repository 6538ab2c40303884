// Durations as users write them in simulation annotations: Go-style "1h30m",
// "90s", "250ms", or a bare number of seconds ("3600", "1.5").
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace drover {
absl::StatusOr<int64_t> ParseDurationMillis(std::string_view text);
}  // namespace drover
