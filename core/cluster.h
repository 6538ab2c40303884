// The boundary between the scheduling core and the world. The simulator (sim/)
// and the Kubernetes adapter (k8s/) implement these; the core never does I/O,
// never reads a clock of its own and owns no threads.
//
//   events  : ClusterSource --(node/pod/namespace add, update, delete)--> Snapshot/queues
//   decide  : the engine returns Decisions (values: what to do and why)
//   act     : Actuator binds, evicts, records why a pod is pending
//   outcome : the actuator reports bind results back as BindOutcome values
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace drover {

struct ClusterEvent {
  enum class Kind { kNodeUpsert, kNodeDelete, kPodUpsert, kPodDelete, kNamespaceUpsert, kNamespaceDelete };
  Kind kind = Kind::kPodUpsert;
  Node node;         // kNodeUpsert; kNodeDelete uses node.name
  Pod pod;           // kPodUpsert; kPodDelete uses pod.namespace_ / pod.name
  Namespace ns;      // kNamespaceUpsert (its labels); kNamespaceDelete uses ns.name
};

// A source of node, pod and namespace events. Poll-based so the caller owns the loop.
class ClusterSource {
 public:
  virtual ~ClusterSource() = default;
  // True once the initial state has been queued (informers synced): a Drain that
  // starts after Synced() returned true takes all of it.
  virtual bool Synced() const = 0;
  // Moves pending events into `out` (appends). Returns how many.
  virtual size_t Drain(std::vector<ClusterEvent>* out) = 0;
};

struct Binding {
  std::string pod_key;  // "namespace/name"
  std::string pod_uid;
  std::string node;
  std::vector<int> gpu_devices;  // for the device plugin (annotation drover.io/gpu-devices)
  // For metrics and logs: the leaf queue charged, the tier, and how long the pod
  // waited (decision time minus its creation time).
  std::string queue;
  int tier = 1;
  int64_t waited_ms = 0;
};

struct Eviction {
  std::string pod_key;
  std::string pod_uid;
  std::string reason;        // for the event: "preempted by ns/p to reclaim A100 for queue q"
  std::string preemptor_key;
};

// Why a workload waits, for programs; the message beside it is for people. The
// engine's paths, in the order a cycle meets them (placement/README.md).
enum class PendingCode {
  kQueued,                // not tried yet: waiting for its turn in the queues' order
  kRejected,              // not placed as it is: no such queue, a malformed annotation, larger than any node
                          // or its queue's max, beyond max_pending_pods / max_pending_apps
  kApplicationLimit,      // held by max_running_apps until a running application of its queue ends
  kWaitingForGang,        // a gang with fewer pods than its gang-min-members so far
  kQueueAtMax,            // its queue or an ancestor would pass its max on every GPU type it may use
  kUnschedulable,         // no node has room ("0/N nodes are available: ...")
  kReservedElsewhere,     // room only on nodes held for other workloads (reservations, preemptors' nominations)
  kWaitingForPreemption,  // victims are being evicted for it; nominated_node says where
  kWaitingForDrain,       // holds a reservation: waits for its node to drain
};

// "Queued", "Rejected", ... (UpperCamelCase, like Kubernetes condition reasons).
constexpr std::string_view PendingCodeName(PendingCode c) {
  switch (c) {
    case PendingCode::kQueued: return "Queued";
    case PendingCode::kRejected: return "Rejected";
    case PendingCode::kApplicationLimit: return "ApplicationLimit";
    case PendingCode::kWaitingForGang: return "WaitingForGang";
    case PendingCode::kQueueAtMax: return "QueueAtMax";
    case PendingCode::kUnschedulable: return "Unschedulable";
    case PendingCode::kReservedElsewhere: return "ReservedElsewhere";
    case PendingCode::kWaitingForPreemption: return "WaitingForPreemption";
    case PendingCode::kWaitingForDrain: return "WaitingForDrain";
  }
  return "";
}

struct PendingReason {
  std::string pod_key;
  std::string message;       // "0/120 nodes are available: ..."
  std::string nominated_node;  // set when victims are being evicted for it
  PendingCode code = PendingCode::kUnschedulable;
  // 1-based position of its workload in its leaf queue's order when the reason was
  // given (every pending workload of the leaf counts, tried or not); 0 = in no
  // queue's order (rejected).
  int64_t queue_position = 0;
};

// What the engine decided in one cycle.
struct Decisions {
  std::vector<Binding> binds;
  std::vector<Eviction> evictions;
  std::vector<PendingReason> pending;  // only pods whose reason changed
  bool empty() const { return binds.empty() && evictions.empty() && pending.empty(); }
};

// Result of a bind, reported back to the engine by whoever drives the actuator.
struct BindOutcome {
  std::string pod_key;
  enum class Result { kBound, kConflict, kGone, kFailed } result = Result::kBound;
  std::string message;
};

// Result of an eviction, reported back like a bind outcome.
struct EvictionOutcome {
  std::string pod_key;
  std::string preemptor_key;
  enum class Result {
    kEvicted,  // accepted
    kBlocked,  // refused by a PodDisruptionBudget (HTTP 429): pick other victims
    kGone,     // the pod no longer exists
    kFailed,   // anything else, after retries
  } result = Result::kEvicted;
  std::string message;
};

// Carries decisions out. Bind and Evict may complete asynchronously; their
// outcomes come back through CollectOutcomes.
class Actuator {
 public:
  virtual ~Actuator() = default;
  virtual void Bind(const Binding& b) = 0;
  virtual void Evict(const Eviction& e) = 0;
  virtual void RecordPending(const PendingReason& p) = 0;
  // Appends outcomes of binds that finished since the last call.
  virtual void CollectOutcomes(std::vector<BindOutcome>* out) = 0;
  // Appends outcomes of evictions that finished since the last call.
  virtual void CollectEvictionOutcomes(std::vector<EvictionOutcome>* out) = 0;
};

// Time, in milliseconds. Virtual in the simulator, wall-clock in the daemon.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMillis() const = 0;
};

}  // namespace drover
