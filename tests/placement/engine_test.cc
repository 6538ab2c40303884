#include <catch2/catch.hpp>

#include "placement/engine.h"
#include "queues/config.h"
#include "tests/common/fixtures.h"

using namespace drover;
using drover::testing::GpuNode;
using drover::testing::GpuPod;

namespace {

constexpr const char* kQueues = R"(
gpu_classes:
  - {name: a10+, min: A10}
queues:
  children:
    - name: team-a
      guaranteed: {gpu: {A100: 8}}
      max: {gpu: {A100: 16, H100: 16}}
    - name: team-b
      guaranteed: {gpu: {A100: 8}}
    - name: scratch
)";

struct Harness {
  std::unique_ptr<Engine> engine;
  explicit Harness(const char* yaml = kQueues) {
    auto cfg = ParseQueueConfig(yaml, "test.yaml");
    REQUIRE(cfg.ok());
    auto e = Engine::Create(*cfg, drover::testing::PreemptAtOnce());
    REQUIRE(e.ok());
    engine = std::move(*e);
  }
  void Node(const drover::Node& n) { engine->Apply(ClusterEvent{ClusterEvent::Kind::kNodeUpsert, n, {}}); }
  void Pod(const drover::Pod& p) { engine->Apply(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, p}); }
  // Runs a cycle and confirms every bind as the cluster would.
  Decisions Cycle(int64_t now = 0) {
    Decisions d = engine->RunCycle(now);
    for (const Binding& b : d.binds) {
      const PodEntry& e = engine->snapshot().pod(engine->snapshot().FindPod(b.pod_key));
      drover::Pod bound = e.pod;
      bound.node_name = b.node;
      bound.phase = PodPhase::kRunning;
      bound.gpu_device_ids = b.gpu_devices;
      Pod(bound);
    }
    for (const Eviction& ev : d.evictions) {
      ClusterEvent del{ClusterEvent::Kind::kPodDelete, {}, {}};
      const size_t slash = ev.pod_key.find('/');
      del.pod.namespace_ = ev.pod_key.substr(0, slash);
      del.pod.name = ev.pod_key.substr(slash + 1);
      engine->Apply(del);
    }
    REQUIRE(engine->CheckInvariants().empty());
    return d;
  }
  std::string NodeOf(const std::string& key) const {
    const PodId id = engine->snapshot().FindPod(key);
    return id == kNoPod ? "(gone)" : engine->snapshot().pod(id).pod.node_name;
  }
};

}  // namespace

TEST_CASE("binpack_fills_the_fullest_node_and_the_lowest_adequate_rank", "[placement]") {
  Harness h;
  h.Node(GpuNode("h100-0", "NVIDIA-H100-80GB-HBM3", 8));
  h.Node(GpuNode("a10g-0", "NVIDIA-A10G", 4));
  h.Node(GpuNode("a10g-1", "NVIDIA-A10G", 4));
  h.Pod(GpuPod("first", "scratch", 1, "a10+"));
  h.Cycle();
  const std::string first = h.NodeOf("ns/first");
  CHECK(first.rfind("a10g", 0) == 0);  // A10G ranks below H100
  h.Pod(GpuPod("second", "scratch", 2, "a10+"));
  h.Cycle();
  CHECK(h.NodeOf("ns/second") == first);  // the fullest node that fits
}

TEST_CASE("gang_is_all_or_nothing", "[placement]") {
  Harness h;
  h.Node(GpuNode("a100-0", "NVIDIA-A100-SXM4-80GB", 8));
  h.Node(GpuNode("a100-1", "NVIDIA-A100-SXM4-80GB", 8));
  h.Pod(GpuPod("blocker", "team-b", 4, "A100"));
  h.Cycle();
  for (int i = 0; i < 3; ++i) {
    drover::Pod p = GpuPod("g" + std::to_string(i), "team-b", 6, "A100");
    p.annotations.Set("drover.io/gang", "job");
    p.annotations.Set("drover.io/gang-min-members", "3");
    h.Pod(p);
  }
  Decisions d = h.Cycle();
  CHECK(d.binds.empty());  // two fit, the third does not: none is bound
  for (int i = 0; i < 3; ++i) CHECK(h.NodeOf("ns/g" + std::to_string(i)).empty());
  REQUIRE_FALSE(d.pending.empty());
  CHECK(d.pending[0].message.find("gang ns/job") != std::string::npos);
}

