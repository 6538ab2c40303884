// The Preemptor on its own, on a snapshot and queue tree built here: the smallest
// victim set for a single pod and for a gang (one search), the rule that a gang
// member may land without victims while a single pod's node must give some up,
// the history that keeps pods out of victim sets, and evictions under way.
#include "placement/preemptor.h"

#include "tests/placement/bare_cluster.h"

using namespace drover;
using namespace drover::testing;

namespace {

// team-b runs on all 16 A100 (8 borrowed): a100-0 holds four 2-GPU pods, a100-1
// one 4-GPU pod and 4 GPUs of Tier 0. The cheapest room for 4 GPUs is b4 alone.
void FillTeamB(BareCluster* c) {
  c->AddNode(GpuNode("a100-0", kA100, 8));
  c->AddNode(GpuNode("a100-1", kA100, 8));
  for (int i = 0; i < 4; ++i) c->Run(GpuPod("b2-" + std::to_string(i), "team-b", 2, "", 1), "a100-0", 1000 * i);
  c->Run(GpuPod("b4", "team-b", 4, "", 1), "a100-1", 500);
  c->Run(GpuPod("b-t0", "team-b", 4, "", 0), "a100-1", 0);
}

}  // namespace

TEST_CASE("preemptor_single_pod_takes_the_node_with_fewest_victims", "[placement][preemptor]") {
  BareCluster c(kTwoTeamsAndScratch);
  FillTeamB(&c);
  Preemptor p({});
  const Pod a = Decoded(GpuPod("a", "team-a", 4));
  std::optional<PreemptionPlan> plan = p.Search(c.View(), c.Request({&a}, true), 10000);
  REQUIRE(plan);
  CHECK(plan->victims == std::vector<std::string>{"ns/b4"});
  REQUIRE(plan->member_nodes.size() == 1);
  CHECK(c.NodeName(plan->member_nodes[0]) == "a100-1");
  CHECK(c.catalog.type(plan->type).name == "A100");

  SECTION("a node held for another workload is passed over") {
    const NodeId held = c.snap.FindNode("a100-1");
    plan = p.Search(c.View([&](NodeId id) { return id == held; }), c.Request({&a}, true), 10000);
    REQUIRE(plan);
    CHECK(c.NodeName(plan->member_nodes[0]) == "a100-0");
    CHECK(plan->victims.size() == 2);  // two 2-GPU pods, the youngest first
    CHECK(plan->victims[0] == "ns/b2-3");
    CHECK(plan->victims[1] == "ns/b2-2");
  }
  SECTION("a queue beyond its guaranteed reclaims nothing") {
    const Pod other = Decoded(GpuPod("other", "team-a", 4));
    PreemptionRequest r = c.Request({&other}, true);
    r.nominated_gpu = [](int) { return int64_t{6000}; };  // 6 GPUs already held for team-a's other preemptors
    CHECK_FALSE(p.Search(c.View(), r, 10000));
  }
}

TEST_CASE("preemptor_gang_members_share_the_room_freed_for_the_first", "[placement][preemptor]") {
  BareCluster c(kTwoTeamsAndScratch);
  c.AddNode(GpuNode("a100-0", kA100, 8));
  c.AddNode(GpuNode("a100-1", kA100, 8));
  c.Run(GpuPod("b-0", "team-b", 8, "", 1), "a100-0", 0);
  c.Run(GpuPod("b-1", "team-b", 8, "", 1), "a100-1", 100);
  Preemptor p({});
  const Pod m0 = Decoded(GangMember("g", 0, 2, "team-a", 4));
  const Pod m1 = Decoded(GangMember("g", 1, 2, "team-a", 4));
  std::optional<PreemptionPlan> plan = p.Search(c.View(), c.Request({&m0, &m1}, false), 10000);
  REQUIRE(plan);
  // One victim frees 8 GPUs: the second member fits where the first was placed,
  // and team-b keeps its guaranteed 8 (the other pod is no reclaim victim anyway).
  REQUIRE(plan->victims.size() == 1);
  REQUIRE(plan->member_nodes.size() == 2);
  CHECK(plan->member_nodes[0] == plan->member_nodes[1]);
  CHECK(c.NodeName(plan->member_nodes[0]) == (plan->victims[0] == "ns/b-0" ? "a100-0" : "a100-1"));

  SECTION("a gang beyond its queue's guaranteed finds no victims") {
    const Pod w0 = Decoded(GangMember("w", 0, 2, "team-a", 8));
    const Pod w1 = Decoded(GangMember("w", 1, 2, "team-a", 8));
    CHECK_FALSE(p.Search(c.View(), c.Request({&w0, &w1}, false), 10000));
  }
}

