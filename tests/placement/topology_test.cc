// Inter-pod affinity, anti-affinity and topology spread (placement/topology.h):
// one test per rule, each with a node that fails exactly that rule and the
// explanation kube-scheduler would give; pods placed in one cycle see each other.
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

std::string WhyPending(const Harness& h, const std::string& key) { return h.engine->WhyPending(key); }

}  // namespace

TEST_CASE("required_anti_affinity_keeps_a_pod_off_the_node_of_a_matching_pod", "[placement][topology]") {
  Harness h(kTeam);
  h.AddNode(ZoneNode("n1", "a"));
  h.AddRunning(AppPod("web-0", "web"), "n1");
  Pod p = AppPod("web-1", "web");
  p.constraints.anti_affinity.push_back(Term(MatchLabel("app", "web"), kHostKey));
  h.AddPod(p);
  h.Cycle();
  CHECK_FALSE(h.Bound("ns/web-1"));
  CHECK(WhyPending(h, "ns/web-1") == "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.");
  h.AddNode(ZoneNode("n2", "a"));
  h.Cycle();
  CHECK(h.NodeOf("ns/web-1") == "n2");
  SECTION("a pod of another namespace does not count") {
    Harness g(kTeam);
    g.AddNode(ZoneNode("n1", "a"));
    Pod other = AppPod("web-0", "web");
    other.namespace_ = "elsewhere";
    g.AddRunning(other, "n1");
    g.AddPod(p);
    g.Cycle();
    CHECK(g.NodeOf("ns/web-1") == "n1");
  }
}

TEST_CASE("existing_pods_anti_affinity_keeps_new_pods_away_symmetry", "[placement][topology]") {
  Harness h(kTeam);
  h.AddNode(ZoneNode("n1", "a"));
  h.AddNode(ZoneNode("n2", "b"));
  Pod guard = AppPod("guard", "guard");
  guard.constraints.anti_affinity.push_back(Term(MatchLabel("app", "db"), kZoneKey));
  h.AddRunning(guard, "n1");
  h.AddPod(AppPod("db-0", "db", 4));  // no constraints of its own; binpack would pick n1
  h.Cycle();
  CHECK(h.NodeOf("ns/db-0") == "n2");
  h.AddPod(AppPod("db-1", "db", 5));  // n2 is too full now, n1 is refused
  h.Cycle();
  CHECK(WhyPending(h, "ns/db-1") ==
        "0/2 nodes are available: 1 Insufficient GPUs (e.g. A100), 1 node(s) didn't satisfy existing pods anti-affinity rules.");
  h.AddPod(AppPod("web-0", "web", 6));  // not selected by the guard: may join it
  h.Cycle();
  CHECK(h.NodeOf("ns/web-0") == "n1");
}

// The index files each existing term under a label its selector requires; every
// selector shape must still reach the pods it matches (and only those).
TEST_CASE("existing_pods_anti_affinity_reaches_pods_through_every_selector_shape", "[placement][topology]") {
  using Op = LabelSelector::Requirement::Op;
  auto expr = [](const std::string& key, Op op, std::vector<std::string> values) {
    LabelSelector s;
    s.present = true;
    s.match_expressions.push_back({key, op, "", std::move(values)});
    return s;
  };
  LabelSelector everything;
  everything.present = true;
  const std::vector<std::pair<std::string, LabelSelector>> guards = {
      {"n1", expr("app", Op::kIn, {"db", "cache"})},
      {"n2", expr("tier", Op::kExists, {})},
      {"n3", expr("app", Op::kNotIn, {"web"})},  // requires no label: read for every pod
      {"n4", everything},
  };
  Harness h(kTeam);
  for (size_t i = 0; i < guards.size(); ++i) {
    h.AddNode(ZoneNode(guards[i].first, "a"));
    Pod g = AppPod(StrCat("guard-", i), "guard", 0);
    g.constraints.anti_affinity.push_back(Term(guards[i].second, kHostKey));
    h.AddRunning(g, guards[i].first);
  }
  h.AddPod(AppPod("db-0", "db"));  // refused by In, NotIn and the empty selector
  Pod web = AppPod("web-0", "web");
  web.labels.Set("tier", "front");  // refused by Exists and the empty selector
  h.AddPod(web);
  Pod cache = AppPod("cache-0", "cache");
  cache.labels.Set("tier", "back");  // refused by all four
  h.AddPod(cache);
  h.Cycle();
  CHECK(h.NodeOf("ns/db-0") == "n2");
  CHECK((h.NodeOf("ns/web-0") == "n1" || h.NodeOf("ns/web-0") == "n3"));
  CHECK(WhyPending(h, "ns/cache-0") == "0/4 nodes are available: 4 node(s) didn't satisfy existing pods anti-affinity rules.");
  h.DeletePod("ns/guard-0");  // its term leaves the index with it
  h.Cycle();
  CHECK(h.NodeOf("ns/cache-0") == "n1");
}

