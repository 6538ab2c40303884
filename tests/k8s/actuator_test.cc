// Integration tests of KubeActuator against the fake API server.
#include "k8s/actuator.h"

#include <simdjson.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <map>

#include "core/strings.h"
#include "k8s/decode.h"
#include "k8s/wall_clock.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

absl::StatusOr<Pod> GetPod(HttpClient* http, const std::string& name) {
  absl::StatusOr<HttpResponse> r = http->Send(HttpRequest{.path = "/api/v1/namespaces/default/pods/" + name});
  if (!r.ok()) return r.status();
  if (r->status != 200) return absl::NotFoundError(name);
  Decoder dec;
  return dec.DecodePod(r->body);
}

// GETs a path and parses it with simdjson's DOM (tests only).
simdjson::dom::element GetJson(HttpClient* http, const std::string& path, simdjson::dom::parser* parser) {
  absl::StatusOr<HttpResponse> r = http->Send(HttpRequest{.path = path});
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  simdjson::dom::element doc;
  REQUIRE(parser->parse(r->body).get(doc) == simdjson::SUCCESS);
  return doc;
}

struct EventSeen {
  std::string reason, type, message, component;
  int64_t count = 0;
};

std::vector<EventSeen> PodEvents(HttpClient* http, const std::string& pod) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc =
      GetJson(http, "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D" + pod, &parser);
  std::vector<EventSeen> out;
  for (simdjson::dom::element item : doc["items"].get_array()) {
    EventSeen e;
    e.reason = std::string(item["reason"].get_string().value());
    e.type = std::string(item["type"].get_string().value());
    e.message = std::string(item["message"].get_string().value());
    e.component = std::string(item["source"]["component"].get_string().value());
    e.count = item["count"].get_int64().value();
    out.push_back(e);
  }
  return out;
}

int64_t StatsCount(FakeApiServer& server, std::initializer_list<const char*> path) {
  absl::StatusOr<std::string> body = server.ControlGet("/_control/stats");
  REQUIRE(body.ok());
  simdjson::dom::parser parser;
  simdjson::dom::element el;
  REQUIRE(parser.parse(*body).get(el) == simdjson::SUCCESS);
  for (const char* key : path) {
    simdjson::dom::element next;
    if (el[key].get(next) != simdjson::SUCCESS) return 0;
    el = next;
  }
  int64_t v = 0;
  return el.get_int64().get(v) == simdjson::SUCCESS ? v : 0;
}

std::map<std::string, BindOutcome> Outcomes(KubeActuator& act) {
  act.WaitIdle();
  std::vector<BindOutcome> out;
  act.CollectOutcomes(&out);
  std::map<std::string, BindOutcome> by_key;
  for (BindOutcome& o : out) by_key[o.pod_key] = o;
  return by_key;
}

struct Fixture {
  FakeApiServer server;
  std::unique_ptr<HttpClient> http;
  WallClock clock;

  Fixture(int nodes, int pods, HttpOptions opts = FakeApiServer::FastOptions()) {
    REQUIRE(server.Start().ok());
    http = server.Client(opts);
    REQUIRE(http != nullptr);
    REQUIRE(server.Control("/_control/objects",
                           StrCat(R"({"generate":{"nodes":)", nodes, R"(,"pods":)", pods, "}}"))
                .ok());
  }

  std::string Uid(const std::string& name) {
    absl::StatusOr<Pod> p = GetPod(http.get(), name);
    REQUIRE(p.ok());
    return p->uid;
  }
};

TEST_CASE("actuator_bind_outcomes_bound_conflict_gone", "[k8s][actuator][integration]") {
  Fixture f(1, 3);
  KubeActuator act(f.http.get(), &f.clock);
  act.Bind({"default/pod-1", f.Uid("pod-1"), "node-0", {}});
  REQUIRE(Outcomes(act)["default/pod-1"].result == BindOutcome::Result::kBound);

  act.Bind({"default/pod-0", f.Uid("pod-0"), "node-0", {0, 1}});
  act.Bind({"default/pod-1", f.Uid("pod-1"), "node-0", {}});     // already bound
  act.Bind({"default/missing", "", "node-0", {}});                // no such pod
  act.Bind({"default/pod-2", "not-its-uid", "node-0", {}});      // UID precondition fails
  std::map<std::string, BindOutcome> out = Outcomes(act);
  CHECK(out["default/pod-0"].result == BindOutcome::Result::kBound);
  CHECK(out["default/pod-1"].result == BindOutcome::Result::kConflict);
  CHECK(out["default/pod-1"].message.find("409") != std::string::npos);
  CHECK(out["default/missing"].result == BindOutcome::Result::kGone);
  CHECK(out["default/pod-2"].result == BindOutcome::Result::kConflict);

  absl::StatusOr<Pod> bound = GetPod(f.http.get(), "pod-0");
  REQUIRE(bound.ok());
  CHECK(bound->node_name == "node-0");
  CHECK(bound->gpu_device_ids == std::vector<int>{0, 1});  // the Binding's annotation landed on the pod
  absl::StatusOr<Pod> untouched = GetPod(f.http.get(), "pod-2");
  REQUIRE(untouched.ok());
  CHECK(untouched->node_name.empty());

  std::vector<EventSeen> events = PodEvents(f.http.get(), "pod-0");
  REQUIRE(events.size() == 1);
  CHECK(events[0].reason == "Scheduled");
  CHECK(events[0].type == "Normal");
  CHECK(events[0].component == "drover");
  CHECK(events[0].message == "Successfully assigned default/pod-0 to node-0");
}

