// replay_bench: the talk's comparison (default scheduler vs "version 1" node pools vs
// Drover's queues) on a contended replay of OUR synthetic workload (sim/replay.h).
//
//   replay_bench              # both scenarios on 1/4 of the openb GPU nodes:
//                             #   day:      6 h at 1.2x demand, 18 h at 0.65x  -> results/replay
//                             #   overload: 6 h at 1.5x demand, 10 h at 0.5x   -> results/replay/overload
//   replay_bench --quick      # the day scenario on 1/16 of the nodes, 3 h + 6 h: under a minute
//   replay_bench --scenario overload --seed 7 --stride 2 --variants a-default,c-drover-frag --out /tmp/r
//
// Writes <out>/report.md (also printed), <out>/replay.csv (one row per variant),
// <out>/teams.csv, <out>/timeseries.csv, SVG charts and the quota documents each
// variant ran with (<out>/queues-<variant>.yaml). Defaults: traces under
// <source>/../shared/traces, --out <source>/results/replay (--quick: .../quick).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/replay_run.h"
#include "core/strings.h"
#include "sim/svg.h"

namespace drover::replay {
namespace {

struct Args {
  ReplaySpec spec;
  std::string scenario;  // "day", "overload", or "" = both (day, then overload under <out>/overload)
  bool loads_given = false;  // --peak-load and the like: one run with exactly these
  std::string out = std::string(DROVER_SOURCE_DIR) + "/results/replay";
  bool out_given = false;
  bool quick = false;
  bool check_invariants = false;
  std::string decisions;  // --decisions FILE: every decision of every variant (bench/decision_log.h)
  std::FILE* decisions_file = nullptr;  // opened by Main
  std::vector<Variant> variants = AllVariants();
  std::string command;
};

bool ParseDouble(const std::string& s, double* v) { return absl::SimpleAtod(s, v) && *v >= 0; }

// The sustained overload: demand above capacity for most of the window and a
// cluster already over-full at the start. No scheduler can keep everyone's
// waits short here; it shows what each one gives up.
void ApplyOverload(ReplaySpec* spec) {
  spec->peak_hours = 6;
  spec->offpeak_hours = 10;
  spec->peak_load = 1.5;
  spec->offpeak_load = 0.5;
  spec->initial_load = 1.5;
}

bool ParseArgs(int argc, char** argv, Args* a) {
  const std::string traces = std::string(DROVER_SOURCE_DIR) + "/../shared/traces";
  a->spec.openb_dir = traces + "/alibaba-gpu-v2023-openb/csv";
  a->spec.helios_csv = traces + "/helios-venus-vc-gpus/cluster_gpu_number.csv";
  a->command = "replay_bench";
  for (int i = 1; i < argc; ++i) StrAppend(&a->command, " ", argv[i]);
  // --quick first, so explicit flags after it still apply.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--quick") {
      a->quick = true;
      a->scenario = "day";
      a->spec.node_stride = 16;
      a->spec.peak_hours = 3;
      a->spec.offpeak_hours = 6;
    }
  }
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) != "--scenario") continue;
    a->scenario = argv[i + 1];
    if (a->scenario == "overload") ApplyOverload(&a->spec);
  }
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    int64_t n = 0;
    if (flag == "--quick") continue;
    if (flag == "--peak-hours" || flag == "--offpeak-hours" || flag == "--peak-load" || flag == "--offpeak-load" ||
        flag == "--initial-load") {
      a->loads_given = true;
    }
    if (flag == "--check-invariants") {
      a->check_invariants = true;
    } else if (flag == "--decisions") {
      a->decisions = value();
    } else if (flag == "--seed") {
      if (!absl::SimpleAtoi(value(), &n) || n < 0) return false;
      a->spec.seed = static_cast<uint64_t>(n);
    } else if (flag == "--stride") {
      if (!absl::SimpleAtoi(value(), &a->spec.node_stride) || a->spec.node_stride < 1) return false;
    } else if (flag == "--peak-hours") {
      if (!ParseDouble(value(), &a->spec.peak_hours)) return false;
    } else if (flag == "--offpeak-hours") {
      if (!ParseDouble(value(), &a->spec.offpeak_hours)) return false;
    } else if (flag == "--peak-load") {
      if (!ParseDouble(value(), &a->spec.peak_load)) return false;
    } else if (flag == "--initial-load") {
      if (!ParseDouble(value(), &a->spec.initial_load)) return false;
    } else if (flag == "--offpeak-load") {
      if (!ParseDouble(value(), &a->spec.offpeak_load)) return false;
    } else if (flag == "--guaranteed") {
      if (!ParseDouble(value(), &a->spec.guaranteed_fraction) || a->spec.guaranteed_fraction > 1) return false;
    } else if (flag == "--drover-preemption-delay") {
      double seconds = 0;
      if (!ParseDouble(value(), &seconds) || seconds < 0) return false;
      a->spec.drover_preemption_delay_ms = static_cast<int64_t>(seconds * 1000);
    } else if (flag == "--pod-list") {
      a->spec.pod_list = value();
    } else if (flag == "--openb") {
      a->spec.openb_dir = value();
    } else if (flag == "--helios") {
      a->spec.helios_csv = value();
    } else if (flag == "--variants") {
      a->variants.clear();
      for (absl::string_view name : absl::StrSplit(value(), ',', absl::SkipEmpty())) {
        bool found = false;
        for (Variant v : AllVariants()) {
          if (VariantName(v) == std::string_view(name.data(), name.size())) {
            a->variants.push_back(v);
            found = true;
          }
        }
        if (!found) return false;
      }
    } else if (flag == "--scenario") {
      const std::string name = value();  // applied before the other flags
      if (name != "day" && name != "overload") return false;
    } else if (flag == "--out") {
      a->out = value();
      a->out_given = true;
    } else {
      return false;
    }
  }
  if (a->quick && !a->out_given) a->out += "/quick";
  return true;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) std::fprintf(stderr, "cannot write %s\n", path.c_str());
  return static_cast<bool>(f);
}

