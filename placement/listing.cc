// The engine's listings for publishers (the published status, the admin API):
// pending workloads, pending pods and running pods. Loop thread only, like every
// Engine method; they read and copy, and change nothing.
#include "core/strings.h"
#include "placement/engine.h"

namespace drover {

std::vector<PendingWorkload> Engine::ListPending() const {
  std::vector<PendingWorkload> out;
  out.reserve(workloads_.size());
  auto add = [&](const Workload& w, int64_t position) {
    const std::string queue = w.leaf == kNoQueue ? "" : tree_->queue(w.leaf).path;
    const std::string message = w.code == PendingCode::kRejected ? StrCat("rejected: ", w.reason) : w.reason;
    out.push_back(PendingWorkload{w.members, queue, w.tier, w.code, message, position, w.submitted_ms,
                                  w.code == PendingCode::kRejected ? NodeFailures{} : w.nodes});
  };
  for (QueueId q = 0; q < tree_->size(); ++q) {
    int64_t position = 0;
    order_->ForEachInLeaf(q, [&](uint64_t id) { add(workloads_.at(id), ++position); });
  }
  std::vector<const Workload*> rejected;
  for (const auto& [id, w] : workloads_) {
    if (!order_->Contains(id)) rejected.push_back(&w);
  }
  std::sort(rejected.begin(), rejected.end(), [](const Workload* a, const Workload* b) { return a->seq < b->seq; });
  for (const Workload* w : rejected) add(*w, 0);
  return out;
}

void Engine::ForEachPendingPod(absl::FunctionRef<void(QueueId leaf, const Pod& pod)> fn) const {
  for (const auto& [id, w] : workloads_) {
    if (w.leaf == kNoQueue) continue;
    for (const PodId pod : w.member_ids) {
      if (pod != kNoPod && snapshot_.pod(pod).live) fn(w.leaf, snapshot_.pod(pod).pod);
    }
  }
}

void Engine::ForEachRunningPod(absl::FunctionRef<void(const RunningPodView&)> fn) const {
  for (const auto& [key, tr] : tracked_) {
    if (!tr.charged || tr.leaf == kNoQueue) continue;
    const PodId id = snapshot_.FindPod(key);
    if (id == kNoPod) continue;
    const PodEntry& e = snapshot_.pod(id);
    if (!e.live || e.counted_on == kNoNode) continue;
    fn(RunningPodView{key, e.pod, tr.leaf, tr.tier, e.counted_on, tr.started_ms, e.assumed, tr.evicting, tr.gang});
  }
}

}  // namespace drover
