#include "placement/app_counter.h"

#include <utility>

#include "core/strings.h"

namespace drover {

std::string AppCounter::KeyOf(QueueId leaf, const Pod& pod) const {
  if (!label_.empty()) {
    const std::string* app = pod.labels.Get(label_);
    if (app != nullptr && !app->empty()) return StrCat(leaf, "|", pod.namespace_, "/label/", *app);
  }
  if (!pod.intent.gang.empty()) return StrCat(leaf, "|", pod.namespace_, "/gang/", pod.intent.gang);
  if (!pod.owner_kind.empty()) return StrCat(leaf, "|", pod.namespace_, "/", pod.owner_kind, "/", pod.owner_name);
  return StrCat(leaf, "|", pod.namespace_, "/Pod/", pod.name);
}

void AppCounter::Count(QueueTree* tree, QueueId leaf, const std::string& app, int running, int pending) {
  AppCount& a = apps_[app];
  a.leaf = leaf;
  const bool was_running = a.running > 0, was_pending = a.running == 0 && a.pending > 0;
  a.running += running;
  a.pending += pending;
  const bool is_running = a.running > 0, is_pending = a.running == 0 && a.pending > 0;
  if (was_running != is_running) tree->AddRunningApps(leaf, is_running ? 1 : -1);
  if (was_pending != is_pending) tree->AddPendingApps(leaf, is_pending ? 1 : -1);
  if (a.running <= 0 && a.pending <= 0) apps_.erase(app);
}

bool AppCounter::IsRunning(const std::string& app) const {
  auto it = apps_.find(app);
  return it != apps_.end() && it->second.running > 0;
}

std::vector<std::string> AppCounter::CheckAgainst(const QueueTree& tree) const {
  absl::flat_hash_map<QueueId, std::pair<int64_t, int64_t>> by_leaf;  // leaf -> running, pending
  for (const auto& [key, a] : apps_) {
    auto& [running, pending] = by_leaf[a.leaf];
    running += a.running > 0 ? 1 : 0;
    pending += a.running == 0 && a.pending > 0 ? 1 : 0;
  }
  std::vector<std::string> problems;
  for (QueueId id = 0; id < tree.size(); ++id) {
    const Queue& q = tree.queue(id);
    if (q.path.empty() || !q.leaf()) continue;
    const auto it = by_leaf.find(id);
    const int64_t running = it == by_leaf.end() ? 0 : it->second.first;
    const int64_t pending = it == by_leaf.end() ? 0 : it->second.second;
    if (q.running_apps != running || q.pending_apps != pending) {
      problems.push_back(StrCat("queue ", q.path, ": ", q.running_apps, " running / ", q.pending_apps,
                                " waiting applications counted, but its pods make ", running, " / ", pending));
    }
  }
  return problems;
}

}  // namespace drover
