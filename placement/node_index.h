// Nodes bucketed by GPU type and number of wholly free GPUs, so a placement looks
// at the nodes most likely to suit it first instead of scanning the cluster:
// the fullest adequate nodes for packing, the emptiest for spreading.
//
// Kept current by the snapshot's node listener in O(1) per change.
#pragma once

#include <vector>

#include "core/snapshot.h"

namespace drover {

class NodeIndex {
 public:
  // Re-files `id` after any change (spec, usage, presence).
  void Update(const Snapshot& snap, NodeId id);
  // CPU-only nodes (no GPU devices).
  const std::vector<NodeId>& cpu_nodes() const { return cpu_; }
  // Nodes of `type` with exactly `free` wholly free GPUs.
  const std::vector<NodeId>& Bucket(GpuTypeId type, int free) const;
  int MaxFree(GpuTypeId type) const;
  // The most wholly free GPUs on any node of `type` (-1 if it has no nodes).
  int BestFree(GpuTypeId type) const;
  // Calls fn(id) for nodes of `type` with at least `min_free` free GPUs, fewest free
  // first (ascending) or most free first; stops when fn returns false.
  template <typename Fn>
  void Visit(GpuTypeId type, int min_free, bool ascending, Fn fn) const {
    if (type < 0 || static_cast<size_t>(type) >= by_type_.size()) return;
    const auto& buckets = by_type_[type];
    const int n = static_cast<int>(buckets.size());
    for (int i = 0; i < n - min_free; ++i) {
      const int k = ascending ? min_free + i : n - 1 - i;
      for (NodeId id : buckets[k]) {
        if (!fn(id)) return;
      }
    }
  }
  size_t nodes_of_type(GpuTypeId type) const;
  // True if the filters surely reject `pod` on node `id` for want of CPU, memory or
  // a GPU device with room: a necessary condition of CheckNode, read from a compact
  // copy of the node's free capacity so scans skip full nodes without touching them.
  bool SurelyTooSmall(const Pod& pod, NodeId id) const {
    const Room& r = room_[id];
    return pod.requests[Res::kCpu] > r.cpu || pod.requests[Res::kMemory] > r.memory ||
           (pod.gpu_devices > 0 && pod.gpu_milli_per_device > r.device);
  }

 private:
  struct Slot {
    int type = -2;  // -2 = not filed, -1 = cpu list
    int free = 0;
    int pos = -1;
  };
  struct Room {
    int64_t cpu = 0;     // allocatable - used
    int64_t memory = 0;
    int32_t device = -1; // most milli-GPU free on one device (-1: no devices)
  };
  void Remove(NodeId id);

  std::vector<Slot> slots_;
  std::vector<Room> room_;  // by node id
  std::vector<NodeId> cpu_;
  std::vector<std::vector<std::vector<NodeId>>> by_type_;  // [type][free] -> nodes
  std::vector<size_t> count_by_type_;
};

}  // namespace drover
