// Every node filter excludes a node the scoring would otherwise prefer, and names
// itself in the pending explanation; the explanation aggregates node and queue reasons.
#include <functional>

#include "tests/placement/harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

constexpr const char* kQueues = R"(
gpu_classes:
  - {name: a100+, min: A100}
queues:
  children:
    - name: team
    - name: research
      max: {gpu: {A100: 32}}
    - name: noampere
      max: {gpu: {A100: 0}}
)";

struct FilterCase {
  std::string name;
  std::function<void(Node&)> break_node;  // makes the "bad" node fail the filter
  std::function<void(Pod&)> shape_pod;    // the pod under test
  std::string reason;                     // expected in the explanation
  std::string good_product = kA100;
};

}  // namespace

TEST_CASE("each_filter_excludes_the_preferred_node_and_explains_why", "[placement][filters]") {
  const std::vector<FilterCase> cases = {
      {"not ready", [](Node& n) { n.ready = false; }, [](Pod&) {}, "1 node(s) were not ready"},
      {"cordoned", [](Node& n) { n.unschedulable = true; }, [](Pod&) {}, "1 node(s) were unschedulable"},
      {"node selector", [](Node& n) { n.labels.Set("zone", "b"); },
       [](Pod& p) { p.node_selector.Set("zone", "a"); }, "1 node(s) didn't match Pod's node selector"},
      {"required affinity", [](Node& n) { n.labels.Set("pool", "serve"); },
       [](Pod& p) {
         NodeSelectorTerm t;
         t.match_expressions.push_back({"pool", NodeSelectorRequirement::Op::kIn, {"train"}});
         p.required_affinity.push_back(t);
       },
       "1 node(s) didn't match Pod's node affinity"},
      {"taint", [](Node& n) { n.taints.push_back({"gpu", "reserved", TaintEffect::kNoSchedule}); }, [](Pod&) {},
       "1 node(s) had untolerated taint {gpu: reserved}"},
      {"insufficient cpu", [](Node& n) { n.allocatable[Res::kCpu] = 2500; },
       [](Pod& p) { p.requests[Res::kCpu] = 2000; }, "1 Insufficient cpu"},
      {"insufficient memory", [](Node& n) { n.allocatable[Res::kMemory] = 4LL << 30; },
       [](Pod& p) { p.requests[Res::kMemory] = 4LL << 30; }, "1 Insufficient memory"},
      {"too many pods", [](Node& n) { n.allocatable[Res::kPods] = 1; }, [](Pod&) {}, "1 Too many pods"},
      {"insufficient GPUs", [](Node&) {}, [](Pod& p) {
         p.requests[Res::kGpu] = 7000;
         p.gpu_devices = 7;
       },
       "1 Insufficient GPUs (e.g. A100)"},
      {"GPU type", [](Node&) {}, [](Pod& p) { p.annotations.Set("drover.io/gpu-type", "H100"); },
       "can never be placed: no node has a GPU type it accepts (H100)", kH100},
      {"queue without quota for the type", [](Node&) {}, [](Pod& p) { p.annotations.Set("drover.io/queue", "noampere"); },
       "can never be placed: needs 1 A100, above the max of queue root.noampere", kH100},
  };
  for (const FilterCase& c : cases) {
    DYNAMIC_SECTION(c.name) {
      // "bad" runs a 2-GPU pod of another scheduler (charged to no queue), so packing
      // prefers it to the empty "good" node.
      Node bad = GpuNode("bad", kA100, 8);
      Pod busy = GpuPod("busy", "team", 2);
      busy.scheduler_name = "default-scheduler";
      Node good = GpuNode("good", c.good_product, 8);
      good.labels.Set("zone", "a");
      good.labels.Set("pool", "train");
      c.break_node(bad);
      Pod pod = GpuPod("p", "team", 1);
      c.shape_pod(pod);
      SECTION("another node passes: the pod lands there") {
        Harness h(kQueues);
        h.AddNode(bad);
        h.AddRunning(busy, "bad");
        h.AddNode(good);
        h.AddPod(pod);
        h.Cycle();
        CHECK(h.NodeOf("ns/p") == "good");
      }
      SECTION("no other node: pending with the filter's reason") {
        Harness h(kQueues);
        h.AddNode(bad);
        h.AddRunning(busy, "bad");
        h.AddPod(pod);
        Decisions d = h.Cycle();
        CHECK(d.binds.empty());
        const std::string why = h.engine->WhyPending("ns/p");
        INFO(why);
        if (c.reason.find("never") == std::string::npos) CHECK(why.rfind("0/1 nodes are available", 0) == 0);
        CHECK(why.find(c.reason) != std::string::npos);
      }
    }
  }
}

