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
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "core/cluster.h"
#include "core/snapshot.h"
#include "placement/app_counter.h"
#include "placement/filters.h"
#include "placement/node_index.h"
#include "placement/pod_waiters.h"
#include "placement/policy.h"
#include "placement/preemptor.h"
#include "placement/reservations.h"
#include "placement/topology.h"
#include "placement/topology_gang.h"
#include "placement/tracked_pod.h"
#include "queues/config.h"
#include "queues/ordering.h"
#include "queues/queue_tree.h"

namespace drover {

struct EngineOptions {
  std::string scheduler_name = "drover";
  std::string policy = "binpack";
  uint64_t seed = 1;
  int max_workloads_per_cycle = 100000;
  bool preemption = true;
  int max_preemptions_per_pod = 3;        // a pod preempted this often is not chosen again
  // A pod preempts only after waiting this long since its first failed attempt, so
  // capacity that frees on its own in a busy cluster is used instead of evicting
  // (YuniKorn's preemption.delay). 0 = at the first failed attempt (kube-scheduler).
  // Tier 0 pods never wait: their guaranteed capacity is theirs whenever they ask.
  int64_t preemption_delay_ms = 30 * 1000;
  int64_t nomination_ttl_ms = 5 * 60 * 1000;  // how long freed space is held for a preemptor
  // A gang that found no set of victims looks again only after this long: its
  // search spans as many nodes as it has members (a single pod's is one node's).
  int64_t gang_preemption_retry_ms = 30 * 1000;
  int64_t pdb_backoff_ms = 60 * 1000;     // a victim whose eviction a PDB refused is skipped this long
  // A pod's preemption count (max_preemptions_per_pod) outlives the pod, so that its
  // re-creation under the same name (a Job's) keeps it; it is forgotten once the pod
  // has been gone and unpreempted this long, so the engine's memory stays bounded.
  int64_t forget_preempted_after_ms = 60 * 60 * 1000;
  // Reservations (placement/README.md): a pod pending this long that fits no node
  // now, but would fit a drained one, reserves the node that needs the least to
  // drain; no other new pod lands there. 0 disables reservations.
  int64_t reservation_after_ms = 3 * 60 * 1000;
  // A reservation not used by then expires; the pod may reserve again only after
  // a new reservation_after_ms wait (no hoarding).
  int64_t reservation_max_hold_ms = 10 * 60 * 1000;
  int max_reservations = 16;              // held at once, cluster-wide
  int reservation_min_gpus = 2;           // only pods of at least this many whole GPUs reserve
  // How running pods' inter-pod terms score a pod they match (kube-scheduler's
  // InterPodAffinityArgs: hardPodAffinityWeight 1, ignorePreferredTermsOfExistingPods
  // false); a tie-break like every preference (placement/README.md).
  ExistingTermsScoring existing_terms;
};

// What a restart must not reset for a pod (server/ keeps it in the store): when
// its workload first failed to place (the preemption delay and reservations
// count from it) and how often it has been preempted (max_preemptions_per_pod).
// Its place in line needs nothing: the order is by priority and creation time,
// which the API server keeps.
struct PodTimers {
  int64_t waiting_since_ms = -1;  // -1: has not failed to place yet
  int preemptions = 0;
};

// A node held for one pending pod while it drains (for reports and the admin API).
struct NodeReservation {
  std::string node;
  std::string pod_key;
  std::string queue;      // the pod's leaf queue path
  int64_t since_ms = 0;
  int64_t expires_ms = 0;
};

// One pending workload (a pod, or a gang's pending pods), as the published status
// and the admin API show it (Engine::ListPending).
struct PendingWorkload {
  std::vector<std::string> pod_keys;  // its pending pods, in arrival order
  std::string queue;                  // leaf queue path; "" if rejected before a queue was found
  int tier = 1;
  PendingCode code = PendingCode::kQueued;
  std::string message;                // the last explanation ("" before its first attempt)
  int64_t position = 0;               // 1-based in its leaf queue's order; 0 = in none (rejected)
  int64_t waiting_since_ms = 0;       // creation time of its first pod
  // The nodes each filter turned it away for at its last failed placement attempt
  // (the counts behind "0/N nodes are available: ..."); empty when its reason is
  // not about nodes (queued, waiting for its gang, application limit, rejected).
  NodeFailures nodes;
};

// One running pod of ours (bound, or placed and its bind in flight), as
// Engine::ForEachRunningPod hands it out: references into the engine, valid
// during the call only.
struct RunningPodView {
  const std::string& key;   // "ns/name"
  const Pod& pod;
  QueueId leaf = kNoQueue;  // the queue it is charged to
  int tier = 1;
  NodeId node = kNoNode;    // where it counts (the snapshot's node)
  int64_t started_ms = 0;   // the cycle time it was charged (placed, or seen bound)
  bool assumed = false;     // placed by us, the bind not yet confirmed
  bool evicting = false;    // an eviction was decided, the pod not yet gone
  const std::string& gang;  // "ns/gang", or "" for a single pod
};

struct EngineStats {
  int64_t binds = 0;
  int64_t bind_failures = 0;
  int64_t unschedulable_attempts = 0;
  int64_t rejected = 0;
  int64_t cycles = 0;
  int64_t gangs_placed = 0;
  int64_t preemptions = 0;        // evictions decided
  int64_t preemptions_in_queue = 0;  // of those: the victim's own queue, outranked by tier or priority
  int64_t preemptions_reclaim = 0;   // of those: borrowed capacity taken back for a queue below guaranteed
  int64_t preemptors = 0;         // pods that preempted
  int64_t evictions_blocked = 0;  // refused by a PodDisruptionBudget
  int64_t shape_skips = 0;        // attempts skipped: same shape already failed this cycle
  int64_t reservations = 0;       // nodes reserved
  int64_t reservations_expired = 0;
  int64_t nodes_considered = 0;   // nodes offered to filters and scoring (placement attempts)
  int64_t nodes_skipped = 0;      // nodes passed over as surely too small (NodeIndex::SurelyTooSmall)
  int64_t placement_tries = 0;    // attempts that filtered nodes (TryPlace), not answered from a failed shape
};

// One workload's attempt in RunCycle, as an AttemptObserver sees it.
struct AttemptReport {
  const std::string& pod_key;  // its first pending pod (valid during the call only)
  int pods = 1;                // its pending pods
  bool constrained = false;    // that pod carries required inter-pod rules (PodConstraints::HasRequired)
  bool tried = false;          // nodes were filtered (TryPlace ran); false: answered from a failed shape,
                               // an earlier answer or an application limit
  bool placed = false;
  int64_t nodes_considered = 0;  // nodes offered to the filters in this attempt (EngineStats::nodes_considered)
};

// Optional instrumentation of RunCycle (bench/placement_bench's --per-attempt):
// called around each workload's attempt, so the observer may time it (the engine
// reads no clock). Not installed, it costs one null check per attempt.
class AttemptObserver {
 public:
  virtual ~AttemptObserver() = default;
  virtual void BeforeAttempt() = 0;
  virtual void AfterAttempt(const AttemptReport& report) = 0;
};

class Engine {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Engine>> Create(QueueConfig config, EngineOptions options);

