// The "fill" experiment of the FGD paper (Weng et al., ATC'23), as its simulator
// runs it on the openb trace (shared/traces/alibaba-gpu-v2023-openb/README.md):
// pods arrive one at a time, each is placed at once or dropped, until the GPU
// requests that arrived reach 130% of the cluster's GPUs; the metric is the share
// of GPUs still unallocated when arrivals reach 100%.
//
//   FillOptions opt;  opt.seed = 42;
//   ASSIGN_OR_RETURN(auto policy, MakePolicy("fgd", opt.seed));
//   ASSIGN_OR_RETURN(FillResult r, RunFill(nodes, pods, catalog, policy.get(), opt));
//   r.unallocated_at_100;   // e.g. 4.8 (%)
//
// Placement goes through a real Snapshot (Assume), and the run fails if the
// snapshot's invariants or its GPU accounting disagree with the run's own at the end.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/gpu_catalog.h"
#include "core/model.h"
#include "core/snapshot.h"
#include "placement/policy.h"

namespace drover::fill {

// The arrival sequence, as indexes into `pods` (an index may repeat: a copy).
//  1. pods sorted by name, then shuffled with `seed`;
//  2. if their GPU requests exceed `ratio` x `capacity_milli`, random pods are
//     removed until they do not; otherwise copies of pods drawn uniformly at random
//     (with replacement) are appended until the next draw would pass it.
std::vector<int> ArrivalOrder(const std::vector<Pod>& pods, int64_t capacity_milli, double ratio, uint64_t seed);

// Allocation after every pod, bucketed by arrival rounded to an integer percent.
class ArrivalCurve {
 public:
  explicit ArrivalCurve(int64_t capacity_milli) : capacity_milli_(capacity_milli) {}
  // Call after every pod: cumulative GPU milli requested (failed pods included)
  // and GPU milli bound so far.
  void Record(int64_t arrived_milli, int64_t allocated_milli);
  // Mean allocation % of the pods in each arrival bucket 0..max; NaN where empty.
  std::vector<double> MeanAllocation() const;
  // 100 - mean allocation % at `arrival_pct` (at the nearest lower non-empty
  // bucket if that one is empty; 100 if none).
  double UnallocatedAt(int arrival_pct) const;

 private:
  int64_t capacity_milli_;
  std::vector<double> sum_;
  std::vector<int> count_;
};

struct FillOptions {
  double inflation = 1.3;  // arrivals stop at this share of the cluster's GPUs
  uint64_t seed = 42;
};

struct FillResult {
  std::vector<double> allocation_by_arrival;  // ArrivalCurve::MeanAllocation()
  double unallocated_at_100 = 0;              // %
  int pods = 0;                               // arrivals, copies included
  int placed = 0;
  int failed = 0;
  int64_t capacity_milli = 0;
  int64_t arrived_milli = 0;
  int64_t allocated_milli = 0;
  double seconds = 0;  // wall time of the placement loop
  // FNV-1a over every arrival in order: its name, then its node and devices, or
  // "-" if it was dropped. Two builds that place alike give the same digest.
  uint64_t decisions_digest = 0;
  // GPU milli of the pods that failed before arrivals passed 100% (what the metric
  // counts), by kind: [0] shared GPU, [1] one whole GPU, [2] 2-7 GPUs, [3] 8+ GPUs.
  int64_t failed_milli_by_kind[4] = {0, 0, 0, 0};
};

// The fill's filter: `node` has the CPU, memory and pod slots `pod` asks, and for a
// GPU pod a type in `types` and gpu_devices devices with gpu_milli_per_device free.
bool FitsNode(const Pod& pod, GpuTypeMask types, const NodeState& node);

// Runs the fill of `pods` on `nodes` with `policy` (fresh: it learns online). The
// catalog must know every node's GPU type and every pod's drover.io/gpu-type.
// Errors: a policy returned invalid devices, or the snapshot disagrees at the end.
absl::StatusOr<FillResult> RunFill(const std::vector<Node>& nodes, const std::vector<Pod>& pods,
                                   const GpuCatalog& catalog, ScoringPolicy* policy, const FillOptions& options);

}  // namespace drover::fill
