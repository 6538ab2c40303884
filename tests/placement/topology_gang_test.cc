// Topology-aware gangs (placement/topology_gang.h): a gang that requires a level
// runs all or nothing inside one domain of it, the smallest that fits; a preferred
// level falls back to wider ones, then anywhere; the pending reason says why no
// domain holds it; bad or mixed annotations reject the gang; preemption for a
// required gang takes victims inside one domain.
#include <set>

#include "core/strings.h"
#include "tests/placement/harness.h"
#include "tests/placement/topology_fixtures.h"

using namespace drover;
using namespace drover::testing;

namespace {

// Member i of gang `gang` (`n` members of `gpus` GPUs each) asking for `level`.
Pod TopoMember(const std::string& gang, int i, int n, int gpus, const std::string& required,
               const std::string& preferred = "") {
  Pod p = GangMember(gang, i, n, "team", gpus);
  if (!required.empty()) p.annotations.Set("drover.io/topology-required", required);
  if (!preferred.empty()) p.annotations.Set("drover.io/topology-preferred", preferred);
  return p;
}

void AddGang(Harness& h, const std::string& gang, int n, int gpus, const std::string& required,
             const std::string& preferred = "") {
  for (int i = 0; i < n; ++i) h.AddPod(TopoMember(gang, i, n, gpus, required, preferred));
}

// The racks (the node's rack label) the gang's bound members are on; "" for a member not bound.
std::set<std::string> RacksOf(const Harness& h, const std::string& gang, int n) {
  std::set<std::string> racks;
  for (int i = 0; i < n; ++i) {
    const std::string node = h.NodeOf(StrCat("ns/", gang, "-", i));
    const NodeId id = h.engine->snapshot().FindNode(node);
    const std::string* rack = id == kNoNode ? nullptr : h.engine->snapshot().node(id).node.labels.Get(kRackKey);
    racks.insert(rack == nullptr ? "" : *rack);
  }
  return racks;
}

// Fills `gpus` GPUs of `node` with a pod of another scheduler's that stays.
void Occupy(Harness& h, const std::string& node, int gpus) {
  Pod p = GpuPod(StrCat("busy-", node), "", gpus);
  p.scheduler_name = "default-scheduler";
  h.AddRunning(p, node);
}

}  // namespace

TEST_CASE("required_gang_lands_in_the_smallest_rack_that_fits", "[placement][topology_gang]") {
  Harness h(kZonesAndRacks);
  h.AddNode(ZoneNode("r1-a", "a", 8, "r1"));  // r1: 4 + 8 = 12 free
  h.AddNode(ZoneNode("r1-b", "a", 8, "r1"));
  Occupy(h, "r1-a", 4);
  h.AddNode(ZoneNode("r2-a", "a", 8, "r2"));  // r2: 16 free
  h.AddNode(ZoneNode("r2-b", "a", 8, "r2"));
  h.AddNode(ZoneNode("r3-a", "b", 8, "r3"));  // r3: 32 free
  h.AddNode(ZoneNode("r3-b", "b", 8, "r3"));
  h.AddNode(ZoneNode("r3-c", "b", 8, "r3"));
  h.AddNode(ZoneNode("r3-d", "b", 8, "r3"));
  AddGang(h, "small", 3, 4, "rack");  // 12 GPUs: r1 exactly
  h.Cycle();
  CHECK(RacksOf(h, "small", 3) == std::set<std::string>{"r1"});
  AddGang(h, "mid", 4, 4, "rack");  // 16 GPUs: r1 is full now, r2 exactly
  h.Cycle();
  CHECK(RacksOf(h, "mid", 4) == std::set<std::string>{"r2"});
  AddGang(h, "big", 5, 4, "rack");  // 20 GPUs: only r3
  h.Cycle();
  CHECK(RacksOf(h, "big", 5) == std::set<std::string>{"r3"});
}

TEST_CASE("required_gang_is_all_or_nothing_and_says_which_domain_is_largest", "[placement][topology_gang]") {
  Harness h(kZonesAndRacks);
  h.AddNode(ZoneNode("r1-a", "a", 8, "r1"));
  h.AddNode(ZoneNode("r2-a", "a", 8, "r2"));
  h.AddNode(ZoneNode("r3-a", "a", 8, "r3"));
  Occupy(h, "r3-a", 2);
  AddGang(h, "g", 3, 4, "rack");  // 12 GPUs; 22 free in the cluster, at most 8 per rack
  Decisions d = h.Cycle();
  CHECK(d.binds.empty());
  CHECK(h.engine->WhyPending("ns/g-0") == "gang ns/g (3 pods, 12 GPUs) fits in no single rack: largest free rack has 8 GPUs");
  SECTION("the same gang without the annotation spreads over racks") {
    Harness plain(kZonesAndRacks);
    for (const char* r : {"r1", "r2", "r3"}) plain.AddNode(ZoneNode(StrCat(r, "-a"), "a", 8, r));
    for (int i = 0; i < 3; ++i) plain.AddPod(GangMember("g", i, 3, "team", 4));
    plain.Cycle();
    CHECK(RacksOf(plain, "g", 3).size() == 2);
  }
  SECTION("a rack that grows takes the whole gang") {
    h.AddNode(ZoneNode("r2-b", "a", 8, "r2"));
    h.Cycle();
    CHECK(RacksOf(h, "g", 3) == std::set<std::string>{"r2"});
  }
  SECTION("a zone-wide gang fits where no rack does") {
    AddGang(h, "z", 3, 4, "zone");
    h.Cycle();
    CHECK(RacksOf(h, "z", 3).size() == 2);
    CHECK(h.engine->WhyPending("ns/z-0").empty());
  }
}

