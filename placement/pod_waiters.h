// Pending pods whose required pod affinity or DoNotSchedule topology spread reads
// other pods. When a pod starts counting on a node, only the waiters one of whose
// selectors it matches may fit now (a counted pod takes capacity, never frees it,
// and a pod no selector of theirs matches changes none of their counts): as
// kube-scheduler's queueing hints for InterPodAffinity and PodTopologySpread on a
// pod add. Each selector is filed under a label it requires
// (TermPostings::Anchors), so a counted pod reads only the waiters its own labels
// can satisfy, not every waiter.
//
//   PodWaiters w;  w.Add(pending_pod);
//   w.ForMatching(counted_pod.labels, [&](const std::string& key) { offer again(key); });
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "core/model.h"

namespace drover {

class PodWaiters {
 public:
  // Files pending `pod` if a rule of its reads other pods (required affinity, a
  // DoNotSchedule spread constraint); otherwise does nothing. Replaces an entry
  // under the same key.
  void Add(const Pod& pod);
  // Forgets the pod (bound, deleted, no longer pending); unknown keys are ignored.
  void Remove(const std::string& key);
  bool empty() const { return waiters_.empty(); }
  size_t size() const { return waiters_.size(); }
  // Calls fn(key) once for each waiting pod with a selector that `labels` match,
  // in no particular order.
  void ForMatching(const Labels& labels, const std::function<void(const std::string&)>& fn) const;

 private:
  struct Waiter {
    std::vector<LabelSelector> selectors;
    std::vector<std::string> anchors;  // where it is filed; empty: unanchored_
  };
  absl::flat_hash_map<std::string, Waiter> waiters_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> by_anchor_;  // anchor -> pod keys
  absl::flat_hash_set<std::string> unanchored_;  // a selector requiring no label: read for every counted pod
  mutable std::string anchor_;                   // ForMatching's lookup key
};

}  // namespace drover
