// The admission webhook's view of the quota document in force: the queue tree
// (for queue lookup, submit grants, tiers and guarantees), each queue's rule modes
// with inheritance resolved, and the CPU/memory-per-GPU bounds and defaults per
// GPU type. Immutable once built; the daemon builds a new one when the document or
// the GPU node shapes change, and reviews in flight keep the one they started with.
//
//   GpuNodeShapes shapes;
//   AddNodeShape(&shapes, catalog, node);                 // for every GPU node
//   auto policy = std::make_shared<const AdmissionPolicy>(config, shapes, "drover");
//   const RuleSet& rules = policy->Rules(leaf);           // leaf = kNoQueue: root's
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "queues/config.h"
#include "queues/queue_tree.h"

namespace drover::admission {

// The most CPU and memory per GPU that a schedulable node of one GPU type offers
// (allocatable / GPUs, the largest over the type's nodes): the shape a 1-of-8-GPU
// pod is judged against.
struct GpuNodeShape {
  int64_t cpu_millis_per_gpu = 0;
  int64_t memory_bytes_per_gpu = 0;
  int64_t example_cpu_millis = 0;  // the node that set the bound, for messages
  int64_t example_memory_bytes = 0;
  int example_gpus = 0;
  bool operator==(const GpuNodeShape&) const = default;
};
using GpuNodeShapes = std::vector<GpuNodeShape>;  // indexed by GpuTypeId; 0 = no node of the type

// Folds one node into `shapes` (grown as needed). Nodes without GPUs, with an
// unresolved type or not schedulable are skipped.
void AddNodeShape(GpuNodeShapes* shapes, const Node& node);

// Every rule's mode for one queue, inherited from the parent where unset.
struct RuleSet {
  RuleMode proportional = RuleMode::kEnforce;
  RuleMode queue = RuleMode::kEnforce;
  RuleMode gpu_type = RuleMode::kEnforce;
  RuleMode tier0 = RuleMode::kEnforce;
  RuleMode intent = RuleMode::kEnforce;
  RuleMode submit = RuleMode::kEnforce;
  std::optional<int64_t> cpu_millis_per_gpu;     // the queue's own bound (inherited)
  std::optional<int64_t> memory_bytes_per_gpu;
  std::string bound_set_by;                      // "root.research.admission" when one is set
};

// A bound per GPU and where it comes from, for the denial message.
struct PerGpuBound {
  std::optional<int64_t> cpu_millis;
  std::optional<int64_t> memory_bytes;
  std::string cpu_source;     // "root.dev.admission.cpu_per_gpu", "proportional policy of A100", ...
  std::string memory_source;
  bool charge = false;        // from a proportional policy with action: charge (the scheduler admits and charges)
};

class AdmissionPolicy {
 public:
  // `scheduler_name` is the name droverd schedules ("drover").
  AdmissionPolicy(const QueueConfig& config, GpuNodeShapes shapes, std::string scheduler_name);

  const QueueTree& tree() const { return tree_; }
  const QueueConfig& config() const { return tree_.config(); }
  const GpuCatalog& catalog() const { return tree_.config().catalog; }
  const std::string& scheduler_name() const { return scheduler_name_; }
  const GpuNodeShapes& shapes() const { return shapes_; }

  // The rules of queue `q`; kNoQueue (the pod's queue is unknown) gives root's.
  const RuleSet& Rules(QueueId q) const { return rules_[q == kNoQueue ? tree_.root() : q]; }
  // Whether pods of `ns` go to Drover whatever they ask (admission.scheduler_namespaces).
  bool OptedIn(const std::string& ns) const;

  // The CPU and memory a pod in `leaf` may ask per GPU when it lands on type `t`:
  // the queue's admission bound, else the type's proportional policy, else the
  // type's node shape plus admission.shape_slack_percent; unset = no bound.
  PerGpuBound BoundFor(QueueId leaf, GpuTypeId t) const;
  // Requests per GPU filled into a GPU pod of type `t` that asks none:
  // admission.requests_per_gpu, else the node shape (no slack); unset = none known.
  std::optional<int64_t> DefaultCpuPerGpu(GpuTypeId t) const;
  std::optional<int64_t> DefaultMemoryPerGpu(GpuTypeId t) const;

 private:
  void ResolveRules(QueueId q, const RuleSet& parent, const std::vector<const QueueSpec*>& specs);

  QueueTree tree_;
  GpuNodeShapes shapes_;
  std::string scheduler_name_;
  std::vector<RuleSet> rules_;  // by QueueId
};

// The GPU types a pod may land on: its drover.io/gpu-type resolved through the
// catalog, or every type when it names none or names one that does not resolve.
GpuTypeMask CandidateTypes(const GpuCatalog& catalog, const Pod& pod);

}  // namespace drover::admission