std::string Dur(double s) {
  if (s < 120) return absl::StrFormat("%.0fs", s);
  if (s < 7200) return absl::StrFormat("%.0fm", s / 60);
  return absl::StrFormat("%.1fh", s / 3600);
}
std::string Pct3(const Percentiles& p) { return StrCat(Dur(p.p50), " / ", Dur(p.p95), " / ", Dur(p.p99)); }

std::string WorkloadSection(const Workload& w) {
  std::string out;
  int64_t tiers[3] = {0, 0, 0}, gang_pods = 0, median_rows = 0, initial = 0;
  double demand_gpu_h = 0, initial_gpus = 0;
  for (size_t i = 0; i < w.pods.size(); ++i) {
    if (w.info[i].initial) {
      ++initial;
      initial_gpus += static_cast<double>(w.pods[i].pod.requests[Res::kGpu]) / 1000.0;
    }
    ++tiers[w.info[i].tier];
    gang_pods += w.info[i].gang.empty() ? 0 : 1;
    median_rows += w.info[i].median_duration ? 1 : 0;
    demand_gpu_h += static_cast<double>(w.pods[i].pod.requests[Res::kGpu]) / 1000.0 *
                    static_cast<double>(w.pods[i].duration_ms) / 3.6e6;
  }
  const double n = static_cast<double>(std::max<size_t>(1, w.pods.size()));
  std::string types;
  for (const auto& [t, g] : w.gpus_by_type) StrAppend(&types, types.empty() ? "" : ", ", t, " ", g);
  StrAppend(&out, "## The workload (synthetic, ours)\n\n");
  StrAppend(&out, absl::StrFormat(
      "- Cluster: %d openb GPU nodes (one in %d of the trace's 1213, sorted by model/GPUs/CPU/memory/name), %d GPUs: %s.\n",
      w.nodes.size(), w.spec.node_stride, w.gpu_capacity, types));
  StrAppend(&out, absl::StrFormat(
      "- Pods: %d (%s drawn with replacement; seed %d): Tier 0 %.1f%%, Tier 1 %.1f%%, Tier 2 %.1f%%; "
      "%d gang members (%.1f%%, gangs of 2-4 multi-GPU pods); %d Tier-0 draws became Tier 1 (gangs, or no fit on the "
      "team's guaranteed nodes).\n",
      w.pods.size(), w.spec.pod_list, w.spec.seed, 100 * tiers[0] / n, 100 * tiers[1] / n, 100 * tiers[2] / n,
      gang_pods, 100 * gang_pods / n, w.tier0_demoted));
  StrAppend(&out, absl::StrFormat(
      "- Durations: the trace's deletion_time - scheduled_time, capped to [%s, %s]; rows without scheduled_time "
      "take the median (%s; %d pods). Offered demand %.0f GPU-hours.\n",
      Dur(static_cast<double>(w.spec.min_duration_s)), Dur(static_cast<double>(w.spec.max_duration_s)),
      Dur(static_cast<double>(w.median_duration_s)), median_rows, demand_gpu_h));
  StrAppend(&out, absl::StrFormat(
      "- Arrivals: Poisson, %.3g x the cluster's GPUs of offered demand for %.0f h, then %.3g x for %.0f h. The "
      "window opens in a busy period: the %d pods (%.0f GPUs, %.2g x the cluster) that such a stream keeps in flight "
      "are submitted at time 0 with the rest of their duration. Everything is measured over these %.0f h (pods still "
      "waiting at the end count their wait so far).\n",
      w.spec.peak_load, w.spec.peak_hours, w.spec.offpeak_load, w.spec.offpeak_hours, initial, initial_gpus,
      initial_gpus / static_cast<double>(w.gpu_capacity), w.spec.peak_hours + w.spec.offpeak_hours));
  StrAppend(&out, absl::StrFormat(
      "- Teams: the %d non-zero Helios Venus VCs of 2020-09-28; guaranteed = VC share of %.0f%% of each GPU type, in "
      "whole nodes (the same nodes are variant b's Tier-0 pools); demand per team ~ VC share x a lognormal load "
      "factor (sigma %.1f), so some teams want more than their share and some less.\n\n",
      w.teams.size(), 100 * w.spec.guaranteed_fraction, w.spec.team_load_sigma));
  return out;
}

