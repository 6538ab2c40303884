// Property: on random clusters of zones and racks (some nodes missing a label),
// with gangs that require or prefer a level, tier-2 filler pods, preemption and
// pods finishing, no bound member of a gang that requires a level is ever outside
// one domain of it, and such a gang runs whole or not at all. The checker reads only
// the snapshot's bound pods, their annotations and node labels, independently of
// placement/topology_gang.cc.
#include <map>
#include <set>

#include "core/rng.h"
#include "core/strings.h"
#include "tests/placement/harness.h"
#include "tests/placement/topology_fixtures.h"

using namespace drover;
using namespace drover::testing;

namespace {

// The node's domain at `level` as the document defines it: the labels of the level
// and every wider one, or "" when one is missing.
std::string DomainAt(const Node& n, const std::string& level) {
  const std::string* zone = n.labels.Get(kZoneKey);
  if (zone == nullptr) return "";
  if (level == "zone") return *zone;
  const std::string* rack = n.labels.Get(kRackKey);
  return rack == nullptr ? "" : StrCat(*zone, "/", *rack);
}

// Every violation among bound pods, one line each.
std::vector<std::string> Violations(const Snapshot& snap) {
  struct Gang {
    std::string level;
    int min = 0;
    int bound = 0;
    std::set<std::string> domains;
  };
  std::map<std::string, Gang> gangs;
  for (PodId id = 0; id < snap.pod_slots(); ++id) {
    const PodEntry& e = snap.pod(id);
    if (!e.live || e.counted_on == kNoNode) continue;
    const std::string* gang = e.pod.annotations.Get("drover.io/gang");
    const std::string* level = e.pod.annotations.Get("drover.io/topology-required");
    if (gang == nullptr || level == nullptr) continue;
    Gang& g = gangs[StrCat(e.pod.namespace_, "/", *gang)];
    g.level = *level;
    g.min = std::stoi(*e.pod.annotations.Get("drover.io/gang-min-members"));
    ++g.bound;
    g.domains.insert(DomainAt(snap.node(e.counted_on).node, *level));
  }
  std::vector<std::string> out;
  for (const auto& [name, g] : gangs) {
    if (g.domains.size() != 1 || g.domains.count("") != 0) {
      out.push_back(StrCat("gang ", name, " (", g.level, ") is bound across ", g.domains.size(), " domain(s)",
                           g.domains.count("") ? ", some on nodes without the label" : ""));
    }
    if (g.bound < g.min) out.push_back(StrCat("gang ", name, " runs ", g.bound, " of ", g.min, " members"));
  }
  return out;
}

}  // namespace

TEST_CASE("the_gang_checker_sees_a_gang_split_across_racks", "[placement][topology_gang][property]") {
  Harness h(kZonesAndRacks);
  h.AddNode(ZoneNode("n1", "z0", 8, "r0"));
  h.AddNode(ZoneNode("n2", "z0", 8, "r1"));
  for (int i = 0; i < 2; ++i) {
    Pod p = GangMember("g", i, 2, "team", 1);
    p.annotations.Set("drover.io/topology-required", "rack");
    p.scheduler_name = "default-scheduler";  // bound by someone else, split
    h.AddRunning(p, i == 0 ? "n1" : "n2");
  }
  CHECK(Violations(h.engine->snapshot()).size() == 1);
}

TEST_CASE("no_required_gang_member_is_bound_outside_one_domain", "[placement][topology_gang][property]") {
  int placed_required = 0, waiting_required = 0, placed_preferred = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng(seed);
    Harness h(kZonesAndRacks, PreemptAtOnce());
    const int nodes = static_cast<int>(rng.Range(6, 14));
    for (int n = 0; n < nodes; ++n) {
      const std::string zone = rng.Below(8) == 0 ? "" : StrCat("z", rng.Below(2));
      const std::string rack = rng.Below(8) == 0 ? "" : StrCat("r", rng.Below(4));
      h.AddNode(ZoneNode(StrCat("n", n), zone, rng.Below(2) == 0 ? 4 : 8, rack));
    }
    std::vector<std::string> running;
    int next = 0;
    for (int cycle = 0; cycle < 15; ++cycle) {
      const int arrivals = static_cast<int>(rng.Range(1, 3));
      for (int k = 0; k < arrivals; ++k, ++next) {
        if (rng.Below(3) == 0) {  // a tier-2 filler: a preemption victim
          h.AddPod(GpuPod(StrCat("fill", next), "team", static_cast<int>(rng.Range(1, 4)), "", 2));
          continue;
        }
        const int size = static_cast<int>(rng.Range(2, 5));
        const int gpus = static_cast<int>(rng.Range(1, 4));
        const size_t kind = rng.Below(4);
        const char* annotation = kind == 3 ? "drover.io/topology-preferred" : "drover.io/topology-required";
        const char* level = kind == 0 ? "zone" : "rack";
        for (int m = 0; m < size; ++m) {
          Pod p = GangMember(StrCat("g", next), m, size, "team", gpus);
          p.annotations.Set(annotation, level);
          p.creation_ms = h.now_ms;
          h.AddPod(p);
        }
      }
      h.Cycle();
      const std::vector<std::string> bad = Violations(h.engine->snapshot());
      INFO("seed " << seed << " cycle " << cycle << ": " << (bad.empty() ? "" : bad[0]));
      REQUIRE(bad.empty());
      // Some running pods finish (a whole gang's members leave one by one: the checker
      // then sees fewer than min, so a finishing gang leaves in one step).
      if (rng.Below(3) == 0) {
        std::map<std::string, std::vector<std::string>> by_gang;
        const Snapshot& snap = h.engine->snapshot();
        for (PodId id = 0; id < snap.pod_slots(); ++id) {
          const PodEntry& e = snap.pod(id);
          if (!e.live || e.counted_on == kNoNode) continue;
          const std::string* gang = e.pod.annotations.Get("drover.io/gang");
          by_gang[gang == nullptr ? e.pod.Key() : *gang].push_back(e.pod.Key());
        }
        if (!by_gang.empty()) {
          auto it = std::next(by_gang.begin(), static_cast<long>(rng.Below(by_gang.size())));
          for (const std::string& key : it->second) h.DeletePod(key);
        }
      }
    }
    const Snapshot& snap = h.engine->snapshot();
    for (PodId id = 0; id < snap.pod_slots(); ++id) {
      const PodEntry& e = snap.pod(id);
      if (!e.live) continue;
      if (e.pod.annotations.Get("drover.io/topology-required") != nullptr) {
        (e.counted_on != kNoNode ? placed_required : waiting_required) += 1;
      } else if (e.pod.annotations.Get("drover.io/topology-preferred") != nullptr && e.counted_on != kNoNode) {
        ++placed_preferred;
      }
    }
  }
  // Exercised both ways: required gangs placed and held back, preferred ones placed.
  CHECK(placed_required > 100);
  CHECK(waiting_required > 20);
  CHECK(placed_preferred > 20);
}
