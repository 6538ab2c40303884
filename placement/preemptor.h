// The Preemptor: which running pods may be evicted for a pending workload, and
// the smallest set of them that lets it run, with the history that limits how
// often a pod is preempted. One search serves single pods and gangs: a single
// pod is a gang of one member needing one node.
//
//   Preemptor preemptor({.max_preemptions_per_pod = 3, .pdb_backoff_ms = 60000});
//   PreemptionRequest req{.members = {&pod}, .leaf = leaf, .tier = 1, .priority = pod.priority,
//                         .mask = AllowedGpuTypes(pod, ...), .each_member_evicts = true};
//   if (std::optional<PreemptionPlan> plan = preemptor.Search(view, req, now_ms)) {
//     for (const std::string& v : plan->victims) preemptor.NoteEvicted(v, now_ms);   // and evict them
//   }
//
// The rules (placement/README.md, queues/README.md "Semantics"):
//  - reclaim: the workload's leaf stays within its guaranteed for the GPU type
//    even with the whole workload (and the leaf's other nominated preemptors);
//    victims run on borrowed capacity: their leaf, and their branch below the
//    common ancestor, stay at or above guaranteed without them (counting what
//    this decision and evictions under way already take);
//  - in-queue: victims in the workload's own leaf that it outranks (lower tier
//    number, or the same tier and a higher priority of its first member);
//  - never Tier 0, a pod being evicted, one a PDB protected within pdb_backoff_ms,
//    or one preempted max_preemptions_per_pod times;
//  - pods already being evicted (NoteEvicting) are never chosen again; on a node,
//    their space counts first, at no cost, where the workload could have chosen
//    them itself (reclaim, or outranked in its leaf): no new victim for space
//    already being freed;
//  - per node, victims are taken Tier 2 before Tier 1, single pods before gang
//    members, then youngest first, and the shortest prefix that frees enough wins;
//  - members are placed one by one on one GPU type (lowest rank first), each on
//    the node whose victims are fewest, then least important (sum of 2 - tier),
//    then youngest (sum of run times), then hold the fewest GPUs, given the
//    victims and members chosen before it; ties go to the index's visit order;
//  - the queues must admit the whole workload once the victims are gone.
// Invariant: the GPUs of pods being evicted are counted per queue and GPU type
// (NoteEvicting) until the pod is gone or its eviction refused.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/snapshot.h"
#include "placement/node_index.h"
#include "placement/tracked_pod.h"
#include "queues/queue_tree.h"

namespace drover {

// The cluster as the search reads it; owned by the caller, valid for the call.
struct PreemptionView {
  const Snapshot* snapshot = nullptr;
  QueueTree* tree = nullptr;  // victims are removed and added back to test admission
  const NodeIndex* index = nullptr;
  const GpuCatalog* catalog = nullptr;
  const absl::flat_hash_map<std::string, TrackedPod>* pods = nullptr;  // our pods by key
  // True for a node the workload may not use: reserved or nominated for another.
  std::function<bool(NodeId)> held_for_other;
  // When set: true if `member` may run on `node` by its inter-pod rules (affinity,
  // anti-affinity, spread, running pods' anti-affinity) once the pods `gone` have
  // left and the members `placed` before it run where chosen. A node whose victim
  // set fails it is not chosen (kube-scheduler's preemption re-runs its filters
  // with the victims removed). Unset: no pod in the cluster has such rules.
  std::function<bool(const Pod& member, NodeId node, const std::vector<std::string>& gone,
                     const std::vector<std::pair<const Pod*, NodeId>>& placed)>
      constraints_ok;
};

struct PreemptionRequest {
  std::vector<const Pod*> members;  // pending members, in the order they are placed
  QueueId leaf = kNoQueue;
  int tier = 1;
  int32_t priority = 0;             // outranks a same-tier victim of lower priority
  GpuTypeMask mask = kAnyGpuType;   // GPU types every member accepts
  // True: each member's node must give up at least one victim, even where the
  // member fits already. A single pod asks this: it comes after a failed
  // placement, so where it fits its queues refused it and only victims can change
  // that. False (gangs): a member may land where it fits, and the workload is
  // preempted for only if some member needs victims.
  bool each_member_evicts = false;
  // GPUs of a queue dimension already held for the leaf's other preemptors (their
  // nominations), counted against its guaranteed when entitlement to reclaim is decided.
  std::function<int64_t(int dim)> nominated_gpu;
};

struct PreemptionPlan {
  GpuTypeId type = kNoGpuType;
  std::vector<std::string> victims;  // in the order chosen (gang siblings not added); may be empty if `leaving` is not
  std::vector<NodeId> member_nodes;  // per member of the request, the node it goes to
  std::vector<std::string> leaving;  // pods already being evicted whose space it counts on
};

class Preemptor {
 public:
  struct Options {
    int max_preemptions_per_pod = 3;
    int64_t pdb_backoff_ms = 60 * 1000;
    int64_t forget_preempted_after_ms = 60 * 60 * 1000;
  };
  explicit Preemptor(Options options) : options_(options) {}

