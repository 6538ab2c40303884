// The end-of-run report: a table for people and JSON for machines.
//
// Figures: pods submitted / scheduled / completed / pending / rejected; pending
// time percentiles (bound pods count their wait, pods still pending count the wait
// so far); GPU allocation ratio (time-weighted mean and peak); GPU nodes entirely
// free, nodes with idle GPUs and stranded GPUs (idle on partly used nodes) at the
// end; preemptions; per-queue guaranteed, max, peak usage, borrowed and pending
// time by tier; and the invariant check result.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "placement/engine.h"
#include "sim/simulator.h"

namespace drover {

struct Percentiles {
  double p50 = 0, p95 = 0, p99 = 0, max = 0;
  size_t n = 0;
};
Percentiles ComputePercentiles(std::vector<double> values);

struct RunReport {
  std::string policy;
  int64_t virtual_end_s = 0;
  double wall_seconds = 0;
  int64_t peak_rss_kb = 0;
  // Drover's pods only: submitted = workload_pods + resubmitted (pods recreated after
  // an eviction or a lost node, as their controller would).
  int64_t submitted = 0, scheduled = 0, completed = 0, pending = 0, rejected = 0, preemptions = 0;
  int64_t workload_pods = 0, resubmitted = 0;
  std::map<std::string, int64_t> other_schedulers;  // schedulerName -> pods left to it (not in the figures)
  Percentiles pending_s;
  std::vector<std::pair<int, Percentiles>> pending_by_tier;
  double gpu_alloc_mean = 0, gpu_alloc_peak = 0;
  bool gpu_alloc_mean_defined = true;  // false when no virtual time passed (pods without durations)
  double gpu_alloc_end = 0;
  int nodes = 0, gpu_nodes_free = 0, nodes_idle_gpus = 0;
  int64_t stranded_gpus = 0;
  // Time-weighted means over the simulated run (what the "at end" figures miss).
  double gpu_nodes_free_mean = 0, stranded_gpus_mean = 0;
  int64_t preemptions_in_queue = 0, preemptions_reclaim = 0;  // the engine's decisions, by kind
  struct QueueRow {
    std::string path;
    std::string guaranteed, max, peak, borrowed, peak_borrowed;  // GPUs per type, "-" for none
    // The same as numbers (GPUs per type, only types above 0; max: only types where it
    // is below the cluster's, except on root).
    using GpuAmounts = std::vector<std::pair<std::string, double>>;
    GpuAmounts guaranteed_gpus, max_gpus, peak_gpus, borrowed_gpus, peak_borrowed_gpus;
    std::string note;  // "draining", "above max since a configuration change"
    Percentiles p_tier[3];  // pending time of the pods of the subtree, by tier
  };
  std::vector<QueueRow> queues;
  std::vector<std::string> violations;
  std::vector<std::pair<int64_t, std::string>> top_pending_reasons;
  std::string stored;  // what the daemon kept in its store, one line ("" = nothing said)  // still pending at the end
};

RunReport BuildReport(const SimCluster& sim, const Engine& engine, double wall_seconds);
std::string FormatReportTable(const RunReport& r);
std::string FormatReportJson(const RunReport& r);
int64_t PeakRssKb();

}  // namespace drover
