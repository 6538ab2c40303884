#include "k8s/work_queue.h"

#include <algorithm>

namespace drover::k8s {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Submit(std::function<void()> task) {
  MutexLock lock(&mu_);
  if (stopping_) return;
  queue_.push_back(std::move(task));
}

void WorkerPool::WaitIdle() {
  MutexLock lock(&mu_);
  mu_.Await(drover::Condition(this, &WorkerPool::Idle));
}

void WorkerPool::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WorkerPool::Work() {
  while (true) {
    std::function<void()> task;
    {
      MutexLock lock(&mu_);
      mu_.Await(drover::Condition(this, &WorkerPool::HasWorkOrStopping));
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    task();
    MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace drover::k8s
