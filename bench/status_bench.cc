// status_bench: what publishing the scheduler's status (server/status.h) costs
// the loop, against the cycle it follows. A generated cluster (sim/generator.h)
// with a backlog of pending pods in a fanout x fanout queue tree; after each
// cycle (binds confirmed by pod events, some running pods completing and as many
// new ones arriving) the status is built as the loop builds it.
//
//   status_bench                                   # 10k nodes, 1,024 leaf queues, 100k pending
//   status_bench --nodes 1000 --fanout 10 --pending 20000 --cycles 30
//   status_bench --gpu-types 6 --scrape-every-ms 0 --observe   # what /metrics and the page cost
//   status_bench --gpu-types 6 --scrape-every-ms 50            # cycles while /metrics is scraped
//
// Cycles run back to back; the status is published at the loop's pace
// (server/loop.h: LoopOptions defaults, PaceAllows). Prints cycle and build
// times (p50, p99), the share of the loop's time spent publishing, the size.
// Figures only: nothing asserts a time.
#include <atomic>
#include <chrono>
#include <thread>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "bench/observe_cost.h"
#include "bench/queue_tree.h"
#include "core/strings.h"
#include "server/loop.h"
#include "server/status.h"
#include "server/status_json.h"
#include "sim/generator.h"

namespace drover {
namespace {

struct Args {
  int nodes = 10000;
  int fanout = 32;  // 32 x 32 = 1,024 leaf queues (1,057 queues)
  int pending = 100000;
  int cycles = 300;
  int churn = 500;
  int per_cycle = 1000;
  std::string policy = "binpack";
  int gpu_types = 0;         // leaves guaranteed 1 GPU of each of the catalog's first N types (metrics' cardinality)
  int scrape_every_ms = -1;  // >= 0: a thread renders /metrics every this many ms while cycles run
  bool observe = false;      // print the cost of a scrape and of the page's JSON at the end
  double budget = LoopOptions{}.publish_budget;  // 0 = no pacing by cost (the status after every cycle
                                                 // past 50 ms, the pending list every second)
};

int Run(const Args& a) {
  std::vector<std::string> leaves;
  QueueConfig cfg = bench::FanoutTree(a.fanout, a.gpu_types, &leaves);
  GenSpec spec;
  spec.nodes = a.nodes;
  spec.pods = a.pending + a.cycles * a.churn + a.per_cycle * 2;
  spec.queues = leaves;
  SimInput input = Generate(spec);
  EngineOptions opt;
  opt.policy = a.policy;
  opt.max_workloads_per_cycle = a.per_cycle;
  absl::StatusOr<std::unique_ptr<Engine>> made = Engine::Create(cfg, opt);
  if (!made.ok()) {
    std::fprintf(stderr, "%s\n", std::string(made.status().message()).c_str());
    return 1;
  }
  Engine& e = **made;
  for (const SimNode& n : input.nodes) e.Apply(ClusterEvent{ClusterEvent::Kind::kNodeUpsert, n.node, {}});
  size_t next = 0;
  auto submit = [&] {
    if (next < input.pods.size()) e.Apply(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, input.pods[next++].pod});
  };
  while (next < static_cast<size_t>(a.pending)) submit();
  std::vector<Pod> running;
  std::vector<double> cycle_ms, status_ms, pending_ms;
  bench::Rng rng(7);
  // The loop's pacing (server/loop.h, LoopOptions defaults) over cycles run back to back.
  LoopOptions pace;
  pace.publish_budget = a.budget;
  using SteadyClock = std::chrono::steady_clock;
  SteadyClock::time_point last_status{}, last_pending{};
  double status_s = 0, pending_s = 0, publish_total = 0;
  std::shared_ptr<const PendingSection> pending;
  std::shared_ptr<ClusterStatus> status;
  StatusBoard board;
  Metrics metrics(&board);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> scrapes{0};
  std::thread scraper;
  if (a.scrape_every_ms >= 0) {
    scraper = std::thread([&] {
      while (!stop.load()) {
        if (board.Get()->generation > 0) {
          (void)metrics.Render();
          ++scrapes;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(a.scrape_every_ms));
      }
    });
  }
  const auto run_start = SteadyClock::now();
  for (int c = 0; c < a.cycles; ++c) {
    for (int i = 0; i < a.churn && !running.empty(); ++i) {
      const size_t k = rng.Below(running.size());
      e.Apply(ClusterEvent{ClusterEvent::Kind::kPodDelete, {}, running[k]});
      running[k] = running.back();
      running.pop_back();
      submit();
    }
    double t0 = bench::NowSec();
    Decisions d = e.RunCycle((c + 1) * 1000);
    cycle_ms.push_back((bench::NowSec() - t0) * 1e3);
    for (const Binding& b : d.binds) {
      Pod p = e.snapshot().pod(e.snapshot().FindPod(b.pod_key)).pod;
      p.node_name = b.node;
      p.phase = PodPhase::kRunning;
      p.gpu_device_ids = b.gpu_devices;
      running.push_back(p);
      e.Apply(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, std::move(p)});
    }
    const auto now = SteadyClock::now();
    if (!PaceAllows(now - last_status, pace.publish_min_interval, status_s, pace.publish_budget)) continue;
    t0 = bench::NowSec();
    if (!pending || PaceAllows(now - last_pending, pace.pending_refresh, pending_s, pace.publish_budget)) {
      pending = BuildPendingSection(e, (c + 1) * 1000);
      pending_s = bench::NowSec() - t0;
      pending_ms.push_back(pending_s * 1e3);
      last_pending = SteadyClock::now();
    }
    const double t1 = bench::NowSec();
    status = BuildStatus(e, (c + 1) * 1000, StatusInputs{}, pending);
    status_s = bench::NowSec() - t1;
    board.Publish(status);
    status_ms.push_back(status_s * 1e3);
    last_status = SteadyClock::now();
    publish_total += bench::NowSec() - t0;
  }
  const double total = std::chrono::duration<double>(SteadyClock::now() - run_start).count();
  stop.store(true);
  if (scraper.joinable()) scraper.join();
  const double cyc50 = bench::Percentile(cycle_ms, 0.5);
  std::printf("status_bench: %d nodes, %d queues, %zu pending pods at end, policy %s, %d cycles of <= %d workloads\n",
              a.nodes, e.queues().size(), e.pending_pods(), a.policy.c_str(), a.cycles, a.per_cycle);
  std::printf("  cycle           p50 %.2f ms  p99 %.2f ms%s\n", cyc50, bench::Percentile(cycle_ms, 0.99),
              a.scrape_every_ms < 0 ? "" : StrCat("  (while /metrics was rendered ", scrapes.load(), " times, every ",
                                                 a.scrape_every_ms, " ms)").c_str());
  std::printf("  status build    p50 %.2f ms  p99 %.2f ms  (%zu builds)\n", bench::Percentile(status_ms, 0.5),
              bench::Percentile(status_ms, 0.99), status_ms.size());
  std::printf("  pending section p50 %.2f ms  p99 %.2f ms  (%zu builds, %zu workloads)\n",
              bench::Percentile(pending_ms, 0.5), bench::Percentile(pending_ms, 0.99), pending_ms.size(),
              pending ? pending->workloads.size() : 0);
  std::printf("  publishing took %.2f%% of the loop's %.1f s (budget %.0f%% per part)\n", 100 * publish_total / total,
              total, 100 * pace.publish_budget);
  if (status) {
    std::printf("  status JSON with nodes and 100 pending: %zu bytes; RSS %ld kB\n",
                FormatStatusJson(*status, {true, 100, ""}).size(), bench::RssKb());
  }
  if (a.observe) bench::PrintObserveCost(&board, &metrics, 5);
  return 0;
}

}  // namespace
}  // namespace drover

int main(int argc, char** argv) {
  drover::Args a;
  CLI::App app{"status_bench: cost of publishing the scheduler's status"};
  app.add_option("--nodes", a.nodes)->capture_default_str();
  app.add_option("--fanout", a.fanout, "queue tree fanout (fanout^2 leaves)")->capture_default_str();
  app.add_option("--pending", a.pending)->capture_default_str();
  app.add_option("--cycles", a.cycles)->capture_default_str();
  app.add_option("--churn", a.churn, "running pods completing before each cycle")->capture_default_str();
  app.add_option("--per-cycle", a.per_cycle, "max workloads per cycle")->capture_default_str();
  app.add_option("--policy", a.policy)->capture_default_str();
  app.add_option("--gpu-types", a.gpu_types, "leaves guaranteed 1 GPU of each of the first N catalog types")
      ->capture_default_str();
  app.add_option("--scrape-every-ms", a.scrape_every_ms, "render /metrics on a thread this often during cycles (-1 = off)")
      ->capture_default_str();
  app.add_flag("--observe", a.observe, "print the cost of a /metrics scrape and of the page's JSON at the end");
  app.add_option("--budget", a.budget, "share of the loop's time each part of the status may take (0 = unpaced)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return drover::Run(a);
}
