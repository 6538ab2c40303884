// The scheduler's published status: an immutable picture of queues, pending
// work, GPU inventory and cycle statistics, built by the loop thread after a
// cycle and read by any thread (admin API, metrics, web page, logs) without
// touching the engine.
//
//   // loop thread:
//   board.Publish(BuildStatus(engine, info));
//   // any thread:
//   std::shared_ptr<const ClusterStatus> s = board.Get();   // never null after the first Publish
//
// A published status never changes; readers hold it as long as they like.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "core/sync.h"
#include "placement/engine.h"

namespace drover {

// One queue in one quota dimension (a GPU type, "cpu" or "memory").
// GPU values are milli-GPU, cpu milli-cores, memory bytes. max is the effective
// max (explicit, else inherited; root's is the cluster).
struct QueueDimStatus {
  std::string resource;  // "A100", "cpu", "memory"
  int64_t guaranteed = 0;
  int64_t max = 0;
  int64_t usage = 0;
  int64_t borrowed = 0;        // usage above guaranteed
  // Requests of the subtree's pending pods: GPUs counted under the first type
  // each pod may use (the type the engine tries first), or under "gpu" for a pod
  // that names none; refreshed with the pending list (PendingSection).
  int64_t pending_demand = 0;
};

struct QueueStatus {
  std::string path;
  std::string parent;  // "" for root
  bool leaf = false;
  bool draining = false;
  bool over_max_by_config = false;
  double weight = 1;
  double share = 0;  // fair-share key: lower goes first (queues/README.md)
  int64_t running_pods = 0;
  int64_t pending_pods = 0;
  int64_t running_apps = 0;
  int64_t pending_apps = 0;
  std::array<int64_t, 3> running_by_tier{};  // leaves: own pods
  std::vector<QueueDimStatus> dims;  // GPU types with a non-zero value, then cpu, memory
};

// GPUs of one type over the cluster's schedulable nodes.
struct GpuInventory {
  std::string type;
  int64_t nodes = 0;
  int64_t total = 0;             // devices
  int64_t allocated_milli = 0;   // milli-GPU in use
  int64_t free = 0;              // devices with nothing on them
  int64_t whole_nodes_free = 0;  // nodes with every device free
  int64_t stranded = 0;          // free devices on nodes that are partly used
};

struct NodeGpuStatus {
  std::string name;
  std::string type;  // "" if not a GPU node
  bool schedulable = true;
  int32_t gpus = 0;
  int32_t free_gpus = 0;           // devices with nothing on them
  int64_t allocated_milli = 0;
};

// Loop statistics. Durations are wall time of RunCycle, in seconds.
struct CycleStatus {
  int64_t cycles = 0;
  double last_seconds = 0;
  double p50_seconds = 0;  // over the last cycles (up to 1,024)
  double p99_seconds = 0;
  double publish_seconds = 0;  // building the previous status
  EngineStats engine;
};

// The pending workloads and the demand behind them. Listing 100k pending pods
// costs far more than the rest of the status, so the loop rebuilds this part at
// most every LoopOptions::pending_refresh and shares it between publishes.
struct PendingSection {
  std::vector<PendingWorkload> workloads;  // by leaf queue, in queue order; then the rejected
  // Per workload (same index): its key in the store's timelines, "ns/gang" for a
  // gang, else its pod's "ns/name".
  std::vector<std::string> workload_keys;
  // Per queue path: resource name -> demand (leaf and every ancestor).
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, int64_t>> demand;
  int64_t as_of_ms = 0;  // loop clock when listed

  // Indexes for reading one workload (explain): built once, by the first reader
  // that asks, on its own thread (never the loop's), in O(pending pods); then a
  // lookup is O(1) and "who is ahead" O(listed). The fields above must not change
  // once the section is published (it is shared as const).
  struct Lookup {
    absl::flat_hash_map<std::string_view, size_t> by_pod;  // pod key -> its first workload's index
    // Leaf queue -> indices of its workloads, by queue position (positions > 0 first, ascending).
    absl::flat_hash_map<std::string_view, std::vector<size_t>> by_queue;
  };
  const Lookup& lookup() const;

