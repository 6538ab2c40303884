#include "admission/policy.h"

#include <algorithm>

#include "core/quantity.h"
#include "core/strings.h"

namespace drover::admission {
namespace {

template <typename T>
void Inherit(std::optional<T> own, T* out) {
  if (own) *out = *own;
}

void CollectSpecs(const QueueSpec& spec, std::vector<const QueueSpec*>* out) {
  out->push_back(&spec);
  for (const QueueSpec& c : spec.children) CollectSpecs(c, out);
}

int64_t WithSlack(int64_t v, int slack_percent) {
  return static_cast<int64_t>(static_cast<__int128>(v) * (100 + slack_percent) / 100);
}

}  // namespace

void AddNodeShape(GpuNodeShapes* shapes, const Node& node) {
  if (node.gpu_count <= 0 || node.gpu_type == kNoGpuType || node.unschedulable) return;
  if (static_cast<size_t>(node.gpu_type) >= shapes->size()) shapes->resize(node.gpu_type + 1);
  GpuNodeShape& s = (*shapes)[node.gpu_type];
  const int64_t cpu = node.allocatable[Res::kCpu] / node.gpu_count;
  const int64_t mem = node.allocatable[Res::kMemory] / node.gpu_count;
  if (cpu > s.cpu_millis_per_gpu || (cpu == s.cpu_millis_per_gpu && mem > s.memory_bytes_per_gpu)) {
    s.example_cpu_millis = node.allocatable[Res::kCpu];
    s.example_memory_bytes = node.allocatable[Res::kMemory];
    s.example_gpus = node.gpu_count;
  }
  s.cpu_millis_per_gpu = std::max(s.cpu_millis_per_gpu, cpu);
  s.memory_bytes_per_gpu = std::max(s.memory_bytes_per_gpu, mem);
}

AdmissionPolicy::AdmissionPolicy(const QueueConfig& config, GpuNodeShapes shapes, std::string scheduler_name)
    : tree_(config), shapes_(std::move(shapes)), scheduler_name_(std::move(scheduler_name)) {
  rules_.resize(tree_.size());
  std::vector<const QueueSpec*> specs;
  CollectSpecs(tree_.config().root, &specs);
  ResolveRules(tree_.root(), RuleSet{}, specs);
}

void AdmissionPolicy::ResolveRules(QueueId q, const RuleSet& parent, const std::vector<const QueueSpec*>& specs) {
  RuleSet r = parent;
  const std::string& path = tree_.queue(q).path;
  auto it = std::find_if(specs.begin(), specs.end(), [&](const QueueSpec* s) { return s->path == path; });
  if (it != specs.end()) {
    const QueueAdmissionRules& own = (*it)->admission;
    Inherit(own.proportional, &r.proportional);
    Inherit(own.queue, &r.queue);
    Inherit(own.gpu_type, &r.gpu_type);
    Inherit(own.tier0, &r.tier0);
    Inherit(own.intent, &r.intent);
    Inherit(own.submit, &r.submit);
    if (own.cpu_millis_per_gpu || own.memory_bytes_per_gpu) r.bound_set_by = StrCat(path, ".admission");
    if (own.cpu_millis_per_gpu) r.cpu_millis_per_gpu = own.cpu_millis_per_gpu;
    if (own.memory_bytes_per_gpu) r.memory_bytes_per_gpu = own.memory_bytes_per_gpu;
  }
  rules_[q] = r;
  for (QueueId c : tree_.queue(q).children) ResolveRules(c, r, specs);
}

bool AdmissionPolicy::OptedIn(const std::string& ns) const {
  const auto& list = config().admission.scheduler_namespaces;
  return std::find(list.begin(), list.end(), ns) != list.end();
}

PerGpuBound AdmissionPolicy::BoundFor(QueueId leaf, GpuTypeId t) const {
  PerGpuBound b;
  const RuleSet& r = Rules(leaf);
  if (r.cpu_millis_per_gpu) b.cpu_millis = r.cpu_millis_per_gpu, b.cpu_source = StrCat(r.bound_set_by, ".cpu_per_gpu");
  if (r.memory_bytes_per_gpu) {
    b.memory_bytes = r.memory_bytes_per_gpu;
    b.memory_source = StrCat(r.bound_set_by, ".memory_per_gpu");
  }
  if (t == kNoGpuType || t >= catalog().size()) return b;
  const std::string& name = catalog().type(t).name;
  for (const ProportionalPolicy& p : config().proportional) {
    if (p.gpu_type != name) continue;
    b.charge = p.action == ProportionalPolicy::Action::kCharge;
    if (!b.cpu_millis && p.cpu_millis_per_gpu) {
      b.cpu_millis = p.cpu_millis_per_gpu, b.cpu_source = StrCat("proportional policy of ", name);
    }
    if (!b.memory_bytes && p.memory_bytes_per_gpu) {
      b.memory_bytes = p.memory_bytes_per_gpu, b.memory_source = StrCat("proportional policy of ", name);
    }
  }
  if (static_cast<size_t>(t) >= shapes_.size() || shapes_[t].example_gpus == 0) return b;
  const GpuNodeShape& s = shapes_[t];
  const int slack = config().admission.shape_slack_percent;
  if (!b.cpu_millis && s.cpu_millis_per_gpu > 0) {
    b.cpu_millis = WithSlack(s.cpu_millis_per_gpu, slack);
    b.cpu_source = StrCat(name, " nodes: ", FormatMilli(s.example_cpu_millis), " cpu for ", s.example_gpus,
                          " GPUs, +", slack, "%");
  }
  if (!b.memory_bytes && s.memory_bytes_per_gpu > 0) {
    b.memory_bytes = WithSlack(s.memory_bytes_per_gpu, slack);
    b.memory_source = StrCat(name, " nodes: ", FormatBytes(s.example_memory_bytes), " memory for ", s.example_gpus,
                             " GPUs, +", slack, "%");
  }
  return b;
}

std::optional<int64_t> AdmissionPolicy::DefaultCpuPerGpu(GpuTypeId t) const {
  if (t == kNoGpuType || t >= catalog().size()) return std::nullopt;
  for (const auto& e : config().admission.requests_per_gpu) {
    if (e.gpu_type == catalog().type(t).name && e.cpu_millis) return e.cpu_millis;
  }
  if (static_cast<size_t>(t) < shapes_.size() && shapes_[t].cpu_millis_per_gpu > 0) return shapes_[t].cpu_millis_per_gpu;
  return std::nullopt;
}

std::optional<int64_t> AdmissionPolicy::DefaultMemoryPerGpu(GpuTypeId t) const {
  if (t == kNoGpuType || t >= catalog().size()) return std::nullopt;
  for (const auto& e : config().admission.requests_per_gpu) {
    if (e.gpu_type == catalog().type(t).name && e.memory_bytes) return e.memory_bytes;
  }
  if (static_cast<size_t>(t) < shapes_.size() && shapes_[t].memory_bytes_per_gpu > 0) {
    return shapes_[t].memory_bytes_per_gpu;
  }
  return std::nullopt;
}

GpuTypeMask CandidateTypes(const GpuCatalog& catalog, const Pod& pod) {
  if (pod.intent.gpu_type.empty()) return kAnyGpuType;
  absl::StatusOr<GpuTypeMask> m = catalog.ResolveRequest(pod.intent.gpu_type);
  return m.ok() ? *m : kAnyGpuType;
}

}  // namespace drover::admission
