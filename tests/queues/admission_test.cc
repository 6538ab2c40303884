// Admission as the engine applies it (queues/README.md, "Semantics"): max on the
// leaf and every ancestor, borrowing idle capacity up to max, GPU types a queue
// may not use, visible rejections for bad queues and disproportionate requests,
// GPU classes landing on the lowest rank and charged to it, and a max lowered
// below usage by a configuration change.
#include <catch2/catch.hpp>

#include "tests/queues/engine_harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

// root -> org (max 16 A100) -> team (max 12) -> {x (max 8), y}; org -> solo; other.
constexpr const char* kThreeLevels = R"(
queues:
  children:
    - name: org
      max: {gpu: {A100: 16}}
      children:
        - name: team
          max: {gpu: {A100: 12}}
          children:
            - name: x
              max: {gpu: {A100: 8}}
            - name: y
        - name: solo
    - name: other
)";

// Submits `n` pods of `gpus` A100 into `queue`, runs a cycle, returns how many bound.
int Fill(Harness& h, const std::string& queue, const std::string& prefix, int n, int gpus, Decisions* d) {
  for (int i = 0; i < n; ++i) h.Submit(GpuPod(prefix + std::to_string(i), queue, gpus, "A100"));
  *d = h.Cycle();
  return static_cast<int>(d->binds.size());
}

}  // namespace

TEST_CASE("admission_stops_at_the_tightest_max_of_a_three_level_tree", "[queues][admission]") {
  Harness h(kThreeLevels);
  for (int i = 0; i < 5; ++i) h.AddNode(GpuNode("a100-" + std::to_string(i), kA100, 8));  // 40 A100
  Decisions d;
  // x: its own max of 8.
  CHECK(Fill(h, "root.org.team.x", "x", 6, 2, &d) == 4);
  CHECK(h.Usage("root.org.team.x", "A100") == 8000);
  INFO(Harness::Reasons(d));
  CHECK(Harness::Mentions(d, "ns/x4", "queue root.org.team.x at max for A100 (8/8, pod needs 2)"));
  // y: no max of its own; team's 12 leaves it 4.
  CHECK(Fill(h, "root.org.team.y", "y", 4, 2, &d) == 2);
  CHECK(Harness::Mentions(d, "ns/y2", "queue root.org.team at max for A100 (12/12, pod needs 2)"));
  // solo: org's 16 leaves it 4.
  CHECK(Fill(h, "root.org.solo", "s", 4, 2, &d) == 2);
  CHECK(Harness::Mentions(d, "ns/s2", "queue root.org at max for A100 (16/16, pod needs 2)"));
  // other: the rest of the cluster (root's max is the cluster: 40).
  CHECK(Fill(h, "root.other", "o", 14, 2, &d) == 12);
  CHECK(h.Usage("root", "A100") == 40000);
  CHECK(h.Usage("root.org", "A100") == 16000);
  CHECK(h.Usage("root.org.team", "A100") == 12000);
  // The boundary is inclusive: usage + charge == max is admitted, one milli-GPU more is not.
  const QueueTree& t = h.engine->queues();
  const GpuTypeId a100 = h.engine->catalog().FindType("A100");
  CHECK_FALSE(t.CheckAdmit(t.Find("root.org.team.x"), Charge{0, 0, a100, 1}, 1).empty());
  // With the other queues' waiting pods gone, freeing 2 GPUs in x admits exactly
  // one more 2-GPU pod there (x4), and x5 still waits at x's max.
  for (const char* k : {"ns/y2", "ns/y3", "ns/s2", "ns/s3", "ns/o12", "ns/o13"}) h.Delete(k);
  h.Delete("ns/x0");
  d = h.Cycle();
  CHECK(h.NodeOf("ns/x4").rfind("a100-", 0) == 0);
  CHECK(h.NodeOf("ns/x5").empty());
  CHECK(h.Usage("root.org.team.x", "A100") == 8000);
  CHECK(h.engine->CheckInvariants().empty());
}

