#include "k8s/http_client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>

#include "core/strings.h"
#include "k8s/text.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace drover::k8s {
namespace {

using ChronoSteady = std::chrono::steady_clock;
constexpr size_t kBodyPadding = 64;  // >= SIMDJSON_PADDING, so decoders need not copy

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool IsRetryable(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

void SetBlob(CURL* h, CURLoption opt, const std::string& data) {
  curl_blob blob{const_cast<char*>(data.data()), data.size(), CURL_BLOB_COPY};
  curl_easy_setopt(h, opt, &blob);
}

}  // namespace

struct HttpClient::Share {
  CURLSH* sh = nullptr;
  std::mutex mu[CURL_LOCK_DATA_LAST];
};

// The state of one transfer, seen by libcurl's callbacks.
struct HttpClient::Transfer {
  const HttpClient* client = nullptr;
  CURL* handle = nullptr;
  std::string body;
  long status = 0;
  std::optional<absl::Duration> retry_after;
  // Streaming.
  const LineHandler* on_line = nullptr;
  std::string line_buf;
  bool stopped_by_handler = false;
  const Notification* cancel = nullptr;
  absl::Duration idle_timeout = absl::InfiniteDuration();
  ChronoSteady::time_point last_byte = ChronoSteady::now();
  bool idle_expired = false;
  char error[CURL_ERROR_SIZE] = {0};

  // Feeds complete lines to on_line; false when the handler asked to stop.
  bool SplitLines(const char* data, size_t len, bool flush) {
    size_t search_from = line_buf.size();
    line_buf.append(data, len);
    size_t start = 0;
    while (true) {
      size_t nl = line_buf.find('\n', search_from);
      size_t end = nl;
      if (nl == std::string::npos) {
        if (!flush || start >= line_buf.size()) break;
        end = line_buf.size();
      }
      std::string_view line(line_buf.data() + start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      start = nl == std::string::npos ? line_buf.size() : nl + 1;
      search_from = start;
      if (!line.empty() && !(*on_line)(line)) {
        stopped_by_handler = true;
        return false;
      }
      if (nl == std::string::npos) break;
    }
    line_buf.erase(0, start);
    return true;
  }
};

namespace {

size_t OnWrite(char* data, size_t size, size_t n, void* ud) {
  auto* t = static_cast<HttpClient::Transfer*>(ud);
  const size_t len = size * n;
  t->last_byte = ChronoSteady::now();
  if (t->on_line != nullptr) {
    long code = 0;
    curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &code);
    if (code == 200) return t->SplitLines(data, len, false) ? len : 0;
  }
  if (t->body.capacity() < t->body.size() + len + kBodyPadding) {
    t->body.reserve(std::max(t->body.capacity() * 2, t->body.size() + len + kBodyPadding));
  }
  t->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* ud) {
  auto* t = static_cast<HttpClient::Transfer*>(ud);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) t->retry_after.reset();  // a new response (after 100 or a redirect)
  constexpr std::string_view kRetryAfter = "retry-after:";
  if (line.size() > kRetryAfter.size() && EqualsIgnoreCase(line.substr(0, kRetryAfter.size()), kRetryAfter)) {
    std::string_view v = Trim(line.substr(kRetryAfter.size()));
    int seconds = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (ec == std::errc() && ptr == v.data() + v.size() && seconds >= 0) t->retry_after = absl::Seconds(seconds);
  }
  return size * n;
}

int OnProgress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<HttpClient::Transfer*>(ud);
  if (t->client->shutting_down()) return 1;
  if (t->cancel != nullptr && t->cancel->HasBeenNotified()) return 1;
  if (t->idle_timeout != absl::InfiniteDuration() &&
      ChronoSteady::now() - t->last_byte > absl::ToChronoNanoseconds(t->idle_timeout)) {
    t->idle_expired = true;
    return 1;
  }
  return 0;
}

void LockShare(CURL*, curl_lock_data data, curl_lock_access, void* ud) {
  static_cast<std::mutex*>(ud)[data].lock();
}
void UnlockShare(CURL*, curl_lock_data data, void* ud) { static_cast<std::mutex*>(ud)[data].unlock(); }

}  // namespace

HttpClient::HttpClient(RestConfig cfg, HttpOptions opts)
    : cfg_(std::move(cfg)),
      opts_(std::move(opts)),
      clock_(opts_.clock != nullptr ? opts_.clock : RealClock()),
      tokens_(cfg_.token, cfg_.token_file, absl::Seconds(1), clock_, cfg_.exec),
      limiter_(opts_.qps, opts_.burst, clock_),
      share_(std::make_unique<Share>()) {}