std::string VariantNotes(const ReplaySpec& spec) {
  return
      "## The variants (same pods, same seed)\n\n"
      "- **a-default**: what kube-scheduler does alone: `spread` scoring, one root queue (no quotas), Tier 0/1/2 as "
      "priorities 2000/1000/0 and every pod engine tier 1, so a higher priority preempts a lower one.\n"
      "- **b-v1-pools**: the talk's version 1: each team's guaranteed nodes are a pool labelled and tainted "
      "`replay.drover.io/pool=<team>`; Tier-0 pods carry the toleration and a nodeSelector for their pool, Tiers 1-2 "
      "share the other nodes; `binpack`; Tier 2 is engine tier 2 and Tiers 0-1 engine tier 1, so only Tier 2 is "
      "ever preempted.\n"
      "- **c-drover-binpack / c-drover-frag**: one leaf queue per team with its guaranteed GPUs per type, borrowing "
      "up to the cluster, Tier 0 only within guaranteed, reclaim of borrowed capacity and in-queue preemption by "
      "tier; `binpack` or `drover-frag`.\n"
      "- All variants keep gang scheduling (drover.io/gang), which kube-scheduler alone lacks.\n" +
      absl::StrFormat("- Variants a and b preempt at a pod's first failed attempt, as kube-scheduler does; Drover's "
                      "variants wait %s first (droverd's `--preemption-delay`%s; Tier 0 never waits; "
                      "`--drover-preemption-delay S` changes it).\n\n",
                      Dur(static_cast<double>(spec.drover_preemption_delay_ms) / 1000.0),
                      spec.drover_preemption_delay_ms == 30000 ? ", its default" : "");
}

