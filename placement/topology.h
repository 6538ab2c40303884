// Inter-pod affinity, anti-affinity and topology spread as filters, with
// kube-scheduler's semantics (InterPodAffinity and PodTopologySpread plugins).
//
// TopologyIndex keeps the pods counted on nodes by label, so a selector finds the
// pods it may match without a scan of the cluster, and the terms of counted pods
// that reach other pods, filed by a label their selector requires (TermPostings):
// required anti-affinity (the symmetry rule's filter) and the terms that score an
// incoming pod (preferred affinity / anti-affinity, required affinity). It is built
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

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "core/snapshot.h"
#include "placement/filters.h"

namespace drover {

// The kinds of a pod's inter-pod terms that other pods' placements read.
enum class TermKind : uint8_t { kRequiredAffinity, kRequiredAnti, kPreferredAffinity, kPreferredAnti };
// `c`'s terms of `kind`.
const std::vector<PodAffinityTerm>& TermsOf(const PodConstraints& c, TermKind kind);

// Terms of counted pods, each filed under a label its selector requires
// (matchLabels' first pair, an In's values or an Exists key), so that an incoming
// pod reads only the terms its own labels can satisfy, not every pod carrying
// terms. A selector requiring no label files its term where every pod reads it.
class TermPostings {
 public:
  // One term of one pod.
  struct Ref {
    PodId pod;
    TermKind kind;
    int term;  // index into TermsOf(pod's constraints, kind)
    bool operator==(const Ref&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const Ref& r) {
      return H::combine(std::move(h), r.pod, r.kind, r.term);
    }
  };
  // Files (add) or withdraws `pod`'s (slot `id`) terms of `kind`.
  void Post(const Pod& pod, PodId id, TermKind kind, bool add);
  bool empty() const { return anchored_.empty() && unanchored_.empty(); }
  // Calls fn(Ref) for every filed term a pod with `labels` may match (a superset:
  // the caller matches), each at most once.
  template <typename Fn>
  void ForTerms(const Labels& labels, Fn&& fn) const {
    for (const Ref& r : unanchored_) fn(r);
    if (anchored_.empty()) return;
    for (const auto& [k, v] : labels.items()) {
      for (const bool pair : {true, false}) {
        key_.assign(k);
        if (pair) StrAppendPairValue(&key_, v);
        auto it = anchored_.find(key_);
        if (it == anchored_.end()) continue;
        for (const Ref& r : it->second) fn(r);
      }
    }
  }
  // The posting key of label `key`=`value` (a bare key posts "any value").
  static std::string PairKey(std::string_view key, std::string_view value);
  // The labels a pod must carry to match `sel`, as posting keys to file the
  // selector under (PairKey or a bare key), each a different value of one key so
  // that a pod reaches it through one of them at most; empty: read for every pod
  // (no requirement to file it under, or a selector that is absent).
  static std::vector<std::string> Anchors(const LabelSelector& sel);
  // Turns a key already in *key into PairKey(key, value) without a new string.
  static void StrAppendPairValue(std::string* key, std::string_view value);

 private:

  absl::flat_hash_map<std::string, absl::flat_hash_set<Ref>> anchored_;  // PairKey or key -> terms
  absl::flat_hash_set<Ref> unanchored_;  // selectors requiring no label: read for every pod
  mutable std::string key_;              // ForTerms' lookup key, reused
};

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
  // The required anti-affinity terms of counted pods (the symmetry rule's filter).
  const TermPostings& anti_terms() const { return anti_terms_; }
  // The terms of counted pods that score an incoming pod they match (kube-scheduler's
  // InterPodAffinity Score symmetry): preferred affinity and anti-affinity, and
  // required affinity (hardPodAffinityWeight).
  const TermPostings& score_terms() const { return score_terms_; }
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

 private:
  using PodSet = absl::flat_hash_set<PodId>;
  const PodSet* Candidates(const LabelSelector& sel) const;
  const PodSet* Posting(const std::string& key) const;
  void Post(const Pod& pod, PodId id, bool add);

  const Snapshot* snapshot_;
  bool enabled_ = false;
  PodSet all_;
  PodSet anti_pods_;
  TermPostings anti_terms_;
  TermPostings score_terms_;
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

// How running pods' terms score an incoming pod they match (kube-scheduler's
// InterPodAffinityArgs).
struct ExistingTermsScoring {
  // Per running pod whose required affinity term matches the incoming pod, added
  // in that pod's domain (hardPodAffinityWeight: 0..100, default 1; 0 = off).
  int32_t hard_pod_affinity_weight = 1;
  // Running pods' terms count only for a pod with preferred inter-pod terms of its
  // own (ignorePreferredTermsOfExistingPods; default false).
  bool ignore_preferred_terms_of_existing_pods = false;
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

  // Computes `pod`'s preferences, like kube-scheduler's Score of both plugins
  // before normalization. Its own terms: preferred affinity (+weight per matching
  // pod in the node's domain), preferred anti-affinity (-weight per pod) and
  // ScheduleAnyway spread (-1 per matching pod in the domain, so emptier domains
  // score higher). Counted pods' terms that match `pod` (the symmetry): +weight in
  // the domain of each pod whose preferred affinity term matches it, -weight for a
  // preferred anti-affinity term, +existing.hard_pod_affinity_weight for a required
  // affinity term. False if none applies (a pod no term reaches costs the lookups
  // of its labels in index.score_terms() only).
  bool PrepareScore(const Pod& pod, const TopologyIndex& index, const ExistingTermsScoring& existing = {});
  // The preference for `node` (higher is better); 0 without PrepareScore.
  int64_t Preference(const Node& node) const;

 private:
  using Counts = absl::flat_hash_map<std::string, int>;  // domain (label value) -> matching pods
  using Scores = absl::flat_hash_map<std::string, int64_t>;  // domain (label value) -> summed preference
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
  void ScoreExistingTerms(const Pod& pod, const TopologyIndex& index, const ExistingTermsScoring& existing);
  Scores& ScoresFor(const std::string& key);  // preferences_' entry for `key`, added if missing

  std::vector<SpreadState> spread_;
  std::vector<TermState> affinity_;
  int affinity_total_ = 0;        // pods matching all affinity terms on nodes with the keys
  bool self_matches_affinity_ = false;
  std::vector<TermState> anti_;
  struct KeyScores {
    std::string key;  // a topology key
    Scores by_domain;
  };
  // One entry per topology key any preference reads (kube-scheduler's topologyScore);
  // a term of the pod's own adds its key even when it matches no pod.
  std::vector<KeyScores> preferences_;
  absl::flat_hash_map<std::string, Counts> existing_anti_;  // topology key -> domain -> pods refusing this one
};

}  // namespace drover
