// Quota as code: the one YAML document that describes the GPU type catalog, GPU
// classes, the queue tree and the policies, parsed and validated in full before
// anything changes.
//
//   ASSIGN_OR_RETURN(QueueConfig cfg, ParseQueueConfig(yaml_text, "queues.yaml"));
//
// ParseQueueConfig reports every error of the document in one pass, each naming
// the queue path, the field and the value, for example:
//   queues.yaml: root.research.max.gpu.A100: "-3" is negative
//   queues.yaml: root.safety: children's guaranteed gpu.A100 (48) is above the parent's (32)
//   queues.yaml: root.safety.gaurnteed: unknown key (did you mean "guaranteed"?)
// The format is documented in queues/README.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/gpu_catalog.h"

namespace drover {

struct Pod;

// Documented limits of a document (queues/README.md, "Limits"): generous for any
// real organisation, small enough that a hostile or broken document is refused
// quickly and in bounded memory instead of exhausting the process.
inline constexpr int kMaxQueueDepth = 32;           // queue levels below root
inline constexpr int kMaxQueues = 10000;            // queues in the tree, root included
inline constexpr int kMaxGpuClasses = 256;          // entries of gpu_classes
inline constexpr size_t kMaxDocumentBytes = 16u << 20;  // 16 MiB
inline constexpr size_t kMaxYamlValues = 1000000;   // scalars, lists and mappings (yaml-cpp: ~0.5 KB each)
inline constexpr size_t kMaxErrorsListed = 1000;    // further errors are counted, not listed

// Amounts per resource for one queue. Unset dimensions are std::nullopt.
// GPU amounts are in milli-GPU keyed by canonical GPU type name.
struct QuotaSpec {
  std::optional<int64_t> cpu_millis;
  std::optional<int64_t> memory_bytes;
  std::map<std::string, int64_t> gpu_millis;  // type name -> milli-GPU
  bool empty() const { return !cpu_millis && !memory_bytes && gpu_millis.empty(); }
};

struct QueueLimits {
  std::optional<int64_t> max_running_pods;
  std::optional<int64_t> max_pending_pods;
  std::optional<int64_t> max_running_apps;
  std::optional<int64_t> max_pending_apps;
};

// Who may send pods to a queue (and every queue below it) by naming it in the
// drover.io/queue annotation. A namespace mapped to a queue in placement.namespaces
// may always use that queue; the default queue is open to all.
struct SubmitAcl {
  bool set = false;                     // the queue has a `submit` key
  std::vector<std::string> namespaces;  // namespace names; "*" = every namespace
  std::vector<std::string> users;       // Kubernetes user names (checked at admission)
  std::vector<std::string> groups;      // Kubernetes group names (checked at admission)
};

// Who administers a queue subtree through the admin API (server/admin_auth.h):
// they may change the queues below it, never its own entry. On the document's
// top level, the cluster admins, who may change anything.
struct AdminAcl {
  std::vector<std::string> users;   // principal names (token file or Kubernetes user)
  std::vector<std::string> groups;
  bool empty() const { return users.empty() && groups.empty(); }
};

// How the admission webhook acts on a rule a pod breaks (admission/README.md):
// enforce refuses the pod, warn admits it with a warning kubectl shows, audit
// admits it with an audit annotation only.
enum class RuleMode { kEnforce, kWarn, kAudit };

// The admission webhook's rules, as set on one queue (its `admission` key); every
// field unset = inherited from the parent (root: enforce, no per-queue bound).
struct QueueAdmissionRules {
  std::optional<RuleMode> proportional;  // CPU/memory per GPU within the bound
  std::optional<RuleMode> queue;         // the pod's queue exists and is a leaf
  std::optional<RuleMode> gpu_type;      // drover.io/gpu-type names a type or class
  std::optional<RuleMode> tier0;         // Tier 0 only where the queue guarantees the type
  std::optional<RuleMode> intent;        // well-formed drover.io/* annotations (fraction, gang, tier)
  std::optional<RuleMode> submit;        // the requester may submit to the queue (submit ACL)
  std::optional<int64_t> cpu_millis_per_gpu;    // bound for this subtree, any GPU type
  std::optional<int64_t> memory_bytes_per_gpu;
};

// The top-level `admission` section: what the webhook adds to pods.
struct AdmissionSettings {
  std::vector<std::string> scheduler_namespaces;  // every pod here gets schedulerName drover
  int shape_slack_percent = 25;  // derived per-GPU bound: node's cpu (memory) / its GPUs, plus this
  struct RequestsPerGpu {
    std::string gpu_type;
    std::optional<int64_t> cpu_millis;
    std::optional<int64_t> memory_bytes;
  };
  std::vector<RequestsPerGpu> requests_per_gpu;  // filled into GPU pods that ask none
};

struct QueueSpec {
  std::string name;  // last path element: "prod"
  std::string path;  // full path: "root.safety.prod"
  double weight = 1.0;
  QuotaSpec guaranteed;
  QuotaSpec max;
  QueueLimits limits;
  SubmitAcl submit;
  AdminAcl admins;
  QueueAdmissionRules admission;
  std::vector<QueueSpec> children;  // empty = leaf
};

// Per GPU type: how much CPU and memory a pod may ask per GPU of that type.
struct ProportionalPolicy {
  std::string gpu_type;
  std::optional<int64_t> cpu_millis_per_gpu;
  std::optional<int64_t> memory_bytes_per_gpu;
  enum class Action { kReject, kCharge } action = Action::kReject;
};

// One level of the cluster's network topology (the `topology` section): nodes
// with the same value of `node_label` (and of every wider level's label) form one
// domain of the level. Levels are listed widest first (zone, rack, NVLink domain).
struct TopologyLevel {
  std::string name;        // what gangs name in drover.io/topology-required|preferred: "rack"
  std::string node_label;  // node label key: "topology.kubernetes.io/zone"
  bool operator==(const TopologyLevel&) const = default;
};
inline constexpr int kMaxTopologyLevels = 8;

struct QueueConfig {
  GpuCatalog catalog;                     // the default catalog plus gpu_types/gpu_classes
  QueueSpec root;                         // always named "root"
  std::map<std::string, std::string> namespace_queues;  // namespace -> leaf queue path
  std::string default_queue;              // "" = none: pods without a queue are rejected
  std::string application_label;          // label grouping pods into applications ("" = owner reference)
  int default_tier = 1;
  std::map<std::string, int> priority_class_tiers;  // priorityClassName -> tier
  std::vector<ProportionalPolicy> proportional;
  // True when some queue has a `submit` key: a queue named by annotation then needs a
  // grant on its path. False (no `submit` anywhere): root admits everyone.
  bool submit_enforced = false;
  AdminAcl cluster_admins;  // the top-level `admins` section
  AdmissionSettings admission;  // the top-level `admission` section
  std::vector<TopologyLevel> topology_levels;  // the `topology` section's levels, widest first
};

// The index of level `name` in `levels`, or -1.
int FindTopologyLevel(const std::vector<TopologyLevel>& levels, std::string_view name);

// Resolves a pod's drover.io/topology-required and -preferred (pod.intent, whose
// syntax DecodePodIntent checked) against `levels`: *required and *preferred get
// level indexes (-1: not named). Returns why the pod cannot be scheduled, naming
// the annotation and value ("" if it can): a level the document does not declare
// (its levels listed), or a preferred level not narrower than the required one.
// The engine and the admission webhook judge pods with it alike.
std::string ResolveTopologyIntent(const std::vector<TopologyLevel>& levels, const Pod& pod, int* required,
                                  int* preferred);

// One error of a document, as ParseQueueConfig found it. line and column are
// 1-based; 0 when the error has no position (a missing key, an empty document).
struct ConfigError {
  std::string path;     // "root.research.max.gpu.A100"; "" for the document
  std::string message;
  int line = 0;
  int column = 0;
};

// Parses and validates a quota-as-code document. `source` names the document in
// errors. On any error, returns InvalidArgument whose message lists every error,
// one per line; nothing is half-built.
absl::StatusOr<QueueConfig> ParseQueueConfig(std::string_view yaml_text, std::string_view source);
// The same, and on error also every error structured into `errors` (not null),
// in document order, at most kMaxErrorsListed.
absl::StatusOr<QueueConfig> ParseQueueConfig(std::string_view yaml_text, std::string_view source,
                                             std::vector<ConfigError>* errors);
absl::StatusOr<QueueConfig> LoadQueueConfigFile(const std::string& path);

// A config with only a root queue and the default catalog: every pod that names
// no queue lands in root, limited only by the cluster.
QueueConfig DefaultQueueConfig();

}  // namespace drover
