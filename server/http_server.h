// droverd's one HTTP server: the kubelet's probes today, and the routes later
// issues add (metrics, the web page, the status API) on the same port.
//
//   HttpServer http({.port = 10251});
//   http.AddReadyCheck("informer-sync", [&] { return CheckResult{source.Synced(), "not synced yet"}; });
//   http.Get("/api/v1/status", [&](const HttpRequest&) { return HttpResponse{200, json, "application/json"}; });
//   ASSIGN_OR_RETURN(int port, http.Start());
//
//   GET /healthz -> 200 while the process serves.
//   GET /readyz  -> 200 when every ready check passes, else 503; the body lists
//                   each check ("[+]name ok: detail" / "[-]name failed: detail" /
//                   "[!]name degraded: detail", which does not fail it), like the
//                   API server's verbose health output.
//
// The port is bound exclusively (no SO_REUSEPORT): a second droverd on the same
// host and port fails at Start with an error naming the port.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "core/sync.h"

namespace httplib {
class Server;
}

namespace drover {

struct HttpOptions {
  std::string host = "0.0.0.0";
  int port = 10251;  // 0 = any free port
};

struct HttpRequest {
  std::string path;
  std::multimap<std::string, std::string> params;  // query parameters
  std::map<std::string, std::string> headers;      // names in lower case; the first value of each
  // The first value of query parameter `name`, or `fallback`.
  std::string Param(const std::string& name, const std::string& fallback = "") const;
  // Header `name` (lower case), or nullopt when absent.
  std::optional<std::string_view> Header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // more response headers
};

// One readiness check's answer; `detail` is shown either way ("leading",
// "not synced yet"). A `degraded` check is shown as such ("[!]store degraded:
// ...") but does not fail readiness: droverd works on without that part.
struct CheckResult {
  bool ok = true;
  std::string detail;
  bool degraded = false;
};
// Called from the server's threads: must be thread-safe and cheap.
using ReadyCheck = std::function<CheckResult()>;
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  explicit HttpServer(HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a check shown on /readyz, in registration order. Before Start only.
  void AddReadyCheck(std::string name, ReadyCheck check);
  // Registers a GET route (exact path). Before Start only. Handlers run on the
  // server's threads and must be thread-safe.
  void Get(const std::string& path, HttpHandler handler);

  // Binds and serves on a thread; returns the bound port. Error if the port is
  // invalid or taken.
  absl::StatusOr<int> Start();
  void Stop();
  int port() const { return port_; }

  // The /readyz body and whether every check passes (also for tests and logs).
  std::pair<bool, std::string> Readiness() const;

 private:
  const HttpOptions options_;
  std::vector<std::pair<std::string, ReadyCheck>> checks_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace drover
