#include "placement/reservations.h"

#include <algorithm>
#include <tuple>

#include "core/strings.h"
#include "placement/filters.h"

namespace drover {
namespace {

// What must still free on a node before `pod` fits: GPU milli, CPU, memory.
std::tuple<int64_t, int64_t, int64_t> DrainNeeded(const Pod& pod, const NodeState& st, const ResourceVec& free) {
  int64_t gpu = 0;
  if (pod.gpu_devices > 0) {
    std::vector<int32_t> room;
    room.reserve(st.device_used.size());
    for (int32_t used : st.device_used) room.push_back(std::max(0, 1000 - used));
    // The pod's devices go on the roomiest devices: sum what each still lacks.
    std::sort(room.begin(), room.end(), std::greater<>());
    for (int i = 0; i < pod.gpu_devices && i < static_cast<int>(room.size()); ++i) {
      gpu += std::max(0, pod.gpu_milli_per_device - room[i]);
    }
  }
  return {gpu, std::max<int64_t>(0, pod.requests[Res::kCpu] - free[Res::kCpu]),
          std::max<int64_t>(0, pod.requests[Res::kMemory] - free[Res::kMemory])};
}

// Everything but current usage allows the pod on the node.
bool Suits(const Pod& pod, const NodeState& st) {
  const FilterFailure f = CheckNode(pod, st, st.node.allocatable);
  return f == FilterFailure::kNone || f >= FilterFailure::kInsufficientCpu;
}

}  // namespace

bool Reservations::LargeEnough(const Pod& pod) const {
  // Large pods only: a small one is not starved by smaller ones, it waits its turn.
  return pod.gpu_milli_per_device >= 1000 && pod.gpu_devices >= std::max(1, options_.min_gpus);
}

const Reservations::Held* Reservations::Find(NodeId node) const {
  auto it = held_.find(node);
  return it == held_.end() ? nullptr : &it->second;
}

bool Reservations::QuotaAllows(const QueueTree& tree, QueueId leaf, const Charge& c) {
  // Only the configured maxima: the effective max of a queue that sets none is the
  // cluster's capacity, which a full cluster is at; that is what draining is for.
  bool ok = true;
  tree.ForEachAncestor(leaf, [&](QueueId id) {
    const Queue& q = tree.queue(id);
    if (q.draining || q.over_max_by_config) ok = false;
    auto over = [&](int dim, int64_t amount) {
      return amount > 0 && q.max_explicit[dim] >= 0 && q.usage[dim] + amount > q.max_explicit[dim];
    };
    if (over(kQCpu, c.cpu_millis) || over(kQMemory, c.memory_bytes)) ok = false;
    if (c.gpu_type != kNoGpuType && over(QGpu(c.gpu_type), c.gpu_millis)) ok = false;
  });
  return ok;
}

int64_t Reservations::OldestStart(const ReservationView& view, const NodeState& st, int64_t now_ms) {
  // Run times are heavy-tailed: a pod that has run long is likely to run long yet,
  // so a node whose GPU pods all started recently is expected to drain first. Pods
  // without GPUs (DaemonSets: device plugins, exporters) are not waited for; GPU
  // pods we did not place (or whose start we do not know) count as the oldest.
  int64_t oldest = now_ms;
  for (PodId p : st.pods) {
    const Pod& pod = view.snapshot->pod(p).pod;
    if (pod.requests[Res::kGpu] <= 0) continue;
    auto it = view.pods->find(pod.Key());
    oldest = std::min(oldest, it == view.pods->end() || !it->second.charged ? 0 : it->second.started_ms);
  }
  return oldest;
}

std::optional<NodeId> Reservations::ChooseNode(const ReservationView& view, const Pod& pod, QueueId leaf,
                                               int64_t now_ms) const {
  const Snapshot& snap = *view.snapshot;
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int, std::string>;
  NodeId best = kNoNode;
  Key best_key;
  auto consider = [&](NodeId id, int rank) {
    if (held_.contains(id) || (view.nominated && view.nominated(id))) return true;
    const NodeState& st = snap.node(id);
    if (!st.present || !pod.requests.FitsIn(st.node.allocatable) || st.node.gpu_count < pod.gpu_devices) return true;
    if (!Suits(pod, st)) return true;
    auto [gpu, cpu, mem] = DrainNeeded(pod, st, snap.Free(id));
    Key k{gpu, -OldestStart(view, st, now_ms), cpu, mem, rank, st.node.name};
    if (best == kNoNode || k < best_key) {
      best = id;
      best_key = std::move(k);
    }
    return true;
  };
  std::string error;
  const GpuTypeMask mask = AllowedGpuTypes(pod, *view.catalog, &error);
  for (GpuTypeId t : view.catalog->ByRank(mask)) {
    if (view.index->nodes_of_type(t) == 0 || !view.tree->MayUseType(leaf, t)) continue;
    // A queue at its configured max could not use the node anyway: reserving would hoard it.
    absl::StatusOr<Charge> c = view.tree->ChargeFor(pod, t);
    if (!c.ok() || !QuotaAllows(*view.tree, leaf, *c)) continue;
    const int rank = view.catalog->type(t).rank;
    view.index->Visit(t, 0, true, [&](NodeId id) { return consider(id, rank); });
  }
  if (best == kNoNode) return std::nullopt;
  return best;
}

void Reservations::Hold(NodeId node, uint64_t workload, const std::string& pod_key, int64_t now_ms) {
  held_[node] = Held{workload, pod_key, now_ms, now_ms + options_.max_hold_ms};
}

std::optional<uint64_t> Reservations::Release(NodeId node) {
  auto it = held_.find(node);
  if (it == held_.end()) return std::nullopt;
  const uint64_t workload = it->second.workload;
  held_.erase(it);
  return workload;
}

std::vector<Reservations::Ended> Reservations::Due(int64_t now_ms, const Snapshot& snapshot,
                                                   const std::function<bool(uint64_t)>& alive) const {
  std::vector<Ended> ended;
  for (const auto& [node, r] : held_) {
    if (!alive(r.workload)) {
      ended.push_back(Ended{node, r.workload, false});
    } else if (r.expires_ms <= now_ms) {
      ended.push_back(Ended{node, r.workload, true});
    } else {
      // The node must still be able to take the pod once drained (cordon, taints, labels).
      const NodeState& st = snapshot.node(node);
      const Pod& pod = snapshot.pod(snapshot.FindPod(r.pod_key)).pod;
      if (!st.present || !Suits(pod, st) || !pod.requests.FitsIn(st.node.allocatable)) {
        ended.push_back(Ended{node, r.workload, false});
      }
    }
  }
  std::sort(ended.begin(), ended.end(), [](const Ended& a, const Ended& b) { return a.node < b.node; });
  return ended;
}

std::string Reservations::Note(NodeId node, const Snapshot& snapshot) const {
  const Held* h = Find(node);
  if (h == nullptr) return "";
  return StrCat(" Node ", snapshot.node(node).node.name, " is reserved for it while it drains (since ",
                h->since_ms / 1000, "s, expires at ", h->expires_ms / 1000, "s).");
}

}  // namespace drover
