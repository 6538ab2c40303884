#include "placement/headroom.h"

#include <algorithm>

namespace drover {

LargePodHeadroom::PerType& LargePodHeadroom::For(GpuTypeId type) {
  if (types_.size() <= static_cast<size_t>(type)) types_.resize(type + 1);
  return types_[type];
}

void LargePodHeadroom::NodeChanged(const Snapshot& snap, NodeId id) {
  if (nodes_.size() <= static_cast<size_t>(id)) nodes_.resize(id + 1);
  Filed& old = nodes_[id];
  if (old.type >= 0) {
    PerType& t = For(old.type);
    t.free_milli -= old.free_milli;
    --t.nodes_by_whole[old.whole];
    t.capacity_built = false;
  }
  old = Filed{};
  const NodeState& st = snap.node(id);
  if (!st.present || st.node.gpu_type < 0 || st.device_used.empty()) return;
  Filed now{st.node.gpu_type, 0, 0};
  for (int32_t used : st.device_used) {
    now.whole += used == 0 ? 1 : 0;
    now.free_milli += 1000 - used;
  }
  PerType& t = For(now.type);
  t.free_milli += now.free_milli;
  if (t.nodes_by_whole.size() <= static_cast<size_t>(now.whole)) t.nodes_by_whole.resize(now.whole + 1, 0);
  ++t.nodes_by_whole[now.whole];
  t.capacity_built = false;
  old = now;
}

void LargePodHeadroom::SetDemand(const std::vector<frag::WeightedShape>& shapes) {
  demand_.clear();
  sizes_.clear();
  for (const frag::WeightedShape& w : shapes) {
    if (w.shape.gpu_devices <= 0) continue;
    demand_.push_back(w);
    if (w.shape.milli_per_device >= 1000 && w.shape.gpu_devices >= 2) sizes_.push_back(w.shape.gpu_devices);
  }
  std::sort(sizes_.begin(), sizes_.end());
  sizes_.erase(std::unique(sizes_.begin(), sizes_.end()), sizes_.end());
  for (PerType& t : types_) t.shares_built = t.capacity_built = false;
}

void LargePodHeadroom::BuildShares(GpuTypeId type, PerType& t) const {
  t.shares.clear();
  double total = 0;
  std::vector<double> large(sizes_.size(), 0.0);
  for (const frag::WeightedShape& w : demand_) {
    if (((w.shape.types >> type) & 1) == 0) continue;
    const double milli = w.weight * w.shape.gpu_devices * w.shape.milli_per_device;
    total += milli;
    for (size_t i = 0; i < sizes_.size(); ++i) {
      if (w.shape.milli_per_device >= 1000 && w.shape.gpu_devices >= sizes_[i]) large[i] += milli;
    }
  }
  for (size_t i = 0; i < sizes_.size() && total > 0; ++i) {
    if (large[i] > 0) t.shares.emplace_back(sizes_[i], large[i] / total);
  }
  t.shares_built = true;
  t.capacity_built = false;
}

void LargePodHeadroom::BuildCapacity(PerType& t) const {
  t.capacity.assign(t.shares.size(), 0);
  for (size_t i = 0; i < t.shares.size(); ++i) {
    const int k = t.shares[i].first;
    for (size_t j = 0; j < t.nodes_by_whole.size(); ++j) {
      t.capacity[i] += static_cast<int64_t>(j / k) * k * 1000 * t.nodes_by_whole[j];
    }
  }
  t.capacity_built = true;
}

int LargePodHeadroom::NetBlocks(int k, int whole_before, int whole_after, int pod_whole) {
  // A pod of >= k whole GPUs uses blocks of k itself: that is the demand served.
  return std::max(0, whole_before / k - whole_after / k - (pod_whole >= k ? pod_whole / k : 0));
}

double LargePodHeadroom::Penalty(GpuTypeId type, int whole_before, int whole_after, int64_t pod_milli,
                                 int pod_whole) {
  if (type < 0 || whole_after >= whole_before) return 0;
  PerType& t = For(type);
  if (!t.shares_built) BuildShares(type, t);
  if (t.shares.empty()) return 0;
  if (!t.capacity_built) BuildCapacity(t);
  const double free_after = static_cast<double>(t.free_milli - pod_milli);
  double loss = 0;
  for (size_t i = 0; i < t.shares.size(); ++i) {
    const int k = t.shares[i].first;
    const double need = t.shares[i].second * free_after;
    const double before = static_cast<double>(t.capacity[i]);
    const double after = before - static_cast<double>(NetBlocks(k, whole_before, whole_after, pod_whole) * k * 1000);
    loss += std::max(0.0, need - after) - std::max(0.0, need - before);
  }
  return loss;
}

}  // namespace drover
