// End-to-end: droverd watches Namespaces, so a pod's anti-affinity term with a
// namespaceSelector on a label other than the name (team=a) is matched against
// the labels the namespaces carry on the API server (listed at start), and a
// namespace relabelled later (the watch) makes a waiting pod look again. Against
// the fake API server; every check from the server's side.
#include <catch2/catch.hpp>

#include "core/strings.h"
#include "tests/k8s/droverd_harness.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

// Generous for sanitizer builds on a loaded machine; the waits end as soon as their condition holds.
constexpr absl::Duration kWait = absl::Seconds(60);

void Send(HttpClient* http, const std::string& method, const std::string& path, const std::string& body,
          const std::string& content_type = "application/json") {
  absl::StatusOr<HttpResponse> r =
      http->Send(HttpRequest{.method = method, .path = path, .body = body, .content_type = content_type});
  REQUIRE(r.ok());
  INFO(method << " " << path << ": " << r->body);
  REQUIRE((r->status == 200 || r->status == 201));
}

void LabelNamespace(HttpClient* http, const std::string& name, const std::string& team, bool create) {
  const std::string labels = StrCat(R"({"labels":{"team":")", team, R"("}})");
  if (create) {
    Send(http, "POST", "/api/v1/namespaces", StrCat(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")",
                                                    name, R"(",)", labels.substr(1), "}"));
  } else {
    Send(http, "PATCH", "/api/v1/namespaces/" + name, StrCat(R"({"metadata":)", labels, "}"),
         "application/merge-patch+json");
  }
}

// A pod of `gpus` GPUs labelled app=`app` in `ns`; bound to `node` when given (seeded
// as running), else droverd's, refusing web pods of namespaces labelled team=a on its node.
std::string PodJson(const std::string& ns, const std::string& name, const std::string& app, const std::string& node,
                    int gpus) {
  const std::string anti =
      node.empty() ? R"(,"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[)"
                     R"({"labelSelector":{"matchLabels":{"app":"web"}},"namespaceSelector":{"matchLabels":{"team":"a"}},)"
                     R"("topologyKey":"kubernetes.io/hostname"}]}})"
                   : "";
  return StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")", name, R"(","namespace":")", ns,
                R"(","labels":{"app":")", app, R"("}},"spec":{"schedulerName":"drover")",
                node.empty() ? "" : StrCat(R"(,"nodeName":")", node, "\""), anti,
                R"(,"containers":[{"name":"main","image":"x","resources":{"requests":{"cpu":"1","nvidia.com/gpu":")",
                gpus, R"("},"limits":{"nvidia.com/gpu":")", gpus, R"("}}}]},"status":{"phase":")",
                node.empty() ? "Pending" : "Running", R"("}})");
}

ServerPod Get(HttpClient* http, const std::string& key) {
  absl::StatusOr<std::map<std::string, ServerPod>> pods = ListServerPods(http);
  REQUIRE(pods.ok());
  auto it = pods->find(key);
  return it == pods->end() ? ServerPod{} : it->second;
}

TEST_CASE("droverd_matches_namespace_selector_against_watched_namespace_labels", "[k8s][e2e][namespaces]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  std::unique_ptr<HttpClient> http = server.Client();
  REQUIRE(Seed(server, {{"a100-0", "NVIDIA-A100-SXM4-80GB", "A100", 8, 64, 512},
                        {"a100-1", "NVIDIA-A100-SXM4-80GB", "A100", 8, 64, 512}},
               {})
              .ok());
  LabelNamespace(http.get(), "team-a", "a", true);
  LabelNamespace(http.get(), "team-b", "a", true);
  const std::string running = StrCat(R"({"objects":[)", PodJson("team-a", "web-a", "web", "a100-0", 1), ",",
                                     PodJson("team-b", "web-b", "web", "a100-1", 1), "]}");
  REQUIRE(server.Control("/_control/objects", running).ok());
  Send(http.get(), "POST", "/api/v1/namespaces/default/pods", PodJson("default", "client", "client", "", 1));

  const std::string dir = MakeTempDir("droverd-namespaces");
  DroverdProcess d(dir + "/a.log");
  REQUIRE(d.Start(DroverdArgs(server, dir, "replica-a")).ok());
  // Both namespaces are team=a (from the list): both web pods refuse the client.
  ServerPod client;
  const bool refused = WaitUntil(
      [&] {
        client = Get(http.get(), "default/client");
        return client.scheduled_status == "False";
      },
      kWait);
  INFO(d.Log());
  REQUIRE(refused);
  CHECK(client.node.empty());
  CHECK(client.scheduled_message == "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.");

  // team-b relabelled through the watch: its web pod no longer counts, the client looks again.
  LabelNamespace(http.get(), "team-b", "b", false);
  const bool bound = WaitUntil([&] { return !(client = Get(http.get(), "default/client")).node.empty(); }, kWait);
  INFO(d.Log());
  REQUIRE(bound);
  CHECK(client.node == "a100-1");
}

}  // namespace
}  // namespace drover::k8s::testing
