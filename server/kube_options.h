// How droverd reaches and shares a real cluster (cluster mode of server/Process).
#pragma once

#include <string>

#include "absl/time/time.h"

#include "server/webhook_certs.h"

namespace drover {

struct KubeRunOptions {
  std::string kubeconfig;     // "" = $KUBECONFIG, ~/.kube/config, then in-cluster
  std::string context;
  bool in_cluster = false;      // service account config, ignoring kubeconfig files
  bool leader_elect = true;
  std::string lease_namespace = "drover-system";  // deploy/'s: a droverd run from a laptop sees the cluster's Lease
  std::string lease_name = "drover";
  std::string identity;         // "" = hostname + random suffix
  // client-go's defaults; LeaderElector::Validate checks them (lease > renew deadline > 1.2 x retry).
  absl::Duration lease_duration = absl::Seconds(15);
  absl::Duration lease_renew_deadline = absl::Seconds(10);
  absl::Duration lease_retry_period = absl::Seconds(2);
  double qps = 50;              // kube-scheduler's defaults; <= 0 = unlimited
  int burst = 100;
  int bind_workers = 16;
  // The admission webhook (server/webhook_server.h, deploy/README.md): 0 = off.
  int webhook_port = 0;
  std::string webhook_cert;  // PEM files (cert-manager's tls.crt/tls.key), re-read when they change;
  std::string webhook_key;   // both "": droverd makes its own and patches the caBundle
  WebhookCertOptions webhook_certs;
  // Without webhook_cert: how often the Secret's pair is renewed or adopted and
  // the caBundle re-set where it differs (0 = at start only).
  absl::Duration webhook_cert_check = absl::Minutes(1);
};

}  // namespace drover