TEST_CASE("a_queue_borrows_idle_capacity_up_to_its_max_and_no_further", "[queues][admission]") {
  Harness h(R"(
queues:
  children:
    - name: a
      guaranteed: {gpu: {A100: 8}}
      max: {gpu: {A100: 24}}
    - name: b
      guaranteed: {gpu: {A100: 16}}
)");
  for (int i = 0; i < 4; ++i) h.AddNode(GpuNode("a100-" + std::to_string(i), kA100, 8));  // 32 A100
  for (int i = 0; i < 16; ++i) h.Submit(GpuPod("a" + std::to_string(i), "root.a", 2, "A100"));
  Decisions d = h.Cycle();
  // b is idle: a takes its guaranteed 8 and borrows 16 more, up to its max of 24.
  CHECK(d.binds.size() == 12);
  CHECK(h.Usage("root.a", "A100") == 24000);
  const QueueTree& t = h.engine->queues();
  const QueueId a = t.Find("root.a");
  CHECK(t.Borrowed(a, QGpu(h.engine->catalog().FindType("A100"))) == 16000);
  CHECK(t.queue(a).peak_borrowed[QGpu(h.engine->catalog().FindType("A100"))] == 16000);
  INFO(Harness::Reasons(d));
  CHECK(Harness::Mentions(d, "ns/a12", "queue root.a at max for A100 (24/24, pod needs 2)"));
  // The 8 idle GPUs stay idle for a, and b gets them at once when it asks.
  for (int i = 0; i < 4; ++i) h.Submit(GpuPod("b" + std::to_string(i), "root.b", 2, "A100"));
  d = h.Cycle();
  CHECK(d.binds.size() == 4);
  CHECK(d.evictions.empty());
  CHECK(h.Usage("root.b", "A100") == 8000);
}

TEST_CASE("a_pod_asking_for_a_type_its_queue_may_not_use_is_rejected_with_the_reason", "[queues][admission]") {
  Harness h(R"(
gpu_classes:
  - {name: a10+, min: A10}
queues:
  children:
    - name: parent
      max: {gpu: {H100: 0}}
      children:
        - name: leaf
)");
  h.AddNode(GpuNode("h100-0", kH100, 8));
  h.AddNode(GpuNode("a10-0", kA10, 4));
  h.Submit(GpuPod("h", "root.parent.leaf", 1, "H100"));   // inherits parent's H100 max of 0
  h.Submit(GpuPod("b", "root.parent.leaf", 1, "B200"));   // a type the cluster does not have
  h.Submit(GpuPod("c", "root.parent.leaf", 1, "a10+"));   // the class falls back on A10
  Decisions d = h.Cycle();
  INFO(Harness::Reasons(d));
  CHECK(Harness::Mentions(d, "ns/h", "rejected: pod ns/h can never be placed: needs 1 H100, above the max of queue "
                                     "root.parent.leaf (0)"));
  CHECK(Harness::Mentions(d, "ns/b", "rejected: pod ns/b can never be placed: no node has a GPU type it accepts"));
  CHECK(h.NodeOf("ns/c") == "a10-0");
  CHECK(h.NodeOf("ns/h").empty());
  CHECK(h.engine->stats().rejected == 2);
  CHECK(h.engine->WhyPending("ns/h").find("above the max of queue root.parent.leaf (0)") != std::string::npos);
}

TEST_CASE("an_unknown_or_non_leaf_queue_is_a_visible_rejection", "[queues][admission]") {
  Harness h(R"(
queues:
  children:
    - name: org
      children:
        - name: team
)");
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.Submit(GpuPod("unknown", "root.nope", 1));
  h.Submit(GpuPod("parent", "root.org", 1));
  h.Submit(GpuPod("unnamed", "", 1));  // no annotation, no namespace mapping, no default queue
  h.Submit(GpuPod("short", "org.team", 1));  // a path without "root." is accepted
  Decisions d = h.Cycle();
  INFO(Harness::Reasons(d));
  CHECK(Harness::Mentions(d, "ns/unknown",
                          "rejected: pod ns/unknown: queue \"root.nope\" (from annotation drover.io/queue) does not exist"));
  CHECK(Harness::Mentions(d, "ns/parent", "queue \"root.org\" (from annotation drover.io/queue) is not a leaf"));
  CHECK(Harness::Mentions(d, "ns/unnamed", "names no queue"));
  CHECK(h.NodeOf("ns/short") == "a100-0");
  CHECK(h.engine->stats().rejected == 3);
  CHECK(h.engine->pending_pods() == 3);  // rejected pods stay visible, not dropped
}

