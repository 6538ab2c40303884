// The admission webhook's part of the quota document: the top-level `admission`
// section and each queue's `admission` key (queues/README.md, "admission").
// Kept apart from config.cc/config_validate.cc so the schema grows in one place.
#include <optional>
#include <string>

#include "core/strings.h"
#include "queues/config_internal.h"

namespace drover::config_internal {
namespace {

std::optional<RuleMode> ReadMode(const YAML::Node& node, const std::string& path, Errors& errors) {
  std::optional<std::string> s = ReadString(node, path, errors);
  if (!s) return std::nullopt;
  if (*s == "enforce") return RuleMode::kEnforce;
  if (*s == "warn") return RuleMode::kWarn;
  if (*s == "audit") return RuleMode::kAudit;
  errors.Add(node, path, StrCat(Quote(*s), " is not a rule mode: enforce, warn or audit",
                                Suggest(*s, {"enforce", "warn", "audit"})));
  return std::nullopt;
}

// A per-GPU amount: a quantity above 0.
std::optional<int64_t> ReadPerGpu(const YAML::Node& node, const std::string& path, Unit unit, Errors& errors) {
  std::optional<int64_t> v = ReadQuantity(node, path, unit, errors);
  if (v && *v == 0) {
    errors.Add(node, path, "must be above 0");
    return std::nullopt;
  }
  return v;
}

AdmissionSettings::RequestsPerGpu ReadRequestsEntry(const YAML::Node& node, const std::string& path,
                                                    const GpuCatalog& catalog, Errors& errors) {
  AdmissionSettings::RequestsPerGpu out;
  const Fields fields = MapFields(node, path, {"gpu_type", "cpu", "memory"}, errors);
  for (const Field& f : fields) {
    const std::string field = Join(path, f.key);
    if (f.key == "gpu_type") {
      std::optional<std::string> t = ReadString(f.value, field, errors);
      if (t && catalog.FindType(*t) == kNoGpuType) {
        errors.Add(f.value, field, StrCat(Quote(*t), " is not a gpu type", Suggest(*t, TypeNames(catalog))));
      } else if (t) {
        out.gpu_type = *t;
      }
    } else if (f.key == "cpu") {
      out.cpu_millis = ReadPerGpu(f.value, field, Unit::kMilli, errors);
    } else {
      out.memory_bytes = ReadPerGpu(f.value, field, Unit::kUnits, errors);
    }
  }
  if (node.IsMap() && Find(fields, "gpu_type") == nullptr) errors.Add(node, path, "an entry needs a gpu_type");
  if (node.IsMap() && Find(fields, "cpu") == nullptr && Find(fields, "memory") == nullptr) {
    errors.Add(node, path, "an entry needs cpu, memory or both");
  }
  return out;
}

}  // namespace

QueueAdmissionRules ReadQueueAdmission(const YAML::Node& node, const std::string& path, Errors& errors) {
  QueueAdmissionRules out;
  const Fields fields = MapFields(
      node, path, {"proportional", "queue", "gpu_type", "tier0", "intent", "submit", "cpu_per_gpu", "memory_per_gpu"},
      errors);
  for (const Field& f : fields) {
    const std::string field = Join(path, f.key);
    if (f.key == "cpu_per_gpu") {
      out.cpu_millis_per_gpu = ReadPerGpu(f.value, field, Unit::kMilli, errors);
    } else if (f.key == "memory_per_gpu") {
      out.memory_bytes_per_gpu = ReadPerGpu(f.value, field, Unit::kUnits, errors);
    } else {
      const std::optional<RuleMode> m = ReadMode(f.value, field, errors);
      if (f.key == "proportional") out.proportional = m;
      if (f.key == "queue") out.queue = m;
      if (f.key == "gpu_type") out.gpu_type = m;
      if (f.key == "tier0") out.tier0 = m;
      if (f.key == "intent") out.intent = m;
      if (f.key == "submit") out.submit = m;
    }
  }
  return out;
}

AdmissionSettings ReadAdmissionSection(const YAML::Node& node, const GpuCatalog& catalog, Errors& errors) {
  AdmissionSettings out;
  const Fields fields =
      MapFields(node, "admission", {"scheduler_namespaces", "shape_slack_percent", "requests_per_gpu"}, errors);
  for (const Field& f : fields) {
    const std::string field = Join("admission", f.key);
    if (f.key == "scheduler_namespaces") {
      const std::vector<YAML::Node> items = Items(f.value, field, errors);
      for (size_t i = 0; i < items.size(); ++i) {
        std::optional<std::string> ns = ReadString(items[i], Index(field, i), errors);
        if (ns && !IsDnsLabel(*ns)) {
          errors.Add(items[i], Index(field, i), StrCat(Quote(*ns), " is not a namespace name"));
        } else if (ns) {
          out.scheduler_namespaces.push_back(*ns);
        }
      }
    } else if (f.key == "shape_slack_percent") {
      if (auto v = ReadInt(f.value, field, 0, 1000, errors)) out.shape_slack_percent = static_cast<int>(*v);
    } else {
      const std::vector<YAML::Node> items = Items(f.value, field, errors);
      for (size_t i = 0; i < items.size(); ++i) {
        AdmissionSettings::RequestsPerGpu e = ReadRequestsEntry(items[i], Index(field, i), catalog, errors);
        if (e.gpu_type.empty()) continue;
        bool dup = false;
        for (const auto& other : out.requests_per_gpu) dup = dup || other.gpu_type == e.gpu_type;
        if (dup) {
          errors.Add(items[i], Index(field, i), StrCat("gpu_type ", Quote(e.gpu_type), " is given twice"));
          continue;
        }
        out.requests_per_gpu.push_back(std::move(e));
      }
    }
  }
  return out;
}

}  // namespace drover::config_internal
