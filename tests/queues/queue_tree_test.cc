#include <catch2/catch.hpp>

#include "queues/config.h"
#include "queues/ordering.h"
#include "queues/queue_tree.h"

using namespace drover;

namespace {
constexpr const char* kTree = R"(
queues:
  children:
    - name: a
      guaranteed: {gpu: {A100: 8}}
      max: {gpu: {A100: 16}}
      children:
        - name: a1
          guaranteed: {gpu: {A100: 4}}
          max: {gpu: {A100: 12}}
        - name: a2
          guaranteed: {gpu: {A100: 4}}
    - name: b
      weight: 2
      guaranteed: {gpu: {A100: 8}}
)";

QueueTree MakeTree() {
  auto cfg = ParseQueueConfig(kTree, "test.yaml");
  REQUIRE(cfg.ok());
  QueueTree t(*cfg);
  QVec cap{};
  cap[kQCpu] = 1000000;
  cap[kQMemory] = 1LL << 40;
  cap[QGpu(cfg->catalog.FindType("A100"))] = 32000;
  t.SetClusterCapacity(cap);
  return t;
}
Charge Gpus(const QueueTree& t, int n) {
  return Charge{1000, 1 << 30, t.config().catalog.FindType("A100"), n * 1000LL};
}
}  // namespace

TEST_CASE("admission_respects_every_ancestor_max", "[queues]") {
  QueueTree t = MakeTree();
  const QueueId a1 = t.Find("root.a.a1"), a2 = t.Find("root.a.a2");
  REQUIRE(a1 != kNoQueue);
  CHECK(t.CheckAdmit(a1, Gpus(t, 12), 1).empty());
  t.Add(a1, Gpus(t, 12), 1);
  CHECK_FALSE(t.CheckAdmit(a1, Gpus(t, 1), 1).empty());          // a1 at its own max
  t.Add(a2, Gpus(t, 4), 1);
  const std::string why = t.CheckAdmit(a2, Gpus(t, 1), 1);          // a2 inherits a's max of 16
  CHECK(why.find("queue root.a at max for A100 (16/16") != std::string::npos);
  CHECK(t.CheckInvariants().empty());
}

TEST_CASE("tier0_runs_only_within_guaranteed", "[queues]") {
  QueueTree t = MakeTree();
  const QueueId a1 = t.Find("root.a.a1");
  CHECK(t.CheckAdmit(a1, Gpus(t, 4), 0).empty());
  CHECK(t.CheckAdmit(a1, Gpus(t, 5), 0).find("guaranteed (tier 0)") != std::string::npos);
  CHECK(t.CheckAdmit(a1, Gpus(t, 5), 1).empty());  // tier 1 may borrow up to max
}

TEST_CASE("borrowing_is_usage_above_guaranteed", "[queues]") {
  QueueTree t = MakeTree();
  const QueueId b = t.Find("root.b");
  const int dim = QGpu(t.config().catalog.FindType("A100"));
  t.Add(b, Gpus(t, 20), 2);  // b has no max: up to the cluster
  CHECK(t.Borrowed(b, dim) == 12000);
  CHECK(t.CheckAdmit(b, Gpus(t, 12), 2).empty());  // up to the cluster's 32
  CHECK(t.CheckAdmit(b, Gpus(t, 13), 2).find("queue root.b at max for A100 (20/32") != std::string::npos);
}

TEST_CASE("fair_share_puts_queues_below_guaranteed_first_and_weights_only_what_is_borrowed", "[queues]") {
  QueueTree t = MakeTree();
  PendingOrder order(&t);
  const QueueId a1 = t.Find("root.a.a1"), b = t.Find("root.b");
  order.Add(a1, {1, 0, 10});
  order.Add(b, {2, 0, 20});
  auto use = [&](QueueId q, int gpus) {
    t.Add(q, Gpus(t, gpus), 1);
    order.OnUsageChanged(q);
  };
  // Both below guaranteed: the smaller fraction of its guaranteed goes first
  // (a: 4/8 = .5, b: 2/8 = .25), whatever the weights.
  use(a1, 4);
  use(b, 2);
  CHECK(t.Share(t.Find("root.a")) == Approx(0.5));
  CHECK(t.Share(b) == Approx(0.25));
  REQUIRE(order.Next().has_value());
  CHECK(order.Next()->second == 2);
  // b borrows (10/8), a is still below its guaranteed (4/8): a goes first even
  // though b has twice its weight.
  use(b, 8);
  CHECK(t.Share(b) == Approx(1 + 2.0 / 32 / 2));
  CHECK(order.Next()->second == 1);
  // Both borrow: a 4 of 32 at weight 1 (1.125), b 6 of 32 at weight 2 (1.09375).
  use(a1, 8);
  use(b, 4);
  CHECK(t.Share(t.Find("root.a")) == Approx(1 + 4.0 / 32));
  CHECK(t.Share(b) == Approx(1 + 6.0 / 32 / 2));
  CHECK(order.Next()->second == 2);
  order.Block(2);
  CHECK(order.Next()->second == 1);
  order.Block(1);
  CHECK_FALSE(order.Next().has_value());
  order.UnblockAll();
  CHECK(order.Next()->second == 2);
  // Within a leaf: priority, then submit time.
  order.Add(b, {3, 5, 30});
  CHECK(order.Next()->second == 3);
}

TEST_CASE("fair_share_order_follows_a_change_of_cluster_capacity", "[queues]") {
  QueueTree t = MakeTree();
  PendingOrder order(&t);
  const QueueId a1 = t.Find("root.a.a1"), b = t.Find("root.b");
  order.Add(a1, {1, 0, 10});
  order.Add(b, {2, 0, 20});
  // a borrows 4 A100 (1 + 4/32), b has no T4 guaranteed and uses 4 T4 of 8 (1 + 4/8/2).
  t.Add(a1, Gpus(t, 12), 1);
  order.OnUsageChanged(a1);
  t.Add(b, Charge{0, 0, t.config().catalog.FindType("T4"), 4000}, 1);
  order.OnUsageChanged(b);
  QVec cap = t.cluster_capacity();
  cap[QGpu(t.config().catalog.FindType("T4"))] = 8000;
  t.SetClusterCapacity(cap);
  CHECK(order.Next()->second == 1);  // a: 1.125 < b: 1.25
  // Four times the T4 nodes: b's borrowed share drops to 1 + 4/32/2 = 1.0625.
  cap[QGpu(t.config().catalog.FindType("T4"))] = 32000;
  t.SetClusterCapacity(cap);
  CHECK(t.Share(b) == Approx(1.0625));
  CHECK(order.Next()->second == 2);  // re-keyed without a usage change
}
