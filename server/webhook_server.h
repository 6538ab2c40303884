// droverd's admission webhook over HTTPS (cpp-httplib's SSLServer on OpenSSL):
//   POST /mutate    the MutatingAdmissionWebhook (routes GPU pods to Drover, fills fields)
//   POST /validate  the ValidatingAdmissionWebhook (queue policy: enforce, warn, audit)
//   GET  /healthz   200 while it serves
// Both replicas serve (no leadership: a review reads the policy, never the engine).
// The decisions are admission/'s; this is transport, timeouts and the policy in force.
//
//   WebhookPolicy policy;                        // the loop publishes into it
//   WebhookServer server({.port = 9443}, &policy, std::move(cert));
//   ASSIGN_OR_RETURN(int port, server.Start());
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "admission/policy.h"
#include "core/sync.h"
#include "server/webhook_tls.h"

namespace httplib {
class SSLServer;
}

namespace drover {

class Engine;

// The admission policy in force, shared between the loop (which publishes a new
// one when the quota document or the GPU node shapes change) and the server's
// threads (which take a reference per review). Thread-safe.
class WebhookPolicy {
 public:
  std::shared_ptr<const admission::AdmissionPolicy> Get() const;
  void Set(std::shared_ptr<const admission::AdmissionPolicy> policy);
  // Loop thread: rebuilds the policy from the engine when `revision` or the GPU
  // node shapes differ from the last build. O(1) while no node changed, else
  // O(nodes) for the shapes; call it every second or so, not per event. True if it rebuilt.
  bool Refresh(const Engine& engine, int64_t revision);

 private:
  mutable Mutex mu_;
  std::shared_ptr<const admission::AdmissionPolicy> policy_ ABSL_GUARDED_BY(mu_);
  int64_t revision_ = -1;                 // loop thread only
  admission::GpuNodeShapes shapes_;       // loop thread only
  uint64_t node_generation_ = ~uint64_t{0};  // loop thread only: the snapshot's, at the last walk
};

struct WebhookServerOptions {
  std::string host = "0.0.0.0";
  int port = 9443;  // 0 = any free port (tests)
  int threads = 4;
  // Short: the API server waits timeoutSeconds (deploy/: 5 s) for us; a slow
  // client must not hold a worker longer than that.
  int read_timeout_seconds = 2;
  int write_timeout_seconds = 2;
  int keep_alive_seconds = 30;  // the API server keeps connections to webhooks open
};

class WebhookServer {
 public:
  WebhookServer(WebhookServerOptions options, const WebhookPolicy* policy, std::unique_ptr<ServingCert> cert);
  ~WebhookServer();

  // Binds and serves on a thread of its own; returns the port. Error: the port is
  // taken or TLS could not be set up.
  absl::StatusOr<int> Start();
  void Stop();
  // The certificate handshakes use (to renew it in place).
  ServingCert* cert() const { return cert_.get(); }

 private:
  WebhookServerOptions options_;
  const WebhookPolicy* policy_;
  std::unique_ptr<ServingCert> cert_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
};

}  // namespace drover
