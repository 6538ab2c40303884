#include "k8s/rate_limiter.h"

#include <catch2/catch.hpp>

namespace drover::k8s {
namespace {

TEST_CASE("rate_limiter_allows_a_burst_then_refuses", "[k8s][http]") {
  RateLimiter limiter(/*qps=*/0.001, /*burst=*/3);
  CHECK(limiter.TryAcquire());
  CHECK(limiter.TryAcquire());
  CHECK(limiter.TryAcquire());
  CHECK_FALSE(limiter.TryAcquire());
}

TEST_CASE("rate_limiter_wait_is_cancellable_and_returns_the_token", "[k8s][http]") {
  RateLimiter limiter(/*qps=*/0.001, /*burst=*/1);
  REQUIRE(limiter.TryAcquire());
  absl::Notification cancel;
  cancel.Notify();
  CHECK_FALSE(limiter.Acquire(&cancel));  // would wait ~1000 s; cancelled at once
  CHECK_FALSE(limiter.TryAcquire());      // the cancelled reservation was given back, none refilled
}

TEST_CASE("rate_limiter_unlimited", "[k8s][http]") {
  RateLimiter limiter(0, 1);
  for (int i = 0; i < 1000; ++i) REQUIRE(limiter.Acquire());
}

}  // namespace
}  // namespace drover::k8s
