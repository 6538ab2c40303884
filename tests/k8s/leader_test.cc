// Leader election against the fake API server: two candidates, one leader.
#include "k8s/leader.h"

#include <catch2/catch.hpp>

#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

LeaderOptions Fast(const std::string& identity, bool release = true) {
  LeaderOptions o;
  o.namespace_ = "drover-system";
  o.name = "drover";
  o.identity = identity;
  o.lease_duration = absl::Seconds(2);
  o.renew_deadline = absl::Milliseconds(1500);
  o.retry_period = absl::Milliseconds(200);
  o.release_on_stop = release;
  return o;
}

absl::StatusOr<LeaseRecord> ReadLease(HttpClient* http) {
  absl::StatusOr<HttpResponse> r =
      http->Send(HttpRequest{.path = "/apis/coordination.k8s.io/v1/namespaces/drover-system/leases/drover"});
  if (!r.ok()) return r.status();
  if (r->status != 200) return absl::NotFoundError("no lease");
  return ParseLease(r->body);
}

// Samples both electors for a while; false if both ever claimed leadership.
bool NeverBothLeaders(const LeaderElector& a, const LeaderElector& b, int samples = 50) {
  for (int i = 0; i < samples; ++i) {
    if (a.IsLeader() && b.IsLeader()) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

TEST_CASE("leader_options_are_validated", "[k8s][leader]") {
  CHECK(LeaderElector::Validate(Fast("a")).ok());
  LeaderOptions o = Fast("a");
  o.renew_deadline = o.lease_duration;
  CHECK_FALSE(LeaderElector::Validate(o).ok());
  o = Fast("");
  CHECK_FALSE(LeaderElector::Validate(o).ok());
}

TEST_CASE("leader_election_one_leader_and_takeover_on_release", "[k8s][leader][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  auto http_a = server.Client();
  auto http_b = server.Client();
  LeaderElector a(http_a.get(), Fast("candidate-a"));
  LeaderElector b(http_b.get(), Fast("candidate-b"));
  a.Start();
  REQUIRE(WaitUntil([&] { return a.IsLeader(); }));
  b.Start();
  REQUIRE(WaitUntil([&] { return b.ObservedLeader() == "candidate-a"; }));
  CHECK(NeverBothLeaders(a, b));
  CHECK_FALSE(b.IsLeader());

  absl::StatusOr<LeaseRecord> lease = ReadLease(http_a.get());
  REQUIRE(lease.ok());
  CHECK(lease->holder == "candidate-a");
  CHECK(lease->lease_duration_seconds == 2);
  CHECK(lease->transitions == 0);
  CHECK_FALSE(lease->acquire_time.empty());

  a.Stop();  // releases the lease
  CHECK_FALSE(a.IsLeader());
  REQUIRE(WaitUntil([&] { return b.IsLeader(); }));
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
  LeaderElector a(http_a.get(), Fast("candidate-a", /*release=*/false));
  LeaderElector b(http_b.get(), Fast("candidate-b"));
  a.Start();
  REQUIRE(WaitUntil([&] { return a.IsLeader(); }));
  b.Start();
  CHECK(NeverBothLeaders(a, b));
  a.Stop();  // crashes, in effect: the lease still names it
  absl::StatusOr<LeaseRecord> lease = ReadLease(http_b.get());
  REQUIRE(lease.ok());
  CHECK(lease->holder == "candidate-a");
  REQUIRE(WaitUntil([&] { return b.IsLeader(); }));
  lease = ReadLease(http_b.get());
  REQUIRE(lease.ok());
  CHECK(lease->holder == "candidate-b");
  CHECK(lease->transitions == 1);
}

TEST_CASE("leader_steps_down_when_renewals_fail_and_comes_back", "[k8s][leader][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  auto http = server.Client();
  LeaderElector a(http.get(), Fast("candidate-a"));
  a.Start();
  REQUIRE(WaitUntil([&] { return a.IsLeader(); }));
  REQUIRE(server.Control("/_control/faults", R"({"fail_next":{"path_regex":"/leases","code":500,"count":100000}})").ok());
  REQUIRE(WaitUntil([&] { return !a.IsLeader(); }));
  REQUIRE(server.Control("/_control/faults", R"({"clear":true})").ok());
  REQUIRE(WaitUntil([&] { return a.IsLeader(); }));
  CHECK(a.times_acquired() == 2);
}

TEST_CASE("leader_election_racing_candidates_elect_exactly_one", "[k8s][leader][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  std::vector<std::unique_ptr<HttpClient>> clients;
  std::vector<std::unique_ptr<LeaderElector>> electors;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(server.Client());
    electors.push_back(std::make_unique<LeaderElector>(clients.back().get(), Fast("c" + std::to_string(i))));
  }
  for (auto& e : electors) e->Start();
  REQUIRE(WaitUntil([&] {
    int leaders = 0;
    for (auto& e : electors) leaders += e->IsLeader() ? 1 : 0;
    return leaders == 1;
  }));
  for (int i = 0; i < 50; ++i) {
    int leaders = 0;
    for (auto& e : electors) leaders += e->IsLeader() ? 1 : 0;
    REQUIRE(leaders <= 1);
    absl::SleepFor(absl::Milliseconds(20));
  }
  for (auto& e : electors) e->Stop();
}

}  // namespace
}  // namespace drover::k8s::testing
