// The runtime queue tree: usage per queue and GPU type, admission against max,
// guaranteed and borrowing, tiers, and each queue's fair share.
//
//   QueueTree tree(config);
//   tree.SetClusterCapacity(capacity);            // root's max when not configured
//   ASSIGN_OR_RETURN(QueueId leaf, tree.LeafFor(pod));
//   std::string why = tree.CheckAdmit(leaf, charge, tier);   // "" = admitted
//   tree.Add(leaf, charge, tier);                 // on bind; Remove on complete/evict
//
// Invariant: a queue's usage is the sum of the charges of its subtree's bound pods,
// and (for admissions made through CheckAdmit) never above its effective max.
// Semantics are documented in queues/README.md ("Semantics").
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/gpu_catalog.h"
#include "core/model.h"
#include "queues/config.h"

namespace drover {

using QueueId = int32_t;
inline constexpr QueueId kNoQueue = -1;

// Quota dimensions: cpu, memory, then one per GPU type id.
inline constexpr int kQCpu = 0;
inline constexpr int kQMemory = 1;
inline constexpr int kQDims = 2 + kMaxGpuTypes;
inline constexpr int QGpu(GpuTypeId t) { return 2 + t; }
using QVec = std::array<int64_t, kQDims>;

// What one bound pod costs its queue: cpu, memory and GPUs of the type it landed on.
struct Charge {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  GpuTypeId gpu_type = kNoGpuType;
  int64_t gpu_millis = 0;
  bool operator==(const Charge&) const = default;
};

struct Queue {
  std::string name;
  std::string path;
  QueueId parent = kNoQueue;
  std::vector<QueueId> children;
  double weight = 1.0;
  bool draining = false;   // removed from config while pods still run in it
  bool over_max_by_config = false;  // a new revision lowered max below usage: admits nothing until under
  bool max_lowered_by_config = false;  // was over max when this revision was applied (till the next one)
  QVec guaranteed{};       // explicit, or the sum of the children's for a parent
  QVec max_explicit{};     // -1 = not set (inherit)
  QVec max{};              // effective: explicit, else parent's, root's = cluster
  QVec usage{};
  QVec usage_tier0{};      // Tier 0 usage, which must stay within guaranteed
  QVec peak_usage{};
  QVec peak_borrowed{};    // highest usage above guaranteed seen, per dimension
  QueueLimits limits;
  SubmitAcl submit;
  int64_t running_pods = 0;
  int64_t pending_pods = 0;  // subtree pods waiting (counted against max_pending_pods)
  // Applications (a gang, a controller's pods, or a bare pod) in the subtree: with a
  // pod running, and with pods waiting but none running (max_*_apps).
  int64_t running_apps = 0;
  int64_t pending_apps = 0;
  int64_t running_by_tier[3] = {0, 0, 0};  // this queue's own pods (leaves)
  bool leaf() const { return children.empty(); }
};

// Who creates a pod, as the API server tells an admission webhook (userInfo): the
// scheduler itself never knows, so submit.users/groups are checked at admission only.
struct Requester {
  std::string username;
  std::vector<std::string> groups;
};

class QueueTree {
 public:
  explicit QueueTree(const QueueConfig& config);

  // Root's max for dimensions not configured; recomputes effective max everywhere.
  void SetClusterCapacity(const QVec& capacity);
  const QVec& cluster_capacity() const { return cluster_; }
  // Changes whenever SetClusterCapacity changes the capacity (shares depend on it).
  uint64_t capacity_generation() const { return capacity_generation_; }

  // The leaf queue for a pending pod: pod.intent.queue (drover.io/queue), then the namespace
  // mapping, then the default queue. Errors say which rule failed and why.
  absl::StatusOr<QueueId> LeafFor(const Pod& pod) const;
  // "" if `pod` may use `leaf` when it names it in its drover.io/queue annotation:
  // some queue on the path grants its namespace (submit.namespaces), or its namespace
  // is mapped to `leaf`, or `leaf` is the default queue, or no queue declares `submit`,
  // or the principal of its drover.io/submit-grant annotation (written and checked by
  // the admission webhook) is in submit.users/groups on the path.
  // Else why not, naming the namespace, the queue and who may.
  std::string CheckSubmit(QueueId leaf, const Pod& pod) const { return CheckSubmit(leaf, pod, nullptr); }
  // The same, where `requester` (not null: at admission) is also granted by
  // submit.users and submit.groups on the path (and the annotation is ignored).
  std::string CheckSubmit(QueueId leaf, const Pod& pod, const Requester* requester) const;
  // The principal through which `requester` may use `leaf`: "user:NAME" when
  // submit.users on the path names it, else "group:NAME" for its first granted
  // group; "" when neither (namespace grants are not looked at).
  std::string RequesterGrant(QueueId leaf, const Requester& requester) const;
  // The leaf for a pod already running: like LeafFor, but a queue that no longer
  // exists is re-created as a draining leaf so its usage stays accounted.
  QueueId LeafForRunning(const Pod& pod);
  // Tier from pod.intent (annotation drover.io/tier), then the priority class
  // mapping, then the default. A malformed annotation is the engine's to reject
  // (pod.intent.invalid); here it counts as absent.
  int TierFor(const Pod& pod) const;