TEST_CASE("preemptor_single_pod_node_gives_up_a_victim_where_a_gang_member_would_just_fit", "[placement][preemptor]") {
  // q is at its max (8 A100): a Tier 1 pod fits on the empty node but its queue
  // refuses it; only the Tier 2 pod of q leaving makes room in the quota.
  BareCluster c(R"(
queues:
  children:
    - name: q
      guaranteed: {gpu: {A100: 8}}
      max: {gpu: {A100: 8}}
)");
  c.AddNode(GpuNode("a100-0", kA100, 8));
  c.AddNode(GpuNode("a100-1", kA100, 8));
  c.Run(GpuPod("t2", "q", 4, "", 2), "a100-0", 0);
  c.Run(GpuPod("t1", "q", 4, "", 1), "a100-0", 0);
  Preemptor p({});
  const Pod pod = Decoded(GpuPod("p", "q", 4, "", 1));
  std::optional<PreemptionPlan> single = p.Search(c.View(), c.Request({&pod}, true), 10000);
  REQUIRE(single);
  CHECK(single->victims == std::vector<std::string>{"ns/t2"});
  CHECK(c.NodeName(single->member_nodes[0]) == "a100-0");
  // As a gang member it lands on the empty node without victims: nothing to preempt.
  CHECK_FALSE(p.Search(c.View(), c.Request({&pod}, false), 10000));
}

TEST_CASE("preemptor_history_keeps_pods_out_of_victim_sets", "[placement][preemptor]") {
  BareCluster c(kTwoTeamsAndScratch);
  FillTeamB(&c);
  Preemptor p({.max_preemptions_per_pod = 2, .pdb_backoff_ms = 60000, .forget_preempted_after_ms = 3600000});
  const Pod a = Decoded(GpuPod("a", "team-a", 4));
  auto victims = [&](int64_t now) {
    std::optional<PreemptionPlan> plan = p.Search(c.View(), c.Request({&a}, true), now);
    return plan ? plan->victims : std::vector<std::string>{};
  };
  p.NoteEvicted("ns/b4", 0);
  CHECK(victims(1000) == std::vector<std::string>{"ns/b4"});
  p.NoteEvicted("ns/b4", 0);  // preempted twice: the limit
  CHECK(p.PreemptedCount("ns/b4") == 2);
  CHECK(victims(1000).size() == 2);  // two 2-GPU pods on a100-0 instead
  p.NoteEvictionRefused("ns/b4", /*blocked=*/false, 1000);  // one did not happen
  CHECK(p.PreemptedCount("ns/b4") == 1);
  CHECK(victims(1000) == std::vector<std::string>{"ns/b4"});
  p.NoteEvictionRefused("ns/b4", /*blocked=*/true, 1000);  // a PDB refused it: backed off
  CHECK(p.PreemptedCount("ns/b4") == 0);
  CHECK(victims(60999).size() == 2);
  CHECK(victims(61000) == std::vector<std::string>{"ns/b4"});
  CHECK(p.retained() == 1);  // the back-off
  p.NoteEvicted("ns/gone", 0);
  p.Prune(61000, [](const std::string& k) { return k != "ns/gone"; });
  CHECK(p.retained() == 1);  // ns/gone was preempted less than an hour ago
  p.Prune(3600000, [](const std::string& k) { return k != "ns/gone"; });
  CHECK(p.retained() == 0);
}

TEST_CASE("preemptor_counts_evictions_under_way_on_every_ancestor", "[placement][preemptor]") {
  BareCluster c(kTwoTeamsAndScratch);
  FillTeamB(&c);
  Preemptor p({});
  TrackedPod& b4 = c.pods["ns/b4"];
  const int dim = QGpu(b4.charge.gpu_type);
  p.NoteEvicting(c.tree, b4, true);
  CHECK(b4.evicting);
  CHECK(p.EvictingGpu(b4.leaf, dim) == 4000);
  CHECK(p.EvictingGpu(0, dim) == 4000);  // the root
  // A pod being evicted is no victim; team-b, counting it gone, has 4 GPUs left to
  // give above its guaranteed: two 2-GPU pods on a100-0 (a100-1, where b4 leaves,
  // is held for the preemptor it leaves for).
  const Pod a = Decoded(GpuPod("a", "team-a", 4));
  const NodeId held = c.snap.FindNode("a100-1");
  std::optional<PreemptionPlan> plan =
      p.Search(c.View([&](NodeId id) { return id == held; }), c.Request({&a}, true), 10000);
  REQUIRE(plan);
  CHECK(plan->victims.size() == 2);
  CHECK(plan->leaving.empty());
  // Held for nobody (its preemptor went elsewhere), the space b4 leaves is counted
  // on: no new victim for it.
  plan = p.Search(c.View(), c.Request({&a}, true), 10000);
  REQUIRE(plan);
  CHECK(plan->victims.empty());
  CHECK(plan->leaving == std::vector<std::string>{"ns/b4"});
  CHECK(c.NodeName(plan->member_nodes[0]) == "a100-1");
  p.NoteEvicting(c.tree, b4, false);
  CHECK(p.EvictingGpu(b4.leaf, dim) == 0);
}
