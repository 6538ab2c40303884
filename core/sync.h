// Mutex, MutexLock, CondVar, Condition and Notification with absl's interface,
// built on std::mutex, std::condition_variable and std::atomic.
//
// Why not absl's: Debian's Abseil is a prebuilt library that is not instrumented
// for ThreadSanitizer, so absl::Mutex, absl::CondVar and absl::Notification are
// invisible to TSan (they synchronise through their own futex code, not pthread)
// and the TSan build reports a false race on every value they guard. These are
// on pthread, which TSan intercepts. Use them everywhere instead of absl's.
//
//   mutable drover::Mutex mu_;
//   int n_ ABSL_GUARDED_BY(mu_) = 0;      // absl's annotations keep working
//
//   drover::MutexLock lock(&mu_);
//   mu_.Await(drover::Condition(this, &Foo::ReadyLocked));   // like absl::Mutex::Await
//
// Differences from absl: reader locks are exclusive; no deadlock detection.
// Mutex::Await re-checks its condition whenever the mutex is released by a thread
// that could have changed the state (Unlock, CondVar::Wait), as absl's does.
// Header-only, no I/O: core/ may use it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace drover {

namespace sync_internal {
// A timeout for std::condition_variable::wait_for: non-negative, and capped at a
// year so that now + timeout cannot overflow the steady clock.
inline std::chrono::nanoseconds ToWaitTimeout(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return std::chrono::nanoseconds(0);
  return absl::ToChronoNanoseconds(std::min(d, absl::Hours(24 * 365)));
}
}  // namespace sync_internal

// A predicate for Mutex::Await, evaluated with the mutex held.
class Condition {
 public:
  template <typename T>
  Condition(const T* object, bool (T::*method)() const) : eval_([object, method] { return (object->*method)(); }) {}
  template <typename T>
  Condition(T* object, bool (T::*method)()) : eval_([object, method] { return (object->*method)(); }) {}
  // True once *flag is true.
  explicit Condition(const bool* flag) : eval_([flag] { return *flag; }) {}
  // Any callable returning bool; it must outlive the Await.
  template <typename F>
    requires std::is_invocable_r_v<bool, F&>
  explicit Condition(F* callable) : eval_([callable] { return (*callable)(); }) {}

  bool Eval() const { return eval_(); }

 private:
  std::function<bool()> eval_;
};

class CondVar;

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_.lock();
    owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    BeforeRelease();
    mu_.unlock();
  }
  [[nodiscard]] bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    if (!mu_.try_lock()) return false;
    owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    return true;
  }
  // Reader locks are exclusive here.
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() { Lock(); }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() { Unlock(); }
  void WriterLock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { Lock(); }
  void WriterUnlock() ABSL_UNLOCK_FUNCTION() { Unlock(); }

  // Checked in debug builds only.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {
    assert(owner_.load(std::memory_order_relaxed) == std::this_thread::get_id() && "drover::Mutex not held");
  }
  void AssertReaderHeld() const ABSL_ASSERT_SHARED_LOCK() { AssertHeld(); }

  // With the mutex held: releases it until `cond` is true, then returns with it
  // held again and `cond` true.
  void Await(const Condition& cond) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    while (!cond.Eval()) WaitForRelease(std::chrono::nanoseconds::max());
  }
  // Like Await, giving up after `timeout`; returns whether `cond` is true.
  bool AwaitWithTimeout(const Condition& cond, absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    const auto deadline = std::chrono::steady_clock::now() + sync_internal::ToWaitTimeout(timeout);
    while (!cond.Eval()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      WaitForRelease(deadline - now);
    }
    return true;
  }
  // Lock(), then Await(cond).
  void LockWhen(const Condition& cond) ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    Lock();
    Await(cond);
  }

 private:
  friend class CondVar;

  // Called with mu_ held, just before a release that may have changed the state
  // Await waiters test. Notifying under the lock, not after it, means this
  // object is never touched after the release (its owner may destroy it then).
  void BeforeRelease() {
    owner_.store(std::thread::id(), std::memory_order_relaxed);
    if (awaiting_ > 0) released_.notify_all();
  }
  void AfterReacquire() { owner_.store(std::this_thread::get_id(), std::memory_order_relaxed); }

  // Releases mu_ until another thread releases it (or `timeout`), then holds it again.
  template <typename Rep, typename Period>
  void WaitForRelease(std::chrono::duration<Rep, Period> timeout) {
    ++awaiting_;
    BeforeRelease();  // this thread's own changes may satisfy another waiter
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    if (timeout == std::chrono::duration<Rep, Period>::max()) {
      released_.wait(lock);
    } else {
      released_.wait_for(lock, timeout);
    }
    lock.release();
    AfterReacquire();
    --awaiting_;
  }

  std::mutex mu_;
  std::condition_variable released_;  // Await waiters, woken by releases
  int awaiting_ = 0;                  // guarded by mu_
  std::atomic<std::thread::id> owner_{};
};

// Holds a Mutex for a scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  // Lock(), then Await(cond).
  MutexLock(Mutex* mu, const Condition& cond) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->LockWhen(cond); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// Reader locks are exclusive here; the names are kept for absl's call sites.
class ABSL_SCOPED_LOCKABLE ReaderMutexLock {
 public:
  explicit ReaderMutexLock(Mutex* mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) { mu_->ReaderLock(); }
  ~ReaderMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  Mutex* const mu_;
};

class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // With `mu` held: releases it until signalled (or spuriously), then holds it again.
  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    mu->BeforeRelease();
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
    mu->AfterReacquire();
  }
  // Like Wait; true if `timeout` passed (as absl's), false if signalled.
  bool WaitWithTimeout(Mutex* mu, absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (timeout == absl::InfiniteDuration()) {
      Wait(mu);
      return false;
    }
    mu->BeforeRelease();
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool timed_out = cv_.wait_for(lock, sync_internal::ToWaitTimeout(timeout)) == std::cv_status::timeout;
    lock.release();
    mu->AfterReacquire();
    return timed_out;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

// A one-shot event: Notify once; any number of threads wait for it.
class Notification {
 public:
  Notification() = default;
  explicit Notification(bool prenotify) : notified_(prenotify) {}
  Notification(const Notification&) = delete;
  Notification& operator=(const Notification&) = delete;

  // Wakes every waiter. Called at most once (as absl's; later calls do nothing here).
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    notified_.store(true, std::memory_order_release);
    cv_.notify_all();
  }
  // Once this returns true, or a wait returns true, *this may be destroyed: each
  // takes mu_ after seeing the flag, so Notify has left its critical section.
  bool HasBeenNotified() const {
    if (!notified_.load(std::memory_order_acquire)) return false;
    std::lock_guard<std::mutex> lock(mu_);
    return true;
  }
  void WaitForNotification() const {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return notified_.load(std::memory_order_relaxed); });
  }
  // True if notified, false if `timeout` passed first.
  bool WaitForNotificationWithTimeout(absl::Duration timeout) const {
    if (timeout == absl::InfiniteDuration()) {
      WaitForNotification();
      return true;
    }
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, sync_internal::ToWaitTimeout(timeout),
                        [this] { return notified_.load(std::memory_order_relaxed); });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::atomic<bool> notified_{false};
};

}  // namespace drover
