// End-to-end: the quota document of a running droverd changes under it, against
// the fake API server (tests/k8s_api_server/). A lowered max admits nothing new
// until usage falls under it; a raised max lets waiting pods bind; an invalid
// document changes nothing and is reported; SIGHUP re-reads, never stops. No restart.
#include <signal.h>

#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <regex>

#include "core/strings.h"
#include "drover/admin/v1/admin.grpc.pb.h"
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

// Starts `server` with one 8-GPU A100 node and `pods` pending 1-GPU root.team pods; a client for it.
std::unique_ptr<HttpClient> StartWithOneA100Node(FakeApiServer& server, int pods) {
  REQUIRE(server.Start().ok());
  std::vector<NodeSpec> nodes{NodeSpec{"a100-0", "NVIDIA-A100-SXM4-80GB", "A100", 8, 128, 1024}};
  REQUIRE(Seed(server, nodes, TeamPods(0, pods)).ok());
  return server.Client();
}

TEST_CASE("droverd_follows_its_configmap_through_the_api_server", "[k8s][e2e][config]") {
  FakeApiServer server;
  std::unique_ptr<HttpClient> http = StartWithOneA100Node(server, 6);
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
  CHECK(log.find("leading with revision 1 (REVISION_SOURCE_CONFIGMAP by configmap:drover-system/drover-queues") !=
        std::string::npos);
  CHECK(log.find("applied revision 2") != std::string::npos);
  CHECK(log.find("refused a new document from configmap") != std::string::npos);
}

}  // namespace
}  // namespace drover::k8s::testing

