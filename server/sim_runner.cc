#include "server/sim_runner.h"

#include <chrono>

#include "server/daemon.h"

namespace drover {

SimRunResult RunSimulation(Engine* engine, SimCluster* sim, const SimRunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  Daemon daemon(engine, sim, sim, sim);
  daemon.set_check_invariants(options.check_invariants_every_step);
  while (true) {
    // Settle: a bind produces events (the pod now bound) that the next step reads.
    StepResult r;
    do {
      r = daemon.Step();
    } while (r.events > 0 || r.binds > 0);
    if (sim->Done()) break;
    if (!sim->Advance(options.until_ms, engine->NextWakeupMs())) break;
  }
  daemon.Step();
  sim->Finish();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  SimRunResult result;
  result.report = BuildReport(*sim, *engine, wall);
  result.step_violations = daemon.violations();
  for (const std::string& v : daemon.violations()) result.report.violations.push_back(v);
  return result;
}

}  // namespace drover
