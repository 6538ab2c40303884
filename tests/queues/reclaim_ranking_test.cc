// Reclaim (queues/README.md, "Reclaim and preemption"): a queue below its
// guaranteed takes back borrowed capacity; victims are ranked Tier 2 before
// Tier 1, then youngest first; Tier 0 is never a victim, and a queue is never
// pushed below its guaranteed.
#include <catch2/catch.hpp>

#include "tests/queues/engine_harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

constexpr const char* kTwoTeams = R"(
queues:
  children:
    - name: lender
      guaranteed: {gpu: {A100: 4}}
    - name: claimer
      guaranteed: {gpu: {A100: 16}}
)";

// Submits one pod and runs cycles until nothing changes; returns every eviction.
std::vector<std::string> Reclaim(Harness& h, const Pod& pod, int64_t now_ms) {
  h.Submit(pod, now_ms);
  std::vector<std::string> evicted;
  for (int i = 0; i < 3; ++i) {
    Decisions d = h.Cycle(now_ms + i);
    for (const Eviction& e : d.evictions) {
      CHECK(e.preemptor_key == pod.Key());
      CHECK(e.reason.find("to reclaim A100 guaranteed to queue root.claimer") != std::string::npos);
      evicted.push_back(e.pod_key);
    }
  }
  return evicted;
}

}  // namespace

TEST_CASE("reclaim_takes_borrowed_pods_tier2_first_then_the_youngest_and_never_tier0", "[queues][reclaim]") {
  Harness h(kTwoTeams, PreemptAtOnce());
  for (int i = 0; i < 6; ++i) h.AddNode(GpuNode("a100-" + std::to_string(i), kA100, 4));  // 24 A100
  // lender fills the cluster, one 4-GPU pod per node, started one second apart:
  // 4 within its guaranteed (tier 0), 20 borrowed.
  struct Run {
    const char* name;
    int tier;
  };
  const Run runs[] = {{"t0", 0}, {"t1-old", 1}, {"t2-old", 2}, {"t1-mid", 1}, {"t2-young", 2}, {"t1-young", 1}};
  int64_t now = 1000;
  for (const Run& r : runs) {
    h.Submit(GpuPod(r.name, "root.lender", 4, "A100", r.tier), now);
    h.Cycle(now);
    REQUIRE_FALSE(h.NodeOf(std::string("ns/") + r.name).empty());
    now += 1000;
  }
  REQUIRE(h.Usage("root.lender", "A100") == 24000);
  // claimer asks for its guaranteed 16, one 4-GPU pod at a time. Expected order:
  // Tier 2 youngest, Tier 2 older, then Tier 1 youngest, Tier 1 next youngest.
  const char* expected[] = {"ns/t2-young", "ns/t2-old", "ns/t1-young", "ns/t1-mid"};
  for (int i = 0; i < 4; ++i) {
    const Pod p = GpuPod("c" + std::to_string(i), "root.claimer", 4, "A100", 1);
    const std::vector<std::string> evicted = Reclaim(h, p, now);
    INFO("claimer pod " << i);
    CHECK(evicted == std::vector<std::string>{expected[i]});
    CHECK_FALSE(h.NodeOf(p.Key()).empty());  // the freed node was held for it
    now += 10000;
  }
  CHECK(h.Usage("root.claimer", "A100") == 16000);
  CHECK(h.Usage("root.lender", "A100") == 8000);
  // claimer is at its guaranteed: a fifth pod may not reclaim; lender keeps its
  // Tier 0 pod and its oldest borrowed pod.
  const Pod fifth = GpuPod("c4", "root.claimer", 4, "A100", 1);
  CHECK(Reclaim(h, fifth, now).empty());
  CHECK(h.NodeOf("ns/c4").empty());
  CHECK_FALSE(h.NodeOf("ns/t0").empty());
  CHECK_FALSE(h.NodeOf("ns/t1-old").empty());
}

TEST_CASE("reclaim_never_evicts_tier0_even_when_it_is_the_only_way", "[queues][reclaim]") {
  Harness h(kTwoTeams, PreemptAtOnce());
  h.AddNode(GpuNode("a100-0", kA100, 4));
  h.AddNode(GpuNode("a100-1", kA100, 4));
  h.Submit(GpuPod("t0", "root.lender", 4, "A100", 0), 1000);
  h.Cycle(1000);
  h.Submit(GpuPod("t1", "root.lender", 4, "A100", 1), 2000);
  h.Cycle(2000);
  REQUIRE(h.NodeOf("ns/t0") == "a100-0");
  REQUIRE(h.NodeOf("ns/t1") == "a100-1");
  // lender is 4 over its guaranteed, so by the numbers either pod is borrowed; the
  // claimer's pod can only go to a100-0, where the only pod is Tier 0.
  Pod p = GpuPod("c", "root.claimer", 4, "A100", 1);
  p.node_selector.Set("kubernetes.io/hostname", "a100-0");
  const std::vector<std::string> evicted = Reclaim(h, p, 3000);
  CHECK(evicted.empty());
  CHECK(h.NodeOf("ns/t0") == "a100-0");
  CHECK(h.NodeOf("ns/c").empty());
  // Without the selector it reclaims the Tier 1 pod.
  Pod q = GpuPod("d", "root.claimer", 4, "A100", 1);
  CHECK(Reclaim(h, q, 4000) == std::vector<std::string>{"ns/t1"});
}

TEST_CASE("reclaim_on_one_node_takes_the_shortest_prefix_of_the_ranking", "[queues][reclaim]") {
  Harness h(R"(
queues:
  children:
    - name: lender
    - name: claimer
      guaranteed: {gpu: {A100: 8}}
)", PreemptAtOnce());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  const char* names[] = {"t1-old", "t2-old", "t1-young", "t2-young"};
  const int tiers[] = {1, 2, 1, 2};
  for (int i = 0; i < 4; ++i) {
    h.Submit(GpuPod(names[i], "root.lender", 2, "A100", tiers[i]), 1000 * (i + 1));
    h.Cycle(1000 * (i + 1));
  }
  REQUIRE(h.Usage("root.lender", "A100") == 8000);
  // 2 GPUs: the youngest Tier 2 pod alone is enough.
  CHECK(Reclaim(h, GpuPod("c2", "root.claimer", 2, "A100"), 10000) == std::vector<std::string>{"ns/t2-young"});
  // 4 GPUs: the next two of the ranking (the other Tier 2, then the youngest Tier 1).
  std::vector<std::string> evicted = Reclaim(h, GpuPod("c4", "root.claimer", 4, "A100"), 20000);
  std::sort(evicted.begin(), evicted.end());
  CHECK(evicted == std::vector<std::string>{"ns/t1-young", "ns/t2-old"});
  CHECK(h.NodeOf("ns/t1-old") == "a100-0");
  CHECK(h.Usage("root.claimer", "A100") == 6000);
}