  // Charge for a pod landing on a GPU type (kNoGpuType for CPU-only). Applies the
  // proportional policy: error text when it rejects the pod.
  absl::StatusOr<Charge> ChargeFor(const Pod& pod, GpuTypeId landed_type) const;

  // "" if `charge` fits under max for the leaf and every ancestor (and, for Tier 0,
  // within the leaf's guaranteed); otherwise the reason, naming queue, dimension
  // and numbers: "queue root.research at max for A100 (32/32)". A draining leaf, or
  // a queue on the path left above its max by a configuration change, admits nothing.
  std::string CheckAdmit(QueueId leaf, const Charge& charge, int tier) const;
  // True if the leaf may use GPU type `t` at all (effective max > 0).
  bool MayUseType(QueueId leaf, GpuTypeId t) const { return queues_[leaf].max[QGpu(t)] > 0; }

  // "" if one more pending pod fits max_pending_pods on the leaf and its ancestors.
  std::string CheckPendingLimit(QueueId leaf) const;
  void AddPendingPods(QueueId leaf, int delta);
  // "" if one more running (pending) application fits max_running_apps
  // (max_pending_apps) on the leaf and its ancestors; else the reason.
  std::string CheckRunningAppLimit(QueueId leaf) const;
  bool AtRunningAppLimit(QueueId leaf) const;  // the same test, without the message
  std::string CheckPendingAppLimit(QueueId leaf) const;
  void AddRunningApps(QueueId leaf, int delta);
  void AddPendingApps(QueueId leaf, int delta);
  // The first queue from `leaf` up whose count is at its configured limit (kNoQueue
  // if none), and the same as a reason ("" if none).
  QueueId AtCountLimit(QueueId leaf, std::optional<int64_t> QueueLimits::*limit, int64_t Queue::*count) const;
  std::string CheckCount(QueueId leaf, std::optional<int64_t> QueueLimits::*limit, int64_t Queue::*count,
                         std::string_view what) const;
  // After a configuration change: flags queues whose usage is above their new
  // max (they admit nothing until under; not an invariant violation). Returns their paths.
  std::vector<std::string> MarkOverMaxByConfig();

  // Charge or uncharge a bound pod on its leaf and every ancestor. Remove clears
  // a queue's over-max flag once it is under; Add restores it if the queue was
  // flagged by this revision and is above max again (an Add that did not go
  // through CheckAdmit: a pod found running, or a Remove undone), so Remove
  // followed by Add leaves the tree as it was.
  void Add(QueueId leaf, const Charge& charge, int tier);
  void Remove(QueueId leaf, const Charge& charge, int tier);

  // The queue's fair-share key (lower goes first), max over its dimensions of:
  //   usage / guaranteed                                while usage <= guaranteed (0..1)
  //   1 + (usage - guaranteed) / cluster capacity / weight   above guaranteed
  // GPU types always count; CPU and memory only where the queue guarantees them,
  // or when it uses no GPU at all. So a queue below its guaranteed goes before
  // any queue that borrows, and weight divides only what is borrowed.
  double Share(QueueId q) const;
  // Usage above guaranteed in dimension `dim` (0 if none).
  int64_t Borrowed(QueueId q, int dim) const;

  QueueId Find(std::string_view path) const;
  const Queue& queue(QueueId id) const { return queues_[id]; }
  int size() const { return static_cast<int>(queues_.size()); }
  QueueId root() const { return 0; }
  const QueueConfig& config() const { return config_; }
  // Path from `leaf` up to the root, leaf first.
  template <typename Fn>
  void ForEachAncestor(QueueId leaf, Fn fn) const {
    for (QueueId q = leaf; q != kNoQueue; q = queues_[q].parent) fn(q);
  }
  // Removes draining queues that have become empty. Returns how many.
  int PruneDrained();

  // Problems, one per line: queues above max, usage not equal to children's sum.
  std::vector<std::string> CheckInvariants() const;

  static std::string DimName(const GpuCatalog& catalog, int dim);

 private:
  QueueId Build(const QueueSpec& spec, QueueId parent);
  QueueId AddDrainingPath(std::string_view path);
  void RecomputeMax(QueueId q);
  static bool AboveMax(const Queue& q);
  QVec SpecToVec(const QuotaSpec& spec, int64_t unset) const;

  QueueConfig config_;
  std::vector<Queue> queues_;
  absl::flat_hash_map<std::string, QueueId> by_path_;
  QVec cluster_{};
  uint64_t capacity_generation_ = 0;
};

}  // namespace drover