bool IsLoopbackServer(std::string_view server) {
  const size_t scheme = server.find("://");
  std::string_view host = scheme == std::string_view::npos ? server : server.substr(scheme + 3);
  host = host.substr(0, host.find('/'));
  if (host.starts_with("[")) return host.starts_with("[::1]");
  host = host.substr(0, host.find(':'));
  const bool ipv4 = !host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos;
  return host == "localhost" || (ipv4 && host.starts_with("127."));
}

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(const RestConfig& cfg, const HttpOptions& opts) {
  if (!cfg.server.starts_with("http://") && !cfg.server.starts_with("https://")) {
    return absl::InvalidArgumentError(StrCat(cfg.source, ": server \"", cfg.server, "\" is not an http(s) URL"));
  }
  const bool bearer = !cfg.token.empty() || !cfg.token_file.empty() || cfg.exec.has_value();
  if (bearer && cfg.server.starts_with("http://") && !IsLoopbackServer(cfg.server) && !opts.allow_bearer_over_http) {
    return absl::FailedPreconditionError(
        StrCat(cfg.source, ": server \"", CutForMessage(cfg.server),
               "\" is plain HTTP, and a bearer token sent there travels unencrypted (client-go refuses too): use an "
               "https:// server, or allow it explicitly (HttpOptions::allow_bearer_over_http)"));
  }
  GlobalInit();
  std::unique_ptr<HttpClient> c(new HttpClient(cfg, opts));
  CURLSH* sh = curl_share_init();
  if (sh == nullptr) return absl::InternalError("curl_share_init failed");
  c->share_->sh = sh;
  curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, LockShare);
  curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, UnlockShare);
  curl_share_setopt(sh, CURLSHOPT_USERDATA, c->share_->mu);
  // Connections are not shared: each pooled handle keeps its own, so a worker
  // reuses its connection. libcurl's shared connection cache, used from several
  // threads, kept few idle connections and opened one for nearly every request
  // (curl issue 9404). DNS and TLS sessions are shared (resumption is cheap).
  curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return c;
}

HttpClient::~HttpClient() {
  Shutdown();
  MutexLock lock(&pool_mu_);
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
  idle_.clear();
  if (share_->sh != nullptr) curl_share_cleanup(share_->sh);
}

void HttpClient::Shutdown() {
  if (!shutdown_.HasBeenNotified()) shutdown_.Notify();
}

