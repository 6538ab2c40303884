// The cluster snapshot: every node and every pod that holds resources, and the
// namespaces' labels (namespaceSelector), kept up to date incrementally from
// node/pod/namespace events, with free capacity per node and per GPU device
// answered in O(1).
//
//   Snapshot snap(&catalog);
//   snap.UpsertNode(node);             // add or update; replaying the same event is a no-op
//   snap.UpsertPod(pod);               // bound, non-terminal pods count on their node
//   ResourceVec free = snap.Free(snap.FindNode("gpu-1"));
//   snap.Assume("ns/pod", node_id, {0, 1});   // the scheduler's own decision, before the bind lands
//
// Every pod counts for node usage whatever its scheduler, like kube-scheduler's
// cache. A pod that names a node we have not seen yet is kept and counted when the
// node arrives. Pods are owned in a slab with dense ids; each node lists its pods.
// Invariant (CheckInvariants): the usage of each node equals the sum of its pods'
// requests (held at INT64_MAX where it would overflow), and for pods Drover placed,
// no node and no device is over-committed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/gpu_catalog.h"
#include "core/model.h"
#include "core/namespaces.h"
#include "core/resources.h"

namespace drover {

using NodeId = int32_t;
using PodId = int32_t;
inline constexpr NodeId kNoNode = -1;
inline constexpr PodId kNoPod = -1;

// The most GPU devices one node may claim. Real nodes have 8 or 16; a device
// plugin with time-slicing or MPS replicas advertises a few hundred at most. The
// snapshot keeps state per device, so a larger claim (a broken device plugin, a
// mistyped value, 10^9) must never become an allocation of that size.
inline constexpr int64_t kMaxGpuDevicesPerNode = 1024;

// Keeps a node's GPU claim within kMaxGpuDevicesPerNode. A node claiming more, a
// negative amount, or a fraction of a device is made not schedulable: its GPUs
// are dropped (allocatable 0, gpu_count 0), `unschedulable` is set and
// `not_schedulable_reason` says why. Returns that reason (naming the node, the
// field and the value); a node within the limit is left as it is, and its earlier
// reason, if any, returned. Decoders call it before any per-device state exists;
// Snapshot::UpsertNode calls it again for nodes from any other source.
std::string ContainGpuClaim(Node& node);

struct NodeState {
  Node node;
  bool present = false;                  // false after deletion (the slot may be reused)
  // Sum of requests of pods counted here. A dimension whose sum would pass the int64
  // range holds INT64_MAX (the node is full there) and `used_saturated` is set until
  // a pod leaves and the sum is recounted.
  ResourceVec used;
  bool used_saturated = false;
  std::vector<int32_t> device_used;      // milli-GPU used per device, size node.gpu_count
  std::vector<PodId> pods;               // pods counted here
};

struct PodEntry {
  Pod pod;
  bool live = false;
  bool assumed = false;            // placed by us, bind not yet confirmed by an event
  NodeId counted_on = kNoNode;     // node whose usage includes this pod
  int32_t slot_in_node = -1;       // index in NodeState::pods
  std::vector<int> devices;        // devices charged on counted_on
};

class Snapshot {
 public:
  explicit Snapshot(GpuCatalog* catalog) : catalog_(catalog) {}

  // --- Events. Each is idempotent: applying the same event twice changes nothing. ---
  // Returns a warning text or "": a GPU product the catalog does not know (once
  // per product), or a node over kMaxGpuDevicesPerNode (ContainGpuClaim; when the
  // node is added or its reason changes, not on every update).
  std::string UpsertNode(Node node);
  void DeleteNode(std::string_view name);
  void UpsertPod(Pod pod);
  void DeletePod(std::string_view key);
  // A namespace's labels (namespaceSelector); true if what selectors see changed.
  // Running pods are not moved (IgnoredDuringExecution): later placements read them.
  bool UpsertNamespace(Namespace ns) { return namespaces_.Set(std::move(ns)); }
  bool DeleteNamespace(std::string_view name) { return namespaces_.Erase(name); }
  // Replaces every namespace's labels (a snapshot rebuilt for a new configuration keeps them).
  void set_namespaces(NamespaceLabels namespaces) { namespaces_ = std::move(namespaces); }

  // --- The scheduler's own decisions. ---
  // Counts the pod on `node` with the given devices before the cluster confirms
  // it. Error if the pod is unknown or already bound elsewhere.
  [[nodiscard]] absl::Status Assume(std::string_view key, NodeId node, const std::vector<int>& devices);
  // The same for a pod already looked up (`id` from FindPod).
  [[nodiscard]] absl::Status Assume(PodId id, NodeId node, const std::vector<int>& devices);
  // Undoes Assume (the bind failed). No-op if the pod was confirmed meanwhile.
  void Forget(std::string_view key);

  // --- Queries ---
  // Changes whenever a node is added, changed or deleted (not when pods come and
  // go): what was derived from nodes' specs alone stays valid while it holds.
  uint64_t node_spec_generation() const { return node_spec_generation_; }
  NodeId FindNode(std::string_view name) const;
  PodId FindPod(std::string_view key) const;
  const NodeState& node(NodeId id) const { return nodes_[id]; }
  const PodEntry& pod(PodId id) const { return pods_[id]; }
  int node_slots() const { return static_cast<int>(nodes_.size()); }
  int pod_slots() const { return static_cast<int>(pods_.size()); }
  int live_nodes() const { return live_nodes_; }
  int live_pods() const { return live_pods_; }
  ResourceVec Free(NodeId id) const { return nodes_[id].node.allocatable - nodes_[id].used; }
  int FreeWholeGpus(NodeId id) const;
  const GpuCatalog& catalog() const { return *catalog_; }
  // The namespaces' labels seen so far (one entry per namespace).
  const NamespaceLabels& namespaces() const { return namespaces_; }

  // Problems found, one line each; empty when all invariants hold.
  std::vector<std::string> CheckInvariants() const;

  // Called after any change to a node's spec or usage (placement indexes listen).
  void set_node_listener(std::function<void(NodeId)> fn) { node_listener_ = std::move(fn); }
  // Called with (pod, true) once a pod counts on a node (pod(id).counted_on set),
  // and (pod, false) just before it stops counting, or before its labels change
  // in place (then (pod, true) after). Placement's topology index listens.
  void set_pod_listener(std::function<void(PodId, bool)> fn) { pod_listener_ = std::move(fn); }

 private:
  void Count(PodId id, NodeId node, const std::vector<int>& devices);
  void Uncount(PodId id);
  std::vector<int> PickDevices(NodeId node, const Pod& pod) const;
  bool ShouldCount(const Pod& pod) const { return pod.IsBound() && !pod.IsTerminal(); }
  void Notify(NodeId id) {
    if (node_listener_) node_listener_(id);
  }

  GpuCatalog* catalog_;
  std::vector<NodeState> nodes_;
  std::vector<NodeId> free_node_slots_;
  absl::flat_hash_map<std::string, NodeId> node_index_;
  std::vector<PodEntry> pods_;
  std::vector<PodId> free_pod_slots_;
  absl::flat_hash_map<std::string, PodId> pod_index_;
  // Bound pods whose node is not known yet, by node name.
  absl::flat_hash_map<std::string, std::vector<PodId>> waiting_for_node_;
  int live_nodes_ = 0;
  uint64_t node_spec_generation_ = 0;
  int live_pods_ = 0;
  NamespaceLabels namespaces_;
  std::function<void(NodeId)> node_listener_;
  std::function<void(PodId, bool)> pod_listener_;
};

}  // namespace drover
