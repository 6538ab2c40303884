// Pending reasons carry a code beside the message and the workload's position in
// its leaf queue's order; Engine::ListPending lists every pending workload.
#include "tests/placement/harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

const PendingReason* ReasonFor(const Decisions& d, const std::string& key) {
  for (const PendingReason& p : d.pending) {
    if (p.pod_key == key) return &p;
  }
  return nullptr;
}

PendingCode CodeOf(const Decisions& d, const std::string& key) {
  const PendingReason* r = ReasonFor(d, key);
  REQUIRE(r != nullptr);
  return r->code;
}

EngineOptions NoReservations() {
  EngineOptions o = PreemptAtOnce();
  o.reservation_after_ms = 0;
  return o;
}

}  // namespace

TEST_CASE("pending_code_says_which_path_held_the_pod", "[placement][pending]") {
  Harness h(R"(
queues:
  children:
    - name: capped
      max: {gpu: {A100: 2}}
    - name: apps
      limits: {max_running_apps: 1}
    - name: open
)", NoReservations());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddRunning(GpuPod("cap-run", "capped", 2), "a100-0");
  h.AddPod(GpuPod("cap-wait", "capped", 1));     // the queue is at its max
  h.AddPod(GpuPod("app-0", "apps", 1));
  h.AddPod(GpuPod("app-1", "apps", 1));          // a second bare pod: a second application
  h.AddPod(GangMember("g", 0, 3, "open", 1));   // 1 of 3 members
  h.AddPod(GpuPod("nowhere", "no-such-queue", 1));
  Decisions d = h.Cycle();
  CHECK(CodeOf(d, "ns/cap-wait") == PendingCode::kQueueAtMax);
  CHECK(CodeOf(d, "ns/app-1") == PendingCode::kApplicationLimit);
  CHECK(CodeOf(d, "ns/g-0") == PendingCode::kWaitingForGang);
  CHECK(CodeOf(d, "ns/nowhere") == PendingCode::kRejected);
  CHECK(ReasonFor(d, "ns/nowhere")->queue_position == 0);
  CHECK(PendingCodeName(PendingCode::kQueueAtMax) == "QueueAtMax");
}

TEST_CASE("pending_code_unschedulable_when_quota_admits_but_no_node_has_room", "[placement][pending]") {
  Harness h(kTwoTeamsAndScratch, NoReservations());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  h.AddRunning(GpuPod("r0", "team-b", 5), "a100-0");
  h.AddRunning(GpuPod("r1", "team-b", 5), "a100-1");
  h.AddPod(GpuPod("four", "scratch", 4));  // 6 GPUs free, 3 per node
  Decisions d = h.Cycle();
  CHECK(CodeOf(d, "ns/four") == PendingCode::kUnschedulable);
  // The root's max is the cluster: asking more than is free anywhere is the root at its max.
  h.AddPod(GpuPod("seven", "scratch", 7));
  d = h.Cycle();
  CHECK(CodeOf(d, "ns/seven") == PendingCode::kQueueAtMax);
  CHECK_THAT(ReasonFor(d, "ns/seven")->message, Catch::Contains("queue root"));
}

TEST_CASE("pending_code_of_a_preemptor_is_waiting_for_preemption", "[placement][pending]") {
  Harness h(kTwoTeamsAndScratch, NoReservations());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  h.AddRunning(GpuPod("b0", "team-b", 8, "", 1), "a100-0");  // team-b: 12, 4 above its guaranteed
  h.AddRunning(GpuPod("b1", "team-b", 4, "", 1), "a100-1");
  h.AddRunning(GpuPod("s", "scratch", 4, "", 1), "a100-1");
  h.AddPod(GpuPod("a", "team-a", 8));
  Decisions d = h.engine->RunCycle(0);  // the victims are not deleted yet
  REQUIRE_FALSE(d.evictions.empty());
  const PendingReason* r = ReasonFor(d, "ns/a");
  REQUIRE(r != nullptr);
  CHECK(r->code == PendingCode::kWaitingForPreemption);
  CHECK(r->nominated_node == "a100-1");
  CHECK(r->queue_position == 1);
}

