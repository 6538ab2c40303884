// Runs the daemon loop against a real Kubernetes API server: informers feed the
// engine, the KubeActuator binds, leader election decides who acts, and a health
// server reports /healthz and /readyz.
#pragma once

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "placement/engine.h"

namespace drover {

struct KubeRunOptions {
  std::string kubeconfig;     // "" = $KUBECONFIG, ~/.kube/config, then in-cluster
  std::string context;
  bool in_cluster = false;      // service account config, ignoring kubeconfig files
  bool leader_elect = true;
  std::string lease_namespace;  // "" = the config's namespace
  std::string lease_name = "drover";
  std::string identity;         // "" = hostname + random suffix
  int health_port = 10251;      // 0 = any free port; -1 = none
  double qps = 50;              // kube-scheduler's defaults
  int burst = 100;
  int bind_workers = 16;
};

// Blocks until `stop` turns true. Errors: bad kubeconfig, API server unreachable
// at start, health port in use.
absl::Status RunKubernetes(Engine* engine, const KubeRunOptions& options, const std::atomic<bool>& stop);

}  // namespace drover
