// Process: the admission webhook's certificate and server (cluster mode).
#include "server/process_webhook.h"

#include "core/status_macros.h"
#include "core/strings.h"
#include "spdlog/spdlog.h"

namespace drover {

absl::StatusOr<std::unique_ptr<WebhookServer>> StartWebhook(const KubeRunOptions& o, k8s::HttpClient* http,
                                                            const WebhookPolicy* policy) {
  if (o.webhook_port == 0) return std::unique_ptr<WebhookServer>();
  std::unique_ptr<ServingCert> cert;
  if (!o.webhook_cert.empty()) {
    ASSIGN_OR_RETURN(cert, ServingCert::FromFiles(o.webhook_cert, o.webhook_key));
    spdlog::info("webhook: serving certificate from {} (re-read when it changes; caBundle left to cert-manager)",
                 o.webhook_cert);
  } else {
    ASSIGN_OR_RETURN(TlsPair pair, EnsureWebhookSecret(http, o.webhook_certs, absl::Now()));
    ASSIGN_OR_RETURN(cert, ServingCert::FromPem(pair));
    absl::StatusOr<int> patched = InjectCaBundle(http, o.webhook_certs.configuration, pair.ca_pem);
    if (!patched.ok()) {  // not fatal: the API server's failurePolicy covers a webhook it cannot verify
      spdlog::warn("webhook: could not set the caBundle: {}", std::string(patched.status().message()));
    }
  }
  WebhookServerOptions wo;
  wo.port = o.webhook_port < 0 ? 0 : o.webhook_port;
  auto server = std::make_unique<WebhookServer>(wo, policy, std::move(cert));
  ASSIGN_OR_RETURN(int port, server->Start());
  spdlog::info("webhook: /mutate and /validate over HTTPS on port {}", port);
  return server;
}

}  // namespace drover