TEST_CASE("required_affinity_needs_a_matching_pod_in_the_domain", "[placement][topology]") {
  Harness h(kTeam);
  h.AddNode(ZoneNode("n1", "a", 1));
  h.AddNode(ZoneNode("n2", "a"));
  h.AddNode(ZoneNode("n3", "b"));
  h.AddNode(ZoneNode("n4", ""));  // no zone label: fails affinity too
  h.AddRunning(AppPod("cache-0", "cache"), "n1");
  Pod p = AppPod("train-0", "train", 8);
  p.constraints.affinity.push_back(Term(MatchLabel("app", "cache"), kZoneKey));
  h.AddPod(p);
  h.Cycle();
  CHECK(h.NodeOf("ns/train-0") == "n2");
  Pod q = AppPod("train-1", "train", 8);
  q.constraints.affinity.push_back(Term(MatchLabel("app", "cache"), kZoneKey));
  h.AddPod(q);
  h.Cycle();
  CHECK(WhyPending(h, "ns/train-1") ==
        "0/4 nodes are available: 2 Insufficient GPUs (e.g. A100), 2 node(s) didn't match pod affinity rules.");
}

TEST_CASE("the_first_pod_of_a_group_with_affinity_to_itself_may_go_anywhere", "[placement][topology]") {
  Harness h(kTeam);
  h.AddNode(ZoneNode("n1", "a"));
  h.AddNode(ZoneNode("n2", "b"));
  Pod first = AppPod("w-0", "w", 6);
  first.constraints.affinity.push_back(Term(MatchLabel("app", "w"), kZoneKey));
  h.AddPod(first);
  h.Cycle();
  REQUIRE(h.Bound("ns/w-0"));
  const std::string zone_node = h.NodeOf("ns/w-0");
  Pod second = AppPod("w-1", "w", 2);
  second.constraints.affinity = first.constraints.affinity;
  h.AddPod(second);
  h.Cycle();
  CHECK(h.NodeOf("ns/w-1") == zone_node);  // the other zone has room but no w pod
  SECTION("a pod whose terms do not select itself waits for a match") {
    Pod lone = AppPod("x-0", "x");
    lone.constraints.affinity.push_back(Term(MatchLabel("app", "nobody"), kZoneKey));
    h.AddPod(lone);
    h.Cycle();
    CHECK_FALSE(h.Bound("ns/x-0"));
  }
}

TEST_CASE("spread_do_not_schedule_keeps_skew_within_max_skew", "[placement][topology]") {
  Harness h(kTeam);
  h.AddNode(ZoneNode("a1", "a"));
  h.AddNode(ZoneNode("b1", "b"));
  h.AddNode(ZoneNode("x1", ""));  // no zone: missing required label
  h.AddRunning(AppPod("s-0", "s"), "a1");
  Pod p = AppPod("s-1", "s", 7);  // binpack prefers a1 (fuller)
  p.constraints.spread.push_back(Spread(1, kZoneKey, MatchLabel("app", "s")));
  h.AddPod(p);
  h.Cycle();
  CHECK(h.NodeOf("ns/s-1") == "b1");
  SECTION("the explanation names the rule and the missing label") {
    Pod q = AppPod("s-2", "s", 8);
    q.constraints.spread.push_back(Spread(1, kZoneKey, MatchLabel("app", "s")));
    h.AddPod(q);
    h.Cycle();
    // a1 has 1 free GPU, b1 none: both too small; x1 fits but has no zone.
    CHECK(WhyPending(h, "ns/s-2") ==
          "0/3 nodes are available: 2 Insufficient GPUs (e.g. A100), 1 node(s) didn't match pod topology spread "
          "constraints (missing required label).");
  }
}

TEST_CASE("spread_min_domains_counts_missing_domains_as_zero", "[placement][topology]") {
  for (const bool with_min_domains : {false, true}) {
    Harness h(kTeam);
    h.AddNode(ZoneNode("a1", "a"));
    h.AddNode(ZoneNode("b1", "b"));
    h.AddRunning(AppPod("s-0", "s"), "a1");
    h.AddRunning(AppPod("s-1", "s"), "b1");
    Pod p = AppPod("s-2", "s");
    SpreadConstraint c = Spread(1, kZoneKey, MatchLabel("app", "s"));
    if (with_min_domains) {
      c.min_domains = 3;
      c.min_domains_set = true;
    }
    p.constraints.spread.push_back(c);
    h.AddPod(p);
    h.Cycle();
    INFO(with_min_domains);
    CHECK(h.Bound("ns/s-2") == !with_min_domains);  // 2 domains < 3: the minimum is 0, skew 2
    if (with_min_domains) {
      CHECK(WhyPending(h, "ns/s-2") == "0/2 nodes are available: 2 node(s) didn't match pod topology spread constraints.");
    }
  }
}

