// Reservations: a whole-node pod that keeps losing freed GPUs to small pods
// reserves a node after its wait, gets it once it drains, and never holds a node
// beyond the configured bound.
#include <deque>
#include <map>

#include "tests/placement/harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

constexpr const char* kQueues = R"(
queues:
  children:
    - name: train
      max: {gpu: {A100: 8}}
    - name: batch
)";

constexpr int64_t kWait = 60 * 1000;
constexpr int64_t kHold = 5 * 60 * 1000;

EngineOptions Options(int64_t wait = kWait) {
  EngineOptions o;
  o.reservation_after_ms = wait;
  o.reservation_max_hold_ms = kHold;
  return o;
}

// Two 8-GPU nodes full of 1-GPU batch pods, a deep backlog of more, and one
// batch pod completing every 10 s, round robin over the nodes. `big` (8 GPUs)
// waits in queue train. Runs until `until_ms`, returns when big bound (-1: never).
struct Contended {
  Harness h;
  std::map<std::string, std::deque<std::string>> running;  // node -> batch pods, oldest first
  int next_small = 0;
  int turn = 0;
  std::vector<std::string> small_binds_on_reserved;  // batch binds onto a node reserved at the time

  explicit Contended(EngineOptions o) : h(kQueues, o) {
    h.AddNode(GpuNode("a100-0", kA100, 8));
    h.AddNode(GpuNode("a100-1", kA100, 8));
    for (int i = 0; i < 16; ++i) Submit();
    Step();
    REQUIRE(running["a100-0"].size() + running["a100-1"].size() == 16);
    for (int i = 0; i < 40; ++i) Submit();
    h.AddPod(GpuPod("big", "train", 8));
  }
  void Submit() { h.AddPod(GpuPod("s" + std::to_string(next_small++), "batch", 1)); }
  void Step() {
    const int64_t at = h.now_ms;
    std::vector<NodeReservation> held = h.engine->Reservations();
    Decisions d = h.Cycle(10 * 1000);
    // Held during the cycle: before it, or made in it (big goes first: its queue uses nothing).
    for (const NodeReservation& r : h.engine->Reservations()) {
      if (r.since_ms == at) held.push_back(r);
    }
    for (const Binding& b : d.binds) {
      if (b.pod_key == "ns/big") continue;
      running[b.node].push_back(b.pod_key);
      for (const NodeReservation& r : held) {
        if (r.node == b.node) small_binds_on_reserved.push_back(b.pod_key);
      }
    }
  }
  void CompleteOne() {
    const std::string node = (turn++ % 2) == 0 ? "a100-0" : "a100-1";
    if (running[node].empty()) return;
    h.DeletePod(running[node].front());
    running[node].pop_front();
    Submit();
  }
  int64_t RunUntilBigBinds(int64_t until_ms) {
    while (h.now_ms < until_ms) {
      CompleteOne();
      Step();
      if (h.Bound("ns/big")) return h.now_ms;
    }
    return -1;
  }
};

}  // namespace

TEST_CASE("without_reservations_a_whole_node_pod_starves", "[placement][reservation]") {
  Contended c(Options(0));
  CHECK(c.RunUntilBigBinds(60 * 60 * 1000) == -1);  // an hour of small pods taking every freed GPU
  CHECK(c.h.engine->Reservations().empty());
}

TEST_CASE("reservation_gets_its_node_without_starving", "[placement][reservation]") {
  Contended c(Options());
  // Its first attempt is at 10 s. Before the wait is over, nothing is reserved and small pods keep winning.
  while (c.h.now_ms < 10 * 1000 + kWait) {
    c.CompleteOne();
    c.Step();
  }
  CHECK(c.h.engine->Reservations().empty());
  CHECK_FALSE(c.h.Bound("ns/big"));
  // After it, the pod reserves a node at its next attempt, visibly.
  c.CompleteOne();
  c.Step();
  const std::vector<NodeReservation> rs = c.h.engine->Reservations();
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].pod_key == "ns/big");
  CHECK(rs[0].queue == "root.train");
  CHECK(rs[0].expires_ms == rs[0].since_ms + kHold);
  CHECK(c.h.engine->WhyPending("ns/big").find("Node " + rs[0].node + " is reserved for it") != std::string::npos);
  // It reserved the node that needed the least to drain: the one with a free GPU.
  CHECK(c.h.FreeGpus(rs[0].node) >= 1);
  // Small pods are kept off it and told why.
  c.CompleteOne();
  c.Step();
  bool told = false;
  for (int i = 0; i < c.next_small; ++i) {
    told = told || c.h.engine->WhyPending("ns/s" + std::to_string(i)).find("reserved for another workload") !=
                       std::string::npos;
  }
  CHECK(told);
  // It binds once its node drains: 8 completions on that node, one every 20 s.
  const int64_t bound_at = c.RunUntilBigBinds(rs[0].since_ms + kHold);
  CHECK(bound_at > 0);
  CHECK(c.h.NodeOf("ns/big") == rs[0].node);
  CHECK(c.small_binds_on_reserved.empty());
  CHECK(c.h.engine->Reservations().empty());  // ended by the bind
  CHECK(c.h.engine->stats().reservations == 1);
}

