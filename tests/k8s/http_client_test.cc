// HttpClient against the fake API server: retries, auth, streaming.
#include "k8s/http_client.h"

#include <catch2/catch.hpp>
#include <simdjson.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <thread>

#include "k8s/api_status.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

TEST_CASE("http_retries_5xx_and_429_then_succeeds", "[k8s][http][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  auto http = server.Client();
  SECTION("500 twice") {
    REQUIRE(server.Control("/_control/faults", R"({"fail_next":{"path_regex":"^/api/v1/nodes$","code":500,"count":2}})").ok());
    absl::StatusOr<HttpResponse> r = http->Send(HttpRequest{.path = "/api/v1/nodes"});
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->attempts == 3);
    CHECK(http->retries() == 2);
  }
  SECTION("429 honours Retry-After") {
    REQUIRE(server.Control("/_control/faults",
                           R"({"fail_next":{"path_regex":"^/api/v1/nodes$","code":429,"count":1,"retry_after":0}})")
                .ok());
    absl::StatusOr<HttpResponse> r = http->Send(HttpRequest{.path = "/api/v1/nodes"});
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->attempts == 2);
  }
  SECTION("429 not retried when the caller says so") {
    REQUIRE(server.Control("/_control/faults",
                           R"({"fail_next":{"path_regex":"^/api/v1/nodes$","code":429,"count":1,"retry_after":0}})")
                .ok());
    absl::StatusOr<HttpResponse> r = http->Send(HttpRequest{.path = "/api/v1/nodes", .retry_on_429 = false});
    REQUIRE(r.ok());
    CHECK(r->status == 429);
    CHECK(r->attempts == 1);
    absl::Status err = ApiError(*r, "list nodes");
    CHECK(absl::IsResourceExhausted(err));
  }
  SECTION("attempts run out: the last response comes back") {
    REQUIRE(server.Control("/_control/faults", R"({"fail_next":{"path_regex":"^/api/v1/nodes$","code":503,"count":50}})").ok());
    absl::StatusOr<HttpResponse> r = http->Send(HttpRequest{.path = "/api/v1/nodes", .max_attempts = 3});
    REQUIRE(r.ok());
    CHECK(r->status == 503);
    CHECK(r->attempts == 3);
  }
}

// Concurrent workers (the actuator's bind workers) each keep a connection open and
// reuse it: a handful of connections serve hundreds of requests. (Sharing one
// libcurl connection cache between threads opened a new connection for nearly
// every request, and a TLS handshake with each.)
TEST_CASE("http_concurrent_workers_reuse_their_connections", "[k8s][http][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  HttpOptions opts = FakeApiServer::FastOptions();
  opts.qps = 0;
  auto http = HttpClient::Create(server.Config(), opts);
  REQUIRE(http.ok());
  constexpr int kWorkers = 8, kEach = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        absl::StatusOr<HttpResponse> r = (*http)->Send(HttpRequest{.path = "/api/v1/namespaces", .max_attempts = 1});
        if (r.ok() && r->status == 200) ok.fetch_add(1);
      }
    });
  }
  for (std::thread& t : workers) t.join();
  REQUIRE(ok.load() == kWorkers * kEach);
  absl::StatusOr<std::string> stats = server.ControlGet("/_control/stats");
  REQUIRE(stats.ok());
  simdjson::dom::parser parser;
  int64_t server_connections = -1;
  REQUIRE(parser.parse(*stats)["connections"]["total"].get_int64().get(server_connections) == simdjson::SUCCESS);
  INFO("connections seen by the server: " << server_connections << ", opened by the client: "
                                          << (*http)->connections_opened());
  CHECK(server_connections <= 2 * kWorkers);
  CHECK((*http)->connections_opened() <= 2 * kWorkers);
  CHECK((*http)->connections_opened() >= 1);
}

TEST_CASE("http_connection_refused_is_unavailable_after_retries", "[k8s][http]") {
  RestConfig cfg;
  cfg.server = "http://127.0.0.1:1";  // nothing listens on port 1
  HttpOptions opts = FakeApiServer::FastOptions();
  opts.max_attempts = 3;
  auto http = HttpClient::Create(cfg, opts);
  REQUIRE(http.ok());
  absl::StatusOr<HttpResponse> r = (*http)->Send(HttpRequest{.path = "/api/v1/nodes"});
  REQUIRE_FALSE(r.ok());
  CHECK(absl::IsUnavailable(r.status()));
  CHECK((*http)->requests_sent() == 3);
}

