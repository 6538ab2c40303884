#include "server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "core/strings.h"

namespace drover {
namespace {

// Like httplib's default, minus SO_REUSEPORT: two processes must not share a port.
void ExclusiveSocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace

std::string HttpRequest::Param(const std::string& name, const std::string& fallback) const {
  auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

HttpServer::HttpServer(HttpOptions options)
    : options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {}

HttpServer::~HttpServer() { Stop(); }

std::optional<std::string_view> HttpRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return std::string_view(it->second);
}

void HttpServer::AddReadyCheck(std::string name, ReadyCheck check) {
  checks_.emplace_back(std::move(name), std::move(check));
}

void HttpServer::Get(const std::string& path, HttpHandler handler) {
  server_->Get(path, [h = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    HttpRequest r{req.path, {req.params.begin(), req.params.end()}, {}};
    for (const auto& [name, value] : req.headers) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      r.headers.emplace(std::move(lower), value);  // the first value wins
    }
    HttpResponse out = h(r);
    res.status = out.status;
    for (const auto& [name, value] : out.headers) res.set_header(name, value);
    res.set_content(out.body, out.content_type);
  });
}

std::pair<bool, std::string> HttpServer::Readiness() const {
  bool ready = true;
  std::string body;
  for (const auto& [name, check] : checks_) {
    const CheckResult r = check();
    ready = ready && r.ok;
    const bool degraded = r.ok && r.degraded;
    StrAppend(&body, !r.ok ? "[-]" : degraded ? "[!]" : "[+]", name, !r.ok ? " failed" : degraded ? " degraded" : " ok",
              r.detail.empty() ? "" : ": ", r.detail, "\n");
  }
  StrAppend(&body, ready ? "readyz check passed\n" : "readyz check failed\n");
  return {ready, body};
}

absl::StatusOr<int> HttpServer::Start() {
  if (options_.port < 0 || options_.port > 65535) {
    return absl::InvalidArgumentError(StrCat("http server: port ", options_.port, " is not in 0..65535"));
  }
  server_->set_socket_options(ExclusiveSocketOptions);
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("[+]ping ok\nhealthz check passed\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    auto [ready, body] = Readiness();
    res.status = ready ? 200 : 503;
    res.set_content(body, "text/plain");
  });
  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.host);
  } else if (!server_->bind_to_port(options_.host, port)) {
    port = -1;
  }
  if (port < 0) {
    return absl::UnavailableError(
        StrCat("http server: cannot bind ", options_.host, ":", options_.port, " (in use by another process?)"));
  }
  port_ = port;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() is a no-op until the listen loop runs: wait for it, so a
  // Stop right after Start cannot leave the loop running (and the join hanging).
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void HttpServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace drover
