// droverd --serve-speed end to end: the admin API answers over real gRPC while
// the simulated cluster runs in real time, and what it reports moves.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "tests/admin/admin_daemon.h"

namespace drover {
namespace {

namespace pb = admin::v1;
using namespace admin_testing;  // NOLINT: the tests share the daemon and its helpers

// Two 8-GPU A100 nodes; eight 2-GPU pods of root.research.llm submitted 2
// virtual minutes apart (all fit), each running 10 h.
SimInput Staggered() {
  SimInput in;
  for (const char* n : {"a-1", "a-2"}) in.nodes.push_back(SimNode{testing::GpuNode(n, testing::kA100, 8), 0, -1, -1});
  for (int i = 0; i < 8; ++i) {
    in.pods.push_back(SimPod{testing::GpuPod("job-" + std::to_string(i), "root.research.llm", 2), i * 120'000,
                             10 * 3600 * 1000});
  }
  return in;
}

TEST_CASE("serve_speed_runs_the_simulation_in_real_time_while_the_admin_api_answers", "[admin][e2e]") {
  // 600 virtual seconds per wall second: the last pod arrives ~1.4 s after the start.
  AdminDaemon d([](ProcessOptions* o) { o->sim.speed = 600; }, Staggered());
  pb::ListRunningResponse first;
  REQUIRE(d.stub().ListRunning(As("viewer-t").get(), pb::ListRunningRequest(), &first).ok());
  CHECK(first.total() < 8);  // the admin API answers before the workload has arrived
  // Poll (not a timing assertion: the bound only ends a hung test) until every pod runs.
  pb::ListRunningResponse now = first;
  for (int i = 0; i < 600 && now.total() < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(d.stub().ListRunning(As("viewer-t").get(), pb::ListRunningRequest(), &now).ok());
  }
  CHECK(now.total() == 8);
  CHECK(now.now_ms() > first.now_ms());  // the virtual clock moved between the reads
  CHECK(now.now_ms() >= 7 * 120'000);    // at least to the last pod's arrival
  // Writes go through the running loop too.
  pb::ConfigRevision active;
  REQUIRE(d.stub().GetConfig(As("viewer-t").get(), pb::GetConfigRequest(), &active).ok());
  pb::ApplyConfigRequest apply;
  apply.set_document(Replace(kQueues, "A100: 8}}\n    - name: safety", "A100: 16}}\n    - name: safety"));
  apply.set_expected_revision(active.revision());
  pb::ApplyConfigResponse applied;
  REQUIRE(d.stub().ApplyConfig(As("admin-t").get(), apply, &applied).ok());
  CHECK(applied.applied());
}

}  // namespace
}  // namespace drover
