// The admin API's workload reads end to end, through a real gRPC channel to a
// served droverd and through droverctl: running pods and gangs (ListRunning,
// `droverctl get running`) and a pending pod's nodes by reason (Explain).
#include <catch2/catch.hpp>

#include "tests/admin/admin_daemon.h"

namespace drover {
namespace {

namespace pb = admin::v1;
using namespace admin_testing;  // NOLINT: the tests share the daemon and its helpers

// Workload() (two 8-GPU A100 nodes, train-0..3 of 8 GPUs, two running at 1 h)
// plus an H100 node and a gang of two 4-GPU members in root.safety, submitted
// at 0.5 s so that it takes the H100 node before train-2 (any GPU type) could.
SimInput WithGang() {
  SimInput in = Workload();
  in.nodes.push_back(SimNode{testing::GpuNode("h-1", testing::kH100, 8), 0, -1, -1});
  for (int i = 0; i < 2; ++i) {
    in.pods.push_back(SimPod{testing::GangMember("ring", i, 2, "root.safety", 4, "H100"), 500, 10 * 3600 * 1000});
  }
  return in;
}

pb::ListRunningResponse Running(AdminDaemon& d, pb::ListRunningRequest req) {
  pb::ListRunningResponse out;
  const grpc::Status s = d.stub().ListRunning(As("viewer-t").get(), req, &out);
  INFO(s.error_message());
  REQUIRE(s.ok());
  return out;
}

TEST_CASE("admin_api_lists_running_pods_and_gangs_per_queue", "[admin][e2e]") {
  AdminDaemon d({}, WithGang());
  pb::ListRunningRequest req;
  pb::ListRunningResponse all = Running(d, req);
  REQUIRE(all.total() == 3);
  CHECK(all.now_ms() == 3600 * 1000);
  // Queue by queue (root.research.llm before root.safety), oldest first.
  const pb::RunningWorkload& first = all.workloads(0);
  CHECK(first.workload() == "ns/train-0");
  CHECK(first.pods_size() == 1);
  CHECK(first.queue() == "root.research.llm");
  CHECK(first.tier() == 1);
  CHECK(first.gpu_type() == "A100");
  CHECK(first.gpu_milli() == 8000);
  REQUIRE(first.nodes_size() == 1);
  CHECK(first.running_since_ms() == 0);
  CHECK(first.state() == "Running");
  CHECK(all.workloads(1).workload() == "ns/train-1");
  CHECK(all.workloads(1).running_since_ms() == 1000);
  REQUIRE(all.workloads(1).nodes_size() == 1);
  CHECK(all.workloads(1).nodes(0) != first.nodes(0));
  // The gang is one row: both members, their GPUs together, its node once.
  const pb::RunningWorkload& gang = all.workloads(2);
  CHECK(gang.workload() == "ns/ring");
  CHECK(gang.pods_size() == 2);
  CHECK(gang.queue() == "root.safety");
  CHECK(gang.gpu_type() == "H100");
  CHECK(gang.gpu_milli() == 8000);
  REQUIRE(gang.nodes_size() == 1);
  CHECK(gang.nodes(0) == "h-1");
  CHECK(gang.running_since_ms() == 500);

  SECTION("filters and pages") {
    req.set_queue("root.research");
    CHECK(Running(d, req).total() == 2);
    req.set_queue("root");
    req.set_gpu_type("H100");
    CHECK(Running(d, req).total() == 1);
    req.clear_gpu_type();
    req.set_tier(0);
    req.set_has_tier(true);
    CHECK(Running(d, req).total() == 0);
    req.set_has_tier(false);
    req.set_page_size(2);
    pb::ListRunningResponse page = Running(d, req);
    CHECK(page.workloads_size() == 2);
    CHECK(page.total() == 3);
    REQUIRE_FALSE(page.next_page_token().empty());
    req.set_page_token(page.next_page_token());
    page = Running(d, req);
    REQUIRE(page.workloads_size() == 1);
    CHECK(page.workloads(0).workload() == "ns/ring");
    CHECK(page.next_page_token().empty());
  }
  SECTION("bad requests name the field") {
    auto refused = [&](const pb::ListRunningRequest& r) {
      pb::ListRunningResponse out;
      const grpc::Status s = d.stub().ListRunning(As("viewer-t").get(), r, &out);
      CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      return s.error_message();
    };
    pb::ListRunningRequest r;
    r.set_page_size(-1);
    CHECK(refused(r) == "page_size: -1 is negative");
    r = {};
    r.set_queue("root.nope");
    CHECK(refused(r) == "queue: \"root.nope\" is not a queue");
    r = {};
    r.set_gpu_type("V100");
    CHECK(refused(r) == "gpu_type: \"V100\" is not a GPU type of this cluster");
    r = {};
    r.set_tier(3);
    r.set_has_tier(true);
    CHECK(refused(r) == "tier: 3 is not 0, 1 or 2");
    r = {};
    r.set_page_token("-5");
    CHECK(refused(r).find("page_token: \"-5\"") == 0);
  }
  SECTION("a viewer may list; no token may not") {
    pb::ListRunningResponse out;
    CHECK(d.stub().ListRunning(As("").get(), req, &out).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
}

TEST_CASE("droverctl_get_running", "[admin][e2e][droverctl]") {
  AdminDaemon d({}, WithGang());
  std::string out;
  REQUIRE(Droverctl(d, "--token viewer-t get running", &out) == 0);
  INFO(out);
  CHECK(out.find("WORKLOAD    PODS  QUEUE              TIER  GPUS    NODES  AGE\n") == 0);
  CHECK(out.find("\nns/train-0  1     root.research.llm  1     8 A100  a-1    1h\n") != std::string::npos);
  CHECK(out.find("\nns/train-1  1     root.research.llm  1     8 A100  a-2    59m\n") != std::string::npos);  // since 1 s
  CHECK(out.find("\nns/ring     2     root.safety        1     8 H100  h-1    59m\n") != std::string::npos);
  CHECK(out.find("3 of 3 running workloads") != std::string::npos);
  REQUIRE(Droverctl(d, "--token viewer-t get running --queue root.safety -o wide", &out) == 0);
  CHECK(out.find("STATE    SINCE (MS)") != std::string::npos);
  CHECK(out.find("Running  500\n") != std::string::npos);
  CHECK(out.find("ns/train-0") == std::string::npos);
  REQUIRE(Droverctl(d, "--token viewer-t get running --gpu-type A100 -o json", &out) == 0);
  CHECK(out.find("\"workload\": \"ns/train-1\"") != std::string::npos);
  CHECK(out.find("\"total\": \"2\"") != std::string::npos);
  REQUIRE(Droverctl(d, "--token viewer-t get running --limit 1 -o yaml", &out) == 0);
  CHECK(out.find("next_page_token: 1") != std::string::npos);
  CHECK(Droverctl(d, "--token viewer-t get running --queue root.nope", &out) == 1);
  CHECK(out.find("queue: \"root.nope\" is not a queue") != std::string::npos);
  CHECK(Droverctl(d, "get running", &out) == 4);
}

// Five nodes that each turn an 8-GPU A100 pod away for a known reason once a-1
// and a-2 are full: a-1, a-2 (Insufficient GPUs), t-1 (A100, tainted), c-1 (no
// GPUs: Insufficient GPUs), h-1 (H100: a GPU type the pod may not use).
SimInput FiveReasons() {
  SimInput in;
  for (const char* n : {"a-1", "a-2"}) in.nodes.push_back(SimNode{testing::GpuNode(n, testing::kA100, 8), 0, -1, -1});
  Node tainted = testing::GpuNode("t-1", testing::kA100, 8);
  tainted.taints.push_back(Taint{"dedicated", "infra", TaintEffect::kNoSchedule});
  in.nodes.push_back(SimNode{tainted, 0, -1, -1});
  in.nodes.push_back(SimNode{testing::CpuNode("c-1"), 0, -1, -1});
  in.nodes.push_back(SimNode{testing::GpuNode("h-1", testing::kH100, 8), 0, -1, -1});
  for (int i = 0; i < 4; ++i) {
    in.pods.push_back(
        SimPod{testing::GpuPod("train-" + std::to_string(i), "root.research.llm", 8, "A100"), i * 1000, 10 * 3600 * 1000});
  }
  return in;
}

TEST_CASE("explain_counts_the_nodes_that_turned_a_pending_pod_away_by_reason", "[admin][e2e]") {
  // No reservations: a reserved node's drain note would join the message.
  AdminDaemon d([](ProcessOptions* o) { o->engine.reservation_after_ms = 0; }, FiveReasons());
  pb::ExplainRequest req;
  req.set_namespace_("ns");
  req.set_name("train-3");
  pb::Explanation why;
  REQUIRE(d.stub().Explain(As("viewer-t").get(), req, &why).ok());
  REQUIRE(why.pending());
  INFO(why.DebugString());
  CHECK(why.workload().message() ==
        "0/5 nodes are available: 3 Insufficient GPUs (e.g. A100), 1 node(s) had untolerated taint {dedicated: infra}, "
        "1 node(s) had a GPU type the pod or its queue may not use.");
  CHECK(why.nodes_total() == 5);
  REQUIRE(why.nodes_by_reason_size() == 3);
  CHECK(why.nodes_by_reason(0).reason() == "InsufficientGpu");
  CHECK(why.nodes_by_reason(0).nodes() == 3);
  CHECK(why.nodes_by_reason(0).message() == "Insufficient GPUs");
  CHECK(why.nodes_by_reason(1).reason() == "Taint");
  CHECK(why.nodes_by_reason(1).nodes() == 1);
  CHECK(why.nodes_by_reason(2).reason() == "GpuType");
  CHECK(why.nodes_by_reason(2).nodes() == 1);
  // A running pod has no node reasons.
  req.set_name("train-0");
  REQUIRE(d.stub().Explain(As("viewer-t").get(), req, &why).ok());
  CHECK_FALSE(why.pending());
  CHECK(why.nodes_by_reason_size() == 0);

  std::string out;
  REQUIRE(Droverctl(d, "--token viewer-t explain pod ns/train-2", &out) == 0);
  INFO(out);
  CHECK(out.find("Nodes:    0/5 available\n"
                 "  NODES  REASON           DETAIL\n"
                 "  3      InsufficientGpu  Insufficient GPUs\n"
                 "  1      Taint            node(s) had untolerated taint\n"
                 "  1      GpuType          node(s) had a GPU type the pod or its queue may not use\n") != std::string::npos);
}

}  // namespace
}  // namespace drover
