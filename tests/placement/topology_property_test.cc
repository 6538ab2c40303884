// Property: on random small clusters with random inter-pod rules, no bound pod
// ever violates a required rule of its own or of a pod already running. The
// checker below is written from the Kubernetes documentation, separately from
// placement/topology*.cc: it reads only the snapshot's bound pods and node labels,
// and matches selectors itself (the tests use matchLabels only).
#include <map>
#include <set>

#include "core/rng.h"
#include "core/strings.h"
#include "tests/placement/harness.h"
#include "tests/placement/topology_fixtures.h"

using namespace drover;
using namespace drover::testing;

namespace {

constexpr const char* kTeam = R"(
queues:
  children:
    - name: team
)";

struct Bound {
  const Pod* pod;
  const Node* node;
};

bool Selects(const LabelSelector& s, const Pod& other) {
  if (!s.present) return false;
  for (const auto& [k, v] : s.match_labels) {
    const std::string* have = other.labels.Get(k);
    if (have == nullptr || *have != v) return false;
  }
  return true;
}

const std::string* Domain(const Node& n, const std::string& key) { return n.labels.Get(key); }

bool SameDomain(const Bound& a, const Bound& b, const std::string& key) {
  const std::string* x = Domain(*a.node, key);
  const std::string* y = Domain(*b.node, key);
  return x != nullptr && y != nullptr && *x == *y;
}

// Every violation among the bound pods, one line each.
std::vector<std::string> Violations(const Snapshot& snap) {
  std::vector<Bound> bound;
  for (PodId id = 0; id < snap.pod_slots(); ++id) {
    const PodEntry& e = snap.pod(id);
    if (e.live && e.counted_on != kNoNode) bound.push_back(Bound{&e.pod, &snap.node(e.counted_on).node});
  }
  std::vector<std::string> out;
  for (const Bound& p : bound) {
    const PodConstraints& c = p.pod->constraints;
    // Anti-affinity (the pod's own; the symmetry rule is the same check seen from the other pod).
    for (const PodAffinityTerm& t : c.anti_affinity) {
      for (const Bound& q : bound) {
        if (q.pod != p.pod && q.pod->namespace_ == p.pod->namespace_ && Selects(t.selector, *q.pod) &&
            SameDomain(p, q, t.topology_key)) {
          out.push_back(StrCat(p.pod->Key(), " on ", p.node->name, " shares ", t.topology_key, " with ", q.pod->Key()));
        }
      }
    }
    // Affinity: a pod matching every term in the domain of each term (the pod itself
    // counts only when it matches them all: the first of its group).
    bool self = true;
    for (const PodAffinityTerm& t : c.affinity) self = self && Selects(t.selector, *p.pod);
    for (const PodAffinityTerm& t : c.affinity) {
      if (Domain(*p.node, t.topology_key) == nullptr) {
        out.push_back(StrCat(p.pod->Key(), " on ", p.node->name, " without ", t.topology_key));
        continue;
      }
      if (self) continue;
      bool found = false;
      for (const Bound& q : bound) {
        bool all = q.pod != p.pod && q.pod->namespace_ == p.pod->namespace_;
        for (const PodAffinityTerm& u : c.affinity) all = all && Selects(u.selector, *q.pod);
        found = found || (all && SameDomain(p, q, t.topology_key));
      }
      if (!found) out.push_back(StrCat(p.pod->Key(), " on ", p.node->name, " has no affinity match in ", t.topology_key));
    }
  }
  // Spread: the test's spread groups share one constraint and only their pods carry
  // the group label, so max - min over the domains of nodes with the key stays <= maxSkew.
  std::map<std::string, const SpreadConstraint*> groups;
  for (const Bound& p : bound) {
    for (const SpreadConstraint& s : p.pod->constraints.spread) groups[s.selector.match_labels[0].second] = &s;
  }
  for (const auto& [group, s] : groups) {
    std::map<std::string, int> counts;
    for (NodeId id = 0; id < snap.node_slots(); ++id) {
      if (!snap.node(id).present) continue;
      if (const std::string* v = Domain(snap.node(id).node, s->topology_key)) counts.emplace(*v, 0);
    }
    for (const Bound& p : bound) {
      if (!Selects(s->selector, *p.pod)) continue;
      const std::string* v = Domain(*p.node, s->topology_key);
      if (v == nullptr) {
        out.push_back(StrCat(p.pod->Key(), " of spread group ", group, " on ", p.node->name, " without ", s->topology_key));
      } else {
        ++counts[*v];
      }
    }
    int lo = INT32_MAX, hi = 0;
    for (const auto& [v, n] : counts) lo = std::min(lo, n), hi = std::max(hi, n);
    if (!counts.empty() && hi - lo > s->max_skew) out.push_back(StrCat("spread group ", group, " skew ", hi - lo));
  }
  return out;
}