TEST_CASE("queue_position_counts_every_pending_workload_of_the_leaf_in_order", "[placement][pending]") {
  Harness h(kTwoTeamsAndScratch, NoReservations());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  h.AddRunning(GpuPod("r0", "team-b", 5), "a100-0");  // 3 free per node, 6 in all
  h.AddRunning(GpuPod("r1", "team-b", 5), "a100-1");
  for (int i = 0; i < 3; ++i) {
    Pod p = GpuPod("p" + std::to_string(i), "scratch", 4);
    p.creation_ms = 1000 * i;
    h.AddPod(p);
  }
  Decisions d = h.Cycle();
  for (int i = 0; i < 3; ++i) {
    const PendingReason* r = ReasonFor(d, "ns/p" + std::to_string(i));
    REQUIRE(r != nullptr);
    CHECK(r->queue_position == i + 1);  // blocked ones count: where each stands in line
  }
  // A later pod of higher priority goes to the head of the line.
  Pod urgent = GpuPod("urgent", "scratch", 4);
  urgent.priority = 100;
  urgent.creation_ms = 5000;
  h.AddPod(urgent);
  d = h.Cycle();
  REQUIRE(ReasonFor(d, "ns/urgent") != nullptr);
  CHECK(ReasonFor(d, "ns/urgent")->queue_position == 1);

  SECTION("ListPending lists them all with queue, code, position and wait start") {
    h.AddPod(GpuPod("lost", "no-such-queue", 1));
    h.Cycle();
    const std::vector<PendingWorkload> list = h.engine->ListPending();
    REQUIRE(list.size() == 5);
    const std::vector<std::string> order = {"ns/urgent", "ns/p0", "ns/p1", "ns/p2", "ns/lost"};
    for (size_t i = 0; i < order.size(); ++i) {
      INFO(i);
      REQUIRE(list[i].pod_keys.size() == 1);
      CHECK(list[i].pod_keys[0] == order[i]);
    }
    CHECK(list[0].queue == "root.scratch");
    CHECK(list[0].position == 1);
    CHECK(list[3].position == 4);
    CHECK(list[3].code == PendingCode::kUnschedulable);
    CHECK(list[3].waiting_since_ms == 2000);
    CHECK(list[3].message.rfind("0/2 nodes are available", 0) == 0);
    CHECK(list[4].code == PendingCode::kRejected);
    CHECK(list[4].position == 0);
    CHECK(list[4].queue.empty());
    CHECK(list[4].message.rfind("rejected: ", 0) == 0);
  }
}

TEST_CASE("pending_reason_counts_each_node_under_its_first_failing_filter", "[placement][pending]") {
  // H100 is at max for the queue; the pod's node selector asks for B200, which no node has.
  constexpr const char* kQueues = R"(
queues:
  children:
    - name: team
      max: {gpu: {H100: 1}}
)";
  Harness h(kQueues, NoReservations());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("h100-0", kH100, 8));
  h.AddRunning(GpuPod("h100-run", "team", 1, "H100"), "h100-0");
  drover::Node cpu = CpuNode("cpu-0");
  h.AddNode(cpu);
  drover::Node tainted = GpuNode("a100-t", kA100, 8);
  tainted.taints.push_back(Taint{"gpu", "reserved", TaintEffect::kNoSchedule});
  h.AddNode(tainted);
  Pod p = GpuPod("b200", "team", 1);
  p.node_selector.Set("nvidia.com/gpu.product", "NVIDIA-B200");
  h.AddPod(p);
  Decisions d = h.Cycle();
  const PendingReason* r = ReasonFor(d, "ns/b200");
  REQUIRE(r != nullptr);
  INFO(r->message);
  CHECK(r->message.find("0/4 nodes are available") != std::string::npos);
  CHECK(r->message.find("3 node(s) didn't match Pod's node selector") != std::string::npos);
  // kube-scheduler checks taints before the selector.
  CHECK(r->message.find("1 node(s) had untolerated taint {gpu: reserved}") != std::string::npos);
  // No type the pod could run on is refused by its queue: no queue clause, no "Insufficient".
  CHECK(r->message.find("H100") == std::string::npos);
  CHECK(r->message.find("Insufficient") == std::string::npos);
  CHECK(r->code == PendingCode::kUnschedulable);

  // A pod that could run on H100 but for its queue is told about the queue.
  Pod q = GpuPod("h100", "team", 1, "H100");
  h.AddPod(q);
  d = h.Cycle();
  const PendingReason* rq = ReasonFor(d, "ns/h100");
  REQUIRE(rq != nullptr);
  INFO(rq->message);
  CHECK(rq->message.find("H100") != std::string::npos);
  CHECK(rq->code == PendingCode::kQueueAtMax);
}
