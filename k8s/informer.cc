#include "k8s/informer.h"

#include <chrono>

namespace drover::k8s {

KubeClusterSource::KubeClusterSource(HttpClient* http, std::vector<std::string> product_labels, ReflectorOptions opts) {
  auto sink = [this](std::vector<ClusterEvent>&& batch) { Push(std::move(batch)); };
  nodes_ = std::make_unique<Reflector>(http, MakeNodeCodec(product_labels), sink, opts);
  pods_ = std::make_unique<Reflector>(http, MakePodCodec(std::move(product_labels)), sink, opts);
}

KubeClusterSource::~KubeClusterSource() { Stop(); }

void KubeClusterSource::Start() {
  threads_.emplace_back([this] { nodes_->Run(&stop_); });
  threads_.emplace_back([this] { pods_->Run(&stop_); });
}

void KubeClusterSource::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool KubeClusterSource::Synced() const { return nodes_->synced() && pods_->synced(); }

void KubeClusterSource::Push(std::vector<ClusterEvent>&& batch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.empty()) {
      queue_ = std::move(batch);
    } else {
      queue_.insert(queue_.end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
    }
  }
  cv_.notify_all();
}

size_t KubeClusterSource::Drain(std::vector<ClusterEvent>* out) {
  std::vector<ClusterEvent> taken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    taken.swap(queue_);
  }
  const size_t n = taken.size();
  if (out->empty()) {
    *out = std::move(taken);
  } else {
    out->insert(out->end(), std::make_move_iterator(taken.begin()), std::make_move_iterator(taken.end()));
  }
  return n;
}

bool KubeClusterSource::WaitForEvents(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] { return !queue_.empty(); });
}

}  // namespace drover::k8s