TEST_CASE("http_bearer_token_and_rotation_through_the_token_file", "[k8s][http][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  char tmpl[] = "/tmp/drover-token-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string token_file = std::string(tmpl) + "/token";
  std::ofstream(token_file) << FakeApiServer::kToken;
  RestConfig cfg = server.Config();
  cfg.token.clear();
  cfg.token_file = token_file;
  auto http = HttpClient::Create(cfg, FakeApiServer::FastOptions());
  REQUIRE(http.ok());
  absl::StatusOr<HttpResponse> r = (*http)->Send(HttpRequest{.path = "/api/v1/nodes"});
  REQUIRE(r.ok());
  CHECK(r->status == 200);

  REQUIRE(server.Control("/_control/faults", R"({"token":"rotated-token-2"})").ok());
  r = (*http)->Send(HttpRequest{.path = "/api/v1/nodes"});
  REQUIRE(r.ok());
  CHECK(r->status == 401);
  CHECK(absl::IsUnauthenticated(ApiError(*r, "list nodes")));
  std::ofstream(token_file + ".new") << "rotated-token-2\n";
  REQUIRE(rename((token_file + ".new").c_str(), token_file.c_str()) == 0);
  // The file is re-read (at most once a second), so the new token is used soon.
  REQUIRE(WaitUntil([&] {
    absl::StatusOr<HttpResponse> again = (*http)->Send(HttpRequest{.path = "/api/v1/nodes"});
    return again.ok() && again->status == 200;
  }));
}

TEST_CASE("http_refuses_a_bearer_token_over_plain_http_to_another_host", "[k8s][http]") {
  // Before: the token was sent over plain HTTP without a word (issue 21 item 19).
  RestConfig cfg;
  cfg.server = "http://10.0.0.1:8080";
  cfg.token = "secret";
  cfg.source = "kubeconfig k";
  absl::StatusOr<std::unique_ptr<HttpClient>> c = HttpClient::Create(cfg);
  REQUIRE_FALSE(c.ok());
  CHECK(absl::IsFailedPrecondition(c.status()));
  CHECK_THAT(std::string(c.status().message()),
             Catch::Contains("kubeconfig k: server \"http://10.0.0.1:8080\" is plain HTTP"));
  cfg.token.clear();
  cfg.token_file = "/var/run/secrets/token";
  CHECK_FALSE(HttpClient::Create(cfg).ok());
  HttpOptions allow;
  allow.allow_bearer_over_http = true;
  CHECK(HttpClient::Create(cfg, allow).ok());  // said explicitly
  cfg.server = "https://10.0.0.1:6443";
  CHECK(HttpClient::Create(cfg).ok());
  for (const char* local : {"http://127.0.0.1:8080", "http://localhost:8001", "http://[::1]:80/"}) {
    cfg.server = local;  // never leaves the host
    CHECK(HttpClient::Create(cfg).ok());
  }
  cfg.server = "http://10.0.0.1:8080";
  cfg.token_file.clear();
  CHECK(HttpClient::Create(cfg).ok());  // no token, nothing to protect
  CHECK_FALSE(IsLoopbackServer("http://127.example.com"));
  CHECK_FALSE(IsLoopbackServer("http://10.1.2.3"));
}

TEST_CASE("http_exec_plugin_token_is_fetched_again_after_a_401", "[k8s][http][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  char tmpl[] = "/tmp/drover-exec-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/token") << FakeApiServer::kToken;
  std::ofstream(dir + "/plugin.sh") << "#!/bin/sh\necho run >> \"$D/runs\"\n"
                                       "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
                                       "\"ExecCredential\",\"status\":{\"token\":\"%s\"}}' \"$(cat \"$D/token\")\"\n";
  REQUIRE(chmod((dir + "/plugin.sh").c_str(), 0755) == 0);
  RestConfig cfg = server.Config();
  cfg.token.clear();
  cfg.exec = ExecConfig{.command = dir + "/plugin.sh", .env = {{"D", dir}}};
  auto http = HttpClient::Create(cfg, FakeApiServer::FastOptions());
  REQUIRE(http.ok());
  auto runs = [&] {
    std::ifstream in(dir + "/runs");
    return static_cast<int>(std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
  };
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> r = (*http)->Send(HttpRequest{.path = "/api/v1/nodes"});
    REQUIRE(r.ok());
    CHECK(r->status == 200);
  }
  CHECK(runs() == 1);  // no expiry: one run serves every request
  // The credential is rotated: the server refuses the old token once, the plugin
  // runs again, and the same request goes through.
  REQUIRE(server.Control("/_control/faults", R"({"token":"rotated-token-3"})").ok());
  std::ofstream(dir + "/token", std::ios::trunc) << "rotated-token-3";
  absl::StatusOr<HttpResponse> r = (*http)->Send(HttpRequest{.path = "/api/v1/nodes"});
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(runs() == 2);
}

