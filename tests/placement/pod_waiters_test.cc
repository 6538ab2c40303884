// Pods waiting on other pods (required affinity, DoNotSchedule spread) are offered
// again when a pod one of their selectors matches starts counting, and only then
// (placement/pod_waiters.h): a pod that counts frees nothing for anyone else.
#include <algorithm>
#include <string>
#include <vector>

#include "placement/pod_waiters.h"
#include "tests/placement/harness.h"
#include "tests/placement/topology_fixtures.h"

using namespace drover;
using namespace drover::testing;

namespace {

std::vector<std::string> Matching(const PodWaiters& w, const Labels& labels) {
  std::vector<std::string> out;
  w.ForMatching(labels, [&](const std::string& key) { out.push_back(key); });
  std::sort(out.begin(), out.end());
  return out;
}

Labels App(const std::string& app) {
  Labels l;
  l.Set("app", app);
  return l;
}

// Records which pods a cycle tried.
class Tried : public AttemptObserver {
 public:
  void BeforeAttempt() override {}
  void AfterAttempt(const AttemptReport& r) override { pods.push_back(r.pod_key); }
  bool Saw(const std::string& key) const { return std::find(pods.begin(), pods.end(), key) != pods.end(); }
  std::vector<std::string> pods;
};

}  // namespace

TEST_CASE("pod_waiters_find_the_waiters_a_counted_pod_may_help", "[placement][topology]") {
  PodWaiters w;
  Pod client = AppPod("client", "client");
  client.constraints.affinity.push_back(Term(MatchLabel("app", "db"), kZoneKey));
  Pod spread = AppPod("web-1", "web");
  spread.constraints.spread.push_back(Spread(1, kZoneKey, MatchLabel("app", "web")));
  Pod soft = AppPod("soft", "web");
  soft.constraints.spread.push_back(Spread(1, kZoneKey, MatchLabel("app", "web"), /*hard=*/false));
  soft.constraints.spread.back().do_not_schedule = false;  // as FinishPodConstraints reads ScheduleAnyway
  Pod anti = AppPod("anti", "web");
  anti.constraints.anti_affinity.push_back(Term(MatchLabel("app", "web"), kHostKey));
  for (const Pod& p : {client, spread, soft, anti}) w.Add(p);
  CHECK(w.size() == 2);  // a ScheduleAnyway spread or an anti-affinity never waits for a pod to arrive

  CHECK(Matching(w, App("db")) == std::vector<std::string>{"ns/client"});
  CHECK(Matching(w, App("web")) == std::vector<std::string>{"ns/web-1"});
  CHECK(Matching(w, App("cache")).empty());
  CHECK(Matching(w, Labels()).empty());

  SECTION("a selector requiring no label is read for every counted pod") {
    Pod any = AppPod("any", "x");
    LabelSelector everything;
    everything.present = true;  // present and empty: matches every pod
    any.constraints.affinity.push_back(Term(everything, kZoneKey));
    w.Add(any);
    CHECK(Matching(w, App("cache")) == std::vector<std::string>{"ns/any"});
    CHECK(Matching(w, App("db")) == std::vector<std::string>{"ns/any", "ns/client"});
  }
  SECTION("a selector that is absent matches no pod, so the pod is not filed") {
    Pod none = AppPod("none", "x");
    none.constraints.affinity.push_back(Term(LabelSelector{}, kZoneKey));
    w.Add(none);
    CHECK(w.size() == 2);
  }
  SECTION("matchExpressions: In over several values, Exists") {
    Pod in = AppPod("in", "x");
    LabelSelector sel;
    sel.present = true;
    sel.match_expressions.push_back({"tier", LabelSelector::Requirement::Op::kIn, "In", {"gold", "silver"}});
    in.constraints.affinity.push_back(Term(sel, kZoneKey));
    Pod exists = AppPod("exists", "x");
    LabelSelector has;
    has.present = true;
    has.match_expressions.push_back({"gpu-job", LabelSelector::Requirement::Op::kExists, "Exists", {}});
    exists.constraints.affinity.push_back(Term(has, kZoneKey));
    w.Add(in);
    w.Add(exists);
    Labels silver;
    silver.Set("tier", "silver");
    CHECK(Matching(w, silver) == std::vector<std::string>{"ns/in"});
    Labels job;
    job.Set("gpu-job", "anything");
    CHECK(Matching(w, job) == std::vector<std::string>{"ns/exists"});
  }
  SECTION("removed, or replaced by a version without the rule") {
    w.Remove("ns/client");
    w.Remove("ns/unknown");
    CHECK(Matching(w, App("db")).empty());
    spread.constraints.spread.clear();
    w.Add(spread);
    CHECK(w.empty());
  }
}

TEST_CASE("a_pod_waiting_on_affinity_is_offered_again_only_when_a_pod_it_selects_counts", "[placement][topology]") {
  Harness h(kZonesAndRacks);
  h.AddNode(ZoneNode("n1", "a"));
  Pod client = AppPod("client", "client");
  client.constraints.affinity.push_back(Term(MatchLabel("app", "db"), kZoneKey));
  h.AddPod(client);
  h.Cycle();  // no db pod anywhere: it waits
  REQUIRE_FALSE(h.Bound("ns/client"));

  Tried tried;
  h.engine->set_attempt_observer(&tried);
  h.AddPod(AppPod("web-0", "web"));
  h.Cycle();  // web-0 binds and counts; the client was not offered again
  REQUIRE(h.Bound("ns/web-0"));
  CHECK_FALSE(tried.Saw("ns/client"));
  tried.pods.clear();
  h.Cycle();  // web-0 selects nothing the client asks for: still not offered again
  CHECK_FALSE(tried.Saw("ns/client"));
  CHECK_FALSE(h.Bound("ns/client"));

  h.AddRunning(AppPod("db-0", "db"), "n1");  // a db pod starts counting in zone a
  tried.pods.clear();
  h.Cycle();
  CHECK(tried.Saw("ns/client"));
  CHECK(h.NodeOf("ns/client") == "n1");
  h.engine->set_attempt_observer(nullptr);
}

TEST_CASE("a_pod_held_by_a_spread_constraint_is_offered_again_when_a_matching_pod_counts", "[placement][topology]") {
  Harness h(kZonesAndRacks);
  h.AddNode(ZoneNode("n1", "a"));
  h.AddNode(ZoneNode("n2", "b", 1));
  h.AddRunning(AppPod("filler", "x"), "n2");  // zone b has no GPU left
  h.AddRunning(AppPod("web-0", "web"), "n1");
  Pod web1 = AppPod("web-1", "web");
  web1.constraints.spread.push_back(Spread(1, kZoneKey, MatchLabel("app", "web")));
  h.AddPod(web1);
  h.Cycle();  // only zone a has room, where it would make the skew 2
  REQUIRE_FALSE(h.Bound("ns/web-1"));

  Tried tried;
  h.engine->set_attempt_observer(&tried);
  h.AddPod(AppPod("other", "x"));
  h.Cycle();
  h.Cycle();  // `other` counts in zone a, but web-1's selector does not match it
  REQUIRE(h.Bound("ns/other"));
  CHECK_FALSE(tried.Saw("ns/web-1"));

  h.AddRunning(AppPod("web-cpu", "web", 0), "n2");  // a web pod (no GPU) starts counting in zone b
  tried.pods.clear();
  h.Cycle();
  CHECK(tried.Saw("ns/web-1"));
  CHECK(h.NodeOf("ns/web-1") == "n1");  // a=2, b=1: skew 1
  h.engine->set_attempt_observer(nullptr);
}
