#include "sim/fill.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/rng.h"
#include "core/snapshot.h"
#include "core/status_macros.h"

namespace drover::fill {
namespace {

int64_t GpuMilli(const Pod& p) { return int64_t{p.gpu_devices} * p.gpu_milli_per_device; }

// FNV-1a, the same in every process (unlike absl::Hash), with a separator after `s`.
void Digest(uint64_t* h, std::string_view s) {
  for (char c : s) *h = (*h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  *h = (*h ^ 0xff) * 1099511628211ULL;
}

// The per-run state of the fill: the snapshot and the GPU types each pod accepts.
class Filler {
 public:
  Filler(const GpuCatalog& catalog, ScoringPolicy* policy) : catalog_(catalog), snap_(&catalog_), policy_(policy) {
    snap_.set_node_listener([this](NodeId id) { policy_->NodeChanged(snap_, id); });
  }
  Filler(const Filler&) = delete;
  Filler& operator=(const Filler&) = delete;
  void AddNodes(const std::vector<Node>& nodes);
  int64_t capacity_milli() const { return capacity_milli_; }
  // Places `pod` (already observed) on the best feasible node; false if none.
  absl::StatusOr<bool> Place(const Pod& pod);
  // The node and devices of the last pod placed.
  const std::string& last_node() const { return snap_.node(last_node_).node.name; }
  const std::vector<int>& last_devices() const { return best_devices_; }
  // Checks the snapshot's invariants and that it holds `allocated_milli` of GPU.
  absl::Status Verify(int64_t allocated_milli) const;

 private:
  bool Feasible(const Pod& pod, GpuTypeMask types, const NodeState& st) const;
  absl::StatusOr<GpuTypeMask> AcceptedTypes(const Pod& pod);
  absl::Status CheckDevices(const Pod& pod, const NodeState& st, const std::vector<int>& devices) const;

  GpuCatalog catalog_;
  Snapshot snap_;
  ScoringPolicy* policy_;
  int64_t capacity_milli_ = 0;
  NodeId last_node_ = kNoNode;
  absl::flat_hash_map<std::string, GpuTypeMask> types_;
  std::vector<int> devices_, best_devices_;
};

void Filler::AddNodes(const std::vector<Node>& nodes) {
  for (const Node& n : nodes) {
    snap_.UpsertNode(n);
    capacity_milli_ += int64_t{n.gpu_count} * 1000;
  }
}

absl::StatusOr<GpuTypeMask> Filler::AcceptedTypes(const Pod& pod) {
  const std::string* request = pod.annotations.Get(annotations::kGpuType);
  if (request == nullptr || !pod.WantsGpu()) return kAnyGpuType;
  auto it = types_.find(*request);
  if (it != types_.end()) return it->second;
  absl::StatusOr<GpuTypeMask> mask = catalog_.ResolveRequest(*request);
  if (!mask.ok()) return absl::InvalidArgumentError(absl::StrCat("pod ", pod.Key(), ": ", mask.status().message()));
  types_.emplace(*request, *mask);
  return *mask;
}

bool Filler::Feasible(const Pod& pod, GpuTypeMask types, const NodeState& st) const {
  return FitsNode(pod, types, st);
}

absl::Status Filler::CheckDevices(const Pod& pod, const NodeState& st, const std::vector<int>& devices) const {
  bool ok = static_cast<int>(devices.size()) == pod.gpu_devices;
  for (size_t i = 0; ok && i < devices.size(); ++i) {
    const int d = devices[i];
    ok = d >= 0 && d < static_cast<int>(st.device_used.size()) && 1000 - st.device_used[d] >= pod.gpu_milli_per_device &&
         std::count(devices.begin(), devices.end(), d) == 1;
  }
  if (ok) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("policy ", std::string(policy_->name()), " gave pod ", pod.Key(), " devices [",
                                          absl::StrJoin(devices, ","), "] on node ", st.node.name));
}

absl::StatusOr<bool> Filler::Place(const Pod& pod) {
  ASSIGN_OR_RETURN(GpuTypeMask types, AcceptedTypes(pod));
  double best = -std::numeric_limits<double>::infinity();
  NodeId best_node = kNoNode;
  // A policy that ranks nodes itself gives the node this scan would choose.
  const bool ranked = policy_->VisitRanked(pod, types, snap_, [&](NodeId id) {
    if (!Feasible(pod, types, snap_.node(id))) return true;
    best_node = id;
    return false;
  });
  if (ranked && best_node != kNoNode) (void)policy_->Score(pod, best_node, snap_, &best_devices_);
  for (NodeId id = 0; !ranked && id < snap_.node_slots(); ++id) {
    const NodeState& st = snap_.node(id);
    if (!st.present || !Feasible(pod, types, st)) continue;
    const double s = policy_->Score(pod, id, snap_, &devices_);
    if (best_node == kNoNode || s > best) {  // ties: the lower node id
      best = s;
      best_node = id;
      best_devices_ = devices_;
    }
  }
  if (best_node == kNoNode) return false;
  RETURN_IF_ERROR(CheckDevices(pod, snap_.node(best_node), best_devices_));
  snap_.UpsertPod(pod);
  RETURN_IF_ERROR(snap_.Assume(pod.Key(), best_node, best_devices_));
  last_node_ = best_node;
  return true;
}

absl::Status Filler::Verify(int64_t allocated_milli) const {
  std::vector<std::string> problems = snap_.CheckInvariants();
  int64_t on_devices = 0;
  for (NodeId id = 0; id < snap_.node_slots(); ++id) {
    for (int32_t used : snap_.node(id).device_used) on_devices += used;
  }
  if (on_devices != allocated_milli) {
    problems.push_back(absl::StrCat("the snapshot holds ", on_devices, " milli-GPU, the fill counted ", allocated_milli));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("fill: snapshot check failed: ", absl::StrJoin(problems, "; ")));
}

}  // namespace

bool FitsNode(const Pod& pod, GpuTypeMask types, const NodeState& st) {
  for (ResourceId r : {Res::kCpu, Res::kMemory, Res::kPods}) {
    if (pod.requests[r] > st.node.allocatable[r] - st.used[r]) return false;
  }
  if (!pod.WantsGpu()) return true;
  if (st.node.gpu_type < 0 || ((types >> st.node.gpu_type) & 1) == 0) return false;
  int fit = 0;
  for (int32_t used : st.device_used) fit += 1000 - used >= pod.gpu_milli_per_device ? 1 : 0;
  return fit >= pod.gpu_devices;
}

std::vector<int> ArrivalOrder(const std::vector<Pod>& pods, int64_t capacity_milli, double ratio, uint64_t seed) {
  std::vector<int> order(pods.size());
  for (size_t i = 0; i < pods.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return pods[a].name < pods[b].name; });
  Rng rng(seed);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
  const double limit = ratio * static_cast<double>(capacity_milli);
  int64_t total = 0;
  for (int i : order) total += GpuMilli(pods[i]);
  while (static_cast<double>(total) > limit && !order.empty()) {
    const size_t victim = rng.Below(order.size());
    total -= GpuMilli(pods[order[victim]]);
    order.erase(order.begin() + static_cast<std::ptrdiff_t>(victim));
  }
  if (pods.empty()) return order;
  for (;;) {
    const int pick = static_cast<int>(rng.Below(pods.size()));
    if (static_cast<double>(total + GpuMilli(pods[pick])) > limit) break;
    total += GpuMilli(pods[pick]);
    order.push_back(pick);
  }
  return order;
}

