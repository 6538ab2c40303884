// Leader election against the fake API server: two candidates, one leader. Time
// (lease expiry, renew deadline, retry period) runs on a FakeClock, stepped by the
// test: the production durations (15 s lease, 10 s renew deadline, 2 s retry)
// are checked exactly, without waiting for them.
#include "k8s/leader.h"

#include <catch2/catch.hpp>

#include "k8s/fake_clock.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

LeaderOptions Options(const std::string& identity, FakeClock* clock, bool release = true) {
  LeaderOptions o;  // the defaults: lease 15 s, renew deadline 10 s, retry 2 s
  o.namespace_ = "drover-system";
  o.name = "drover";
  o.identity = identity;
  o.release_on_stop = release;
  o.clock = clock;
  return o;
}

absl::StatusOr<LeaseRecord> ReadLease(HttpClient* http) {
  absl::StatusOr<HttpResponse> r =
      http->Send(HttpRequest{.path = "/apis/coordination.k8s.io/v1/namespaces/drover-system/leases/drover"});
  if (!r.ok()) return r.status();
  if (r->status != 200) return absl::NotFoundError("no lease");
  return ParseLease(r->body);
}

TEST_CASE("leader_options_are_validated", "[k8s][leader]") {
  CHECK(LeaderElector::Validate(Options("a", nullptr)).ok());
  LeaderOptions o = Options("a", nullptr);
  o.renew_deadline = o.lease_duration;
  CHECK_FALSE(LeaderElector::Validate(o).ok());
  o = Options("", nullptr);
  CHECK_FALSE(LeaderElector::Validate(o).ok());
}

TEST_CASE("leader_election_one_leader_and_takeover_on_release", "[k8s][leader][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  auto http_a = server.Client();
  auto http_b = server.Client();
  FakeClock clock;
  LeaderElector a(http_a.get(), Options("candidate-a", &clock));
  LeaderElector b(http_b.get(), Options("candidate-b", &clock));
  a.Start();
  REQUIRE(clock.WaitForSleepCalls(1));  // acquired, waiting to renew
  CHECK(a.IsLeader());
  b.Start();
  REQUIRE(clock.WaitForSleepCalls(2));  // b tried, and waits to try again
  CHECK(b.ObservedLeader() == "candidate-a");
  CHECK_FALSE(b.IsLeader());
  for (int i = 0; i < 20; ++i) {  // 48 s: a renews, b never leads
    REQUIRE(clock.Step(absl::Milliseconds(2400), 2));
    REQUIRE(a.IsLeader());
    REQUIRE_FALSE(b.IsLeader());
  }
  absl::StatusOr<LeaseRecord> lease = ReadLease(http_a.get());
  REQUIRE(lease.ok());
  CHECK(lease->holder == "candidate-a");
  CHECK(lease->lease_duration_seconds == 15);
  CHECK(lease->transitions == 0);
  CHECK_FALSE(lease->acquire_time.empty());

  a.Stop();  // releases the lease
  CHECK_FALSE(a.IsLeader());
  REQUIRE(clock.Step(absl::Milliseconds(2400)));  // b's next try takes the released lease at once
  CHECK(b.IsLeader());
  lease = ReadLease(http_b.get());
  REQUIRE(lease.ok());
  CHECK(lease->holder == "candidate-b");
  CHECK(lease->transitions == 1);
  b.Stop();
}

TEST_CASE("leader_election_takeover_after_expiry_without_release", "[k8s][leader][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  auto http_a = server.Client();
  auto http_b = server.Client();
  FakeClock clock;
  LeaderElector a(http_a.get(), Options("candidate-a", &clock, /*release=*/false));
  LeaderElector b(http_b.get(), Options("candidate-b", &clock));
  a.Start();
  REQUIRE(clock.WaitForSleepCalls(1));
  REQUIRE(a.IsLeader());
  b.Start();
  REQUIRE(clock.WaitForSleepCalls(2));  // b observed a's record now
  const absl::Time observed = clock.Now();
  a.Stop();  // crashes, in effect: the lease still names it
  absl::StatusOr<LeaseRecord> lease = ReadLease(http_b.get());
  REQUIRE(lease.ok());
  CHECK(lease->holder == "candidate-a");
  // b takes over once the record has not changed for the lease duration (15 s)
  // on its own clock, at its first retry after that: never before.
  while (!b.IsLeader()) {
    REQUIRE(clock.Now() - observed < absl::Seconds(15) + absl::Milliseconds(2400));
    REQUIRE(clock.Step(absl::Milliseconds(500)));
  }
  CHECK(clock.Now() - observed >= absl::Seconds(15));
  lease = ReadLease(http_b.get());
  REQUIRE(lease.ok());
  CHECK(lease->holder == "candidate-b");
  CHECK(lease->transitions == 1);
}

TEST_CASE("leader_steps_down_at_the_renew_deadline_and_comes_back", "[k8s][leader][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  auto http = server.Client();
  FakeClock clock;
  LeaderElector a(http.get(), Options("candidate-a", &clock));
  a.Start();
  REQUIRE(clock.WaitForSleepCalls(1));
  REQUIRE(a.IsLeader());
  const absl::Time renewed = clock.Now();
  REQUIRE(server.Control("/_control/faults", R"({"fail_next":{"path_regex":"/leases","code":500,"count":100000}})").ok());
  // Renewals fail from now on: still the leader until 10 s after the last renewal.
  while (clock.Now() - renewed < absl::Seconds(10) - absl::Milliseconds(500)) {
    REQUIRE(clock.Step(absl::Milliseconds(500)));
    REQUIRE(a.IsLeader());
  }
  clock.Advance(absl::Milliseconds(500));
  CHECK_FALSE(a.IsLeader());  // at the deadline, even before the elector's thread notices
  REQUIRE(server.Control("/_control/faults", R"({"clear":true})").ok());
  for (int i = 0; i < 20 && !a.IsLeader(); ++i) REQUIRE(clock.Step(absl::Milliseconds(2400)));
  CHECK(a.IsLeader());
  CHECK(a.times_acquired() == 2);
}

TEST_CASE("leader_election_racing_candidates_elect_exactly_one", "[k8s][leader][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  FakeClock clock;
  std::vector<std::unique_ptr<HttpClient>> clients;
  std::vector<std::unique_ptr<LeaderElector>> electors;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(server.Client());
    electors.push_back(std::make_unique<LeaderElector>(clients.back().get(), Options("c" + std::to_string(i), &clock)));
  }
  for (auto& e : electors) e->Start();
  REQUIRE(clock.WaitForSleepCalls(3));
  auto leaders = [&] {
    int n = 0;
    for (auto& e : electors) n += e->IsLeader() ? 1 : 0;
    return n;
  };
  CHECK(leaders() == 1);
  for (int i = 0; i < 30; ++i) {  // a minute of renewals and retries
    REQUIRE(clock.Step(absl::Milliseconds(2400), 3));
    REQUIRE(leaders() == 1);
  }
  for (auto& e : electors) e->Stop();
}

}  // namespace
}  // namespace drover::k8s::testing