TEST_CASE("workload_larger_than_its_queue_max_is_rejected_not_left_pending", "[placement]") {
  Harness h;
  for (int i = 0; i < 4; ++i) h.Node(GpuNode("h100-" + std::to_string(i), "NVIDIA-H100-80GB-HBM3", 8));
  for (int i = 0; i < 4; ++i) {
    drover::Pod p = GpuPod("big" + std::to_string(i), "team-a", 8, "H100");
    p.annotations.Set("drover.io/gang", "big");
    p.annotations.Set("drover.io/gang-min-members", "4");
    h.Pod(p);
  }
  Decisions d = h.Cycle();
  CHECK(d.binds.empty());
  REQUIRE_FALSE(d.pending.empty());
  CHECK(d.pending.back().message.find("can never be placed") != std::string::npos);
  CHECK(d.pending.back().message.find("root.team-a") != std::string::npos);
}

TEST_CASE("reclaim_preempts_borrowed_tier2_first_and_never_tier0", "[placement]") {
  Harness h;
  h.Node(GpuNode("a100-0", "NVIDIA-A100-SXM4-80GB", 8));
  h.Node(GpuNode("a100-1", "NVIDIA-A100-SXM4-80GB", 8));
  // team-b fills the cluster: 8 guaranteed (tier 0 and 1) + 8 borrowed (tier 2 and 1).
  h.Pod(GpuPod("b-t0", "team-b", 4, "A100", 0));
  h.Pod(GpuPod("b-t1", "team-b", 4, "A100", 1));
  h.Cycle(1000);
  h.Pod(GpuPod("b-borrow-t1", "team-b", 4, "A100", 1));
  h.Cycle(2000);
  h.Pod(GpuPod("b-borrow-t2", "team-b", 4, "A100", 2));
  h.Cycle(3000);
  REQUIRE_FALSE(h.NodeOf("ns/b-borrow-t2").empty());
  // team-a is below its guaranteed 8 A100: it reclaims.
  h.Pod(GpuPod("a-1", "team-a", 4, "A100", 1));
  Decisions d = h.Cycle(4000);
  INFO((d.pending.empty() ? std::string("no pending") : d.pending[0].message));
  REQUIRE(d.evictions.size() == 1);
  CHECK(d.evictions[0].pod_key == "ns/b-borrow-t2");
  CHECK(d.evictions[0].preemptor_key == "ns/a-1");
  h.Cycle(5000);
  CHECK_FALSE(h.NodeOf("ns/a-1").empty());
  // A second team-a pod takes the next borrowed pod (tier 1), never a tier 0 one.
  h.Pod(GpuPod("a-2", "team-a", 4, "A100", 1));
  d = h.Cycle(6000);
  REQUIRE(d.evictions.size() == 1);
  CHECK(d.evictions[0].pod_key == "ns/b-borrow-t1");
  h.Cycle(7000);
  // team-a is now at its guaranteed: a third pod may not preempt team-b within its guaranteed.
  h.Pod(GpuPod("a-3", "team-a", 4, "A100", 1));
  d = h.Cycle(8000);
  CHECK(d.evictions.empty());
  CHECK(h.NodeOf("ns/a-3").empty());
  CHECK_FALSE(h.NodeOf("ns/b-t0").empty());
  CHECK_FALSE(h.NodeOf("ns/b-t1").empty());
}

TEST_CASE("unentitled_pod_does_not_preempt_another_queue", "[placement]") {
  Harness h;
  h.Node(GpuNode("a100-0", "NVIDIA-A100-SXM4-80GB", 8));
  h.Pod(GpuPod("b-borrow", "team-b", 8, "A100", 2));
  h.Cycle();
  h.Pod(GpuPod("scratch", "scratch", 4, "A100", 1));  // scratch has no guaranteed
  Decisions d = h.Cycle();
  CHECK(d.evictions.empty());
  CHECK(d.pending.size() == 1);
  CHECK(d.pending[0].message.find("0/1 nodes are available") != std::string::npos);
}