TEST_CASE("reservation_expires_and_the_pod_waits_anew", "[placement][reservation]") {
  Harness h(kQueues, Options());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(CpuNode("cpu-0"));
  for (int i = 0; i < 8; ++i) h.AddRunning(GpuPod("long" + std::to_string(i), "batch", 1), "a100-0");
  h.AddPod(GpuPod("big", "train", 8));
  h.Cycle();  // first failed attempt at t=0
  // Capacity frees after the wait: the pod reserves at that attempt.
  h.now_ms = 70 * 1000;
  h.DeletePod("ns/long0");
  h.Cycle();
  REQUIRE(h.engine->Reservations().size() == 1);
  // A small pod may not take the freed GPU while the node drains.
  h.AddPod(GpuPod("small", "batch", 1));
  h.Cycle();
  CHECK_FALSE(h.Bound("ns/small"));
  CHECK(h.engine->WhyPending("ns/small").find("1 node(s) reserved for another workload") != std::string::npos);
  // Nothing else completes: at the hold's end the reservation expires and the node is open again.
  h.now_ms = 70 * 1000 + kHold - 1;
  h.Cycle();
  CHECK(h.engine->Reservations().size() == 1);
  h.now_ms = 70 * 1000 + kHold;
  h.Cycle();
  CHECK(h.engine->Reservations().empty());
  CHECK(h.engine->stats().reservations_expired == 1);
  CHECK(h.NodeOf("ns/small") == "a100-0");
  CHECK(h.engine->WhyPending("ns/big").find("reserved for it") == std::string::npos);
  // Capacity frees again soon after: the pod must wait anew, so it does not reserve.
  const int64_t expired_at = 70 * 1000 + kHold;
  h.now_ms = expired_at + kWait / 2;
  h.DeletePod("ns/long1");
  h.Cycle();
  CHECK(h.engine->Reservations().empty());
  // After a full new wait, the next freed capacity lets it reserve again.
  h.now_ms = expired_at + kWait;
  h.DeletePod("ns/long2");
  h.Cycle();
  CHECK(h.engine->Reservations().size() == 1);
}

TEST_CASE("reservation_ends_when_the_pod_or_its_node_goes", "[placement][reservation]") {
  auto reserved = [](Harness& h) {
    h.AddNode(GpuNode("a100-0", kA100, 8));
    h.AddNode(GpuNode("a100-1", kA100, 8));
    for (int i = 0; i < 8; ++i) h.AddRunning(GpuPod("l" + std::to_string(i), "batch", 1), "a100-0");
    for (int i = 0; i < 3; ++i) h.AddRunning(GpuPod("m" + std::to_string(i), "batch", 1), "a100-1");
    h.AddRunning(GpuPod("m3", "batch", 3), "a100-1");
    h.AddPod(GpuPod("big", "train", 8));
    h.Cycle();
    h.now_ms = kWait;
    h.DeletePod("ns/l0");
    h.Cycle();
    // Needing 6 GPUs to drain beats needing 7.
    REQUIRE(h.engine->Reservations().size() == 1);
    REQUIRE(h.engine->Reservations()[0].node == "a100-1");
  };
  SECTION("the pod is deleted") {
    Harness h(kQueues, Options());
    reserved(h);
    h.DeletePod("ns/big");
    h.AddPod(GpuPod("small", "batch", 1));
    h.Cycle();
    CHECK(h.engine->Reservations().empty());
    CHECK(h.Bound("ns/small"));
  }
  SECTION("the node is removed") {
    Harness h(kQueues, Options());
    reserved(h);
    h.DeleteNode("a100-1");
    CHECK(h.engine->Reservations().empty());
    // Until its next attempt, listings no longer say it waits for a drain (with no text).
    const std::vector<PendingWorkload> listed = h.engine->ListPending();
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].code == PendingCode::kQueued);
    CHECK(listed[0].message == "its node reservation ended: waiting to be tried again");
    for (int i = 0; i < 4; ++i) h.DeletePod("ns/m" + std::to_string(i));  // the pod garbage collector
    // A new node reusing the slot is not reserved.
    h.AddNode(GpuNode("a100-2", kA100, 8));
    CHECK(h.engine->Reservations().empty());
    h.Cycle();
    CHECK(h.NodeOf("ns/big") == "a100-2");
  }
  SECTION("the node is cordoned") {
    Harness h(kQueues, Options());
    reserved(h);
    Node n = GpuNode("a100-1", kA100, 8);
    n.unschedulable = true;
    h.AddNode(n);
    h.Cycle();
    // Released; the pod, still past its wait, holds the next best node instead.
    REQUIRE(h.engine->Reservations().size() == 1);
    CHECK(h.engine->Reservations()[0].node == "a100-0");
  }
  SECTION("the pod binds elsewhere") {
    Harness h(kQueues, Options());
    reserved(h);
    h.AddNode(GpuNode("a100-9", kA100, 8));
    h.Cycle();
    CHECK(h.NodeOf("ns/big") == "a100-9");
    CHECK(h.engine->Reservations().empty());
    h.AddPod(GpuPod("small", "batch", 2));
    h.Cycle();
    CHECK(h.NodeOf("ns/small") == "a100-1");  // the fullest node with room, no longer held
  }
}

