// Per-principal rate limits on the admin API: a token bucket per user
// (k8s::RateLimiter), `qps` per second on average after a `burst`.
//
//   PrincipalRateLimits limits({.qps = 50, .burst = 100});
//   RETURN_IF_ERROR(limits.Admit(principal.user));   // ResourceExhausted when over
//
// At most `max_principals` buckets are kept; the least recently used is dropped
// first (a returning principal starts with a full bucket again), so callers with
// many names cost bounded memory. Unauthenticated calls never reach this (they
// are refused first); anonymous readers share one bucket. Thread-safe.
#pragma once

#include <list>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/sync.h"
#include "k8s/clock.h"
#include "k8s/rate_limiter.h"

namespace drover {

struct RateLimitOptions {
  double qps = 50;      // --admin-rate-limit; <= 0: no limit
  int burst = 100;      // --admin-rate-burst
  size_t max_principals = 10'000;
  k8s::SteadyClock* clock = nullptr;  // null: k8s::RealClock()
};

class PrincipalRateLimits {
 public:
  explicit PrincipalRateLimits(RateLimitOptions options);
  // OK and one token taken from `principal`'s bucket; ResourceExhausted naming
  // the principal, the limit and the flags when it is empty.
  absl::Status Admit(const std::string& principal);
  size_t tracked() const;

 private:
  struct Bucket {
    std::string principal;
    std::unique_ptr<k8s::RateLimiter> limiter;
  };
  // The bucket of `principal`, made (and the least recently used dropped) if needed.
  k8s::RateLimiter* BucketOf(const std::string& principal) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RateLimitOptions options_;
  mutable Mutex mu_;
  std::list<Bucket> lru_ ABSL_GUARDED_BY(mu_);  // most recently used last
  absl::flat_hash_map<std::string, std::list<Bucket>::iterator> index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace drover
