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

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

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

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace drover::k8s