TEST_CASE("actuator_bind_retries_on_500_and_429", "[k8s][actuator][integration]") {
  HttpOptions opts = FakeApiServer::FastOptions();
  opts.max_attempts = 4;
  Fixture f(1, 4, opts);
  KubeActuator act(f.http.get(), &f.clock);

  SECTION("500 twice, then bound") {
    REQUIRE(f.server.Control("/_control/faults", R"({"bind_errors":{"code":500,"count":2}})").ok());
    act.Bind({"default/pod-0", f.Uid("pod-0"), "node-0", {}});
    CHECK(Outcomes(act)["default/pod-0"].result == BindOutcome::Result::kBound);
    CHECK(StatsCount(f.server, {"binds", "default/pod-0", "attempts"}) == 3);
    CHECK(StatsCount(f.server, {"binds", "default/pod-0", "succeeded"}) == 1);
  }
  SECTION("429 with Retry-After, then bound") {
    REQUIRE(f.server.Control("/_control/faults", R"({"bind_errors":{"code":429,"count":1,"retry_after":0}})").ok());
    act.Bind({"default/pod-1", f.Uid("pod-1"), "node-0", {}});
    CHECK(Outcomes(act)["default/pod-1"].result == BindOutcome::Result::kBound);
    CHECK(StatsCount(f.server, {"binds", "default/pod-1", "attempts"}) == 2);
  }
  SECTION("a lost response: the retry's 409 is recognised as our own bind") {
    REQUIRE(f.server.Control("/_control/faults", R"({"bind_errors":{"code":500,"count":1,"after_commit":true}})").ok());
    act.Bind({"default/pod-2", f.Uid("pod-2"), "node-0", {}});
    CHECK(Outcomes(act)["default/pod-2"].result == BindOutcome::Result::kBound);
    CHECK(StatsCount(f.server, {"binds", "default/pod-2", "succeeded"}) == 1);
    CHECK(StatsCount(f.server, {"binds", "default/pod-2", "conflicts"}) == 1);
  }
  SECTION("retries spent: failed") {
    REQUIRE(f.server.Control("/_control/faults", R"({"bind_errors":{"code":503,"count":100}})").ok());
    act.Bind({"default/pod-3", f.Uid("pod-3"), "node-0", {}});
    BindOutcome out = Outcomes(act)["default/pod-3"];
    CHECK(out.result == BindOutcome::Result::kFailed);
    CHECK(out.message.find("503") != std::string::npos);
    CHECK(StatsCount(f.server, {"binds", "default/pod-3", "attempts"}) == 4);
  }
}

TEST_CASE("actuator_drops_binds_once_it_may_not_act", "[k8s][actuator][integration]") {
  Fixture f(1, 2);
  std::atomic<bool> leader{true};
  ActuatorOptions opts;
  opts.may_act = [&leader] { return leader.load(); };
  KubeActuator act(f.http.get(), &f.clock, opts);
  act.Bind({"default/pod-0", f.Uid("pod-0"), "node-0", {}});
  CHECK(Outcomes(act)["default/pod-0"].result == BindOutcome::Result::kBound);
  leader = false;  // the Lease is lost: queued binds are not sent
  act.Bind({"default/pod-1", f.Uid("pod-1"), "node-0", {}});
  const BindOutcome out = Outcomes(act)["default/pod-1"];
  CHECK(out.result == BindOutcome::Result::kFailed);
  CHECK(out.message.find("not the leader") != std::string::npos);
  CHECK(StatsCount(f.server, {"binds", "default/pod-1", "attempts"}) == 0);
}