TEST_CASE("required_gang_explains_a_rack_with_room_in_sum_but_not_in_shape", "[placement][topology_gang]") {
  Harness h(kZonesAndRacks);
  h.AddNode(ZoneNode("r1-a", "a", 8, "r1"));
  h.AddNode(ZoneNode("r1-b", "a", 8, "r1"));
  Occupy(h, "r1-a", 2);
  Occupy(h, "r1-b", 2);  // 12 free in r1, in two blocks of 6
  AddGang(h, "g", 3, 4, "rack");
  h.Cycle();
  CHECK_FALSE(h.Bound("ns/g-0"));
  const std::string why = h.engine->WhyPending("ns/g-0");
  INFO(why);
  CHECK(why.rfind("gang ns/g (3 pods, 12 GPUs) fits in no single rack: 1 rack(s) have enough free in sum, but none "
                  "can hold every member; in rack r1: gang ns/g: 2/3 members fit; 0/2 nodes are available:",
                  0) == 0);
}

TEST_CASE("nodes_without_the_level_label_cannot_host_a_required_gang", "[placement][topology_gang]") {
  Harness h(kZonesAndRacks);
  h.AddNode(ZoneNode("bare", "a", 8));  // a zone, no rack
  AddGang(h, "g", 2, 2, "rack");
  h.Cycle();
  CHECK_FALSE(h.Bound("ns/g-0"));
  CHECK(h.engine->WhyPending("ns/g-0") ==
        "gang ns/g (2 pods, 4 GPUs) fits in no single rack: no node carries the rack label example.com/rack (with the "
        "labels of every wider level)");
  SECTION("nor can a rack node without a zone") {
    h.AddNode(ZoneNode("no-zone", "", 8, "r9"));
    h.Cycle();
    CHECK_FALSE(h.Bound("ns/g-0"));
    h.AddNode(ZoneNode("r1-a", "a", 8, "r1"));
    h.Cycle();
    CHECK(RacksOf(h, "g", 2) == std::set<std::string>{"r1"});
  }
}

TEST_CASE("preferred_level_tries_narrowest_first_then_wider_then_anywhere", "[placement][topology_gang]") {
  Harness h(kZonesAndRacks);
  h.AddNode(ZoneNode("r1-a", "a", 8, "r1"));
  Occupy(h, "r1-a", 4);                       // r1: 4 free
  h.AddNode(ZoneNode("r2-a", "a", 8, "r2"));  // r2: 4 + 8 free
  Occupy(h, "r2-a", 4);
  h.AddNode(ZoneNode("r2-b", "a", 8, "r2"));
  SECTION("a rack that holds it") {
    // Bin-packing alone would take the two half-full nodes of r1 and r2.
    AddGang(h, "g", 2, 4, "", "rack");
    h.Cycle();
    CHECK(RacksOf(h, "g", 2) == std::set<std::string>{"r2"});
  }
  SECTION("no rack holds it: its zone does") {
    h.AddNode(ZoneNode("r3-a", "b", 8, "r3"));  // zone b: 8 free
    AddGang(h, "g", 4, 4, "", "rack");          // 16 GPUs: no rack, zone a has 16
    h.Cycle();
    std::set<std::string> zones;
    for (int i = 0; i < 4; ++i) {
      const NodeId id = h.engine->snapshot().FindNode(h.NodeOf(StrCat("ns/g-", i)));
      REQUIRE(id != kNoNode);
      zones.insert(*h.engine->snapshot().node(id).node.labels.Get(kZoneKey));
    }
    CHECK(zones == std::set<std::string>{"a"});
  }
  SECTION("no zone holds it: anywhere") {
    h.AddNode(ZoneNode("r3-a", "b", 8, "r3"));
    AddGang(h, "g", 6, 4, "", "rack");  // 24 GPUs: zone a has 16, b 8
    h.Cycle();
    CHECK(RacksOf(h, "g", 6) == std::set<std::string>{"r1", "r2", "r3"});
  }
  SECTION("required zone, preferred rack") {
    h.AddNode(ZoneNode("r3-a", "b", 8, "r3"));
    h.AddNode(ZoneNode("r4-a", "b", 8, "r4"));
    AddGang(h, "g", 4, 4, "zone", "rack");  // no rack holds 16; zone b (16 free, the smallest) does
    h.Cycle();
    CHECK(RacksOf(h, "g", 4) == std::set<std::string>{"r3", "r4"});
  }
}