void WriteCharts(const std::string& dir, const std::vector<VariantResult>& results) {
  struct Chart {
    const char* file;
    const char* title;
    const char* y;
    double (*get)(const Sample&);
  };
  const Chart charts[] = {
      {"alloc.svg", "GPU allocation (synthetic replay)", "allocated GPUs (%)",
       [](const Sample& s) { return 100 * s.alloc; }},
      {"pending.svg", "Pods waiting (synthetic replay)", "pending pods", [](const Sample& s) { return double(s.pending); }},
      {"pending_tier0.svg", "Tier-0 pods waiting (synthetic replay)", "pending Tier-0 pods",
       [](const Sample& s) { return double(s.pending_tier0); }},
      {"free_nodes.svg", "GPU nodes entirely free (synthetic replay)", "free nodes",
       [](const Sample& s) { return double(s.free_nodes); }},
      {"stranded.svg", "Stranded GPUs: idle on partly used nodes (synthetic replay)", "stranded GPUs",
       [](const Sample& s) { return double(s.stranded); }},
  };
  for (const Chart& c : charts) {
    svg::LineChart chart;
    chart.title = c.title;
    chart.x_label = "virtual time (h)";
    chart.y_label = c.y;
    for (const VariantResult& r : results) {
      svg::Series s{std::string(VariantName(r.variant)), {}};
      for (const Sample& p : r.series) s.points.emplace_back(p.hours, c.get(p));
      chart.series.push_back(std::move(s));
    }
    WriteFile(dir + "/" + c.file, svg::Render(chart));
  }
}

// Metrics where a Drover variant is behind the best of a and b, stated plainly.
std::string NotAhead(const std::vector<VariantResult>& rs) {
  struct Metric {
    const char* name;
    double (*get)(const VariantResult&);
    bool lower_is_better;
    double floor = 0;  // differences up to this are ties
  };
  const Metric metrics[] = {
      {"Tier-0 pending p95", [](const VariantResult& r) { return r.pending[0].p95; }, true, 5},
      {"Tier-0 pending p99", [](const VariantResult& r) { return r.pending[0].p99; }, true, 5},
      {"Tier-1 pending p95", [](const VariantResult& r) { return r.pending[1].p95; }, true, 5},
      {"Tier-1 pending p99", [](const VariantResult& r) { return r.pending[1].p99; }, true, 5},
      {"Tier-2 pending p95", [](const VariantResult& r) { return r.pending[2].p95; }, true, 5},
      {"Tier-2 pending p99", [](const VariantResult& r) { return r.pending[2].p99; }, true, 5},
      {"preemptions", [](const VariantResult& r) { return double(r.preemptions); }, true},
      {"GPU allocation", [](const VariantResult& r) { return r.alloc_mean; }, false},
      {"free nodes (mean)", [](const VariantResult& r) { return r.free_nodes_mean; }, false},
      {"free nodes open to all (mean)", [](const VariantResult& r) { return r.free_open_mean; }, false},
      {"GPUs for Tier 0 (mean)",
       [](const VariantResult& r) { return std::max(static_cast<double>(r.tier0_pool_gpus), r.tier0_gpus_mean); }, true},
      {"stranded GPUs (mean)", [](const VariantResult& r) { return r.stranded_mean; }, true},
  };
  std::string out;
  for (const VariantResult& c : rs) {
    if (c.variant != Variant::kDroverBinpack && c.variant != Variant::kDroverFrag) continue;
    for (const Metric& m : metrics) {
      const VariantResult* best = nullptr;
      for (const VariantResult& o : rs) {
        if (o.variant != Variant::kDefault && o.variant != Variant::kV1Pools) continue;
        if (best == nullptr || (m.lower_is_better ? m.get(o) < m.get(*best) : m.get(o) > m.get(*best))) best = &o;
      }
      if (best == nullptr) continue;
      const double a = m.get(c), b = m.get(*best);
      const bool behind = std::abs(a - b) > m.floor && (m.lower_is_better ? a > b * 1.02 + 1e-9 : a < b * 0.98 - 1e-9);
      if (behind) {
        StrAppend(&out, absl::StrFormat("- %s: %s %.4g vs %s %.4g\n", m.name, VariantName(c.variant), a,
                                        VariantName(best->variant), b));
      }
    }
  }
  return out.empty() ? "- none: both Drover variants match or beat the best of a and b on every metric above.\n" : out;
}