Pod RandomPod(Rng& rng, int i) {
  static const char* kApps[] = {"a", "b", "c"};
  static const std::string kKeys[] = {kHostKey, kZoneKey, kRackKey};
  Pod p = AppPod(StrCat("p", i), kApps[rng.Below(3)], static_cast<int>(rng.Range(1, 4)));
  const size_t kind = rng.Below(5);
  if (kind == 0) p.constraints.anti_affinity.push_back(Term(MatchLabel("app", kApps[rng.Below(3)]), kKeys[rng.Below(3)]));
  if (kind == 1) p.constraints.affinity.push_back(Term(MatchLabel("app", kApps[rng.Below(3)]), kKeys[rng.Below(3)]));
  if (kind == 2) {
    const std::string group = StrCat("g", rng.Below(2));
    p.labels.Set("grp", group);
    // One constraint per group (the checker's assumption): max skew and key by group.
    p.constraints.spread.push_back(Spread(group == "g0" ? 1 : 2, group == "g0" ? kZoneKey : kRackKey, MatchLabel("grp", group)));
  }
  return p;
}

}  // namespace

TEST_CASE("the_checker_sees_violations_made_by_another_scheduler", "[placement][topology][property]") {
  Harness h(kTeam);
  h.AddNode(ZoneNode("n1", "z0"));
  Pod a = AppPod("a", "web");
  a.constraints.anti_affinity.push_back(Term(MatchLabel("app", "web"), kHostKey));
  h.AddRunning(a, "n1");
  CHECK(Violations(h.engine->snapshot()).empty());
  h.AddRunning(AppPod("b", "web"), "n1");  // bound there by someone else
  CHECK(Violations(h.engine->snapshot()).size() == 1);
}

TEST_CASE("no_bound_pod_violates_a_required_inter_pod_rule", "[placement][topology][property]") {
  int bound_with_rules = 0, pending_with_rules = 0;
  for (uint64_t seed = 1; seed <= 25; ++seed) {
    Rng rng(seed);
    Harness h(kTeam);
    const int nodes = static_cast<int>(rng.Range(4, 10));
    for (int n = 0; n < nodes; ++n) {
      const std::string zone = rng.Below(6) == 0 ? "" : StrCat("z", rng.Below(3));
      const std::string rack = rng.Below(6) == 0 ? "" : StrCat("r", rng.Below(4));
      h.AddNode(ZoneNode(StrCat("n", n), zone, 8, rack));
    }
    int next = 0;
    for (int cycle = 0; cycle < 12; ++cycle) {
      const int arrivals = static_cast<int>(rng.Range(1, 5));
      for (int k = 0; k < arrivals; ++k) {
        if (rng.Below(8) == 0) {  // a gang of 2-3 that keeps its members apart
          const int size = static_cast<int>(rng.Range(2, 3));
          const std::string gang = StrCat("gang", next++);
          for (int m = 0; m < size; ++m) {
            Pod p = GangMember(gang, m, size, "team", 1);
            p.labels.Set("app", gang);
            p.constraints.anti_affinity.push_back(Term(MatchLabel("app", gang), kHostKey));
            h.AddPod(p);
          }
        } else {
          h.AddPod(RandomPod(rng, next++));
        }
      }
      h.Cycle();
      const std::vector<std::string> bad = Violations(h.engine->snapshot());
      INFO("seed " << seed << " cycle " << cycle << ": " << (bad.empty() ? "" : bad[0]));
      REQUIRE(bad.empty());
    }
    const Snapshot& snap = h.engine->snapshot();
    for (PodId id = 0; id < snap.pod_slots(); ++id) {
      const PodEntry& e = snap.pod(id);
      if (!e.live || e.pod.constraints.empty()) continue;
      (e.counted_on != kNoNode ? bound_with_rules : pending_with_rules) += 1;
    }
  }
  // The rules were exercised both ways: many such pods placed, some held back.
  CHECK(bound_with_rules > 200);
  CHECK(pending_with_rules > 10);
}
