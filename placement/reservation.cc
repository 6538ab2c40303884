// Reservations: a pod that keeps losing freed capacity to smaller ones holds one
// node while it drains. The rules (placement/README.md):
//  - a single pod that has waited reservation_after_ms since its first failed
//    attempt (or since its last reservation expired), fits no node now, is
//    admitted by its queue on the node's GPU type and would fit the node's
//    allocatable, reserves the node that needs the least to drain: fewest
//    GPUs to free, then the latest start among its pods (run times are
//    heavy-tailed: pods that started recently are the likeliest to end soon),
//    then CPU, then memory; ties to the lower GPU rank, then the node name.
//    At most max_reservations at once, one per node, none on a node
//    held for a preemptor;
//  - no other new pod lands on a reserved node (filter reason kReserved), and no
//    preemptor picks it;
//  - the reservation ends when the pod binds (anywhere), leaves, or after
//    reservation_max_hold_ms; after an expiry the pod waits anew before it may
//    reserve again, so a node is never held idle beyond the configured bound.
// Only pods of at least reservation_min_gpus whole GPUs reserve (a smaller pod is
// not starved by smaller ones); gangs and pods with a nomination do not.
#include <algorithm>
#include <tuple>

#include "core/strings.h"
#include "placement/engine.h"

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

}  // namespace

bool Engine::QuotaAllows(QueueId leaf, const Charge& c) const {
  // Only the configured maxima: the effective max of a queue that sets none is the
  // cluster's capacity, which a full cluster is at; that is what draining is for.
  bool ok = true;
  tree_->ForEachAncestor(leaf, [&](QueueId id) {
    const Queue& q = tree_->queue(id);
    if (q.draining || q.over_max_by_config) ok = false;
    auto over = [&](int dim, int64_t amount) {
      return amount > 0 && q.max_explicit[dim] >= 0 && q.usage[dim] + amount > q.max_explicit[dim];
    };
    if (over(kQCpu, c.cpu_millis) || over(kQMemory, c.memory_bytes)) ok = false;
    if (c.gpu_type != kNoGpuType && over(QGpu(c.gpu_type), c.gpu_millis)) ok = false;
  });
  return ok;
}

bool Engine::MayReserve(const Workload& w) const {
  if (options_.reservation_after_ms <= 0 || w.reserved_node != kNoNode || !w.gang.empty() ||
      w.members.size() != 1 || !w.rejection.empty() || w.leaf == kNoQueue || w.waiting_since_ms < 0 ||
      now_ms_ - w.waiting_since_ms < options_.reservation_after_ms ||
      static_cast<int>(reservations_.size()) >= options_.max_reservations) {
    return false;
  }
  return LargeEnoughToReserve(snapshot_.pod(snapshot_.FindPod(w.members[0])).pod);
}

void Engine::WakeToReserve(Workload& w, const Pod& head) {
  if (w.reserved_node != kNoNode || options_.reservation_after_ms <= 0 || !w.gang.empty() ||
      now_ms_ - w.waiting_since_ms >= options_.reservation_after_ms || !LargeEnoughToReserve(head)) {
    return;
  }
  WakeAt(w, w.waiting_since_ms + options_.reservation_after_ms);
}

bool Engine::LargeEnoughToReserve(const Pod& pod) const {
  // Large pods only: a small one is not starved by smaller ones, it waits its turn.
  return pod.gpu_milli_per_device >= 1000 && pod.gpu_devices >= std::max(1, options_.reservation_min_gpus);
}

int64_t Engine::OldestStart(const NodeState& st) const {
  // Run times are heavy-tailed: a pod that has run long is likely to run long yet,
  // so a node whose GPU pods all started recently is expected to drain first. Pods
  // without GPUs (DaemonSets: device plugins, exporters) are not waited for; GPU
  // pods we did not place (or whose start we do not know) count as the oldest.
  int64_t oldest = now_ms_;
  for (PodId p : st.pods) {
    const Pod& pod = snapshot_.pod(p).pod;
    if (pod.requests[Res::kGpu] <= 0) continue;
    auto it = tracked_.find(pod.Key());
    oldest = std::min(oldest, it == tracked_.end() || !it->second.charged ? 0 : it->second.started_ms);
  }
  return oldest;
}

