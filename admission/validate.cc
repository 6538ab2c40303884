// Validate and Verdict (judge.h): the rules a pod breaks, and the response they make.
#include <algorithm>

#include "absl/strings/str_join.h"
#include "admission/judge.h"
#include "core/quantity.h"
#include "core/resources.h"
#include "core/strings.h"

namespace drover::admission {
namespace {

// The leaf the pod goes to (kNoQueue with a finding when none), the submit ACL
// checked against the requester as well as the namespace.
QueueId ResolveQueue(const AdmissionPolicy& policy, const Pod& pod, const Requester& requester,
                     std::vector<Finding>* out) {
  const QueueTree& tree = policy.tree();
  absl::StatusOr<QueueId> leaf = tree.LeafFor(pod);
  if (leaf.ok()) return *leaf;
  if (leaf.status().code() != absl::StatusCode::kPermissionDenied) {
    out->push_back({"queue", policy.Rules(kNoQueue).queue, std::string(leaf.status().message())});
    return kNoQueue;
  }
  // Refused by namespace: the requester's user or groups may still be granted.
  const QueueId id = NamedQueue(tree, pod.intent.queue);
  if (id == kNoQueue) return kNoQueue;
  if (std::string refused = tree.CheckSubmit(id, pod, &requester); !refused.empty()) {
    out->push_back({"submit", policy.Rules(id).submit, std::move(refused)});
  }
  return id;
}

// The bound over the types the pod may land on: the most permissive one (the
// engine applies the landed type's own policy when it places the pod).
PerGpuBound LoosestBound(const AdmissionPolicy& policy, QueueId leaf, GpuTypeMask mask) {
  PerGpuBound best;
  bool first = true;
  for (GpuTypeId t : policy.catalog().AllByRank()) {
    if ((mask & (GpuTypeMask{1} << t)) == 0) continue;
    const PerGpuBound b = policy.BoundFor(leaf, t);
    const bool type_exists = static_cast<size_t>(t) < policy.shapes().size() && policy.shapes()[t].example_gpus > 0;
    if (!type_exists && mask == kAnyGpuType) continue;  // only types the cluster has, for "any GPU"
    if (first) {
      best = b, first = false;
      continue;
    }
    if (!b.cpu_millis || (best.cpu_millis && *b.cpu_millis > *best.cpu_millis)) {
      best.cpu_millis = b.cpu_millis, best.cpu_source = b.cpu_source;
    }
    if (!b.memory_bytes || (best.memory_bytes && *b.memory_bytes > *best.memory_bytes)) {
      best.memory_bytes = b.memory_bytes, best.memory_source = b.memory_source;
    }
    best.charge = best.charge || b.charge;
  }
  if (first) return policy.BoundFor(leaf, kNoGpuType);
  return best;
}

bool Holds(const Requester& r, const PodIntent& in) {
  if (in.submit_grant_kind == "user") return in.submit_grant_name == r.username;
  return std::find(r.groups.begin(), r.groups.end(), in.submit_grant_name) != r.groups.end();
}

// drover.io/submit-grant vouches for the pod's creator to the scheduler, which
// trusts it: it must be the requester's own (always enforced, whatever the submit
// rule's mode). A pod granted only through its creator but without the annotation
// (the mutating webhook did not run) would be refused by the scheduler: said now.
void CheckSubmitGrant(const AdmissionPolicy& policy, const Pod& pod, const Requester& requester, QueueId leaf,
                      std::vector<Finding>* out) {
  const PodIntent& in = pod.intent;
  if (!in.submit_grant_kind.empty()) {
    if (Holds(requester, in)) return;
    out->push_back({"submit-grant", RuleMode::kEnforce,
                    StrCat("pod ", pod.Key(), ": annotation ", annotations::kSubmitGrant, ": \"", in.submit_grant_kind,
                           ":", CutForMessage(in.submit_grant_name, 80), "\" is not held by the pod's creator (user \"",
                           CutForMessage(requester.username, 80), "\"); Drover's webhook writes it, not users")});
    return;
  }
  if (leaf == kNoQueue || in.queue.empty()) return;
  const Requester nobody;  // namespace grants only
  if (policy.tree().CheckSubmit(leaf, pod, &nobody).empty()) return;
  const std::string held = policy.tree().RequesterGrant(leaf, requester);
  if (held.empty()) return;  // refused by ResolveQueue already
  out->push_back({"submit", policy.Rules(leaf).submit,
                  StrCat("pod ", pod.Key(), ": queue ", policy.tree().queue(leaf).path, " is granted to ", held,
                         " but annotation ", annotations::kSubmitGrant, " is missing (did the mutating webhook run?); "
                         "the scheduler would refuse the pod")});
}

std::string GpuText(int64_t gpu_millis) {
  return StrCat(FormatMilli(gpu_millis), gpu_millis == 1000 ? " GPU" : " GPUs");
}

void CheckProportional(const AdmissionPolicy& policy, const Pod& pod, QueueId leaf, GpuTypeMask mask,
                       std::vector<Finding>* out) {
  const int64_t gpus = pod.requests[Res::kGpu];
  if (gpus <= 0) return;
  const PerGpuBound b = LoosestBound(policy, leaf, mask);
  RuleMode mode = policy.Rules(leaf).proportional;
  if (b.charge && mode == RuleMode::kEnforce) mode = RuleMode::kWarn;  // the scheduler admits it and charges
  auto allowed = [gpus](int64_t per_gpu) { return static_cast<int64_t>(static_cast<__int128>(per_gpu) * gpus / 1000); };
  const int64_t cpu = pod.requests[Res::kCpu];
  if (b.cpu_millis && cpu > allowed(*b.cpu_millis)) {
    out->push_back({"proportional", mode,
                    StrCat("pod ", pod.Key(), ": spec.containers[*].resources.requests.cpu: ", FormatMilli(cpu),
                           " for ", GpuText(gpus), " is above the limit of ", FormatMilli(allowed(*b.cpu_millis)),
                           " (", FormatMilli(*b.cpu_millis), " per GPU: ", b.cpu_source, ")")});
  }
  const int64_t mem = pod.requests[Res::kMemory];
  if (b.memory_bytes && mem > allowed(*b.memory_bytes)) {
    out->push_back({"proportional", mode,
                    StrCat("pod ", pod.Key(), ": spec.containers[*].resources.requests.memory: ", FormatBytes(mem),
                           " for ", GpuText(gpus), " is above the limit of ", FormatBytes(allowed(*b.memory_bytes)),
                           " (", FormatBytes(*b.memory_bytes), " per GPU: ", b.memory_source, ")")});
  }
}

void CheckTier0(const AdmissionPolicy& policy, const Pod& pod, QueueId leaf, GpuTypeMask mask,
                std::vector<Finding>* out) {
  if (!pod.WantsGpu() || policy.tree().TierFor(pod) != 0) return;
  const Queue& q = policy.tree().queue(leaf);
  for (GpuTypeId t : policy.catalog().AllByRank()) {
    if ((mask & (GpuTypeMask{1} << t)) == 0 || q.guaranteed[QGpu(t)] <= 0) continue;
    return;  // some type it may use is guaranteed
  }
  const std::string from = pod.intent.tier == 0 ? StrCat("annotation ", annotations::kTier, ": \"0\"")
                                                : StrCat("priorityClassName \"", pod.priority_class, "\"");
  const std::string which = pod.intent.gpu_type.empty() ? "GPU" : StrCat(pod.intent.gpu_type, " GPU");
  out->push_back({"tier0", policy.Rules(leaf).tier0,
                  StrCat("pod ", pod.Key(), ": Tier 0 (", from, ") in queue ", q.path, ", which has no guaranteed ",
                         which, " capacity (guaranteed ", which, ": 0); Tier 0 runs only within its queue's "
                         "guaranteed: use tier 1, or a queue that guarantees the type")});
}

}  // namespace

QueueId NamedQueue(const QueueTree& tree, const std::string& path) {
  if (path.empty()) return kNoQueue;
  QueueId id = tree.Find(path);
  if (id == kNoQueue) id = tree.Find(StrCat("root.", path));
  return id;
}

std::vector<Finding> Validate(const AdmissionPolicy& policy, const Pod& pod, const Requester& requester) {
  std::vector<Finding> out;
  if (pod.scheduler_name != policy.scheduler_name()) return out;
  const QueueId leaf = ResolveQueue(policy, pod, requester, &out);
  CheckSubmitGrant(policy, pod, requester, leaf, &out);
  if (!pod.intent.invalid.empty()) out.push_back({"intent", policy.Rules(leaf).intent, pod.intent.invalid});
  int required = -1;
  int preferred = -1;
  if (std::string topology = ResolveTopologyIntent(policy.config().topology_levels, pod, &required, &preferred);
      pod.intent.invalid.empty() && !topology.empty()) {
    out.push_back({"intent", policy.Rules(leaf).intent, std::move(topology)});
  }
  bool type_ok = true;
  if (!pod.intent.gpu_type.empty()) {
    if (absl::StatusOr<GpuTypeMask> m = policy.catalog().ResolveRequest(pod.intent.gpu_type); !m.ok()) {
      type_ok = false;
      const std::string canonical = CanonicalGpuType(policy.catalog(), pod.intent.gpu_type);
      out.push_back({"gpu_type", policy.Rules(leaf).gpu_type,
                     StrCat("pod ", pod.Key(), ": annotation ", annotations::kGpuType, ": \"",
                            CutForMessage(pod.intent.gpu_type), "\" is not a GPU type or class of the quota document",
                            canonical.empty() ? "" : StrCat(" (did you mean \"", canonical, "\"?)"))});
    }
  }
  if (leaf == kNoQueue) return out;
  const GpuTypeMask mask = type_ok ? CandidateTypes(policy.catalog(), pod) : kAnyGpuType;
  CheckProportional(policy, pod, leaf, mask, &out);
  CheckTier0(policy, pod, leaf, mask, &out);
  return out;
}

ReviewResponse Verdict(const std::string& uid, const std::vector<Finding>& findings) {
  ReviewResponse r;
  r.uid = uid;
  std::vector<std::string> denied;
  for (const Finding& f : findings) {
    switch (f.mode) {
      case RuleMode::kEnforce: denied.push_back(f.message); break;
      case RuleMode::kWarn: r.warnings.push_back(f.message); break;
      case RuleMode::kAudit: {
        // One annotation per rule (the API server prefixes the webhook's name).
        auto it = std::find_if(r.audit_annotations.begin(), r.audit_annotations.end(),
                               [&](const auto& kv) { return kv.first == f.rule; });
        if (it == r.audit_annotations.end()) {
          r.audit_annotations.emplace_back(f.rule, f.message);
        } else {
          StrAppend(&it->second, "; ", f.message);
        }
        break;
      }
    }
  }
  if (!denied.empty()) {
    r.allowed = false;
    r.code = 403;
    r.message = absl::StrJoin(denied, "; ");
  }
  return r;
}

}  // namespace drover::admission