// One scenario: runs every variant, writes <out>/..., returns the exit code. The
// results table and the not-ahead list go to *summary (for another report).
int RunScenario(const Args& args, const std::string& label, const ReplaySpec& spec, const std::string& out,
                const std::string& appendix, std::string* summary) {
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<Workload> w = Load(spec);
  if (!w.ok()) {
    std::fprintf(stderr, "replay_bench: %s\n", std::string(w.status().message()).c_str());
    return 1;
  }
  std::filesystem::create_directories(out);
  std::fprintf(stderr, "workload: %zu nodes, %lld GPUs, %zu pods over %.0f h\n", w->nodes.size(),
               static_cast<long long>(w->gpu_capacity), w->pods.size(), w->horizon_ms / 3.6e6);
  std::vector<VariantResult> results;
  RunOptions ro;
  ro.check_invariants_every_step = args.check_invariants;
  ro.decisions = args.decisions_file;
  for (Variant v : args.variants) {
    absl::StatusOr<VariantSetup> setup = MakeVariant(*w, v);
    if (setup.ok()) WriteFile(StrCat(out, "/queues-", VariantName(v), ".yaml"), setup->queues_yaml);
    absl::StatusOr<VariantResult> r = RunVariant(*w, v, ro);
    if (!r.ok()) {
      std::fprintf(stderr, "replay_bench: %s: %s\n", std::string(VariantName(v)).c_str(),
                   std::string(r.status().message()).c_str());
      return 1;
    }
    std::fprintf(stderr, "  %-18s %6.1f s  alloc %.1f%%  preemptions %lld (in-queue %lld, reclaim %lld)  violations %zu\n",
                 std::string(VariantName(v)).c_str(), r->wall_seconds, 100 * r->alloc_mean,
                 static_cast<long long>(r->preemptions), static_cast<long long>(r->report.preemptions_in_queue),
                 static_cast<long long>(r->report.preemptions_reclaim), r->violations.size());
    results.push_back(std::move(*r));
  }
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // CSVs.
  std::string csv =
      "variant,policy,pods_submitted,pods_bound,pods_pending_end,completed,"
      "t0_p50_s,t0_p95_s,t0_p99_s,t1_p50_s,t1_p95_s,t1_p99_s,t2_p50_s,t2_p95_s,t2_p99_s,all_p50_s,all_p95_s,all_p99_s,"
      "preemptions,evicted_t0,evicted_t1,evicted_t2,gpu_alloc_mean,free_nodes_mean,free_nodes_end,stranded_mean,"
      "stranded_end,tier0_off_pool,violations,wall_s\n";
  for (const VariantResult& r : results) {
    StrAppend(&csv, VariantName(r.variant), ",", r.policy, ",", r.submitted, ",", r.bound, ",", r.still_pending, ",",
              r.completed);
    for (int k = 0; k < 3; ++k) StrAppend(&csv, absl::StrFormat(",%.0f,%.0f,%.0f", r.pending[k].p50, r.pending[k].p95, r.pending[k].p99));
    StrAppend(&csv, absl::StrFormat(",%.0f,%.0f,%.0f", r.pending_all.p50, r.pending_all.p95, r.pending_all.p99));
    StrAppend(&csv, ",", r.preemptions, ",", r.evicted_by_tier[0], ",", r.evicted_by_tier[1], ",", r.evicted_by_tier[2]);
    StrAppend(&csv, absl::StrFormat(",%.4f,%.2f,%d,%.2f,%d,%d,%d,%.2f\n", r.alloc_mean, r.free_nodes_mean,
                                    r.free_nodes_end, r.stranded_mean, r.stranded_end, r.tier0_off_pool,
                                    r.violations.size(), r.wall_seconds));
  }
  WriteFile(out + "/replay.csv", csv);
  std::string teams_csv = "team,helios_vc,helios_gpus,guaranteed_gpus,guaranteed_by_type,load_factor";
  for (const VariantResult& r : results) StrAppend(&teams_csv, ",", VariantName(r.variant), "_mean_gpus");
  teams_csv += "\n";
  for (size_t t = 0; t < w->teams.size(); ++t) {
    const Team& tm = w->teams[t];
    std::string by_type;
    for (const auto& [type, g] : tm.guaranteed) StrAppend(&by_type, by_type.empty() ? "" : " ", type, "=", g);
    StrAppend(&teams_csv, tm.name, ",", tm.helios_id, ",", tm.helios_gpus, ",", tm.guaranteed_gpus(), ",", by_type,
              absl::StrFormat(",%.3f", tm.load));
    for (const VariantResult& r : results) StrAppend(&teams_csv, absl::StrFormat(",%.2f", r.teams[t].mean_gpus));
    teams_csv += "\n";
  }
  WriteFile(out + "/teams.csv", teams_csv);
  std::string ts = "variant,hours,gpu_alloc,free_nodes,stranded_gpus,pending,pending_tier0\n";
  for (const VariantResult& r : results) {
    for (const Sample& s : r.series) {
      StrAppend(&ts, VariantName(r.variant), absl::StrFormat(",%.3f,%.4f,%d,%d,%d,%d\n", s.hours, s.alloc,
                                                             s.free_nodes, s.stranded, s.pending, s.pending_tier0));
    }
  }
  WriteFile(out + "/timeseries.csv", ts);
  WriteCharts(out, results);

  // The report.
  std::string md;
  StrAppend(&md, "# The talk's comparison on a contended replay (synthetic workload, ours): ", label, "\n\n");
  StrAppend(&md,
            "**These are our figures on our synthetic workload, not published results.** The talk (Roblox, AWS "
            "re:Invent 2024, GAM312) reports its results qualitatively; this replays the three set-ups it compares in "
            "Drover's simulator, on openb pod shapes and durations (Alibaba cluster-trace-gpu-v2023) sent to teams sized "
            "like the Helios Venus VCs (SenseTime), with arrivals compressed so that demand exceeds capacity for hours.\n\n");
  StrAppend(&md, WorkloadSection(*w), VariantNotes(w->spec));
  StrAppend(&md, "## Results\n\nPending time p50 / p95 / p99 (every submission; a pod still waiting at the end counts "
                 "its wait so far). GPU allocation is time-weighted over the window; free nodes, GPUs for Tier 0 and "
                 "stranded GPUs are sampled every 5 min (mean) and at the end of the window. *Free nodes* are GPU nodes "
                 "with no pod; *open to all* leaves out variant b's idle Tier-0 pools, which only their team's Tier-0 "
                 "pods may use. *GPUs for Tier 0* are the GPUs that Tier-0 pods hold, or in variant b the pools' GPUs, "
                 "set aside for Tier 0 whether used or not (the talk's \"nodes needed for Tier-0\").\n\n");
  std::string table =
      "| variant | policy | Tier 0 | Tier 1 | Tier 2 | preemptions | GPU alloc | free nodes mean / end | open to all "
      "mean / end | GPUs for Tier 0 | stranded GPUs mean / end | pending at end | invariants |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const VariantResult& r : results) {
    StrAppend(&table, absl::StrFormat(
        "| %s | %s | %s | %s | %s | %d | %.1f%% | %.1f / %d | %.1f / %d | %s | %.1f / %d | %d | %s |\n",
        VariantName(r.variant), r.policy, Pct3(r.pending[0]), Pct3(r.pending[1]), Pct3(r.pending[2]), r.preemptions,
        100 * r.alloc_mean, r.free_nodes_mean, r.free_nodes_end, r.free_open_mean, r.free_open_end,
        r.tier0_pool_gpus > 0 ? absl::StrFormat("%d (pools; %.0f in use)", r.tier0_pool_gpus, r.tier0_gpus_mean)
                              : absl::StrFormat("%.0f", r.tier0_gpus_mean),
        r.stranded_mean, r.stranded_end, r.still_pending,
        r.violations.empty() ? "OK" : StrCat(r.violations.size(), " violations")));
  }
  StrAppend(&md, table);
  StrAppend(&md, "\n| variant | pods submitted | bound | evicted Tier 0 / 1 / 2 | Tier-0 pods on a node outside their pool "
                 "(sampled) | wall time |\n|---|---|---|---|---|---|\n");
  for (const VariantResult& r : results) {
    StrAppend(&md, absl::StrFormat("| %s | %d | %d | %d / %d / %d | %d of %d | %.1f s |\n", VariantName(r.variant),
                                   r.submitted, r.bound, r.evicted_by_tier[0], r.evicted_by_tier[1],
                                   r.evicted_by_tier[2], r.tier0_off_pool, r.tier0_checked, r.wall_seconds));
  }
  StrAppend(&md, "\n### Pending time by pod shape, all tiers (p95 / p99; pod-hours waited in total)\n\n| shape | pods |");
  for (const VariantResult& r : results) StrAppend(&md, " ", VariantName(r.variant), " |");
  StrAppend(&md, "\n|---|---|");
  for (size_t i = 0; i < results.size(); ++i) StrAppend(&md, "---|");
  StrAppend(&md, "\n");
  for (int k = 0; k < kNumShapeClasses; ++k) {
    StrAppend(&md, "| ", kShapeClasses[k], " | ", results.empty() ? 0 : results[0].by_shape[k].wait.n, " |");
    for (const VariantResult& r : results) {
      StrAppend(&md, " ", Dur(r.by_shape[k].wait.p95), " / ", Dur(r.by_shape[k].wait.p99), "; ",
                absl::StrFormat("%.0f h", r.by_shape[k].waited_hours), " |");
    }
    StrAppend(&md, "\n");
  }
  StrAppend(&md, "\nPod counts are the first variant's submissions (preempted pods are resubmitted, so they differ a little). "
                 "Multi-GPU gangs of 8-GPU pods need whole empty nodes at once; they wait longest in every variant.\n");
  StrAppend(&md, "\n### Each team's mean GPU use against its guaranteed (mean usage / guaranteed)\n\n| team (Helios VC) | "
                 "guaranteed GPUs | demand factor |");
  for (const VariantResult& r : results) StrAppend(&md, " ", VariantName(r.variant), " |");
  StrAppend(&md, "\n|---|---|---|");
  for (size_t i = 0; i < results.size(); ++i) StrAppend(&md, "---|");
  StrAppend(&md, "\n");
  for (size_t t = 0; t < w->teams.size(); ++t) {
    const Team& tm = w->teams[t];
    StrAppend(&md, absl::StrFormat("| %s (%s, %d) | %d | %.2f |", tm.name, tm.helios_id, tm.helios_gpus,
                                   tm.guaranteed_gpus(), tm.load));
    for (const VariantResult& r : results) {
      StrAppend(&md, tm.guaranteed_gpus() > 0 ? absl::StrFormat(" %.2f (%.0f) |", r.teams[t].share, r.teams[t].mean_gpus)
                                              : absl::StrFormat(" - (%.0f) |", r.teams[t].mean_gpus));
    }
    StrAppend(&md, "\n");
  }
  StrAppend(&md, "\nCells: mean usage / guaranteed (mean GPUs in use). The demand factor is the team's share of jobs "
                 "relative to its VC share.\n\n");
  const std::string not_ahead = NotAhead(results);
  StrAppend(&md, "## Where Drover is not ahead (automatic: a Drover variant more than 2% behind the best of a and b; "
                 "for waits, also more than 5 s, the simulator's arrival granularity being 1 s)\n\n",
            not_ahead, "\n", appendix);
  *summary = StrCat(table, "\nWhere Drover is not ahead:\n\n", not_ahead);
  StrAppend(&md, "## Charts and data\n\n![GPU allocation](alloc.svg)\n![Pods waiting](pending.svg)\n"
                 "![Tier-0 pods waiting](pending_tier0.svg)\n![Free nodes](free_nodes.svg)\n![Stranded GPUs](stranded.svg)\n\n"
                 "`replay.csv` (one row per variant), `teams.csv`, `timeseries.csv` (every 5 min), and the quota "
                 "documents: `queues-<variant>.yaml`.\n\n");
  StrAppend(&md, absl::StrFormat("## Reproduce\n\n```sh\n%s\n```\n\nWall time %.0f s for the whole run (workload "
                                 "generation plus %d variants, one thread).\n",
                                 args.command, total_s, results.size()));
  for (const VariantResult& r : results) {
    for (size_t i = 0; i < r.violations.size() && i < 5; ++i) {
      StrAppend(&md, "\n! ", VariantName(r.variant), ": ", r.violations[i]);
    }
  }
  WriteFile(out + "/report.md", md);
  std::fputs(md.c_str(), stdout);
  bool ok = true;
  for (const VariantResult& r : results) ok = ok && r.violations.empty();
  return ok ? 0 : 3;
}

