// What the webhook decides about one pod, given the policy in force: the JSON
// Patch the mutating endpoint returns, and the rule findings the validating
// endpoint turns into a denial, warnings or audit annotations.
// The pod is the one the engine would see: decoded by k8s::Decoder, its intent by
// core's DecodePod (never a second reading of the annotations).
//
//   MutateResult m = Mutate(policy, pod, facts);            // m.patch.ToJson()
//   std::vector<Finding> f = Validate(policy, pod, requester);
//   ReviewResponse r = Verdict(uid, f);
#pragma once

#include <string>
#include <vector>

#include "admission/json_patch.h"
#include "admission/policy.h"
#include "admission/review.h"

namespace drover::admission {

struct MutateResult {
  JsonPatch patch;
  std::vector<std::string> warnings;  // e.g. a GPU pod left to another scheduler
};

// Mutations, each only where the field is missing (admission/README.md):
// schedulerName, drover.io/queue, drover.io/tier, the canonical drover.io/gpu-type,
// CPU and memory requests per GPU. Only pods that go to Drover: GPU pods, pods of
// opted-in namespaces, pods naming Drover. The API server defaults schedulerName
// before mutating webhooks run, so "default-scheduler" counts as not set.
// Also drover.io/submit-grant (core/model.h): set to the requester's principal when
// the queue the pod names is granted to it but not to the pod's namespace, and
// removed from a pod that carries one the requester does not hold.
MutateResult Mutate(const AdmissionPolicy& policy, const Pod& pod, const PodFacts& facts, const Requester& requester);

// The queue a drover.io/queue path names ("a.b" or "root.a.b"); kNoQueue if none.
QueueId NamedQueue(const QueueTree& tree, const std::string& path);

// One broken rule, with the mode of the pod's queue for that rule.
struct Finding {
  std::string rule;     // "proportional", "queue", "gpu_type", "tier0", "intent", "submit", "submit-grant"
  RuleMode mode = RuleMode::kEnforce;
  std::string message;  // names the pod, the field, the value and the limit
};

// The rules a pod to be scheduled by Drover breaks (none for other pods).
std::vector<Finding> Validate(const AdmissionPolicy& policy, const Pod& pod, const Requester& requester);

// The response for `findings`: denied (403) with every enforced finding's message
// joined by "; ", warnings for warn, audit annotations for audit.
ReviewResponse Verdict(const std::string& uid, const std::vector<Finding>& findings);

// `type_or_class` as the catalog spells it ("a100" -> "A100", a product name such
// as "NVIDIA-A100-SXM4-80GB" -> "A100"); "" when nothing matches.
std::string CanonicalGpuType(const GpuCatalog& catalog, const std::string& type_or_class);

}  // namespace drover::admission