TEST_CASE("actuator_pending_reason_patches_status_once_per_change", "[k8s][actuator][integration]") {
  Fixture f(2, 2);
  ActuatorOptions opts;
  opts.failed_scheduling_interval_ms = 0;  // every change gets its event
  KubeActuator act(f.http.get(), &f.clock, opts);
  const std::string a = "0/2 nodes are available: 2 Insufficient nvidia.com/gpu.";
  const std::string b = "0/2 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 1 Insufficient cpu.";

  act.RecordPending({"default/pod-0", a, "node-1"});
  act.RecordPending({"default/pod-0", a, "node-1"});  // unchanged: no second patch
  act.WaitIdle();
  CHECK(StatsCount(f.server, {"requests", "by_resource", "patch pods/status"}) == 1);

  simdjson::dom::parser parser;
  simdjson::dom::element pod = GetJson(f.http.get(), "/api/v1/namespaces/default/pods/pod-0", &parser);
  CHECK(std::string_view(pod["status"]["nominatedNodeName"].get_string().value()) == "node-1");
  bool found = false;
  for (simdjson::dom::element c : pod["status"]["conditions"].get_array()) {
    if (std::string_view(c["type"].get_string().value()) != "PodScheduled") continue;
    found = true;
    CHECK(std::string_view(c["status"].get_string().value()) == "False");
    CHECK(std::string_view(c["reason"].get_string().value()) == "Unschedulable");
    CHECK(std::string_view(c["message"].get_string().value()) == a);
  }
  CHECK(found);

  act.RecordPending({"default/pod-0", b, ""});  // new message, nomination withdrawn
  act.WaitIdle();
  CHECK(StatsCount(f.server, {"requests", "by_resource", "patch pods/status"}) == 2);
  pod = GetJson(f.http.get(), "/api/v1/namespaces/default/pods/pod-0", &parser);
  std::string_view nominated;
  CHECK(pod["status"]["nominatedNodeName"].get_string().get(nominated) != simdjson::SUCCESS);  // cleared

  act.RecordPending({"default/pod-0", a, ""});  // back to the first message: its event is aggregated
  act.WaitIdle();
  std::vector<EventSeen> events = PodEvents(f.http.get(), "pod-0");
  REQUIRE(events.size() == 2);
  std::map<std::string, EventSeen> by_message;
  for (const EventSeen& e : events) by_message[e.message] = e;
  CHECK(by_message[a].reason == "FailedScheduling");
  CHECK(by_message[a].type == "Warning");
  CHECK(by_message[a].count == 2);
  CHECK(by_message[b].count == 1);
}

TEST_CASE("actuator_failed_scheduling_events_are_rate_limited_per_pod", "[k8s][actuator][integration]") {
  Fixture f(1, 1);
  KubeActuator act(f.http.get(), &f.clock);  // default: one FailedScheduling per 30 s per pod
  act.RecordPending({"default/pod-0", "first reason", ""});
  act.WaitIdle();
  act.RecordPending({"default/pod-0", "second reason", ""});
  act.WaitIdle();
  CHECK(StatsCount(f.server, {"requests", "by_resource", "patch pods/status"}) == 2);  // status always current
  std::vector<EventSeen> events = PodEvents(f.http.get(), "pod-0");
  REQUIRE(events.size() == 1);
  CHECK(events[0].message == "first reason");
}

TEST_CASE("actuator_eviction_reports_pdb_refusal", "[k8s][actuator][integration]") {
  Fixture f(1, 0);
  auto running = [](const std::string& name, const std::string& app) {
    return StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")", name,
                  R"(","namespace":"default","labels":{"app":")", app,
                  R"("}},"spec":{"nodeName":"node-0","containers":[{"name":"c","image":"x"}]},)",
                  R"("status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})");
  };
  REQUIRE(f.server.Control("/_control/objects", StrCat(R"({"objects":[)", running("web-0", "web"), ",",
                                                       running("web-1", "web"), ",", running("solo-0", "solo"),
                                                       "]}"))
              .ok());
  absl::StatusOr<HttpResponse> pdb = f.http->Send(HttpRequest{
      .method = "POST",
      .path = "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
      .body = R"({"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"web"},
                  "spec":{"minAvailable":2,"selector":{"matchLabels":{"app":"web"}}}})"});
  REQUIRE(pdb.ok());
  REQUIRE(pdb->status == 201);

  KubeActuator act(f.http.get(), &f.clock);
  act.Evict({"default/web-0", f.Uid("web-0"), "preempted by default/big to reclaim A100 for queue q", "default/big"});
  act.Evict({"default/solo-0", f.Uid("solo-0"), "", "default/big"});
  act.Evict({"default/ghost", "", "", "default/big"});
  act.WaitIdle();
  std::vector<EvictionOutcome> outs;
  act.CollectEvictionOutcomes(&outs);
  std::map<std::string, EvictionOutcome> by_key;
  for (EvictionOutcome& o : outs) by_key[o.pod_key] = o;
  REQUIRE(by_key.size() == 3);
  CHECK(by_key["default/web-0"].result == EvictionOutcome::Result::kBlocked);
  CHECK(by_key["default/web-0"].message.find("disruption budget") != std::string::npos);
  CHECK(by_key["default/web-0"].preemptor_key == "default/big");
  CHECK(by_key["default/solo-0"].result == EvictionOutcome::Result::kEvicted);
  CHECK(by_key["default/ghost"].result == EvictionOutcome::Result::kGone);
  // A PDB refusal is an answer, not overload: asked once, not retried.
  CHECK(StatsCount(f.server, {"evictions", "default/web-0", "attempts"}) == 1);
  CHECK_FALSE(GetPod(f.http.get(), "solo-0").ok());
  CHECK(GetPod(f.http.get(), "web-0").ok());

  std::vector<EventSeen> events = PodEvents(f.http.get(), "solo-0");
  REQUIRE(events.size() == 1);
  CHECK(events[0].reason == "Preempted");
  CHECK(events[0].message == "Preempted by default/big");
  CHECK(PodEvents(f.http.get(), "web-0").empty());
}

}  // namespace
}  // namespace drover::k8s::testing
