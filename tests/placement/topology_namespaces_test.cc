// namespaceSelector of pod affinity terms against the namespaces' labels (Namespace
// events, core/namespaces.h), as kube-scheduler's InterPodAffinity reads them from
// its namespace lister: a namespace's label change is seen by later placements and
// moves no running pod.
#include "tests/placement/harness.h"
#include "tests/placement/topology_fixtures.h"

using namespace drover;
using namespace drover::testing;

namespace {

Labels Team(const std::string& team) {
  Labels l;
  l.Set("team", team);
  return l;
}

// A one-GPU web pod in namespace `ns` (queue team).
Pod WebIn(const std::string& ns, const std::string& name) {
  Pod p = AppPod(name, "web");
  p.namespace_ = ns;
  return p;
}

// A pod refusing, per zone, web pods of namespaces labelled team=a.
Pod AwayFromTeamA(const std::string& name, int gpus = 1) {
  Pod p = AppPod(name, "client", gpus);
  PodAffinityTerm t = Term(MatchLabel("app", "web"), kZoneKey);
  t.namespace_selector = MatchLabel("team", "a");
  p.constraints.anti_affinity.push_back(t);
  return p;
}

}  // namespace

TEST_CASE("anti_affinity_namespace_selector_matches_the_namespaces_labels", "[placement][topology][namespaces]") {
  Harness h(kOneTeam);
  h.AddNode(ZoneNode("n1", "a"));
  h.AddNode(ZoneNode("n2", "b"));
  h.SetNamespace("ns-a", Team("a"));
  h.SetNamespace("ns-b", Team("b"));
  h.AddRunning(WebIn("ns-a", "web-a"), "n1");
  h.AddRunning(WebIn("ns-b", "web-b"), "n2");

  h.AddPod(AwayFromTeamA("c1"));
  h.Cycle();
  CHECK(h.NodeOf("ns/c1") == "n2");  // the web pod of ns-b (team=b) does not count

  SECTION("relabelling a namespace changes later placements and moves no running pod") {
    h.SetNamespace("ns-a", Team("c"));
    h.SetNamespace("ns-b", Team("a"));
    h.AddPod(AwayFromTeamA("c2"));
    const Decisions d = h.Cycle();
    CHECK(h.NodeOf("ns/c2") == "n1");
    CHECK(h.NodeOf("ns/c1") == "n2");  // IgnoredDuringExecution
    CHECK(d.evictions.empty());
  }
  SECTION("a pending pod looks again when a namespace's labels change") {
    h.DeletePod("ns/c1");
    h.DeletePod("ns-b/web-b");
    h.DeleteNode("n2");  // only n1, with ns-a's web pod, is left
    h.AddPod(AwayFromTeamA("c2"));
    h.Cycle();
    CHECK(h.NodeOf("ns/c2").empty());
    CHECK(h.engine->WhyPending("ns/c2") == "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.");
    h.SetNamespace("ns-a", Team("b"));
    h.Cycle();
    CHECK(h.NodeOf("ns/c2") == "n1");
  }
  SECTION("a running pod's term reads the incoming pod's namespace labels (symmetry)") {
    Harness g(kOneTeam);
    g.AddNode(ZoneNode("n1", "a"));
    g.AddNode(ZoneNode("n2", "b"));
    g.SetNamespace("ns-a", Team("a"));
    g.SetNamespace("ns-b", Team("b"));
    g.AddRunning(AwayFromTeamA("guard", 2), "n1");  // the fuller node: binpack's first choice
    g.AddPod(WebIn("ns-a", "web-a"));
    g.AddPod(WebIn("ns-b", "web-b"));
    g.Cycle();
    CHECK(g.NodeOf("ns-a/web-a") == "n2");
    CHECK(g.NodeOf("ns-b/web-b") == "n1");
  }
}

TEST_CASE("namespace_selector_before_the_namespaces_are_known_sees_the_name_label_only",
          "[placement][topology][namespaces]") {
  Harness h(kOneTeam);
  h.AddNode(ZoneNode("n1", "a"));
  h.AddRunning(WebIn("ns-a", "web-a"), "n1");
  Pod by_label = AwayFromTeamA("c1");
  Pod by_name = AppPod("c2", "client");
  PodAffinityTerm t = Term(MatchLabel("app", "web"), kZoneKey);
  t.namespace_selector = MatchLabel("kubernetes.io/metadata.name", "ns-a");
  by_name.constraints.anti_affinity.push_back(t);
  h.AddPod(by_label);
  h.AddPod(by_name);
  h.Cycle();
  CHECK(h.NodeOf("ns/c1") == "n1");  // team=a is not known yet: matches nothing
  CHECK(h.NodeOf("ns/c2").empty());  // the name label is exact from the start
}
