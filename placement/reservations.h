// Reservations: nodes held for large pending pods while they drain, so a pod that
// keeps losing freed GPUs to smaller ones is not starved. At most one per node and
// max_reservations in all; the engine decides when a pod may reserve and keeps
// other pods off a reserved node.
//
//   Reservations r({.after_ms = 180000, .max_hold_ms = 600000, .max_reservations = 16, .min_gpus = 2});
//   if (r.LargeEnough(pod) && r.has_room())
//     if (std::optional<NodeId> n = r.ChooseNode(view, pod, leaf, now_ms)) r.Hold(*n, workload, pod.Key(), now_ms);
//   if (r.ReservedForOther(node, workload)) ...        // filter reason kReserved
//   for (const Reservations::Ended& e : r.Due(now_ms, snapshot, alive)) r.Release(e.node);
//
// The node chosen is the one needing the least to drain (placement/README.md):
// fewest GPUs still to free, then the latest start among its GPU pods (run times
// are heavy-tailed: pods that started recently are the likeliest to end soon),
// then CPU, then memory; ties to the lower GPU rank, then the node name. Only
// nodes whose allocatable, taints, selectors and affinity suit the pod, on GPU
// types its queues may use and whose configured max would admit it, that hold no
// reservation and no preemptor's nomination.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/snapshot.h"
#include "placement/node_index.h"
#include "placement/tracked_pod.h"
#include "queues/queue_tree.h"

namespace drover {

// What ChooseNode reads; owned by the caller, valid for the call.
struct ReservationView {
  const Snapshot* snapshot = nullptr;
  const QueueTree* tree = nullptr;
  const NodeIndex* index = nullptr;
  const GpuCatalog* catalog = nullptr;
  const absl::flat_hash_map<std::string, TrackedPod>* pods = nullptr;  // our pods by key (their start times)
  std::function<bool(NodeId)> nominated;  // true for a node held for a preemptor
};

class Reservations {
 public:
  struct Options {
    int64_t after_ms = 3 * 60 * 1000;       // a pod's wait before it may reserve (0: never)
    int64_t max_hold_ms = 10 * 60 * 1000;   // a reservation's life
    int max_reservations = 16;              // at once, cluster-wide
    int min_gpus = 2;                       // whole GPUs a pod needs to reserve
  };
  struct Held {
    uint64_t workload = 0;
    std::string pod_key;
    int64_t since_ms = 0;
    int64_t expires_ms = 0;
  };
  explicit Reservations(Options options) : options_(options) {}

  const Options& options() const { return options_; }
  bool enabled() const { return options_.after_ms > 0; }
  bool empty() const { return held_.empty(); }
  // Fewer than max_reservations are held.
  bool has_room() const { return static_cast<int>(held_.size()) < options_.max_reservations; }
  // A pod large enough to reserve: min_gpus (at least 1) whole GPUs or more.
  bool LargeEnough(const Pod& pod) const;
  // True if `node` is reserved for a workload other than `workload`.
  bool ReservedForOther(NodeId node, uint64_t workload) const {
    auto it = held_.find(node);
    return it != held_.end() && it->second.workload != workload;
  }
  const Held* Find(NodeId node) const;

  // The node `pod` (of leaf queue `leaf`) should reserve (rules above), or nullopt.
  std::optional<NodeId> ChooseNode(const ReservationView& view, const Pod& pod, QueueId leaf, int64_t now_ms) const;
  // Holds `node` for `workload` (its pod `pod_key`) from now_ms for max_hold_ms.
  void Hold(NodeId node, uint64_t workload, const std::string& pod_key, int64_t now_ms);
  // Ends the reservation of `node`; the workload it was for, or nullopt if none.
  std::optional<uint64_t> Release(NodeId node);
  void Clear() { held_.clear(); }

  struct Ended {
    NodeId node = kNoNode;
    uint64_t workload = 0;
    bool expired = false;  // past max_hold_ms (the workload must wait anew); else gone or unsuitable
  };
  // Reservations to end now, by node id: those whose workload is not `alive`,
  // those past their hold, and those whose node can no longer take the pod
  // (gone, cordoned, tainted, relabelled, shrunk). Changes nothing.
  std::vector<Ended> Due(int64_t now_ms, const Snapshot& snapshot,
                         const std::function<bool(uint64_t workload)>& alive) const;
  // " Node N is reserved for it while it drains (since Ss, expires at Es)." or "".
  std::string Note(NodeId node, const Snapshot& snapshot) const;
  // Calls fn(node, held) for each reservation (unspecified order).
  void ForEach(const std::function<void(NodeId, const Held&)>& fn) const {
    for (const auto& [node, h] : held_) fn(node, h);
  }

 private:
  // No queue from `leaf` up has a configured max the charge would exceed.
  static bool QuotaAllows(const QueueTree& tree, QueueId leaf, const Charge& c);
  // Earliest start of the node's GPU pods (0 for a pod not ours), now_ms if none.
  static int64_t OldestStart(const ReservationView& view, const NodeState& st, int64_t now_ms);

  Options options_;
  absl::flat_hash_map<NodeId, Held> held_;
};

}  // namespace drover