TEST_CASE("tolerations_open_tainted_and_cordoned_nodes", "[placement][filters]") {
  Harness h(kQueues);
  Node n = GpuNode("tainted", kA100, 8);
  n.taints.push_back({"gpu", "reserved", TaintEffect::kNoSchedule});
  n.taints.push_back({"soft", "x", TaintEffect::kPreferNoSchedule});  // never filters
  n.unschedulable = true;
  h.AddNode(n);
  Pod p = GpuPod("p", "team", 1);
  p.tolerations.push_back({"gpu", Toleration::Op::kEqual, "other", TaintEffect::kNoSchedule});
  h.AddPod(p);
  h.Cycle();
  CHECK_FALSE(h.Bound("ns/p"));
  // Tolerating the taint is not enough while the node is cordoned...
  h.DeletePod("ns/p");
  p.tolerations = {{"gpu", Toleration::Op::kExists, "", std::nullopt}};
  h.AddPod(p);
  h.Cycle();
  CHECK_FALSE(h.Bound("ns/p"));
  CHECK(h.engine->WhyPending("ns/p").find("unschedulable") != std::string::npos);
  // ...unless the pod also tolerates node.kubernetes.io/unschedulable, like kube-scheduler.
  h.DeletePod("ns/p");
  p.tolerations.push_back({"node.kubernetes.io/unschedulable", Toleration::Op::kExists, "", TaintEffect::kNoSchedule});
  h.AddPod(p);
  h.Cycle();
  CHECK(h.NodeOf("ns/p") == "tainted");
}

TEST_CASE("a_shared_gpu_pod_needs_one_device_with_room", "[placement][filters]") {
  Harness h(kQueues);
  h.AddNode(GpuNode("frag", kA100, 2));
  // Two devices with 600 milli used each: 800 milli free in total, but no device has 500.
  h.AddPod(SharedGpuPod("s0", "team", 600));
  h.AddPod(SharedGpuPod("s1", "team", 600));
  h.Cycle();
  REQUIRE(h.Bound("ns/s0"));
  REQUIRE(h.Bound("ns/s1"));
  h.AddPod(SharedGpuPod("half", "team", 500));
  h.Cycle();
  CHECK_FALSE(h.Bound("ns/half"));
  CHECK(h.engine->WhyPending("ns/half").find("1 Insufficient GPUs") != std::string::npos);
  h.AddPod(SharedGpuPod("small", "team", 400));
  h.Cycle();
  CHECK(h.NodeOf("ns/small") == "frag");
}

TEST_CASE("a_pod_fitting_one_node_out_of_thousands_lands_there", "[placement][filters]") {
  Harness h(kQueues);
  constexpr int kNodes = 3000;
  constexpr int kOnly = 1777;
  for (int i = 0; i < kNodes; ++i) {
    Node n = GpuNode("a100-" + std::to_string(i), kA100, 8);
    n.labels.Set("zone", i == kOnly ? "a" : "b");
    if (i % 3 == 0) n.taints.push_back({"gpu", "reserved", TaintEffect::kNoSchedule});
    if (i % 7 == 0 && i != kOnly) n.unschedulable = true;
    h.AddNode(n);
  }
  // Packing would prefer any busier node: make a few busy.
  for (int i = 0; i < 20; ++i) h.AddRunning(GpuPod("busy" + std::to_string(i), "team", 4), "a100-" + std::to_string(i * 11 + 1));
  Pod p = GpuPod("needle", "team", 4);
  p.node_selector.Set("zone", "a");
  h.AddPod(p);
  h.Cycle();
  CHECK(h.NodeOf("ns/needle") == "a100-" + std::to_string(kOnly));

  // With that node cordoned, every node is accounted for in the explanation.
  Harness h2(kQueues);
  for (int i = 0; i < kNodes; ++i) {
    Node n = GpuNode("a100-" + std::to_string(i), kA100, 8);
    n.labels.Set("zone", i == kOnly ? "a" : "b");
    n.unschedulable = i == kOnly;
    h2.AddNode(n);
  }
  h2.AddPod(p);
  h2.Cycle();
  CHECK_FALSE(h2.Bound("ns/needle"));
  CHECK(h2.engine->WhyPending("ns/needle") ==
        "0/3000 nodes are available: 2999 node(s) didn't match Pod's node selector, 1 node(s) were unschedulable.");
}

TEST_CASE("why_pending_aggregates_node_and_queue_reasons", "[placement][filters]") {
  Harness h(kQueues);
  for (int i = 0; i < 40; ++i) h.AddNode(GpuNode("a100-" + std::to_string(i), kA100, 8));
  for (int i = 0; i < 80; ++i) {
    Node n = GpuNode("h100-" + std::to_string(i), kH100, 8);
    if (i >= 50) n.taints.push_back({"gpu", "reserved", TaintEffect::kNoSchedule});
    h.AddNode(n);
  }
  // research runs 32 A100 (its max); team fills 50 H100 nodes.
  for (int i = 0; i < 4; ++i) h.AddRunning(GpuPod("r" + std::to_string(i), "research", 8, "A100"), "a100-" + std::to_string(i));
  for (int i = 0; i < 50; ++i) h.AddRunning(GpuPod("t" + std::to_string(i), "team", 8, "H100"), "h100-" + std::to_string(i));
  h.AddPod(GpuPod("p", "research", 1, "a100+"));
  h.Cycle();
  const std::string why = h.engine->WhyPending("ns/p");
  INFO(why);
  CHECK(why.rfind("0/120 nodes are available: 50 Insufficient GPUs (e.g. H100), "
                  "40 node(s) had a GPU type the pod or its queue may not use, "
                  "30 node(s) had untolerated taint {gpu: reserved}; queue root.research at max for A100 (32/32",
                  0) == 0);
}
