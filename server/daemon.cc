#include "server/daemon.h"

namespace drover {

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
  outcomes_.clear();
  actuator_->CollectOutcomes(&outcomes_);
  for (const BindOutcome& o : outcomes_) engine_->OnOutcome(o);
  eviction_outcomes_.clear();
  actuator_->CollectEvictionOutcomes(&eviction_outcomes_);
  for (const EvictionOutcome& o : eviction_outcomes_) engine_->OnEvictionOutcome(o);
  if (!act || !synced) return r;  // like kube-scheduler: nothing before the caches sync
  Decisions d = engine_->RunCycle(clock_->NowMillis());
  r.cycled = true;
  for (const Eviction& e : d.evictions) actuator_->Evict(e);
  for (const Binding& b : d.binds) actuator_->Bind(b);
  for (const PendingReason& p : d.pending) actuator_->RecordPending(p);
  r.binds = d.binds.size();
  r.evictions = d.evictions.size();
  r.pending_updates = d.pending.size();
  if (check_invariants_) {
    for (std::string& v : engine_->CheckInvariants()) violations_.push_back(std::move(v));
  }
  return r;
}

}  // namespace drover
