// drover::Clock on the system's real-time clock, for the daemon and the adapter.
#pragma once

#include "absl/time/clock.h"
#include "core/cluster.h"

namespace drover::k8s {

class WallClock : public Clock {
 public:
  int64_t NowMillis() const override { return absl::ToUnixMillis(absl::Now()); }
};

}  // namespace drover::k8s
