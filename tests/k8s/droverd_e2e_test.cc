// End-to-end: the droverd binary against the fake API server
// (tests/k8s_api_server/fake_apiserver.py). Every assertion is made from the API
// server's side: its bind statistics, the pods it holds, their conditions and
// events, and which client (User-Agent) sent what.
//
// The workload (droverd_harness.h, MixedGpuWorkload): 100 nodes of four GPU types,
// 1,000 drover pods in three queues (one capped at 24 T4 GPUs, one pod too large
// for any node), 30 pods of another scheduler and 40 pods bound before droverd
// starts.
#include <signal.h>

#include <catch2/catch.hpp>

#include "core/strings.h"
#include "tests/k8s/droverd_harness.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

// Generous: the waits end as soon as their condition holds (a few seconds in a
// normal build); the bound is for sanitizer builds on a loaded machine.
constexpr absl::Duration kBindTimeout = absl::Seconds(150);

std::string Lines(const std::vector<std::string>& v, size_t max = 20) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < max; ++i) StrAppend(&out, v[i], "\n");
  if (v.size() > max) StrAppend(&out, "... and ", v.size() - max, " more\n");
  return out;
}

std::vector<PodSpec> Slice(const std::vector<PodSpec>& pods, size_t from, size_t to) {
  return std::vector<PodSpec>(pods.begin() + static_cast<std::ptrdiff_t>(std::min(from, pods.size())),
                              pods.begin() + static_cast<std::ptrdiff_t>(std::min(to, pods.size())));
}

// A fake API server seeded with the mixed workload, and a temp dir for droverd.
// Seed() puts the nodes, the other scheduler's pods, the pre-bound pods and
// `drover_pods` of the drover pods on the server; SeedMore() adds the next ones.
class E2eCluster {
 public:
  E2eCluster() : workload_(MixedGpuWorkload()), dir_(MakeTempDir("droverd-e2e")) {
    REQUIRE(server_.Start().ok());
    http_ = server_.Client();
    REQUIRE(http_ != nullptr);
  }

  void Seed(size_t drover_pods) {
    const std::vector<PodSpec> others = Slice(workload_.pods, workload_.drover_pods, workload_.pods.size());
    REQUIRE(drover::k8s::testing::Seed(server_, workload_.nodes, others).ok());
    SeedMore(drover_pods);
    absl::StatusOr<std::map<std::string, ServerPod>> pods = ListServerPods(http_.get());
    REQUIRE(pods.ok());
    before_ = std::move(*pods);
  }

  void SeedMore(size_t n) {
    const size_t to = std::min(seeded_ + n, static_cast<size_t>(workload_.drover_pods));
    REQUIRE(drover::k8s::testing::Seed(server_, {}, Slice(workload_.pods, seeded_, to)).ok());
    seeded_ = to;
  }

  std::vector<std::string> Args(const std::string& identity) const { return DroverdArgs(server_, dir_, identity); }
  std::string LogPath(const std::string& identity) const { return StrCat(dir_, "/", identity, ".log"); }

  ServerStats Stats() {
    absl::StatusOr<ServerStats> s = GetStats(server_);
    REQUIRE(s.ok());
    return *s;
  }

  void Faults(const std::string& body) { REQUIRE(server_.Control("/_control/faults", body).ok()); }

  // Waits until every schedulable pod is bound; fails the test if that never happens.
  void RequireAllBound() {
    const BindProgress p = WaitForAllBound(server_, workload_, kBindTimeout);
    INFO("bound " << p.schedulable_bound << "/" << p.schedulable << " schedulable pods, " << p.capped_gpus << "/"
                  << kCappedT4Max << " GPUs of root.capped");
    REQUIRE(p.schedulable_bound == p.schedulable);
    CHECK(p.capped_gpus == kCappedT4Max);
  }

  // Every invariant of a finished run, from the server's side.
  void CheckInvariants() {
    const ServerStats s = Stats();
    absl::StatusOr<std::map<std::string, ServerPod>> pods = ListServerPods(http_.get());
    REQUIRE(pods.ok());
    const std::vector<std::string> once = CheckBoundOnce(workload_, s, *pods);
    INFO(Lines(once));
    CHECK(once.empty());
    const std::vector<std::string> fit = CheckNoOvercommit(workload_, *pods);
    INFO(Lines(fit));
    CHECK(fit.empty());
    const std::vector<std::string> untouched = CheckUntouched(workload_, s, before_, *pods);
    INFO(Lines(untouched));
    CHECK(untouched.empty());
  }

