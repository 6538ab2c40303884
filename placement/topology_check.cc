// ConstraintCheck (placement/topology.h): one pod's PreFilter state and the
// per-node Filter of kube-scheduler's PodTopologySpread and InterPodAffinity, and
// their preferences (Score), a tie-break here.
#include <algorithm>
#include <climits>

#include "placement/topology.h"

namespace drover {
namespace {

// Counted (and not gone) pods of `index` matching `sel`, then the overlay's added ones.
const std::string* DomainOf(const Snapshot& snap, NodeId node, const std::string& key) {
  return snap.node(node).node.labels.Get(key);
}

bool MatchesAllTerms(const std::vector<PodAffinityTerm>& terms, std::string_view owner_ns, const Pod& other,
                     const NamespaceLabels& namespaces) {
  for (const PodAffinityTerm& t : terms) {
    if (!TermMatches(t, owner_ns, other.namespace_, other.labels, namespaces)) return false;
  }
  return true;
}

template <typename Map>
typename Map::mapped_type CountAt(const Map& counts, const std::string& value) {
  auto it = counts.find(value);
  return it == counts.end() ? 0 : it->second;
}

}  // namespace

template <typename Fn>
void ConstraintCheck::ForEachPod(const TopologyIndex& index, const LabelSelector& sel, const TopologyOverlay* overlay,
                                 Fn&& fn) const {
  const Snapshot& snap = index.snapshot();
  index.ForCandidates(sel, [&](PodId id) {
    if (overlay != nullptr && overlay->gone.contains(id)) return;
    const PodEntry& e = snap.pod(id);
    fn(e.pod, e.counted_on);
  });
  if (overlay == nullptr) return;
  for (const auto& [pod, node] : overlay->added) fn(*pod, node);
}

bool ConstraintCheck::Prepare(const Pod& pod, const TopologyIndex& index, const TopologyOverlay* overlay) {
  spread_.clear();
  affinity_.clear();
  anti_.clear();
  existing_anti_.clear();
  affinity_total_ = 0;
  const bool existing = !index.anti_pods().empty() || (overlay != nullptr && !overlay->added.empty());
  if (!pod.constraints.HasRequired() && !existing) return false;
  PrepareSpread(pod, index, overlay);
  PrepareAffinity(pod, index, overlay);
  PrepareExistingAnti(pod, index, overlay);
  return !spread_.empty() || !affinity_.empty() || !anti_.empty() || !existing_anti_.empty();
}

void ConstraintCheck::PrepareSpread(const Pod& pod, const TopologyIndex& index, const TopologyOverlay* overlay) {
  // kube-scheduler: a node counts only if it has every DoNotSchedule constraint's key.
  std::vector<std::string> keys;
  for (const SpreadConstraint& c : pod.constraints.spread) {
    if (c.do_not_schedule) keys.push_back(c.topology_key);
  }
  const Snapshot& snap = index.snapshot();
  for (const SpreadConstraint& c : pod.constraints.spread) {
    if (!c.do_not_schedule) continue;
    SpreadState s{&c, {}, c.selector.Matches(pod.labels) ? 1 : 0, 0};
    const TopologyIndex::Domains& d = index.EligibleDomains(pod, c, keys);
    // Only domains holding matching pods get an entry (CountAt reads 0 for the others).
    ForEachPod(index, c.selector, overlay, [&](const Pod& other, NodeId node) {
      // Same namespace, not terminating, on an eligible node (PodTopologySpread's counting).
      if (other.namespace_ != pod.namespace_ || other.deleting || node < 0 ||
          node >= static_cast<NodeId>(d.eligible.size()) || !d.eligible[node] || !c.selector.Matches(other.labels)) {
        return;
      }
      if (const std::string* v = DomainOf(snap, node, c.topology_key)) ++s.counts[*v];
    });
    // The minimum over eligible domains is 0 while some domain holds no matching pod.
    int min_count = INT_MAX;
    for (const auto& [v, n] : s.counts) min_count = std::min(min_count, n);
    const size_t domains = d.values.size();
    const bool empty_domain = s.counts.empty() || s.counts.size() < domains;
    s.min_count = empty_domain || static_cast<int64_t>(domains) < c.min_domains ? 0 : min_count;
    spread_.push_back(std::move(s));
  }
}

void ConstraintCheck::PrepareAffinity(const Pod& pod, const TopologyIndex& index, const TopologyOverlay* overlay) {
  const Snapshot& snap = index.snapshot();
  const PodConstraints& pc = pod.constraints;
  if (!pc.affinity.empty()) {
    for (const PodAffinityTerm& t : pc.affinity) affinity_.push_back(TermState{&t, {}});
    self_matches_affinity_ = MatchesAllTerms(pc.affinity, pod.namespace_, pod, snap.namespaces());
    // An existing pod counts for the affinity terms only if it matches them all.
    ForEachPod(index, pc.affinity[0].selector, overlay, [&](const Pod& other, NodeId node) {
      if (!MatchesAllTerms(pc.affinity, pod.namespace_, other, snap.namespaces())) return;
      for (TermState& ts : affinity_) {
        if (const std::string* v = DomainOf(snap, node, ts.term->topology_key)) {
          ++ts.counts[*v];
          ++affinity_total_;
        }
      }
    });
  }
  for (const PodAffinityTerm& t : pc.anti_affinity) {
    TermState ts{&t, {}};
    ForEachPod(index, t.selector, overlay, [&](const Pod& other, NodeId node) {
      if (!TermMatches(t, pod.namespace_, other.namespace_, other.labels, snap.namespaces())) return;
      if (const std::string* v = DomainOf(snap, node, t.topology_key)) ++ts.counts[*v];
    });
    anti_.push_back(std::move(ts));
  }
}

void ConstraintCheck::PrepareExistingAnti(const Pod& pod, const TopologyIndex& index, const TopologyOverlay* overlay) {
  const Snapshot& snap = index.snapshot();
  auto refuse_by = [&](const Pod& other, const PodAffinityTerm& t, NodeId node) {
    if (!TermMatches(t, other.namespace_, pod.namespace_, pod.labels, snap.namespaces())) return;
    if (const std::string* v = DomainOf(snap, node, t.topology_key)) ++existing_anti_[t.topology_key][*v];
  };
  index.anti_terms().ForTerms(pod.labels, [&](const TermPostings::Ref& r) {
    if (overlay != nullptr && overlay->gone.contains(r.pod)) return;
    const PodEntry& e = snap.pod(r.pod);
    if (r.term < static_cast<int>(e.pod.constraints.anti_affinity.size())) {
      refuse_by(e.pod, e.pod.constraints.anti_affinity[r.term], e.counted_on);
    }
  });
  if (overlay == nullptr) return;
  for (const auto& [other, node] : overlay->added) {
    for (const PodAffinityTerm& t : other->constraints.anti_affinity) refuse_by(*other, t, node);
  }
}

ConstraintCheck::Scores& ConstraintCheck::ScoresFor(const std::string& key) {
  for (KeyScores& k : preferences_) {
    if (k.key == key) return k.by_domain;
  }
  return preferences_.emplace_back(KeyScores{key, {}}).by_domain;
}

bool ConstraintCheck::PrepareScore(const Pod& pod, const TopologyIndex& index, const ExistingTermsScoring& existing) {
  preferences_.clear();
  const PodConstraints& pc = pod.constraints;
  const Snapshot& snap = index.snapshot();
  auto add = [&](const PodAffinityTerm& t, int64_t sign) {
    Scores& scores = ScoresFor(t.topology_key);
    ForEachPod(index, t.selector, nullptr, [&](const Pod& other, NodeId node) {
      if (!TermMatches(t, pod.namespace_, other.namespace_, other.labels, snap.namespaces())) return;
      if (const std::string* v = DomainOf(snap, node, t.topology_key)) scores[*v] += sign * t.weight;
    });
  };
  for (const PodAffinityTerm& t : pc.preferred_affinity) add(t, 1);
  for (const PodAffinityTerm& t : pc.preferred_anti_affinity) add(t, -1);
  for (const SpreadConstraint& c : pc.spread) {
    if (c.do_not_schedule) continue;
    Scores& scores = ScoresFor(c.topology_key);
    ForEachPod(index, c.selector, nullptr, [&](const Pod& other, NodeId node) {
      if (other.namespace_ != pod.namespace_ || other.deleting || !c.selector.Matches(other.labels)) return;
      if (const std::string* v = DomainOf(snap, node, c.topology_key)) --scores[*v];
    });
  }
  ScoreExistingTerms(pod, index, existing);
  return !preferences_.empty();
}

void ConstraintCheck::ScoreExistingTerms(const Pod& pod, const TopologyIndex& index,
                                         const ExistingTermsScoring& existing) {
  const TermPostings& postings = index.score_terms();
  if (postings.empty()) return;
  const PodConstraints& pc = pod.constraints;
  // kube-scheduler's ignorePreferredTermsOfExistingPods: existing pods' terms count
  // only for a pod with preferred inter-pod terms of its own.
  if (existing.ignore_preferred_terms_of_existing_pods && pc.preferred_affinity.empty() &&
      pc.preferred_anti_affinity.empty()) {
    return;
  }
  const Snapshot& snap = index.snapshot();
  postings.ForTerms(pod.labels, [&](const TermPostings::Ref& r) {
    const PodEntry& e = snap.pod(r.pod);
    const std::vector<PodAffinityTerm>& terms = TermsOf(e.pod.constraints, r.kind);
    if (r.term >= static_cast<int>(terms.size())) return;
    const PodAffinityTerm& t = terms[r.term];
    int64_t weight = t.weight;
    if (r.kind == TermKind::kPreferredAnti) weight = -t.weight;
    if (r.kind == TermKind::kRequiredAffinity) weight = existing.hard_pod_affinity_weight;
    if (weight == 0 || !TermMatches(t, e.pod.namespace_, pod.namespace_, pod.labels, snap.namespaces())) return;
    if (const std::string* v = DomainOf(snap, e.counted_on, t.topology_key)) ScoresFor(t.topology_key)[*v] += weight;
  });
}

int64_t ConstraintCheck::Preference(const Node& node) const {
  int64_t score = 0;
  for (const KeyScores& k : preferences_) {
    if (const std::string* v = node.labels.Get(k.key)) score += CountAt(k.by_domain, *v);
  }
  return score;
}

FilterFailure ConstraintCheck::Check(const Node& node) const {
  for (const SpreadState& s : spread_) {
    const std::string* v = node.labels.Get(s.c->topology_key);
    if (v == nullptr) return FilterFailure::kSpreadMissingLabel;
    if (CountAt(s.counts, *v) + s.self - s.min_count > s.c->max_skew) return FilterFailure::kSpread;
  }
  if (!affinity_.empty()) {
    bool pods_exist = true;
    for (const TermState& ts : affinity_) {
      const std::string* v = node.labels.Get(ts.term->topology_key);
      if (v == nullptr) return FilterFailure::kPodAffinity;  // every topology key must be on the node
      if (CountAt(ts.counts, *v) <= 0) pods_exist = false;
    }
    // The first pod of a group that selects itself may go anywhere with the keys.
    if (!pods_exist && !(affinity_total_ == 0 && self_matches_affinity_)) return FilterFailure::kPodAffinity;
  }
  for (const TermState& ts : anti_) {
    const std::string* v = node.labels.Get(ts.term->topology_key);
    if (v != nullptr && CountAt(ts.counts, *v) > 0) return FilterFailure::kPodAntiAffinity;
  }
  for (const auto& [key, counts] : existing_anti_) {
    const std::string* v = node.labels.Get(key);
    if (v != nullptr && CountAt(counts, *v) > 0) return FilterFailure::kExistingAntiAffinity;
  }
  return FilterFailure::kNone;
}

}  // namespace drover
