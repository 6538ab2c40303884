#include "k8s/health.h"

#include <atomic>
#include <catch2/catch.hpp>

#include "core/strings.h"
#include "k8s/http_client.h"

namespace drover::k8s {
namespace {

TEST_CASE("health_endpoints_report_sync_and_leadership", "[k8s][health]") {
  std::atomic<bool> synced{false}, leader{false};
  HealthServer health({.host = "127.0.0.1", .port = 0, .require_leader = true},
                      {.synced = [&] { return synced.load(); }, .leader = [&] { return leader.load(); }});
  absl::StatusOr<int> port = health.Start();
  REQUIRE(port.ok());
  RestConfig cfg;
  cfg.server = StrCat("http://127.0.0.1:", *port);
  auto http = HttpClient::Create(cfg, HttpOptions{.max_attempts = 1});
  REQUIRE(http.ok());
  auto get = [&](const std::string& path) {
    absl::StatusOr<HttpResponse> r = (*http)->Send(HttpRequest{.path = path, .retry_on_429 = false});
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(get("/healthz").status == 200);
  HttpResponse r = get("/readyz");
  CHECK(r.status == 503);
  CHECK(r.body.find("[-]informer-sync") != std::string::npos);
  synced = true;
  r = get("/readyz");
  CHECK(r.status == 503);
  CHECK(r.body.find("[-]leader") != std::string::npos);
  leader = true;
  r = get("/readyz");
  CHECK(r.status == 200);
  CHECK(r.body.find("readyz check passed") != std::string::npos);
  health.Stop();
}

}  // namespace
}  // namespace drover::k8s
