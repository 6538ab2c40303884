// Runs the daemon loop on the embedded simulated cluster until the workload has
// completed (or a virtual deadline), and builds the report.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "placement/engine.h"
#include "server/loop.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace drover {

struct SimRunOptions {
  int64_t until_ms = -1;          // stop at this virtual time (-1 = when done)
  bool check_invariants_every_step = false;
  // Called on the loop thread before each step with the virtual time; may
  // change the engine (a quota document due now). Returns the next virtual time
  // it wants to act at, or -1. Unset: nothing.
  std::function<int64_t(Engine*, int64_t now_ms)> on_time;
  // Where commands come from and the status goes (unset: private ones; the
  // status is then published once, at the end).
  Mailbox* mailbox = nullptr;
  StatusBoard* board = nullptr;
  std::function<StatusInputs()> inputs;
  StepObserver* observer = nullptr;  // told of every step (the store recorder)
  // Real-time pacing (droverd --serve-speed): the virtual clock advances at most
  // `speed` virtual seconds per wall second, and between due events the loop
  // keeps iterating every `tick` (mailbox commands, publishing). 0 = as fast as
  // possible (the events' times only).
  double speed = 0;
  std::chrono::milliseconds tick{20};
  // Set: the run ends early once it turns true (checked between steps).
  const std::atomic<bool>* stop = nullptr;
};

struct SimRunResult {
  RunReport report;
  std::vector<std::string> step_violations;
};

// Runs to the end of the workload, options.until_ms or options.stop, whichever
// comes first; paced by options.speed when it is positive.
SimRunResult RunSimulation(Engine* engine, SimCluster* sim, const SimRunOptions& options);

}  // namespace drover