  void Apply(const ClusterEvent& event);
  // Applies a new quota-as-code revision atomically: the snapshot, usage and
  // pending work are re-accounted under the new tree; queues removed while pods
  // run in them become draining; queues whose max dropped below their usage are
  // returned (they admit nothing until under). The config was validated already.
  std::vector<std::string> ApplyConfig(QueueConfig config);
  void OnOutcome(const BindOutcome& outcome);
  void OnEvictionOutcome(const EvictionOutcome& outcome);
  Decisions RunCycle(int64_t now_ms);

  // Warnings about the cluster's objects since the last call, oldest first, for the
  // log and an event on the node: a GPU product the catalog does not know (once
  // per product), a node over a per-node limit (core/snapshot.h). At most 1,000
  // are kept between calls; further ones are dropped.
  std::vector<std::string> TakeWarnings() { return std::exchange(warnings_, {}); }

  // Seeds timers remembered from before a restart, by pod key: a pod's waiting
  // time applies when it arrives pending, its preemption count at once. Call
  // before the first cycle; what no pod claimed by the end of the first cycle
  // is dropped.
  void RestoreTimers(absl::flat_hash_map<std::string, PodTimers> timers);
  // Pods whose timers changed since the last call (started waiting, preempted,
  // an eviction refused), with their timers now. Bounded by the pods touched.
  std::vector<std::pair<std::string, PodTimers>> TakeTimerChanges();

