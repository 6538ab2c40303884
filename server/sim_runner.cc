#include "server/sim_runner.h"

#include <chrono>
#include <thread>

namespace drover {
namespace {

int64_t EarliestOf(int64_t a, int64_t b) {
  if (a < 0) return b;
  if (b < 0) return a;
  return std::min(a, b);
}

// Where the virtual clock may go now: options.until_ms, or with pacing the
// virtual time `speed` x the wall time since `wall_start` after `virtual_start`
// (not past until_ms).
int64_t PacedUntil(const SimRunOptions& options, std::chrono::steady_clock::time_point wall_start,
                   int64_t virtual_start) {
  if (options.speed <= 0) return options.until_ms;
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const int64_t paced = virtual_start + static_cast<int64_t>(wall_s * options.speed * 1000.0);
  return options.until_ms >= 0 ? std::min(paced, options.until_ms) : paced;
}

}  // namespace

SimRunResult RunSimulation(Engine* engine, SimCluster* sim, const SimRunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t virtual_start = sim->NowMillis();
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
    if (sim->Done() || (options.stop != nullptr && options.stop->load())) break;
    const int64_t wake = EarliestOf(engine->NextWakeupMs(), wanted);
    if (sim->Advance(PacedUntil(options, start, virtual_start), wake)) continue;
    // Nothing due yet. Unpaced, that is the end; paced, wall time brings the next
    // event (or the deadline) closer while the loop keeps iterating.
    const bool deadline = options.until_ms >= 0 && sim->NowMillis() >= options.until_ms;
    if (options.speed <= 0 || deadline || (!sim->HasTimedEvents() && wake < 0)) break;
    std::this_thread::sleep_for(options.tick);
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
