// Gangs are placed all or nothing, also when they compete with each other and with single pods.
#include "tests/placement/harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

constexpr const char* kQueues = R"(
queues:
  children:
    - name: team
    - name: other
)";

int BoundMembers(const Harness& h, const std::string& gang, int n) {
  int bound = 0;
  for (int i = 0; i < n; ++i) bound += h.Bound("ns/" + gang + "-" + std::to_string(i));
  return bound;
}

}  // namespace

TEST_CASE("gang_is_all_or_nothing_under_contention", "[placement][gang]") {
  SECTION("two gangs, room for one: exactly one is placed, whole") {
    Harness h(kQueues);
    h.AddNode(GpuNode("a100-0", kA100, 8));
    h.AddNode(GpuNode("a100-1", kA100, 8));
    for (int i = 0; i < 3; ++i) h.AddPod(GangMember("x", i, 3, "team", 4));
    for (int i = 0; i < 3; ++i) h.AddPod(GangMember("y", i, 3, "other", 4));
    h.Cycle();
    const int x = BoundMembers(h, "x", 3), y = BoundMembers(h, "y", 3);
    CHECK(((x == 3 && y == 0) || (x == 0 && y == 3)));
    // The placed gang finishes: the other takes the cluster, whole.
    const std::string done = x == 3 ? "x" : "y", waiting = x == 3 ? "y" : "x";
    for (int i = 0; i < 3; ++i) h.DeletePod("ns/" + done + "-" + std::to_string(i));
    h.Cycle();
    CHECK(BoundMembers(h, waiting, 3) == 3);
  }
  SECTION("a gang that fits only in part binds nothing, while single pods go on") {
    Harness h(kQueues);
    h.AddNode(GpuNode("a100-0", kA100, 8));
    h.AddNode(GpuNode("a100-1", kA100, 8));
    h.AddRunning(GpuPod("s0", "other", 1), "a100-0");
    h.AddRunning(GpuPod("s1", "other", 1), "a100-1");
    for (int i = 0; i < 2; ++i) h.AddPod(GangMember("g", i, 2, "team", 8));
    h.AddPod(GpuPod("single", "other", 2));
    Decisions d = h.Cycle();
    CHECK(BoundMembers(h, "g", 2) == 0);
    CHECK(h.Bound("ns/single"));
    REQUIRE(h.engine->WhyPending("ns/g-0").find("gang ns/g") != std::string::npos);
    // One node drains: one member could fit, the gang still waits.
    h.DeletePod("ns/s0");
    h.DeletePod("ns/single");
    h.Cycle();
    CHECK(BoundMembers(h, "g", 2) == 0);
    CHECK(h.engine->WhyPending("ns/g-0").find("1/2 members fit") != std::string::npos);
    h.DeletePod("ns/s1");
    h.Cycle();
    CHECK(BoundMembers(h, "g", 2) == 2);
    CHECK(h.NodeOf("ns/g-0") != h.NodeOf("ns/g-1"));
  }
  SECTION("a gang waits for its min members, then binds together") {
    Harness h(kQueues);
    h.AddNode(GpuNode("a100-0", kA100, 8));
    h.AddPod(GangMember("g", 0, 3, "team", 2));
    h.AddPod(GangMember("g", 1, 3, "team", 2));
    h.Cycle();
    CHECK(BoundMembers(h, "g", 3) == 0);
    CHECK(h.engine->WhyPending("ns/g-0").find("waits for its members: 2 of 3") != std::string::npos);
    h.AddPod(GangMember("g", 2, 3, "team", 2));
    Decisions d = h.Cycle();
    CHECK(d.binds.size() == 3);
    CHECK(BoundMembers(h, "g", 3) == 3);
  }
}

