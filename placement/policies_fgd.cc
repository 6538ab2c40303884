// Fragmentation-aware policies.
//
// "fgd": the FGD paper's fragmentation gradient descent. For every feasible node
// (and, for a shared GPU, every device) it measures how the node's fragmentation
// (placement/policies_frag.h, FragModel) changes, and scores int(100 * sigmoid(
// decrease / 1000)) as the paper's simulator does; the typical shapes are the most
// popular ones covering 95% of the pods seen so far (online, via Observe).
//
// "drover-frag": ours. Two changes on top of that:
//  1. Scarcity: a shape's popularity is multiplied by (cluster GPUs / GPUs of the
//     types it accepts). A shape that can only run on 842 T4s weighs 7x one that
//     can run anywhere, so pods that could go anywhere stop eating the capacity the
//     picky ones need (gpuspec33: about half the unallocated GPUs of FGD).
//  2. Ties: many placements get the same integer score. FGD leaves them to the
//     node order; we break them by the CopiesFragModel gain (whole copies of each
//     shape that the node's free GPU, CPU and memory still allow), in 40-milli steps,
//     and only then by node order. It sees GPUs stranded behind exhausted CPU and
//     slivers that fit no whole copy, which FGD's one-copy test misses.
// "gpu-frag": drover-frag's score, fast and large-pod aware (placement/README.md):
// nodes ranked through equivalence classes of their state (NodeClasses: the same
// choice as scoring every node), models rebuilt after 1/8 growth of the observed
// pods, and the large-pod loss of LargePodHeadroom taken from the decrease.
// All see pods only through Observe(), in arrival order: no look-ahead.
#include <algorithm>
#include <cmath>
#include <string>

#include "placement/headroom.h"
#include "placement/node_classes.h"
#include "placement/policies_frag.h"
#include "placement/policies_internal.h"

namespace drover::policy_internal {
namespace {

struct FragOptions {
  std::string_view name;
  double coverage = 0.95;  // popularity share kept as "typical" shapes (FGD's 95%)
  bool scarcity = false;   // weigh shapes by cluster GPUs / GPUs of the types they accept
  bool copies_ties = false;  // break integer-score ties by the CopiesFragModel gain
  double tie_step = 40;      // milli-GPU: copies gains closer than this still tie
  // Rebuild the models only once the observed pods grew by this share since the
  // last build (0: on every arrival, as the paper's simulator does).
  double rebuild_growth = 0;
  bool ranked = false;  // rank nodes through NodeClasses (VisitRanked)
  bool headroom = false;  // subtract the large-pod loss (placement/headroom.h)
};

class FragPolicy : public ScoringPolicy {
 public:
  explicit FragPolicy(FragOptions o) : opt_(o) {}
  std::string_view name() const override { return opt_.name; }
  void Observe(const Pod& pod) override;
  double Score(const Pod& pod, NodeId id, const Snapshot& snap, std::vector<int>* devices) override;
  int CandidateLimit() const override { return opt_.ranked ? kRankedFallbackCandidates : 0; }
  void NodeChanged(const Snapshot& snap, NodeId id) override {
    if (opt_.ranked) classes_.Update(snap, id);
    if (opt_.headroom) headroom_.NodeChanged(snap, id);
  }
  void ForgetNodes() override {
    classes_.Clear();
    headroom_.Clear();
  }
  bool VisitRanked(const Pod& pod, GpuTypeMask types, const Snapshot& snap,
                   absl::FunctionRef<bool(NodeId)> visit) override;

 private:
  // Pods the classes do not rank (CPU-only pods, or preferred inter-pod terms in
  // the engine) are scored on the first candidates the engine's node index offers,
  // fullest first, as many as binpack scores: the same bound, the same reason.
  static constexpr int kRankedFallbackCandidates = 16;
  // Pod shapes whose class scores are cached at once. Each class keeps a score per
  // shape it was asked about; the bound keeps that list short even under a stream of
  // distinct requests (openb lists have a few hundred shapes).
  static constexpr size_t kMaxCachedShapes = 4096;
  struct Pending {
    frag::Shape shape;       // without memory: FGD ignores it
    std::string gpu_type;    // the pod's drover.io/gpu-type annotation, "" = any
    int64_t memory_bytes = 0;
  };
  // A node state to measure (free milli per device is passed beside it).
  struct State {
    GpuTypeId type = kNoGpuType;
    int64_t cpu_left = 0;
    int64_t memory_left = 0;
  };
  struct Frag {
    double fgd = 0;     // FragModel
    double copies = 0;  // CopiesFragModel (only with copies_ties)
  };
  // What a placement does to a node, before the large-pod term (cached per class).
  struct Gain {
    bool feasible = false;
    Frag decrease;         // before - after
    int whole_before = 0;  // wholly free GPUs
    int whole_after = 0;
  };

