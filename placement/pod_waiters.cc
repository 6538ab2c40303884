#include "placement/pod_waiters.h"

#include "placement/topology.h"

namespace drover {

void PodWaiters::Add(const Pod& pod) {
  const std::string key = pod.Key();
  Remove(key);
  Waiter w;
  for (const PodAffinityTerm& t : pod.constraints.affinity) w.selectors.push_back(t.selector);
  for (const SpreadConstraint& c : pod.constraints.spread) {
    if (c.do_not_schedule) w.selectors.push_back(c.selector);
  }
  std::erase_if(w.selectors, [](const LabelSelector& s) { return !s.present; });  // absent: matches no pod
  if (w.selectors.empty()) return;
  bool anchored_all = true;
  for (const LabelSelector& s : w.selectors) {
    std::vector<std::string> anchors = TermPostings::Anchors(s);
    if (anchors.empty()) anchored_all = false;
    for (std::string& a : anchors) w.anchors.push_back(std::move(a));
  }
  if (!anchored_all) w.anchors.clear();  // one selector needs no label: read for every pod
  if (w.anchors.empty()) {
    unanchored_.insert(key);
  } else {
    for (const std::string& a : w.anchors) by_anchor_[a].insert(key);
  }
  waiters_.emplace(key, std::move(w));
}

void PodWaiters::Remove(const std::string& key) {
  auto it = waiters_.find(key);
  if (it == waiters_.end()) return;
  if (it->second.anchors.empty()) unanchored_.erase(key);
  for (const std::string& a : it->second.anchors) {
    auto posting = by_anchor_.find(a);
    if (posting == by_anchor_.end()) continue;
    posting->second.erase(key);
    if (posting->second.empty()) by_anchor_.erase(posting);
  }
  waiters_.erase(it);
}

void PodWaiters::ForMatching(const Labels& labels, const std::function<void(const std::string&)>& fn) const {
  absl::flat_hash_set<std::string_view> seen;
  auto consider = [&](const std::string& key) {
    if (!seen.insert(key).second) return;
    const Waiter& w = waiters_.at(key);
    for (const LabelSelector& s : w.selectors) {
      if (s.Matches(labels)) {
        fn(key);
        return;
      }
    }
  };
  for (const std::string& key : unanchored_) consider(key);
  if (by_anchor_.empty()) return;
  for (const auto& [k, v] : labels.items()) {
    for (const bool pair : {true, false}) {
      anchor_.assign(k);
      if (pair) TermPostings::StrAppendPairValue(&anchor_, v);
      auto it = by_anchor_.find(anchor_);
      if (it == by_anchor_.end()) continue;
      for (const std::string& key : it->second) consider(key);
    }
  }
}

}  // namespace drover
