#include "core/snapshot.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "core/quantity.h"
#include "core/strings.h"

namespace drover {
namespace {

// a += b per dimension, held at the int64 range; true if any dimension was held.
bool AddHeld(ResourceVec& a, const ResourceVec& b) {
  bool held = false;
  for (ResourceId r = 0; r < Res::kMax; ++r) {
    int64_t sum = 0;
    if (__builtin_add_overflow(a[r], b[r], &sum)) {
      held = true;
      sum = SaturatingAdd(a[r], b[r]);
    }
    a[r] = sum;
  }
  return held;
}

// The sum of the requests of the pods counted on a node, held like AddHeld.
ResourceVec SumOfPods(const NodeState& st, const std::vector<PodEntry>& pods, bool* held) {
  ResourceVec sum;
  *held = false;
  for (PodId p : st.pods) *held = AddHeld(sum, pods[p].pod.requests) || *held;
  return sum;
}

}  // namespace

std::string ContainGpuClaim(Node& node) {
  const int64_t milli = node.allocatable[Res::kGpu];
  if (milli >= 0 && milli <= kMaxGpuDevicesPerNode * 1000 && milli % 1000 == 0 && node.gpu_count >= 0 &&
      node.gpu_count <= kMaxGpuDevicesPerNode) {
    return node.not_schedulable_reason;
  }
  const std::string why =
      milli < 0 || node.gpu_count < 0 ? "is negative"
      : milli % 1000 != 0             ? "is not a whole number of devices"
                                      : StrCat("is above the limit of ", kMaxGpuDevicesPerNode, " per node");
  node.not_schedulable_reason =
      StrCat("node ", node.name, ": status.allocatable ", ResourceName(Res::kGpu), ": ",
             milli % 1000 == 0 && milli >= 0 ? StrCat(milli / 1000) : FormatAmount(Res::kGpu, milli), " GPUs ", why,
             "; the node is not schedulable and its GPUs are not counted");
  node.allocatable[Res::kGpu] = 0;
  node.gpu_count = 0;
  node.unschedulable = true;
  return node.not_schedulable_reason;
}

std::string Snapshot::UpsertNode(Node node) {
  std::string warning = ContainGpuClaim(node);
  if (node.gpu_count > 0 && node.gpu_type == kNoGpuType) {
    std::string unknown;
    node.gpu_type = catalog_->TypeForProduct(node.gpu_product, &unknown);
    if (!unknown.empty()) warning = StrCat("node ", node.name, ": ", unknown);
  }
  auto it = node_index_.find(node.name);
  if (it != node_index_.end()) {
    NodeState& st = nodes_[it->second];
    // A reason already known is not repeated on every update of the node.
    if (!node.not_schedulable_reason.empty() && node.not_schedulable_reason == st.node.not_schedulable_reason &&
        warning == node.not_schedulable_reason) {
      warning.clear();
    }
    if (st.node == node) return warning;  // replay
    ++node_spec_generation_;
    const bool devices_changed = st.node.gpu_count != node.gpu_count;
    st.node = std::move(node);
    if (devices_changed) {
      // Re-seat the node's pods on the new device list.
      std::vector<PodId> pods = st.pods;
      for (PodId p : pods) Uncount(p);
      st.device_used.assign(st.node.gpu_count, 0);
      for (PodId p : pods) Count(p, it->second, PickDevices(it->second, pods_[p].pod));
    }
    Notify(it->second);
    return warning;
  }
  NodeId id;
  if (!free_node_slots_.empty()) {
    id = free_node_slots_.back();
    free_node_slots_.pop_back();
    nodes_[id] = NodeState{};
  } else {
    id = static_cast<NodeId>(nodes_.size());
    nodes_.emplace_back();
  }
  NodeState& st = nodes_[id];
  st.node = std::move(node);
  st.present = true;
  st.device_used.assign(st.node.gpu_count, 0);
  node_index_[st.node.name] = id;
  ++live_nodes_;
  ++node_spec_generation_;
  if (auto w = waiting_for_node_.find(st.node.name); w != waiting_for_node_.end()) {
    std::vector<PodId> waiting = std::move(w->second);
    waiting_for_node_.erase(w);
    for (PodId p : waiting) {
      if (pods_[p].live && pods_[p].counted_on == kNoNode) Count(p, id, PickDevices(id, pods_[p].pod));
    }
  }
  Notify(id);
  return warning;
}

void Snapshot::DeleteNode(std::string_view name) {
  auto it = node_index_.find(ToAbsl(name));
  if (it == node_index_.end()) return;
  const NodeId id = it->second;
  NodeState& st = nodes_[id];
  std::vector<PodId> pods = st.pods;
  for (PodId p : pods) {
    Uncount(p);
    waiting_for_node_[st.node.name].push_back(p);
  }
  st.present = false;
  node_index_.erase(it);
  free_node_slots_.push_back(id);
  --live_nodes_;
  ++node_spec_generation_;
  Notify(id);
}

void Snapshot::UpsertPod(Pod pod) {
  const std::string key = pod.Key();
  auto it = pod_index_.find(ToAbsl(key));
  PodId id;
  if (it == pod_index_.end()) {
    if (!free_pod_slots_.empty()) {
      id = free_pod_slots_.back();
      free_pod_slots_.pop_back();
      pods_[id] = PodEntry{};
    } else {
      id = static_cast<PodId>(pods_.size());
      pods_.emplace_back();
    }
    pod_index_.emplace(key, id);
    pods_[id].live = true;
    ++live_pods_;
  } else {
    id = it->second;
    PodEntry& e = pods_[id];
    if (e.pod == pod) return;  // replay
    // An assumed pod stays where we put it until an event shows it bound; the
    // watch may still deliver older, unbound versions of it meanwhile.
    if (e.assumed && !pod.IsBound() && !pod.IsTerminal() && !pod.deleting) {
      pod.node_name = e.pod.node_name;
      pod.gpu_device_ids = e.pod.gpu_device_ids;
      if (e.pod == pod) return;
    } else if (e.assumed && pod.node_name == e.pod.node_name) {
      e.assumed = false;  // confirmed
      if (pod.gpu_device_ids.empty()) pod.gpu_device_ids = e.devices;
    } else {
      e.assumed = false;
    }
  }
  PodEntry& e = pods_[id];
  const bool was_counted = e.counted_on != kNoNode;
  const bool same_place = was_counted && ShouldCount(pod) && pod.node_name == e.pod.node_name &&
                          pod.requests == e.pod.requests &&
                          (pod.gpu_device_ids.empty() || pod.gpu_device_ids == e.devices);
  if (same_place) {
    // Labels of a counted pod may change in place: listeners see it leave and come back.
    const bool relabel = pod_listener_ && !(pod.labels == e.pod.labels);
    if (relabel) pod_listener_(id, false);
    e.pod = std::move(pod);
    if (relabel) pod_listener_(id, true);
    return;
  }
  if (was_counted) Uncount(id);
  e.pod = std::move(pod);
  if (!ShouldCount(e.pod)) return;
  const NodeId node = FindNode(e.pod.node_name);
  if (node == kNoNode) {
    waiting_for_node_[e.pod.node_name].push_back(id);
    return;
  }
  Count(id, node, PickDevices(node, e.pod));
}

void Snapshot::DeletePod(std::string_view key) {
  auto it = pod_index_.find(ToAbsl(key));
  if (it == pod_index_.end()) return;
  const PodId id = it->second;
  if (pods_[id].counted_on != kNoNode) Uncount(id);
  pod_index_.erase(it);
  pods_[id] = PodEntry{};
  free_pod_slots_.push_back(id);
  --live_pods_;
}

absl::Status Snapshot::Assume(std::string_view key, NodeId node, const std::vector<int>& devices) {
  const PodId id = FindPod(key);
  if (id == kNoPod) return absl::NotFoundError(StrCat("pod ", key, " is not in the snapshot"));
  return Assume(id, node, devices);
}

absl::Status Snapshot::Assume(PodId id, NodeId node, const std::vector<int>& devices) {
  if (id < 0 || id >= pod_slots() || !pods_[id].live) {
    return absl::NotFoundError(StrCat("pod id ", id, " is not in the snapshot"));
  }
  PodEntry& e = pods_[id];
  if (e.pod.IsBound()) {
    return absl::FailedPreconditionError(StrCat("pod ", e.pod.Key(), " is already on node ", e.pod.node_name));
  }
  if (node < 0 || node >= node_slots() || !nodes_[node].present) {
    return absl::InvalidArgumentError(StrCat("pod ", e.pod.Key(), ": node id ", node, " is not in the snapshot"));
  }
  e.pod.node_name = nodes_[node].node.name;
  e.pod.gpu_device_ids = devices;
  e.assumed = true;
  Count(id, node, devices.empty() ? PickDevices(node, e.pod) : devices);
  return absl::OkStatus();
}

void Snapshot::Forget(std::string_view key) {
  const PodId id = FindPod(key);
  if (id == kNoPod || !pods_[id].assumed) return;
  PodEntry& e = pods_[id];
  if (e.counted_on != kNoNode) Uncount(id);
  e.assumed = false;
  e.pod.node_name.clear();
  e.pod.gpu_device_ids.clear();
}

NodeId Snapshot::FindNode(std::string_view name) const {
  auto it = node_index_.find(ToAbsl(name));
  return it == node_index_.end() ? kNoNode : it->second;
}

PodId Snapshot::FindPod(std::string_view key) const {
  auto it = pod_index_.find(ToAbsl(key));
  return it == pod_index_.end() ? kNoPod : it->second;
}

int Snapshot::FreeWholeGpus(NodeId id) const {
  int n = 0;
  for (int32_t used : nodes_[id].device_used) n += used == 0 ? 1 : 0;
  return n;
}

void Snapshot::Count(PodId id, NodeId node, const std::vector<int>& devices) {
  PodEntry& e = pods_[id];
  NodeState& st = nodes_[node];
  e.counted_on = node;
  e.devices = devices;
  e.slot_in_node = static_cast<int32_t>(st.pods.size());
  st.pods.push_back(id);
  if (AddHeld(st.used, e.pod.requests)) st.used_saturated = true;
  for (int d : devices) st.device_used[d] += e.pod.gpu_milli_per_device;
  Notify(node);
  if (pod_listener_) pod_listener_(id, true);
}

void Snapshot::Uncount(PodId id) {
  if (pod_listener_) pod_listener_(id, false);
  PodEntry& e = pods_[id];
  NodeState& st = nodes_[e.counted_on];
  if (!st.used_saturated) st.used -= e.pod.requests;
  for (int d : e.devices) st.device_used[d] -= e.pod.gpu_milli_per_device;
  const PodId last = st.pods.back();
  st.pods[e.slot_in_node] = last;
  pods_[last].slot_in_node = e.slot_in_node;
  st.pods.pop_back();
  if (st.used_saturated) st.used = SumOfPods(st, pods_, &st.used_saturated);  // a held sum cannot be subtracted from
  const NodeId node = e.counted_on;
  e.counted_on = kNoNode;
  e.slot_in_node = -1;
  e.devices.clear();
  Notify(node);
}

std::vector<int> Snapshot::PickDevices(NodeId node, const Pod& pod) const {
  const NodeState& st = nodes_[node];
  const int n = static_cast<int>(st.device_used.size());
  std::vector<int> out;
  if (pod.gpu_devices == 0 || n == 0) return out;
  // Devices recorded on the pod (our own annotation) are taken as they are.
  bool valid = static_cast<int>(pod.gpu_device_ids.size()) == pod.gpu_devices;
  for (int d : pod.gpu_device_ids) valid = valid && d >= 0 && d < n;
  if (valid) return pod.gpu_device_ids;
  // Otherwise charge the least-used devices, lowest index first: what a device
  // plugin would most likely have handed out.
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return st.device_used[a] < st.device_used[b]; });
  for (int i = 0; i < pod.gpu_devices && i < n; ++i) out.push_back(order[i]);
  return out;
}

