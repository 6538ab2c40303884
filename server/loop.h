// The loop thread's iteration: commands from the mailbox, a daemon step
// (events in, a cycle, decisions out), then the published status when due.
// The engine is touched only here.
//
//   SchedulingLoop loop(&engine, &source, &actuator, &clock, &mailbox, &board, inputs_fn);
//   while (running) { wait for events or commands; loop.Iterate(leader); }
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "server/daemon.h"
#include "server/mailbox.h"
#include "server/status.h"

namespace drover {

struct LoopOptions {
  // Publish at most this often (wall time); 0 = after every iteration that
  // changed something. A status older than `max_age` is republished even if
  // nothing changed, so readers see the clock and leadership move.
  std::chrono::milliseconds publish_min_interval{50};
  std::chrono::milliseconds publish_max_age{1000};
  bool publish = true;  // false: only explicit Publish() calls publish
  // The pending and running lists (the costly part: O(pending + running pods))
  // are rebuilt at most this often; publishes in between share the last ones.
  // 0 = with every publish.
  std::chrono::milliseconds pending_refresh{1000};
  // Share of the loop's wall time that publishing may take: each part (the
  // status, the pending list) waits at least its last build time / budget
  // before it is built again. On a large cluster the status is then a little
  // staler (its nowMs and pendingAsOfMs say how much) instead of the cycle slower.
  double publish_budget = 0.02;
  bool check_invariants = false;
  bool log_decisions = false;  // Daemon::set_log_decisions
  StepObserver* observer = nullptr;  // Daemon::set_observer (not owned)
};

// When a part of the status that took `last_seconds` to build, `since` ago, may
// be built again: after `min_interval` and after last_seconds / budget.
inline bool PaceAllows(std::chrono::steady_clock::duration since, std::chrono::milliseconds min_interval,
                       double last_seconds, double budget) {
  const double wait = std::max(std::chrono::duration<double>(min_interval).count(),
                               budget > 0 ? last_seconds / budget : 0.0);
  return std::chrono::duration<double>(since).count() >= wait;
}

class SchedulingLoop {
 public:
  // `inputs` supplies what the engine does not know (sync, leadership, config);
  // called on the loop thread when publishing.
  SchedulingLoop(Engine* engine, ClusterSource* source, Actuator* actuator, const Clock* clock, Mailbox* mailbox,
                 StatusBoard* board, std::function<StatusInputs()> inputs, LoopOptions options = {});

  // Runs queued commands, then one daemon step (acting only when `act`), then
  // publishes if due. Returns the step's counts.
  StepResult Iterate(bool act);
  // Builds and publishes the status now; `fresh_pending` rebuilds the pending
  // and running lists whatever their age.
  void Publish(bool fresh_pending = false);
  const std::vector<std::string>& violations() const { return daemon_.violations(); }
  // See Daemon::AddObserver. Before the loop runs.
  void AddObserver(std::function<void(const Daemon::CycleRecord&)> observer) { daemon_.AddObserver(std::move(observer)); }

 private:
  using SteadyClock = std::chrono::steady_clock;
  void RecordCycle(double seconds);
  CycleStatus CycleFigures() const;

  Engine* engine_;
  Mailbox* mailbox_;
  StatusBoard* board_;
  const Clock* clock_;
  std::function<StatusInputs()> inputs_;
  LoopOptions options_;
  Daemon daemon_;
  bool changed_since_publish_ = true;
  SteadyClock::time_point last_publish_{};
  double last_publish_seconds_ = 0;
  std::shared_ptr<const PendingSection> pending_;
  std::shared_ptr<const RunningSection> running_;  // built with pending_
  SteadyClock::time_point pending_built_{};
  double pending_seconds_ = 0;  // the last pending and running lists' build time
  std::vector<double> recent_cycles_;  // ring of the last kRecent step durations
  size_t next_slot_ = 0;
  int64_t cycles_ = 0;
  double last_cycle_seconds_ = 0;
};

}  // namespace drover