TEST_CASE("proportional_policy_rejects_with_the_numbers_or_charges_gpu_equivalents", "[queues][admission]") {
  Harness h(R"(
proportional:
  - {gpu_type: H100, cpu_per_gpu: 24, memory_per_gpu: 240Gi, action: reject}
  - {gpu_type: A100, cpu_per_gpu: 12, action: charge}
queues:
  children:
    - name: team
      max: {gpu: {A100: 4}}
)");
  h.AddNode(GpuNode("h100-0", kH100, 8));
  h.AddNode(GpuNode("a100-0", kA100, 8));
  Pod cpu_heavy = GpuPod("cpu-heavy", "root.team", 1, "H100");
  cpu_heavy.requests[Res::kCpu] = 48000;
  Pod mem_heavy = GpuPod("mem-heavy", "root.team", 2, "H100");
  mem_heavy.requests[Res::kMemory] = 600LL << 30;
  Pod within = GpuPod("within", "root.team", 1, "H100");
  within.requests[Res::kCpu] = 24000;
  Pod charged = GpuPod("charged", "root.team", 1, "A100");
  charged.requests[Res::kCpu] = 36000;  // 3 A100s' worth of CPU
  for (const Pod& p : {cpu_heavy, mem_heavy, within, charged}) h.Submit(p);
  Decisions d = h.Cycle();
  INFO(Harness::Reasons(d));
  CHECK(Harness::Mentions(d, "ns/cpu-heavy", "rejected: pod ns/cpu-heavy can never be placed: pod ns/cpu-heavy: cpu 48 "
                                             "for 1 H100 is above the limit of 24 per GPU"));
  CHECK(Harness::Mentions(d, "ns/mem-heavy", "memory 600Gi for 2 H100 is above the limit of 240Gi per GPU"));
  CHECK(h.NodeOf("ns/within") == "h100-0");  // exactly at the bound is fine
  CHECK(h.NodeOf("ns/charged") == "a100-0");
  CHECK(h.Usage("root.team", "A100") == 3000);  // charged 3 GPU-equivalents, holds 1 device
  // The queue's max counts the charge: a second such pod (3 more) does not fit 4,
  // though the node has 7 free A100s.
  Pod again = charged;
  again.name = again.uid = "charged-2";
  h.Submit(again);
  d = h.Cycle();
  CHECK(Harness::Mentions(d, "ns/charged-2", "queue root.team at max for A100 (3/4, pod needs 3)"));
  // A charge above the max on its own is never placeable, and says so.
  Pod huge = charged;
  huge.name = huge.uid = "huge";
  huge.requests[Res::kCpu] = 60000;  // 5 A100s' worth
  h.Submit(huge);
  d = h.Cycle();
  CHECK(Harness::Mentions(d, "ns/huge", "can never be placed: needs 5 A100, above the max of queue root.team (4)"));
}

TEST_CASE("a_class_lands_on_the_lowest_ranked_type_that_fits_and_is_charged_to_it", "[queues][admission]") {
  Harness h(R"(
gpu_classes:
  - {name: a10+, min: A10}
queues:
  children:
    - name: team
      guaranteed: {gpu: {A10: 4, A100: 8}}
      max: {gpu: {A10: 6}}
)");
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a10-0", kA10, 4));
  h.AddNode(GpuNode("a10-1", kA10, 4));
  // Both types fit: A10 (rank 30) before A100 (rank 60); charged to A10.
  h.Submit(GpuPod("p0", "root.team", 2, "a10+"));
  h.Cycle();
  CHECK(h.NodeOf("ns/p0").rfind("a10-", 0) == 0);
  CHECK(h.Usage("root.team", "A10") == 2000);
  CHECK(h.Usage("root.team", "A100") == 0);
  // A10 nodes have room for 6 more but the queue's A10 max leaves 4: the third
  // 2-GPU pod goes to A100 and is charged there.
  for (int i = 1; i <= 3; ++i) h.Submit(GpuPod("p" + std::to_string(i), "root.team", 2, "a10+"));
  h.Cycle();
  CHECK(h.Usage("root.team", "A10") == 6000);
  CHECK(h.Usage("root.team", "A100") == 2000);
  CHECK(h.NodeOf("ns/p3") == "a100-0");
  // An A10 frees up: the next class pod takes the A10 again, not the A100.
  h.Delete("ns/p1");
  h.Submit(GpuPod("p4", "root.team", 2, "a10+"));
  h.Cycle();
  CHECK(h.NodeOf("ns/p4").rfind("a10-", 0) == 0);
  CHECK(h.Usage("root.team", "A10") == 6000);
  CHECK(h.Usage("root.team", "A100") == 2000);
}

