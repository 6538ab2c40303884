#include "placement/node_classes.h"

#include <algorithm>

namespace drover {

void NodeClasses::Clear() { *this = NodeClasses(); }

void NodeClasses::Remove(NodeId id) {
  int& slot = class_of_[id];
  if (slot < 0) return;
  Class& c = classes_[slot];
  c.nodes.erase(std::lower_bound(c.nodes.begin(), c.nodes.end(), id));
  --nodes_;
  if (c.nodes.empty()) {
    std::vector<int>& list = by_type_[c.key.type];
    const int moved = list.back();
    list[c.pos_in_type] = moved;
    classes_[moved].pos_in_type = c.pos_in_type;
    list.pop_back();
    by_key_.erase(c.key);
    c = Class{};
    free_.push_back(slot);
    --live_classes_;
  }
  slot = -1;
}

void NodeClasses::Update(const Snapshot& snap, NodeId id) {
  if (static_cast<size_t>(id) >= class_of_.size()) class_of_.resize(id + 1, -1);
  const NodeState& st = snap.node(id);
  const bool filed = st.present && st.node.gpu_type >= 0 && st.node.gpu_type < kMaxGpuTypes && !st.device_used.empty();
  Key& k = scratch_key_;
  if (filed) {
    k.type = st.node.gpu_type;
    k.cpu_left = st.node.allocatable[Res::kCpu] - st.used[Res::kCpu];
    k.memory_left = st.node.allocatable[Res::kMemory] - st.used[Res::kMemory];
    k.free_desc.resize(st.device_used.size());
    for (size_t d = 0; d < st.device_used.size(); ++d) k.free_desc[d] = 1000 - st.device_used[d];
    std::sort(k.free_desc.begin(), k.free_desc.end(), std::greater<int32_t>());
    if (class_of_[id] >= 0 && classes_[class_of_[id]].key == k) return;  // same state
  }
  Remove(id);
  if (!filed) return;
  auto [it, inserted] = by_key_.try_emplace(k, 0);
  if (inserted) {
    int slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<int>(classes_.size());
      classes_.emplace_back();
    }
    it->second = slot;
    Class& c = classes_[slot];
    c.key = k;
    if (by_type_.size() <= static_cast<size_t>(k.type)) by_type_.resize(k.type + 1);
    c.pos_in_type = static_cast<int>(by_type_[k.type].size());
    by_type_[k.type].push_back(slot);
    ++live_classes_;
  }
  Class& c = classes_[it->second];
  c.nodes.insert(std::lower_bound(c.nodes.begin(), c.nodes.end(), id), id);
  class_of_[id] = it->second;
  ++nodes_;
}

bool NodeClasses::Holds(const Class& c, const Pod& pod) const {
  if (pod.requests[Res::kCpu] > c.key.cpu_left || pod.requests[Res::kMemory] > c.key.memory_left) return false;
  if (pod.gpu_devices <= 0) return true;
  // free_desc is descending: the pod fits if its gpu_devices-th largest is enough.
  return static_cast<int>(c.key.free_desc.size()) >= pod.gpu_devices &&
         c.key.free_desc[pod.gpu_devices - 1] >= pod.gpu_milli_per_device;
}

const NodeClasses::Cached& NodeClasses::CachedOf(Class& c, int shape_id, uint64_t version,
                                                  absl::FunctionRef<Cached(NodeId)> evaluate) {
  if (c.version != version) {
    c.scores.clear();
    c.version = version;
  }
  for (const auto& [shape, cached] : c.scores) {
    if (shape == shape_id) return cached;
  }
  c.scores.emplace_back(shape_id, evaluate(c.nodes.front()));
  return c.scores.back().second;
}

bool NodeClasses::VisitGroup(const std::vector<int>& group, absl::FunctionRef<bool(NodeId)> visit) {
  if (group.size() == 1) {
    for (NodeId id : classes_[group[0]].nodes) {
      if (!visit(id)) return true;
    }
    return false;
  }
  // Equal scores in several classes: their nodes in one ascending order.
  merged_.clear();
  for (int cls : group) merged_.insert(merged_.end(), classes_[cls].nodes.begin(), classes_[cls].nodes.end());
  std::sort(merged_.begin(), merged_.end());
  for (NodeId id : merged_) {
    if (!visit(id)) return true;
  }
  return false;
}

bool NodeClasses::VisitRanked(const Pod& pod, int shape_id, GpuTypeMask types, uint64_t version,
                              absl::FunctionRef<Cached(NodeId)> evaluate,
                              absl::FunctionRef<double(NodeId, const Cached&)> finish,
                              absl::FunctionRef<bool(NodeId)> visit) {
  candidates_.clear();
  for (size_t t = 0; t < by_type_.size(); ++t) {
    if (((types >> t) & 1) == 0) continue;
    for (int cls : by_type_[t]) {
      Class& c = classes_[cls];
      if (!Holds(c, pod)) continue;
      const double s = finish(c.nodes.front(), CachedOf(c, shape_id, version, evaluate));
      if (s > kInfeasible) candidates_.push_back(Candidate{s, cls});
    }
  }
  // Best score first; a group of equal scores is visited as one (lower id first).
  // Usually the first group accepts, so candidates are not sorted.
  while (!candidates_.empty()) {
    double top = candidates_[0].score;
    for (const Candidate& c : candidates_) top = std::max(top, c.score);
    group_.clear();
    size_t kept = 0;
    for (const Candidate& c : candidates_) {
      if (c.score == top) {
        group_.push_back(c.cls);
      } else {
        candidates_[kept++] = c;
      }
    }
    candidates_.resize(kept);
    if (VisitGroup(group_, visit)) return true;
  }
  return false;
}

}  // namespace drover
