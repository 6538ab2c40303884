#include "k8s/rate_limiter.h"

#include <algorithm>
#include <thread>

#include "absl/time/time.h"

namespace drover::k8s {

RateLimiter::RateLimiter(double qps, int burst)
    : qps_(qps), burst_(std::max(1, burst)), tokens_(burst_), last_(Clock::now()) {}

void RateLimiter::RefillLocked(Clock::time_point now) {
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

bool RateLimiter::TryAcquire() {
  if (qps_ <= 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  RefillLocked(Clock::now());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool RateLimiter::Acquire(const absl::Notification* cancel) {
  if (qps_ <= 0) return cancel == nullptr || !cancel->HasBeenNotified();
  double wait_seconds = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    RefillLocked(Clock::now());
    tokens_ -= 1;  // reserve; a negative balance is the queue of waiters
    if (tokens_ < 0) wait_seconds = -tokens_ / qps_;
  }
  if (wait_seconds <= 0) return true;
  const absl::Duration wait = absl::Seconds(wait_seconds);
  bool cancelled = false;
  if (cancel != nullptr) {
    cancelled = cancel->WaitForNotificationWithTimeout(wait);
  } else {
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(wait));
  }
  if (cancelled) {
    std::lock_guard<std::mutex> lock(mu_);
    tokens_ += 1;  // give the reservation back
    return false;
  }
  return true;
}

}  // namespace drover::k8s
