// Node scoring policies for placement, pluggable and named.
//
//   std::unique_ptr<ScoringPolicy> p = MakePolicy("binpack");
//   double s = p->Score(pod, node, snapshot, &devices);   // higher is better
//
// The engine calls Score only for nodes that passed every filter (resources fit,
// GPU type allowed, taints, selectors, affinity), so a policy only ranks. It also
// chooses the GPU devices the pod gets on that node: `devices` must come back with
// exactly pod.gpu_devices indices, each with at least pod.gpu_milli_per_device free.
// Ties are broken by the engine (lower node id), so policies stay deterministic
// unless they are random by design (then they are seeded).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "core/model.h"
#include "core/snapshot.h"

namespace drover {

class ScoringPolicy {
 public:
  virtual ~ScoringPolicy() = default;
  virtual std::string_view name() const = 0;
  // Score of placing `pod` on `node` (feasible). Fills `devices`.
  virtual double Score(const Pod& pod, NodeId node, const Snapshot& snap, std::vector<int>* devices) = 0;
  // Sees every pod that arrives (placed or not), so a policy may learn the
  // workload's shape distribution online. Never told about the future.
  virtual void Observe(const Pod& /*pod*/) {}
  // Upper bound on how many feasible nodes the engine should score per pod (0 =
  // all). Index-friendly policies return a small number; the engine then scores
  // the candidates its indexes rank first for this policy's preference.
  virtual int CandidateLimit() const { return 0; }
  // Order in which the engine offers candidates when CandidateLimit() > 0: nodes
  // with the fewest free GPUs first (packing) or the most (spreading).
  virtual bool PrefersFullNodes() const { return true; }

  // --- Optional fast path: a policy that ranks nodes itself (node_classes.h). ---
  // Told of every change to node `id` (spec, usage, presence), as the snapshot's
  // node listener is. ForgetNodes() drops everything told so far (a new snapshot).
  virtual void NodeChanged(const Snapshot& /*snap*/, NodeId /*id*/) {}
  virtual void ForgetNodes() {}
  // Calls visit(id) for the present nodes of the GPU types in `types`, best score
  // first (equal scores: lower node id first), skipping only nodes whose CPU,
  // memory or devices cannot hold `pod`; stops when visit returns false. So the
  // first node visit accepts is the one a full scan (every feasible node scored,
  // ties to the lower id) would choose among the nodes visit accepts. Returns false,
  // visiting nothing, if the policy does not rank this pod (the caller scans).
  virtual bool VisitRanked(const Pod& /*pod*/, GpuTypeMask /*types*/, const Snapshot& /*snap*/,
                           absl::FunctionRef<bool(NodeId)> /*visit*/) {
    return false;
  }
};

// Policy names: "binpack" (most-allocated, GPUs weighted far above CPU/memory,
// lowest adequate GPU rank, best-fitting free GPUs), "spread" (least-allocated, like
// the default scheduler), "fgd" (fragmentation gradient descent), and the FGD paper's
// baselines "random", "dotprod", "gpuclustering", "gpupacking", "bestfit".
[[nodiscard]] absl::StatusOr<std::unique_ptr<ScoringPolicy>> MakePolicy(std::string_view name, uint64_t seed = 1);
std::vector<std::string> PolicyNames();

// Picks devices for `pod` on `node`: whole GPUs take the lowest-index fully free
// devices; a shared GPU takes the fullest device that still fits (best fit).
// Returns false if the pod does not fit the node's devices.
bool PickDevicesBestFit(const Pod& pod, const NodeState& node, std::vector<int>* devices);

}  // namespace drover