  // Why a pending pod waits ("" if unknown or not pending).
  std::string WhyPending(const std::string& pod_key) const;
  // Every pending workload: queue by queue (leaf ids ascending), each leaf's in its
  // order, then the rejected ones in arrival order. Cost O(pending pods + queues)
  // plus sorting the rejected ones; it walks each leaf's order, sorts nothing else.
  // Loop thread only (like every method): a publisher copies the result.
  std::vector<PendingWorkload> ListPending() const;
  // Calls fn(leaf, pod) for every pending pod of a workload that has a leaf
  // queue, in no particular order. Copies nothing: O(pending pods) lookups, for
  // samplers that need pending demand but not the list.
  void ForEachPendingPod(absl::FunctionRef<void(QueueId leaf, const Pod& pod)> fn) const;
  // Calls fn for every pod of ours charged to a queue (running, or placed and
  // binding), in no particular order. Copies nothing: O(tracked pods) lookups,
  // for a publisher that lists running work (loop thread only).
  void ForEachRunningPod(absl::FunctionRef<void(const RunningPodView&)> fn) const;
  size_t pending_pods() const { return pending_pods_; }
  // Nodes currently reserved, by node name.
  std::vector<NodeReservation> Reservations() const;
  // The earliest virtual time at which a waiting workload becomes entitled to
  // something time-based (preempting after preemption_delay_ms, reserving after
  // reservation_after_ms), or -1. An event-driven caller (the simulator) runs a
  // cycle then even if nothing else happens; a polling one need not ask.
  int64_t NextWakeupMs() const { return wakeups_.empty() ? -1 : wakeups_.top().first; }
  // Entries of per-pod state kept beyond a pod's life (preemption counts, PDB
  // back-offs); pruned, so bounded by the pods seen in the last forget_preempted_after_ms.
  size_t retained_pod_state() const { return preemptor_.retained(); }
  // Pods of ours the engine tracks (running, assumed or pending): its per-pod map.
  size_t tracked_pods() const { return tracked_.size(); }
  // Every broken invariant: node over-commit, queue above max, usage drift.
  std::vector<std::string> CheckInvariants() const;

  const Snapshot& snapshot() const { return snapshot_; }
  const QueueTree& queues() const { return *tree_; }
  const GpuCatalog& catalog() const { return catalog_; }
  const EngineStats& stats() const { return stats_; }
  const ScoringPolicy& policy() const { return *policy_; }
  const EngineOptions& options() const { return options_; }
  // Installs (or, with nullptr, removes) the observer of each attempt; not owned.
  void set_attempt_observer(AttemptObserver* observer) { attempt_observer_ = observer; }

