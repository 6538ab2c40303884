// core/sync.h. In server_tests (not core_tests) because CI runs server_tests
// under ThreadSanitizer, which is what these primitives exist for.
#include "core/sync.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <deque>
#include <thread>
#include <vector>

#include "absl/time/clock.h"

namespace drover {
namespace {

TEST_CASE("sync_mutex_lock_serialises_increments_of_many_threads", "[server][sync]") {
  Mutex mu;
  int n = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        MutexLock lock(&mu);
        ++n;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  MutexLock lock(&mu);
  mu.AssertHeld();
  CHECK(n == 40000);
}

TEST_CASE("sync_try_lock_fails_while_another_thread_holds_the_mutex", "[server][sync]") {
  Mutex mu;
  mu.Lock();
  bool got = true;
  std::thread([&] { got = mu.TryLock(); }).join();
  CHECK_FALSE(got);
  mu.Unlock();
  REQUIRE(mu.TryLock());
  mu.Unlock();
  ReaderMutexLock reader(&mu);  // exclusive here, but must lock and unlock
}

TEST_CASE("sync_condvar_wakes_a_waiter_and_times_out_without_a_signal", "[server][sync]") {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  std::thread producer([&] {
    MutexLock lock(&mu);
    ready = true;
    cv.Signal();
  });
  {
    MutexLock lock(&mu);
    while (!ready) cv.Wait(&mu);
    mu.AssertHeld();
  }
  producer.join();

  MutexLock lock(&mu);
  const absl::Time start = absl::Now();
  CHECK(cv.WaitWithTimeout(&mu, absl::Milliseconds(20)));  // true: timed out
  CHECK(absl::Now() - start >= absl::Milliseconds(15));
  CHECK(cv.WaitWithTimeout(&mu, -absl::Seconds(1)));
  mu.AssertHeld();
}

TEST_CASE("sync_condvar_wait_with_timeout_returns_false_when_signalled", "[server][sync]") {
  Mutex mu;
  CondVar cv;
  int waiting = 0;
  bool done = false;
  bool timed_out = true;
  std::thread waiter([&] {
    MutexLock lock(&mu);
    ++waiting;
    while (!done) timed_out = cv.WaitWithTimeout(&mu, absl::Seconds(30));
  });
  while (true) {
    MutexLock lock(&mu);
    if (waiting == 1) {
      done = true;
      cv.SignalAll();
      break;
    }
  }
  waiter.join();
  CHECK_FALSE(timed_out);
}

struct Queue {
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return !items.empty(); }
  Mutex mu;
  std::deque<int> items ABSL_GUARDED_BY(mu);
};

TEST_CASE("sync_await_wakes_when_another_thread_changes_the_state_and_unlocks", "[server][sync]") {
  Queue q;
  std::vector<int> got;
  std::thread consumer([&] {
    for (int i = 0; i < 100; ++i) {
      MutexLock lock(&q.mu);
      q.mu.Await(Condition(&q, &Queue::HasWork));
      got.push_back(q.items.front());
      q.items.pop_front();
    }
  });
  for (int i = 0; i < 100; ++i) {
    MutexLock lock(&q.mu);
    q.items.push_back(i);
  }
  consumer.join();
  REQUIRE(got.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(got[i] == i);
}

TEST_CASE("sync_await_with_timeout_returns_the_condition", "[server][sync]") {
  Mutex mu;
  bool flag = false;
  {
    MutexLock lock(&mu);
    CHECK_FALSE(mu.AwaitWithTimeout(Condition(&flag), absl::Milliseconds(10)));
    CHECK_FALSE(mu.AwaitWithTimeout(Condition(&flag), absl::ZeroDuration()));
  }
  std::thread setter([&] {
    absl::SleepFor(absl::Milliseconds(5));
    MutexLock lock(&mu);
    flag = true;
  });
  {
    MutexLock lock(&mu);
    CHECK(mu.AwaitWithTimeout(Condition(&flag), absl::Seconds(30)));
  }
  setter.join();
  // A waiter that changes the state itself (while awaiting) wakes another waiter.
  int stage = 0;
  auto at_one = [&] { return stage == 1; };
  std::thread second([&] {
    MutexLock lock(&mu, Condition(&at_one));
    stage = 2;
  });
  {
    MutexLock lock(&mu);
    stage = 1;
    auto at_two = [&] { return stage == 2; };
    CHECK(mu.AwaitWithTimeout(Condition(&at_two), absl::Seconds(30)));
  }
  second.join();
}

TEST_CASE("sync_notification_wakes_every_waiter_and_times_out_before_notify", "[server][sync]") {
  Notification n;
  CHECK_FALSE(n.HasBeenNotified());
  CHECK_FALSE(n.WaitForNotificationWithTimeout(absl::Milliseconds(10)));
  CHECK_FALSE(n.WaitForNotificationWithTimeout(absl::ZeroDuration()));
  std::atomic<int> woken{0};
  int written_before_notify = 0;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&] {
      n.WaitForNotification();
      if (written_before_notify == 42) ++woken;  // Notify publishes earlier writes
    });
  }
  written_before_notify = 42;
  n.Notify();
  for (std::thread& t : waiters) t.join();
  CHECK(woken.load() == 3);
  CHECK(n.HasBeenNotified());
  CHECK(n.WaitForNotificationWithTimeout(absl::Seconds(1)));
  CHECK(Notification(true).HasBeenNotified());
}

TEST_CASE("sync_notification_may_be_destroyed_as_soon_as_a_waiter_returns", "[server][sync]") {
  for (int i = 0; i < 200; ++i) {
    auto* n = new Notification;
    std::thread notifier([n] { n->Notify(); });
    n->WaitForNotification();
    delete n;
    notifier.join();
  }
}

}  // namespace
}  // namespace drover
