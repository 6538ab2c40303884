// Runs one variant of the contended replay (sim/replay.h) through
// server/RunSimulation, in slices of `sample_ms` of virtual time up to the end of
// the arrival window, sampling the cluster between slices, and measures it.
//
//   ASSIGN_OR_RETURN(replay::VariantResult r, replay::RunVariant(workload, replay::Variant::kDroverFrag, {}));
//
// Pending time counts every submission (a preempted pod's resubmission too), until it
// is bound or, if still waiting, until the horizon, as sim/report.h does.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/replay.h"
#include "sim/report.h"

namespace drover::replay {

struct Sample {
  double hours = 0;
  double alloc = 0;  // GPU allocation ratio over the slice that ends here
  int free_nodes = 0;       // GPU nodes with nothing on them
  int free_open = 0;        // of those, open to every pod (not a variant-b Tier-0 pool)
  double tier0_gpus = 0;    // GPUs held by running Tier-0 pods
  int64_t stranded = 0;     // whole idle GPUs on partly used nodes
  int64_t pending = 0;      // pods waiting
  int64_t pending_tier0 = 0;
};

struct TeamResult {
  double mean_gpus = 0;  // time-weighted mean GPUs in use over the window
  double share = 0;      // mean_gpus / guaranteed GPUs (0 if nothing is guaranteed)
};

// Pods grouped by shape, for pending time: which shapes wait is where variants differ.
inline constexpr const char* kShapeClasses[] = {"CPU only",        "shared GPU (< 1)",   "1 GPU",
                                                "2-7 GPUs",        "8 GPUs",             "gang member, 2-7 GPUs",
                                                "gang member, 8 GPUs"};
inline constexpr int kNumShapeClasses = 7;

struct ShapeWait {
  Percentiles wait;        // seconds, every submission of the class
  double waited_hours = 0; // pod-hours spent waiting, summed
};

struct VariantResult {
  Variant variant = Variant::kDefault;
  std::string policy;
  RunReport report;  // the standard end-of-run report at the horizon
  Percentiles pending_all;
  Percentiles pending[3];  // by the workload's tier, seconds
  int64_t submitted = 0, bound = 0, still_pending = 0, completed = 0;
  int64_t preemptions = 0;
  int64_t evicted_by_tier[3] = {0, 0, 0};
  double alloc_mean = 0;  // time-weighted over [0, horizon]
  double free_nodes_mean = 0;
  int free_nodes_end = 0;
  double free_open_mean = 0;   // free nodes any pod may use (b's idle pools excluded)
  int free_open_end = 0;
  double tier0_gpus_mean = 0;  // GPUs held by running Tier-0 pods
  int64_t tier0_pool_gpus = 0; // GPUs set aside for Tier 0, used or not (variant b's pools; 0 elsewhere)
  double stranded_mean = 0;
  int64_t stranded_end = 0;
  ShapeWait by_shape[kNumShapeClasses];
  std::vector<TeamResult> teams;  // parallel to Workload::teams
  std::vector<Sample> series;
  int64_t tier0_checked = 0;   // Tier-0 pods seen placed, summed over samples
  int64_t tier0_off_pool = 0;  // of those, on a node outside their team's pool
  double wall_seconds = 0;
  std::vector<std::string> violations;  // report.violations plus per-step ones
};

struct RunOptions {
  int64_t sample_ms = 5 * 60 * 1000;
  bool check_invariants_every_step = false;
  // Every decision is also written here (bench/decision_log.h), under a "## <variant>" line. nullptr: none.
  std::FILE* decisions = nullptr;
};

absl::StatusOr<VariantResult> RunVariant(const Workload& w, Variant v, const RunOptions& options);

}  // namespace drover::replay
