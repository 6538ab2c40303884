// An HTTP client for one Kubernetes API server, on libcurl.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> http, HttpClient::Create(cfg, HttpOptions{}));
//   ASSIGN_OR_RETURN(HttpResponse r, http->Send({.method = "GET", .path = "/api/v1/nodes?limit=500"}));
//   if (r.status != 200) return ApiError(r, "list nodes");
//
// What it does for every request, like client-go's rest client:
//  - keeps a pool of curl handles, each with its own kept-alive connection, so
//    concurrent workers reuse connections (about one per worker); DNS and TLS
//    sessions are shared between handles (CURLSH);
//  - HTTP/2 over TLS where the server offers it, gzip responses, the cluster CA,
//    client certificates, a bearer token re-read from its file when it rotates;
//  - a client-side token bucket (QPS 50, burst 100 by default);
//  - retries with exponential backoff and jitter on connection errors, 5xx and 429,
//    honouring Retry-After (429 retries can be turned off per request, for the
//    eviction API where a 429 is the answer, not overload).
// Stream() serves watches: the body is split into lines as it arrives.
//
// Thread-safe: any number of threads may call Send/Stream at once. Shutdown()
// aborts in-flight transfers and backoff sleeps; later calls return Cancelled.
#pragma once

#include <atomic>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/sync.h"
#include "k8s/clock.h"
#include "k8s/kubeconfig.h"
#include "k8s/rate_limiter.h"
#include "k8s/token_source.h"

struct curl_slist;

namespace drover::k8s {

struct HttpOptions {
  double qps = 50;
  int burst = 100;
  int max_attempts = 5;  // per request, first try included
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
  absl::Duration max_retry_after = absl::Seconds(60);  // cap on a server's Retry-After
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration request_timeout = absl::Seconds(60);  // Send only; streams use an idle timeout
  std::string user_agent = "drover/0.1";
  bool http2 = true;
  // Idle handles kept, each with its connection: at least the number of threads
  // that send at once (bind workers and the rest), or connections churn.
  int max_idle_handles = 32;
  // A bearer token is not sent over plain http:// to another host (it would travel
  // unencrypted): Create fails unless this is set. Loopback servers are exempt.
  bool allow_bearer_over_http = false;
  // Times the rate limiter, the token file's re-read and retry back-off; not
  // owned. Null: RealClock(). (Transfers' own timeouts are libcurl's, in real time.)
  SteadyClock* clock = nullptr;
};

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // "/api/v1/pods?limit=500", appended to the server URL
  std::string body;
  std::string content_type = "application/json";
  bool retry_on_429 = true;
  int max_attempts = 0;  // 0 = HttpOptions::max_attempts
  absl::Duration timeout = absl::ZeroDuration();  // 0 = HttpOptions::request_timeout
  // Extra header lines, "Name: value" (e.g. "Impersonate-User: alice"); no CR or LF inside.
  std::vector<std::string> headers;
};

struct HttpResponse {
  long status = 0;
  std::string body;  // has spare capacity for simdjson's padding
  int attempts = 1;  // how many tries it took
};

// Called with each line of a streamed 200 body; return false to end the stream.
using LineHandler = std::function<bool(std::string_view line)>;

// Whether an http(s) URL names this host (localhost, 127.0.0.0/8, [::1]).
bool IsLoopbackServer(std::string_view server);

class HttpClient {
 public:
  // Error: the server is not an http(s) URL; a bearer token would go over plain
  // HTTP to another host (FailedPrecondition, see allow_bearer_over_http).
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(const RestConfig& cfg, const HttpOptions& opts = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request, retrying as described above. Any HTTP status is a response
  // (the last one, after retries); errors are transport failures after retries
  // (Unavailable), bad TLS/URL settings (FailedPrecondition) or Cancelled.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& req);

  // GETs `path` once (no retries: watchers own their backoff). A 200 body is fed to
  // `on_line` line by line and the response body is left empty; any other status
  // is returned with its body. Ends OK when the server closes the stream or
  // `on_line` returns false; Cancelled when `cancel` (may be null) or Shutdown
  // fires; DeadlineExceeded when no byte arrived for `idle_timeout`.
  absl::StatusOr<HttpResponse> Stream(const std::string& path, const LineHandler& on_line,
                                      const Notification* cancel, absl::Duration idle_timeout);

  void Shutdown();
  bool shutting_down() const { return shutdown_.HasBeenNotified(); }

  const RestConfig& config() const { return cfg_; }
  const HttpOptions& options() const { return opts_; }
  int64_t requests_sent() const { return requests_sent_.load(); }
  int64_t retries() const { return retries_.load(); }
  // New connections (TCP, and TLS handshakes on https) opened so far.
  int64_t connections_opened() const { return connections_opened_.load(); }
  // Attempts so far by (verb, HTTP status or "error" for a transport failure), for metrics.
  std::map<std::pair<std::string, std::string>, int64_t> RequestCounts() const;

  struct Transfer;  // internal: one transfer's state, seen by libcurl callbacks

 private:
  struct Share;

  HttpClient(RestConfig cfg, HttpOptions opts);
  void* AcquireHandle();
  void ReleaseHandle(void* h);
  void Configure(void* h, Transfer* t, const HttpRequest& req, ::curl_slist** headers);
  // One attempt; fills t. Returns the curl code.
  int Perform(const HttpRequest& req, Transfer* t);
  absl::Duration Backoff(int attempt) const;
  bool SleepUnlessShutdown(absl::Duration d) const;

  const RestConfig cfg_;
  const HttpOptions opts_;
  SteadyClock* const clock_;
  TokenSource tokens_;
  RateLimiter limiter_;
  std::unique_ptr<Share> share_;
  Mutex pool_mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(pool_mu_);  // idle curl handles
  Notification shutdown_;
  std::atomic<int64_t> requests_sent_{0};
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> connections_opened_{0};
  mutable Mutex counts_mu_;
  std::map<std::pair<std::string, std::string>, int64_t> request_counts_ ABSL_GUARDED_BY(counts_mu_);
};

}  // namespace drover::k8s
