#include "server/daemon.h"

#include <chrono>

#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace drover {

void Daemon::LogDecisions(const Decisions& d) const {
  for (const Binding& b : d.binds) {
    spdlog::info("bind pod={} node={} gpus=[{}] queue={} tier={} waited={}s", b.pod_key, b.node,
                 absl::StrJoin(b.gpu_devices, ","), b.queue, b.tier, b.waited_ms / 1000);
  }
  for (const Eviction& e : d.evictions) {
    spdlog::info("evict pod={} preemptor={} reason=\"{}\"", e.pod_key, e.preemptor_key, e.reason);
  }
  for (const PendingReason& p : d.pending) {
    if (p.code == PendingCode::kRejected) {
      spdlog::info("reject pod={} reason=\"{}\"", p.pod_key, p.message);
    } else {
      spdlog::debug("pending pod={} code={} position={} reason=\"{}\"", p.pod_key, PendingCodeName(p.code),
                    p.queue_position, p.message);
    }
  }
}

StepResult Daemon::Step(bool act) {
  StepResult r;
  // Read before draining: a source marks itself synced only after pushing its
  // initial list, so what this drain takes then holds the whole initial state.
  // Read after, a list pushed between the two would be missed by this cycle,
  // which would place pods against a snapshot without the pods already bound.
  const bool synced = source_->Synced();
  events_.clear();
  r.events = source_->Drain(&events_);
  for (const ClusterEvent& e : events_) engine_->Apply(e);
  // Unknown GPU products, nodes over a per-node limit: said once each, never dropped silently.
  if (r.events > 0) {
    for (const std::string& w : engine_->TakeWarnings()) spdlog::warn("cluster: {}", w);
  }
  outcomes_.clear();
  actuator_->CollectOutcomes(&outcomes_);
  for (const BindOutcome& o : outcomes_) engine_->OnOutcome(o);
  eviction_outcomes_.clear();
  actuator_->CollectEvictionOutcomes(&eviction_outcomes_);
  for (const EvictionOutcome& o : eviction_outcomes_) engine_->OnEvictionOutcome(o);
  if (!act || !synced) {  // like kube-scheduler: nothing before the caches sync
    if (observer_ != nullptr) observer_->OnStep(*engine_, events_, Decisions{}, clock_->NowMillis());
    return r;
  }
  const int64_t now_ms = clock_->NowMillis();
  const auto start = std::chrono::steady_clock::now();
  Decisions d = engine_->RunCycle(now_ms);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.cycled = true;
  if (log_decisions_) LogDecisions(d);
  for (const Eviction& e : d.evictions) actuator_->Evict(e);
  for (const Binding& b : d.binds) actuator_->Bind(b);
  for (const PendingReason& p : d.pending) actuator_->RecordPending(p);
  for (const auto& observe : observers_) observe(CycleRecord{*engine_, d, now_ms, seconds});
  r.binds = d.binds.size();
  r.evictions = d.evictions.size();
  r.pending_updates = d.pending.size();
  if (check_invariants_) {
    for (std::string& v : engine_->CheckInvariants()) violations_.push_back(std::move(v));
  }
  if (observer_ != nullptr) observer_->OnStep(*engine_, events_, d, now_ms);
  return r;
}

}  // namespace drover
