// The boundary between the scheduling core and the world. The simulator (sim/)
// and the Kubernetes adapter (k8s/) implement these; the core never does I/O,
// never reads a clock of its own and owns no threads.
//
//   events  : ClusterSource --(node/pod add, update, delete)--> Snapshot/queues
//   decide  : the engine returns Decisions (values: what to do and why)
//   act     : Actuator binds, evicts, records why a pod is pending
//   outcome : the actuator reports bind results back as BindOutcome values
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model.h"

namespace drover {

struct ClusterEvent {
  enum class Kind { kNodeUpsert, kNodeDelete, kPodUpsert, kPodDelete };
  Kind kind = Kind::kPodUpsert;
  Node node;         // kNodeUpsert; kNodeDelete uses node.name
  Pod pod;           // kPodUpsert; kPodDelete uses pod.namespace_ / pod.name
};

// A source of node/pod events. Poll-based so the caller owns the loop.
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
};

struct Eviction {
  std::string pod_key;
  std::string pod_uid;
  std::string reason;        // for the event: "preempted by ns/p to reclaim A100 for queue q"
  std::string preemptor_key;
};

struct PendingReason {
  std::string pod_key;
  std::string message;       // "0/120 nodes are available: ..."
  std::string nominated_node;  // set when victims are being evicted for it
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
