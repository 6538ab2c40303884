// TopologyIndex (placement/topology.h): counted pods by label, the terms of
// counted pods other pods' placements read, and the eligible topology domains per
// spread constraint.
#include <algorithm>

#include "core/strings.h"
#include "placement/topology.h"

namespace drover {
namespace {

// What decides a node's eligibility for `c` of `pod`: the keys, the policies and
// the pod fields those policies read.
std::string DomainsKey(const Pod& pod, const SpreadConstraint& c, const std::vector<std::string>& keys) {
  std::string k = StrCat(c.topology_key, "|", c.honor_node_affinity, c.honor_taints);
  for (const std::string& key : keys) StrAppend(&k, "|k=", key);
  if (c.honor_node_affinity) {
    for (const auto& [key, v] : pod.node_selector.items()) StrAppend(&k, "|s=", key, "=", v);
    for (const NodeSelectorTerm& term : pod.required_affinity) {
      StrAppend(&k, "|t");
      for (const auto* reqs : {&term.match_expressions, &term.match_fields}) {
        for (const NodeSelectorRequirement& r : *reqs) {
          StrAppend(&k, "|", r.key, static_cast<int>(r.op));
          for (const std::string& v : r.values) StrAppend(&k, ",", v);
        }
      }
    }
  }
  if (c.honor_taints) {
    for (const Toleration& t : pod.tolerations) {
      StrAppend(&k, "|tol=", t.key, static_cast<int>(t.op), t.value, t.effect ? static_cast<int>(*t.effect) : -1);
    }
  }
  return k;
}

}  // namespace

const std::vector<PodAffinityTerm>& TermsOf(const PodConstraints& c, TermKind kind) {
  switch (kind) {
    case TermKind::kRequiredAffinity: return c.affinity;
    case TermKind::kRequiredAnti: return c.anti_affinity;
    case TermKind::kPreferredAffinity: return c.preferred_affinity;
    case TermKind::kPreferredAnti: return c.preferred_anti_affinity;
  }
  return c.affinity;
}

void TermPostings::StrAppendPairValue(std::string* key, std::string_view value) {
  key->push_back('\x1f');
  key->append(value);
}

std::string TermPostings::PairKey(std::string_view key, std::string_view value) {
  std::string k(key);
  StrAppendPairValue(&k, value);
  return k;
}

std::vector<std::string> TermPostings::Anchors(const LabelSelector& sel) {
  if (!sel.present) return {};
  if (!sel.match_labels.empty()) return {TermPostings::PairKey(sel.match_labels[0].first, sel.match_labels[0].second)};
  using Op = LabelSelector::Requirement::Op;
  for (const LabelSelector::Requirement& r : sel.match_expressions) {
    if (r.op == Op::kExists) return {r.key};
    if (r.op != Op::kIn || r.values.empty()) continue;
    std::vector<std::string> out;
    for (const std::string& v : r.values) out.push_back(TermPostings::PairKey(r.key, v));
    return out;
  }
  return {};
}

void TermPostings::Post(const Pod& pod, PodId id, TermKind kind, bool add) {
  const std::vector<PodAffinityTerm>& terms = TermsOf(pod.constraints, kind);
  for (int i = 0; i < static_cast<int>(terms.size()); ++i) {
    const Ref entry{id, kind, i};
    std::vector<std::string> anchors = Anchors(terms[i].selector);
    if (anchors.empty()) {
      if (add) unanchored_.insert(entry);
      else unanchored_.erase(entry);
      continue;
    }
    for (std::string& a : anchors) {
      if (add) {
        anchored_[std::move(a)].insert(entry);
      } else if (auto it = anchored_.find(a); it != anchored_.end()) {
        it->second.erase(entry);
        if (it->second.empty()) anchored_.erase(it);
      }
    }
  }
}

void TopologyIndex::Enable() {
  if (enabled_) return;
  enabled_ = true;
  for (PodId id = 0; id < snapshot_->pod_slots(); ++id) {
    const PodEntry& e = snapshot_->pod(id);
    if (e.live && e.counted_on != kNoNode) OnCounted(id, true);
  }
}

void TopologyIndex::Post(const Pod& pod, PodId id, bool add) {
  for (const auto& [k, v] : pod.labels.items()) {
    for (std::string key : {TermPostings::PairKey(k, v), std::string(k)}) {
      if (add) {
        postings_[key].insert(id);
      } else if (auto it = postings_.find(key); it != postings_.end()) {
        it->second.erase(id);
        if (it->second.empty()) postings_.erase(it);
      }
    }
  }
}

void TopologyIndex::OnCounted(PodId id, bool counted) {
  if (!enabled_) return;
  const Pod& pod = snapshot_->pod(id).pod;
  Post(pod, id, counted);
  anti_terms_.Post(pod, id, TermKind::kRequiredAnti, counted);
  for (TermKind kind : {TermKind::kPreferredAffinity, TermKind::kPreferredAnti, TermKind::kRequiredAffinity}) {
    score_terms_.Post(pod, id, kind, counted);
  }
  if (counted) {
    all_.insert(id);
    if (!pod.constraints.anti_affinity.empty()) anti_pods_.insert(id);
  } else {
    all_.erase(id);
    anti_pods_.erase(id);
  }
}

const TopologyIndex::PodSet* TopologyIndex::Posting(const std::string& key) const {
  static const PodSet kEmpty;
  auto it = postings_.find(key);
  return it == postings_.end() ? &kEmpty : &it->second;
}

const TopologyIndex::PodSet* TopologyIndex::Candidates(const LabelSelector& sel) const {
  const PodSet* best = &all_;
  for (const auto& [k, v] : sel.match_labels) {
    const PodSet* p = Posting(TermPostings::PairKey(k, v));
    if (p->size() < best->size()) best = p;
  }
  using Op = LabelSelector::Requirement::Op;
  const LabelSelector::Requirement* union_of = nullptr;
  size_t union_size = 0;
  for (const LabelSelector::Requirement& r : sel.match_expressions) {
    if (r.op == Op::kExists || (r.op == Op::kIn && r.values.size() == 1)) {
      const PodSet* p = Posting(r.op == Op::kExists ? r.key : TermPostings::PairKey(r.key, r.values[0]));
      if (p->size() < best->size()) best = p;
    } else if (r.op == Op::kIn) {
      size_t n = 0;
      for (const std::string& v : r.values) n += Posting(TermPostings::PairKey(r.key, v))->size();
      if (union_of == nullptr || n < union_size) {
        union_of = &r;
        union_size = n;
      }
    }
  }
  if (union_of != nullptr && union_size < best->size()) {
    scratch_.clear();
    for (const std::string& v : union_of->values) {
      const PodSet* p = Posting(TermPostings::PairKey(union_of->key, v));
      scratch_.insert(p->begin(), p->end());
    }
    best = &scratch_;
  }
  return best;
}

const TopologyIndex::Domains& TopologyIndex::EligibleDomains(const Pod& pod, const SpreadConstraint& c,
                                                             const std::vector<std::string>& keys) const {
  if (cache_generation_ != node_generation_ || domains_.size() > 1024) {
    domains_.clear();
    cache_generation_ = node_generation_;
  }
  std::string key = DomainsKey(pod, c, keys);
  auto [it, inserted] = domains_.try_emplace(std::move(key));
  if (!inserted) return it->second;
  Domains& d = it->second;
  d.eligible.assign(snapshot_->node_slots(), 0);
  absl::flat_hash_set<std::string> seen;
  for (NodeId id = 0; id < snapshot_->node_slots(); ++id) {
    const NodeState& st = snapshot_->node(id);
    if (!st.present) continue;
    const Node& n = st.node;
    bool ok = std::all_of(keys.begin(), keys.end(), [&](const std::string& k) { return n.labels.Get(k) != nullptr; });
    if (ok && c.honor_node_affinity) {
      ok = MatchesNodeSelector(pod.node_selector, n.labels) && MatchesRequiredAffinity(pod.required_affinity, n);
    }
    if (ok && c.honor_taints) ok = FirstUntoleratedTaint(n.taints, pod.tolerations) == nullptr;
    if (!ok) continue;
    d.eligible[id] = 1;
    if (const std::string* v = n.labels.Get(c.topology_key); v != nullptr && seen.insert(*v).second) {
      d.values.push_back(*v);
    }
  }
  return d;
}

}  // namespace drover
