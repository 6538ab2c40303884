// End-to-end: the quota document of a running droverd changes under it, against
// the fake API server (tests/k8s_api_server/). A lowered max admits nothing new
// until usage falls under it; a raised max lets waiting pods bind; an invalid
// document changes nothing and is reported; SIGHUP re-reads, never stops. No restart.
#include <signal.h>

#include <catch2/catch.hpp>

#include "core/strings.h"
#include "k8s/http_client.h"
#include "k8s/json_util.h"
#include "tests/k8s/droverd_harness.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

constexpr absl::Duration kWait = absl::Seconds(60);

std::string TeamMax(int a100) {
  return StrCat("queues:\n  children:\n    - name: team\n      max: {gpu: {A100: ", a100, "}}\n");
}

// root.team pods the server holds bound and not finished, and those still unbound.
struct Counts {
  int running = 0;
  int waiting = 0;
  std::vector<std::string> running_keys;
};

Counts Count(HttpClient* http) {
  absl::StatusOr<std::map<std::string, ServerPod>> pods = ListServerPods(http);
  REQUIRE(pods.ok());
  Counts c;
  for (const auto& [key, p] : *pods) {
    if (p.phase == "Succeeded" || p.phase == "Failed") continue;
    if (p.node.empty()) {
      c.waiting++;
    } else {
      c.running++;
      c.running_keys.push_back(key);
    }
  }
  return c;
}

// Polls until `pred` holds or kWait passes; returns the last counts.
template <typename Pred>
Counts WaitFor(HttpClient* http, Pred pred) {
  const absl::Time deadline = absl::Now() + kWait;
  Counts c = Count(http);
  while (!pred(c) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    c = Count(http);
  }
  return c;
}

// Holds for `d`, failing if `pred` ever stops holding.
template <typename Pred>
bool Holds(HttpClient* http, absl::Duration d, Pred pred) {
  const absl::Time end = absl::Now() + d;
  while (absl::Now() < end) {
    if (!pred(Count(http))) return false;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return true;
}

std::vector<PodSpec> TeamPods(int from, int n) {
  std::vector<PodSpec> pods;
  for (int i = from; i < from + n; ++i) {
    PodSpec p;
    p.name = StrCat("team-", i);
    p.queue = "root.team";
    p.gpus = 1;
    pods.push_back(p);
  }
  return pods;
}

void Complete(FakeApiServer& server, const std::vector<std::string>& keys) {
  std::string list;
  for (const std::string& k : keys) StrAppend(&list, list.empty() ? "" : ",", "\"", k, "\"");
  REQUIRE(server.Control("/_control/simulate", StrCat(R"({"action":"complete","pods":[)", list, "]}")).ok());
}

TEST_CASE("droverd_takes_a_new_quota_document_while_running", "[k8s][e2e][config]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  std::unique_ptr<HttpClient> http = server.Client();
  std::vector<NodeSpec> nodes;
  for (int i = 0; i < 4; ++i) nodes.push_back(NodeSpec{StrCat("a100-", i), "NVIDIA-A100-SXM4-80GB", "A100", 8, 128, 1024});
  REQUIRE(Seed(server, nodes, TeamPods(0, 16)).ok());
  const std::string dir = MakeTempDir("droverd-live-config");
  std::vector<std::string> args = DroverdArgs(server, dir, "replica-a", {"--config-poll", "200ms"});
  const std::string queues = dir + "/queues.yaml";
  REQUIRE(WriteFile(queues, TeamMax(8)).ok());
  DroverdProcess d(dir + "/a.log");
  REQUIRE(d.Start(args).ok());

  // Revision 1: max 8 of 16 pods run.
  Counts c = WaitFor(http.get(), [](const Counts& c) { return c.running == 8; });
  INFO(d.Log());
  REQUIRE(c.running == 8);
  CHECK(Holds(http.get(), absl::Seconds(1), [](const Counts& c) { return c.running == 8; }));

  // Lowered to 4 while 8 run: nothing new binds until usage falls under 4.
  REQUIRE(WriteFile(queues, TeamMax(4)).ok());
  absl::SleepFor(absl::Seconds(1));
  Complete(server, {c.running_keys[0], c.running_keys[1], c.running_keys[2]});  // 5 left: still above 4
  CHECK(Holds(http.get(), absl::Seconds(2), [](const Counts& c) { return c.running <= 5; }));
  c = Count(http.get());
  REQUIRE(c.running == 5);
  Complete(server, {c.running_keys[0], c.running_keys[1], c.running_keys[2]});  // 2 left: room for 2
  c = WaitFor(http.get(), [](const Counts& c) { return c.running == 4; });
  CHECK(c.running == 4);
  CHECK(Holds(http.get(), absl::Seconds(1), [](const Counts& c) { return c.running == 4; }));

  // Raised to 12: waiting pods bind up to it.
  REQUIRE(WriteFile(queues, TeamMax(12)).ok());
  c = WaitFor(http.get(), [](const Counts& c) { return c.running == 10; });  // 16 - 6 completed
  CHECK(c.running == 10);
  CHECK(c.waiting == 0);

  // An invalid document changes nothing and is reported; droverd keeps running.
  REQUIRE(Seed(server, {}, TeamPods(16, 4)).ok());
  REQUIRE(WriteFile(queues, "queues:\n  children:\n    - name: team\n      max: {gpu: {A100: lots}}\n").ok());
  c = WaitFor(http.get(), [](const Counts& c) { return c.running == 12; });
  CHECK(c.running == 12);  // still under revision 3's max of 12
  CHECK(Holds(http.get(), absl::Seconds(1), [](const Counts& c) { return c.running == 12; }));
  const std::string log = d.Log();
  CHECK(log.find("applied revision 2") != std::string::npos);
  CHECK(log.find("applied revision 3") != std::string::npos);
  CHECK(log.find("refused a new document") != std::string::npos);
  CHECK(log.find("lots") != std::string::npos);
  CHECK(log.find("revision 3 stays in force") != std::string::npos);

  // SIGHUP re-reads (the same invalid document: not logged again) and never stops droverd.
  d.Signal(SIGHUP);
  absl::SleepFor(absl::Milliseconds(500));
  CHECK(d.Running());
  CHECK(d.Log().find("re-reading") != std::string::npos);
  d.Signal(SIGTERM);
  CHECK(d.Wait(absl::Seconds(30)) == std::optional<int>(0));
}

}  // namespace
}  // namespace drover::k8s::testing

