// KubeActuator: drover::Actuator over the Kubernetes API.
//
//   KubeActuator act(http.get(), &clock, ActuatorOptions{});
//   act.Bind({"team-a/train-0", uid, "gpu-node-7", {0, 1}});
//   ...
//   std::vector<BindOutcome> done;
//   act.CollectOutcomes(&done);           // kBound / kConflict / kGone / kFailed
//
// Binds: a pool of workers (16 by default) POST pods/binding, the Binding carrying
// metadata.annotations["drover.io/gpu-devices"] = "0,1" when devices are set (the
// API server copies a Binding's annotations onto the pod) and the pod's UID as a
// precondition. 201 -> kBound, 409 -> kConflict, 404 -> kGone, anything else once
// the HTTP client's retries are spent -> kFailed. A 409 after a retried attempt is
// checked with a GET: if the pod is on the target node our earlier try landed and
// the outcome is kBound. A bound pod gets a Normal "Scheduled" event.
//
// Pending pods: PATCH pods/status (strategic merge) with condition PodScheduled=
// False reason Unschedulable and the message, and status.nominatedNodeName, only
// when the message or nomination changed for that pod, and at most `status_qps`
// per second over all pods. A Warning "FailedScheduling" event goes with a new
// message, at most once per pod per `failed_scheduling_interval`; an identical
// repeat is aggregated by the EventRecorder (count++). Events have their own rate
// limit (`event_qps`), and at most `max_queued_events` wait; more are dropped, not
// queued without bound.
//
// Evictions: POST pods/eviction (policy/v1 Eviction, UID precondition), never
// retried on 429: a PodDisruptionBudget refusal comes back as an EvictionOutcome
// kBlocked so the engine can pick other victims. The victim gets a Normal
// "Preempted" event.
//
// Worker pools, so that no kind of work waits behind another: binds and
// evictions; PodScheduled patches (status_qps); events (event_qps, like
// kube-scheduler's separate event client), Warning and Normal ones on a worker
// each. A burst of Scheduled events after many binds delays neither the
// conditions nor the FailedScheduling events of pending pods.
//
// Fencing: `may_act` (the leader check) is asked before each bind or eviction is
// sent; a replica that lost its Lease drops what is still queued (kFailed) instead
// of acting on a cluster another replica now schedules. Stop() drops queued work
// and waits only for requests in flight.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "core/cluster.h"
#include "core/sync.h"
#include "k8s/event_recorder.h"
#include "k8s/http_client.h"
#include "k8s/rate_limiter.h"
#include "k8s/work_queue.h"

namespace drover::k8s {

using drover::EvictionOutcome;

struct ActuatorOptions {
  int bind_workers = 16;
  int status_workers = 2;
  double status_qps = 10;  // PodScheduled patches, over all pods
  int status_burst = 20;
  double event_qps = 10;   // events, over all pods, on their own worker
  int event_burst = 25;
  // Asked before each bind or eviction is sent; false drops it as kFailed.
  // Unset: always act.
  std::function<bool()> may_act;
  int64_t failed_scheduling_interval_ms = 30'000;  // per pod
  bool record_events = true;
  int max_queued_events = 4096;  // beyond this, events are dropped (like client-go's full broadcaster)
  EventOptions events;
};

class KubeActuator : public Actuator {
 public:
  KubeActuator(HttpClient* http, const Clock* clock, ActuatorOptions opts = {});
  ~KubeActuator() override;

  void Bind(const Binding& b) override;
  void Evict(const Eviction& e) override;
  void RecordPending(const PendingReason& p) override;
  void CollectOutcomes(std::vector<BindOutcome>* out) override;
  void CollectEvictionOutcomes(std::vector<EvictionOutcome>* out) override;

  int64_t dropped_events() const { return dropped_events_.load(); }

  // Blocks until every submitted bind, eviction, patch and event is done.
  void WaitIdle();
  // Drops queued work, waits for requests in flight and stops the workers.
  // Idempotent.
  void Stop();

 private:
  // What we want the pod's PodScheduled condition to say, and what it says.
  struct PendingState {
    std::string message;
    std::string nominated;
    std::string sent_message;
    std::string sent_nominated;
    bool queued = false;
    bool bound = false;
    std::string event_message;  // last FailedScheduling message written
    int64_t event_ms = 0;
    int64_t touched_ms = 0;
  };

  void DoBind(const Binding& b);
  void DoEvict(const Eviction& e);
  void DoPatchStatus(const std::string& key);
  BindOutcome::Result ResolveConflict(const Binding& b, std::string* message);
  void RecordEvent(const std::string& key, const std::string& uid, std::string_view type, std::string_view reason,
                   std::string_view action, std::string_view message);
  void SweepPendingLocked(int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  HttpClient* const http_;
  const Clock* const clock_;
  const ActuatorOptions opts_;
  EventRecorder events_;
  RateLimiter status_limiter_;
  RateLimiter event_limiter_;
  Notification stopping_;

  Mutex mu_;
  std::vector<BindOutcome> bind_outcomes_ ABSL_GUARDED_BY(mu_);
  std::vector<EvictionOutcome> eviction_outcomes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, PendingState> pending_ ABSL_GUARDED_BY(mu_);
  int64_t last_sweep_ms_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int> queued_events_{0};
  std::atomic<int64_t> dropped_events_{0};

  // Declared last: destroyed (joined) first, while the state above still exists.
  std::unique_ptr<WorkerPool> normal_event_pool_;
  std::unique_ptr<WorkerPool> warning_event_pool_;
  std::unique_ptr<WorkerPool> status_pool_;
  std::unique_ptr<WorkerPool> bind_pool_;
};

}  // namespace drover::k8s
