// Pieces shared by the scoring policies in placement/policies*.cc; not part of
// the placement API (include placement/policy.h for that).
//
//   NodeGpuView v(snap.node(id));           // free milli-GPU per device, CPU left
//   v.FullyFree();  v.TotalFree();
//   Rng rng(seed);  double u = rng.Uniform();   // [0, 1) (core/rng.h)
//
// Every factory here returns a fresh policy; MakePolicy maps names to them.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "core/snapshot.h"
#include "placement/policy.h"

namespace drover::policy_internal {

// The FGD paper's normalisation constants (its simulator's MaxSpecCpu/MaxSpecGpu).
inline constexpr double kMaxSpecCpuMilli = 128000;
inline constexpr double kMaxSpecGpuMilli = 8000;
inline constexpr int kMilliPerGpu = 1000;

// A node's GPU and CPU headroom, read once per Score call.
struct NodeGpuView {
  explicit NodeGpuView(const NodeState& st);
  int64_t cpu_left = 0;
  int64_t cpu_capacity = 0;
  int64_t memory_left = 0;
  int64_t memory_capacity = 0;
  int gpu_count = 0;
  const std::vector<int32_t>* used = nullptr;  // milli used per device
  int Free(int d) const { return kMilliPerGpu - (*used)[d]; }
  int FullyFree() const;
  int64_t TotalFree() const;
};

// True for a pod that shares one device (1 device, < 1000 milli).
inline bool IsSharing(const Pod& pod) {
  return pod.gpu_devices == 1 && pod.gpu_milli_per_device < kMilliPerGpu;
}
inline int64_t PodGpuMilli(const Pod& pod) {
  return static_cast<int64_t>(pod.gpu_devices) * pod.gpu_milli_per_device;
}

std::unique_ptr<ScoringPolicy> NewBinpack();
std::unique_ptr<ScoringPolicy> NewSpread();
std::unique_ptr<ScoringPolicy> NewRandom(uint64_t seed);
std::unique_ptr<ScoringPolicy> NewDotProd();
std::unique_ptr<ScoringPolicy> NewGpuClustering();
std::unique_ptr<ScoringPolicy> NewGpuPacking();
std::unique_ptr<ScoringPolicy> NewBestFit();
std::unique_ptr<ScoringPolicy> NewFgd();
std::unique_ptr<ScoringPolicy> NewDroverFrag();
std::unique_ptr<ScoringPolicy> NewGpuFrag();

}  // namespace drover::policy_internal
