// Time for the adapter's own timers: leader election (lease expiry, renew
// deadline, retry period), the client-side rate limiter, the token file's re-read
// interval, reflector back-off and watch progress. Injected so that tests drive
// them with a FakeClock (k8s/fake_clock.h) instead of real sleeps.
//
//   k8s::SteadyClock* clock = k8s::RealClock();
//   const absl::Time start = clock->Now();
//   if (!clock->SleepFor(absl::Seconds(2), &stop)) return;  // `stop` was notified
//
// Not drover::Clock (core/cluster.h): that one is the scheduler's wall time in
// milliseconds, virtual in the simulator; this one is monotonic and can sleep.
#pragma once

#include "absl/time/time.h"
#include "core/sync.h"

namespace drover::k8s {

class SteadyClock {
 public:
  virtual ~SteadyClock() = default;
  // Monotonic time: never goes back. For intervals and deadlines only; it is not
  // the wall time (absl::Now) and must not be written into objects.
  virtual absl::Time Now() const = 0;
  // Waits `d`, or less when `cancel` (may be null) is notified first. Returns
  // true when the whole of `d` passed, false when cancelled. Thread-safe.
  virtual bool SleepFor(absl::Duration d, const Notification* cancel) = 0;
};

// The process's real monotonic clock (std::chrono::steady_clock). Never null.
SteadyClock* RealClock();

}  // namespace drover::k8s
