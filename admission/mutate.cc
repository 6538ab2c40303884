// Mutate (judge.h): the JSON Patch that routes a pod to Drover and fills what it left out.
#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "admission/judge.h"
#include "core/quantity.h"
#include "core/strings.h"
#include "k8s/json_util.h"

namespace drover::admission {
namespace {

using k8s::JsonQuote;

bool SchedulerUnset(const Pod& pod) {
  return pod.scheduler_name.empty() || pod.scheduler_name == "default-scheduler";
}

// Annotations to add: one op per key, or one op creating the map when the pod has none.
void AddAnnotations(const std::vector<std::pair<std::string, std::string>>& add, const PodFacts& facts,
                    JsonPatch* patch) {
  if (add.empty()) return;
  if (!facts.has_annotations) {
    std::string map = "{";
    for (size_t i = 0; i < add.size(); ++i) StrAppend(&map, i ? "," : "", JsonQuote(add[i].first), ":", JsonQuote(add[i].second));
    patch->Add("/metadata/annotations", map + "}");
    return;
  }
  for (const auto& [k, v] : add) patch->Add(StrCat("/metadata/annotations/", PointerToken(k)), JsonQuote(v));
}

// The smallest known default per GPU over the types the pod may land on: it fits any of them.
template <typename Fn>
std::optional<int64_t> SmallestDefault(const GpuCatalog& catalog, GpuTypeMask mask, Fn per_type) {
  std::optional<int64_t> best;
  for (GpuTypeId t : catalog.AllByRank()) {
    if ((mask & (GpuTypeMask{1} << t)) == 0) continue;
    if (std::optional<int64_t> v = per_type(t); v && (!best || *v < *best)) best = v;
  }
  return best;
}

// CPU and memory requests for the GPU containers of a GPU pod that asks for none.
void FillRequests(const AdmissionPolicy& policy, const PodFacts& facts, GpuTypeMask mask, JsonPatch* patch) {
  const bool any_cpu = std::any_of(facts.containers.begin(), facts.containers.end(), [](auto& c) { return c.cpu_set; });
  const bool any_mem = std::any_of(facts.containers.begin(), facts.containers.end(), [](auto& c) { return c.memory_set; });
  const std::optional<int64_t> cpu =
      any_cpu ? std::nullopt : SmallestDefault(policy.catalog(), mask, [&](GpuTypeId t) { return policy.DefaultCpuPerGpu(t); });
  const std::optional<int64_t> mem = any_mem ? std::nullopt : SmallestDefault(policy.catalog(), mask, [&](GpuTypeId t) {
    return policy.DefaultMemoryPerGpu(t);
  });
  if (!cpu && !mem) return;
  for (size_t i = 0; i < facts.containers.size(); ++i) {
    const ContainerFacts& c = facts.containers[i];
    if (c.gpu_millis <= 0) continue;
    std::vector<std::pair<std::string, std::string>> values;
    auto scaled = [&](int64_t per_gpu) { return static_cast<int64_t>(static_cast<__int128>(per_gpu) * c.gpu_millis / 1000); };
    if (cpu) values.emplace_back("cpu", FormatMilli(scaled(*cpu)));
    if (mem) values.emplace_back("memory", FormatBytes(scaled(*mem)));
    std::string map = "{";
    for (size_t j = 0; j < values.size(); ++j) StrAppend(&map, j ? "," : "", JsonQuote(values[j].first), ":", JsonQuote(values[j].second));
    map += "}";
    const std::string base = StrCat("/spec/containers/", i, "/resources");
    if (!c.has_resources) {
      patch->Add(base, StrCat("{\"requests\":", map, "}"));
    } else if (!c.has_requests) {
      patch->Add(base + "/requests", map);
    } else {
      for (const auto& [k, v] : values) patch->Add(StrCat(base, "/requests/", k), JsonQuote(v));
    }
  }
}

// drover.io/submit-grant, per judge.h's Mutate.
void SetSubmitGrant(const AdmissionPolicy& policy, const Pod& pod, const Requester& requester,
                    std::vector<std::pair<std::string, std::string>>* add, JsonPatch* patch) {
  const std::string* existing = pod.annotations.Get(annotations::kSubmitGrant);
  std::string grant;
  const QueueId leaf = NamedQueue(policy.tree(), pod.intent.queue);
  const Requester nobody;  // namespace grants only
  if (leaf != kNoQueue && !policy.tree().CheckSubmit(leaf, pod, &nobody).empty()) {
    grant = policy.tree().RequesterGrant(leaf, requester);
  }
  const std::string path = StrCat("/metadata/annotations/", PointerToken(annotations::kSubmitGrant));
  if (existing == nullptr) {
    if (!grant.empty()) add->emplace_back(annotations::kSubmitGrant, grant);
  } else if (grant.empty()) {
    patch->Remove(path);
  } else if (*existing != grant) {
    patch->Replace(path, JsonQuote(grant));
  }
}

}  // namespace

std::string CanonicalGpuType(const GpuCatalog& catalog, const std::string& type_or_class) {
  if (catalog.FindType(type_or_class) != kNoGpuType || catalog.FindClass(type_or_class) != nullptr) return type_or_class;
  for (GpuTypeId t = 0; t < catalog.size(); ++t) {
    if (absl::EqualsIgnoreCase(catalog.type(t).name, type_or_class)) return catalog.type(t).name;
  }
  const std::string lower = absl::AsciiStrToLower(type_or_class);
  if (const GpuClass* c = catalog.FindClass(lower)) return c->name;
  if (GpuTypeId t = catalog.MatchProduct(type_or_class); t != kNoGpuType) return catalog.type(t).name;
  return "";
}

MutateResult Mutate(const AdmissionPolicy& policy, const Pod& pod, const PodFacts& facts, const Requester& requester) {
  MutateResult out;
  const bool ours = pod.scheduler_name == policy.scheduler_name();
  if (!ours && !pod.WantsGpu() && !policy.OptedIn(pod.namespace_)) return out;
  if (!ours) {
    if (!SchedulerUnset(pod)) {
      out.warnings.push_back(StrCat("pod ", pod.Key(), " asks for GPUs but names scheduler \"", pod.scheduler_name,
                                    "\"; Drover leaves it alone (its queues do not count it)"));
      return out;
    }
    const std::string value = JsonQuote(policy.scheduler_name());
    if (facts.has_scheduler_name) {
      out.patch.Replace("/spec/schedulerName", value);
    } else {
      out.patch.Add("/spec/schedulerName", value);
    }
  }
  const QueueConfig& config = policy.config();
  std::vector<std::pair<std::string, std::string>> annotations;
  if (pod.annotations.Get(annotations::kQueue) == nullptr) {
    if (auto it = config.namespace_queues.find(pod.namespace_); it != config.namespace_queues.end()) {
      annotations.emplace_back(annotations::kQueue, it->second);
    }
  }
  if (pod.annotations.Get(annotations::kTier) == nullptr && !pod.priority_class.empty()) {
    if (auto it = config.priority_class_tiers.find(pod.priority_class); it != config.priority_class_tiers.end()) {
      annotations.emplace_back(annotations::kTier, std::to_string(it->second));
    }
  }
  GpuTypeMask mask = CandidateTypes(policy.catalog(), pod);
  if (!pod.intent.gpu_type.empty()) {
    const std::string canonical = CanonicalGpuType(policy.catalog(), pod.intent.gpu_type);
    if (!canonical.empty() && canonical != pod.intent.gpu_type) {
      out.patch.Replace(StrCat("/metadata/annotations/", PointerToken(annotations::kGpuType)), JsonQuote(canonical));
      mask = policy.catalog().ResolveRequest(canonical).value_or(kAnyGpuType);
    }
  }
  SetSubmitGrant(policy, pod, requester, &annotations, &out.patch);
  AddAnnotations(annotations, facts, &out.patch);
  if (pod.WantsGpu()) FillRequests(policy, facts, mask, &out.patch);
  return out;
}

}  // namespace drover::admission
