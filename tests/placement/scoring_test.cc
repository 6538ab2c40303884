// Scoring: the default policy packs (the fullest node that fits) and takes the
// lowest-ranked GPU type adequate for the pod; spreading does the opposite.
#include "tests/placement/harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

constexpr const char* kQueues = R"(
gpu_classes:
  - {name: a10+, min: A10}
queues:
  children:
    - name: team
    - name: noa10
      max: {gpu: {A10G: 0}}
)";

// Four A100 nodes with 0, 3, 5 and 7 GPUs in use.
void UnevenNodes(Harness& h) {
  const int used[] = {0, 3, 5, 7};
  for (int i = 0; i < 4; ++i) {
    const std::string name = "a100-" + std::to_string(i);
    h.AddNode(GpuNode(name, kA100, 8));
    if (used[i] > 0) h.AddRunning(GpuPod("run" + std::to_string(i), "team", used[i]), name);
  }
}

}  // namespace

TEST_CASE("binpack_picks_the_fullest_node_that_fits", "[placement][scoring]") {
  SECTION("two GPUs go to the fullest node with two free") {
    Harness h(kQueues);
    UnevenNodes(h);
    h.AddPod(GpuPod("p", "team", 2));
    h.Cycle();
    CHECK(h.NodeOf("ns/p") == "a100-2");
  }
  SECTION("one GPU fills the last free GPU") {
    Harness h(kQueues);
    UnevenNodes(h);
    h.AddPod(GpuPod("p", "team", 1));
    h.Cycle();
    CHECK(h.NodeOf("ns/p") == "a100-3");
  }
  SECTION("six GPUs can only go to the emptiest") {
    Harness h(kQueues);
    UnevenNodes(h);
    h.AddPod(GpuPod("p", "team", 6));
    h.Cycle();
    CHECK(h.NodeOf("ns/p") == "a100-0");
  }
  SECTION("a stream of single GPUs fills nodes one after another") {
    Harness h(kQueues);
    UnevenNodes(h);
    for (int i = 0; i < 9; ++i) h.AddPod(GpuPod("s" + std::to_string(i), "team", 1));
    h.Cycle();
    CHECK(h.FreeGpus("a100-3") == 0);
    CHECK(h.FreeGpus("a100-2") == 0);
    CHECK(h.FreeGpus("a100-1") == 0);  // 1 + 3 + 5 = 9 GPUs: the empty node stays empty
    CHECK(h.FreeGpus("a100-0") == 8);
  }
  SECTION("spread picks the emptiest instead") {
    EngineOptions o;
    o.policy = "spread";
    Harness h(kQueues, o);
    UnevenNodes(h);
    h.AddPod(GpuPod("p", "team", 1));
    h.Cycle();
    CHECK(h.NodeOf("ns/p") == "a100-0");
  }
}

TEST_CASE("binpack_picks_the_lowest_adequate_gpu_rank", "[placement][scoring]") {
  auto cluster = [](Harness& h) {
    h.AddNode(GpuNode("h100-0", kH100, 8));
    h.AddNode(GpuNode("a100-0", kA100, 8));
    h.AddNode(GpuNode("a10g-0", kA10G, 2));
    h.AddNode(GpuNode("t4-0", kT4, 4));
  };
  SECTION("a class lands on its lowest-ranked member") {
    Harness h(kQueues);
    cluster(h);
    h.AddPod(GpuPod("p", "team", 1, "a10+"));
    h.Cycle();
    CHECK(h.NodeOf("ns/p") == "a10g-0");
  }
  SECTION("no type asked: the lowest rank of all") {
    Harness h(kQueues);
    cluster(h);
    h.AddPod(GpuPod("p", "team", 1));
    h.Cycle();
    CHECK(h.NodeOf("ns/p") == "t4-0");
  }
  SECTION("a type too small for the pod is skipped for the next adequate one") {
    Harness h(kQueues);
    cluster(h);
    h.AddPod(GpuPod("p", "team", 4, "a10+"));
    h.Cycle();
    CHECK(h.NodeOf("ns/p") == "a100-0");
  }
  SECTION("a full type overflows to the next rank") {
    Harness h(kQueues);
    cluster(h);
    h.AddRunning(GpuPod("full", "team", 2), "a10g-0");
    h.AddPod(GpuPod("p", "team", 1, "a10+"));
    h.Cycle();
    CHECK(h.NodeOf("ns/p") == "a100-0");
  }
  SECTION("a type the queue may not use is skipped") {
    Harness h(kQueues);
    cluster(h);
    h.AddPod(GpuPod("p", "noa10", 1, "a10+"));
    h.Cycle();
    CHECK(h.NodeOf("ns/p") == "a100-0");
    CHECK(h.engine->queues().queue(h.engine->queues().Find("root.noa10"))
              .usage[QGpu(h.engine->catalog().FindType("A100"))] == 1000);  // charged to the type it got
  }
}