 private:
  using Tracked = TrackedPod;
  // Space freed by a preemption, held for its preemptor on one node (like
  // kube-scheduler's nominated node) until it binds, leaves, or expires_ms.
  struct Nomination {
    std::string pod_key;
    ResourceVec reserve;
    int64_t expires_ms = 0;
    uint64_t gang_workload = 0;  // a gang's nominations are its members' together, and end together
    uint64_t workload = 0;       // the preemptor's workload (Workload::nominations counts it)
  };
  using Nominations = absl::flat_hash_map<NodeId, Nomination>;
  struct Workload {
    uint64_t id = 0;
    std::string gang;            // "" for a single pod
    int min_members = 1;
    std::vector<std::string> members;  // pending pod keys
    std::vector<PodId> member_ids;     // their snapshot ids, index for index (live while pending)
    QueueId leaf = kNoQueue;
    int tier = 1;
    std::string reason;          // last explanation recorded
    PendingCode code = PendingCode::kQueued;  // beside `reason`
    int64_t submitted_ms = 0;    // creation time of its first pod
    std::string rejection;       // permanent: bad queue, impossible request
    uint64_t shape = 0;          // ShapeKey of a single pod, GangShape of a blocked complete gang; else 0
    uint64_t seq = 0;            // arrival order
    bool blocked = false;        // tried and set aside until capacity frees
    int nominations = 0;         // nodes held for it (nominations_ whose workload it is); beside `blocked`: no padding
    uint64_t reason_sig = 0;     // FailureTally signature behind `reason`
    NodeFailures nodes;          // beside `reason`: its node counts (Wait::nodes)
    bool never_fits = false;     // rejected as too large for any node or for its queue's max
    int64_t waiting_since_ms = -1;   // first failed attempt, or the last reservation's expiry
    int64_t first_failed_ms = -1;    // first failed attempt (preemption_delay_ms counts from it)
    int64_t wakeup_ms = -1;          // pending entry in wakeups_, if any
    NodeId reserved_node = kNoNode;
    bool app_limited = false;        // last attempt: held by max_running_apps (no shape group, no reservation)
    int64_t gang_preempt_after_ms = 0;  // a gang's next preemption search, at the earliest
    // Topology levels (indexes into config_.topology_levels) its pods name; -1 = none.
    int topology_required = -1;
    int topology_preferred = -1;
  };
  // Why a workload waits: a code and a message (PendingReason's).
  struct Wait {
    PendingCode code = PendingCode::kUnschedulable;
    std::string message;
    NodeFailures nodes;  // the failure tally's counts, when the message came from one
  };
  struct Choice {
    NodeId node = kNoNode;
    std::vector<int> devices;
    Charge charge;
  };

  Engine(QueueConfig config, EngineOptions options, std::unique_ptr<ScoringPolicy> policy);

  void InstallNodeListener();
  // Builds the topology index and keeps it current (the first pod with constraints).
  void EnableTopology();
  void ApplyPod(Pod pod);  // decodes its intent (DecodePodIntent) first
  void RemovePod(const std::string& key);
  void Uncharge(Tracked& tr);
  void NoteCharged(const Pod& pod, Tracked& tr);  // gang bookkeeping when tr becomes charged
  void NoteUncharged(Tracked& tr);
  void ChargeRunning(const std::string& key, Tracked& tr);
  void AdoptPodsOf(NodeId node);  // charges our pods bound to `node` that arrived before it
  bool DropNominationsOf(const std::string& pod_key);  // true if it held any (a gang member: the gang's)
  // Holds `node` for workload `w` (its pod `pod_key`; `gang_id` for a gang, else 0)
  // until nomination_ttl_ms from now, with nothing reserved yet; a nomination the
  // node had ends.
  void Nominate(NodeId node, Workload& w, const std::string& pod_key, uint64_t gang_id);
  // Ends the nomination at `it` (valid, erased); its workload, if still pending, holds one fewer.
  void EndNomination(Nominations::iterator it);
  // True if `w` holds a nomination on a node where a pod of ours being evicted
  // still runs: its victims are leaving, and it waits for them.
  bool AwaitingVictims(const Workload& w) const;
  // `new_arrival` false: a pod back from a failed bind (not a new application).
  void AddPending(const Pod& pod, Tracked& tr, bool new_arrival = true);
  // Why `w` may not start running now because of max_running_apps; nullopt if it may.
  std::optional<std::string> RunningAppLimit(const Workload& w) const;
  void RemovePending(const std::string& key, Tracked& tr);
  // Why `pod` may not join gang workload `w` ("" if it may): its queue or tier differs
  // from the gang's (a gang is charged to one queue), or it names no usable queue.
  std::string GangMismatch(const Workload& w, const Pod& pod) const;
  // Makes a waiting workload rejected with `why`: it leaves its queue's order and
  // pending counts, and gives up its nominations and reservation.
  void RejectWorkload(Workload& w, std::string why);
  void RefreshCapacity();

