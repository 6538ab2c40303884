// Running pods' inter-pod terms score the pods they match (kube-scheduler's
// InterPodAffinity Score symmetry, placement/topology.h ExistingTermsScoring):
// preferred affinity pulls a matching pod into the running pod's domain, preferred
// anti-affinity pushes it out, required affinity pulls by hardPodAffinityWeight;
// weights add; the term's namespaces are the running pod's. Like every preference
// it only breaks ties between nodes the policy scores the same.
#include <functional>

#include "tests/placement/bare_cluster.h"
#include "tests/placement/harness.h"
#include "tests/placement/topology_fixtures.h"

using namespace drover;
using namespace drover::testing;

namespace {

// Where the one-GPU pod `incoming` (app=x, namespace ns) lands when n1 (zone a) runs
// `on_n1` and n2 (zone b) runs `on_n2`, both one-GPU pods: the policy scores the
// two nodes the same, so only preferences decide.
std::string Landing(const Pod& on_n1, const Pod& on_n2, const Pod& incoming, EngineOptions o = {},
                    const std::function<void(Harness&)>& setup = {}) {
  Harness h(kOneTeam, std::move(o));
  h.AddNode(ZoneNode("n1", "a"));
  h.AddNode(ZoneNode("n2", "b"));
  if (setup) setup(h);
  h.AddRunning(on_n1, "n1");
  h.AddRunning(on_n2, "n2");
  h.AddPod(incoming);
  h.Cycle();
  return h.NodeOf(incoming.Key());
}

Pod X() { return AppPod("x", "x"); }
Pod Plain(const std::string& name) { return AppPod(name, name); }

PodAffinityTerm Weighted(LabelSelector sel, int32_t weight, const std::string& key = kZoneKey) {
  PodAffinityTerm t = Term(std::move(sel), key);
  t.weight = weight;
  return t;
}

// A running pod whose preferred affinity (anti: anti-affinity) term of `weight` selects `term`'s pods.
Pod Preferring(const std::string& name, PodAffinityTerm term, bool anti = false) {
  Pod p = Plain(name);
  (anti ? p.constraints.preferred_anti_affinity : p.constraints.preferred_affinity).push_back(std::move(term));
  return p;
}

std::string Other(const std::string& node) { return node == "n1" ? "n2" : "n1"; }

// Where X lands with no term anywhere: the node a term that had no effect leaves it on.
std::string Baseline() { return Landing(Plain("p1"), Plain("p2"), X()); }

}  // namespace

TEST_CASE("running_pods_preferred_affinity_pulls_a_matching_pod_into_their_domain", "[placement][topology][score]") {
  for (const std::string policy : {"binpack", "gpu-frag"}) {
    for (const std::string side : {"n1", "n2"}) {
      EngineOptions o;
      o.policy = policy;
      const Pod liker = Preferring("liker", Weighted(MatchLabel("app", "x"), 10));
      const std::string got =
          side == "n1" ? Landing(liker, Plain("p2"), X(), o) : Landing(Plain("p1"), liker, X(), o);
      INFO(policy << ", the liker on " << side);
      CHECK(got == side);
    }
  }
}

TEST_CASE("running_pods_preferred_anti_affinity_pushes_a_matching_pod_out_of_their_domain",
          "[placement][topology][score]") {
  for (const std::string side : {"n1", "n2"}) {
    const Pod shy = Preferring("shy", Weighted(MatchLabel("app", "x"), 10), /*anti=*/true);
    const std::string got = side == "n1" ? Landing(shy, Plain("p2"), X()) : Landing(Plain("p1"), shy, X());
    INFO("the shy pod on " << side);
    CHECK(got == Other(side));
  }
}

TEST_CASE("running_pods_required_affinity_pulls_by_hard_pod_affinity_weight", "[placement][topology][score]") {
  const std::string away = Other(Baseline());
  Pod needy = Plain("needy");
  needy.constraints.affinity.push_back(Term(MatchLabel("app", "x"), kZoneKey));
  auto land = [&](EngineOptions o) {
    return away == "n1" ? Landing(needy, Plain("p2"), X(), o) : Landing(Plain("p1"), needy, X(), o);
  };
  CHECK(land({}) == away);  // kube-scheduler's default hardPodAffinityWeight 1
  EngineOptions off;
  off.existing_terms.hard_pod_affinity_weight = 0;
  CHECK(land(off) == Other(away));
}

