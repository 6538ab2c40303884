// A token bucket for client-side request rate limiting, like client-go's
// flowcontrol limiter (default QPS 50, burst 100 here): `burst` requests may go at
// once, then `qps` per second on average.
//
//   RateLimiter limiter(50, 100);
//   if (!limiter.Acquire(&shutdown)) return absl::CancelledError("shutting down");
//
// Thread-safe. Waiters are served in reservation order.
#pragma once

#include <chrono>
#include <mutex>

#include "absl/synchronization/notification.h"

namespace drover::k8s {

class RateLimiter {
 public:
  // qps <= 0 means unlimited.
  RateLimiter(double qps, int burst);

  // Takes one token, waiting for it if needed. Returns false (and takes nothing)
  // if `cancel` is notified first.
  bool Acquire(const absl::Notification* cancel = nullptr);
  // Takes one token only if one is available now.
  bool TryAcquire();

 private:
  using Clock = std::chrono::steady_clock;
  void RefillLocked(Clock::time_point now);

  const double qps_;
  const double burst_;
  std::mutex mu_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace drover::k8s