  // Nominations past their TTL and reservations past their hold end; due wakeups
  // fire; if capacity freed, blocked workloads are offered again.
  void ExpireHolds();
  // One attempt at `w` in a cycle: place, preempt, reserve, or explain why it waits.
  void Attempt(Workload& w, Decisions* out);
  void ObservedAttempt(Workload& w, Decisions* out);  // Attempt between the observer's calls
  void Placed(Workload& w);  // `w` was placed: its pods stop pending
  // Records why `w` waits; a changed message is told to each of its pods.
  void Explain(Workload& w, Wait why, Decisions* out);
  // Sets queue_position on out->pending[from...]: one walk of each leaf concerned.
  void SetQueuePositions(Decisions* out, size_t from);
  void ExplainRejections(Decisions* out);  // rejections not told yet, once each
  // Tries to place every pending member of `w`; all or nothing. On failure, *why
  // says why (kUnschedulable, kQueueAtMax, kReservedElsewhere, kWaitingForGang).
  bool TryPlace(Workload& w, Decisions* out, Wait* why);
  // Places every pending member of `w` by the policy, all or nothing (on the nodes
  // of domain_mask_ while domain_active_). `reuse_reason`: a failure whose tally
  // matches the last one keeps w.reason (cheap); false always builds the message.
  bool PlaceMembers(Workload& w, Decisions* out, Wait* why, bool reuse_reason);
  // Topology-aware gangs (placement/topology_gang.cc). Resolves the pod's
  // drover.io/topology-* annotations against the quota document's levels into `w`;
  // returns why the pod is rejected ("" if it is not).
  std::string ResolveTopology(const Pod& pod, Workload& w) const;
  // TryPlace for a workload that names a topology level: preferred levels narrowest
  // first, then the required level's smallest domain that fits (or anywhere).
  bool TryPlaceTopology(Workload& w, Decisions* out, Wait* why);
  // One level: its domains that could hold `w`, fewest free first, until one holds
  // it all. 1 = placed; 0 = no domain did (*why says why); -1 = refused whatever
  // the domain (queue at max: *why is that), so wider levels need not be tried.
  int PlaceInLevel(Workload& w, int level, Decisions* out, Wait* why);
  // Preemption for a gang that requires a topology level: victim sets inside one
  // domain only (the fewest victims among the first kMaxPreemptionDomains tried).
  std::optional<PreemptionPlan> SearchInOneDomain(const Workload& w, const PreemptionView& view,
                                                  const PreemptionRequest& req);
  // The node of a running (or assumed) member of gang `w`, or kNoNode.
  NodeId RunningMemberNode(const Workload& w) const;
  // Evicts the smallest set of victims that lets `w` run (Preemptor::Search), if
  // it is entitled (see placement/README.md); a gang only when complete, at most
  // once per gang_preemption_retry_ms. True if a plan was made: `w` is nominated
  // to its nodes, and evictions were made unless pods already being evicted
  // there suffice; *why says which.
  bool TryPreempt(Workload& w, Decisions* out, std::string* why);
  // A gang's search is due and the gang is complete (sets its next search time).
  bool GangMayPreempt(Workload& w);
  // Evicts `victims` (and their gangs' running siblings) for `w`; returns how many.
  size_t Evict(std::vector<std::string> victims, const Workload& w, const std::string& preemptor, GpuTypeId t,
               Decisions* out);
  // Cheap necessary conditions, checked before the full searches.
  bool MightFitWholeGpus(const Pod& pod) const;
  // Why the workload can never be placed (larger than every node of its GPU types,
  // or than its queue's max), or nullopt if it could be with enough free capacity.
  // `pod` is the workload's first pending member.
  std::optional<std::string> NeverFits(const Workload& w, const Pod& pod) const;
  bool MightPreempt(const Workload& w, const Pod& pod) const;
  // GPUs of `dim` held on nodes nominated for other pending preemptors of `leaf`.
  // (A gang's own nominations, `except_gang`, are not counted either.)
  int64_t NominatedGpu(QueueId leaf, int dim, const std::string& except, uint64_t except_gang = 0) const;
  ResourceVec Reserved(NodeId node, const std::string& for_pod) const;
  // Reservations (placement/reservation.cc; the node choice in placement/reservations.h).
  // True if `w` may reserve at this attempt (waited long enough, large enough, room left).
  bool MayReserve(const Workload& w) const;
  // A pod that will be allowed to reserve once it has waited reservation_after_ms
  // asks to be woken then (`head`: its pod).
  void WakeToReserve(Workload& w, const Pod& head);
  // Reserves the node that needs the least to drain for `w`; true if one was.
  bool TryReserve(Workload& w);
  // Ends the reservation of `node`, if any: its workload is explained afresh.
  void ReleaseReservation(NodeId node);
  // Ends reservations past their hold, of workloads gone, or on nodes that can no longer take the pod.
  void CheckReservations();
  std::string ReservationNote(const Workload& w) const;
  void DropNodeHolds(NodeId node);  // a node leaves: its nomination and reservation go
  uint64_t ShapeKey(const Pod& pod, const Workload& w) const;
  uint64_t GangShape(const Workload& w) const;
  void BlockWorkload(Workload& w);
  void UnblockWorkload(Workload& w);
  void UnblockAfterCapacityChange();
  // Notes the waiting pods a pod with `labels`, now counting, may help.
  void NoteWaitersHelpedBy(const Labels& labels);
  // Offers waiters_helped_ again, in arrival order.
  void UnblockWaiters();
  // True if `w` has waited preemption_delay_ms; else asks to be woken when it has.
  bool PreemptionDue(Workload& w);
  // Asks for `w` to be offered again at `at_ms` (kept: the earliest pending one).
  void WakeAt(Workload& w, int64_t at_ms);
  void FireWakeups();
  bool ChooseNode(const Pod& pod, QueueId leaf, int tier, Choice* choice, FailureTally* tally);
  bool ChooseOnType(const Pod& pod, GpuTypeId t, Choice* choice, FailureTally* tally);
  // Offers every node of type t with >= min_free whole GPUs free in the index's order,
  // tallying each failure (the explanation when no node fits).
  bool ExactPass(const Pod& pod, GpuTypeId t, int min_free, bool ascending, Choice* choice, FailureTally* tally);
  // Counts node `id` in `tally` under the first spec filter that rejects `pod`
  // (kube-scheduler's order), else under `otherwise`. True if it passed them.
  bool TallySpec(const Pod& pod, NodeId id, FilterFailure otherwise, FailureTally* tally) const;
  // TallySpec over every node of type `t` (kNoGpuType: the CPU nodes) with
  // `otherwise`. Returns how many passed. Served from spec_tallies_ when a pod
  // with the same tolerations, node selector and required affinity was tallied
  // since the last node change.
  int TallySpecOfType(const Pod& pod, GpuTypeId t, FailureTally* tally,
                      FilterFailure otherwise = FilterFailure::kGpuType) const;
  bool Consider(const Pod& pod, NodeId id, Choice* choice, FailureTally* tally, int* feasible, double* best);
  void Commit(const std::string& key, PodId pid, const Choice& c, Decisions* out);
  void Rollback(const std::string& key);