namespace drover::k8s::testing {
namespace {

namespace pb = admin::v1;

// The admin API's port from droverd's log ("admin API: ... on port N"); 0 until logged.
int AdminPort(const DroverdProcess& d) {
  static const std::regex re("admin API: gRPC[^\n]* on port ([0-9]+)");
  const std::string log = d.Log();
  std::smatch m;
  return std::regex_search(log, m, re) ? std::atoi(m[1].str().c_str()) : 0;
}

std::unique_ptr<pb::Admin::Stub> AdminStub(const DroverdProcess& d) {
  int port = 0;
  REQUIRE(WaitUntil([&] { return (port = AdminPort(d)) > 0; }, kWait));
  return pb::Admin::NewStub(grpc::CreateChannel(StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> AsOps() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  ctx->AddMetadata("authorization", "Bearer ops-token");
  return ctx;
}

grpc::Status Apply(pb::Admin::Stub& stub, const std::string& doc, int64_t expected, pb::ApplyConfigResponse* out) {
  pb::ApplyConfigRequest req;
  req.set_document(doc);
  req.set_expected_revision(expected);
  req.set_comment("raise team to 5");
  return stub.ApplyConfig(AsOps().get(), req, out);
}

std::string OpsTeamMax(int a100) { return StrCat("admins: {users: [ops]}\n", TeamMax(a100)); }

// Two replicas on one Lease (short timings), the quota file saying max 2. An admin
// raises the max to 5 through the leader's admin API (a standby refuses, naming the
// leader); the revision is mirrored as a ControllerRevision. The leader is SIGKILLed;
// the standby takes over, its admin API shows the revision as active and in its
// history with the admin's audit, and it schedules under max 5, not the file's 2.
TEST_CASE("an_admin_revision_survives_failover_to_the_standby", "[k8s][e2e][config][leader]") {
  FakeApiServer server;
  std::unique_ptr<HttpClient> http = StartWithOneA100Node(server, 16);
  const std::string dir = MakeTempDir("droverd-failover");
  REQUIRE(WriteFile(dir + "/tokens.csv", "ops-token,ops\n").ok());
  auto args = [&](const std::string& identity) {
    std::vector<std::string> a = DroverdArgs(server, dir, identity,
                                             {"--config-poll", "200ms", "--admin-tokens", dir + "/tokens.csv",
                                              "--lease-duration", "3s", "--lease-renew-deadline", "2s",
                                              "--lease-retry-period", "500ms"});
    REQUIRE(WriteFile(dir + "/queues.yaml", OpsTeamMax(2)).ok());  // DroverdArgs wrote its own
    return a;
  };
  DroverdProcess a(dir + "/a.log");
  REQUIRE(a.Start(args("replica-a")).ok());
  REQUIRE(WaitUntil([&] { return LeaseHolder(http.get()) == "replica-a"; }, kWait));
  DroverdProcess b(dir + "/b.log");
  REQUIRE(b.Start(args("replica-b")).ok());
  Counts c = WaitFor(http.get(), [](const Counts& c) { return c.running == 2; });
  INFO("leader log:\n" << a.Log());
  REQUIRE(c.running == 2);
  std::unique_ptr<pb::Admin::Stub> leader = AdminStub(a), standby = AdminStub(b);

  pb::ApplyConfigResponse out;
  grpc::Status refused;
  // Refused from the start; it names the leader once its elector has read the Lease (its first try).
  // UNAVAILABLE until the standby's admin port answers (slow machines, sanitizers): tried again.
  CHECK(WaitUntil([&] {
    refused = Apply(*standby, OpsTeamMax(5), 1, &out);
    return refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
           refused.error_message().find("replica-a") != std::string::npos;
  }, kWait));
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(refused.error_message(), Catch::Contains("\"replica-b\") is a standby") &&
                                         Catch::Contains("\"replica-a\" (the holder of Lease drover-system/drover)"));
  pb::ConfigRevision active;
  grpc::Status got;
  // UNAVAILABLE while the leader's admin port first answers this new channel (as above): tried again.
  CHECK(WaitUntil([&] {
    got = leader->GetConfig(AsOps().get(), pb::GetConfigRequest(), &active);
    return got.error_code() != grpc::StatusCode::UNAVAILABLE;
  }, kWait));
  INFO(got.error_message());
  REQUIRE(got.ok());
  REQUIRE(active.revision() == 1);
  grpc::Status applied = Apply(*leader, OpsTeamMax(5), 1, &out);
  INFO(applied.error_message());
  REQUIRE(applied.ok());
  REQUIRE(out.applied());
  REQUIRE(out.revision() == 2);
  // Acknowledged: mirrored before the answer.
  absl::StatusOr<HttpResponse> cr =
      http->Send({.path = "/apis/apps/v1/namespaces/drover-system/controllerrevisions/drover-config-2"});
  REQUIRE(cr.ok());
  REQUIRE(cr->status == 200);
  CHECK_THAT(cr->body, Catch::Contains(R"("revision":2)") && Catch::Contains(R"("author":"ops")") &&
                           Catch::Contains(R"("drover.io/kind":"config-revision")"));
  c = WaitFor(http.get(), [](const Counts& c) { return c.running == 5; });
  REQUIRE(c.running == 5);

  a.Signal(SIGKILL);
  REQUIRE(a.Wait(absl::Seconds(30)) == std::optional<int>(128 + SIGKILL));
  const bool took_over = WaitUntil([&] { return LeaseHolder(http.get()) == "replica-b"; }, kWait);
  INFO("standby log:\n" << b.Log() << "\nstandby exit: " << b.Wait(absl::ZeroDuration()).value_or(-1));
  REQUIRE(took_over);
  REQUIRE(WaitUntil([&] {
    pb::ConfigRevision r;
    return standby->GetConfig(AsOps().get(), pb::GetConfigRequest(), &r).ok() && r.revision() == 2;
  }, kWait));
  INFO("new leader log:\n" << b.Log());
  REQUIRE(standby->GetConfig(AsOps().get(), pb::GetConfigRequest(), &active).ok());
  CHECK(active.document() == OpsTeamMax(5));
  CHECK(active.author() == "ops");
  CHECK(active.comment() == "raise team to 5");
  pb::ListRevisionsResponse history;
  REQUIRE(standby->ListRevisions(AsOps().get(), pb::ListRevisionsRequest(), &history).ok());
  REQUIRE(history.revisions_size() == 2);
  CHECK(history.revisions(0).revision() == 2);
  CHECK(history.revisions(1).revision() == 1);
  pb::ListAuditRequest audit_req;
  audit_req.set_actor("ops");
  pb::ListAuditResponse audit;
  REQUIRE(standby->ListAudit(AsOps().get(), audit_req, &audit).ok());
  bool imported = false;
  for (const pb::AuditRecord& r : audit.records()) {
    imported |= r.action() == "config.apply" && r.result().find("revision 2 (imported") != std::string::npos;
  }
  CHECK(imported);
  // Scheduling follows revision 2 (max 5), not the file's max 2: five finish, five more run.
  Complete(server, c.running_keys);
  c = WaitFor(http.get(), [](const Counts& c) { return c.running == 5 && c.waiting == 6; });
  CHECK(c.running == 5);
  CHECK(c.waiting == 6);
  CHECK(Holds(http.get(), absl::Seconds(1), [](const Counts& c) { return c.running == 5; }));
  // The new leader takes writes, numbered after the mirror's.
  REQUIRE(Apply(*standby, OpsTeamMax(6), 2, &out).ok());
  CHECK(out.revision() == 3);
}

}  // namespace
}  // namespace drover::k8s::testing