TEST_CASE("running_pods_weights_add_per_domain", "[placement][topology][score]") {
  // n1's pod prefers x by 30; n2's pod by 20 + 20 in two terms, or by 50 - 30 with an anti term.
  const Pod single = Preferring("single", Weighted(MatchLabel("app", "x"), 30));
  Pod both = Preferring("both", Weighted(MatchLabel("app", "x"), 20));
  both.constraints.preferred_affinity.push_back(Weighted(MatchLabel("app", "x"), 20));
  CHECK(Landing(single, both, X()) == "n2");
  CHECK(Landing(both, single, X()) == "n1");
  Pod mixed = Preferring("mixed", Weighted(MatchLabel("app", "x"), 50));
  mixed.constraints.preferred_anti_affinity.push_back(Weighted(MatchLabel("app", "x"), 30));
  CHECK(Landing(single, mixed, X()) == "n1");
  CHECK(Landing(mixed, single, X()) == "n2");
  SECTION("two running pods in one zone add up against one in the other") {
    Harness h(kOneTeam);
    h.AddNode(ZoneNode("n1", "a"));
    h.AddNode(ZoneNode("n2", "b"));
    h.AddNode(ZoneNode("n3", "b", 4));  // holds the second pod; too small to be considered equal
    h.AddRunning(Preferring("single", Weighted(MatchLabel("app", "x"), 30)), "n1");
    h.AddRunning(Preferring("b1", Weighted(MatchLabel("app", "x"), 20)), "n2");
    Pod big = Preferring("b2", Weighted(MatchLabel("app", "x"), 20));
    big.requests[Res::kGpu] = 4000;
    big.gpu_devices = 4;
    h.AddRunning(big, "n3");  // n3 full: zone b holds 40 for x, zone a 30
    h.AddPod(X());
    h.Cycle();
    CHECK(h.NodeOf("ns/x") == "n2");
  }
}

TEST_CASE("running_pods_terms_read_their_own_namespaces", "[placement][topology][score][namespaces]") {
  const std::string away = Other(Baseline());
  auto land = [&](Pod liker, const std::function<void(Harness&)>& setup = {}) {
    return away == "n1" ? Landing(liker, Plain("p2"), X(), {}, setup) : Landing(Plain("p1"), liker, X(), {}, setup);
  };
  Pod liker = Preferring("liker", Weighted(MatchLabel("app", "x"), 10));
  liker.namespace_ = "other";
  CHECK(land(liker) == Other(away));  // the term's namespace is the running pod's: other, not ns

  SECTION("listed namespaces") {
    liker.constraints.preferred_affinity[0].namespaces = {"ns"};
    CHECK(land(liker) == away);
  }
  SECTION("a namespaceSelector matches the incoming pod's namespace labels") {
    liker.constraints.preferred_affinity[0].namespace_selector = MatchLabel("team", "a");
    Labels a, b;
    a.Set("team", "a");
    b.Set("team", "b");
    CHECK(land(liker, [&](Harness& h) { h.SetNamespace("ns", a); }) == away);
    CHECK(land(liker, [&](Harness& h) { h.SetNamespace("ns", b); }) == Other(away));
  }
}

TEST_CASE("running_pods_terms_that_do_not_match_have_no_effect", "[placement][topology][score]") {
  const std::string away = Other(Baseline());
  auto land = [&](const Pod& liker) {
    return away == "n1" ? Landing(liker, Plain("p2"), X()) : Landing(Plain("p1"), liker, X());
  };
  CHECK(land(Preferring("liker", Weighted(MatchLabel("app", "y"), 10))) == Other(away));
  // The running pod's node lacks the term's topology key.
  CHECK(land(Preferring("liker", Weighted(MatchLabel("app", "x"), 10, kRackKey))) == Other(away));
  // A selector requiring no label (read for every pod) that matches x: it counts.
  LabelSelector not_y;
  not_y.present = true;
  not_y.match_expressions.push_back({"app", LabelSelector::Requirement::Op::kNotIn, "NotIn", {"y"}});
  CHECK(land(Preferring("liker", Weighted(not_y, 10))) == away);
}

