// Runs the daemon loop on the embedded simulated cluster until the workload has
// completed (or a virtual deadline), and builds the report.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "placement/engine.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace drover {

struct SimRunOptions {
  int64_t until_ms = -1;          // stop at this virtual time (-1 = when done)
  bool check_invariants_every_step = false;
};

struct SimRunResult {
  RunReport report;
  std::vector<std::string> step_violations;
};

SimRunResult RunSimulation(Engine* engine, SimCluster* sim, const SimRunOptions& options);

}  // namespace drover