  FakeApiServer& server() { return server_; }
  HttpClient* http() { return http_.get(); }
  const E2eWorkload& workload() const { return workload_; }
  size_t seeded() const { return seeded_; }

 private:
  FakeApiServer server_;
  E2eWorkload workload_;
  std::string dir_;
  std::unique_ptr<HttpClient> http_;
  std::map<std::string, ServerPod> before_;
  size_t seeded_ = 0;
};

std::vector<std::string> Keys(const E2eWorkload& w, PodRole role) {
  std::vector<std::string> out;
  for (const PodSpec& p : w.pods) {
    if (p.role == role) out.push_back(p.Key());
  }
  return out;
}

TEST_CASE("droverd_binds_mixed_gpu_workload_once_within_quota_and_capacity", "[k8s][e2e]") {
  E2eCluster c;
  c.Seed(c.workload().drover_pods);
  DroverdProcess d(c.LogPath("replica-a"));
  REQUIRE(d.Start(c.Args("replica-a")).ok());
  c.RequireAllBound();
  c.CheckInvariants();
  // A clean run never tries a pod twice.
  const ServerStats s = c.Stats();
  int64_t conflicts = 0;
  for (const auto& [key, b] : s.binds) conflicts += b.conflicts;
  CHECK(conflicts == 0);
  CHECK(d.Running());
  d.Signal(SIGTERM);
  const std::optional<int> code = d.Wait(absl::Seconds(30));
  INFO("exit code " << code.value_or(-1) << "; log:\n" << d.Log());
  CHECK(code == std::optional<int>(0));
}

TEST_CASE("droverd_explains_unschedulable_pods_in_pod_scheduled_condition", "[k8s][e2e]") {
  E2eCluster c;
  c.Seed(c.workload().drover_pods);
  DroverdProcess d(c.LogPath("replica-a"));
  REQUIRE(d.Start(c.Args("replica-a")).ok());
  c.RequireAllBound();

  const std::vector<std::string> too_large = Keys(c.workload(), PodRole::kTooLarge);
  const std::vector<std::string> capped = Keys(c.workload(), PodRole::kOverQuota);
  REQUIRE(too_large.size() == 1);
  // Every pending drover pod carries kube-scheduler's condition; the status
  // patches are rate-limited, so poll until all have arrived.
  std::map<std::string, ServerPod> pods;
  auto explained = [&](const ServerPod& p) {
    return p.scheduled_status == "False" && p.scheduled_reason == "Unschedulable" && !p.scheduled_message.empty();
  };
  std::vector<std::string> unexplained;
  const bool all_explained = WaitUntil(
      [&] {
        absl::StatusOr<std::map<std::string, ServerPod>> got = ListServerPods(c.http());
        if (!got.ok()) return false;
        pods = std::move(*got);
        unexplained.clear();
        for (const std::string& key : too_large) {
          if (!explained(pods[key])) unexplained.push_back(key);
        }
        for (const std::string& key : capped) {
          if (pods[key].node.empty() && !explained(pods[key])) unexplained.push_back(key);
        }
        return unexplained.empty();
      },
      kBindTimeout);
  INFO(Lines(unexplained));
  REQUIRE(all_explained);

  // The message says why: no node of the type can ever hold the pod; the capped
  // queue's pods wait for its quota.
  const ServerPod& big = pods[too_large[0]];
  INFO(big.key << ": " << big.scheduled_message);
  CHECK(big.node.empty());
  CHECK(big.scheduled_message.find("can never be placed") != std::string::npos);
  CHECK(big.scheduled_message.find("no H100 node can hold") != std::string::npos);
  CHECK(big.scheduled_message.find("nvidia.com/gpu=16") != std::string::npos);
  int capped_pending = 0;
  for (const std::string& key : capped) {
    const ServerPod& p = pods[key];
    if (!p.node.empty()) {
      CHECK(p.scheduled_status == "True");  // the binding set PodScheduled=True
      continue;
    }
    ++capped_pending;
    INFO(key << ": " << p.scheduled_message);
    CHECK(p.scheduled_message.find("root.capped") != std::string::npos);
  }
  CHECK(capped_pending == static_cast<int>(capped.size()) - static_cast<int>(kCappedT4Max));

  // And a FailedScheduling event says the same.
  std::vector<std::string> events;
  REQUIRE(WaitUntil(
      [&] {
        absl::StatusOr<std::vector<std::string>> got = FailedSchedulingEvents(c.http(), big.key);
        if (got.ok()) events = std::move(*got);
        return !events.empty();
      },
      kBindTimeout));
  CHECK(events.front() == big.scheduled_message);
}

