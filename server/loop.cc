#include "server/loop.h"

#include <algorithm>

namespace drover {
namespace {

constexpr size_t kRecent = 1024;

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

SchedulingLoop::SchedulingLoop(Engine* engine, ClusterSource* source, Actuator* actuator, const Clock* clock,
                               Mailbox* mailbox, StatusBoard* board, std::function<StatusInputs()> inputs,
                               LoopOptions options)
    : engine_(engine),
      mailbox_(mailbox),
      board_(board),
      clock_(clock),
      inputs_(std::move(inputs)),
      options_(options),
      daemon_(engine, source, actuator, clock) {
  daemon_.set_check_invariants(options.check_invariants);
  daemon_.set_log_decisions(options.log_decisions);
  daemon_.set_observer(options.observer);
  recent_cycles_.reserve(kRecent);
}

StepResult SchedulingLoop::Iterate(bool act) {
  const size_t commands = mailbox_->RunPending(*engine_);
  const auto start = SteadyClock::now();
  const StepResult r = daemon_.Step(act);
  const auto end = SteadyClock::now();
  if (r.cycled) RecordCycle(std::chrono::duration<double>(end - start).count());
  if (commands > 0 || r.events > 0 || r.binds > 0 || r.evictions > 0 || r.pending_updates > 0) {
    changed_since_publish_ = true;
  }
  const auto since = end - last_publish_;
  const bool due = changed_since_publish_ ? PaceAllows(since, options_.publish_min_interval, last_publish_seconds_,
                                                       options_.publish_budget)
                                          : since >= options_.publish_max_age;
  if (due && options_.publish) Publish();
  return r;
}

void SchedulingLoop::RecordCycle(double seconds) {
  ++cycles_;
  last_cycle_seconds_ = seconds;
  if (recent_cycles_.size() < kRecent) {
    recent_cycles_.push_back(seconds);
  } else {
    recent_cycles_[next_slot_] = seconds;
    next_slot_ = (next_slot_ + 1) % kRecent;
  }
}

CycleStatus SchedulingLoop::CycleFigures() const {
  CycleStatus c;
  c.cycles = cycles_;
  c.last_seconds = last_cycle_seconds_;
  c.p50_seconds = Percentile(recent_cycles_, 0.50);
  c.p99_seconds = Percentile(recent_cycles_, 0.99);
  c.publish_seconds = last_publish_seconds_;
  return c;
}

void SchedulingLoop::Publish(bool fresh_pending) {
  const int64_t now_ms = clock_->NowMillis();
  const auto t0 = SteadyClock::now();
  if (fresh_pending || !pending_ ||
      PaceAllows(t0 - pending_built_, options_.pending_refresh, pending_seconds_, options_.publish_budget)) {
    pending_ = BuildPendingSection(*engine_, now_ms);
    running_ = BuildRunningSection(*engine_, now_ms);
    pending_built_ = SteadyClock::now();
    pending_seconds_ = std::chrono::duration<double>(pending_built_ - t0).count();
  }
  const auto t1 = SteadyClock::now();
  StatusInputs in = inputs_ ? inputs_() : StatusInputs{};
  in.cycle = CycleFigures();
  board_->Publish(BuildStatus(*engine_, now_ms, in, pending_, running_));
  last_publish_ = SteadyClock::now();
  last_publish_seconds_ = std::chrono::duration<double>(last_publish_ - t1).count();
  changed_since_publish_ = false;
}

}  // namespace drover
