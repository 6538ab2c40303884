// Inter-pod affinity, anti-affinity and topology spread as filters, with
// kube-scheduler's semantics (InterPodAffinity and PodTopologySpread plugins).
//
// TopologyIndex keeps the pods counted on nodes by label, so a selector finds the
// pods it may match without a scan of the cluster, and the pods carrying required
// anti-affinity (the symmetry rule reads them for every incoming pod). It is built
// the first time a pod with constraints is seen (Enable): until then a cluster
// without constraints pays nothing. Pods placed in the cycle are assumed in the
// snapshot at once, so they count for the next decision (the snapshot's pod
// listener keeps the index current).
//
// ConstraintCheck is one pod's PreFilter state: per topology domain, the counts
// its terms and constraints read, computed once per placement (O(pods its
// selectors may match) + the eligible domains, cached per node generation); then
// Check(node) is a few label lookups.
//
//   TopologyIndex index(&snapshot);  index.Enable();  snapshot.set_pod_listener(...OnCounted...)
//   ConstraintCheck check;
//   if (check.Prepare(pod, index)) f = check.Check(node);   // kNone if it passes
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "core/snapshot.h"
#include "placement/filters.h"

namespace drover {

class TopologyIndex {
 public:
  explicit TopologyIndex(const Snapshot* snapshot) : snapshot_(snapshot) {}
  bool enabled() const { return enabled_; }
  // Indexes every counted pod; from then on OnCounted must follow the snapshot.
  void Enable();
  // The snapshot's pod listener (Snapshot::set_pod_listener).
  void OnCounted(PodId id, bool counted);
  // A node was added, removed or changed: cached eligible domains are stale.
  void OnNodesChanged() { ++node_generation_; }
  // Counted pods with required anti-affinity terms.
  const absl::flat_hash_set<PodId>& anti_pods() const { return anti_pods_; }
  // Calls fn(PodId, term index) for every required anti-affinity term of a counted
  // pod that a pod with `labels` may match (a superset; the caller matches): each
  // term is filed under a label its selector requires (matchLabels' first pair, an
  // In's values or an Exists key), so an incoming pod reads only the terms its own
  // labels can satisfy, not every anti-affinity pod in the cluster.
  template <typename Fn>
  void ForAntiTerms(const Labels& labels, Fn&& fn) const {
    for (const AntiTerm& t : anti_unanchored_) fn(t.first, t.second);
    if (anti_anchored_.empty()) return;
    for (const auto& [k, v] : labels.items()) {
      for (const std::string& anchor : {PairKey(k, v), std::string(k)}) {
        auto it = anti_anchored_.find(anchor);
        if (it == anti_anchored_.end()) continue;
        for (const AntiTerm& t : it->second) fn(t.first, t.second);
      }
    }
  }
  // Calls fn(PodId) for every counted pod `sel` may match (a superset; the caller matches).
  template <typename Fn>
  void ForCandidates(const LabelSelector& sel, Fn&& fn) const {
    if (!sel.present) return;
    for (PodId id : *Candidates(sel)) fn(id);
  }
  // Per node slot: 1 if the node is eligible for `c` of `pod` (has every key in
  // `keys`, and passes node affinity / taints as c's policies say), and the
  // domains (values of c.topology_key) of the eligible nodes. Cached.
  struct Domains {
    std::vector<uint8_t> eligible;
    std::vector<std::string> values;
  };
  const Domains& EligibleDomains(const Pod& pod, const SpreadConstraint& c, const std::vector<std::string>& keys) const;
  const Snapshot& snapshot() const { return *snapshot_; }
  // The posting key of label `key`=`value` (a bare key posts "any value").
  static std::string PairKey(std::string_view key, std::string_view value);

 private:
  using PodSet = absl::flat_hash_set<PodId>;
  using AntiTerm = std::pair<PodId, int>;  // a pod and the index of one of its required anti-affinity terms
  const PodSet* Candidates(const LabelSelector& sel) const;
  const PodSet* Posting(const std::string& key) const;
  void Post(const Pod& pod, PodId id, bool add);
  void PostAntiTerms(const Pod& pod, PodId id, bool add);

  const Snapshot* snapshot_;
  bool enabled_ = false;
  PodSet all_;
  PodSet anti_pods_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<AntiTerm>> anti_anchored_;  // PairKey or key -> terms
  absl::flat_hash_set<AntiTerm> anti_unanchored_;  // selectors requiring no label: read for every pod
  absl::flat_hash_map<std::string, PodSet> postings_;  // "key\x1fvalue" and "key" (any value)
  // An In expression over several values: the union, built per call (rare).
  mutable PodSet scratch_;
  uint64_t node_generation_ = 1;
  mutable uint64_t cache_generation_ = 0;
  mutable absl::flat_hash_map<std::string, Domains> domains_;
};

// Pods treated as gone or as placed on a node, for checks over a hypothetical
// cluster (preemption: victims gone, the workload's earlier members placed).
struct TopologyOverlay {
  absl::flat_hash_set<PodId> gone;
  std::vector<std::pair<const Pod*, NodeId>> added;
};

class ConstraintCheck {
 public:
  // Computes `pod`'s state. False when no required rule applies to it (no hard
  // constraint of its own and no counted pod with required anti-affinity): then
  // every node passes and Check need not be called.
  bool Prepare(const Pod& pod, const TopologyIndex& index, const TopologyOverlay* overlay = nullptr);
  // The first rule `node` fails, in kube-scheduler's order (PodTopologySpread,
  // then InterPodAffinity: affinity, anti-affinity, existing pods' anti-affinity);
  // kNone if it passes them all.
  FilterFailure Check(const Node& node) const;

  // Computes `pod`'s preferences: preferred affinity (+weight per matching pod in
  // the node's domain), preferred anti-affinity (-weight per pod) and ScheduleAnyway
  // spread (-1 per matching pod in the domain, so emptier domains score higher), like
  // kube-scheduler's Score of both plugins before normalization. False if it has none.
  bool PrepareScore(const Pod& pod, const TopologyIndex& index);
  // The preference for `node` (higher is better); 0 without PrepareScore.
  int64_t Preference(const Node& node) const;

 private:
  using Counts = absl::flat_hash_map<std::string, int>;  // domain (label value) -> matching pods
  struct TermState {
    const PodAffinityTerm* term;
    Counts counts;
  };
  struct SpreadState {
    const SpreadConstraint* c;
    Counts counts;
    int self = 0;       // the pod matches its own selector
    int min_count = 0;  // over eligible domains (0 below minDomains)
  };
  template <typename Fn>
  void ForEachPod(const TopologyIndex& index, const LabelSelector& sel, const TopologyOverlay* overlay, Fn&& fn) const;
  void PrepareSpread(const Pod& pod, const TopologyIndex& index, const TopologyOverlay* overlay);
  void PrepareAffinity(const Pod& pod, const TopologyIndex& index, const TopologyOverlay* overlay);
  void PrepareExistingAnti(const Pod& pod, const TopologyIndex& index, const TopologyOverlay* overlay);

  std::vector<SpreadState> spread_;
  std::vector<TermState> affinity_;
  int affinity_total_ = 0;        // pods matching all affinity terms on nodes with the keys
  bool self_matches_affinity_ = false;
  std::vector<TermState> anti_;
  struct Weighted {
    std::string key;
    int64_t weight;  // per matching pod in the domain
    Counts counts;
  };
  std::vector<Weighted> preferences_;
  absl::flat_hash_map<std::string, Counts> existing_anti_;  // topology key -> domain -> pods refusing this one
};

}  // namespace drover
