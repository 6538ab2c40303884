// Quick runs of every replay variant: invariants hold, and the set-ups behave as
// specified (variant b's Tier-0 pods stay on their team's pool; a's do not).
#include <catch2/catch.hpp>

#include <string>

#include "bench/replay_run.h"
#include "tests/replay/replay_fixture.h"

namespace drover::replay {
namespace {

RunOptions Checked() {
  RunOptions o;
  o.sample_ms = 10 * 60 * 1000;
  o.check_invariants_every_step = true;
  return o;
}

std::string Violations(const VariantResult& r) {
  std::string s;
  for (size_t i = 0; i < r.violations.size() && i < 10; ++i) s += r.violations[i] + "\n";
  return s;
}

TEST_CASE("replay_quick_run_holds_invariants_in_every_variant", "[replay]") {
  ReplaySpec spec = testing::SmallSpec(4);
  spec.peak_load = 6;  // well above capacity: queues build up, preemption happens
  absl::StatusOr<Workload> w = Build(spec, testing::SmallTables());
  REQUIRE(w.ok());
  for (Variant v : AllVariants()) {
    absl::StatusOr<VariantResult> r = RunVariant(*w, v, Checked());
    REQUIRE(r.ok());
    INFO(VariantName(v) << "\n" << Violations(*r));
    CHECK(r->violations.empty());
    CHECK(r->report.violations.empty());
    CHECK(r->bound > 0);
    CHECK(r->submitted >= static_cast<int64_t>(w->pods.size()) - 5);  // all arrived (a few at the very end may not)
    CHECK(r->submitted == r->bound + r->still_pending);
    CHECK(r->alloc_mean > 0.3);
    CHECK(r->series.size() == 24);  // 4 h in 10-minute slices
    CHECK(r->series.back().hours == Approx(4.0));
    CHECK(r->teams.size() == w->teams.size());
    // Demand exceeds capacity: someone waits.
    int64_t max_pending = 0;
    for (const Sample& s : r->series) max_pending = std::max(max_pending, s.pending);
    CHECK(max_pending > 0);
    REQUIRE(r->tier0_checked > 0);
    CHECK(r->tier0_gpus_mean > 0);
    for (const Sample& s : r->series) {
      CHECK(s.free_open <= s.free_nodes);
      if (v != Variant::kV1Pools) CHECK(s.free_open == s.free_nodes);  // no pools: every free node is open
    }
    if (v == Variant::kV1Pools) {
      int64_t pools = 0;
      for (const Team& t : w->teams) pools += t.guaranteed_gpus();
      CHECK(r->tier0_pool_gpus == pools);
      CHECK(r->tier0_gpus_mean <= static_cast<double>(pools));  // Tier 0 runs only inside the pools
      CHECK(r->free_open_mean <= r->free_nodes_mean);  // idle pools are free but closed to other teams
      CHECK(r->tier0_off_pool == 0);  // Tier 0 only on its team's pool
      CHECK(r->evicted_by_tier[0] == 0);
      CHECK(r->evicted_by_tier[1] == 0);  // only Tier 2 is preempted
    } else if (v == Variant::kDefault) {
      CHECK(r->tier0_off_pool > 0);  // no pools: Tier 0 lands anywhere
    }
    if (v != Variant::kDefault) CHECK(r->evicted_by_tier[0] == 0);  // Tier 0 is never preempted
  }
}

TEST_CASE("replay_same_seed_gives_the_same_result", "[replay]") {
  ReplaySpec spec = testing::SmallSpec(9);
  spec.peak_load = 4;
  absl::StatusOr<Workload> w = Build(spec, testing::SmallTables());
  REQUIRE(w.ok());
  auto a = RunVariant(*w, Variant::kDroverFrag, Checked());
  auto b = RunVariant(*w, Variant::kDroverFrag, Checked());
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->bound == b->bound);
  CHECK(a->preemptions == b->preemptions);
  CHECK(a->alloc_mean == b->alloc_mean);
  CHECK(a->pending[1].p95 == b->pending[1].p95);
  for (size_t t = 0; t < a->teams.size(); ++t) CHECK(a->teams[t].mean_gpus == b->teams[t].mean_gpus);
}

TEST_CASE("replay_on_the_openb_and_helios_traces_holds_invariants", "[replay][trace]") {
  ReplaySpec spec = testing::TraceSpec();
  if (spec.openb_dir.empty()) {
    WARN("traces not found next to the source tree; skipped");
    return;
  }
  spec.node_stride = 32;
  spec.peak_hours = 1.5;
  spec.offpeak_hours = 1.5;
  absl::StatusOr<Workload> w = Load(spec);
  REQUIRE(w.ok());
  CHECK(w->teams.size() == 16);  // the non-zero Venus VCs of 2020-09-28
  CHECK(w->teams[0].helios_gpus == 256);
  for (Variant v : AllVariants()) {
    absl::StatusOr<VariantResult> r = RunVariant(*w, v, Checked());
    REQUIRE(r.ok());
    INFO(VariantName(v) << "\n" << Violations(*r));
    CHECK(r->violations.empty());
    CHECK(r->bound > 0);
    if (v == Variant::kV1Pools) CHECK(r->tier0_off_pool == 0);
  }
}

}  // namespace
}  // namespace drover::replay
