#include "server/http_server.h"

#include <catch2/catch.hpp>

#include <atomic>

#include "core/strings.h"
#include "k8s/http_client.h"

namespace drover {
namespace {

struct Client {
  explicit Client(int port) {
    k8s::RestConfig cfg;
    cfg.server = StrCat("http://127.0.0.1:", port);
    auto c = k8s::HttpClient::Create(cfg, k8s::HttpOptions{.max_attempts = 1});
    REQUIRE(c.ok());
    http = *std::move(c);
  }
  k8s::HttpResponse Get(const std::string& path) {
    absl::StatusOr<k8s::HttpResponse> r = http->Send(k8s::HttpRequest{.path = path, .retry_on_429 = false});
    REQUIRE(r.ok());
    return *r;
  }
  std::unique_ptr<k8s::HttpClient> http;
};

TEST_CASE("readyz_lists_every_check_and_fails_while_any_fails", "[server][http]") {
  std::atomic<bool> synced{false};
  HttpServer server({.host = "127.0.0.1", .port = 0});
  server.AddReadyCheck("informer-sync",
                       [&] { return synced ? CheckResult{true, ""} : CheckResult{false, "not synced yet"}; });
  server.AddReadyCheck("leader", [] { return CheckResult{true, "standby"}; });
  absl::StatusOr<int> port = server.Start();
  REQUIRE(port.ok());
  Client c(*port);
  CHECK(c.Get("/healthz").status == 200);
  k8s::HttpResponse r = c.Get("/readyz");
  CHECK(r.status == 503);
  CHECK(r.body.find("[-]informer-sync failed: not synced yet") != std::string::npos);
  CHECK(r.body.find("[+]leader ok: standby") != std::string::npos);
  synced = true;
  r = c.Get("/readyz");
  CHECK(r.status == 200);
  CHECK(r.body.find("readyz check passed") != std::string::npos);
  server.Stop();
}

TEST_CASE("a_degraded_check_is_shown_but_does_not_fail_readiness", "[server][http]") {
  HttpServer server({.host = "127.0.0.1", .port = 0});
  server.AddReadyCheck("store", [] { return CheckResult{true, "usage: the disk is full", /*degraded=*/true}; });
  auto [ready, body] = server.Readiness();
  CHECK(ready);
  CHECK(body.find("[!]store degraded: usage: the disk is full") != std::string::npos);
}

TEST_CASE("routes_receive_query_parameters", "[server][http]") {
  HttpServer server({.host = "127.0.0.1", .port = 0});
  server.Get("/echo", [](const HttpRequest& req) {
    return HttpResponse{req.Param("x").empty() ? 400 : 200, req.Param("x"), "text/plain"};
  });
  absl::StatusOr<int> port = server.Start();
  REQUIRE(port.ok());
  Client c(*port);
  CHECK(c.Get("/echo?x=abc").body == "abc");
  CHECK(c.Get("/echo").status == 400);
  CHECK(c.Get("/nothing-here").status == 404);
}

TEST_CASE("a_second_server_on_a_taken_port_fails_with_the_port_named", "[server][http]") {
  HttpServer first({.host = "127.0.0.1", .port = 0});
  absl::StatusOr<int> port = first.Start();
  REQUIRE(port.ok());
  HttpServer second({.host = "127.0.0.1", .port = *port});
  absl::StatusOr<int> again = second.Start();
  REQUIRE_FALSE(again.ok());
  CHECK(std::string(again.status().message()).find(StrCat(":", *port)) != std::string::npos);
  HttpServer bad({.host = "127.0.0.1", .port = 99999});
  absl::StatusOr<int> out_of_range = bad.Start();
  REQUIRE_FALSE(out_of_range.ok());
  CHECK(std::string(out_of_range.status().message()).find("99999") != std::string::npos);
}

}  // namespace
}  // namespace drover
