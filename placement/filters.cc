#include "placement/filters.h"

#include <algorithm>

#include "absl/hash/hash.h"
#include "absl/strings/str_join.h"
#include "core/strings.h"

namespace drover {

GpuTypeMask AllowedGpuTypes(const Pod& pod, const GpuCatalog& catalog, std::string* error) {
  const std::string& req = pod.intent.gpu_type;
  if (req.empty()) return kAnyGpuType;
  absl::StatusOr<GpuTypeMask> m = catalog.ResolveRequest(req);
  if (!m.ok()) {
    *error = StrCat("annotation ", annotations::kGpuType, ": \"", req, "\": ", m.status().message());
    return 0;
  }
  return *m;
}

bool DevicesFit(const Pod& pod, const NodeState& node) {
  if (pod.gpu_devices == 0) return true;
  int fits = 0;
  for (int32_t used : node.device_used) {
    if (1000 - used >= pod.gpu_milli_per_device) ++fits;
  }
  return fits >= pod.gpu_devices;
}

namespace {

FilterFailure SpecFailure(const Pod& pod, const Node& node, const Taint** untolerated) {
  if (!node.ready) return FilterFailure::kNotReady;
  if (node.unschedulable) {
    // Like kube-scheduler: a pod tolerating node.kubernetes.io/unschedulable may go there.
    Taint t{"node.kubernetes.io/unschedulable", "", TaintEffect::kNoSchedule};
    bool tolerated = false;
    for (const Toleration& tol : pod.tolerations) tolerated = tolerated || Tolerates(tol, t);
    if (!tolerated) return FilterFailure::kUnschedulable;
  }
  if (const Taint* t = FirstUntoleratedTaint(node.taints, pod.tolerations)) {
    if (untolerated) *untolerated = t;
    return FilterFailure::kTaint;
  }
  if (!MatchesNodeSelector(pod.node_selector, node.labels)) return FilterFailure::kNodeSelector;
  if (!MatchesRequiredAffinity(pod.required_affinity, node)) return FilterFailure::kAffinity;
  return FilterFailure::kNone;
}

FilterFailure ResourceFailure(ResourceId first_exceeding) {
  switch (first_exceeding) {
    case -1: return FilterFailure::kNone;
    case Res::kCpu: return FilterFailure::kInsufficientCpu;
    case Res::kMemory: return FilterFailure::kInsufficientMemory;
    case Res::kPods: return FilterFailure::kInsufficientPods;
    case Res::kEphemeralStorage: return FilterFailure::kInsufficientEphemeral;
    case Res::kGpu: return FilterFailure::kInsufficientGpu;
    default: return FilterFailure::kInsufficientOther;
  }
}

}  // namespace

FilterFailure CheckNodeSpec(const Pod& pod, const Node& node, const Taint** untolerated) {
  return SpecFailure(pod, node, untolerated);
}

FilterFailure CheckNode(const Pod& pod, const NodeState& st, const ResourceVec& free, const Taint** untolerated) {
  if (FilterFailure f = SpecFailure(pod, st.node, untolerated); f != FilterFailure::kNone) return f;
  if (FilterFailure f = ResourceFailure(pod.requests.FirstExceeding(free)); f != FilterFailure::kNone) return f;
  if (!DevicesFit(pod, st)) return FilterFailure::kInsufficientGpu;
  return FilterFailure::kNone;
}

FilterFailure CheckNodeFree(const Pod& pod, const NodeState& st, const ResourceVec* held, const Taint** untolerated) {
  if (FilterFailure f = SpecFailure(pod, st.node, untolerated); f != FilterFailure::kNone) return f;
  const ResourceId r = pod.requests.FirstExceedingLeft(st.node.allocatable, st.used, held);
  if (FilterFailure f = ResourceFailure(r); f != FilterFailure::kNone) return f;
  if (!DevicesFit(pod, st)) return FilterFailure::kInsufficientGpu;
  return FilterFailure::kNone;
}

void FailureTally::Add(FilterFailure f, const NodeState& node, const Taint* taint, const GpuCatalog& catalog) {
  ++nodes_;
  ++counts_[static_cast<int>(f)];
  if (f == FilterFailure::kTaint && taint != nullptr && taint_example_.empty()) {
    taint_example_ = StrCat("{", taint->key, taint->value.empty() ? "" : ": ", taint->value, "}");
  }
  if (f == FilterFailure::kInsufficientGpu && gpu_example_.empty() && node.node.gpu_type != kNoGpuType) {
    gpu_example_ = catalog.type(node.node.gpu_type).name;
  }
}

void FailureTally::Merge(const FailureTally& part) {
  nodes_ += part.nodes_;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += part.counts_[i];
  if (taint_example_.empty()) taint_example_ = part.taint_example_;
  if (gpu_example_.empty()) gpu_example_ = part.gpu_example_;
}

void FailureTally::AddCount(FilterFailure f, int n, const std::string& gpu_type) {
  if (n <= 0) return;
  nodes_ += n;
  counts_[static_cast<int>(f)] += n;
  if (f == FilterFailure::kInsufficientGpu && gpu_example_.empty()) gpu_example_ = gpu_type;
}

void FailureTally::AddQueueReason(const std::string& reason) {
  if (std::find(queue_reasons_.begin(), queue_reasons_.end(), reason) == queue_reasons_.end()) {
    queue_reasons_.push_back(reason);
  }
}

PendingCode FailureTally::Code() const {
  if (!admitted_ && !queue_reasons_.empty()) return PendingCode::kQueueAtMax;
  if (counts_[static_cast<int>(FilterFailure::kReserved)] > 0) return PendingCode::kReservedElsewhere;
  return PendingCode::kUnschedulable;
}

uint64_t FailureTally::Signature() const {
  return absl::HashOf(counts_, taint_example_, gpu_example_, queue_reasons_, nodes_);
}

namespace {

constexpr const char* kFailureCode[] = {
    "None", "NotReady", "Unschedulable", "NodeSelector", "NodeAffinity", "Taint", "GpuType", "InsufficientCpu",
    "InsufficientMemory", "TooManyPods", "InsufficientEphemeralStorage", "InsufficientGpu", "InsufficientOther",
    "SpreadMissingLabel", "Spread", "PodAffinity", "PodAntiAffinity", "ExistingPodAntiAffinity", "Reserved",
};
static_assert(sizeof(kFailureCode) / sizeof(kFailureCode[0]) == static_cast<size_t>(FilterFailure::kCount));

constexpr const char* kFailureText[] = {
      "",
      "node(s) were not ready",
      "node(s) were unschedulable",
      "node(s) didn't match Pod's node selector",
      "node(s) didn't match Pod's node affinity",
      "node(s) had untolerated taint",
      "node(s) had a GPU type the pod or its queue may not use",
      "Insufficient cpu",
      "Insufficient memory",
      "Too many pods",
      "Insufficient ephemeral-storage",
      "Insufficient GPUs",
      "Insufficient extended resources",
      "node(s) didn't match pod topology spread constraints (missing required label)",
      "node(s) didn't match pod topology spread constraints",
      "node(s) didn't match pod affinity rules",
      "node(s) didn't match pod anti-affinity rules",
      "node(s) didn't satisfy existing pods anti-affinity rules",
      "node(s) reserved for another workload",
};
static_assert(sizeof(kFailureText) / sizeof(kFailureText[0]) == static_cast<size_t>(FilterFailure::kCount));

}  // namespace

std::string_view FilterFailureCode(FilterFailure f) { return kFailureCode[static_cast<int>(f)]; }
std::string_view FilterFailureText(FilterFailure f) { return kFailureText[static_cast<int>(f)]; }

NodeFailures FailureTally::Counts(int total_nodes) const {
  NodeFailures out;
  out.total_nodes = total_nodes;
  for (int i = 1; i < static_cast<int>(FilterFailure::kCount); ++i) {
    if (counts_[i] != 0) out.counts.emplace_back(static_cast<FilterFailure>(i), counts_[i]);
  }
  return out;
}

std::string FailureTally::Message(int total_nodes) const {
  std::vector<std::pair<int, std::string>> parts;
  for (int i = 1; i < static_cast<int>(FilterFailure::kCount); ++i) {
    if (counts_[i] == 0) continue;
    std::string text = kFailureText[i];
    if (i == static_cast<int>(FilterFailure::kTaint) && !taint_example_.empty()) StrAppend(&text, " ", taint_example_);
    if (i == static_cast<int>(FilterFailure::kInsufficientGpu) && !gpu_example_.empty()) {
      text = StrCat("Insufficient GPUs (e.g. ", gpu_example_, ")");
    }
    parts.emplace_back(counts_[i], std::move(text));
  }
  std::stable_sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> items;
  for (auto& [n, t] : parts) items.push_back(StrCat(n, " ", t));
  std::string msg = StrCat("0/", total_nodes, " nodes are available");
  if (!items.empty()) StrAppend(&msg, ": ", absl::StrJoin(items, ", "));
  if (!queue_reasons_.empty()) StrAppend(&msg, "; ", absl::StrJoin(queue_reasons_, "; "));
  return msg + ".";
}

}  // namespace drover