  // The smallest victim set that lets every member of `req` run (rules above), on
  // the lowest-ranked GPU type where one exists; nullopt if none does, or if
  // every member fits without victims or pods already leaving. A plan may have no
  // victims when pods already leaving make room. Reads `view`; changes nothing.
  std::optional<PreemptionPlan> Search(const PreemptionView& view, const PreemptionRequest& req, int64_t now_ms) const;

  // History. An eviction of `pod_key` was decided.
  void NoteEvicted(const std::string& pod_key, int64_t now_ms);
  // The eviction was not carried out: it no longer counts toward
  // max_preemptions_per_pod; `blocked` (a PodDisruptionBudget refused it) keeps
  // the pod out of victim sets for pdb_backoff_ms.
  void NoteEvictionRefused(const std::string& pod_key, bool blocked, int64_t now_ms);
  // Forgets PDB back-offs past their time and the counts of pods that are not
  // `live` and were last preempted forget_preempted_after_ms ago or more. O(entries).
  void Prune(int64_t now_ms, const std::function<bool(const std::string&)>& live);
  // Entries of history kept (bounded by Prune).
  size_t retained() const { return preempted_.size() + pdb_blocked_until_.size(); }
  // Sets `pod_key`'s count, remembered from before a restart (as if last preempted at `now_ms`).
  void RestoreCount(const std::string& pod_key, int count, int64_t now_ms);
  // How often `pod_key` has been preempted (evictions not refused).
  int PreemptedCount(const std::string& pod_key) const;

  // Evictions under way. Marks `pod` (charged to `tree`) as being evicted or no
  // longer; its GPUs count against its queues' reclaimable usage meanwhile.
  void NoteEvicting(const QueueTree& tree, TrackedPod& pod, bool evicting);
  // GPUs of queue `q` in dimension `dim` held by pods being evicted.
  int64_t EvictingGpu(QueueId q, int dim) const;
  // Forgets evictions under way (the engine re-accounts every pod: ApplyConfig).
  void ForgetEvicting() { evicting_gpu_.clear(); }

 private:
  using Candidates = std::vector<std::pair<const TrackedPod*, std::string>>;  // victim, its key
  using Taken = absl::flat_hash_map<QueueId, int64_t>;  // GPUs a queue gives up in this decision
  struct Search1;  // one search's state (preemptor.cc)
  struct Offer;    // what one node would take for one member (preemptor.cc)

  bool MayEvict(const Search1& s, const std::string& key, const TrackedPod& v, const Taken& taken) const;
  // `v` is being evicted already and the search may count on its space (it could have chosen it).
  bool MayCountOn(const Search1& s, const std::string& key, const TrackedPod& v) const;
  // The request outranks `v`, a pod of its own leaf: a lower tier, or the same tier and a higher priority.
  bool Outranks(const Search1& s, const std::string& key, const TrackedPod& v) const;
  static void SortVictims(Candidates* c);
  static QueueId BranchBelowCommonAncestor(const QueueTree& tree, QueueId victim_leaf, QueueId leaf);
  static void NoteTaken(const QueueTree& tree, const TrackedPod& v, QueueId leaf, Taken* taken);
  // Places every member on type `t`; true with s->victims, s->leaving and s->nodes filled.
  bool PlaceMembers(Search1* s, GpuTypeId t) const;
  // What `pod` needs freed on node `id` given the search so far: pods already
  // leaving, then the fewest victims; nullopt if it cannot fit there, or only with
  // more than `bound` victims.
  std::optional<Offer> OfferOn(const Search1& s, const Pod& pod, NodeId id, size_t bound) const;
  // The cheapest of `offers` (pod's, node) after which `pod` satisfies its inter-pod
  // rules (view.constraints_ok); false if none does.
  bool ChooseAllowedOffer(const Search1& s, const Pod& pod, std::vector<std::pair<Offer, NodeId>>* offers,
                          NodeId* node, Offer* chosen) const;

  Options options_;
  struct Count {
    int count = 0;
    int64_t last_ms = 0;  // last eviction decided
  };
  absl::flat_hash_map<std::string, Count> preempted_;  // by pod key, survives resubmission
  absl::flat_hash_map<std::string, int64_t> pdb_blocked_until_;
  absl::flat_hash_map<int64_t, int64_t> evicting_gpu_;  // queue * kQDims + dim -> GPUs being evicted
};

}  // namespace drover