TEST_CASE("droverd_leaves_other_schedulers_and_bound_pods_untouched", "[k8s][e2e]") {
  E2eCluster c;
  c.Seed(c.workload().drover_pods);
  DroverdProcess d(c.LogPath("replica-a"));
  REQUIRE(d.Start(c.Args("replica-a")).ok());
  c.RequireAllBound();
  // Let the status patches of the pending pods drain too: a patch of the wrong
  // pod would show in CheckUntouched.
  REQUIRE(WaitUntil(
      [&] {
        absl::StatusOr<std::map<std::string, ServerPod>> pods = ListServerPods(c.http());
        if (!pods.ok()) return false;
        for (const std::string& key : Keys(c.workload(), PodRole::kTooLarge)) {
          if ((*pods)[key].scheduled_reason != "Unschedulable") return false;
        }
        return true;
      },
      kBindTimeout));
  const ServerStats s = c.Stats();
  absl::StatusOr<std::map<std::string, ServerPod>> pods = ListServerPods(c.http());
  REQUIRE(pods.ok());
  // Sanity of the setup: the other scheduler's pods are pending, the others bound.
  for (const std::string& key : Keys(c.workload(), PodRole::kOtherScheduler)) {
    CHECK((*pods)[key].scheduler == "default-scheduler");
    CHECK((*pods)[key].node.empty());
  }
  for (const std::string& key : Keys(c.workload(), PodRole::kPreBound)) CHECK_FALSE((*pods)[key].node.empty());
  c.CheckInvariants();
}

TEST_CASE("droverd_binds_every_pod_once_through_dropped_watches_410s_and_failing_binds", "[k8s][e2e][faults]") {
  E2eCluster c;
  const size_t quarter = static_cast<size_t>(c.workload().drover_pods) / 4;
  c.Seed(quarter);
  DroverdProcess d(c.LogPath("replica-a"));
  REQUIRE(d.Start(c.Args("replica-a")).ok());
  REQUIRE(WaitUntil([&] { return Progress(c.workload(), c.Stats()).schedulable_bound > 100; }, kBindTimeout));

  // Watches dropped, history compacted: the resumed watches get 410 and relist.
  // Pods added meanwhile must still be seen; the relist meets two 503s (retried).
  c.Faults(R"({"drop_watches": true, "compact": true,
               "fail_next": {"path_regex": "^/api/v1/pods$", "verb": "list", "code": 503, "count": 2}})");
  c.SeedMore(quarter);
  // Binds fail with 500 for a while, then with 429 and Retry-After, then some
  // succeed with the answer lost (a 500 after the bind was committed).
  c.Faults(R"({"bind_errors": {"code": 500, "count": 60}})");
  REQUIRE(WaitUntil([&] { return c.Stats().injected_total >= 60; }, kBindTimeout));
  c.Faults(R"({"bind_errors": {"code": 429, "count": 40, "retry_after": 1}, "drop_watches": true})");
  c.SeedMore(quarter);
  REQUIRE(WaitUntil([&] { return c.Stats().injected_total >= 100; }, kBindTimeout));
  c.Faults(R"({"bind_errors": {"code": 500, "count": 10, "after_commit": true}})");
  c.SeedMore(c.workload().drover_pods);

  c.RequireAllBound();
  c.CheckInvariants();
  const ServerStats s = c.Stats();
  CHECK(s.watches_dropped >= 2);
  CHECK(s.injected_total == 60 + 40 + 10);  // every injected bind failure was hit
  const std::string log = d.Log();
  CHECK(log.find("(410), listing again") != std::string::npos);
  CHECK(d.Running());
}

TEST_CASE("droverd_killed_and_restarted_mid_run_binds_every_pod_once", "[k8s][e2e][faults]") {
  E2eCluster c;
  const size_t half = static_cast<size_t>(c.workload().drover_pods) / 2;
  c.Seed(half);
  // Slow binds, so that some are in flight when droverd dies.
  c.Faults(R"({"latency_ms": 30, "paths": "/binding$", "methods": "POST"})");
  DroverdProcess d(c.LogPath("replica-a"));
  REQUIRE(d.Start(c.Args("replica-a")).ok());
  REQUIRE(WaitUntil([&] { return Progress(c.workload(), c.Stats()).schedulable_bound > 150; }, kBindTimeout));
  d.Signal(SIGKILL);
  REQUIRE(d.Wait(absl::Seconds(30)) == std::optional<int>(128 + SIGKILL));
  const int bound_at_kill = Progress(c.workload(), c.Stats()).schedulable_bound;
  c.SeedMore(c.workload().drover_pods);
  c.Faults(R"({"clear": true})");
  // Restarted like a container in the same pod: the same identity (POD_NAME), so
  // it holds the Lease at once.
  REQUIRE(d.Start(c.Args("replica-a")).ok());
  c.RequireAllBound();
  c.CheckInvariants();
  INFO("bound before the kill: " << bound_at_kill);
}