TEST_CASE("spread_node_affinity_policy_decides_which_domains_count", "[placement][topology]") {
  for (const std::string policy : {"Honor", "Ignore"}) {
    Harness h(kTeam);
    Node a = ZoneNode("a1", "a"), b = ZoneNode("b1", "b"), c = ZoneNode("c1", "c");
    a.labels.Set("pool", "x");
    b.labels.Set("pool", "x");  // c1 is not in the pod's pool
    h.AddNode(a);
    h.AddNode(b);
    h.AddNode(c);
    h.AddRunning(AppPod("s-0", "s"), "a1");
    h.AddRunning(AppPod("s-1", "s"), "b1");
    Pod p = AppPod("s-2", "s");
    p.node_selector.Set("pool", "x");
    SpreadConstraint sc = Spread(1, kZoneKey, MatchLabel("app", "s"));
    sc.node_affinity_policy = policy;
    p.constraints.spread.push_back(sc);
    h.AddPod(p);
    h.Cycle();
    INFO(policy);
    // Honor: zone c is not the pod's, the minimum is 1 and a or b is fine. Ignore:
    // zone c counts with 0 pods, so a and b would reach skew 2.
    CHECK(h.Bound("ns/s-2") == (policy == "Honor"));
  }
}

TEST_CASE("spread_node_taints_policy_honor_ignores_tainted_domains", "[placement][topology]") {
  for (const std::string policy : {"Honor", "Ignore"}) {
    Harness h(kTeam);
    Node c = ZoneNode("c1", "c");
    c.taints.push_back(Taint{"dedicated", "other", TaintEffect::kNoSchedule});
    h.AddNode(ZoneNode("a1", "a"));
    h.AddNode(ZoneNode("b1", "b"));
    h.AddNode(c);
    h.AddRunning(AppPod("s-0", "s"), "a1");
    h.AddRunning(AppPod("s-1", "s"), "b1");
    Pod p = AppPod("s-2", "s");
    SpreadConstraint sc = Spread(1, kZoneKey, MatchLabel("app", "s"));
    sc.node_taints_policy = policy;
    p.constraints.spread.push_back(sc);
    h.AddPod(p);
    h.Cycle();
    INFO(policy);
    CHECK(h.Bound("ns/s-2") == (policy == "Honor"));
  }
}

TEST_CASE("pods_placed_in_one_cycle_see_each_other", "[placement][topology]") {
  Harness h(kTeam);
  for (int i = 0; i < 3; ++i) h.AddNode(ZoneNode(StrCat("n", i), "a"));
  SECTION("single pods") {
    for (int i = 0; i < 3; ++i) {
      Pod p = AppPod(StrCat("web-", i), "web");
      p.constraints.anti_affinity.push_back(Term(MatchLabel("app", "web"), kHostKey));
      h.AddPod(p);
    }
    h.Cycle();
  }
  SECTION("a gang") {
    for (int i = 0; i < 3; ++i) {
      Pod p = GangMember("web", i, 3, "team", 1);
      p.labels.Set("app", "web");
      p.constraints.anti_affinity.push_back(Term(MatchLabel("app", "web"), kHostKey));
      h.AddPod(p);
    }
    h.Cycle();
  }
  std::set<std::string> nodes;
  for (int i = 0; i < 3; ++i) nodes.insert(h.NodeOf(StrCat("ns/web-", i)));
  CHECK(nodes == std::set<std::string>{"n0", "n1", "n2"});
}

TEST_CASE("a_pod_waiting_on_affinity_is_retried_when_its_match_arrives", "[placement][topology]") {
  Harness h(kTeam);
  h.AddNode(ZoneNode("n1", "a"));
  Pod p = AppPod("client", "client");
  p.constraints.affinity.push_back(Term(MatchLabel("app", "server"), kHostKey));
  h.AddPod(p);
  h.Cycle();
  REQUIRE_FALSE(h.Bound("ns/client"));
  h.AddPod(AppPod("server", "server"));
  h.Cycle();  // the server binds
  h.Cycle();  // the client is offered again
  CHECK(h.NodeOf("ns/client") == "n1");
}

TEST_CASE("malformed_constraints_reject_the_pod_naming_the_field", "[placement][topology]") {
  Harness h(kTeam);
  h.AddNode(ZoneNode("n1", "a"));
  Pod p = AppPod("bad", "x");
  SpreadConstraint c = Spread(0, kZoneKey, MatchLabel("app", "x"));
  p.constraints.spread.push_back(c);
  h.AddPod(p);
  h.Cycle();
  CHECK_FALSE(h.Bound("ns/bad"));
  CHECK(WhyPending(h, "ns/bad").find("spec.topologySpreadConstraints[0].maxSkew: \"0\" must be at least 1") !=
        std::string::npos);
}

