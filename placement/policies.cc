// MakePolicy, device picking, and the two everyday policies: "binpack" and "spread".
// The FGD paper's baselines are in policies_baselines.cc, the fragmentation-aware
// policies in policies_fgd.cc.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "placement/policies_internal.h"
#include "placement/policy.h"

namespace drover {
namespace policy_internal {

NodeGpuView::NodeGpuView(const NodeState& st)
    : cpu_left(st.node.allocatable[Res::kCpu] - st.used[Res::kCpu]),
      cpu_capacity(st.node.allocatable[Res::kCpu]),
      memory_left(st.node.allocatable[Res::kMemory] - st.used[Res::kMemory]),
      memory_capacity(st.node.allocatable[Res::kMemory]),
      gpu_count(static_cast<int>(st.device_used.size())),
      used(&st.device_used) {}

int NodeGpuView::FullyFree() const {
  int n = 0;
  for (int32_t u : *used) n += u == 0 ? 1 : 0;
  return n;
}

int64_t NodeGpuView::TotalFree() const {
  int64_t n = 0;
  for (int32_t u : *used) n += kMilliPerGpu - u;
  return n;
}

namespace {

double Fraction(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// Most-allocated packing. Score tiers, each far above the next:
//   GPU pods: lower GPU type rank (keep premium GPUs free) > GPU allocation after
//   placement > device fit (shared: fullest device; whole: fewest free GPUs left)
//   > CPU/memory allocation.
//   CPU-only pods: nodes without GPUs > GPU nodes whose GPUs are busy > CPU/memory.
class BinpackPolicy : public ScoringPolicy {
 public:
  std::string_view name() const override { return "binpack"; }
  int CandidateLimit() const override { return 16; }

  double Score(const Pod& pod, NodeId id, const Snapshot& snap, std::vector<int>* devices) override {
    const NodeState& st = snap.node(id);
    const NodeGpuView v(st);
    devices->clear();
    const double cpu_mem = 0.5 * (Fraction(v.cpu_capacity - v.cpu_left + pod.requests[Res::kCpu], v.cpu_capacity) +
                                  Fraction(v.memory_capacity - v.memory_left + pod.requests[Res::kMemory],
                                           v.memory_capacity));
    const int64_t gpu_capacity = int64_t{kMilliPerGpu} * v.gpu_count;
    const int64_t gpu_used = gpu_capacity - v.TotalFree();
    if (!pod.WantsGpu()) {
      if (v.gpu_count == 0) return 1000.0 + cpu_mem;
      return 100.0 * Fraction(gpu_used, gpu_capacity) + cpu_mem;
    }
    if (!PickDevicesBestFit(pod, st, devices)) return -1e12;
    const int rank = st.node.gpu_type >= 0 ? snap.catalog().type(st.node.gpu_type).rank : 0;
    const double gpu_after = Fraction(gpu_used + PodGpuMilli(pod), gpu_capacity);
    double fit;
    if (IsSharing(pod)) {
      fit = Fraction((*v.used)[(*devices)[0]] + pod.gpu_milli_per_device, kMilliPerGpu);
    } else {
      fit = 1.0 - Fraction(v.FullyFree() - pod.gpu_devices, std::max(v.gpu_count, 1));
    }
    return -1000.0 * rank + 100.0 * gpu_after + 10.0 * fit + cpu_mem;
  }
};

// Least-allocated, like kube-scheduler's NodeResourcesFit LeastAllocated: the mean
// free fraction after placement over CPU, memory and (on GPU nodes) GPU. A shared
// GPU goes to the emptiest device that fits.
class SpreadPolicy : public ScoringPolicy {
 public:
  std::string_view name() const override { return "spread"; }
  int CandidateLimit() const override { return 16; }
  bool PrefersFullNodes() const override { return false; }

  double Score(const Pod& pod, NodeId id, const Snapshot& snap, std::vector<int>* devices) override {
    const NodeState& st = snap.node(id);
    const NodeGpuView v(st);
    devices->clear();
    double sum = Fraction(v.cpu_left - pod.requests[Res::kCpu], v.cpu_capacity) +
                 Fraction(v.memory_left - pod.requests[Res::kMemory], v.memory_capacity);
    int dims = 2;
    if (v.gpu_count > 0) {
      sum += Fraction(v.TotalFree() - PodGpuMilli(pod), int64_t{kMilliPerGpu} * v.gpu_count);
      ++dims;
    }
    if (IsSharing(pod)) {
      int best = -1;
      for (int d = 0; d < v.gpu_count; ++d) {
        if (v.Free(d) >= pod.gpu_milli_per_device && (best < 0 || v.Free(d) > v.Free(best))) best = d;
      }
      if (best < 0) return -1e12;
      devices->push_back(best);
    } else if (!PickDevicesBestFit(pod, st, devices)) {
      return -1e12;
    }
    return 100.0 * sum / dims;
  }
};

}  // namespace

std::unique_ptr<ScoringPolicy> NewBinpack() { return std::make_unique<BinpackPolicy>(); }
std::unique_ptr<ScoringPolicy> NewSpread() { return std::make_unique<SpreadPolicy>(); }

}  // namespace policy_internal

bool PickDevicesBestFit(const Pod& pod, const NodeState& node, std::vector<int>* devices) {
  devices->clear();
  if (pod.gpu_devices <= 0) return true;
  const int n = static_cast<int>(node.device_used.size());
  const int need = pod.gpu_milli_per_device;
  if (pod.gpu_devices == 1 && need < policy_internal::kMilliPerGpu) {
    int best = -1;
    for (int d = 0; d < n; ++d) {
      const int free = policy_internal::kMilliPerGpu - node.device_used[d];
      if (free >= need && (best < 0 || free < policy_internal::kMilliPerGpu - node.device_used[best])) best = d;
    }
    if (best < 0) return false;
    devices->push_back(best);
    return true;
  }
  for (int d = 0; d < n && static_cast<int>(devices->size()) < pod.gpu_devices; ++d) {
    if (policy_internal::kMilliPerGpu - node.device_used[d] >= need) devices->push_back(d);
  }
  if (static_cast<int>(devices->size()) == pod.gpu_devices) return true;
  devices->clear();
  return false;
}

std::vector<std::string> PolicyNames() {
  return {"binpack", "spread", "random", "dotprod", "gpuclustering", "gpupacking", "bestfit", "fgd", "drover-frag", "gpu-frag"};
}

absl::StatusOr<std::unique_ptr<ScoringPolicy>> MakePolicy(std::string_view name, uint64_t seed) {
  using namespace policy_internal;
  if (name == "binpack") return NewBinpack();
  if (name == "spread") return NewSpread();
  if (name == "random") return NewRandom(seed);
  if (name == "dotprod") return NewDotProd();
  if (name == "gpuclustering") return NewGpuClustering();
  if (name == "gpupacking") return NewGpuPacking();
  if (name == "bestfit") return NewBestFit();
  if (name == "fgd") return NewFgd();
  if (name == "drover-frag") return NewDroverFrag();
  if (name == "gpu-frag") return NewGpuFrag();
  return absl::InvalidArgumentError(
      absl::StrCat("placement policy \"", std::string(name), "\" is unknown; known: ", absl::StrJoin(PolicyNames(), ", ")));
}

}  // namespace drover
