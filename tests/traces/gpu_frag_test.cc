// gpu-frag: its large-pod term (placement/headroom.h), its scoring, and its fast path
// (placement/node_classes.h) against a brute-force full scan on random clusters.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/rng.h"
#include "core/snapshot.h"
#include "placement/headroom.h"
#include "placement/policy.h"
#include "sim/fill.h"
#include "tests/traces/policy_cluster.h"

namespace drover {
namespace {

using Cluster = PolicyCluster;

std::unique_ptr<ScoringPolicy> GpuFrag() {
  auto p = MakePolicy("gpu-frag");
  REQUIRE(p.ok());
  return *std::move(p);
}

frag::WeightedShape Whole(int devices, double weight) {
  frag::Shape s;
  s.cpu_milli = 1000;
  s.gpu_devices = devices;
  s.milli_per_device = 1000;
  return frag::WeightedShape{s, weight};
}

TEST_CASE("headroom_charges_a_broken_block_only_while_large_pods_are_short_of_their_share", "[policy][gpu-frag]") {
  Cluster c(nullptr);
  LargePodHeadroom h;
  c.WatchHeadroom(&h);
  c.AddNode("a", "Tesla-T4", 8);
  c.AddNode("b", "Tesla-T4", 8);
  const GpuTypeId t4 = c.snap().node(c.snap().FindNode("a")).node.gpu_type;
  // Half the GPU demand is 8-GPU pods (one 8-GPU pod per eight 1-GPU pods).
  h.SetDemand({Whole(1, 8), Whole(8, 1)});
  // 16 GPUs free, all in blocks of 8: breaking one block of 8 with a 1-GPU pod
  // leaves 8 in blocks against a need of 0.5 x 15: no loss yet.
  CHECK(h.Penalty(t4, 8, 7, 1000, 1) == 0);
  // Break node a: 8 left in blocks, 15 free. Breaking b too leaves 0 in blocks
  // against a need of 0.5 x 14 = 7 GPUs: the loss is 7000 milli (not the whole 8000:
  // only the shortfall it creates).
  c.Use("a", 0, 1000);
  CHECK(h.Penalty(t4, 8, 7, 1000, 1) == Approx(7000));
  // A move that breaks no block costs nothing; a 2-GPU shape's blocks are unknown.
  CHECK(h.Penalty(t4, 7, 7, 500, 0) == 0);
  CHECK(h.Penalty(t4, 8, 8, 0, 0) == 0);
  // An 8-GPU pod filling a block serves the demand the block was kept for.
  CHECK(h.Penalty(t4, 8, 0, 8000, 8) == 0);
  // Without large shapes in the demand, nothing is protected.
  h.SetDemand({Whole(1, 1)});
  CHECK(h.Penalty(t4, 8, 7, 1000, 1) == 0);
}

TEST_CASE("gpu_frag_keeps_the_last_whole_node_for_the_8_gpu_demand", "[policy][gpu-frag]") {
  auto policy = GpuFrag();
  Cluster c(policy.get());
  const NodeId whole = c.AddNode("whole", "Tesla-T4", 8);
  const NodeId partial = c.AddNode("partial", "Tesla-T4", 8);
  for (int d = 0; d < 6; ++d) c.Use("partial", d, 1000);
  // The demand seen: 8-GPU pods carry most of the GPUs, 1-GPU pods are most pods.
  for (int i = 0; i < 40; ++i) policy->Observe(Cluster::MakePod(absl::StrCat("one-", i), 1000, 1, 1000));
  for (int i = 0; i < 10; ++i) policy->Observe(Cluster::MakePod(absl::StrCat("eight-", i), 1000, 8, 1000));
  const Pod one = Cluster::MakePod("one", 1000, 1, 1000);
  std::vector<int> devices;
  const double on_whole = policy->Score(one, whole, c.snap(), &devices);
  const double on_partial = policy->Score(one, partial, c.snap(), &devices);
  CHECK(on_partial > on_whole);
  CHECK(devices == std::vector<int>{6});
  // The ranked path gives the same node first.
  NodeId first = kNoNode;
  REQUIRE(policy->VisitRanked(one, kAnyGpuType, c.snap(), [&](NodeId id) {
    first = id;
    return false;
  }));
  CHECK(first == partial);
  // An 8-GPU pod fits only the whole node; CPU-only pods are not ranked.
  const Pod eight = Cluster::MakePod("eight", 1000, 8, 1000);
  CHECK(policy->Score(eight, partial, c.snap(), &devices) <= -1e12);
  CHECK_FALSE(policy->VisitRanked(Cluster::MakePod("cpu", 1000, 0, 0), kAnyGpuType, c.snap(), [](NodeId) { return true; }));
}

TEST_CASE("gpu_frag_ranked_path_chooses_what_a_full_scan_chooses", "[policy][gpu-frag][property]") {
  const std::vector<std::pair<std::string, int>> specs = {
      {"Tesla-T4", 2}, {"Tesla-T4", 4}, {"NVIDIA-A100-SXM4-80GB", 8}, {"NVIDIA-A100-SXM4-80GB", 4}};
  const int milli_choices[] = {1000, 1000, 1000, 500, 250, 300, 700};
  const int devices_choices[] = {1, 1, 1, 2, 4, 8};
  int compared = 0, placed = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    auto policy = GpuFrag();
    Cluster c(policy.get());
    Rng rng(seed);
    const int nodes = 20 + static_cast<int>(rng.Below(40));
    for (int i = 0; i < nodes; ++i) {
      const auto& [product, gpus] = specs[rng.Below(specs.size())];
      // Few CPU sizes, so many nodes share a state and classes hold several nodes.
      c.AddNode(absl::StrCat("n", i), product, gpus, 32000 * (1 + static_cast<int64_t>(rng.Below(2))));
    }
    const GpuTypeId a100 = c.catalog().TypeForProduct("NVIDIA-A100-SXM4-80GB");
    for (int p = 0; p < 300; ++p) {
      const int devices = devices_choices[rng.Below(6)];
      const int milli = devices == 1 ? milli_choices[rng.Below(7)] : 1000;
      const bool a100_only = rng.Below(4) == 0;
      Pod pod = Cluster::MakePod(absl::StrCat("p", seed, "-", p), 1000 * (1 + static_cast<int64_t>(rng.Below(8))),
                                 devices, milli, a100_only ? "A100" : "");
      const GpuTypeMask types = a100_only ? GpuTypeMask{1} << a100 : kAnyGpuType;
      policy->Observe(pod);
      // Brute force: every feasible node scored, ties to the lower id.
      NodeId brute = kNoNode;
      double brute_score = 0;
      std::vector<int> devices_out;
      for (NodeId id = 0; id < c.snap().node_slots(); ++id) {
        const NodeState& st = c.snap().node(id);
        if (!st.present || !fill::FitsNode(pod, types, st)) continue;
        const double s = policy->Score(pod, id, c.snap(), &devices_out);
        if (brute == kNoNode || s > brute_score) {
          brute = id;
          brute_score = s;
        }
      }
      NodeId fast = kNoNode;
      REQUIRE(policy->VisitRanked(pod, types, c.snap(), [&](NodeId id) {
        if (!fill::FitsNode(pod, types, c.snap().node(id))) return true;
        fast = id;
        return false;
      }));
      INFO("seed " << seed << " pod " << p);
      REQUIRE(fast == brute);
      ++compared;
      if (fast == kNoNode) continue;
      REQUIRE(policy->Score(pod, fast, c.snap(), &devices_out) > -1e12);
      c.snap().UpsertPod(pod);
      REQUIRE(c.snap().Assume(pod.Key(), fast, devices_out).ok());
      ++placed;
      // Now and then a pod leaves, so classes also merge back.
      if (rng.Below(5) == 0) c.snap().DeletePod(absl::StrCat("t/p", seed, "-", rng.Below(p + 1)));
    }
  }
  CHECK(compared == 12 * 300);
  CHECK(placed > 1000);  // the runs reach full clusters and keep placing after deletions
}

}  // namespace
}  // namespace drover
