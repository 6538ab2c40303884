#include "k8s/rate_limiter.h"

#include <algorithm>

namespace drover::k8s {

RateLimiter::RateLimiter(double qps, int burst, SteadyClock* clock)
    : qps_(qps), burst_(std::max(1, burst)), clock_(clock), tokens_(burst_), last_(clock->Now()) {}

void RateLimiter::RefillLocked(absl::Time now) {
  const double elapsed = absl::ToDoubleSeconds(now - last_);
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

bool RateLimiter::TryAcquire() {
  if (qps_ <= 0) return true;
  MutexLock lock(&mu_);
  RefillLocked(clock_->Now());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool RateLimiter::Acquire(const Notification* cancel) {
  if (qps_ <= 0) return cancel == nullptr || !cancel->HasBeenNotified();
  double wait_seconds = 0;
  {
    MutexLock lock(&mu_);
    RefillLocked(clock_->Now());
    tokens_ -= 1;  // reserve; a negative balance is the queue of waiters
    if (tokens_ < 0) wait_seconds = -tokens_ / qps_;
  }
  if (wait_seconds <= 0) return true;
  if (clock_->SleepFor(absl::Seconds(wait_seconds), cancel)) return true;
  MutexLock lock(&mu_);
  tokens_ += 1;  // cancelled: give the reservation back
  return false;
}

}  // namespace drover::k8s
