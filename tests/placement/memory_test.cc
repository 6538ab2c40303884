// Bounded memory: per-pod state that outlives pods (preemption counts, PDB
// back-offs) is pruned once it can no longer matter.
#include "tests/placement/harness.h"

using namespace drover;
using namespace drover::testing;

TEST_CASE("preemption_counts_and_pdb_backoffs_are_pruned", "[placement][memory]") {
  EngineOptions o = PreemptAtOnce();
  o.reservation_after_ms = 0;
  Harness h(kTwoTeamsAndScratch, o);
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  // team-b runs 12 A100, 4 above its guaranteed 8: one of its pods may be reclaimed.
  h.AddRunning(GpuPod("b0", "team-b", 4, "", 1), "a100-0");
  h.AddRunning(GpuPod("b1", "team-b", 4, "", 1), "a100-0");
  h.AddRunning(GpuPod("b2", "team-b", 4, "", 1), "a100-1");
  h.AddRunning(GpuPod("s", "scratch", 4, "", 1), "a100-1");
  h.AddPod(GpuPod("a", "team-a", 4));
  Decisions d = h.engine->RunCycle(h.now_ms);
  REQUIRE(d.evictions.size() == 1);
  const std::string refused = d.evictions[0].pod_key;
  // A PodDisruptionBudget refuses it: its count is undone, a back-off is kept.
  h.engine->OnEvictionOutcome(EvictionOutcome{refused, "ns/a", EvictionOutcome::Result::kBlocked, "429"});
  CHECK(h.engine->retained_pod_state() == 1);
  h.now_ms += 1000;
  d = h.Cycle();
  REQUIRE(d.evictions.size() == 1);
  const std::string evicted = d.evictions[0].pod_key;
  CHECK(evicted != refused);  // the protected pod is skipped
  h.Cycle();
  CHECK(h.Bound("ns/a"));
  CHECK_FALSE(h.Bound(evicted));  // deleted (the harness carries evictions out)
  CHECK(h.engine->retained_pod_state() == 2);  // the evicted pod's count, the back-off
  // Half an hour on: the back-off has expired; the count stays (its pod may be re-created).
  h.now_ms += 1800 * 1000;
  h.Cycle();
  CHECK(h.engine->retained_pod_state() == 1);
  // Past forget_preempted_after_ms (1 h) with its pod gone: forgotten.
  h.now_ms += 3600 * 1000;
  h.Cycle();
  CHECK(h.engine->retained_pod_state() == 0);
}
