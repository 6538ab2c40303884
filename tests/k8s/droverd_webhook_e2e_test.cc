// End-to-end: droverd's admission webhook, called by the test API server as a real
// API server calls it (deploy/40-webhook.yaml's configurations, caBundle set by
// droverd itself, matchConditions, failurePolicy). A plain GPU pod manifest with no
// Drover annotation is admitted, routed to Drover, put in its namespace's queue and
// bound; a pod asking 90 CPUs for 1 of 8 GPUs is refused with the message kubectl shows.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "core/strings.h"
#include "k8s/http_client.h"
#include "tests/k8s/droverd_harness.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

constexpr absl::Duration kWait = absl::Seconds(60);

constexpr const char* kQueues = R"(placement:
  namespaces: {team-a: root.research}
queues:
  children:
    - name: research
      guaranteed: {gpu: {A100: 8}}
    - name: other
    - name: shared
      submit: {users: [alice]}
)";

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// A pod manifest as a user writes it: no schedulerName, no Drover annotation.
std::string PlainPod(const std::string& name, const std::string& requests, const std::string& annotations = "") {
  return StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")", name, "\"",
                annotations.empty() ? "" : StrCat(",\"annotations\":", annotations),
                R"(},"spec":{"restartPolicy":"Never","containers":[{"name":"main","image":"trainer:1",)",
                R"("resources":{"limits":{"nvidia.com/gpu":"1"})", requests, "}}]}}");
}

constexpr const char* kMutating = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/drover";

bool HasCaBundle(HttpClient* http) {
  absl::StatusOr<HttpResponse> r = http->Send({.method = "GET", .path = kMutating});
  return r.ok() && r->status == 200 && r->body.find("\"caBundle\"") != std::string::npos;
}

