// The process object on the simulated cluster: quota documents that change at
// virtual times, and the status it publishes.
#include "server/process.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "tests/common/fixtures.h"

namespace drover {
namespace {

std::string WriteTemp(const std::string& text) {
  char tmpl[] = "/tmp/drover-process-XXXXXX";
  const int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(tmpl) << text;
  return tmpl;
}

std::string TeamMax(int a100) {
  return "queues:\n  children:\n    - name: team\n      max: {gpu: {A100: " + std::to_string(a100) + "}}\n";
}

// Two 8-GPU A100 nodes; 1-GPU pods of root.team: four at 0 that run 10 minutes,
// four at 2 h that run 10 minutes.
SimInput Workload() {
  SimInput in;
  for (const char* n : {"a-1", "a-2"}) in.nodes.push_back(SimNode{testing::GpuNode(n, testing::kA100, 8), 0, -1, -1});
  for (int i = 0; i < 8; ++i) {
    SimPod p{testing::GpuPod("p" + std::to_string(i), "root.team", 1), i < 4 ? 0 : 2 * 3600 * 1000, 600 * 1000};
    in.pods.push_back(std::move(p));
  }
  return in;
}

// Runs the workload; `status` gets the status published at the end.
absl::StatusOr<SimRunResult> Run(const std::string& initial, std::vector<TimedConfig> timed,
                                 std::shared_ptr<const ClusterStatus>* status) {
  ProcessOptions o;
  o.queues_path = initial;
  o.sim_configs = std::move(timed);
  o.sim.check_invariants_every_step = true;
  Process p(o);
  absl::StatusOr<QueueConfig> config = p.LoadQueues();
  REQUIRE(config.ok());
  absl::StatusOr<SimRunResult> r = p.RunSimulated(*std::move(config), Workload());
  *status = p.board().Get();
  return r;
}

TEST_CASE("a_lowered_max_at_a_virtual_time_admits_nothing_new", "[server][process][config]") {
  const std::string initial = WriteTemp(TeamMax(16));
  const std::string closed = WriteTemp(TeamMax(0));
  std::shared_ptr<const ClusterStatus> s;
  absl::StatusOr<SimRunResult> r = Run(initial, {TimedConfig{3600 * 1000, closed}}, &s);
  REQUIRE(r.ok());
  CHECK(s->config.revision == 2);
  INFO(FormatReportTable(r->report));
  CHECK(r->report.violations.empty());
  CHECK(r->report.completed == 4);  // the first four, before the change
  // The later four wait under max 0 (explained as never fitting its queue's max).
  CHECK(r->report.pending == 4);
  const QueueStatus* team = s->FindQueue("root.team");
  REQUIRE(team != nullptr);
  CHECK(team->running_pods == 0);
  std::remove(initial.c_str());
  std::remove(closed.c_str());
}

TEST_CASE("a_raised_max_at_a_virtual_time_lets_waiting_pods_run", "[server][process][config]") {
  const std::string initial = WriteTemp(TeamMax(0));
  const std::string open = WriteTemp(TeamMax(16));
  std::shared_ptr<const ClusterStatus> s;
  absl::StatusOr<SimRunResult> r = Run(initial, {TimedConfig{3600 * 1000, open}}, &s);
  REQUIRE(r.ok());
  CHECK(s->config.revision == 2);
  INFO(FormatReportTable(r->report));
  CHECK(r->report.violations.empty());
  CHECK(r->report.completed == 8);
  CHECK(r->report.pending == 0);
  // The first four waited the hour until the change.
  CHECK(r->report.pending_s.max >= 3600);
  std::remove(initial.c_str());
  std::remove(open.c_str());
}

TEST_CASE("an_invalid_document_at_a_virtual_time_changes_nothing", "[server][process][config]") {
  const std::string initial = WriteTemp(TeamMax(16));
  const std::string invalid = WriteTemp("queues:\n  children:\n    - name: team\n      max: {gpu: {A100: -1}}\n");
  std::shared_ptr<const ClusterStatus> s;
  absl::StatusOr<SimRunResult> r = Run(initial, {TimedConfig{3600 * 1000, invalid}}, &s);
  REQUIRE(r.ok());
  CHECK(s->config.revision == 1);
  CHECK(s->config.last_error.find("-1") != std::string::npos);
  CHECK(r->report.completed == 8);
  CHECK(r->report.pending == 0);
  std::remove(initial.c_str());
  std::remove(invalid.c_str());
}

}  // namespace
}  // namespace drover