// Two replicas on one Lease: the one holding it binds the first half of the
// pods while the other never writes a pod; then the leader is ended by `sig`, the
// rest of the pods are created, and the standby takes over and binds them.
void RunTakeover(int sig) {
  E2eCluster c;
  const size_t half = static_cast<size_t>(c.workload().drover_pods) / 2;
  c.Seed(half);
  DroverdProcess a(c.LogPath("replica-a"));
  DroverdProcess b(c.LogPath("replica-b"));
  REQUIRE(a.Start(c.Args("replica-a")).ok());
  REQUIRE(b.Start(c.Args("replica-b")).ok());
  REQUIRE(WaitUntil([&] { return Progress(c.workload(), c.Stats()).schedulable_bound >= 400; }, kBindTimeout));
  const std::string leader = LeaseHolder(c.http());
  REQUIRE((leader == "replica-a" || leader == "replica-b"));
  const std::string standby = leader == "replica-a" ? "replica-b" : "replica-a";
  DroverdProcess& lp = leader == "replica-a" ? a : b;
  DroverdProcess& sp = leader == "replica-a" ? b : a;
  ServerStats s = c.Stats();
  CHECK(BindRequestsOf(s, leader) >= 400);
  CHECK(BindRequestsOf(s, standby) == 0);
  CHECK(PodWritesOf(s, standby) == 0);  // no binds, status patches or events
  CHECK(sp.Running());
  // Each says once what it is: the leader, and the standby that waits (both run from a kubeconfig, as on a laptop).
  auto count = [](const std::string& log, std::string_view what) {
    int n = 0;
    for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  const std::string standing_by = StrCat("is held by ", leader, "; ", standby, " stands by");
  CHECK(WaitUntil([&] { return count(sp.Log(), standing_by) > 0; }, kBindTimeout));
  const std::string leader_log = lp.Log(), standby_log = sp.Log();
  INFO("standby log:\n" << standby_log);
  CHECK(count(leader_log, "is now the leader") == 1);
  CHECK(count(standby_log, standing_by) == 1);
  CHECK(count(standby_log, "droverd runs outside the cluster") == 1);

  CHECK(PodWritesOf(c.Stats(), standby) == 0);  // still nothing, just before the leader is stopped
  lp.Signal(sig);
  const std::optional<int> code = lp.Wait(absl::Seconds(30));
  INFO("leader exit code " << code.value_or(-1) << "; log:\n" << lp.Log());
  REQUIRE(code == std::optional<int>(sig == SIGTERM ? 0 : 128 + sig));
  // No check of the standby's binds here: once the leader has exited (and, on
  // SIGTERM, released the Lease) the standby may lead and bind the first half's
  // stragglers at once. That it bound nothing while the other led is checked
  // above, before the signal.
  // Pods created now can only be bound by the standby.
  int created_after = 0;
  for (size_t i = c.seeded(); i < static_cast<size_t>(c.workload().drover_pods); ++i) {
    created_after += c.workload().pods[i].role == PodRole::kSchedulable ? 1 : 0;
  }
  c.SeedMore(c.workload().drover_pods);
  REQUIRE(WaitUntil([&] { return LeaseHolder(c.http()) == standby; }, kBindTimeout));
  c.RequireAllBound();
  c.CheckInvariants();
  CHECK(BindRequestsOf(c.Stats(), standby) >= created_after);
  CHECK(sp.Running());
}

TEST_CASE("droverd_standby_replica_never_binds_and_takes_over_when_leader_stops", "[k8s][e2e][leader]") {
  RunTakeover(SIGTERM);  // the leader releases the Lease: the standby takes it within a retry period
}

TEST_CASE("droverd_standby_replica_takes_over_when_leader_is_killed", "[k8s][e2e][leader]") {
  RunTakeover(SIGKILL);  // no release: the standby waits out the 15 s lease
}

}  // namespace
}  // namespace drover::k8s::testing