 private:
  mutable std::once_flag lookup_once_;
  mutable std::unique_ptr<const Lookup> lookup_;
};

// One running workload: a pod, or a gang's running members together.
struct RunningWorkload {
  std::string workload;               // "ns/name", or "ns/gang" for a gang
  std::vector<std::string> pod_keys;  // its running pods
  std::string queue;                  // leaf queue path
  int tier = 1;
  std::string gpu_type;               // its nodes' GPU type ("" for pods without GPUs)
  int64_t gpu_milli = 0;              // its pods' GPU requests together
  std::vector<std::string> nodes;     // distinct, by name
  int64_t since_ms = 0;               // the earliest start among its pods (loop clock)
  int assumed = 0;                    // pods placed whose bind is not yet confirmed
  int evicting = 0;                   // pods being evicted
};

// The running workloads, rebuilt with the pending list (same pace, same
// reasons: O(running pods)) and shared between publishes.
struct RunningSection {
  std::vector<RunningWorkload> workloads;  // by leaf queue (as the pending list), then oldest first, then by name
  int64_t as_of_ms = 0;                    // loop clock when listed
};

// The configuration in force.
struct ConfigStatus {
  int64_t revision = 0;     // 1 at start, +1 per applied document
  std::string hash;         // sha256 of the document's text, hex
  std::string source;       // file path, "configmap ns/name", ...
  int64_t applied_unix_ms = 0;
  std::string last_error;   // the last refused document's errors ("" if none since)
};

struct ClusterStatus {
  uint64_t generation = 0;  // increases with every publish
  int64_t now_ms = 0;       // the loop clock's time at publish (virtual in the simulator)
  bool synced = false;
  bool leader = false;
  int64_t live_nodes = 0;
  int64_t live_pods = 0;
  int64_t pending_pods = 0;
  ConfigStatus config;
  CycleStatus cycle;
  std::vector<QueueStatus> queues;      // tree order, root first
  std::vector<GpuInventory> gpus;       // by catalog rank
  std::vector<NodeGpuStatus> nodes;     // GPU nodes, by name
  std::shared_ptr<const PendingSection> pending = std::make_shared<const PendingSection>();  // never null
  std::shared_ptr<const RunningSection> running = std::make_shared<const RunningSection>();  // never null
  const QueueStatus* FindQueue(const std::string& path) const;
};

// Lists the engine's pending workloads and their demand (loop thread only).
// O(pending pods + queues).
std::shared_ptr<const PendingSection> BuildPendingSection(const Engine& engine, int64_t now_ms);
// The pending demand per queue only (no workload list): what usage sampling
// needs. O(pending pods + queues), copying no names or messages.
std::shared_ptr<PendingSection> BuildDemandSection(const Engine& engine, int64_t now_ms);

// Lists the engine's running workloads, a gang's members as one (loop thread
// only; status_running.cc). O(running pods x log) with the sort.
std::shared_ptr<const RunningSection> BuildRunningSection(const Engine& engine, int64_t now_ms);

// Facts the engine does not know, supplied by the loop.
struct StatusInputs {
  bool synced = false;
  bool leader = false;
  ConfigStatus config;
  CycleStatus cycle;  // `engine` is filled in by BuildStatus
  bool nodes = true;  // false: no per-node list and inventory (usage sampling needs only the queues)
};

// Builds the status from the engine (loop thread only), with `pending` and
// `running` (null: an empty section). Cost O(queues x dimensions + nodes).
std::shared_ptr<ClusterStatus> BuildStatus(const Engine& engine, int64_t now_ms, const StatusInputs& in,
                                           std::shared_ptr<const PendingSection> pending = nullptr,
                                           std::shared_ptr<const RunningSection> running = nullptr);

// Holds the latest status. Publish swaps a pointer under a short lock; Get
// copies it. Neither waits for a status to be built.
class StatusBoard {
 public:
  // Stamps the next generation on `status` and makes it the current one.
  void Publish(std::shared_ptr<ClusterStatus> status);
  // The latest status; an empty one (generation 0) before the first Publish.
  std::shared_ptr<const ClusterStatus> Get() const;

 private:
  mutable Mutex mu_;
  std::shared_ptr<const ClusterStatus> current_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace drover