TEST_CASE("a_max_lowered_below_usage_admits_nothing_until_under_and_is_reported", "[queues][admission]") {
  const char* v1 = R"(
queues:
  children:
    - name: team
      max: {gpu: {A100: 16}}
    - name: other
)";
  Harness h(v1);
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  h.AddNode(GpuNode("t4-0", kT4, 4));
  for (int i = 0; i < 6; ++i) h.Submit(GpuPod("r" + std::to_string(i), "root.team", 2, "A100"));
  h.Cycle();
  REQUIRE(h.Usage("root.team", "A100") == 12000);
  const std::vector<std::string> over = h.engine->ApplyConfig(ParseOrDie(R"(
queues:
  children:
    - name: team
      max: {gpu: {A100: 8}}
    - name: other
)"));
  CHECK(over == std::vector<std::string>{"root.team"});  // reported to the caller
  const QueueTree& t = h.engine->queues();
  const QueueId team = t.Find("root.team");
  CHECK(t.queue(team).over_max_by_config);
  CHECK(h.engine->CheckInvariants().empty());  // not a violation
  CHECK(h.Usage("root.team", "A100") == 12000);  // running pods are untouched
  // Nothing is admitted, not even in a dimension still under max (T4).
  h.Submit(GpuPod("t4", "root.team", 1, "T4"));
  Decisions d = h.Cycle();
  INFO(Harness::Reasons(d));
  CHECK(d.binds.empty());
  CHECK(Harness::Mentions(d, "ns/t4", "queue root.team is above its max for A100 (12/8) since a configuration change; "
                                      "it admits nothing until under"));
  // One pod completes: 10/8, still over.
  h.Delete("ns/r0");
  d = h.Cycle();
  CHECK(d.binds.empty());
  // Two more: 6/8, under again; the T4 pod is admitted, and so is one 2-GPU A100 pod, not two.
  h.Delete("ns/r1");
  h.Delete("ns/r2");
  h.Submit(GpuPod("a0", "root.team", 2, "A100"));
  h.Submit(GpuPod("a1", "root.team", 2, "A100"));
  d = h.Cycle();
  CHECK_FALSE(t.queue(team).over_max_by_config);
  CHECK(h.NodeOf("ns/t4") == "t4-0");
  CHECK(h.Usage("root.team", "A100") == 8000);
  CHECK(Harness::Mentions(d, "ns/a1", "queue root.team at max for A100 (8/8, pod needs 2)"));
}

TEST_CASE("nodes_whose_memory_adds_up_past_int64_leave_the_root_max_full_not_negative", "[queues][admission]") {
  // Before: two nodes of 7Ei memory wrapped the root's max negative and nothing
  // was admitted (issue 21 item 3). The cluster total now saturates.
  Harness h(kTwoTeamsAndScratch);
  for (int i = 0; i < 2; ++i) {
    Node n = GpuNode("huge-" + std::to_string(i), kA100, 8);
    n.allocatable[Res::kMemory] = int64_t{7} << 60;
    h.AddNode(n);
  }
  h.Submit(GpuPod("p", "root.scratch", 1, "A100"));
  const Decisions d = h.Cycle();
  CHECK(h.engine->queues().cluster_capacity()[kQMemory] == INT64_MAX);
  INFO(Harness::Reasons(d));
  CHECK(d.binds.size() == 1);
}

TEST_CASE("nodes_of_many_unknown_gpu_products_all_count_and_warn", "[queues][admission]") {
  // Before: the warning was dropped by Engine::Apply, and past ~50 unknown products
  // the nodes' GPUs were not in the root's capacity (issue 21 item 13).
  Harness h(kTwoTeamsAndScratch);
  for (int i = 0; i < 80; ++i) h.AddNode(GpuNode("odd-" + std::to_string(i), "Vendor-Z" + std::to_string(i), 2));
  h.Cycle();
  const std::vector<std::string> warnings = h.engine->TakeWarnings();
  CHECK(warnings.size() == 80);
  CHECK_THAT(warnings.front(), Catch::Contains("node odd-0: gpu product \"Vendor-Z0\""));
  CHECK(h.engine->TakeWarnings().empty());
  int64_t gpus = 0;
  for (GpuTypeId t = 0; t < h.engine->catalog().size(); ++t) gpus += h.engine->queues().cluster_capacity()[QGpu(t)];
  CHECK(gpus == 160 * 1000);
  h.AddNode(GpuNode("odd-0", "Vendor-Z0", 2));  // an update: no second warning
  CHECK(h.engine->TakeWarnings().empty());
}

TEST_CASE("admission_refuses_a_charge_whose_sum_with_usage_passes_int64", "[queues][admission]") {
  // Before: usage + charge wrapped negative and passed "<= max": a second 7Ei pod
  // was admitted under a max that a saturated cluster total had made INT64_MAX.
  absl::StatusOr<QueueConfig> cfg = ParseQueueConfig("queues: {children: [{name: a}]}", "q.yaml");
  REQUIRE(cfg.ok());
  QueueTree t(*cfg);
  QVec cap{};
  cap[kQCpu] = INT64_MAX;
  cap[kQMemory] = INT64_MAX;
  t.SetClusterCapacity(cap);
  const QueueId a = t.Find("root.a");
  const Charge huge{1000, int64_t{7} << 60, kNoGpuType, 0};
  REQUIRE(t.CheckAdmit(a, huge, 1).empty());
  t.Add(a, huge, 1);
  CHECK_THAT(t.CheckAdmit(a, huge, 1), Catch::Contains("queue root.a at max for memory"));
  CHECK(t.queue(a).usage[kQMemory] == int64_t{7} << 60);
}