  // The spec-filter tally of one pod spec over one node group (a GPU type or the CPU nodes).
  struct SpecTally {
    std::vector<Toleration> tolerations;
    Labels node_selector;
    std::vector<NodeSelectorTerm> required_affinity;
    FilterFailure otherwise = FilterFailure::kGpuType;
    FailureTally tally;
    int passed = 0;
  };
  // By node group (GpuTypeId + 1; 0 = CPU nodes); a few pod specs each, until
  // snapshot_.node_spec_generation() moves. Explaining why a pod waits walks every
  // node of the types it cannot use; this makes that once per spec, not per attempt.
  mutable absl::flat_hash_map<int, std::vector<SpecTally>> spec_tallies_;
  mutable uint64_t spec_tallies_generation_ = ~uint64_t{0};

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
  std::vector<std::string> warnings_;  // see TakeWarnings
  bool index_dirty_ = true;
  NodeIndex index_;
  // Inter-pod affinity, anti-affinity and spread (placement/topology.h); built
  // lazily, so pods and clusters without them pay nothing.
  TopologyIndex topology_{&snapshot_};
  ConstraintCheck constraint_check_;  // the pod ChooseNode is placing
  // Topology-aware gangs: domains of the quota document's levels, and the nodes of
  // the domain being tried (by NodeId) while domain_active_ (Consider skips the rest).
  TopologyDomains domains_;
  std::vector<uint8_t> domain_mask_;
  bool domain_active_ = false;
  bool constraint_active_ = false;    // constraint_check_ applies to it
  bool preference_active_ = false;    // a preference reaches it (a tie-break, in Consider)
  int64_t best_preference_ = 0;       // of the node Consider chose so far
  // Workloads of waiting pods that a pod which started counting since the last
  // cycle may help (PodWaiters::ForMatching, in the snapshot's pod listener): offered
  // again at the next cycle (UnblockWaiters). Past kMaxWaitersKept, everything
  // blocked is offered again instead (bounded memory).
  static constexpr size_t kMaxWaitersKept = 4096;
  std::vector<uint64_t> waiters_helped_;
  bool waiters_overflow_ = false;
  PodWaiters waiting_on_pods_;  // pending pods with required affinity or spread
  std::vector<GpuTypeId> node_type_;  // last seen type per node slot (-2 = absent)
  Nominations nominations_;  // node -> preemptor it is held for
  drover::Reservations reservations_;  // nodes draining for pending workloads
  uint64_t placing_workload_ = 0;  // the workload TryPlace is placing (may use its reserved node)
  Preemptor preemptor_;  // victim search, preemption history, evictions under way
  int64_t next_prune_ms_ = 0;
  absl::flat_hash_map<uint64_t, Wait> failed_shapes_;  // this cycle: shape -> why
  // Blocked workloads by shape, in arrival order. When capacity frees, only the
  // first of each shape is offered again; each success offers the next. A cycle
  // costs O(shapes), not O(blocked workloads).
  absl::flat_hash_map<uint64_t, absl::btree_set<std::pair<uint64_t, uint64_t>>> blocked_by_shape_;
  std::vector<std::string> unexplained_members_;  // pods that joined a rejected gang
  std::vector<uint64_t> blocked_unshaped_;      // gangs: all offered again
  std::vector<uint64_t> unexplained_rejections_;
  std::vector<uint64_t> never_fits_;
  absl::flat_hash_map<std::string, int> gang_running_;  // gang -> members charged (running or assumed)
  AppCounter apps_;  // max_running_apps / max_pending_apps
  int64_t now_ms_ = 0;
  // (time, workload id), earliest first; stale entries (workload gone or woken
  // earlier) are dropped when they come due.
  std::priority_queue<std::pair<int64_t, uint64_t>, std::vector<std::pair<int64_t, uint64_t>>,
                      std::greater<>> wakeups_;
  std::vector<int> scratch_devices_;
  // RestoreTimers' waiting times not yet claimed by an arriving pod (cleared after the first cycle).
  absl::flat_hash_map<std::string, int64_t> restored_waiting_;
  absl::flat_hash_set<std::string> timers_changed_;  // TakeTimerChanges
  void NoteTimersChanged(const Workload& w);
  EngineStats stats_;
  AttemptObserver* attempt_observer_ = nullptr;
};

}  // namespace drover