TEST_CASE("bad_topology_annotations_reject_the_gang_naming_the_level", "[placement][topology_gang]") {
  Harness h(kZonesAndRacks);
  h.AddNode(ZoneNode("r1-a", "a", 8, "r1"));
  SECTION("an unknown level") {
    AddGang(h, "g", 2, 1, "row");
    h.Cycle();
    CHECK_FALSE(h.Bound("ns/g-0"));
    CHECK(h.engine->WhyPending("ns/g-0") ==
          "pod ns/g-0: annotation drover.io/topology-required: \"row\" is not a topology level of the quota document "
          "(levels: zone, rack)");
  }
  SECTION("not a level name") {
    AddGang(h, "g", 2, 1, "Rack 1");
    h.Cycle();
    CHECK(h.engine->WhyPending("ns/g-0") ==
          "pod ns/g-0: annotation drover.io/topology-required: \"Rack 1\" is not a topology level name");
  }
  SECTION("a preferred level not narrower than the required one") {
    AddGang(h, "g", 2, 1, "rack", "zone");
    h.Cycle();
    CHECK(h.engine->WhyPending("ns/g-0").find("\"zone\" must name a level narrower than drover.io/topology-required "
                                              "\"rack\"") != std::string::npos);
  }
  SECTION("a document without levels, then one with them (live)") {
    Harness bare(R"(
queues:
  children:
    - name: team
)");
    bare.AddNode(ZoneNode("r1-a", "a", 8, "r1"));
    AddGang(bare, "g", 2, 1, "rack");
    bare.Cycle();
    CHECK(bare.engine->WhyPending("ns/g-0").find("(it declares none: see topology.levels)") != std::string::npos);
    bare.engine->ApplyConfig(ParseOrDie(kZonesAndRacks));
    bare.Cycle();
    CHECK(RacksOf(bare, "g", 2) == std::set<std::string>{"r1"});
  }
}

TEST_CASE("gang_members_must_ask_for_the_same_topology", "[placement][topology_gang]") {
  Harness h(kZonesAndRacks);
  h.AddNode(ZoneNode("r1-a", "a", 8, "r1"));
  h.AddPod(TopoMember("g", 0, 2, 1, "rack"));
  h.AddPod(TopoMember("g", 1, 2, 1, "zone"));
  Decisions d = h.Cycle();
  CHECK(d.binds.empty());
  CHECK(h.engine->WhyPending("ns/g-1") ==
        "gang ns/g: members name different topology levels (ns/g-0 has drover.io/topology-required \"rack\", ns/g-1 "
        "\"zone\"); all members of a gang must ask for the same topology");
  SECTION("one member without the annotation") {
    Harness g(kZonesAndRacks);
    g.AddNode(ZoneNode("r1-a", "a", 8, "r1"));
    g.AddPod(TopoMember("g", 0, 2, 1, "", "rack"));
    g.AddPod(GangMember("g", 1, 2, "team", 1));
    g.Cycle();
    CHECK_FALSE(g.Bound("ns/g-0"));
    CHECK(g.engine->WhyPending("ns/g-0").find("ns/g-0 has drover.io/topology-preferred \"rack\", ns/g-1 none") !=
          std::string::npos);
  }
}

TEST_CASE("preemption_for_a_required_gang_takes_victims_inside_one_rack", "[placement][topology_gang][preemption]") {
  Harness h(kZonesAndRacks, PreemptAtOnce());
  h.AddNode(ZoneNode("r1-a", "a", 4, "r1"));
  h.AddNode(ZoneNode("r1-b", "a", 4, "r1"));
  h.AddNode(ZoneNode("r2-a", "a", 4, "r2"));
  h.AddNode(ZoneNode("r2-b", "a", 4, "r2"));  // stays empty
  // Tier-2 pods fill three nodes; the youngest (cheapest to evict) are in r1.
  for (const auto& [name, node, created] :
       {std::tuple{"x", "r1-a", 5000}, std::tuple{"y", "r1-b", 5000}, std::tuple{"z", "r2-a", 1000}}) {
    Pod p = GpuPod(name, "team", 4, "", 2);
    p.creation_ms = created;
    h.AddRunning(p, node);
  }
  for (int i = 0; i < 2; ++i) {
    Pod m = TopoMember("g", i, 2, 4, "rack");
    m.creation_ms = 9000;
    h.AddPod(m);
  }
  Decisions d = h.Cycle();
  REQUIRE(d.evictions.size() == 1);
  CHECK(d.evictions[0].pod_key == "ns/z");
  for (int n = 0; n < 3 && !h.Bound("ns/g-1"); ++n) h.Cycle();
  CHECK(RacksOf(h, "g", 2) == std::set<std::string>{"r2"});
  CHECK(h.Bound("ns/x"));
  CHECK(h.Bound("ns/y"));
}