TEST_CASE("http_stream_splits_lines_and_can_be_cancelled", "[k8s][http][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start({"--bookmark-interval", "0.1"}).ok());
  REQUIRE(server.Control("/_control/objects", R"({"generate":{"nodes":3}})").ok());
  auto http = server.Client();
  Notification cancel;
  std::atomic<int> lines{0};  // counted on this thread, watched by the canceller
  bool all_json_lines = true;
  std::thread canceller([&] {
    WaitUntil([&] { return lines >= 5; });
    cancel.Notify();
  });
  absl::StatusOr<HttpResponse> r = http->Stream(
      "/api/v1/nodes?watch=true&allowWatchBookmarks=true",
      [&](std::string_view line) {
        all_json_lines = all_json_lines && line.front() == '{' && line.back() == '}';
        ++lines;
        return true;
      },
      &cancel, absl::Seconds(30));
  canceller.join();
  REQUIRE_FALSE(r.ok());
  CHECK(absl::IsCancelled(r.status()));
  CHECK(lines >= 5);  // 3 synthetic ADDED + bookmarks
  CHECK(all_json_lines);

  SECTION("a handler returning false ends the stream cleanly") {
    int seen = 0;
    absl::StatusOr<HttpResponse> r2 = http->Stream(
        "/api/v1/nodes?watch=true", [&](std::string_view) { return ++seen < 2; }, nullptr, absl::Seconds(30));
    REQUIRE(r2.ok());
    CHECK(r2->status == 200);
    CHECK(seen == 2);
  }
  SECTION("a non-200 answer comes back whole") {
    absl::StatusOr<HttpResponse> r3 = http->Stream(
        "/api/v1/nodes?watch=true&resourceVersion=999999999", [&](std::string_view) { return true; }, nullptr,
        absl::Seconds(30));
    REQUIRE(r3.ok());
    CHECK(r3->status != 200);
    CHECK_FALSE(r3->body.empty());
  }
}

// A CA and a server certificate for 127.0.0.1, made with the openssl tool.
// "" when the openssl tool is not installed.
std::string MakeCertificates() {
  if (std::system("command -v openssl > /dev/null 2>&1") != 0) return "";
  char tmpl[] = "/tmp/drover-tls-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string d = tmpl;
  const std::string cmd =
      "cd " + d + " && (openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 "
      "-subj /CN=drover-test-ca && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
      "-subj /CN=127.0.0.1 && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > ext.cnf && "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 "
      "-extfile ext.cnf) > openssl.log 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return d;
}

TEST_CASE("http_tls_with_the_cluster_ca", "[k8s][http][integration]") {
  const std::string dir = MakeCertificates();
  if (dir.empty()) {
    WARN("openssl is not installed: TLS not tested");
    return;
  }
  FakeApiServer server;
  REQUIRE(server.Start({"--tls-cert", dir + "/server.crt", "--tls-key", dir + "/server.key"}).ok());
  RestConfig cfg = server.Config();
  cfg.insecure_skip_tls_verify = false;
  auto get = [&](const RestConfig& c) {
    auto http = HttpClient::Create(c, FakeApiServer::FastOptions());
    REQUIRE(http.ok());
    return (*http)->Send(HttpRequest{.path = "/api/v1/nodes", .max_attempts = 1});
  };
  SECTION("CA as PEM data (certificate-authority-data)") {
    std::ifstream in(dir + "/ca.crt");
    cfg.ca_pem.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    absl::StatusOr<HttpResponse> r = get(cfg);
    REQUIRE(r.ok());
    CHECK(r->status == 200);
  }
  SECTION("CA as a file (certificate-authority)") {
    cfg.ca_file = dir + "/ca.crt";
    absl::StatusOr<HttpResponse> r = get(cfg);
    REQUIRE(r.ok());
    CHECK(r->status == 200);
  }
  SECTION("without the CA the server is not trusted") {
    absl::StatusOr<HttpResponse> r = get(cfg);
    REQUIRE_FALSE(r.ok());
    CHECK(absl::IsFailedPrecondition(r.status()));
  }
  SECTION("insecure-skip-tls-verify") {
    cfg.insecure_skip_tls_verify = true;
    absl::StatusOr<HttpResponse> r = get(cfg);
    REQUIRE(r.ok());
    CHECK(r->status == 200);
  }
}

}  // namespace
}  // namespace drover::k8s::testing
