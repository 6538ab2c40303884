// Keeps droverd's own webhook certificate (the Secret mode of server/webhook_certs.h)
// in force while droverd runs, not only at start:
//  - renews the serving pair before it expires (or adopts the pair another
//    replica renewed into the Secret) and installs it for new handshakes;
//  - re-sets the webhook configurations' caBundle when it differs, so a
//    configuration re-created or replaced from deploy/ (which ships none) is
//    repaired within one period instead of failing every GPU pod's admission
//    (failurePolicy Fail) until droverd restarts.
// Not used with --webhook-cert (cert-manager renews the files and injects the CA).
//
//   WebhookCertKeeper keeper(http, opts, server->cert(), pair, absl::Minutes(1));
//   keeper.Start();  ...  keeper.Stop();
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "core/sync.h"
#include "server/webhook_certs.h"
#include "server/webhook_tls.h"

namespace drover {
namespace k8s {
class HttpClient;
}

class WebhookCertKeeper {
 public:
  // `http`, `cert` must outlive the keeper; `current` is the pair `cert` serves now.
  // `every` > 0: the period (each wait is jittered by up to +10%).
  WebhookCertKeeper(k8s::HttpClient* http, WebhookCertOptions options, ServingCert* cert, TlsPair current,
                    absl::Duration every);
  ~WebhookCertKeeper();

  void Start();
  void Stop();  // idempotent; waits for a check in progress

  // One check now (the thread calls it each period; tests call it directly).
  // Returns the number of webhooks whose caBundle it set. Errors are logged
  // once per distinct message and returned; the pair in force stays.
  absl::StatusOr<int> CheckOnce(absl::Time now);

  int64_t renewals() const { return renewals_.load(); }
  int64_t repairs() const { return repairs_.load(); }  // caBundles set (each webhook counts)

 private:
  void Loop();

  k8s::HttpClient* http_;
  WebhookCertOptions options_;
  ServingCert* cert_;
  absl::Duration every_;
  Mutex mu_;  // one check at a time
  TlsPair current_ ABSL_GUARDED_BY(mu_);
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> renewals_{0};
  std::atomic<int64_t> repairs_{0};
  Notification stop_;
  std::thread thread_;
};

}  // namespace drover
