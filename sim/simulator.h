// The embedded simulated cluster: an in-process Kubernetes stand-in with a
// virtual clock, behind the same ClusterSource / Actuator / Clock interfaces as
// the real adapter.
//
//   SimCluster sim(std::move(input));
//   while (!sim.Done()) {
//     drain sim's events into the engine, run a cycle, hand decisions to sim;
//     if (!sim.Advance()) break;            // jump to the next event time
//   }
//
// Pods arrive at their submit time, run for their duration once bound, then
// complete (phase Succeeded) and free their resources. Nodes can be added, removed
// or cordoned at given times. The simulator checks binds the way a kubelet would:
// a bind to a node the pod does not fit, or of a pod already bound, is refused
// and counted as a violation, independently of the scheduler's own accounting.
// Evicted pods are resubmitted at once under the same name, as a Job controller
// would recreate them.
#pragma once

#include <cstdint>
#include <map>
#include <queue>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/cluster.h"

namespace drover {

// Simulation annotations on pods and nodes.
namespace sim_annotations {
inline constexpr std::string_view kSubmitAt = "sim.drover.io/submit-at";  // pods: arrival time
inline constexpr std::string_view kDuration = "sim.drover.io/duration";   // pods: run time once bound
inline constexpr std::string_view kAddAt = "sim.drover.io/add-at";        // nodes: join time
inline constexpr std::string_view kRemoveAt = "sim.drover.io/remove-at";  // nodes: leave time
inline constexpr std::string_view kCordonAt = "sim.drover.io/cordon-at";  // nodes: cordon time
}  // namespace sim_annotations

struct SimPod {
  Pod pod;
  int64_t submit_ms = 0;
  int64_t duration_ms = -1;  // -1 = runs until the end
};

struct SimNode {
  Node node;
  int64_t add_ms = 0;
  int64_t remove_ms = -1;
  int64_t cordon_ms = -1;
};

struct SimInput {
  std::vector<SimNode> nodes;
  std::vector<SimPod> pods;
  // Namespaces with labels (namespaceSelector), there from the start. A namespace
  // not declared reads as its kubernetes.io/metadata.name label only.
  std::vector<Namespace> namespaces;
};

// What happened to one pod (per submission).
struct PodRecord {
  std::string key;
  std::string queue;  // drover.io/queue annotation
  int tier = -1;
  int64_t gpu_milli = 0;
  int64_t submit_ms = 0;
  int64_t bound_ms = -1;
  int64_t finished_ms = -1;
  int preemptions = 0;
  bool resubmission = false;   // recreated after an eviction or a lost node
  std::string scheduler_name;  // spec.schedulerName
};

struct SimTotals {
  int64_t binds = 0;
  int64_t completions = 0;
  int64_t evictions = 0;
  int64_t refused_binds = 0;     // violations: over-commit or double bind
  std::vector<std::string> violations;
  double gpu_alloc_integral = 0;  // sum of allocated milli-GPU * ms
  double gpu_capacity_integral = 0;
  double peak_alloc_ratio = 0;
  double free_gpu_nodes_integral = 0;  // GPU nodes with nothing on them * ms
  double stranded_gpus_integral = 0;   // idle GPUs on partly used nodes * ms
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

class SimCluster : public ClusterSource, public Actuator, public Clock {
 public:
  explicit SimCluster(SimInput input);

  // ClusterSource
  bool Synced() const override { return true; }
  size_t Drain(std::vector<ClusterEvent>* out) override;
  // Actuator
  void Bind(const Binding& b) override;
  void Evict(const Eviction& e) override;
  void RecordPending(const PendingReason& p) override;
  void CollectOutcomes(std::vector<BindOutcome>* out) override;
  void CollectEvictionOutcomes(std::vector<EvictionOutcome>* out) override;
  // Clock
  int64_t NowMillis() const override { return now_ms_; }

  // Every decision handed to this simulator is also handed to `mirror` first (a
  // recorder, e.g. bench/decision_log.h); its outcomes are never collected. nullptr: none.
  void set_mirror(Actuator* mirror) { mirror_ = mirror; }

