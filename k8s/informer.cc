#include "k8s/informer.h"

namespace drover::k8s {

KubeClusterSource::KubeClusterSource(HttpClient* http, std::vector<std::string> product_labels, ReflectorOptions opts) {
  auto sink = [this](std::vector<ClusterEvent>&& batch) { Push(std::move(batch)); };
  nodes_ = std::make_unique<Reflector>(http, MakeNodeCodec(product_labels), sink, opts);
  pods_ = std::make_unique<Reflector>(http, MakePodCodec(std::move(product_labels)), sink, opts);
  namespaces_ = std::make_unique<Reflector>(http, MakeNamespaceCodec(), sink, opts);
}

KubeClusterSource::~KubeClusterSource() { Stop(); }

void KubeClusterSource::Start() {
  threads_.emplace_back([this] { namespaces_->Run(&stop_); });
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

bool KubeClusterSource::Synced() const {
  const bool namespaces_done = namespaces_->synced() || namespaces_->stats().list_errors > 0;
  return nodes_->synced() && pods_->synced() && namespaces_done;
}

bool KubeClusterSource::Healthy() const { return nodes_->healthy() && pods_->healthy(); }

void KubeClusterSource::Push(std::vector<ClusterEvent>&& batch) {
  MutexLock lock(&mu_);
  if (queue_.empty()) {
    queue_ = std::move(batch);
  } else {
    queue_.insert(queue_.end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
  }
}

size_t KubeClusterSource::Drain(std::vector<ClusterEvent>* out) {
  std::vector<ClusterEvent> taken;
  {
    MutexLock lock(&mu_);
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
  MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(drover::Condition(this, &KubeClusterSource::HasEventsLocked), timeout);
}

}  // namespace drover::k8s