void ArrivalCurve::Record(int64_t arrived_milli, int64_t allocated_milli) {
  const double cap = static_cast<double>(capacity_milli_);
  const long bucket = std::lround(100.0 * static_cast<double>(arrived_milli) / cap);
  if (bucket < 0) return;
  if (static_cast<size_t>(bucket) >= sum_.size()) {
    sum_.resize(bucket + 1, 0.0);
    count_.resize(bucket + 1, 0);
  }
  sum_[bucket] += 100.0 * static_cast<double>(allocated_milli) / cap;
  ++count_[bucket];
}

std::vector<double> ArrivalCurve::MeanAllocation() const {
  std::vector<double> out(sum_.size(), std::numeric_limits<double>::quiet_NaN());
  for (size_t b = 0; b < sum_.size(); ++b) {
    if (count_[b] > 0) out[b] = sum_[b] / count_[b];
  }
  return out;
}

double ArrivalCurve::UnallocatedAt(int arrival_pct) const {
  for (int b = std::min<int>(arrival_pct, static_cast<int>(sum_.size()) - 1); b >= 0; --b) {
    if (count_[b] > 0) return 100.0 - sum_[b] / count_[b];
  }
  return 100.0;
}

absl::StatusOr<FillResult> RunFill(const std::vector<Node>& nodes, const std::vector<Pod>& pods,
                                   const GpuCatalog& catalog, ScoringPolicy* policy, const FillOptions& options) {
  Filler filler(catalog, policy);
  filler.AddNodes(nodes);
  FillResult r;
  r.capacity_milli = filler.capacity_milli();
  if (r.capacity_milli <= 0) return absl::InvalidArgumentError("fill: the cluster has no GPUs");
  const std::vector<int> order = ArrivalOrder(pods, r.capacity_milli, options.inflation, options.seed);
  ArrivalCurve curve(r.capacity_milli);
  std::vector<int> copies(pods.size(), 0);
  const auto start = std::chrono::steady_clock::now();
  r.decisions_digest = 14695981039346656037ULL;
  for (int i : order) {
    Pod pod = pods[i];
    if (copies[i]++ > 0) pod.name = absl::StrCat(pod.name, "-copy", copies[i] - 1);
    policy->Observe(pod);
    r.arrived_milli += GpuMilli(pod);
    ASSIGN_OR_RETURN(bool placed, filler.Place(pod));
    Digest(&r.decisions_digest, pod.name);
    Digest(&r.decisions_digest, placed ? filler.last_node() : "-");
    if (placed) Digest(&r.decisions_digest, absl::StrJoin(filler.last_devices(), ","));
    if (placed) {
      r.allocated_milli += GpuMilli(pod);
      ++r.placed;
    } else {
      ++r.failed;
      if (200 * r.arrived_milli < 201 * r.capacity_milli) {  // rounds to <= 100%
        const int kind = pod.gpu_devices >= 8 ? 3 : pod.gpu_devices >= 2 ? 2 : pod.gpu_milli_per_device == 1000 ? 1 : 0;
        r.failed_milli_by_kind[kind] += GpuMilli(pod);
      }
    }
    curve.Record(r.arrived_milli, r.allocated_milli);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RETURN_IF_ERROR(filler.Verify(r.allocated_milli));
  r.pods = static_cast<int>(order.size());
  r.allocation_by_arrival = curve.MeanAllocation();
  r.unallocated_at_100 = curve.UnallocatedAt(100);
  return r;
}

}  // namespace drover::fill
