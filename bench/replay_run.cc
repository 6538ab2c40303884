#include "bench/replay_run.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "bench/decision_log.h"
#include "core/strings.h"
#include "server/sim_runner.h"

namespace drover::replay {

namespace {

int ShapeClass(const Pod& p, bool gang) {
  if (p.gpu_devices == 0) return 0;
  if (p.gpu_milli_per_device < 1000) return 1;
  const int big = p.gpu_devices >= 8 ? 1 : 0;
  if (gang) return 5 + big;
  return p.gpu_devices == 1 ? 2 : 3 + big;
}

}  // namespace

absl::StatusOr<VariantResult> RunVariant(const Workload& w, Variant v, const RunOptions& options) {
  absl::StatusOr<VariantSetup> setup = MakeVariant(w, v);
  if (!setup.ok()) return setup.status();
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(setup->config, setup->options);
  if (!engine.ok()) return engine.status();
  SimCluster sim(std::move(setup->input));
  bench::DecisionLog log(options.decisions, &sim);
  log.Section(std::string(VariantName(v)));
  if (options.decisions != nullptr) sim.set_mirror(&log);
  VariantResult out;
  out.variant = v;
  out.policy = setup->options.policy;
  const auto start = std::chrono::steady_clock::now();
  SimRunOptions ro;
  ro.check_invariants_every_step = options.check_invariants_every_step;
  const int64_t step = std::max<int64_t>(1000, options.sample_ms);
  double prev_alloc = 0, prev_cap = 0;
  std::vector<std::string> step_violations;
  for (int64_t t = step;; t += step) {
    ro.until_ms = std::min(t, w.horizon_ms);
    SimRunResult r = RunSimulation(engine->get(), &sim, ro);
    for (std::string& s : r.step_violations) step_violations.push_back(std::move(s));
    Sample s;
    s.hours = static_cast<double>(sim.NowMillis()) / 3.6e6;
    const SimTotals& tot = sim.totals();
    const double dc = tot.gpu_capacity_integral - prev_cap;
    s.alloc = dc > 0 ? (tot.gpu_alloc_integral - prev_alloc) / dc : 0;
    prev_alloc = tot.gpu_alloc_integral;
    prev_cap = tot.gpu_capacity_integral;
    s.free_nodes = sim.FreeGpuNodes();
    s.stranded = sim.StrandedGpus();
    const std::vector<std::string> pending = sim.PendingKeys();
    s.pending = static_cast<int64_t>(pending.size());
    for (const std::string& k : pending) {
      const PodInfo* info = w.Info(k);
      s.pending_tier0 += (info != nullptr && info->tier == 0) ? 1 : 0;
    }
    // Where Tier-0 pods run: inside their team's pool (variant b) or anywhere.
    const Snapshot& snap = (*engine)->snapshot();
    for (PodId id = 0; id < snap.pod_slots(); ++id) {
      const PodEntry& e = snap.pod(id);
      if (!e.live || e.counted_on == kNoNode) continue;
      const PodInfo* info = w.Info(e.pod.Key());
      if (info == nullptr || info->tier != 0) continue;
      ++out.tier0_checked;
      s.tier0_gpus += static_cast<double>(e.pod.requests[Res::kGpu]) / 1000.0;
      auto pool = w.node_pool.find(snap.node(e.counted_on).node.name);
      if (pool == w.node_pool.end() || pool->second != w.teams[info->team].name) ++out.tier0_off_pool;
    }
    // Free nodes a new pod of any team could use: in variant b a free pool node
    // takes only its team's Tier-0 pods.
    for (NodeId id = 0; id < snap.node_slots(); ++id) {
      const NodeState& st = snap.node(id);
      if (!st.present || st.node.gpu_count == 0) continue;
      if (st.pods.empty() && !(v == Variant::kV1Pools && w.node_pool.contains(st.node.name))) ++s.free_open;
    }
    out.series.push_back(s);
    if (ro.until_ms >= w.horizon_ms || sim.Done()) {
      out.report = std::move(r.report);
      break;
    }
  }
  out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.report.wall_seconds = out.wall_seconds;

  // Pending time by tier, preemptions by tier, usage per team.
  const int64_t end = sim.totals().end_ms;
  std::vector<double> all, by_tier[3], by_shape[kNumShapeClasses];
  std::map<std::string, int> submissions;
  std::vector<double> team_gpu_ms(w.teams.size(), 0.0);
  for (const PodRecord& rec : sim.records()) {
    const PodInfo* info = w.Info(rec.key);
    if (info == nullptr) continue;
    ++out.submitted;
    ++submissions[rec.key];
    const double wait = static_cast<double>((rec.bound_ms >= 0 ? rec.bound_ms : end) - rec.submit_ms) / 1000.0;
    all.push_back(wait);
    by_tier[info->tier].push_back(wait);
    const int shape = ShapeClass(w.pods[w.by_key.at(rec.key)].pod, !info->gang.empty());
    by_shape[shape].push_back(wait);
    out.by_shape[shape].waited_hours += wait / 3600.0;
    if (rec.bound_ms < 0) continue;
    ++out.bound;
    const int64_t until = rec.finished_ms >= 0 ? std::min(rec.finished_ms, end) : end;
    team_gpu_ms[info->team] += static_cast<double>(rec.gpu_milli) / 1000.0 * static_cast<double>(until - rec.bound_ms);
  }
  for (const auto& [key, n] : submissions) out.evicted_by_tier[w.Info(key)->tier] += n - 1;
  out.pending_all = ComputePercentiles(std::move(all));
  for (int k = 0; k < 3; ++k) out.pending[k] = ComputePercentiles(std::move(by_tier[k]));
  for (int k = 0; k < kNumShapeClasses; ++k) out.by_shape[k].wait = ComputePercentiles(std::move(by_shape[k]));
  out.still_pending = static_cast<int64_t>(sim.pending_count());
  out.completed = sim.totals().completions;
  out.preemptions = sim.totals().evictions;
  const SimTotals& tot = sim.totals();
  out.alloc_mean = tot.gpu_capacity_integral > 0 ? tot.gpu_alloc_integral / tot.gpu_capacity_integral : 0;
  for (const Sample& s : out.series) {
    out.free_nodes_mean += s.free_nodes;
    out.free_open_mean += s.free_open;
    out.tier0_gpus_mean += s.tier0_gpus;
    out.stranded_mean += static_cast<double>(s.stranded);
  }
  if (!out.series.empty()) {
    const double n = static_cast<double>(out.series.size());
    out.free_nodes_mean /= n;
    out.free_open_mean /= n;
    out.tier0_gpus_mean /= n;
    out.stranded_mean /= n;
    out.free_nodes_end = out.series.back().free_nodes;
    out.free_open_end = out.series.back().free_open;
    out.stranded_end = out.series.back().stranded;
  }
  if (v == Variant::kV1Pools) {
    for (const Team& t : w.teams) out.tier0_pool_gpus += t.guaranteed_gpus();  // the pools are the guaranteed nodes
  }
  for (size_t t = 0; t < w.teams.size(); ++t) {
    TeamResult tr;
    tr.mean_gpus = end > 0 ? team_gpu_ms[t] / static_cast<double>(end) : 0;
    const int64_t g = w.teams[t].guaranteed_gpus();
    tr.share = g > 0 ? tr.mean_gpus / static_cast<double>(g) : 0;
    out.teams.push_back(tr);
  }
  // Every slice's per-step violations, then the end state (engine invariants and
  // binds the simulated kubelet refused).
  out.violations = std::move(step_violations);
  for (std::string& s : (*engine)->CheckInvariants()) out.violations.push_back(std::move(s));
  for (const std::string& s : sim.totals().violations) out.violations.push_back(s);
  return out;
}

}  // namespace drover::replay