void* HttpClient::AcquireHandle() {
  {
    MutexLock lock(&pool_mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::ReleaseHandle(void* h) {
  MutexLock lock(&pool_mu_);
  if (static_cast<int>(idle_.size()) < opts_.max_idle_handles) {
    idle_.push_back(h);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(h));
  }
}

void HttpClient::Configure(void* handle, Transfer* t, const HttpRequest& req, curl_slist** headers) {
  CURL* h = static_cast<CURL*>(handle);
  curl_easy_reset(h);
  const std::string url = cfg_.server + req.path;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_SHARE, share_->sh);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, opts_.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(opts_.connect_timeout)));
  if (t->on_line == nullptr) {
    const absl::Duration timeout = req.timeout > absl::ZeroDuration() ? req.timeout : opts_.request_timeout;
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  }
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_USERAGENT, opts_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);

  // TLS.
  if (!cfg_.ca_pem.empty()) SetBlob(h, CURLOPT_CAINFO_BLOB, cfg_.ca_pem);
  if (!cfg_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, cfg_.ca_file.c_str());
  if (cfg_.insecure_skip_tls_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!cfg_.client_cert_pem.empty()) {
    SetBlob(h, CURLOPT_SSLCERT_BLOB, cfg_.client_cert_pem);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!cfg_.client_key_pem.empty()) {
    SetBlob(h, CURLOPT_SSLKEY_BLOB, cfg_.client_key_pem);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (!cfg_.client_cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, cfg_.client_cert_file.c_str());
  if (!cfg_.client_key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, cfg_.client_key_file.c_str());

  // Method, body, headers.
  *headers = curl_slist_append(*headers, "Accept: application/json");
  *headers = curl_slist_append(*headers, "Expect:");
  if (std::string token = tokens_.Token(); !token.empty()) {
    *headers = curl_slist_append(*headers, StrCat("Authorization: Bearer ", token).c_str());
  }
  for (const std::string& line : req.headers) {
    if (line.find_first_of("\r\n") == std::string::npos) *headers = curl_slist_append(*headers, line.c_str());
  }
  if (req.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (!req.body.empty() || req.method == "POST") {
      *headers = curl_slist_append(*headers, StrCat("Content-Type: ", req.content_type).c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    }
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
}

int HttpClient::Perform(const HttpRequest& req, Transfer* t) {
  CURL* h = static_cast<CURL*>(AcquireHandle());
  if (h == nullptr) return CURLE_FAILED_INIT;
  t->client = this;
  t->handle = h;
  t->last_byte = ChronoSteady::now();
  curl_slist* headers = nullptr;
  Configure(h, t, req, &headers);
  requests_sent_.fetch_add(1, std::memory_order_relaxed);
  CURLcode code = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  long connects = 0;
  if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) connections_opened_.fetch_add(connects);
  {
    MutexLock lock(&counts_mu_);
    ++request_counts_[{req.method.empty() ? "GET" : req.method, status > 0 ? std::to_string(status) : "error"}];
  }
  if (code == CURLE_OK && t->on_line != nullptr && status == 200 && !t->line_buf.empty()) {
    t->SplitLines("", 0, /*flush=*/true);
  }
  curl_slist_free_all(headers);
  // Keep the handle (and its connection) only after a clean transfer.
  if (code == CURLE_OK) {
    ReleaseHandle(h);
  } else {
    curl_easy_cleanup(h);
  }
  t->handle = nullptr;
  if (t->body.capacity() < t->body.size() + kBodyPadding) t->body.reserve(t->body.size() + kBodyPadding);
  t->status = status;
  return code;
}

std::map<std::pair<std::string, std::string>, int64_t> HttpClient::RequestCounts() const {
  MutexLock lock(&counts_mu_);
  return request_counts_;
}

absl::Duration HttpClient::Backoff(int attempt) const {
  thread_local absl::BitGen gen;
  absl::Duration d = opts_.initial_backoff;
  for (int i = 1; i < attempt && d < opts_.max_backoff; ++i) d *= 2;
  d = std::min(d, opts_.max_backoff);
  return d / 2 + absl::Uniform(gen, 0.0, 0.5) * d;  // equal jitter: [d/2, d)
}

bool HttpClient::SleepUnlessShutdown(absl::Duration d) const { return clock_->SleepFor(d, &shutdown_); }

absl::StatusOr<HttpResponse> HttpClient::Send(const HttpRequest& req) {
  const int max_attempts = std::max(1, req.max_attempts > 0 ? req.max_attempts : opts_.max_attempts);
  bool refreshed_token = false;
  for (int attempt = 1;; ++attempt) {
    if (!limiter_.Acquire(&shutdown_)) return absl::CancelledError("HTTP client shut down");
    Transfer t;
    CURLcode code = static_cast<CURLcode>(Perform(req, &t));
    const std::string what = StrCat(req.method, " ", req.path);
    if (code == CURLE_ABORTED_BY_CALLBACK) return absl::CancelledError(StrCat(what, ": cancelled"));
    HttpResponse resp;
    absl::Status transport;
    bool retry = false;
    if (code == CURLE_OK) {
      resp.status = t.status;
      resp.body = std::move(t.body);
      resp.attempts = attempt;
      retry = resp.status >= 500 || (resp.status == 429 && req.retry_on_429);
      // A refused token that can change (a plugin's, a file's) is fetched again and
      // the request retried once, at once, like client-go's exec authenticator.
      if (resp.status == 401 && !refreshed_token && tokens_.Invalidate()) {
        refreshed_token = true;
        --attempt;
        continue;
      }
    } else {
      std::string detail = t.error[0] != '\0' ? t.error : curl_easy_strerror(code);
      if (!IsRetryable(code)) {
        return absl::FailedPreconditionError(StrCat(what, ": ", cfg_.server, ": ", detail));
      }
      transport = absl::UnavailableError(StrCat(what, ": ", cfg_.server, ": ", detail, " (after ", attempt,
                                                      attempt == 1 ? " attempt)" : " attempts)"));
      retry = true;
    }
    if (!retry || attempt >= max_attempts) {
      if (!transport.ok()) return transport;
      return resp;
    }
    absl::Duration delay = t.retry_after.has_value() ? std::min(*t.retry_after, opts_.max_retry_after) : Backoff(attempt);
    retries_.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("{}: {} (attempt {}), retrying in {}", what,
                  transport.ok() ? StrCat("HTTP ", resp.status) : std::string(Msg(transport)), attempt,
                  absl::FormatDuration(delay));
    if (!SleepUnlessShutdown(delay)) return absl::CancelledError(StrCat(what, ": cancelled"));
  }
}

absl::StatusOr<HttpResponse> HttpClient::Stream(const std::string& path, const LineHandler& on_line,
                                                const Notification* cancel, absl::Duration idle_timeout) {
  if (!limiter_.Acquire(&shutdown_)) return absl::CancelledError("HTTP client shut down");
  HttpRequest req;
  req.path = path;
  Transfer t;
  t.on_line = &on_line;
  t.cancel = cancel;
  t.idle_timeout = idle_timeout;
  CURLcode code = static_cast<CURLcode>(Perform(req, &t));
  HttpResponse resp;
  resp.status = t.status;
  resp.body = std::move(t.body);
  if (resp.status == 401) tokens_.Invalidate();  // the watcher's next try fetches a new token
  if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && t.stopped_by_handler)) return resp;
  if (code == CURLE_ABORTED_BY_CALLBACK) {
    if (t.idle_expired) {
      return absl::DeadlineExceededError(StrCat("GET ", path, ": no data for ", absl::FormatDuration(idle_timeout)));
    }
    return absl::CancelledError(StrCat("GET ", path, ": cancelled"));
  }
  std::string detail = t.error[0] != '\0' ? t.error : curl_easy_strerror(code);
  return absl::UnavailableError(StrCat("GET ", path, ": ", cfg_.server, ": ", detail));
}

}  // namespace drover::k8s
