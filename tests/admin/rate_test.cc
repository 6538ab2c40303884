// Per-principal rate limits on the admin API: a burst, then qps; principals apart;
// the number of buckets bounded; end to end, RESOURCE_EXHAUSTED naming the flag.
#include "server/admin_rate.h"

#include <catch2/catch.hpp>

#include "k8s/fake_clock.h"
#include "tests/admin/admin_daemon.h"

namespace drover {
namespace {

namespace pb = admin::v1;
using namespace admin_testing;  // NOLINT: the tests share the daemon and its helpers

TEST_CASE("admin_rate_limit_burst_then_qps_per_principal", "[admin][rate]") {
  k8s::FakeClock clock;
  PrincipalRateLimits limits({.qps = 2, .burst = 3, .clock = &clock});
  for (int i = 0; i < 3; ++i) REQUIRE(limits.Admit("alice").ok());
  absl::Status over = limits.Admit("alice");
  REQUIRE(absl::IsResourceExhausted(over));
  CHECK_THAT(std::string(over.message()), Catch::Contains("\"alice\"") && Catch::Contains("2 requests/s") &&
                                              Catch::Contains("--admin-rate-limit"));
  CHECK(limits.Admit("bob").ok());  // a bucket of its own
  clock.Advance(absl::Milliseconds(500));  // one token at 2/s
  CHECK(limits.Admit("alice").ok());
  CHECK_FALSE(limits.Admit("alice").ok());
}

TEST_CASE("admin_rate_limit_tracks_a_bounded_number_of_principals", "[admin][rate]") {
  k8s::FakeClock clock;
  PrincipalRateLimits limits({.qps = 1, .burst = 1, .max_principals = 100, .clock = &clock});
  REQUIRE(limits.Admit("alice").ok());
  REQUIRE_FALSE(limits.Admit("alice").ok());
  for (int i = 0; i < 5000; ++i) {
    REQUIRE(limits.Admit("user-" + std::to_string(i)).ok());
    REQUIRE(limits.tracked() <= 100);
  }
  CHECK(limits.Admit("alice").ok());  // her bucket was dropped (least recently used): a full one again
  CHECK(PrincipalRateLimits({.qps = 0}).Admit("anyone").ok());  // 0: no limit
}

TEST_CASE("admin_api_refuses_a_principal_over_its_rate", "[admin][rate][e2e]") {
  // 1 call per 1,000 s after a burst of 3: no refill within the test, however slow the machine.
  AdminDaemon d([](ProcessOptions* o) { o->admin_rate = {.qps = 0.001, .burst = 3}; });
  pb::ListQueuesResponse queues;
  for (int i = 0; i < 3; ++i) REQUIRE(d.stub().ListQueues(As("viewer-t").get(), pb::ListQueuesRequest(), &queues).ok());
  pb::ListPendingResponse pending;
  grpc::Status s = d.stub().ListPending(As("viewer-t").get(), pb::ListPendingRequest(), &pending);
  CHECK(s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(s.error_message(), Catch::Contains("\"bob\"") && Catch::Contains("--admin-rate-limit"));
  CHECK(d.stub().ListQueues(As("admin-t").get(), pb::ListQueuesRequest(), &queues).ok());  // ops: its own bucket
  // Unauthenticated calls are refused before the limiter: no bucket for them.
  CHECK(d.stub().ListQueues(As("").get(), pb::ListQueuesRequest(), &queues).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace drover
