// A fixed pool of worker threads running submitted tasks in order of submission.
// The actuator has one pool for binds and evictions and a small separate one for
// PodScheduled status patches and events, so explanations never delay a bind.
//
//   WorkerPool pool(16);
//   pool.Submit([=] { DoBind(b); });
//   pool.WaitIdle();   // every submitted task has finished
//
// Thread-safe. Stop() lets queued tasks finish, then joins the threads.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "core/sync.h"

namespace drover::k8s {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a task. After Stop() the task is dropped.
  void Submit(std::function<void()> task);
  // Blocks until no task is queued or running.
  void WaitIdle();
  // Runs what is queued, then joins the threads. Idempotent.
  void Stop();

 private:
  void Work();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); }
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return queue_.empty() && running_ == 0; }

  Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // started by the constructor, joined by Stop()
};

}  // namespace drover::k8s
