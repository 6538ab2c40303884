// Nodes and Pods as the scheduler sees them: the fields of the Kubernetes objects
// that placement and quotas read, already converted to exact units.
//
// Decoders (sim/ from YAML, k8s/ from JSON) fill these; everything downstream reads
// only these types. Pod requests follow Kubernetes' rules, see EffectiveRequests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/gpu_catalog.h"
#include "core/pod_constraints.h"
#include "core/resources.h"

namespace drover {

// Annotations and labels Drover reads on pods.
namespace annotations {
inline constexpr std::string_view kQueue = "drover.io/queue";
inline constexpr std::string_view kTier = "drover.io/tier";
inline constexpr std::string_view kGpuType = "drover.io/gpu-type";          // a type or a class: "A100", "a10+"
inline constexpr std::string_view kGpuFraction = "drover.io/gpu-fraction";  // "0.5": share of one device
inline constexpr std::string_view kGpuMilli = "drover.io/gpu-milli";        // "500": same, in milli-GPU
inline constexpr std::string_view kGang = "drover.io/gang";                 // gang (job) name in the namespace
inline constexpr std::string_view kGangMinMembers = "drover.io/gang-min-members";
inline constexpr std::string_view kApplication = "drover.io/application";  // groups pods of one application
inline constexpr std::string_view kGpuDevices = "drover.io/gpu-devices";    // written at bind: "0,1"
// A topology level of the quota document (`topology.levels`): the gang runs inside
// one domain of it (required), or tries to (preferred, narrowest level first).
inline constexpr std::string_view kTopologyRequired = "drover.io/topology-required";
inline constexpr std::string_view kTopologyPreferred = "drover.io/topology-preferred";
// Written by the admission webhook only ("user:NAME" or "group:NAME"): the pod's
// creator holds a submit grant (queues/README.md, submit.users/groups) for the
// queue it names; the validating webhook refuses a pod whose creator does not.
inline constexpr std::string_view kSubmitGrant = "drover.io/submit-grant";
}  // namespace annotations

// A small sorted string map for labels, annotations and nodeSelector.
class Labels {
 public:
  Labels() = default;
  void Set(std::string key, std::string value);
  const std::string* Get(std::string_view key) const;
  bool empty() const { return kv_.empty(); }
  size_t size() const { return kv_.size(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return kv_; }
  bool operator==(const Labels& o) const { return kv_ == o.kv_; }

 private:
  std::vector<std::pair<std::string, std::string>> kv_;
};

enum class TaintEffect { kNoSchedule, kPreferNoSchedule, kNoExecute };
std::optional<TaintEffect> ParseTaintEffect(std::string_view s);
std::string_view TaintEffectName(TaintEffect e);

struct Taint {
  std::string key;
  std::string value;
  TaintEffect effect = TaintEffect::kNoSchedule;
  bool operator==(const Taint&) const = default;
};

struct Toleration {
  std::string key;       // empty with kExists = tolerate everything
  enum class Op { kEqual, kExists } op = Op::kEqual;
  std::string value;
  std::optional<TaintEffect> effect;  // nullopt = all effects
  bool operator==(const Toleration&) const = default;
};

struct NodeSelectorRequirement {
  std::string key;
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist, kGt, kLt } op = Op::kIn;
  std::vector<std::string> values;
  bool operator==(const NodeSelectorRequirement&) const = default;
};

// One term of requiredDuringSchedulingIgnoredDuringExecution: all requirements
// must hold (AND); a pod's terms are ORed. matchFields supports metadata.name.
struct NodeSelectorTerm {
  std::vector<NodeSelectorRequirement> match_expressions;
  std::vector<NodeSelectorRequirement> match_fields;
  bool operator==(const NodeSelectorTerm&) const = default;
};

struct Node {
  std::string name;
  Labels labels;
  std::vector<Taint> taints;
  bool unschedulable = false;
  bool ready = true;
  ResourceVec allocatable;  // GPUs in milli-GPU: devices * 1000
  int gpu_count = 0;        // whole devices
  std::string gpu_product;  // raw product label value, "" if none
  GpuTypeId gpu_type = kNoGpuType;  // resolved through the catalog
  // Why the node was made not schedulable on input ("" = it was not): for example
  // a GPU claim above the per-node limit (core/snapshot.h, ContainGpuClaim).
  std::string not_schedulable_reason;
  bool operator==(const Node&) const = default;
};

// A namespace as scheduling reads it: the labels a pod affinity term's
// namespaceSelector matches (kube-scheduler's InterPodAffinity reads them from its
// namespace lister). The API server sets kubernetes.io/metadata.name to the name.
struct Namespace {
  std::string name;
  Labels labels;
  bool operator==(const Namespace&) const = default;
};

enum class PodPhase { kPending, kRunning, kSucceeded, kFailed, kUnknown };
std::string_view PodPhaseName(PodPhase p);
PodPhase ParsePodPhase(std::string_view s);

// Tier 0 = guaranteed, never preempted; 1 = within queue max (default);
// 2 = preemptible, may borrow idle capacity.
inline constexpr int kTierUnset = -1;

// What a pod asks of Drover, decoded from its annotations once when it arrives
// (DecodePod in a decoder, DecodePodIntent in the engine) so that scheduling reads
// typed fields and an admission webhook can judge pods by the same code. The GPU
// shape (fraction, whole devices) is on Pod itself: gpu_devices, gpu_milli_per_device.
struct PodIntent {
  std::string queue;        // drover.io/queue: a leaf path; "" = by namespace or the default queue
  int tier = kTierUnset;    // drover.io/tier: 0, 1, 2; kTierUnset = by priority class or the default
  std::string gpu_type;     // drover.io/gpu-type: a type or class ("A100", "a10+"); "" = any type
  std::string gang;         // drover.io/gang: gang name in the namespace; "" = not in a gang
  int gang_min_members = 1; // drover.io/gang-min-members: members needed to start (a gang's)
  // drover.io/topology-required / -preferred: a level name of the quota document's
  // `topology` section ("rack"); "" = none. Syntax is checked here, the level
  // itself by whoever holds the document (the engine, the webhook).
  std::string topology_required;
  std::string topology_preferred;
  // drover.io/submit-grant, split: kind "user" or "group" and the name; "" = none.
  std::string submit_grant_kind;
  std::string submit_grant_name;
  // Set by DecodePod: the GPU shape could not be read (drover.io/gpu-fraction, a
  // partial nvidia.com/gpu); the pod holds ceil(nvidia.com/gpu) whole devices meanwhile.
  std::string shape_error;
  // Non-empty: a malformed value; the pod is rejected with this reason, which names
  // the pod, the annotation and the value (`annotation drover.io/gang-min-members:
  // "abc" is not a positive integer`). The first problem found: the shape's, then
  // the annotations' in the order above, then the pod's constraints'
  // (constraints.error, naming the spec field).
  std::string invalid;
  bool operator==(const PodIntent&) const = default;
};

struct Pod {
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string scheduler_name;
  std::string node_name;      // "" while unbound
  std::string nominated_node; // status.nominatedNodeName
  PodPhase phase = PodPhase::kPending;
  bool deleting = false;      // metadata.deletionTimestamp set
  int64_t creation_ms = 0;    // creationTimestamp (or simulated submit time)

