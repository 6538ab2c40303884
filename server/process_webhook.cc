// Process: the admission webhook's certificate and server (cluster mode).
#include "server/process_webhook.h"

#include "core/status_macros.h"
#include "core/strings.h"
#include "spdlog/spdlog.h"

namespace drover {

absl::StatusOr<WebhookRuntime> StartWebhook(const KubeRunOptions& o, k8s::HttpClient* http,
                                            const WebhookPolicy* policy) {
  WebhookRuntime out;
  if (o.webhook_port == 0) return out;
  std::unique_ptr<ServingCert> cert;
  TlsPair pair;
  if (!o.webhook_cert.empty()) {
    ASSIGN_OR_RETURN(cert, ServingCert::FromFiles(o.webhook_cert, o.webhook_key));
    spdlog::info("webhook: serving certificate from {} (re-read when it changes; caBundle left to cert-manager)",
                 o.webhook_cert);
  } else {
    ASSIGN_OR_RETURN(pair, EnsureWebhookSecret(http, o.webhook_certs, absl::Now()));
    ASSIGN_OR_RETURN(cert, ServingCert::FromPem(pair));
    absl::StatusOr<int> patched = InjectCaBundle(http, o.webhook_certs.configuration, pair.ca_pem);
    if (!patched.ok()) {  // not fatal: the API server's failurePolicy covers a webhook it cannot verify
      spdlog::warn("webhook: could not set the caBundle (retried every {}): {}",
                   absl::FormatDuration(o.webhook_cert_check), std::string(patched.status().message()));
    }
  }
  WebhookServerOptions wo;
  wo.port = o.webhook_port < 0 ? 0 : o.webhook_port;
  out.server = std::make_unique<WebhookServer>(wo, policy, std::move(cert));
  ASSIGN_OR_RETURN(int port, out.server->Start());
  spdlog::info("webhook: /mutate and /validate over HTTPS on port {}", port);
  if (o.webhook_cert.empty() && o.webhook_cert_check > absl::ZeroDuration()) {
    out.keeper = std::make_unique<WebhookCertKeeper>(http, o.webhook_certs, out.server->cert(), std::move(pair),
                                                     o.webhook_cert_check);
    out.keeper->Start();
  }
  return out;
}

}  // namespace drover
