#include "placement/node_index.h"

#include <algorithm>

namespace drover {

namespace {
const std::vector<NodeId> kEmpty;
}

void NodeIndex::Remove(NodeId id) {
  Slot& s = slots_[id];
  if (s.type == -2) return;
  std::vector<NodeId>& list = s.type == -1 ? cpu_ : by_type_[s.type][s.free];
  const NodeId last = list.back();
  list[s.pos] = last;
  slots_[last].pos = s.pos;
  list.pop_back();
  if (s.type >= 0) --count_by_type_[s.type];
  s = Slot{};
}

void NodeIndex::Update(const Snapshot& snap, NodeId id) {
  if (static_cast<size_t>(id) >= slots_.size()) {
    slots_.resize(id + 1);
    room_.resize(id + 1);
  }
  const NodeState& st = snap.node(id);
  Room& room = room_[id];
  room.cpu = st.node.allocatable[Res::kCpu] - st.used[Res::kCpu];
  room.memory = st.node.allocatable[Res::kMemory] - st.used[Res::kMemory];
  room.device = -1;
  for (int32_t used : st.device_used) room.device = std::max(room.device, 1000 - used);  // as DevicesFit
  int type = -2, free = 0;
  if (st.present) {
    if (st.node.gpu_type == kNoGpuType || st.node.gpu_count == 0) {
      type = -1;
    } else {
      type = st.node.gpu_type;
      free = snap.FreeWholeGpus(id);
    }
  }
  const Slot& cur = slots_[id];
  if (cur.type == type && cur.free == free) return;
  Remove(id);
  if (type == -2) return;
  std::vector<NodeId>* list = &cpu_;
  if (type >= 0) {
    if (static_cast<size_t>(type) >= by_type_.size()) {
      by_type_.resize(type + 1);
      count_by_type_.resize(type + 1, 0);
    }
    auto& buckets = by_type_[type];
    const int need = std::max(free, st.node.gpu_count) + 1;
    if (static_cast<int>(buckets.size()) < need) buckets.resize(need);
    list = &buckets[free];
    ++count_by_type_[type];
  }
  slots_[id] = Slot{type, free, static_cast<int>(list->size())};
  list->push_back(id);
}

const std::vector<NodeId>& NodeIndex::Bucket(GpuTypeId type, int free) const {
  if (type < 0 || static_cast<size_t>(type) >= by_type_.size()) return kEmpty;
  const auto& b = by_type_[type];
  return free >= 0 && static_cast<size_t>(free) < b.size() ? b[free] : kEmpty;
}

int NodeIndex::MaxFree(GpuTypeId type) const {
  if (type < 0 || static_cast<size_t>(type) >= by_type_.size()) return -1;
  return static_cast<int>(by_type_[type].size()) - 1;
}

size_t NodeIndex::nodes_of_type(GpuTypeId type) const {
  return type >= 0 && static_cast<size_t>(type) < count_by_type_.size() ? count_by_type_[type] : 0;
}

}  // namespace drover

namespace drover {
int NodeIndex::BestFree(GpuTypeId type) const {
  if (type < 0 || static_cast<size_t>(type) >= by_type_.size()) return -1;
  const auto& b = by_type_[type];
  for (int k = static_cast<int>(b.size()) - 1; k >= 0; --k) {
    if (!b[k].empty()) return k;
  }
  return -1;
}
}  // namespace drover
