#include "server/webhook_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "admission/review.h"
#include "admission/webhook.h"
#include "core/strings.h"
#include "placement/engine.h"
#include "spdlog/spdlog.h"

namespace drover {

std::shared_ptr<const admission::AdmissionPolicy> WebhookPolicy::Get() const {
  MutexLock l(&mu_);
  return policy_;
}

void WebhookPolicy::Set(std::shared_ptr<const admission::AdmissionPolicy> policy) {
  MutexLock l(&mu_);
  policy_ = std::move(policy);
}

bool WebhookPolicy::Refresh(const Engine& engine, int64_t revision) {
  const Snapshot& snap = engine.snapshot();
  // Node shapes derive from node specs alone: unchanged while the generation holds.
  if (revision == revision_ && snap.node_spec_generation() == node_generation_ && Get() != nullptr) return false;
  node_generation_ = snap.node_spec_generation();
  admission::GpuNodeShapes shapes;
  for (NodeId id = 0; id < snap.node_slots(); ++id) {
    if (snap.node(id).present) admission::AddNodeShape(&shapes, snap.node(id).node);
  }
  if (revision == revision_ && shapes == shapes_ && Get() != nullptr) return false;
  revision_ = revision;
  shapes_ = shapes;
  Set(std::make_shared<const admission::AdmissionPolicy>(engine.queues().config(), std::move(shapes),
                                                         engine.options().scheduler_name));
  return true;
}

WebhookServer::WebhookServer(WebhookServerOptions options, const WebhookPolicy* policy,
                             std::unique_ptr<ServingCert> cert)
    : options_(std::move(options)), policy_(policy), cert_(std::move(cert)) {}

WebhookServer::~WebhookServer() { Stop(); }

absl::StatusOr<int> WebhookServer::Start() {
  ServingCert* cert = cert_.get();
  server_ = std::make_unique<httplib::SSLServer>([cert](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    SSL_CTX_set_cert_cb(&ctx, &ServingCert::SelectCallback, cert);
    return true;
  });
  if (!server_->is_valid()) return absl::InternalError("webhook: TLS setup failed");
  const int threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_read_timeout(options_.read_timeout_seconds, 0);
  server_->set_write_timeout(options_.write_timeout_seconds, 0);
  server_->set_keep_alive_timeout(options_.keep_alive_seconds);
  server_->set_payload_max_length(admission::kMaxReviewBytes);  // httplib answers 413 past it
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    // Inherited by accepted sockets: without it a reply written in two parts waits out the
    // client's delayed ACK (~40 ms per review); Go's net/http, the API server's client, sets it too.
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  });
  auto handler = [this](admission::Endpoint endpoint) {
    return [this, endpoint](const httplib::Request& req, httplib::Response& res) {
      thread_local admission::Reviewer reviewer;
      std::shared_ptr<const admission::AdmissionPolicy> policy = policy_->Get();
      if (policy == nullptr) {
        res.status = 503;
        res.set_content("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":503,"
                        "\"message\":\"drover admission: no policy yet (informers not synced)\"}",
                        "application/json");
        return;
      }
      admission::HttpReply reply = reviewer.Review(*policy, endpoint, req.body);
      res.status = reply.status;
      res.set_content(std::move(reply.body), "application/json");
    };
  };
  server_->Post("/mutate", handler(admission::Endpoint::kMutate));
  server_->Post("/validate", handler(admission::Endpoint::kValidate));
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.host);
  } else if (!server_->bind_to_port(options_.host, port)) {
    port = -1;
  }
  if (port < 0) return absl::UnavailableError(StrCat("webhook: cannot listen on port ", options_.port));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return port;
}

void WebhookServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace drover