bool Engine::TryReserve(Workload& w) {
  const std::string& key = w.members[0];
  for (const auto& [node, nom] : nominations_) {
    if (nom.pod_key == key) return false;  // freed space is already held for it
  }
  const Pod& pod = snapshot_.pod(snapshot_.FindPod(key)).pod;
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int, std::string>;
  NodeId best = kNoNode;
  Key best_key;
  auto consider = [&](NodeId id, int rank) {
    if (reservations_.contains(id) || nominations_.contains(id)) return true;
    const NodeState& st = snapshot_.node(id);
    if (!st.present || !pod.requests.FitsIn(st.node.allocatable) || st.node.gpu_count < pod.gpu_devices) return true;
    // Everything but current usage must allow the pod here.
    const FilterFailure f = CheckNode(pod, st, st.node.allocatable);
    if (f != FilterFailure::kNone && f < FilterFailure::kInsufficientCpu) return true;
    auto [gpu, cpu, mem] = DrainNeeded(pod, st, snapshot_.Free(id));
    Key k{gpu, -OldestStart(st), cpu, mem, rank, st.node.name};
    if (best == kNoNode || k < best_key) {
      best = id;
      best_key = std::move(k);
    }
    return true;
  };
  {
    std::string error;
    const GpuTypeMask mask = AllowedGpuTypes(pod, catalog_, &error);
    for (GpuTypeId t : catalog_.ByRank(mask)) {
      if (index_.nodes_of_type(t) == 0 || !tree_->MayUseType(w.leaf, t)) continue;
      // A queue at its configured max could not use the node anyway: reserving would hoard it.
      absl::StatusOr<Charge> c = tree_->ChargeFor(pod, t);
      if (!c.ok() || !QuotaAllows(w.leaf, *c)) continue;
      const int rank = catalog_.type(t).rank;
      index_.Visit(t, 0, true, [&](NodeId id) { return consider(id, rank); });
    }
  }
  if (best == kNoNode) return false;
  reservations_[best] = Reservation{w.id, key, now_ms_, now_ms_ + options_.reservation_max_hold_ms};
  w.reserved_node = best;
  ++stats_.reservations;
  return true;
}

void Engine::ReleaseReservation(NodeId node) {
  auto it = reservations_.find(node);
  if (it == reservations_.end()) return;
  if (auto w = workloads_.find(it->second.workload); w != workloads_.end()) {
    w->second.reserved_node = kNoNode;
    w->second.reason.clear();  // explained afresh, without the reservation
  }
  reservations_.erase(it);
  capacity_freed_ = true;  // others may land there again
}

void Engine::CheckReservations() {
  std::vector<NodeId> ended;
  for (const auto& [node, r] : reservations_) {
    auto w = workloads_.find(r.workload);
    if (w == workloads_.end()) {
      ended.push_back(node);
      continue;
    }
    if (r.expires_ms <= now_ms_) {
      ended.push_back(node);
      w->second.waiting_since_ms = now_ms_;  // a new wait before it may reserve again
      ++stats_.reservations_expired;
      continue;
    }
    // The node must still be able to take the pod once drained (cordon, taints, labels).
    const NodeState& st = snapshot_.node(node);
    const Pod& pod = snapshot_.pod(snapshot_.FindPod(r.pod_key)).pod;
    const FilterFailure f = st.present ? CheckNode(pod, st, st.node.allocatable) : FilterFailure::kNotReady;
    if ((f != FilterFailure::kNone && f < FilterFailure::kInsufficientCpu) || !pod.requests.FitsIn(st.node.allocatable)) {
      ended.push_back(node);
    }
  }
  std::sort(ended.begin(), ended.end());
  for (NodeId node : ended) ReleaseReservation(node);
}

std::string Engine::ReservationNote(const Workload& w) const {
  auto it = reservations_.find(w.reserved_node);
  if (it == reservations_.end()) return "";
  return StrCat(" Node ", snapshot_.node(w.reserved_node).node.name, " is reserved for it while it drains (since ",
                it->second.since_ms / 1000, "s, expires at ", it->second.expires_ms / 1000, "s).");
}

void Engine::DropNodeHolds(NodeId node) {
  if (node == kNoNode) return;
  nominations_.erase(node);
  ReleaseReservation(node);
}

std::vector<NodeReservation> Engine::Reservations() const {
  std::vector<NodeReservation> out;
  for (const auto& [node, r] : reservations_) {
    auto w = workloads_.find(r.workload);
    const std::string queue = w == workloads_.end() ? "" : tree_->queue(w->second.leaf).path;
    out.push_back(NodeReservation{snapshot_.node(node).node.name, r.pod_key, queue, r.since_ms, r.expires_ms});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.node < b.node; });
  return out;
}

}  // namespace drover
