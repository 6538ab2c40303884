// The admission webhook as droverd starts it in a cluster: the serving
// certificate (files, or a Secret shared by the replicas plus caBundle injection,
// kept in force while droverd runs) and the HTTPS server.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "server/kube_options.h"
#include "server/webhook_cert_keeper.h"
#include "server/webhook_server.h"

namespace drover {
namespace k8s {
class HttpClient;
}

struct WebhookRuntime {
  std::unique_ptr<WebhookServer> server;       // null when the webhook is off
  std::unique_ptr<WebhookCertKeeper> keeper;   // null with --webhook-cert (cert-manager) or no period
  void Stop() {
    if (keeper) keeper->Stop();
    if (server) server->Stop();
  }
};

// The webhook per `o` (nothing when o.webhook_port is 0; -1 = any free port),
// serving and, in the Secret mode, with its keeper started (`http` and `policy`
// must outlive it). Error: unreadable certificate files, no Secret could be read
// or written, the port taken.
absl::StatusOr<WebhookRuntime> StartWebhook(const KubeRunOptions& o, k8s::HttpClient* http,
                                            const WebhookPolicy* policy);

}  // namespace drover
