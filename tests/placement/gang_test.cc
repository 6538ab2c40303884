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
