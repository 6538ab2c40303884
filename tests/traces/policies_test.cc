#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/snapshot.h"
#include "placement/policy.h"
#include "tests/traces/policy_cluster.h"

namespace drover {
namespace {

using Cluster = PolicyCluster;

std::unique_ptr<ScoringPolicy> Make(const std::string& name, uint64_t seed = 1) {
  auto p = MakePolicy(name, seed);
  REQUIRE(p.ok());
  return *std::move(p);
}

// The node the policy scores highest among `nodes` (ties: the first).
NodeId Best(ScoringPolicy* policy, const Pod& pod, const Snapshot& snap, const std::vector<NodeId>& nodes,
            std::vector<int>* devices = nullptr) {
  NodeId best = kNoNode;
  double best_score = 0;
  std::vector<int> d;
  for (NodeId id : nodes) {
    const double s = policy->Score(pod, id, snap, &d);
    if (best == kNoNode || s > best_score) {
      best = id;
      best_score = s;
      if (devices != nullptr) *devices = d;
    }
  }
  return best;
}

TEST_CASE("policy_names_all_construct_and_unknown_is_an_error", "[policy]") {
  for (const std::string& name : PolicyNames()) CHECK(Make(name)->name() == name);
  auto bad = MakePolicy("tetris");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("\"tetris\" is unknown") != std::string::npos);
}

TEST_CASE("binpack_picks_the_fullest_node_and_the_lowest_adequate_gpu_rank", "[policy][binpack]") {
  Cluster c;
  const NodeId a100 = c.AddNode("a100", "NVIDIA-A100-SXM4-80GB", 4);
  const NodeId t4_empty = c.AddNode("t4-empty", "Tesla-T4", 4);
  const NodeId t4_busy = c.AddNode("t4-busy", "Tesla-T4", 4);
  c.Use("t4-busy", 0, 1000);
  c.Use("t4-busy", 1, 1000);
  c.Use("a100", 0, 1000);
  c.Use("a100", 1, 1000);
  c.Use("a100", 2, 1000);
  auto binpack = Make("binpack");
  const Pod one = Cluster::MakePod("one", 1000, 1, 1000);
  std::vector<int> devices;
  // The A100 node is the fullest, but T4 is the lowest rank that fits: T4 first, fullest T4.
  CHECK(Best(binpack.get(), one, c.snap(), {a100, t4_empty, t4_busy}, &devices) == t4_busy);
  CHECK(devices == std::vector<int>{2});
  CHECK(Best(binpack.get(), one, c.snap(), {a100, t4_empty}) == t4_empty);
  // Within one type, the fullest node.
  CHECK(Best(binpack.get(), one, c.snap(), {t4_empty, t4_busy}) == t4_busy);
  // A shared GPU goes to the fullest device that fits.
  c.Use("t4-empty", 3, 700);
  c.Use("t4-empty", 1, 300);
  const Pod share = Cluster::MakePod("share", 1000, 1, 250);
  CHECK(Best(binpack.get(), share, c.snap(), {t4_empty}, &devices) == t4_empty);
  CHECK(devices == std::vector<int>{3});
}

TEST_CASE("binpack_keeps_cpu_pods_off_idle_gpu_nodes", "[policy][binpack]") {
  Cluster c;
  const NodeId cpu = c.AddNode("cpu", "", 0);
  const NodeId idle = c.AddNode("idle", "Tesla-T4", 2);
  const NodeId busy = c.AddNode("busy", "Tesla-T4", 2);
  c.Use("busy", 0, 1000);
  c.Use("busy", 1, 1000);
  auto binpack = Make("binpack");
  const Pod p = Cluster::MakePod("cpu-pod", 4000, 0, 0);
  CHECK(Best(binpack.get(), p, c.snap(), {idle, busy, cpu}) == cpu);
  CHECK(Best(binpack.get(), p, c.snap(), {idle, busy}) == busy);
}

TEST_CASE("spread_picks_the_emptiest_node", "[policy][spread]") {
  Cluster c;
  const NodeId busy = c.AddNode("busy", "Tesla-T4", 4);
  const NodeId empty = c.AddNode("empty", "Tesla-T4", 4);
  const NodeId half = c.AddNode("half", "Tesla-T4", 4);
  c.Use("busy", 0, 1000, 30000);
  c.Use("busy", 1, 1000, 20000);
  c.Use("half", 2, 500, 8000);
  auto spread = Make("spread");
  std::vector<int> devices;
  CHECK(Best(spread.get(), Cluster::MakePod("p", 1000, 1, 1000), c.snap(), {busy, half, empty}) == empty);
  CHECK(Best(spread.get(), Cluster::MakePod("p", 1000, 1, 300), c.snap(), {busy, half}, &devices) == half);
  CHECK(devices != std::vector<int>{2});  // spreads onto an untouched device
}

TEST_CASE("every_policy_returns_valid_devices", "[policy]") {
  Cluster c;
  const NodeId n = c.AddNode("n", "Tesla-T4", 8);
  c.Use("n", 0, 1000);
  c.Use("n", 1, 600);
  c.Use("n", 3, 950);
  c.Use("n", 6, 200);
  const std::vector<Pod> pods = {Cluster::MakePod("s", 1000, 1, 400), Cluster::MakePod("w1", 1000, 1, 1000),
                                 Cluster::MakePod("w4", 1000, 4, 1000), Cluster::MakePod("c", 1000, 0, 0)};
  for (const std::string& name : PolicyNames()) {
    auto policy = Make(name, 3);
    for (const Pod& p : pods) policy->Observe(p);
    for (const Pod& p : pods) {
      std::vector<int> devices = {99};
      policy->Score(p, n, c.snap(), &devices);
      INFO(name << " " << p.name);
      REQUIRE(static_cast<int>(devices.size()) == p.gpu_devices);
      for (int d : devices) {
        REQUIRE(d >= 0);
        REQUIRE(d < 8);
        CHECK(1000 - c.snap().node(n).device_used[d] >= p.gpu_milli_per_device);
        CHECK(std::count(devices.begin(), devices.end(), d) == 1);
      }
    }
  }
}

TEST_CASE("fgd_prefers_the_placement_that_leaves_less_fragmentation", "[policy][fgd]") {
  // Node a has 500 free on its only GPU, node b a whole free GPU. The workload is
  // mostly 0.6-GPU pods. A 0.5-GPU pod on a fills its useless 500-milli sliver; on b
  // it would leave a new 500-milli sliver that 0.6-GPU pods cannot use. Spread picks b.
  Cluster c;
  const NodeId a = c.AddNode("a", "Tesla-T4", 1);
  const NodeId b = c.AddNode("b", "Tesla-T4", 1);
  c.Use("a", 0, 500);
  const Pod pod = Cluster::MakePod("p", 1000, 1, 500);
  for (const char* name : {"fgd", "drover-frag"}) {
    auto policy = Make(name);
    for (int i = 0; i < 10; ++i) policy->Observe(Cluster::MakePod(absl::StrCat("q", i), 1000, 1, 600));
    policy->Observe(pod);
    std::vector<int> devices;
    INFO(name);
    const double sa = policy->Score(pod, a, c.snap(), &devices);
    CHECK(devices == std::vector<int>{0});
    const double sb = policy->Score(pod, b, c.snap(), &devices);
    CHECK(sa > sb + 1.0);
  }
  CHECK(Best(Make("spread").get(), pod, c.snap(), {a, b}) == b);
}

TEST_CASE("fgd_picks_the_device_that_leaves_less_fragmentation", "[policy][fgd]") {
  // Devices with 700 and 1000 free; the workload is 0.3-GPU and whole-GPU pods.
  // A 0.4-GPU pod on device 0 (700 -> 300) keeps device 1 whole for 1-GPU pods.
  Cluster c;
  const NodeId n = c.AddNode("n", "Tesla-T4", 2);
  c.Use("n", 0, 300);
  const Pod pod = Cluster::MakePod("p", 1000, 1, 400);
  for (const char* name : {"fgd", "drover-frag"}) {
    auto policy = Make(name);
    for (int i = 0; i < 5; ++i) policy->Observe(Cluster::MakePod(absl::StrCat("w", i), 1000, 1, 1000));
    for (int i = 0; i < 5; ++i) policy->Observe(Cluster::MakePod(absl::StrCat("s", i), 1000, 1, 300));
    std::vector<int> devices;
    policy->Score(pod, n, c.snap(), &devices);
    INFO(name);
    CHECK(devices == std::vector<int>{0});
  }
}

TEST_CASE("drover_frag_keeps_scarce_gpu_types_for_the_pods_that_need_them", "[policy][fgd]") {
  // 2 T4s (one taken) against 16 A100s (14 taken). Seen so far: 3 T4-only pods, 5
  // A100-only pods. A pod that runs anywhere: FGD fills the T4 (the A100-only pods
  // cannot use it, so its idle GPU counts as fragment); drover-frag weighs T4-only
  // pods 9x (18 GPUs / 2 they can use) and keeps the last T4 for them.
  Cluster c;
  const NodeId t4 = c.AddNode("t4", "Tesla-T4", 2);
  const NodeId a100 = c.AddNode("a100", "NVIDIA-A100-SXM4-80GB", 8);
  c.AddNode("a100-full", "NVIDIA-A100-SXM4-80GB", 8);
  c.Use("t4", 0, 1000);
  for (int d = 0; d < 6; ++d) c.Use("a100", d, 1000);
  for (int d = 0; d < 8; ++d) c.Use("a100-full", d, 1000);
  const Pod pod = Cluster::MakePod("any", 1000, 1, 1000);
  auto observe = [&](ScoringPolicy* p) {
    for (int i = 0; i < 3; ++i) p->Observe(Cluster::MakePod(absl::StrCat("t", i), 1000, 1, 1000, "T4"));
    for (int i = 0; i < 5; ++i) p->Observe(Cluster::MakePod(absl::StrCat("a", i), 1000, 1, 1000, "A100"));
    p->Observe(pod);
  };
  auto fgd = Make("fgd");
  observe(fgd.get());
  CHECK(Best(fgd.get(), pod, c.snap(), {t4, a100}) == t4);
  auto ours = Make("drover-frag");
  observe(ours.get());
  CHECK(Best(ours.get(), pod, c.snap(), {t4, a100}) == a100);
}

}  // namespace
}  // namespace drover
