// The FGD paper's baseline policies, re-implemented from the paper and the scoring
// rules of its simulator (hkust-adsl/kubernetes-scheduler-simulator): "random",
// "dotprod", "gpuclustering", "gpupacking", "bestfit".
//
// Like that simulator, each returns an integer score in [0, 100]; the node with the
// highest score wins and ties go to the lower node id (the engine's rule). Breaking
// ties at random instead, as kube-scheduler's selectHost does, moves GpuClustering
// and GpuPacking about 3 points away from the published numbers on `default`, while
// first-node ties land within about half a point of every published baseline.
// Devices are picked best-fit (the simulator's "best" GPU selection), except by
// "random", which also picks a random device for a shared GPU, as the paper ran it.
#include <algorithm>
#include <cmath>

#include "placement/policies_internal.h"

namespace drover::policy_internal {
namespace {

// A policy scoring like the simulator: integers, devices best-fit.
class IntegerPolicy : public ScoringPolicy {
 public:
  double Score(const Pod& pod, NodeId id, const Snapshot& snap, std::vector<int>* devices) final {
    const NodeState& st = snap.node(id);
    if (!PickDevicesBestFit(pod, st, devices)) return -1e12;
    return static_cast<double>(IntScore(pod, st, snap));
  }

 protected:
  // The simulator's integer score in [0, 100] for a feasible node.
  virtual int64_t IntScore(const Pod& pod, const NodeState& st, const Snapshot& snap) = 0;
};

// Uniformly random among the feasible nodes, and among the devices that fit a
// shared GPU (whole GPUs: the lowest-index free ones; which free device does not matter).
class RandomPolicy : public ScoringPolicy {
 public:
  explicit RandomPolicy(uint64_t seed) : rng_(seed) {}
  std::string_view name() const override { return "random"; }

  double Score(const Pod& pod, NodeId id, const Snapshot& snap, std::vector<int>* devices) override {
    const NodeState& st = snap.node(id);
    if (!PickDevicesBestFit(pod, st, devices)) return -1e12;
    if (IsSharing(pod)) {
      const NodeGpuView v(st);
      int fitting = 0, chosen = -1;
      for (int d = 0; d < v.gpu_count; ++d) {  // reservoir sampling over fitting devices
        if (v.Free(d) >= pod.gpu_milli_per_device && rng_.Uniform() * ++fitting < 1.0) chosen = d;
      }
      (*devices)[0] = chosen;
    }
    return rng_.Uniform();
  }

 private:
  Rng rng_;
};

// Tetris-style dot product of the node's free (CPU, total GPU) and the pod's request,
// both divided by the largest node's capacity; a smaller product scores higher
// (the simulator's "merge" dimension and "max" normalisation, as the paper ran it).
class DotProdPolicy : public IntegerPolicy {
 public:
  std::string_view name() const override { return "dotprod"; }

 protected:
  int64_t IntScore(const Pod& pod, const NodeState& st, const Snapshot&) override {
    const NodeGpuView v(st);
    const double dot = (v.cpu_left / kMaxSpecCpuMilli) * (pod.requests[Res::kCpu] / kMaxSpecCpuMilli) +
                       (v.TotalFree() / kMaxSpecGpuMilli) * (PodGpuMilli(pod) / kMaxSpecGpuMilli);
    return static_cast<int64_t>(100.0 * (1.0 - dot / 2.0));
  }
};

// Affinity tag of a GPU pod: 0 = shared GPU, k = k whole GPUs; -1 for CPU-only.
int AffinityTag(const Pod& pod) {
  if (!pod.WantsGpu()) return -1;
  return IsSharing(pod) ? 0 : std::min(pod.gpu_devices, 63);
}

// Gandiva-style clustering: GPU pods of one kind (shared, 1-GPU, 2-GPU, ...) go to
// nodes that already hold only that kind, then to mixed nodes holding it, then to
// idle nodes, then anywhere; within a tier, the fuller node wins.
class GpuClusteringPolicy : public IntegerPolicy {
 public:
  std::string_view name() const override { return "gpuclustering"; }

