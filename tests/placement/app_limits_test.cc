// Application limits (queues/README.md, Limits): max_running_apps holds back pods
// of applications that have nothing running yet, never further pods of running
// ones; max_pending_apps rejects a new application beyond the limit, never more
// pods of one already waiting. An application is a gang, else the pod's
// controller, else the pod itself.
#include "tests/placement/harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

Pod JobPod(const std::string& job, int i, const std::string& queue, int gpus) {
  Pod p = GpuPod(job + "-" + std::to_string(i), queue, gpus);
  p.owner_kind = "Job";
  p.owner_name = job;
  return p;
}

}  // namespace

TEST_CASE("max_running_apps_holds_new_applications_not_running_ones", "[placement][queues]") {
  Harness h(R"(
queues:
  children:
    - name: team
      limits: {max_running_apps: 2}
)");
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  for (const char* job : {"job-a", "job-b", "job-c"}) h.AddPod(JobPod(job, 0, "team", 1));
  h.Cycle();
  // Room for all three, but only two applications may run.
  CHECK(h.Bound("ns/job-a-0"));
  CHECK(h.Bound("ns/job-b-0"));
  CHECK_FALSE(h.Bound("ns/job-c-0"));
  CHECK_THAT(h.engine->WhyPending("ns/job-c-0"),
             Catch::Contains("queue root.team at its limit of 2 running applications (max_running_apps)"));
  // A running application's further pods are not held back.
  h.AddPod(JobPod("job-a", 1, "team", 1));
  h.Cycle();
  CHECK(h.Bound("ns/job-a-1"));
  CHECK_FALSE(h.Bound("ns/job-c-0"));
  CHECK(h.engine->queues().queue(h.engine->queues().Find("root.team")).running_apps == 2);
  // job-a ends (both pods): job-c starts.
  h.DeletePod("ns/job-a-0");
  h.Cycle();
  CHECK_FALSE(h.Bound("ns/job-c-0"));  // job-a still has a pod running
  h.DeletePod("ns/job-a-1");
  h.Cycle();
  CHECK(h.Bound("ns/job-c-0"));
  // Nothing was preempted or reserved for the held application.
  CHECK(h.engine->stats().preemptions == 0);
  CHECK(h.engine->Reservations().empty());
}

TEST_CASE("max_running_apps_counts_a_gang_as_one_application_over_the_subtree", "[placement][queues]") {
  Harness h(R"(
queues:
  children:
    - name: org
      limits: {max_running_apps: 1}
      children:
        - name: team-x
        - name: team-y
)");
  h.AddNode(GpuNode("a100-0", kA100, 8));
  for (int i = 0; i < 3; ++i) h.AddPod(GangMember("train", i, 3, "org.team-x", 2));
  h.AddPod(GpuPod("solo", "org.team-y", 1));
  h.Cycle();
  // The gang is one application of org: its three pods run; team-y's pod is held by org's limit.
  for (int i = 0; i < 3; ++i) CHECK(h.Bound("ns/train-" + std::to_string(i)));
  CHECK_FALSE(h.Bound("ns/solo"));
  CHECK_THAT(h.engine->WhyPending("ns/solo"), Catch::Contains("queue root.org at its limit of 1 running applications"));
}

TEST_CASE("max_pending_apps_rejects_new_applications_beyond_the_limit", "[placement][queues]") {
  Harness h(R"(
queues:
  children:
    - name: team
      limits: {max_pending_apps: 1}
)");
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddPod(JobPod("big", 0, "team", 8));
  h.Cycle();
  REQUIRE(h.Bound("ns/big-0"));
  // The node is full: job-a waits (one waiting application), job-b is a second one.
  h.AddPod(JobPod("job-a", 0, "team", 4));
  h.AddPod(JobPod("job-b", 0, "team", 4));
  Decisions d = h.Cycle();
  bool rejected_b = false;
  for (const PendingReason& p : d.pending) {
    if (p.pod_key == "ns/job-b-0") {
      rejected_b = p.message.find("a new application, and queue root.team at its limit of 1 waiting applications") !=
                   std::string::npos;
    }
  }
  CHECK(rejected_b);
  // More pods of the waiting application are accepted (it is not new).
  h.AddPod(JobPod("job-a", 1, "team", 4));
  h.Cycle();
  CHECK_THAT(h.engine->WhyPending("ns/job-a-1"), !Catch::Contains("waiting applications"));
  CHECK(h.engine->queues().queue(h.engine->queues().Find("root.team")).pending_apps == 1);
  // When the node frees, job-a runs; job-b stays rejected (resubmit it), as pods over max_pending_pods do.
  h.DeletePod("ns/big-0");
  h.Cycle();
  CHECK(h.Bound("ns/job-a-0"));
  CHECK(h.Bound("ns/job-a-1"));
  CHECK_FALSE(h.Bound("ns/job-b-0"));
}

// A configuration reload re-counts applications from the pods, running ones first,
// so a waiting pod of a running application is never taken for a new one.
TEST_CASE("a_reload_does_not_reject_a_running_applications_pending_pod", "[placement][queues]") {
  constexpr const char* kLimited = R"(
queues:
  children:
    - name: team
      limits: {max_pending_apps: 1}
)";
  Harness h(kLimited);
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  // Snapshot slots end up: job-a-1 (waiting), job-b-0 (waiting), job-a-0 (running):
  // job-b-0 reuses the slot of a pod that has gone.
  Pod gone = GpuPod("gone", "", 8), other = GpuPod("other", "", 8);
  gone.scheduler_name = other.scheduler_name = "default-scheduler";  // not ours to count
  h.AddPod(JobPod("job-a", 1, "team", 8));
  h.AddRunning(gone, "a100-1");
  h.AddRunning(JobPod("job-a", 0, "team", 8), "a100-0");
  h.DeletePod("ns/gone");
  h.AddPod(JobPod("job-b", 0, "team", 8));          // the one waiting application
  h.AddRunning(other, "a100-1");                    // keeps a100-1 busy
  h.Cycle();
  REQUIRE_THAT(h.engine->WhyPending("ns/job-b-0"), !Catch::Contains("waiting applications"));
  REQUIRE(h.engine->ApplyConfig(ParseOrDie(kLimited)).empty());
  h.Cycle();
  CHECK_THAT(h.engine->WhyPending("ns/job-a-1"), !Catch::Contains("waiting applications"));
  CHECK_THAT(h.engine->WhyPending("ns/job-b-0"), !Catch::Contains("waiting applications"));
  CHECK(h.engine->queues().queue(h.engine->queues().Find("root.team")).pending_apps == 1);
}

// A pod held by max_running_apps holds nothing either: it does not reserve a node
// however long it waits (it could not use it).
TEST_CASE("a_pod_held_by_max_running_apps_reserves_no_node", "[placement][queues]") {
  Harness h(R"(
queues:
  children:
    - name: team
      limits: {max_running_apps: 1}
)");
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  h.AddPod(JobPod("job-a", 0, "team", 4));
  h.AddPod(JobPod("job-a", 1, "team", 4));
  h.AddPod(JobPod("job-a", 2, "team", 4));
  h.AddPod(JobPod("job-a", 3, "team", 4));  // both nodes full
  h.Cycle();
  h.AddPod(JobPod("job-b", 0, "team", 8));
  for (int i = 0; i < 5; ++i) h.Cycle(4 * 60 * 1000);  // well past reservation_after_ms
  CHECK_FALSE(h.Bound("ns/job-b-0"));
  CHECK(h.engine->Reservations().empty());
  CHECK_THAT(h.engine->WhyPending("ns/job-b-0"), Catch::Contains("running applications"));
}
