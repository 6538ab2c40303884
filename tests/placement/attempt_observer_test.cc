// Engine::set_attempt_observer (placement/engine.h): each workload's attempt in
// a cycle is reported once, between the observer's two calls, with its pod kind
// and outcome (what placement_bench --per-attempt times).
#include <vector>

#include "tests/placement/harness.h"
#include "tests/placement/topology_fixtures.h"

using namespace drover;
using namespace drover::testing;

namespace {

struct Seen {
  std::string pod;
  bool constrained, tried, placed;
  int64_t nodes;
};

class Recorder : public AttemptObserver {
 public:
  void BeforeAttempt() override { ++open; }
  void AfterAttempt(const AttemptReport& r) override {
    --open;
    seen.push_back(Seen{r.pod_key, r.constrained, r.tried, r.placed, r.nodes_considered});
  }
  int open = 0;  // BeforeAttempt calls not yet closed
  std::vector<Seen> seen;
};

}  // namespace

TEST_CASE("attempt_observer_reports_each_attempt_with_its_kind_and_outcome", "[placement][topology]") {
  Harness h(kZonesAndRacks);  // one leaf queue `team`
  h.AddNode(ZoneNode("n1", "a"));
  h.AddRunning(AppPod("web-0", "web"), "n1");
  Pod web = AppPod("web-1", "web");
  web.constraints.anti_affinity.push_back(Term(MatchLabel("app", "web"), kHostKey));
  h.AddPod(web);                       // refused by its anti-affinity on the only node
  h.AddPod(AppPod("db-0", "db"));      // fits
  h.AddPod(AppPod("big-0", "big", 8)); // 6 GPUs are left: does not fit
  h.AddPod(AppPod("big-1", "big", 8)); // the same shape: answered from big-0's failure
  Recorder rec;
  h.engine->set_attempt_observer(&rec);
  h.Cycle();
  REQUIRE(rec.seen.size() == 4);
  CHECK(rec.open == 0);
  CHECK(rec.seen[0].pod == "ns/web-1");
  CHECK((rec.seen[0].constrained && rec.seen[0].tried && !rec.seen[0].placed));
  CHECK(rec.seen[0].nodes == 2);  // n1 twice: the first pass, then the exact pass behind the explanation
  CHECK(rec.seen[1].pod == "ns/db-0");
  CHECK((!rec.seen[1].constrained && rec.seen[1].tried && rec.seen[1].placed));
  CHECK(rec.seen[2].pod == "ns/big-0");
  CHECK((!rec.seen[2].constrained && rec.seen[2].tried && !rec.seen[2].placed));
  CHECK(rec.seen[3].pod == "ns/big-1");
  CHECK((!rec.seen[3].constrained && !rec.seen[3].tried && !rec.seen[3].placed));
  CHECK(rec.seen[3].nodes == 0);
  CHECK(h.engine->stats().placement_tries == 3);

  SECTION("removed, it sees nothing") {
    h.engine->set_attempt_observer(nullptr);
    h.DeletePod("ns/web-0");  // frees capacity: the blocked workloads are offered again
    h.Cycle();
    CHECK(rec.seen.size() == 4);
    CHECK(h.Bound("ns/web-1"));
  }
}