 protected:
  int64_t IntScore(const Pod& pod, const NodeState& st, const Snapshot& snap) override {
    const int tag = AffinityTag(pod);
    if (tag < 0) return 0;
    uint64_t tags = 0;
    for (PodId p : st.pods) {
      const int t = AffinityTag(snap.pod(p).pod);
      if (t >= 0) tags |= uint64_t{1} << t;
    }
    const int64_t used = 25 * (static_cast<int64_t>(kMaxSpecGpuMilli) - NodeGpuView(st).TotalFree()) /
                         static_cast<int64_t>(kMaxSpecGpuMilli);
    if ((tags >> tag) & 1) return used + (tags == (uint64_t{1} << tag) ? 75 : 50);
    return used + (tags == 0 ? 25 : 0);
  }
};

// GPU packing: prefer sharing a partly used GPU (the fuller the better), then whole
// free GPUs on a partly used node, then an idle node (the smaller the better).
class GpuPackingPolicy : public IntegerPolicy {
 public:
  std::string_view name() const override { return "gpupacking"; }

 protected:
  int64_t IntScore(const Pod& pod, const NodeState& st, const Snapshot&) override {
    if (!pod.WantsGpu()) return 0;
    const NodeGpuView v(st);
    const int fully_free = v.FullyFree();
    if (fully_free == v.gpu_count) return std::max<int64_t>(100 / 3 - fully_free, fully_free);
    // Devices by free milli ascending (stable): the ones the pod would take.
    order_.resize(v.gpu_count);
    for (int d = 0; d < v.gpu_count; ++d) order_[d] = d;
    std::stable_sort(order_.begin(), order_.end(), [&](int a, int b) { return v.Free(a) < v.Free(b); });
    int need = pod.gpu_devices, fully_free_used = 0;
    int64_t free_ratio_sum = 0;
    for (int d : order_) {
      if (need == 0) break;
      if (v.Free(d) < pod.gpu_milli_per_device) continue;
      --need;
      if (v.Free(d) == kMilliPerGpu) ++fully_free_used;
      free_ratio_sum += int64_t{v.Free(d)} * 100 / kMilliPerGpu;
    }
    if (need > 0) return 0;
    if (fully_free_used > 0) return std::max<int64_t>(100 / 2 - fully_free_used, 100 / 3);
    return std::max<int64_t>(100 - free_ratio_sum / 10, 100 / 2);
  }

 private:
  std::vector<int> order_;
};

// Best fit: the node with the least CPU and GPU left after placement, each divided
// by the largest node's capacity and weighted equally.
class BestFitPolicy : public IntegerPolicy {
 public:
  std::string_view name() const override { return "bestfit"; }

 protected:
  int64_t IntScore(const Pod& pod, const NodeState& st, const Snapshot&) override {
    const NodeGpuView v(st);
    const double left = 0.5 * (v.cpu_left - pod.requests[Res::kCpu]) / kMaxSpecCpuMilli +
                        0.5 * (v.TotalFree() - PodGpuMilli(pod)) / kMaxSpecGpuMilli;
    return static_cast<int64_t>((1.0 - left) * 100.0);
  }
};

}  // namespace

std::unique_ptr<ScoringPolicy> NewRandom(uint64_t seed) { return std::make_unique<RandomPolicy>(seed); }
std::unique_ptr<ScoringPolicy> NewDotProd() { return std::make_unique<DotProdPolicy>(); }
std::unique_ptr<ScoringPolicy> NewGpuClustering() { return std::make_unique<GpuClusteringPolicy>(); }
std::unique_ptr<ScoringPolicy> NewGpuPacking() { return std::make_unique<GpuPackingPolicy>(); }
std::unique_ptr<ScoringPolicy> NewBestFit() { return std::make_unique<BestFitPolicy>(); }

}  // namespace drover::policy_internal
