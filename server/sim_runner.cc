#include "server/sim_runner.h"

#include <chrono>

namespace drover {
namespace {

int64_t EarliestOf(int64_t a, int64_t b) {
  if (a < 0) return b;
  if (b < 0) return a;
  return std::min(a, b);
}

}  // namespace

SimRunResult RunSimulation(Engine* engine, SimCluster* sim, const SimRunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  Mailbox own_mailbox;
  StatusBoard own_board;
  LoopOptions lo;
  lo.check_invariants = options.check_invariants_every_step;
  lo.publish = options.board != nullptr;
  lo.observer = options.observer;
  SchedulingLoop loop(engine, sim, sim, sim, options.mailbox ? options.mailbox : &own_mailbox,
                      options.board ? options.board : &own_board, options.inputs, lo);
  while (true) {
    const int64_t wanted = options.on_time ? options.on_time(engine, sim->NowMillis()) : -1;
    // Settle: a bind produces events (the pod now bound) that the next step reads.
    StepResult r;
    do {
      r = loop.Iterate(/*act=*/true);
    } while (r.events > 0 || r.binds > 0);
    if (sim->Done()) break;
    if (!sim->Advance(options.until_ms, EarliestOf(engine->NextWakeupMs(), wanted))) break;
  }
  loop.Iterate(/*act=*/true);
  sim->Finish();
  loop.Publish(/*fresh_pending=*/true);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  SimRunResult result;
  result.report = BuildReport(*sim, *engine, wall);
  result.step_violations = loop.violations();
  for (const std::string& v : loop.violations()) result.report.violations.push_back(v);
  return result;
}

}  // namespace drover
