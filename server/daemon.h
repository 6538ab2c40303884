// The daemon's scheduling loop, the same for the simulator and a real cluster:
// drain events from the ClusterSource into the engine, feed bind outcomes back,
// run a cycle, and hand the decisions to the Actuator.
//
//   Daemon d(&engine, &source, &actuator, &clock);
//   while (running) { d.Step(); wait for events; }
//
// Invariants are checked after every step when `check_invariants` is set (tests
// and the simulator); a violation is counted and kept, never silently dropped.
#pragma once

#include <string>
#include <functional>
#include <vector>

#include "core/cluster.h"
#include "placement/engine.h"

namespace drover {

struct StepResult {
  size_t events = 0;
  size_t binds = 0;
  size_t evictions = 0;
  size_t pending_updates = 0;
  bool cycled = false;  // a scheduling cycle ran (leader, synced)
};

// Sees each step's input and output on the loop thread, after the actuator has
// been handed the decisions (server/store_recorder.h records them). It may call
// the engine's Take* methods; it must not change what the engine schedules.
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  // `events`: what the step took in; `decisions`: its cycle's (empty when no
  // cycle ran); `now_ms`: the loop clock.
  virtual void OnStep(Engine& engine, const std::vector<ClusterEvent>& events, const Decisions& decisions,
                      int64_t now_ms) = 0;
};

class Daemon {
 public:
  Daemon(Engine* engine, ClusterSource* source, Actuator* actuator, const Clock* clock)
      : engine_(engine), source_(source), actuator_(actuator), clock_(clock) {}

  // Drains events and outcomes into the engine; when `act` is set and the source
  // has synced, runs a cycle and hands its decisions to the actuator. A standby
  // (not the leader) calls Step(false) to keep its snapshot warm.
  StepResult Step(bool act = true);
  void set_check_invariants(bool on) { check_invariants_ = on; }
  // Logs every bind, eviction and rejection at info, other pending changes at
  // debug (droverd in a cluster; the simulator reports instead).
  void set_log_decisions(bool on) { log_decisions_ = on; }
  // Told of every step (null: none). Not owned.
  void set_observer(StepObserver* observer) { observer_ = observer; }
  const std::vector<std::string>& violations() const { return violations_; }
  // One scheduling cycle as observers see it (on the loop thread, after the
  // decisions went to the actuator).
  struct CycleRecord {
    const Engine& engine;  // after the cycle: evicted pods are still in its snapshot
    const Decisions& decisions;
    int64_t now_ms;
    double seconds;  // wall time of RunCycle
  };
  // Called after every cycle, in the order added. Observers must be quick: they run on the loop thread.
  void AddObserver(std::function<void(const CycleRecord&)> observer) { observers_.push_back(std::move(observer)); }

 private:
  Engine* engine_;
  ClusterSource* source_;
  Actuator* actuator_;
  const Clock* clock_;
  void LogDecisions(const Decisions& d) const;

  StepObserver* observer_ = nullptr;
  bool check_invariants_ = false;
  bool log_decisions_ = false;
  std::vector<ClusterEvent> events_;
  std::vector<BindOutcome> outcomes_;
  std::vector<EvictionOutcome> eviction_outcomes_;
  std::vector<std::string> violations_;
  std::vector<std::function<void(const CycleRecord&)>> observers_;
};

}  // namespace drover