std::vector<std::string> Snapshot::CheckInvariants() const {
  std::vector<std::string> problems;
  for (NodeId id = 0; id < node_slots(); ++id) {
    const NodeState& st = nodes_[id];
    if (!st.present) continue;
    bool held = false;
    const ResourceVec sum = SumOfPods(st, pods_, &held);
    std::vector<int32_t> dev(st.device_used.size(), 0);
    for (PodId p : st.pods) {
      for (int d : pods_[p].devices) dev[d] += pods_[p].pod.gpu_milli_per_device;
    }
    if (!(sum == st.used)) {
      problems.push_back(StrCat("node ", st.node.name, ": usage ", st.used.ToString(),
                                      " differs from the sum of its pods ", sum.ToString()));
    }
    if (dev != st.device_used) problems.push_back(StrCat("node ", st.node.name, ": device usage out of sync"));
    if (ResourceId r = st.used.FirstExceeding(st.node.allocatable); r >= 0) {
      problems.push_back(StrCat("node ", st.node.name, " over-committed on ", ResourceName(r), ": ",
                                      FormatAmount(r, st.used[r]), " used of ", FormatAmount(r, st.node.allocatable[r])));
    }
    for (size_t d = 0; d < dev.size(); ++d) {
      if (dev[d] > 1000) {
        problems.push_back(StrCat("node ", st.node.name, " GPU device ", d, " over-committed: ", dev[d],
                                        " milli-GPU"));
      }
    }
  }
  return problems;
}

}  // namespace drover