TEST_CASE("preemption_picks_only_victim_sets_after_which_the_rules_hold", "[placement][topology][preemption]") {
  for (const bool second_node : {true, false}) {
    Harness h(kTwoTeamsAndScratch, PreemptAtOnce());
    h.AddNode(ZoneNode("n1", "a"));
    if (second_node) h.AddNode(ZoneNode("n2", "b"));
    // n1 runs a web pod Drover does not manage (never a victim) and a younger
    // borrower: without rules n1 would be the cheaper node to preempt on.
    Pod web = AppPod("web", "web", 0);
    web.scheduler_name = "default-scheduler";
    h.AddRunning(web, "n1");
    if (second_node) h.AddRunning(AppPod("old", "batch", 8, "scratch"), "n2");
    h.Cycle(60000);
    h.AddRunning(AppPod("young", "batch", 8, "scratch"), "n1");
    h.Cycle();
    Pod p = AppPod("train", "train", 8, "team-a");
    p.constraints.anti_affinity.push_back(Term(MatchLabel("app", "web"), kHostKey));
    h.AddPod(p);
    const Decisions d = h.Cycle();
    INFO(second_node);
    if (second_node) {
      REQUIRE(d.evictions.size() == 1);
      CHECK(d.evictions[0].pod_key == "ns/old");  // evicting "young" would leave the web pod beside it
    } else {
      CHECK(d.evictions.empty());
    }
  }
}

TEST_CASE("preemption_may_evict_the_pod_that_blocks_by_anti_affinity", "[placement][topology][preemption]") {
  Harness h(kTwoTeamsAndScratch, PreemptAtOnce());
  h.AddNode(ZoneNode("n1", "a"));
  h.AddRunning(AppPod("blocker", "web", 8, "scratch"), "n1");
  h.Cycle();
  Pod p = AppPod("train", "train", 8, "team-a");
  p.constraints.anti_affinity.push_back(Term(MatchLabel("app", "web"), kHostKey));
  h.AddPod(p);
  const Decisions d = h.Cycle();
  REQUIRE(d.evictions.size() == 1);
  CHECK(d.evictions[0].pod_key == "ns/blocker");
  h.Cycle();
  CHECK(h.NodeOf("ns/train") == "n1");
}

TEST_CASE("preferred_terms_break_ties_but_never_defeat_packing", "[placement][topology][score]") {
  for (const std::string kind : {"preferred affinity", "preferred anti-affinity", "ScheduleAnyway spread"}) {
    for (const std::string liked : {"x", "y"}) {
      Harness h(kTeam);
      h.AddNode(ZoneNode("n1", "a"));
      h.AddNode(ZoneNode("n2", "b"));
      Pod x0 = AppPod("x-0", "x"), y0 = AppPod("y-0", "y");  // equal load: the policy scores n1 and n2 the same
      Pod p = AppPod("p", "p");
      PodAffinityTerm t = Term(MatchLabel("app", liked), kHostKey);
      t.weight = 10;
      if (kind == "preferred affinity") {
        p.constraints.preferred_affinity.push_back(t);
      } else if (kind == "preferred anti-affinity") {
        t.selector = MatchLabel("app", liked == "x" ? "y" : "x");
        p.constraints.preferred_anti_affinity.push_back(t);
      } else {
        p.labels.Set("grp", "g");
        (liked == "x" ? y0 : x0).labels.Set("grp", "g");  // the emptier domain is preferred
        p.constraints.spread.push_back(Spread(1, kZoneKey, MatchLabel("grp", "g"), /*hard=*/false));
      }
      h.AddRunning(x0, "n1");
      h.AddRunning(y0, "n2");
      h.AddPod(p);
      h.Cycle();
      INFO(kind << ", liked " << liked);
      CHECK(h.NodeOf("ns/p") == (liked == "x" ? "n1" : "n2"));
    }
  }
}

TEST_CASE("a_preference_does_not_move_a_pod_off_the_fuller_node", "[placement][topology][score]") {
  Harness h(kTeam);
  h.AddNode(ZoneNode("n1", "a"));
  h.AddNode(ZoneNode("n2", "b"));
  h.AddRunning(AppPod("x-0", "x", 4), "n1");
  h.AddRunning(AppPod("y-0", "y", 1), "n2");
  Pod p = AppPod("p", "p");
  PodAffinityTerm t = Term(MatchLabel("app", "x"), kHostKey);
  t.weight = 100;
  p.constraints.preferred_anti_affinity.push_back(t);
  h.AddPod(p);
  h.Cycle();
  CHECK(h.NodeOf("ns/p") == "n1");  // binpack: the fuller node, preference notwithstanding
}
