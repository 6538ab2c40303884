// The admission webhook as droverd starts it in a cluster: the serving
// certificate (files, or a Secret shared by the replicas plus caBundle injection)
// and the HTTPS server.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "server/kube_options.h"
#include "server/webhook_server.h"

namespace drover {
namespace k8s {
class HttpClient;
}

// The webhook server per `o` (null when o.webhook_port is 0; -1 = any free port).
// Error: unreadable certificate files, no Secret could be read or written, the port taken.
absl::StatusOr<std::unique_ptr<WebhookServer>> StartWebhook(const KubeRunOptions& o, k8s::HttpClient* http,
                                                            const WebhookPolicy* policy);

}  // namespace drover