TEST_CASE("no_reservation_for_a_queue_at_max_or_beyond_the_limit", "[placement][reservation]") {
  SECTION("a queue at its max cannot use a drained node: it does not hold one") {
    Harness h(kQueues, Options());
    h.AddNode(GpuNode("a100-0", kA100, 8));
    h.AddNode(GpuNode("a100-1", kA100, 8));
    h.AddRunning(GpuPod("t", "train", 4), "a100-0");  // train's max is 8 A100
    for (int i = 0; i < 8; ++i) h.AddRunning(GpuPod("l" + std::to_string(i), "batch", 1), "a100-1");
    h.AddPod(GpuPod("big", "train", 8));
    h.Cycle();
    h.now_ms = 2 * kWait;
    h.DeletePod("ns/l0");
    h.Cycle();
    CHECK(h.engine->Reservations().empty());
  }
  SECTION("at most max_reservations at once") {
    EngineOptions o = Options();
    o.max_reservations = 1;
    Harness h(R"(
queues:
  children:
    - name: train
    - name: batch
)", o);
    for (int n = 0; n < 3; ++n) {
      h.AddNode(GpuNode("a100-" + std::to_string(n), kA100, 8));
      for (int i = 0; i < 8; ++i) h.AddRunning(GpuPod("l" + std::to_string(n * 8 + i), "batch", 1), "a100-" + std::to_string(n));
    }
    h.AddPod(GpuPod("big0", "train", 8));
    h.AddPod(GpuPod("big1", "train", 7));  // another shape: tried on its own
    h.Cycle();
    h.now_ms = kWait;
    h.DeletePod("ns/l0");
    h.Cycle();
    CHECK(h.engine->Reservations().size() == 1);
  }
}

// Two nodes need as little to drain (one 1-GPU pod each): the reservation goes to
// the one whose pod started last, since run times are heavy-tailed and a pod that
// has run for long is the likelier to run on.
TEST_CASE("reservation_prefers_the_node_whose_pods_started_last", "[placement][reservation]") {
  Harness h(kQueues, Options());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  for (int i = 0; i < 8; ++i) h.AddPod(GpuPod("old" + std::to_string(i), "batch", 1));
  h.Cycle(100 * 1000);
  for (int i = 0; i < 8; ++i) h.AddPod(GpuPod("young" + std::to_string(i), "batch", 1));
  h.Cycle();
  const std::string old_node = h.NodeOf("ns/old0"), young_node = h.NodeOf("ns/young0");
  REQUIRE(h.NodeOf("ns/old7") == old_node);
  REQUIRE(h.NodeOf("ns/young7") == young_node);
  REQUIRE(old_node != young_node);
  // Both nodes keep one pod; the older one sits on the node that sorts first, so
  // without the start-time rule the name would pick it.
  for (int i = 1; i < 8; ++i) {
    h.DeletePod("ns/old" + std::to_string(i));
    h.DeletePod("ns/young" + std::to_string(i));
  }
  REQUIRE(old_node < young_node);
  h.AddPod(GpuPod("big", "train", 8));
  h.Cycle();  // first failed attempt
  h.now_ms += kWait;
  h.Cycle();
  const std::vector<NodeReservation> rs = h.engine->Reservations();
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].node == young_node);
}