int Main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: replay_bench [--quick] [--scenario day|overload] [--seed N] [--stride K] [--peak-hours H]\n"
                 "         [--offpeak-hours H] [--peak-load X] [--offpeak-load X] [--initial-load X] [--guaranteed F]\n"
                 "         [--drover-preemption-delay S] [--pod-list FILE] [--openb DIR] [--helios CSV]\n"
                 "         [--variants a-default,b-v1-pools,c-drover-binpack,c-drover-frag] [--check-invariants] [--out DIR]\n"
                 "         [--decisions FILE]\n");
    return 2;
  }
  if (!args.decisions.empty() && (args.decisions_file = std::fopen(args.decisions.c_str(), "w")) == nullptr) {
    std::fprintf(stderr, "replay_bench: cannot write %s\n", args.decisions.c_str());
    return 1;
  }
  const std::string custom = args.loads_given ? ", with the loads given on the command line" : "";
  if (!args.scenario.empty() || args.loads_given) {
    std::string summary;
    const std::string name = args.scenario.empty() ? "day" : args.scenario;
    return RunScenario(args, StrCat(name, custom), args.spec, args.out, "", &summary);
  }
  // Both: the overload first, so that the day report can sum it up.
  ReplaySpec overload = args.spec;
  ApplyOverload(&overload);
  std::string overload_summary, day_summary;
  const int rc = RunScenario(args, "sustained overload", overload, args.out + "/overload", "", &overload_summary);
  if (rc != 0 && rc != 3) return rc;
  const std::string appendix = StrCat(
      "## The same comparison under sustained overload\n\n",
      "[overload/report.md](overload/report.md): 6 h at 1.5x the cluster's GPUs of offered demand, then 10 h at 0.5x, "
      "opening with 1.5x in flight, so demand stays above capacity for most of the window. Nobody's waits stay "
      "short there; quotas decide who waits.\n\n",
      overload_summary, "\n");
  const int rc2 = RunScenario(args, "a working day", args.spec, args.out, appendix, &day_summary);
  return rc2 != 0 ? rc2 : rc;
}

}  // namespace
}  // namespace drover::replay

int main(int argc, char** argv) { return drover::replay::Main(argc, argv); }
