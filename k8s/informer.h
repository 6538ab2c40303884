// KubeClusterSource: drover::ClusterSource over the Kubernetes API. One Reflector
// (list + watch, see reflector.h) per resource, Nodes, Pods and Namespaces (their
// labels, for pod affinity's namespaceSelector), each on its own thread, pushing
// ClusterEvents into one mutex-protected queue that the engine drains.
//
//   KubeClusterSource source(http.get(), catalog.product_labels());
//   source.Start();
//   while (!source.Synced()) source.WaitForEvents(absl::Seconds(1));
//   std::vector<ClusterEvent> events;
//   source.Drain(&events);   // the whole initial state, then changes
//
// Every pod is delivered, whatever its schedulerName: every pod counts for node
// usage; the engine decides which pods are its own to place. Synced() turns true
// once the initial lists of Nodes and Pods have been queued, and the Namespaces'
// too unless their list has failed (no RBAC for namespaces, a broken server):
// namespaces are never worth not scheduling for. Until their list arrives a
// namespaceSelector sees each namespace's kubernetes.io/metadata.name label only
// (core/namespaces.h).
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "core/cluster.h"
#include "core/sync.h"
#include "k8s/http_client.h"
#include "k8s/reflector.h"

namespace drover::k8s {

class KubeClusterSource : public ClusterSource {
 public:
  KubeClusterSource(HttpClient* http, std::vector<std::string> product_labels, ReflectorOptions opts = {});
  ~KubeClusterSource() override;

  // Starts the reflector threads. Call once.
  void Start();
  // Stops the threads and waits for them. Idempotent.
  void Stop();

  bool Synced() const override;
  // The Node and Pod reflectors are healthy (Reflector::healthy): for the daemon's
  // /readyz. The Namespace reflector is not asked: without it only namespaceSelectors
  // on labels other than the name are stale.
  bool Healthy() const;
  size_t Drain(std::vector<ClusterEvent>* out) override;
  // Waits until events are queued (true) or `timeout` passes (false).
  bool WaitForEvents(absl::Duration timeout);

  const Reflector& nodes() const { return *nodes_; }
  const Reflector& pods() const { return *pods_; }
  const Reflector& namespaces() const { return *namespaces_; }

 private:
  void Push(std::vector<ClusterEvent>&& batch);
  bool HasEventsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !queue_.empty(); }

  std::unique_ptr<Reflector> nodes_;
  std::unique_ptr<Reflector> pods_;
  std::unique_ptr<Reflector> namespaces_;
  Notification stop_;
  std::vector<std::thread> threads_;

  mutable Mutex mu_;
  std::vector<ClusterEvent> queue_ ABSL_GUARDED_BY(mu_);
};

}  // namespace drover::k8s
