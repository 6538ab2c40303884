// soak_bench: a simulated week (or more) of steady churn through the daemon's
// loop on the embedded cluster (server/sim_runner.h), to show that the engine's
// memory stays flat. The generator (sim/generator.h) spreads arrivals evenly over
// the whole span, so pods arrive and complete continuously at a steady load a
// little above what the GPUs can run; a quarter of the pods are Tier 2 and two of
// the three queues have A100/H100 guaranteed, so reclaim and in-queue preemption
// happen all along (evicted pods are re-created under the same name, as a Job's).
//
//   soak_bench                                  # 1,500 nodes, 7 days, 6,000 pods a day (~8 s)
//   soak_bench --nodes 300 --days 14 --pods-per-day 1200 --seed 3
//
// Prints, at the end of each virtual day: RSS, the engine's per-pod state (pods
// tracked, pending, history kept beyond a pod's life), binds and evictions so far,
// and the wall time. Figures only: nothing asserts.
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "core/model.h"
#include "queues/config.h"
#include "server/sim_runner.h"
#include "sim/generator.h"

namespace drover {
namespace {

constexpr int64_t kDayMs = 24 * 3600 * 1000LL;

constexpr const char* kQueues = R"(
queues:
  children:
    - name: team-a
      guaranteed: {gpu: {A100: 64, H100: 48}}
    - name: team-b
      guaranteed: {gpu: {A100: 64, H100: 48}}
    - name: scratch
)";

struct Args {
  int nodes = 1500;
  int days = 7;
  int pods_per_day = 6000;
  uint64_t seed = 1;
};

int Run(const Args& a) {
  absl::StatusOr<QueueConfig> cfg = ParseQueueConfig(kQueues, "soak.yaml");
  if (!cfg.ok() || !cfg->catalog.AddClass("a10+", {}, "A10").ok()) {
    std::fprintf(stderr, "soak_bench: bad queue configuration\n");
    return 1;
  }
  GenSpec spec;
  spec.nodes = a.nodes;
  spec.pods = a.pods_per_day * a.days;
  spec.seed = a.seed;
  spec.span_ms = a.days * kDayMs;
  spec.queues = {"team-a", "team-b", "scratch"};
  SimInput input = Generate(spec);
  Rng rng(a.seed + 1);
  for (SimPod& p : input.pods) {
    if (rng.Uniform() < 0.25) p.pod.annotations.Set(std::string(annotations::kTier), "2");
  }
  absl::StatusOr<std::unique_ptr<Engine>> made = Engine::Create(*cfg, EngineOptions{});
  if (!made.ok()) {
    std::fprintf(stderr, "%s\n", std::string(made.status().message()).c_str());
    return 1;
  }
  Engine& engine = **made;
  SimCluster sim(std::move(input));
  std::printf("soak_bench: %d nodes, %d days, %d pods a day (%d pods), seed %llu\n", a.nodes, a.days, a.pods_per_day,
              spec.pods, static_cast<unsigned long long>(a.seed));
  std::printf("%4s %9s %8s %8s %9s %8s %8s %10s %7s\n", "day", "rss_kb", "tracked", "pending", "retained",
              "running", "binds", "evictions", "wall_s");
  const double start = bench::NowSec();
  int64_t next_day_ms = kDayMs;
  auto report = [&](int64_t day) {
    std::printf("%4lld %9ld %8zu %8zu %9zu %8zu %8lld %10lld %7.1f\n", static_cast<long long>(day), bench::RssKb(),
                engine.tracked_pods(), engine.pending_pods(), engine.retained_pod_state(), sim.running_count(),
                static_cast<long long>(engine.stats().binds), static_cast<long long>(engine.stats().preemptions),
                bench::NowSec() - start);
    std::fflush(stdout);
  };
  SimRunOptions run;
  run.until_ms = a.days * kDayMs;
  run.on_time = [&](Engine*, int64_t now_ms) {
    for (; now_ms >= next_day_ms && next_day_ms <= run.until_ms; next_day_ms += kDayMs) report(next_day_ms / kDayMs);
    return next_day_ms;
  };
  SimRunResult r = RunSimulation(&engine, &sim, run);
  if (next_day_ms <= run.until_ms) report(next_day_ms / kDayMs);
  std::printf("violations %zu, peak RSS %ld kB\n", r.report.violations.size(), bench::HwmKb());
  return r.report.violations.empty() ? 0 : 1;
}

}  // namespace
}  // namespace drover

int main(int argc, char** argv) {
  drover::Args a;
  CLI::App app{"soak_bench: engine memory over a simulated week of steady churn"};
  app.add_option("--nodes", a.nodes, "generated nodes");
  app.add_option("--days", a.days, "virtual days");
  app.add_option("--pods-per-day", a.pods_per_day, "pods arriving per virtual day");
  app.add_option("--seed", a.seed, "generator seed");
  CLI11_PARSE(app, argc, argv);
  return drover::Run(a);
}
