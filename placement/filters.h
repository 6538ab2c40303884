// Per-node feasibility checks, the way kube-scheduler's Filter plugins do them,
// and the "0/N nodes are available: ..." explanation built from their failures.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "core/cluster.h"
#include "core/gpu_catalog.h"
#include "core/snapshot.h"

namespace drover {

enum class FilterFailure {
  kNone = 0,
  kNotReady,
  kUnschedulable,
  kNodeSelector,
  kAffinity,
  kTaint,
  kGpuType,       // GPU type not allowed for the pod or by its queue
  kInsufficientCpu,
  kInsufficientMemory,
  kInsufficientPods,
  kInsufficientEphemeral,
  kInsufficientGpu,
  kInsufficientOther,
  // Inter-pod rules (placement/topology.h), checked after resources like
  // kube-scheduler's PodTopologySpread and InterPodAffinity plugins.
  kSpreadMissingLabel,     // the node lacks a DoNotSchedule constraint's topology key
  kSpread,                 // placing here would exceed maxSkew
  kPodAffinity,            // required pod affinity not met (or the node lacks its key)
  kPodAntiAffinity,        // the pod's required anti-affinity matches a pod in the domain
  kExistingAntiAffinity,   // a pod in the domain has required anti-affinity against this one
  kReserved,      // held for a reservation of another workload
  kCount
};

// A stable name per failure, for APIs: "InsufficientGpu", "Taint", "NodeSelector", ...
std::string_view FilterFailureCode(FilterFailure f);
// kube-scheduler's words for it: "Insufficient GPUs", "node(s) had untolerated taint".
std::string_view FilterFailureText(FilterFailure f);

// How many nodes each filter turned a pod away for at one attempt: the counts
// behind FailureTally::Message without its text (non-zero ones, in FilterFailure
// order), kept on a pending workload for the admin API's explain. No allocation
// for up to 4 distinct reasons.
struct NodeFailures {
  int total_nodes = 0;  // the cluster's live nodes then: the N of "0/N nodes are available"
  absl::InlinedVector<std::pair<FilterFailure, int32_t>, 4> counts;
  bool operator==(const NodeFailures&) const = default;
};

// Checks everything except the GPU type (the caller iterates nodes by type).
// `untolerated` receives the first untolerated taint when the result is kTaint.
FilterFailure CheckNode(const Pod& pod, const NodeState& node, const ResourceVec& free,
                        const Taint** untolerated = nullptr);
// The same with free = allocatable - used - *held (held may be null), without a copy.
FilterFailure CheckNodeFree(const Pod& pod, const NodeState& node, const ResourceVec* held,
                            const Taint** untolerated = nullptr);
// The checks that read the node's spec only (the engine caches their tallies per
// pod spec until a node changes: a check that reads other pods does not belong here),
// in kube-scheduler's Filter order:
// readiness, NodeUnschedulable, TaintToleration, then NodeAffinity (selector, then
// required affinity). kNone if the node passes them all.
FilterFailure CheckNodeSpec(const Pod& pod, const Node& node, const Taint** untolerated = nullptr);
// True if the pod's devices fit on the node's devices.
bool DevicesFit(const Pod& pod, const NodeState& node);

// The GPU types a pod accepts (pod.intent.gpu_type, from drover.io/gpu-type: a
// type or class); all types when absent. On an unknown name, 0 and `*error` says why.
GpuTypeMask AllowedGpuTypes(const Pod& pod, const GpuCatalog& catalog, std::string* error);

// Aggregates failures into kube-scheduler's message shape.
class FailureTally {
 public:
  void Add(FilterFailure f, const NodeState& node, const Taint* taint, const GpuCatalog& catalog);
  void AddQueueReason(const std::string& reason);
  // The pod's queues admitted it on some GPU type (or CPU-only): nodes, not quota, turned it away.
  void NoteAdmitted() { admitted_ = true; }
  // kQueueAtMax if its queues refused it on every type it may use; else
  // kReservedElsewhere if a node held for another workload turned it away; else kUnschedulable.
  PendingCode Code() const;
  // `n` nodes skipped by an index for failure `f` (no per-node detail).
  void AddCount(FilterFailure f, int n, const std::string& gpu_type);
  int nodes() const { return nodes_; }
  // Adds `part`'s node counts, and its examples where this tally has none yet (as
  // if part's nodes had been added here one by one). Queue reasons are not merged.
  void Merge(const FailureTally& part);
  // The per-filter node counts of Message(total_nodes).
  NodeFailures Counts(int total_nodes) const;
  // Cheap fingerprint of what Message() would say (to skip formatting repeats).
  uint64_t Signature() const;
  // "0/120 nodes are available: 80 Insufficient A100 GPUs, 40 node(s) had untolerated taint {gpu: reserved}; queue ..."
  std::string Message(int total_nodes) const;

 private:
  std::array<int, static_cast<int>(FilterFailure::kCount)> counts_{};
  std::string taint_example_;
  std::string gpu_example_;
  std::vector<std::string> queue_reasons_;
  int nodes_ = 0;
  bool admitted_ = false;
};

}  // namespace drover