TEST_CASE("webhook_routes_a_plain_gpu_pod_to_drover_and_refuses_a_disproportionate_one", "[k8s][e2e][webhook]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  std::unique_ptr<HttpClient> http = server.Client();
  std::vector<NodeSpec> nodes;
  for (int i = 0; i < 2; ++i) nodes.push_back(NodeSpec{StrCat("a100-", i), "NVIDIA-A100-SXM4-80GB", "A100", 8, 96, 960});
  REQUIRE(Seed(server, nodes, {}).ok());
  const char* src = std::getenv("DROVER_SOURCE_DIR");
  const std::string manifest = StrCat(src != nullptr ? src : ".", "/deploy/40-webhook.yaml");
  absl::StatusOr<std::string> applied = server.Control("/_control/manifest", StrCat(R"({"path":")", manifest, "\"}"));
  REQUIRE(applied.ok());
  const int port = FreePort();
  REQUIRE(server.Control("/_control/webhook-endpoints",
                         StrCat(R"({"service":"drover-system/drover-webhook","port":)", port, "}"))
              .ok());

  const std::string dir = MakeTempDir("droverd-webhook");
  std::vector<std::string> args = DroverdArgs(server, dir, "replica-a",
                                              {"--webhook-port", std::to_string(port), "--webhook-cert-check", "1s"});
  REQUIRE(WriteFile(dir + "/queues.yaml", kQueues).ok());
  DroverdProcess d(dir + "/a.log");
  REQUIRE(d.Start(args).ok());
  REQUIRE(WaitUntil([&] { return d.Log().find("webhook: policy of configuration revision") != std::string::npos; },
                    kWait));
  INFO(d.Log());

  absl::StatusOr<HttpResponse> plain = http->Send(
      {.method = "POST", .path = "/api/v1/namespaces/team-a/pods", .body = PlainPod("plain", "")});
  REQUIRE(plain.ok());
  INFO(plain->body);
  REQUIRE(plain->status == 201);
  CHECK(plain->body.find(R"("schedulerName":"drover")") != std::string::npos);
  CHECK(plain->body.find(R"("drover.io/queue":"root.research")") != std::string::npos);
  CHECK(plain->body.find(R"("requests":{"nvidia.com/gpu":"1","cpu":"12","memory":"120Gi"})") != std::string::npos);
  ServerPod bound;
  CHECK(WaitUntil(
      [&] {
        absl::StatusOr<std::map<std::string, ServerPod>> pods = ListServerPods(http.get());
        if (!pods.ok() || pods->count("team-a/plain") == 0) return false;
        bound = pods->at("team-a/plain");
        return !bound.node.empty();
      },
      kWait));
  CHECK(bound.node.rfind("a100-", 0) == 0);
  CHECK(d.Log().find("root.research") != std::string::npos);

  absl::StatusOr<HttpResponse> greedy = http->Send({.method = "POST",
                                                    .path = "/api/v1/namespaces/team-a/pods",
                                                    .body = PlainPod("greedy", R"(,"requests":{"cpu":"90"})")});
  REQUIRE(greedy.ok());
  INFO(greedy->body);
  CHECK(greedy->status == 403);
  // kubectl prints: Error from server (Forbidden): error when creating "pod.yaml": <message>
  CHECK(greedy->body.find(R"("reason":"Forbidden")") != std::string::npos);
  CHECK(greedy->body.find(
            R"("message":"admission webhook \"validate.drover.io\" denied the request: pod team-a/greedy: )"
            R"(spec.containers[*].resources.requests.cpu: 90 for 1 GPU is above the limit of 15 (15 per GPU: )"
            R"x(A100 nodes: 96 cpu for 8 GPUs, +25%)")x") != std::string::npos);

  // A CPU pod is not sent to the webhook at all (matchConditions): created untouched.
  absl::StatusOr<HttpResponse> cpu = http->Send(
      {.method = "POST", .path = "/api/v1/namespaces/team-a/pods",
       .body = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"w","image":"nginx"}]}})"});
  REQUIRE(cpu.ok());
  CHECK(cpu->status == 201);
  CHECK(cpu->body.find(R"("schedulerName":"default-scheduler")") != std::string::npos);

  // Users, as the API server knows them (kubectl --as): root.shared grants user alice, not namespace team-a.
  const std::string shared = R"({"drover.io/queue":"root.shared"})";
  absl::StatusOr<HttpResponse> as_bob =
      http->Send({.method = "POST", .path = "/api/v1/namespaces/team-a/pods",
                  .body = PlainPod("by-bob", "", shared), .headers = {"Impersonate-User: bob"}});
  REQUIRE(as_bob.ok());
  INFO(as_bob->body);
  CHECK(as_bob->status == 403);
  CHECK(as_bob->body.find(R"(namespace \"team-a\" and user \"bob\" may not submit to queue \"root.shared\")") !=
        std::string::npos);
  absl::StatusOr<HttpResponse> as_alice =
      http->Send({.method = "POST", .path = "/api/v1/namespaces/team-a/pods",
                  .body = PlainPod("by-alice", "", shared), .headers = {"Impersonate-User: alice"}});
  REQUIRE(as_alice.ok());
  INFO(as_alice->body);
  REQUIRE(as_alice->status == 201);
  CHECK(as_alice->body.find(R"("drover.io/submit-grant":"user:alice")") != std::string::npos);
  // Bob writing alice's grant himself is refused at the door.
  absl::StatusOr<HttpResponse> forged = http->Send(
      {.method = "POST", .path = "/api/v1/namespaces/team-a/pods",
       .body = PlainPod("forged", "", R"({"drover.io/queue":"root.shared","drover.io/submit-grant":"user:alice"})"),
       .headers = {"Impersonate-User: bob"}});
  REQUIRE(forged.ok());
  CHECK(forged->status == 403);
  // The scheduler honours the grant the webhook vouched for: alice's pod binds.
  CHECK(WaitUntil(
      [&] {
        absl::StatusOr<std::map<std::string, ServerPod>> pods = ListServerPods(http.get());
        return pods.ok() && pods->count("team-a/by-alice") == 1 && !pods->at("team-a/by-alice").node.empty();
      },
      kWait));

  // The configuration re-created from deploy/ (no caBundle): droverd sets it again within its check period,
  // and GPU pods are routed to it again.
  absl::StatusOr<HttpResponse> deleted = http->Send({.method = "DELETE", .path = kMutating});
  REQUIRE(deleted.ok());
  REQUIRE(server.Control("/_control/manifest", StrCat(R"({"path":")", manifest, "\"}")).ok());
  REQUIRE_FALSE(HasCaBundle(http.get()));
  CHECK(WaitUntil([&] { return HasCaBundle(http.get()); }, kWait));
  absl::StatusOr<HttpResponse> again = http->Send(
      {.method = "POST", .path = "/api/v1/namespaces/team-a/pods", .body = PlainPod("plain-again", "")});
  REQUIRE(again.ok());
  CHECK(again->status == 201);
  CHECK(again->body.find(R"("schedulerName":"drover")") != std::string::npos);
  CHECK(d.Log().find("set it again") != std::string::npos);
  d.Signal(SIGTERM);
  CHECK(d.Wait(absl::Seconds(20)).value_or(-1) == 0);
}

}  // namespace
}  // namespace drover::k8s::testing
