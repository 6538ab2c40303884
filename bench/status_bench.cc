// status_bench: what publishing the scheduler's status (server/status.h) costs
// the loop, against the cycle it follows. A generated cluster (sim/generator.h)
// with a backlog of pending pods in a fanout x fanout queue tree; after each
// cycle (binds confirmed by pod events, some running pods completing and as many
// new ones arriving) the status is built as the loop builds it.
//
//   status_bench                                   # 10k nodes, 1,024 leaf queues, 100k pending
//   status_bench --nodes 1000 --fanout 10 --pending 20000 --cycles 30
//
// Prints cycle and publish times (p50, p99), their ratio, and the status's size.
// Figures only: nothing asserts a time.
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "core/strings.h"
#include "server/status.h"
#include "server/status_json.h"
#include "sim/generator.h"

namespace drover {
namespace {

struct Args {
  int nodes = 10000;
  int fanout = 32;  // 32 x 32 = 1,024 leaf queues (1,057 queues)
  int pending = 100000;
  int cycles = 40;
  int churn = 500;
  int per_cycle = 1000;
  std::string policy = "binpack";
};

QueueConfig Tree(int fanout, std::vector<std::string>* leaves) {
  QueueConfig cfg = DefaultQueueConfig();
  (void)cfg.catalog.AddClass("a10+", {}, "A10");
  for (int o = 0; o < fanout; ++o) {
    QueueSpec org;
    org.name = StrCat("o", o);
    org.path = StrCat("root.", org.name);
    for (int t = 0; t < fanout; ++t) {
      QueueSpec team;
      team.name = StrCat("t", t);
      team.path = StrCat(org.path, ".", team.name);
      leaves->push_back(team.path);
      org.children.push_back(std::move(team));
    }
    cfg.root.children.push_back(std::move(org));
  }
  return cfg;
}

int Run(const Args& a) {
  std::vector<std::string> leaves;
  QueueConfig cfg = Tree(a.fanout, &leaves);
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
  std::vector<double> cycle_ms, publish_ms, pending_ms;
  size_t json_bytes = 0;
  bench::Rng rng(7);
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
      const PodId id = e.snapshot().FindPod(b.pod_key);
      Pod p = e.snapshot().pod(id).pod;
      p.node_name = b.node;
      p.phase = PodPhase::kRunning;
      p.gpu_device_ids = b.gpu_devices;
      running.push_back(p);
      e.Apply(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, std::move(p)});
    }
    t0 = bench::NowSec();
    std::shared_ptr<ClusterStatus> s = BuildStatus(e, (c + 1) * 1000, StatusInputs{});
    publish_ms.push_back((bench::NowSec() - t0) * 1e3);
    t0 = bench::NowSec();
    std::shared_ptr<const PendingSection> pending = BuildPendingSection(e, (c + 1) * 1000);
    pending_ms.push_back((bench::NowSec() - t0) * 1e3);
    if (c + 1 == a.cycles) json_bytes = FormatStatusJson(*BuildStatus(e, 0, StatusInputs{}, pending), {true, 100, ""}).size();
  }
  const double cyc50 = bench::Percentile(cycle_ms, 0.5), pub50 = bench::Percentile(publish_ms, 0.5);
  std::printf("status_bench: %d nodes, %d queues, %zu pending at end, policy %s, %d cycles of <= %d workloads\n",
              a.nodes, e.queues().size(), e.pending_pods(), a.policy.c_str(), a.cycles, a.per_cycle);
  std::printf("  cycle   p50 %.2f ms  p99 %.2f ms\n", cyc50, bench::Percentile(cycle_ms, 0.99));
  std::printf("  publish p50 %.2f ms  p99 %.2f ms  (%.1f%% of the median cycle)\n", pub50,
              bench::Percentile(publish_ms, 0.99), 100 * pub50 / std::max(cyc50, 1e-9));
  const double pend50 = bench::Percentile(pending_ms, 0.5);
  std::printf("  pending list p50 %.2f ms  p99 %.2f ms  (%zu workloads)\n", pend50, bench::Percentile(pending_ms, 0.99),
              e.ListPending().size());
  // The loop publishes at most every 50 ms and lists pending at most every 1 s
  // (LoopOptions defaults); a loop cycling back to back spends at most this share.
  const double share = (pub50 / std::max(cyc50 + pub50, 50.0)) + pend50 / std::max(1000.0, cyc50 + pend50);
  std::printf("  publishing at the loop's default pace: at most %.1f%% of the loop's time\n", 100 * share);
  std::printf("  status JSON with nodes: %zu bytes; RSS %ld kB\n", json_bytes, bench::RssKb());
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
  CLI11_PARSE(app, argc, argv);
  return drover::Run(a);
}
