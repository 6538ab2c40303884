#include "server/admin_rate.h"

#include "core/strings.h"

namespace drover {

PrincipalRateLimits::PrincipalRateLimits(RateLimitOptions options) : options_(std::move(options)) {}

k8s::RateLimiter* PrincipalRateLimits::BucketOf(const std::string& principal) {
  if (auto it = index_.find(principal); it != index_.end()) {
    lru_.splice(lru_.end(), lru_, it->second);
    return it->second->limiter.get();
  }
  while (!lru_.empty() && lru_.size() >= options_.max_principals) {
    index_.erase(lru_.front().principal);
    lru_.pop_front();
  }
  k8s::SteadyClock* clock = options_.clock != nullptr ? options_.clock : k8s::RealClock();
  lru_.push_back(Bucket{principal, std::make_unique<k8s::RateLimiter>(options_.qps, options_.burst, clock)});
  index_[principal] = std::prev(lru_.end());
  return lru_.back().limiter.get();
}

absl::Status PrincipalRateLimits::Admit(const std::string& principal) {
  if (options_.qps <= 0) return absl::OkStatus();
  MutexLock lock(&mu_);  // a bucket is dropped only under it; RateLimiter's own lock is short
  if (BucketOf(principal)->TryAcquire()) return absl::OkStatus();
  return absl::ResourceExhaustedError(StrCat("\"", CutForMessage(principal), "\" is over the admin API's rate limit of ",
                                             options_.qps, " requests/s with a burst of ", options_.burst,
                                             " (droverd --admin-rate-limit, --admin-rate-burst); retry shortly"));
}

size_t PrincipalRateLimits::tracked() const {
  MutexLock lock(&mu_);
  return lru_.size();
}

}  // namespace drover
