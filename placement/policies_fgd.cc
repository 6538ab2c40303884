// Fragmentation-aware policies: "fgd" (the FGD paper's fragmentation gradient
// descent, with its shape distribution learned online) and "drover-frag" (ours).
//
// Both pick the node and device whose choice least increases the expected
// fragmentation (placement/policies_frag.h). They see pods only through Observe(),
// in arrival order, so the popularity of shapes is what has arrived so far.
#include <algorithm>
#include <cmath>
#include <string>

#include "placement/policies_frag.h"
#include "placement/policies_internal.h"

namespace drover::policy_internal {
namespace {

struct FragOptions {
  std::string_view name;
  double coverage = 0.95;       // popularity share kept as "typical" shapes
  bool paper_scores = true;     // integer sigmoid score + random ties, as published
  uint64_t seed = 1;
};

class FragPolicy : public ScoringPolicy {
 public:
  explicit FragPolicy(FragOptions o) : opt_(o), rng_(o.seed) {}
  std::string_view name() const override { return opt_.name; }
  void Observe(const Pod& pod) override;
  double Score(const Pod& pod, NodeId id, const Snapshot& snap, std::vector<int>* devices) override;

 private:
  struct Pending {
    frag::Shape shape;
    std::string gpu_type;  // the pod's drover.io/gpu-type annotation, "" = any
  };
  void Sync(const GpuCatalog& catalog);
  GpuTypeMask ResolveTypes(const std::string& request, const GpuCatalog& catalog);
  // Loads free milli per device of `st` into free_ (by index) and sorted_ (descending).
  void LoadFree(const NodeState& st);
  double FragAfter(GpuTypeId type, int64_t cpu_left) {
    return model_.Frag(type, cpu_left, after_.data(), static_cast<int>(after_.size()));
  }
  // Score of a placement that changes the node's fragmentation by `gain` = before - after.
  double Value(double gain) const {
    if (!opt_.paper_scores) return gain;
    return std::floor(100.0 / (1.0 + std::exp(-gain / 1000.0)));
  }
  double ScoreSharing(const Pod& pod, GpuTypeId type, int64_t cpu_after, double before, std::vector<int>* devices);

  FragOptions opt_;
  SplitMix64 rng_;
  std::vector<Pending> pending_;
  absl::flat_hash_map<std::string, GpuTypeMask> type_requests_;
  frag::ShapeCounter seen_;
  frag::FragModel model_;
  uint64_t model_version_ = ~uint64_t{0};
  std::vector<int32_t> free_, sorted_, after_;
};

void FragPolicy::Observe(const Pod& pod) {
  frag::Shape s;
  s.cpu_milli = pod.requests[Res::kCpu];
  s.gpu_devices = pod.gpu_devices;
  s.milli_per_device = pod.gpu_devices > 0 ? pod.gpu_milli_per_device : 0;
  const std::string* request = pod.annotations.Get(annotations::kGpuType);
  pending_.push_back(Pending{s, request != nullptr ? *request : std::string()});
}

GpuTypeMask FragPolicy::ResolveTypes(const std::string& request, const GpuCatalog& catalog) {
  if (request.empty()) return kAnyGpuType;
  auto it = type_requests_.find(request);
  if (it != type_requests_.end()) return it->second;
  absl::StatusOr<GpuTypeMask> mask = catalog.ResolveRequest(request);
  const GpuTypeMask m = mask.ok() ? *mask : kAnyGpuType;  // the engine's filter reports bad requests
  type_requests_.emplace(request, m);
  return m;
}

void FragPolicy::Sync(const GpuCatalog& catalog) {
  for (Pending& p : pending_) {
    p.shape.types = p.shape.gpu_devices > 0 ? ResolveTypes(p.gpu_type, catalog) : kAnyGpuType;
    seen_.Add(p.shape);
  }
  pending_.clear();
  if (seen_.version() == model_version_) return;
  model_.Reset(seen_.Typical(opt_.coverage));
  model_version_ = seen_.version();
}

void FragPolicy::LoadFree(const NodeState& st) {
  const size_t n = st.device_used.size();
  free_.resize(n);
  for (size_t d = 0; d < n; ++d) free_[d] = kMilliPerGpu - st.device_used[d];
  sorted_ = free_;
  std::sort(sorted_.begin(), sorted_.end(), std::greater<int32_t>());
}

double FragPolicy::Score(const Pod& pod, NodeId id, const Snapshot& snap, std::vector<int>* devices) {
  Sync(snap.catalog());
  const NodeState& st = snap.node(id);
  LoadFree(st);
  devices->clear();
  const GpuTypeId type = st.node.gpu_type;
  const int n = static_cast<int>(sorted_.size());
  const int64_t cpu_left = st.node.allocatable[Res::kCpu] - st.used[Res::kCpu];
  const int64_t cpu_after = cpu_left - pod.requests[Res::kCpu];
  const double before = model_.Frag(type, cpu_left, sorted_.data(), n);
  const double jitter = opt_.paper_scores ? TieJitter(rng_) : 0.0;
  if (IsSharing(pod)) return ScoreSharing(pod, type, cpu_after, before, devices) + jitter;
  after_ = sorted_;
  if (pod.WantsGpu()) {
    if (!PickDevicesBestFit(pod, st, devices)) return -1e12;
    // The k devices taken are fully free, i.e. the first k of the sorted list.
    std::rotate(after_.begin(), after_.begin() + pod.gpu_devices, after_.end());
    std::fill(after_.end() - pod.gpu_devices, after_.end(), 0);
  }
  return Value(before - FragAfter(type, cpu_after)) + jitter;
}

double FragPolicy::ScoreSharing(const Pod& pod, GpuTypeId type, int64_t cpu_after, double before,
                                std::vector<int>* devices) {
  const int m = pod.gpu_milli_per_device;
  const int n = static_cast<int>(free_.size());
  double best = -1e18;
  int best_device = -1;
  for (int d = 0; d < n; ++d) {
    const int32_t f = free_[d];
    if (f < m) continue;
    // Devices with the same free give the same result: score each value once.
    bool seen = false;
    for (int e = 0; e < d && !seen; ++e) seen = free_[e] == f;
    if (seen) continue;
    after_ = sorted_;
    auto pos = std::find(after_.begin(), after_.end(), f);
    *pos = f - m;
    for (; pos + 1 != after_.end() && *pos < *(pos + 1); ++pos) std::iter_swap(pos, pos + 1);
    const double v = Value(before - FragAfter(type, cpu_after));
    // Paper: first device (by index) with the best score; ours: ties go to the fullest device.
    const bool better = v > best + 1e-9 ||
                        (!opt_.paper_scores && v > best - 1e-9 && f < free_[best_device]);
    if (best_device < 0 || better) {
      best = v;
      best_device = d;
    }
  }
  if (best_device < 0) return -1e12;
  devices->push_back(best_device);
  return best;
}

}  // namespace

std::unique_ptr<ScoringPolicy> NewFgd(uint64_t seed) {
  return std::make_unique<FragPolicy>(FragOptions{"fgd", 0.95, true, seed});
}

std::unique_ptr<ScoringPolicy> NewDroverFrag() {
  return std::make_unique<FragPolicy>(FragOptions{"drover-frag", 1.0, false, 1});
}

}  // namespace drover::policy_internal