  // Moves the clock to the next timed event and fires every event due then.
  // False if there is none (or the next is after `until_ms` when set). With
  // `wake_ms` set (the scheduler's next timer, Engine::NextWakeupMs), stops there
  // instead if it comes first and returns true with nothing fired.
  bool Advance(int64_t until_ms = -1, int64_t wake_ms = -1);
  // No timed events left and no pod waiting: the workload has completed.
  bool Done() const { return timeline_.empty() && pending_.empty(); }
  // Some timed event (a submission, completion, node change) is still to come.
  bool HasTimedEvents() const { return !timeline_.empty(); }

  const std::vector<PodRecord>& records() const { return records_; }
  const SimTotals& totals() const { return totals_; }
  const absl::flat_hash_map<std::string, std::string>& pending_reasons() const { return reasons_; }
  size_t pending_count() const { return pending_.size(); }
  std::vector<std::string> PendingKeys() const;
  size_t running_count() const { return running_.size(); }
  // Nodes with at least one idle GPU, and idle GPUs on partially used nodes.
  int NodesWithIdleGpus() const;
  int FreeGpuNodes() const;      // GPU nodes with nothing on them
  int64_t StrandedGpus() const;  // whole idle GPUs on nodes that are partly in use
  // GPUs allocated over GPUs present now (0 without GPUs).
  double AllocationNow() const {
    return gpu_capacity_ > 0 ? static_cast<double>(gpu_allocated_) / static_cast<double>(gpu_capacity_) : 0;
  }
  // Finishes accounting at the current time.
  void Finish();

 private:
  enum class Kind { kSubmit, kComplete, kNodeAdd, kNodeRemove, kNodeCordon };
  struct Timed {
    int64_t at_ms;
    uint64_t seq;
    Kind kind;
    size_t index;  // pod index or node index
    uint64_t generation;  // for completions: the bind generation they belong to
    bool operator>(const Timed& o) const { return at_ms != o.at_ms ? at_ms > o.at_ms : seq > o.seq; }
  };
  struct Live {
    size_t pod_index;
    size_t record;
    std::string node;
    uint64_t generation;
    ResourceVec requests;
    std::vector<int> devices;
  };
  struct NodeLive {
    size_t index;
    ResourceVec used;
    std::vector<int32_t> device_used;
    int pods = 0;
  };

  void Schedule(int64_t at, Kind kind, size_t index, uint64_t generation = 0);
  void Fire(const Timed& t);
  void Submit(size_t pod_index, bool resubmission = false);
  void Complete(const std::string& key, uint64_t generation, bool evicted);
  void Accrue(int64_t to_ms);
  // Adds (sign +1) or takes away (-1) what `nl` counts in free_gpu_nodes_ and
  // stranded_gpus_; called around every change of a node's usage.
  void Tally(const NodeLive& nl, int sign);
  Pod PodFor(size_t pod_index, const std::string& node) const;

  SimInput input_;
  int64_t now_ms_ = 0;
  uint64_t seq_ = 0;
  uint64_t generation_ = 0;
  std::priority_queue<Timed, std::vector<Timed>, std::greater<Timed>> timeline_;
  std::vector<ClusterEvent> events_;
  std::vector<BindOutcome> outcomes_;
  std::vector<EvictionOutcome> eviction_outcomes_;
  absl::flat_hash_map<std::string, size_t> pending_;   // key -> record index
  absl::flat_hash_map<std::string, size_t> pod_index_;  // key -> input pod index
  absl::flat_hash_map<std::string, Live> running_;
  std::map<std::string, NodeLive> nodes_;  // present nodes, by name
  absl::flat_hash_map<std::string, std::string> reasons_;
  std::vector<PodRecord> records_;
  SimTotals totals_;
  Actuator* mirror_ = nullptr;
  int64_t gpu_allocated_ = 0;
  int64_t gpu_capacity_ = 0;
  int64_t free_gpu_nodes_ = 0;  // kept equal to FreeGpuNodes()
  int64_t stranded_gpus_ = 0;   // kept equal to StrandedGpus()
};

}  // namespace drover
