// Fair share over a long simulated run: three sibling queues with different
// guaranteed and weights, each with far more work than the cluster holds, run on
// the simulated cluster through the engine. Each queue's time-averaged GPU usage
// converges to its guaranteed plus its weight's part of the rest
// (queues/README.md, "Order (fair share)").
#include <catch2/catch.hpp>

#include <map>

#include "server/sim_runner.h"
#include "tests/queues/engine_harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

// 8 nodes x 8 A100 = 64 GPUs. Guaranteed 8 + 8 + 0 = 16; the other 48 are split
// by weight 1 : 2 : 3, so the expected usage is a = 8 + 8, b = 8 + 16, c = 0 + 24.
constexpr const char* kQueues = R"(
queues:
  children:
    - name: a
      weight: 1
      guaranteed: {gpu: {A100: 8}}
    - name: b
      weight: 2
      guaranteed: {gpu: {A100: 8}}
    - name: c
      weight: 3
)";
constexpr int kNodes = 8;
constexpr int kPodsPerQueue = 600;
constexpr int64_t kMinute = 60 * 1000;

SimInput Workload() {
  SimInput in;
  for (int i = 0; i < kNodes; ++i) in.nodes.push_back(SimNode{GpuNode("a100-" + std::to_string(i), kA100, 8), 0, -1, -1});
  uint64_t rng = 42;  // deterministic: a 64-bit LCG
  auto next = [&rng] {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng >> 33;
  };
  for (int i = 0; i < kPodsPerQueue; ++i) {
    for (const char* q : {"a", "b", "c"}) {
      Pod p = GpuPod(std::string(q) + "-" + std::to_string(i), std::string("root.") + q, 1, "A100");
      // All submitted at once (a deep backlog), each running 20 to 60 minutes.
      in.pods.push_back(SimPod{p, 0, (20 + static_cast<int64_t>(next() % 41)) * kMinute});
    }
  }
  return in;
}

}  // namespace

TEST_CASE("weighted_fair_share_converges_to_guaranteed_plus_the_weighted_rest", "[queues][fair_share][sim]") {
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(ParseOrDie(kQueues), EngineOptions{});
  REQUIRE(engine.ok());
  SimCluster sim(Workload());
  SimRunOptions opts;
  opts.check_invariants_every_step = true;
  const SimRunResult result = RunSimulation(engine->get(), &sim, opts);
  INFO(FormatReportTable(result.report));
  REQUIRE(result.report.violations.empty());
  REQUIRE(result.report.completed == 3 * kPodsPerQueue);
  // Measure from 1 h (after the start) to 12 h; every queue still has a backlog
  // then (checked below), so the cluster is contended throughout.
  const int64_t from = 60 * kMinute, to = 12 * 60 * kMinute;
  std::map<std::string, double> gpu_ms;
  std::map<std::string, int64_t> last_start;
  for (const PodRecord& r : sim.records()) {
    if (r.bound_ms < 0) continue;
    const int64_t end = r.finished_ms >= 0 ? r.finished_ms : sim.totals().end_ms;
    const int64_t lo = std::max(r.bound_ms, from), hi = std::min(end, to);
    if (hi > lo) gpu_ms[r.queue] += static_cast<double>(r.gpu_milli) / 1000.0 * static_cast<double>(hi - lo);
    last_start[r.queue] = std::max(last_start[r.queue], r.bound_ms);
  }
  const double span = static_cast<double>(to - from);
  const std::map<std::string, double> expected = {{"root.a", 16}, {"root.b", 24}, {"root.c", 24}};
  for (const auto& [queue, want] : expected) {
    INFO(queue << ": mean " << gpu_ms[queue] / span << " GPUs, expected " << want);
    CHECK(last_start[queue] > to);  // still starting pods after the window: demand never ran out
    // Tolerance: 1 GPU of 64 (a pod is 1 GPU, so the order can be off by one pod at a time).
    CHECK(gpu_ms[queue] / span == Approx(want).margin(1.0));
  }
  CHECK(result.report.preemptions == 0);  // the order alone keeps a and b at or above guaranteed
  // The report's per-queue figures (sim/report.h).
  std::map<std::string, const RunReport::QueueRow*> rows;
  for (const RunReport::QueueRow& q : result.report.queues) rows[q.path] = &q;
  REQUIRE(rows.size() == 4);
  CHECK(rows["root.a"]->guaranteed == "A100=8");
  CHECK(rows["root.a"]->max == "cluster");
  CHECK(rows["root.c"]->guaranteed == "-");
  CHECK(rows["root"]->max == "A100=64");
  CHECK(rows["root"]->peak == "A100=64");
  CHECK(rows["root.b"]->peak_borrowed != "-");
  CHECK(rows["root.b"]->borrowed == "-");  // everything completed
  CHECK(rows["root.a"]->p_tier[1].n == static_cast<size_t>(kPodsPerQueue));
  CHECK(rows["root"]->p_tier[1].n == static_cast<size_t>(3 * kPodsPerQueue));  // the subtree's pods
  CHECK(rows["root.a"]->p_tier[1].p99 > rows["root.a"]->p_tier[1].p50);
  const std::string table = FormatReportTable(result.report);
  CHECK(table.find("peak borrowed") != std::string::npos);
  CHECK(table.find("pending tier 0 | 1 | 2") != std::string::npos);
}
