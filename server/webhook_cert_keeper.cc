#include "server/webhook_cert_keeper.h"

#include <random>

#include "core/strings.h"
#include "spdlog/spdlog.h"

namespace drover {

WebhookCertKeeper::WebhookCertKeeper(k8s::HttpClient* http, WebhookCertOptions options, ServingCert* cert,
                                     TlsPair current, absl::Duration every)
    : http_(http), options_(std::move(options)), cert_(cert), every_(every), current_(std::move(current)) {}

WebhookCertKeeper::~WebhookCertKeeper() { Stop(); }

void WebhookCertKeeper::Start() {
  if (every_ <= absl::ZeroDuration() || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void WebhookCertKeeper::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void WebhookCertKeeper::Loop() {
  // Jitter keeps the replicas from checking the Secret in lock step.
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(1.0, 1.1);
  while (!stop_.WaitForNotificationWithTimeout(every_ * jitter(rng))) {
    (void)CheckOnce(absl::Now());  // logged inside
  }
}

absl::StatusOr<int> WebhookCertKeeper::CheckOnce(absl::Time now) {
  MutexLock lock(&mu_);
  absl::StatusOr<TlsPair> pair = EnsureWebhookSecret(http_, options_, now);
  absl::Status status = pair.status();
  if (pair.ok() && pair->cert_pem != current_.cert_pem) {
    status = cert_->Replace(*pair);
    if (status.ok()) {
      current_ = *pair;
      renewals_.fetch_add(1);
      spdlog::info("webhook: serving a renewed certificate from Secret {}/{}", options_.service_namespace,
                   options_.secret_name);
    }
  }
  absl::StatusOr<int> patched = status.ok() ? InjectCaBundle(http_, options_.configuration, current_.ca_pem)
                                            : absl::StatusOr<int>(status);
  if (!patched.ok()) {
    const std::string message(patched.status().message());
    if (message != last_error_) spdlog::warn("webhook: certificate check failed (retried): {}", message);
    last_error_ = message;
    return patched.status();
  }
  if (!last_error_.empty()) spdlog::info("webhook: certificate check works again");
  last_error_.clear();
  if (*patched > 0) {
    repairs_.fetch_add(*patched);
    spdlog::warn("webhook: the caBundle of {} webhook(s) in {} differed from droverd's CA (configuration re-created or "
                 "replaced?); set it again",
                 *patched, options_.configuration);
  }
  return patched;
}

}  // namespace drover