TEST_CASE("running_pods_preferences_never_defeat_packing", "[placement][topology][score]") {
  Harness h(kOneTeam);
  h.AddNode(ZoneNode("n1", "a"));
  h.AddNode(ZoneNode("n2", "b"));
  h.AddRunning(AppPod("busy", "busy", 4), "n1");
  h.AddRunning(Preferring("liker", Weighted(MatchLabel("app", "x"), 100)), "n2");
  h.AddPod(X());
  h.Cycle();
  CHECK(h.NodeOf("ns/x") == "n1");  // binpack: the fuller node
}

TEST_CASE("ignore_preferred_terms_of_existing_pods_applies_to_pods_without_preferences",
          "[placement][topology][score]") {
  const std::string away = Other(Baseline());
  EngineOptions o;
  o.existing_terms.ignore_preferred_terms_of_existing_pods = true;
  const Pod liker = Preferring("liker", Weighted(MatchLabel("app", "x"), 10));
  auto land = [&](const Pod& incoming) {
    return away == "n1" ? Landing(liker, Plain("p2"), incoming, o) : Landing(Plain("p1"), liker, incoming, o);
  };
  CHECK(land(X()) == Other(away));
  Pod with_own = X();  // a preferred term of its own (matching no pod) brings the running pods' terms back
  with_own.constraints.preferred_affinity.push_back(Weighted(MatchLabel("app", "none"), 1));
  CHECK(land(with_own) == away);
}

TEST_CASE("pods_placed_earlier_in_the_cycle_score_later_ones", "[placement][topology][score]") {
  for (const bool anti : {false, true}) {
    Harness h(kOneTeam);
    for (const auto& [name, zone] : {std::pair{"n1", "a"}, {"n2", "b"}, {"n3", "a"}, {"n4", "b"}}) {
      h.AddNode(ZoneNode(name, zone));
    }
    Pod first = Preferring("first", Weighted(MatchLabel("app", "x"), 10), anti);
    first.requests[Res::kGpu] = 8000;  // fills its node: x goes to another
    first.gpu_devices = 8;
    h.AddPod(first);
    h.AddPod(X());
    h.Cycle();
    const Snapshot& s = h.engine->snapshot();
    auto zone = [&](const std::string& key) { return *s.node(s.FindNode(h.NodeOf(key))).node.labels.Get(kZoneKey); };
    INFO((anti ? "anti-affinity" : "affinity"));
    REQUIRE_FALSE(h.NodeOf("ns/x").empty());
    CHECK((zone("ns/x") == zone("ns/first")) == !anti);
  }
}

TEST_CASE("prepare_score_is_off_for_pods_no_term_reaches", "[placement][topology][score]") {
  BareCluster c(kOneTeam);
  c.AddNode(ZoneNode("n1", "a"));
  c.AddNode(GpuNode("bare", kA100, 8));  // no zone label
  TopologyIndex index(&c.snap);
  c.snap.set_pod_listener([&](PodId id, bool counted) { index.OnCounted(id, counted); });
  index.Enable();
  c.Run(Preferring("liker", Weighted(MatchLabel("app", "x"), 10)), "n1", 0);
  c.Run(Preferring("rack", Weighted(MatchLabel("app", "r"), 10, kRackKey)), "n1", 0);
  ConstraintCheck check;
  CHECK_FALSE(check.PrepareScore(AppPod("z", "z"), index));  // no term selects app=z
  CHECK_FALSE(check.PrepareScore(AppPod("r", "r"), index));  // the liker's node has no rack label
  REQUIRE(check.PrepareScore(X(), index));
  CHECK(check.Preference(c.snap.node(c.snap.FindNode("n1")).node) == 10);
  CHECK(check.Preference(c.snap.node(c.snap.FindNode("bare")).node) == 0);
  c.snap.DeletePod("ns/liker");
  CHECK_FALSE(check.PrepareScore(X(), index));  // its terms left the index with it
}
