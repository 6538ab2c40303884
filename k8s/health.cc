#include "k8s/health.h"

#include <httplib.h>

#include "core/strings.h"

namespace drover::k8s {

HealthServer::HealthServer(HealthOptions opts, HealthChecks checks)
    : opts_(std::move(opts)), checks_(std::move(checks)), server_(std::make_unique<httplib::Server>()) {}

HealthServer::~HealthServer() { Stop(); }

absl::StatusOr<int> HealthServer::Start() {
  server_->set_keep_alive_max_count(1);  // probes open a connection per check
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("[+]ping ok\nhealthz check passed\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const bool synced = !checks_.synced || checks_.synced();
    const bool leader = checks_.leader && checks_.leader();
    const bool ready = synced && (!opts_.require_leader || leader);
    std::string body = StrCat(synced ? "[+]informer-sync ok\n" : "[-]informer-sync failed: not synced yet\n");
    if (checks_.leader) {
      StrAppend(&body, leader ? "[+]leader ok: leading\n"
                              : (opts_.require_leader ? "[-]leader failed: not the leader\n" : "[+]leader ok: standby\n"));
    }
    StrAppend(&body, ready ? "readyz check passed\n" : "readyz check failed\n");
    res.status = ready ? 200 : 503;
    res.set_content(body, "text/plain");
  });
  int port = opts_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(opts_.host);
  } else if (!server_->bind_to_port(opts_.host, port)) {
    port = -1;
  }
  if (port < 0) return absl::UnavailableError(StrCat("health server: cannot bind ", opts_.host, ":", opts_.port));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return port;
}

void HealthServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace drover::k8s