namespace drover::k8s::testing {
namespace {

std::string ConfigMapJson(const std::string& queues_yaml) {
  return StrCat(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"drover-queues","namespace":"drover-system"},)",
                R"("data":{"queues.yaml":)", JsonQuote(queues_yaml), "}}");
}

void PutConfigMap(HttpClient* http, const std::string& queues_yaml) {
  HttpRequest req;
  req.method = "PUT";
  req.path = "/api/v1/namespaces/drover-system/configmaps/drover-queues";
  req.body = ConfigMapJson(queues_yaml);
  absl::StatusOr<HttpResponse> r = http->Send(req);
  REQUIRE(r.ok());
  INFO(r->body);
  REQUIRE(r->status == 200);
}

TEST_CASE("droverd_follows_its_configmap_through_the_api_server", "[k8s][e2e][config]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  std::unique_ptr<HttpClient> http = server.Client();
  std::vector<NodeSpec> nodes{NodeSpec{"a100-0", "NVIDIA-A100-SXM4-80GB", "A100", 8, 128, 1024}};
  REQUIRE(Seed(server, nodes, TeamPods(0, 6)).ok());
  REQUIRE(server.Control("/_control/objects", StrCat(R"({"objects":[)", ConfigMapJson(TeamMax(2)), "]}")).ok());
  const std::string dir = MakeTempDir("droverd-configmap");
  std::vector<std::string> args = DroverdArgs(server, dir, "replica-a",
                                              {"--config-poll", "200ms", "--queues-configmap", "drover-system/drover-queues"});
  // The file says max 8: the ConfigMap (max 2) must win.
  REQUIRE(WriteFile(dir + "/queues.yaml", TeamMax(8)).ok());
  DroverdProcess d(dir + "/a.log");
  REQUIRE(d.Start(args).ok());
  Counts c = WaitFor(http.get(), [](const Counts& c) { return c.running == 2; });
  INFO(d.Log());
  REQUIRE(c.running == 2);
  CHECK(Holds(http.get(), absl::Seconds(1), [](const Counts& c) { return c.running == 2; }));
  PutConfigMap(http.get(), TeamMax(5));
  c = WaitFor(http.get(), [](const Counts& c) { return c.running == 5; });
  CHECK(c.running == 5);
  PutConfigMap(http.get(), "queues: [not, a, tree");
  absl::SleepFor(absl::Seconds(1));
  CHECK(Count(http.get()).running == 5);
  CHECK(d.Running());
  const std::string log = d.Log();
  CHECK(log.find("revision 1 from configmap drover-system/drover-queues key queues.yaml") != std::string::npos);
  CHECK(log.find("applied revision 2") != std::string::npos);
  CHECK(log.find("refused a new document from configmap") != std::string::npos);
}

}  // namespace
}  // namespace drover::k8s::testing
