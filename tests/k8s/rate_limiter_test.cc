#include "k8s/rate_limiter.h"

#include <catch2/catch.hpp>

#include <thread>

#include "k8s/fake_clock.h"

namespace drover::k8s {
namespace {

TEST_CASE("rate_limiter_allows_a_burst_then_refuses", "[k8s][http]") {
  FakeClock clock;
  RateLimiter limiter(/*qps=*/2, /*burst=*/3, &clock);
  CHECK(limiter.TryAcquire());
  CHECK(limiter.TryAcquire());
  CHECK(limiter.TryAcquire());
  CHECK_FALSE(limiter.TryAcquire());
  clock.Advance(absl::Milliseconds(499));
  CHECK_FALSE(limiter.TryAcquire());
  clock.Advance(absl::Milliseconds(1));  // 2 per second: one token every 500 ms
  CHECK(limiter.TryAcquire());
  CHECK_FALSE(limiter.TryAcquire());
  clock.Advance(absl::Hours(1));  // refills up to the burst, no further
  for (int i = 0; i < 3; ++i) CHECK(limiter.TryAcquire());
  CHECK_FALSE(limiter.TryAcquire());
}

TEST_CASE("rate_limiter_waiters_are_served_in_order_at_the_rate", "[k8s][http]") {
  FakeClock clock;
  RateLimiter limiter(/*qps=*/10, /*burst=*/1, &clock);
  REQUIRE(limiter.Acquire());
  bool done = false;
  std::thread waiter([&] { done = limiter.Acquire(); });
  REQUIRE(clock.WaitForSleepers(1));
  CHECK(clock.sleeps().back() == absl::Milliseconds(100));  // one token at 10 QPS
  clock.Advance(absl::Milliseconds(100));
  waiter.join();
  CHECK(done);
  CHECK_FALSE(limiter.TryAcquire());
}

TEST_CASE("rate_limiter_wait_is_cancellable_and_returns_the_token", "[k8s][http]") {
  FakeClock clock;
  RateLimiter limiter(/*qps=*/0.001, /*burst=*/1, &clock);
  REQUIRE(limiter.TryAcquire());
  Notification cancel;
  cancel.Notify();
  CHECK_FALSE(limiter.Acquire(&cancel));  // would wait 1000 s; cancelled at once
  CHECK_FALSE(limiter.TryAcquire());      // the cancelled reservation was given back, none refilled
  clock.Advance(absl::Seconds(1000));
  CHECK(limiter.TryAcquire());
}

TEST_CASE("rate_limiter_unlimited", "[k8s][http]") {
  RateLimiter limiter(0, 1);
  for (int i = 0; i < 1000; ++i) REQUIRE(limiter.Acquire());
}

}  // namespace
}  // namespace drover::k8s
