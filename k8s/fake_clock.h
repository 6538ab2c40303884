// A SteadyClock that moves only when a test says so, for the adapter's timers
// (k8s/clock.h). Threads sleeping on it wake when Advance moves time past their
// deadline, or when their cancel notification fires.
//
//   FakeClock clock;
//   LeaderElector elector(http, {.identity = "a", .clock = &clock});
//   elector.Start();
//   REQUIRE(clock.WaitForSleepers(1));   // the elector is waiting for its retry period
//   clock.Advance(absl::Seconds(2));     // ... which has now passed
//
// Thread-safe. Header-only so that tests of any module can use it.
#pragma once

#include <set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "core/sync.h"
#include "k8s/clock.h"

namespace drover::k8s {

class FakeClock : public SteadyClock {
 public:
  explicit FakeClock(absl::Time start = absl::UnixEpoch() + absl::Hours(1000)) : now_(start) {}

  absl::Time Now() const override {
    MutexLock lock(&mu_);
    return now_;
  }

  bool SleepFor(absl::Duration d, const Notification* cancel) override {
    MutexLock lock(&mu_);
    const absl::Time deadline = now_ + d;
    sleeps_.push_back(d);
    const auto entry = deadlines_.insert(deadline);
    changed_.SignalAll();
    // The cancel notification cannot wake a CondVar: poll it every few real ms.
    while (now_ < deadline && (cancel == nullptr || !cancel->HasBeenNotified())) {
      changed_.WaitWithTimeout(&mu_, absl::Milliseconds(2));
    }
    deadlines_.erase(entry);
    changed_.SignalAll();
    return now_ >= deadline;
  }

  // Moves time forward by `d` and wakes the sleepers whose deadline it passes.
  void Advance(absl::Duration d) {
    MutexLock lock(&mu_);
    now_ += d;
    changed_.SignalAll();
  }

  // Waits (in real time, up to `timeout`) until at least `n` threads sleep on this
  // clock: a background loop has done its work and is waiting for time to pass.
  bool WaitForSleepers(int n, absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time give_up = absl::Now() + timeout;
    MutexLock lock(&mu_);
    while (static_cast<int>(deadlines_.size()) < n) {
      if (absl::Now() >= give_up) return false;
      changed_.WaitWithTimeout(&mu_, absl::Milliseconds(5));
    }
    return true;
  }
  // Waits (in real time, up to `timeout`) until SleepFor has been called at least
  // `calls` times in all.
  bool WaitForSleepCalls(size_t calls, absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time give_up = absl::Now() + timeout;
    MutexLock lock(&mu_);
    while (sleeps_.size() < calls) {
      if (absl::Now() >= give_up) return false;
      changed_.WaitWithTimeout(&mu_, absl::Milliseconds(5));
    }
    return true;
  }
  // Waits until `sleepers` threads sleep (their loops are idle), advances by `d`,
  // then waits until every sleeper whose deadline that passed has slept again:
  // the loops it woke have finished their step. False on a real-time timeout (a
  // woken thread that ends instead of sleeping again also causes one).
  bool Step(absl::Duration d, int sleepers = 1, absl::Duration timeout = absl::Seconds(20)) {
    if (!WaitForSleepers(sleepers, timeout)) return false;
    size_t expect = 0;
    {
      MutexLock lock(&mu_);
      now_ += d;
      for (absl::Time t : deadlines_) expect += t <= now_ ? 1 : 0;
      expect += sleeps_.size();
      changed_.SignalAll();
    }
    return WaitForSleepCalls(expect, timeout);
  }

  int sleepers() const {
    MutexLock lock(&mu_);
    return static_cast<int>(deadlines_.size());
  }
  // Every duration passed to SleepFor, in order.
  std::vector<absl::Duration> sleeps() const {
    MutexLock lock(&mu_);
    return sleeps_;
  }

 private:
  mutable Mutex mu_;
  CondVar changed_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  std::multiset<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);  // one per sleeping thread
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace drover::k8s