TEST_CASE("gang_members_must_share_queue_and_tier", "[placement][gang][quota]") {
  constexpr const char* kCapped = R"(
queues:
  children:
    - name: team
    - name: capped
      max: {gpu: {A100: 0}}
)";
  SECTION("a member naming a queue at max 0 does not ride on its gang's queue") {
    Harness h(kCapped);
    h.AddNode(GpuNode("a100-0", kA100, 8));
    h.AddPod(GangMember("g", 0, 2, "team", 1));
    h.AddPod(GangMember("g", 1, 2, "capped", 1));
    Decisions d = h.Cycle();
    CHECK(d.binds.empty());
    CHECK(BoundMembers(h, "g", 2) == 0);
    const std::string why = h.engine->WhyPending("ns/g-1");
    INFO(why);
    CHECK(why.find("members name different queues") != std::string::npos);
    CHECK(why.find("capped") != std::string::npos);
    // Both members are told, and neither is counted as pending in a queue.
    int told = 0;
    for (const PendingReason& p : d.pending) told += p.code == PendingCode::kRejected;
    CHECK(told == 2);
    CHECK(h.engine->queues().queue(h.engine->queues().Find("root.team")).pending_pods == 0);
  }
  SECTION("members of different tiers are rejected, and a late member is told too") {
    Harness h(kCapped);
    h.AddNode(GpuNode("a100-0", kA100, 8));
    Pod a = GangMember("t", 0, 3, "team", 1);
    Pod b = GangMember("t", 1, 3, "team", 1);
    a.annotations.Set("drover.io/tier", "1");
    b.annotations.Set("drover.io/tier", "2");
    h.AddPod(a);
    h.AddPod(b);
    h.Cycle();
    CHECK(h.engine->WhyPending("ns/t-1").find("different tiers") != std::string::npos);
    h.AddPod(GangMember("t", 2, 3, "team", 1));
    Decisions d = h.Cycle();
    CHECK(BoundMembers(h, "t", 3) == 0);
    bool late_told = false;
    for (const PendingReason& p : d.pending) late_told |= p.pod_key == "ns/t-2" && p.code == PendingCode::kRejected;
    CHECK(late_told);
  }
  SECTION("members in one queue and tier are placed as before") {
    Harness h(kCapped);
    h.AddNode(GpuNode("a100-0", kA100, 8));
    h.AddPod(GangMember("ok", 0, 2, "team", 1));
    h.AddPod(GangMember("ok", 1, 2, "team", 1));
    h.Cycle();
    CHECK(BoundMembers(h, "ok", 2) == 2);
  }
}

TEST_CASE("a_pod_may_not_name_a_queue_that_does_not_grant_its_namespace", "[placement][quota][submit]") {
  constexpr const char* kAcl = R"(
queues:
  children:
    - name: open
      submit: {namespaces: [ns]}
    - name: private
      submit: {namespaces: [owners]}
)";
  Harness h(kAcl);
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddPod(GpuPod("sneaky", "private", 1));
  h.AddPod(GpuPod("fine", "open", 1));
  Decisions d = h.Cycle();
  CHECK(h.Bound("ns/fine"));
  CHECK_FALSE(h.Bound("ns/sneaky"));
  bool told = false;
  for (const PendingReason& p : d.pending) {
    told |= p.pod_key == "ns/sneaky" && p.code == PendingCode::kRejected &&
            p.message.find("namespace \"ns\" may not submit to queue \"root.private\"") != std::string::npos;
  }
  CHECK(told);
  // A gang cannot carry a refused member in on another member's queue.
  h.AddPod(GangMember("g", 0, 2, "open", 1));
  h.AddPod(GangMember("g", 1, 2, "private", 1));
  h.Cycle();
  CHECK_FALSE(h.Bound("ns/g-0"));
  CHECK(h.engine->WhyPending("ns/g-1").find("may not submit") != std::string::npos);
  // A revision that grants the namespace lets the waiting pod run.
  absl::StatusOr<QueueConfig> v2 = ParseQueueConfig(R"(
queues:
  children:
    - name: open
      submit: {namespaces: [ns]}
    - name: private
      submit: {namespaces: [owners, ns]}
)", "v2.yaml");
  REQUIRE(v2.ok());
  h.engine->ApplyConfig(*v2);
  h.Cycle();
  CHECK(h.Bound("ns/sneaky"));
}
