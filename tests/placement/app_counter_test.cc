// AppCounter on its own: which application a pod belongs to, and the queue
// tree's running / waiting application counts kept in step with its pods.
#include "placement/app_counter.h"
#include "tests/placement/harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

constexpr const char* kTeam = R"(
queues:
  children:
    - name: team
      limits: {max_running_apps: 1}
)";

QueueId LeafOf(const QueueTree& tree, const std::string& path) {
  for (QueueId id = 0; id < tree.size(); ++id) {
    if (tree.queue(id).path == path) return id;
  }
  FAIL("no queue " << path);
  return kNoQueue;
}

}  // namespace

TEST_CASE("app_counter_keys_by_label_then_gang_then_controller_then_pod", "[placement][apps]") {
  Pod p = GpuPod("worker-0", "team", 1);
  AppCounter by_pod;
  CHECK(by_pod.KeyOf(3, p) == "3|ns/Pod/worker-0");
  p.owner_kind = "Job";
  p.owner_name = "train";
  CHECK(by_pod.KeyOf(3, p) == "3|ns/Job/train");
  p.intent.gang = "g";
  CHECK(by_pod.KeyOf(3, p) == "3|ns/gang/g");
  AppCounter by_label("app");
  CHECK(by_label.KeyOf(3, p) == "3|ns/gang/g");  // label absent: the gang
  p.labels.Set("app", "");
  CHECK(by_label.KeyOf(3, p) == "3|ns/gang/g");  // empty value: absent
  p.labels.Set("app", "llm");
  CHECK(by_label.KeyOf(3, p) == "3|ns/label/llm");
  CHECK(by_label.KeyOf(4, p) != by_label.KeyOf(3, p));  // per leaf
}

TEST_CASE("app_counter_tells_the_tree_when_an_application_starts_and_stops_running", "[placement][apps]") {
  QueueTree tree(ParseOrDie(kTeam));
  const QueueId leaf = LeafOf(tree, "root.team");
  AppCounter apps;
  const std::string a = "x|ns/Job/a", b = "x|ns/Job/b";
  apps.Count(&tree, leaf, a, 0, 2);  // two pods waiting
  CHECK(tree.queue(leaf).pending_apps == 1);
  CHECK(tree.queue(leaf).running_apps == 0);
  CHECK(apps.Known(a));
  CHECK_FALSE(apps.IsRunning(a));
  CHECK(tree.CheckRunningAppLimit(leaf).empty());

  apps.Count(&tree, leaf, a, 1, -1);  // one binds: running, no longer counted waiting
  CHECK(tree.queue(leaf).pending_apps == 0);
  CHECK(tree.queue(leaf).running_apps == 1);
  CHECK(apps.IsRunning(a));
  CHECK_FALSE(tree.CheckRunningAppLimit(leaf).empty());  // at max_running_apps: 1

  apps.Count(&tree, leaf, b, 0, 1);
  CHECK(tree.queue(leaf).pending_apps == 1);
  CHECK(apps.CheckAgainst(tree).empty());

  apps.Count(&tree, leaf, a, -1, 0);  // a's running pod ends; its other pod still waits
  CHECK(tree.queue(leaf).running_apps == 0);
  CHECK(tree.queue(leaf).pending_apps == 2);
  apps.Count(&tree, leaf, a, 0, -1);
  apps.Count(&tree, leaf, b, 0, -1);
  CHECK(tree.queue(leaf).pending_apps == 0);
  CHECK_FALSE(apps.Known(a));
  CHECK(apps.size() == 0);  // forgotten once empty: bounded by live applications
  CHECK(apps.CheckAgainst(tree).empty());
}

TEST_CASE("app_counter_check_reports_a_tree_out_of_step", "[placement][apps]") {
  QueueTree tree(ParseOrDie(kTeam));
  const QueueId leaf = LeafOf(tree, "root.team");
  AppCounter apps;
  apps.Count(&tree, leaf, "x|ns/Pod/p", 1, 0);
  tree.AddRunningApps(leaf, 1);  // counted twice behind the counter's back
  const std::vector<std::string> problems = apps.CheckAgainst(tree);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Catch::Contains("root.team: 2 running / 0 waiting") && Catch::Contains("make 1 / 0"));
}
