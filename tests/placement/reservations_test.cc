// Reservations on their own, on a snapshot and queue tree built here: the node
// needing the least to drain, the nodes passed over, the quota that forbids
// hoarding, and when a reservation ends.
#include "placement/reservations.h"

#include "tests/placement/bare_cluster.h"

using namespace drover;
using namespace drover::testing;

namespace {

Reservations::Options Defaults() { return Reservations::Options{}; }

// a100-0: two 4-GPU pods (all 8 used); a100-1: 2 + 4 GPUs (6 used).
void TwoBusyNodes(BareCluster* c, int64_t start0, int64_t start1) {
  c->AddNode(GpuNode("a100-0", kA100, 8));
  c->AddNode(GpuNode("a100-1", kA100, 8));
  c->Run(GpuPod("x0", "team-b", 4), "a100-0", start0);
  c->Run(GpuPod("x1", "team-b", 4), "a100-0", start0);
  c->Run(GpuPod("y0", "team-b", 2), "a100-1", start1);
  c->Run(GpuPod("y1", "team-b", 4), "a100-1", start1);
}

}  // namespace

TEST_CASE("reservations_choose_the_node_needing_least_to_drain", "[placement][reservation]") {
  BareCluster c(kTwoTeamsAndScratch);
  TwoBusyNodes(&c, 0, 0);
  Reservations r(Defaults());
  const Pod big = Decoded(GpuPod("big", "team-a", 4));
  const QueueId leaf = *c.tree.LeafFor(big);
  std::optional<NodeId> n = r.ChooseNode(c.ReservationsView(), big, leaf, 10000);
  REQUIRE(n);
  CHECK(c.NodeName(*n) == "a100-1");  // 2 GPUs to free, against 4

  SECTION("a node held for a preemptor is passed over") {
    const NodeId a1 = c.snap.FindNode("a100-1");
    n = r.ChooseNode(c.ReservationsView([&](NodeId id) { return id == a1; }), big, leaf, 10000);
    REQUIRE(n);
    CHECK(c.NodeName(*n) == "a100-0");
  }
  SECTION("a node reserved already is passed over, and is reserved for one workload only") {
    r.Hold(*n, 7, "ns/big", 10000);
    CHECK(r.ReservedForOther(*n, 8));
    CHECK_FALSE(r.ReservedForOther(*n, 7));
    const Pod other = Decoded(GpuPod("other", "team-a", 4));
    std::optional<NodeId> m = r.ChooseNode(c.ReservationsView(), other, leaf, 10000);
    REQUIRE(m);
    CHECK(c.NodeName(*m) == "a100-0");
    CHECK(r.Release(*n) == std::optional<uint64_t>(7));
    CHECK_FALSE(r.Release(*n));
    CHECK(r.empty());
  }
}

TEST_CASE("reservations_prefer_the_node_whose_pods_started_last", "[placement][reservation]") {
  BareCluster c(kTwoTeamsAndScratch);
  c.AddNode(GpuNode("a100-0", kA100, 8));
  c.AddNode(GpuNode("a100-1", kA100, 8));
  c.Run(GpuPod("old", "team-b", 8), "a100-0", 1000);
  c.Run(GpuPod("young", "team-b", 8), "a100-1", 5000);
  Reservations r(Defaults());
  const Pod big = Decoded(GpuPod("big", "team-a", 8));
  std::optional<NodeId> n = r.ChooseNode(c.ReservationsView(), big, *c.tree.LeafFor(big), 10000);
  REQUIRE(n);
  CHECK(c.NodeName(*n) == "a100-1");  // equal drain; its pod is the likelier to end soon
}

TEST_CASE("reservations_never_hoard_for_a_queue_at_its_configured_max", "[placement][reservation]") {
  BareCluster c(R"(
queues:
  children:
    - name: capped
      max: {gpu: {A100: 4}}
    - name: other
)");
  c.AddNode(GpuNode("a100-0", kA100, 8));
  c.Run(GpuPod("mine", "capped", 2), "a100-0", 0);
  c.Run(GpuPod("theirs", "other", 6), "a100-0", 0);
  Reservations r(Defaults());
  const Pod four = Decoded(GpuPod("four", "capped", 4));
  CHECK_FALSE(r.ChooseNode(c.ReservationsView(), four, *c.tree.LeafFor(four), 10000));  // 2 + 4 > 4
  const Pod two = Decoded(GpuPod("two", "capped", 2));
  CHECK(r.ChooseNode(c.ReservationsView(), two, *c.tree.LeafFor(two), 10000));
}

TEST_CASE("reservations_end_when_expired_gone_or_unsuitable", "[placement][reservation]") {
  BareCluster c(kTwoTeamsAndScratch);
  TwoBusyNodes(&c, 0, 0);
  Reservations::Options o;
  o.max_hold_ms = 600000;
  o.max_reservations = 2;
  Reservations r(o);
  Pod big = Decoded(GpuPod("big", "team-a", 4));
  c.snap.UpsertPod(big);  // pending: in the snapshot, on no node
  const NodeId a0 = c.snap.FindNode("a100-0"), a1 = c.snap.FindNode("a100-1");
  r.Hold(a1, 1, "ns/big", 0);
  CHECK(r.has_room());
  r.Hold(a0, 2, "ns/big", 100);
  CHECK_FALSE(r.has_room());
  CHECK(r.Note(a1, c.snap) == " Node a100-1 is reserved for it while it drains (since 0s, expires at 600s).");
  auto alive_all = [](uint64_t) { return true; };
  CHECK(r.Due(599999, c.snap, alive_all).empty());
  std::vector<Reservations::Ended> due = r.Due(600000, c.snap, alive_all);
  REQUIRE(due.size() == 1);
  CHECK((due[0].node == a1 && due[0].workload == 1 && due[0].expired));
  due = r.Due(1000, c.snap, [](uint64_t w) { return w != 2; });  // workload 2 is gone
  REQUIRE(due.size() == 1);
  CHECK((due[0].node == a0 && !due[0].expired));
  Node cordoned = GpuNode("a100-0", kA100, 8);
  cordoned.unschedulable = true;
  (void)c.snap.UpsertNode(cordoned);
  due = r.Due(1000, c.snap, alive_all);
  REQUIRE(due.size() == 1);
  CHECK((due[0].node == a0 && !due[0].expired));
}

TEST_CASE("reservations_are_for_large_whole_gpu_pods_only", "[placement][reservation]") {
  Reservations r(Defaults());  // min_gpus 2
  CHECK(r.LargeEnough(GpuPod("two", "q", 2)));
  CHECK_FALSE(r.LargeEnough(GpuPod("one", "q", 1)));
  Pod shared = GpuPod("shared", "q", 2);
  shared.gpu_milli_per_device = 500;
  CHECK_FALSE(r.LargeEnough(shared));
  CHECK(r.enabled());
  CHECK_FALSE(Reservations({.after_ms = 0}).enabled());
}