  ResourceVec requests;       // effective requests incl. overhead and one pod slot
  // GPU shape: `gpu_devices` devices each needing `gpu_milli_per_device` free
  // milli-GPU on one node: (k, 1000) for whole GPUs, (1, m<1000) for a shared GPU.
  int gpu_devices = 0;
  int gpu_milli_per_device = 0;
  std::vector<int> gpu_device_ids;  // devices it holds, when known

  int32_t priority = 0;
  std::string priority_class;
  std::vector<Toleration> tolerations;
  Labels node_selector;
  std::vector<NodeSelectorTerm> required_affinity;  // ORed terms; empty = none
  PodConstraints constraints;  // inter-pod (anti-)affinity, topology spread (core/pod_constraints.h)
  Labels labels;
  Labels annotations;
  std::string owner_kind;  // controller owner reference
  std::string owner_name;
  PodIntent intent;        // decoded from `annotations` (DecodePodIntent)

  // Key in the snapshot: "namespace/name".
  std::string Key() const { return namespace_ + "/" + name; }
  bool IsBound() const { return !node_name.empty(); }
  bool IsTerminal() const { return phase == PodPhase::kSucceeded || phase == PodPhase::kFailed; }
  bool WantsGpu() const { return gpu_devices > 0; }
  bool operator==(const Pod&) const = default;
};

// Requests of one container, and whether it is a restartable init container
// (a sidecar: restartPolicy Always).
struct ContainerRequests {
  ResourceVec requests;
  bool sidecar = false;
};

// The pod's effective request, as kube-scheduler computes it: the larger of
// (sum of app containers + sum of sidecars) and, for each init container in
// order, its request plus the sidecars started before it; then + overhead.
ResourceVec EffectiveRequests(const std::vector<ContainerRequests>& init_containers,
                              const std::vector<ContainerRequests>& containers, const ResourceVec& overhead);

// Sets pod->gpu_devices / gpu_milli_per_device from requests[kGpu] and the
// fraction annotations. Error names the annotation and value (fraction outside
// (0,1], a fraction together with whole GPUs).
[[nodiscard]] absl::Status ResolveGpuShape(Pod* pod);

// Decodes pod->intent from pod->annotations (keeping intent.shape_error) and
// finishes pod->constraints (FinishPodConstraints). Never fails: a malformed
// value sets intent.invalid. Idempotent; cheap enough to run
// on every pod event (a few lookups in a small sorted map).
void DecodePodIntent(Pod* pod);

// For decoders of whole pods (k8s/, sim/ YAML): the GPU shape (ResolveGpuShape) and
// the intent, in one step. Returns intent.invalid as an InvalidArgument error, but
// the pod stays usable: pass it on so that the engine rejects it with that reason
// (the actuator then tells the pod: PodScheduled=False and an event).
[[nodiscard]] absl::Status DecodePod(Pod* pod);

// Whether `name` may name a topology level: [a-z0-9]([-a-z0-9_]*[a-z0-9])?, at most
// 63 characters (the rules of queue names).
bool IsTopologyLevelName(std::string_view name);

// --- Filters on one node, Kubernetes semantics ---
// First taint with effect NoSchedule/NoExecute that no toleration tolerates, or nullptr.
const Taint* FirstUntoleratedTaint(const std::vector<Taint>& taints, const std::vector<Toleration>& tolerations);
bool Tolerates(const Toleration& t, const Taint& taint);
bool MatchesNodeSelector(const Labels& selector, const Labels& node_labels);
// Required node affinity: true if there are no terms or any term matches.
bool MatchesRequiredAffinity(const std::vector<NodeSelectorTerm>& terms, const Node& node);
bool MatchesRequirement(const NodeSelectorRequirement& r, const std::string* value);

}  // namespace drover
