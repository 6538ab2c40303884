// A token bucket for client-side request rate limiting, like client-go's
// flowcontrol limiter (default QPS 50, burst 100 here): `burst` requests may go at
// once, then `qps` per second on average.
//
//   RateLimiter limiter(50, 100);
//   if (!limiter.Acquire(&shutdown)) return absl::CancelledError("shutting down");
//
// Thread-safe. Waiters are served in reservation order. Time comes from a
// SteadyClock (k8s/clock.h): tests pass a FakeClock.
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "core/sync.h"
#include "k8s/clock.h"

namespace drover::k8s {

class RateLimiter {
 public:
  // qps <= 0 means unlimited. `clock` is not owned and must outlive the limiter.
  RateLimiter(double qps, int burst, SteadyClock* clock = RealClock());

  // Takes one token, waiting for it if needed. Returns false (and takes nothing)
  // if `cancel` is notified first.
  bool Acquire(const Notification* cancel = nullptr);
  // Takes one token only if one is available now.
  bool TryAcquire();

 private:
  void RefillLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const double qps_;
  const double burst_;
  SteadyClock* const clock_;
  Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);  // negative: the reservations of waiters
  absl::Time last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace drover::k8s
