// Runs the daemon loop on the embedded simulated cluster until the workload has
// completed (or a virtual deadline), and builds the report.
#pragma once

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
};

struct SimRunResult {
  RunReport report;
  std::vector<std::string> step_violations;
};

SimRunResult RunSimulation(Engine* engine, SimCluster* sim, const SimRunOptions& options);

}  // namespace drover
