// How droverd reaches and shares a real cluster (cluster mode of server/Process).
#pragma once

#include <string>

namespace drover {

struct KubeRunOptions {
  std::string kubeconfig;     // "" = $KUBECONFIG, ~/.kube/config, then in-cluster
  std::string context;
  bool in_cluster = false;      // service account config, ignoring kubeconfig files
  bool leader_elect = true;
  std::string lease_namespace = "drover-system";  // deploy/'s: a droverd run from a laptop sees the cluster's Lease
  std::string lease_name = "drover";
  std::string identity;         // "" = hostname + random suffix
  double qps = 50;              // kube-scheduler's defaults; <= 0 = unlimited
  int burst = 100;
  int bind_workers = 16;
};

}  // namespace drover
