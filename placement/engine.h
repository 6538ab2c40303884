// The placement engine: one scheduling loop over the snapshot, the queue tree and
// a scoring policy. It turns node/pod events into Decisions (bind, evict, explain).
//
//   Engine engine(config, {.scheduler_name = "drover", .policy = "binpack"});
//   for (const ClusterEvent& e : events) engine.Apply(e);
//   Decisions d = engine.RunCycle(now_ms);       // then hand d to the Actuator
//   engine.OnOutcome(outcome);                   // bind results, as they arrive
//
// A cycle: pick the next workload (a pod, or a gang's pods together) by the
// queues' fair-share order, admit it against its queue for each GPU type it may
// use (lowest rank first), filter and score nodes, then assume the decision in
// the snapshot at once so the next decision sees it; a failed bind rolls it back.
// Workloads that cannot be placed are set aside with an explanation until the
// cluster frees capacity. The engine does no I/O and reads no clock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/cluster.h"
#include "core/snapshot.h"
#include "placement/filters.h"
#include "placement/policy.h"
#include "queues/config.h"
#include "queues/ordering.h"
#include "queues/queue_tree.h"

namespace drover {

struct EngineOptions {
  std::string scheduler_name = "drover";
  std::string policy = "binpack";
  uint64_t seed = 1;
  int max_workloads_per_cycle = 100000;
};

struct EngineStats {
  int64_t binds = 0;
  int64_t bind_failures = 0;
  int64_t unschedulable_attempts = 0;
  int64_t rejected = 0;
  int64_t cycles = 0;
  int64_t gangs_placed = 0;
};

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Create(QueueConfig config, EngineOptions options);

  void Apply(const ClusterEvent& event);
  void OnOutcome(const BindOutcome& outcome);
  Decisions RunCycle(int64_t now_ms);

  // Why a pending pod waits ("" if unknown or not pending).
  std::string WhyPending(const std::string& pod_key) const;
  size_t pending_pods() const { return pending_pods_; }
  // Every broken invariant: node over-commit, queue above max, usage drift.
  std::vector<std::string> CheckInvariants() const;

  const Snapshot& snapshot() const { return snapshot_; }
  const QueueTree& queues() const { return *tree_; }
  const GpuCatalog& catalog() const { return catalog_; }
  const EngineStats& stats() const { return stats_; }
  const ScoringPolicy& policy() const { return *policy_; }

 private:
  struct Tracked {
    bool charged = false;
    QueueId leaf = kNoQueue;
    int tier = 1;
    Charge charge;
    uint64_t workload = 0;  // pending workload id, 0 if none
  };
  struct Workload {
    uint64_t id = 0;
    std::string gang;            // "" for a single pod
    int min_members = 1;
    std::vector<std::string> members;  // pending pod keys
    QueueId leaf = kNoQueue;
    int tier = 1;
    std::string reason;          // last explanation recorded
    std::string rejection;       // permanent: bad queue, impossible request
  };
  struct Choice {
    NodeId node = kNoNode;
    std::vector<int> devices;
    Charge charge;
  };

  Engine(QueueConfig config, EngineOptions options, std::unique_ptr<ScoringPolicy> policy);

  void ApplyPod(const Pod& pod);
  void RemovePod(const std::string& key);
  void Uncharge(Tracked& tr);
  void ChargeRunning(const std::string& key, Tracked& tr);
  void AddPending(const Pod& pod, Tracked& tr);
  void RemovePending(const std::string& key, Tracked& tr);
  void RefreshCapacity();

  // Tries to place every pending member of `w`; all or nothing.
  bool TryPlace(Workload& w, Decisions* out, std::string* why);
  bool ChooseNode(const Pod& pod, QueueId leaf, int tier, Choice* choice, FailureTally* tally);
  bool BestOnNodes(const Pod& pod, const std::vector<NodeId>& nodes, Choice* choice, FailureTally* tally);
  void Commit(const std::string& key, const Choice& c, Decisions* out);
  void Rollback(const std::string& key);

  EngineOptions options_;
  QueueConfig config_;
  GpuCatalog catalog_;
  Snapshot snapshot_;
  std::unique_ptr<QueueTree> tree_;
  std::unique_ptr<PendingOrder> order_;
  std::unique_ptr<ScoringPolicy> policy_;
  absl::flat_hash_map<std::string, Tracked> tracked_;
  absl::flat_hash_map<uint64_t, Workload> workloads_;
  absl::flat_hash_map<std::string, uint64_t> gangs_;  // "ns/gang" -> workload
  uint64_t next_workload_ = 1;
  size_t pending_pods_ = 0;
  bool capacity_freed_ = false;
  bool index_dirty_ = true;
  std::vector<std::vector<NodeId>> nodes_by_type_;  // by GpuTypeId
  std::vector<NodeId> cpu_nodes_;
  std::vector<GpuTypeId> node_type_;  // last seen type per node slot (-2 = absent)
  EngineStats stats_;
};

}  // namespace drover