  void Sync(const Snapshot& snap);
  void CountGpus(const Snapshot& snap);
  double Scarcity(GpuTypeMask types) const;
  std::vector<frag::WeightedShape> Weighted(const frag::ShapeCounter& counter, double coverage) const;
  GpuTypeMask ResolveTypes(const std::string& request, const GpuCatalog& catalog);
  Frag Measure(const State& s, const std::vector<int32_t>& free);
  // Higher is better: the paper's integer score, then (ours) the copies gain; `loss`
  // (milli-GPU) is taken from the fragmentation decrease first.
  double Value(const Frag& decrease, double loss = 0) const;
  Gain Evaluate(const Pod& pod, const NodeState& st, std::vector<int>* devices);
  void ChooseSharedDevice(const Pod& pod, const State& after, const Frag& before, std::vector<int>* devices, Gain* g);
  double Finish(const Gain& g, GpuTypeId type, const Pod& pod);

  FragOptions opt_;
  std::vector<Pending> pending_;
  absl::flat_hash_map<std::string, GpuTypeMask> type_requests_;
  frag::ShapeCounter seen_, seen_with_memory_;
  frag::FragModel fgd_model_;
  frag::CopiesFragModel copies_model_;
  uint64_t model_version_ = ~uint64_t{0};
  std::vector<double> gpus_by_type_;  // for scarcity
  int counted_nodes_ = -1;
  std::vector<int32_t> free_, after_, sorted_;
  double built_total_ = 0;
  uint64_t build_serial_ = 0;  // counts model builds: the class scores' version  // observed pods when the models were last built
  NodeClasses classes_;
  LargePodHeadroom headroom_;
  absl::flat_hash_map<frag::Shape, int> shape_ids_;  // pod shapes the class scores are cached for
  std::vector<int> scratch_devices_;
};

void FragPolicy::Observe(const Pod& pod) {
  frag::Shape s;
  s.cpu_milli = pod.requests[Res::kCpu];
  s.gpu_devices = pod.gpu_devices;
  s.milli_per_device = pod.gpu_devices > 0 ? pod.gpu_milli_per_device : 0;
  const std::string* request = pod.annotations.Get(annotations::kGpuType);
  pending_.push_back(Pending{s, request != nullptr ? *request : std::string(), pod.requests[Res::kMemory]});
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

void FragPolicy::CountGpus(const Snapshot& snap) {
  if (snap.live_nodes() == counted_nodes_) return;
  gpus_by_type_.assign(kMaxGpuTypes, 0.0);
  for (NodeId id = 0; id < snap.node_slots(); ++id) {
    const NodeState& st = snap.node(id);
    if (st.present && st.node.gpu_type >= 0 && st.node.gpu_type < kMaxGpuTypes) {
      gpus_by_type_[st.node.gpu_type] += st.node.gpu_count;
    }
  }
  counted_nodes_ = snap.live_nodes();
  model_version_ = ~uint64_t{0};  // weights changed: rebuild the models
}

double FragPolicy::Scarcity(GpuTypeMask types) const {
  double all = 0, accepted = 0;
  for (size_t t = 0; t < gpus_by_type_.size(); ++t) {
    all += gpus_by_type_[t];
    if ((types >> t) & 1) accepted += gpus_by_type_[t];
  }
  return accepted > 0 ? all / accepted : 1.0;
}

std::vector<frag::WeightedShape> FragPolicy::Weighted(const frag::ShapeCounter& counter, double coverage) const {
  std::vector<frag::WeightedShape> typical = counter.Typical(coverage);
  if (opt_.scarcity) {
    for (frag::WeightedShape& w : typical) {
      if (w.shape.gpu_devices > 0) w.weight *= Scarcity(w.shape.types);
    }
  }
  return typical;
}

void FragPolicy::Sync(const Snapshot& snap) {
  if (opt_.scarcity) CountGpus(snap);
  for (Pending& p : pending_) {
    p.shape.types = p.shape.gpu_devices > 0 ? ResolveTypes(p.gpu_type, snap.catalog()) : kAnyGpuType;
    seen_.Add(p.shape);
    if (opt_.copies_ties) {
      frag::Shape with_memory = p.shape;
      with_memory.memory_bytes = p.memory_bytes;
      seen_with_memory_.Add(with_memory);
    }
  }
  pending_.clear();
  const uint64_t version = seen_.version() + seen_with_memory_.version();
  if (version == model_version_) return;
  // Lazy rebuilds: a model is kept until the observed pods grew by rebuild_growth
  // (or the GPU counts changed: CountGpus resets model_version_).
  if (opt_.rebuild_growth > 0 && model_version_ != ~uint64_t{0} && built_total_ > 0 &&
      seen_.total() < built_total_ * (1 + opt_.rebuild_growth)) {
    return;
  }
  built_total_ = seen_.total();
  fgd_model_.Reset(Weighted(seen_, opt_.coverage));
  if (opt_.copies_ties) copies_model_.Reset(Weighted(seen_with_memory_, 1.0));
  // Every shape seen, not the typical 95%: large pods are few by count.
  if (opt_.headroom) headroom_.SetDemand(seen_.Typical(1.0));
  model_version_ = version;
  ++build_serial_;
}

FragPolicy::Frag FragPolicy::Measure(const State& s, const std::vector<int32_t>& free) {
  Frag f;
  sorted_ = free;
  std::sort(sorted_.begin(), sorted_.end(), std::greater<int32_t>());
  f.fgd = fgd_model_.Frag(s.type, s.cpu_left, sorted_.data(), static_cast<int>(sorted_.size()));
  if (opt_.copies_ties) {
    f.copies = copies_model_.Frag(s.type, s.cpu_left, s.memory_left, free.data(), static_cast<int>(free.size()));
  }
  return f;
}

double FragPolicy::Value(const Frag& decrease, double loss) const {
  const double paper = std::floor(100.0 / (1.0 + std::exp(-(decrease.fgd - loss) / 1000.0)));
  if (!opt_.copies_ties) return paper;
  // The copies gain is within +-8000 milli (8 devices): far below one paper point.
  return paper * 1e6 + std::floor(decrease.copies / opt_.tie_step);
}

FragPolicy::Gain FragPolicy::Evaluate(const Pod& pod, const NodeState& st, std::vector<int>* devices) {
  devices->clear();
  Gain g;
  const int n = static_cast<int>(st.device_used.size());
  free_.resize(n);
  for (int d = 0; d < n; ++d) {
    free_[d] = kMilliPerGpu - st.device_used[d];
    g.whole_before += free_[d] == kMilliPerGpu ? 1 : 0;
  }
  const State now{st.node.gpu_type, st.node.allocatable[Res::kCpu] - st.used[Res::kCpu],
                  st.node.allocatable[Res::kMemory] - st.used[Res::kMemory]};
  const Frag before = Measure(now, free_);
  State after = now;
  after.cpu_left -= pod.requests[Res::kCpu];
  after.memory_left -= pod.requests[Res::kMemory];
  if (IsSharing(pod)) {
    ChooseSharedDevice(pod, after, before, devices, &g);
    return g;
  }
  after_ = free_;
  if (pod.WantsGpu()) {
    if (!PickDevicesBestFit(pod, st, devices)) return g;
    for (int d : *devices) after_[d] = 0;  // whole GPUs: the lowest-index free ones
  }
  const Frag a = Measure(after, after_);
  g.feasible = true;
  g.decrease = Frag{before.fgd - a.fgd, before.copies - a.copies};
  g.whole_after = g.whole_before - (pod.WantsGpu() ? pod.gpu_devices : 0);
  return g;
}

void FragPolicy::ChooseSharedDevice(const Pod& pod, const State& after, const Frag& before,
                                    std::vector<int>* devices, Gain* g) {
  const int m = pod.gpu_milli_per_device;
  const int n = static_cast<int>(free_.size());
  double best = 0;
  int best_device = -1;
  for (int d = 0; d < n; ++d) {
    const int32_t f = free_[d];
    if (f < m) continue;
    // Devices with the same free give the same result: score each value once.
    bool seen = false;
    for (int e = 0; e < d && !seen; ++e) seen = free_[e] == f;
    if (seen) continue;
    after_ = free_;
    after_[d] = f - m;
    const Frag a = Measure(after, after_);
    const Frag decrease{before.fgd - a.fgd, before.copies - a.copies};
    const double v = Value(decrease);
    // Paper: the first device (by index) with the best score; ours: ties to the fullest.
    const bool better = best_device < 0 || v > best || (opt_.copies_ties && v == best && f < free_[best_device]);
    if (better) {
      best = v;
      best_device = d;
      g->decrease = decrease;
    }
  }
  if (best_device < 0) return;
  devices->push_back(best_device);
  g->feasible = true;
  g->whole_after = g->whole_before - (free_[best_device] == kMilliPerGpu ? 1 : 0);
}

double FragPolicy::Finish(const Gain& g, GpuTypeId type, const Pod& pod) {
  if (!g.feasible) return -1e12;
  if (!opt_.headroom) return Value(g.decrease);
  const int whole = IsSharing(pod) ? 0 : pod.gpu_devices;
  return Value(g.decrease, headroom_.Penalty(type, g.whole_before, g.whole_after, PodGpuMilli(pod), whole));
}

double FragPolicy::Score(const Pod& pod, NodeId id, const Snapshot& snap, std::vector<int>* devices) {
  Sync(snap);
  const NodeState& st = snap.node(id);
  return Finish(Evaluate(pod, st, devices), st.node.gpu_type, pod);
}

bool FragPolicy::VisitRanked(const Pod& pod, GpuTypeMask types, const Snapshot& snap,
                             absl::FunctionRef<bool(NodeId)> visit) {
  if (!opt_.ranked || !pod.WantsGpu()) return false;
  Sync(snap);
  // The score depends on the pod only through these (Score reads nothing else).
  frag::Shape key;
  key.cpu_milli = pod.requests[Res::kCpu];
  key.memory_bytes = pod.requests[Res::kMemory];
  key.gpu_devices = pod.gpu_devices;
  key.milli_per_device = pod.gpu_milli_per_device;
  const auto [it, added] = shape_ids_.try_emplace(key, static_cast<int>(shape_ids_.size()));
  if (added && shape_ids_.size() > kMaxCachedShapes) {
    // Distinct shapes beyond the bound start over (scores cached under old ids go stale).
    shape_ids_.clear();
    ++build_serial_;
    shape_ids_.emplace(key, 0);
  }
  const int shape_id = shape_ids_.at(key);
  auto evaluate = [&](NodeId rep) {
    const Gain g = Evaluate(pod, snap.node(rep), &scratch_devices_);
    return NodeClasses::Cached{g.feasible ? 1.0 : 0.0, g.decrease.fgd, g.decrease.copies,
                               static_cast<double>(g.whole_before), static_cast<double>(g.whole_after)};
  };
  auto finish = [&](NodeId rep, const NodeClasses::Cached& c) {
    const Gain g{c[0] > 0, Frag{c[1], c[2]}, static_cast<int>(c[3]), static_cast<int>(c[4])};
    const double s = Finish(g, snap.node(rep).node.gpu_type, pod);
    return s <= -1e12 ? NodeClasses::kInfeasible - 1 : s;
  };
  classes_.VisitRanked(pod, shape_id, types, build_serial_, evaluate, finish, visit);
  return true;
}

}  // namespace

std::unique_ptr<ScoringPolicy> NewFgd() { return std::make_unique<FragPolicy>(FragOptions{"fgd"}); }

std::unique_ptr<ScoringPolicy> NewDroverFrag() {
  return std::make_unique<FragPolicy>(FragOptions{"drover-frag", 0.95, true, true, 40});
}

std::unique_ptr<ScoringPolicy> NewGpuFrag() {
  FragOptions o{"gpu-frag", 0.95, true, true, 40};
  o.headroom = true;
  o.rebuild_growth = 1.0 / 8;
  o.ranked = true;
  return std::make_unique<FragPolicy>(o);
}

}  // namespace drover::policy_internal
