// Commands for the loop thread. The engine belongs to one thread, the loop;
// other threads (admin API, configuration watchers, signal handling) hand it
// work through this mailbox and wait for the result. The loop runs queued
// commands between cycles, in the order they were posted.
//
//   // any thread:
//   std::future<absl::StatusOr<int>> f = mailbox.Call<int>([](Engine& e) { return e.pending_pods(); });
//   if (f.wait_for(2s) == std::future_status::ready) use(f.get());
//   // loop thread, between cycles:
//   mailbox.RunPending(engine);
//
// Bounded: at most `capacity` commands wait at once; a Post beyond that, or
// after Close, fails at once (UNAVAILABLE / RESOURCE_EXHAUSTED through the
// future) instead of queueing without bound.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/sync.h"

namespace drover {

class Engine;

class Mailbox {
 public:
  using Command = std::function<void(Engine&)>;
  explicit Mailbox(size_t capacity = 1024) : capacity_(capacity) {}

  // Queues `cmd`. OK, or UNAVAILABLE (closed) / RESOURCE_EXHAUSTED (full); a
  // refused command is never run.
  [[nodiscard]] absl::Status Post(Command cmd);

  // Runs `fn` on the loop thread; the future gets its result, or the reason the
  // command was refused.
  template <typename T>
  std::future<absl::StatusOr<T>> Call(std::function<absl::StatusOr<T>(Engine&)> fn) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<T>>>();
    std::future<absl::StatusOr<T>> future = promise->get_future();
    absl::Status posted = Post([promise, fn = std::move(fn)](Engine& e) { promise->set_value(fn(e)); });
    if (!posted.ok()) promise->set_value(posted);
    return future;
  }

  // Loop thread: runs every command queued before this call. Returns how many.
  size_t RunPending(Engine& engine);
  // Refuses further posts. Commands still queued are dropped: their futures
  // report a broken promise (callers see std::future_error), never hang.
  void Close();
  // Called (from the posting thread) after each accepted post, to wake the loop.
  void set_waker(std::function<void()> waker) { waker_ = std::move(waker); }
  size_t size() const;

 private:
  const size_t capacity_;
  std::function<void()> waker_;
  mutable Mutex mu_;
  std::deque<Command> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace drover