TEST_CASE("config_change_removing_a_busy_queue_drains_it", "[placement][queues]") {
  Harness h;
  h.Node(GpuNode("a100-0", "NVIDIA-A100-SXM4-80GB", 8));
  h.Pod(GpuPod("b-run", "team-b", 4, "A100"));
  h.Cycle();
  REQUIRE(h.NodeOf("ns/b-run") == "a100-0");
  // The new revision drops team-b and lowers team-a's max below nothing in use.
  auto cfg = ParseQueueConfig(R"(
queues:
  children:
    - name: team-a
      guaranteed: {gpu: {A100: 2}}
      max: {gpu: {A100: 2}}
    - name: scratch
)", "v2.yaml");
  REQUIRE(cfg.ok());
  h.engine->ApplyConfig(*cfg);
  const QueueTree& t = h.engine->queues();
  const QueueId b = t.Find("root.team-b");
  REQUIRE(b != kNoQueue);
  CHECK(t.queue(b).draining);
  CHECK(t.queue(b).usage[QGpu(h.engine->catalog().FindType("A100"))] == 4000);  // running pod untouched
  CHECK(h.engine->snapshot().Free(h.engine->snapshot().FindNode("a100-0"))[Res::kGpu] == 4000);
  // A new pod for team-b is rejected visibly; team-a admits only 2 GPUs.
  h.Pod(GpuPod("b-new", "team-b", 1, "A100"));
  h.Pod(GpuPod("a-big", "team-a", 3, "A100"));
  Decisions d = h.Cycle();
  CHECK(d.binds.empty());
  bool saw_draining = false, saw_max = false;
  for (const PendingReason& p : d.pending) {
    saw_draining = saw_draining || p.message.find("draining") != std::string::npos;
    saw_max = saw_max || p.message.find("can never be placed") != std::string::npos;
  }
  CHECK(saw_draining);
  CHECK(saw_max);
  // Once the pod completes, the draining queue is gone.
  ClusterEvent del{ClusterEvent::Kind::kPodDelete, {}, {}};
  del.pod.namespace_ = "ns";
  del.pod.name = "b-run";
  h.engine->Apply(del);
  h.Cycle();
  CHECK(h.engine->queues().Find("root.team-b") == kNoQueue);
}

TEST_CASE("max_pending_pods_rejects_beyond_the_limit", "[placement][queues]") {
  Harness h(R"(
queues:
  children:
    - name: small
      limits: {max_pending_pods: 2}
)");
  h.Node(GpuNode("t4-0", "Tesla-T4", 1));
  for (int i = 0; i < 4; ++i) h.Pod(GpuPod("p" + std::to_string(i), "small", 2));
  Decisions d = h.Cycle();
  int limited = 0;
  for (const PendingReason& p : d.pending) limited += p.message.find("limit of 2 pending pods") != std::string::npos;
  CHECK(limited == 2);
}

TEST_CASE("pods_listed_before_their_node_are_charged_to_their_queue", "[placement][queues]") {
  // Nodes and pods come from separate informers: at start-up the pod list can be
  // drained before the node list. The running pods must still count against their
  // queue's max, or the first cycle admits past it.
  Harness h(R"(
queues:
  children:
    - name: capped
      max: {gpu: {A100: 8}}
)");
  drover::Pod running = GpuPod("running", "capped", 8, "A100");
  running.node_name = "a100-0";
  running.phase = PodPhase::kRunning;
  h.Pod(running);  // its node is not known yet
  h.Pod(GpuPod("waiting", "capped", 4, "A100"));
  h.Node(GpuNode("a100-0", "NVIDIA-A100-SXM4-80GB", 8));
  h.Node(GpuNode("a100-1", "NVIDIA-A100-SXM4-80GB", 8));
  const QueueTree& t = h.engine->queues();
  CHECK(t.queue(t.Find("root.capped")).usage[QGpu(h.engine->catalog().FindType("A100"))] == 8000);
  Decisions d = h.Cycle();
  CHECK(d.binds.empty());  // at its max of 8
  REQUIRE(d.pending.size() == 1);
  CHECK(d.pending[0].message.find("root.capped") != std::string::npos);
}
