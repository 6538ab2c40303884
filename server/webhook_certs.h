// Certificates for the webhook without cert-manager: one serving pair shared by
// every replica through a Secret (the first replica makes it; the others read it),
// and the CA injected into the caBundle of the webhook configurations droverd owns.
//
//   ASSIGN_OR_RETURN(TlsPair pair, EnsureWebhookSecret(http, opts, absl::Now()));
//   RETURN_IF_ERROR(InjectCaBundle(http, opts.configuration, pair.ca_pem));
//
// RBAC (deploy/10-rbac.yaml): get/create/update on the Secret in droverd's
// namespace; get/patch on the two configurations, by name.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/webhook_tls.h"

namespace drover {
namespace k8s {
class HttpClient;
}

struct WebhookCertOptions {
  std::string service_namespace = "drover-system";
  std::string service_name = "drover-webhook";
  std::string secret_name = "drover-webhook-tls";
  std::string configuration = "drover";  // Mutating- and ValidatingWebhookConfiguration name
  int validity_days = 365;
  absl::Duration renew_before = absl::Hours(24 * 30);
};

// The Service's DNS names: name, name.ns, name.ns.svc, name.ns.svc.cluster.local.
std::vector<std::string> ServiceDnsNames(const WebhookCertOptions& o);

// Reads the Secret's pair; when it is missing, unreadable or expires within
// renew_before, makes a new one and writes it (create; or update with the read
// resourceVersion). A write that loses to another replica (409) reads theirs.
absl::StatusOr<TlsPair> EnsureWebhookSecret(k8s::HttpClient* http, const WebhookCertOptions& o, absl::Time now);

// Sets clientConfig.caBundle of every webhook in the Mutating- and
// ValidatingWebhookConfiguration named `configuration` to `ca_pem`, where it
// differs (JSON patch). A configuration that does not exist is skipped with a
// warning (deploy/ not applied). Returns how many webhooks were patched.
absl::StatusOr<int> InjectCaBundle(k8s::HttpClient* http, const std::string& configuration, const std::string& ca_pem);

}  // namespace drover
