// /metrics: every series read from the published status and the loop's
// histograms, in Prometheus' text format, clean for `promtool check metrics`.
#include "server/metrics.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "server/store_health.h"
#include "tests/common/fixtures.h"

namespace drover {
namespace {

using testing::GpuNode;
using testing::GpuPod;

constexpr const char* kQueues = R"(
queues:
  children:
    - name: team
      guaranteed: {gpu: {A100: 4}}
      max: {gpu: {A100: 12}}
    - name: other
)";

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

// The status of a cluster with 6 A100 of team running (2 borrowed), one 2-GPU pod
// waiting, published once.
struct Fixture {
  std::unique_ptr<Engine> engine;
  StatusBoard board;
  Fixture() {
    absl::StatusOr<QueueConfig> config = ParseQueueConfig(kQueues, "test");
    REQUIRE(config.ok());
    engine = std::move(*Engine::Create(*config, EngineOptions{}));
    engine->Apply(ClusterEvent{ClusterEvent::Kind::kNodeUpsert, GpuNode("a-1", testing::kA100, 8), {}});
    Pod running = GpuPod("run", "root.team", 6);
    running.node_name = "a-1";
    running.phase = PodPhase::kRunning;
    engine->Apply(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, running});
    Pod wait = GpuPod("wait", "root.team", 4);
    wait.creation_ms = 1000;
    engine->Apply(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, wait});
    Pod elsewhere = GpuPod("elsewhere", "root.other", 1, "", /*tier=*/2);
    elsewhere.creation_ms = 1000;
    engine->Apply(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, elsewhere});
    StatusInputs in;
    in.synced = true;
    in.leader = true;
    in.config.revision = 3;
    in.cycle.cycles = 7;
    board.Publish(BuildStatus(*engine, 61000, in, BuildPendingSection(*engine, 61000)));
  }
};

}  // namespace

TEST_CASE("metrics_expose_queues_pending_work_gpus_and_process_state_in_base_units", "[server][metrics]") {
  Fixture f;
  Metrics metrics(&f.board);
  const std::string text = metrics.Render();
  INFO(text.substr(0, 4000));
  CHECK(Has(text, "drover_queue_guaranteed{queue=\"root.team\",resource=\"A100\"} 4"));
  CHECK(Has(text, "drover_queue_max{queue=\"root.team\",resource=\"A100\"} 12"));
  CHECK(Has(text, "drover_queue_allocated{queue=\"root.team\",resource=\"A100\"} 6"));
  CHECK(Has(text, "drover_queue_borrowed{queue=\"root.team\",resource=\"A100\"} 2"));
  CHECK(Has(text, "drover_queue_allocated{queue=\"root.team\",resource=\"cpu\"} 1"));  // cores
  CHECK(Has(text, "drover_queue_allocated{queue=\"root.team\",resource=\"memory\"} 1073741824"));  // bytes
  CHECK(Has(text, "drover_queue_pending_pods{queue=\"root.team\"} 1"));
  CHECK(Has(text, "drover_queue_pending_pods{queue=\"root.other\"} 1"));
  CHECK(Has(text, "drover_queue_running_pods{queue=\"root.team\",tier=\"1\"} 1"));
  CHECK(Has(text, "drover_pending_workloads{queue=\"root.team\",tier=\"1\",reason=\"Queued\"} 1"));
  CHECK(Has(text, "drover_pending_oldest_wait_seconds{queue=\"root.team\",tier=\"1\"} 60"));
  CHECK(Has(text, "drover_gpus{type=\"A100\",state=\"total\"} 8"));
  CHECK(Has(text, "drover_gpus{type=\"A100\",state=\"allocated\"} 6"));
  CHECK(Has(text, "drover_gpus{type=\"A100\",state=\"stranded\"} 2"));
  CHECK(Has(text, "drover_leader 1"));
  CHECK(Has(text, "drover_config_revision 3"));
  CHECK(Has(text, "drover_cycles_total 7"));
  CHECK(Has(text, "# TYPE drover_preemptions_total counter"));
  CHECK(text.find("ns/run") == std::string::npos);  // never a pod name
}

TEST_CASE("metrics_histograms_follow_cycles_and_binds", "[server][metrics]") {
  Fixture f;
  Metrics metrics(&f.board);
  Decisions d;
  d.binds.push_back(Binding{"ns/p", "uid", "a-1", {0}, "root.team", 0, 90000});
  metrics.ObserveCycle(Daemon::CycleRecord{*f.engine, d, 100000, 0.003});
  metrics.ObserveCycle(Daemon::CycleRecord{*f.engine, Decisions{}, 101000, 0.0004});
  const std::string text = metrics.Render();
  INFO(text.substr(0, 3000));
  CHECK(Has(text, "drover_scheduling_cycle_duration_seconds_count 2"));
  CHECK(Has(text, "drover_scheduling_cycle_duration_seconds_bucket{le=\"0.0005\"} 1"));
  CHECK(Has(text, "drover_pod_scheduling_wait_seconds_count{queue=\"root.team\",tier=\"0\"} 1"));
  CHECK(Has(text, "drover_pod_scheduling_wait_seconds_bucket{queue=\"root.team\",tier=\"0\",le=\"60\"} 0"));
  CHECK(Has(text, "drover_pod_scheduling_wait_seconds_bucket{queue=\"root.team\",tier=\"0\",le=\"120\"} 1"));
}

TEST_CASE("metrics_count_preemption_victims_by_kind_and_tier", "[server][metrics]") {
  Fixture f;
  Metrics metrics(&f.board);
  const std::string before = metrics.Render();
  // Every series is there at 0 before the first eviction, so rate() sees it.
  CHECK(Has(before, "drover_preemption_victims_total{kind=\"in_queue\",tier=\"0\"} 0"));
  CHECK(Has(before, "drover_preemption_victims_total{kind=\"reclaim\",tier=\"2\"} 0"));
  Decisions d;
  d.evictions.push_back(Eviction{"ns/run", "run", "preempted by ns/wait", "ns/wait"});            // same leaf queue
  d.evictions.push_back(Eviction{"ns/run", "run", "preempted by ns/elsewhere", "ns/elsewhere"});  // another queue
  d.evictions.push_back(Eviction{"ns/gone", "gone", "preempted by ns/wait", "ns/wait"});          // unknown: not counted
  metrics.ObserveCycle(Daemon::CycleRecord{*f.engine, d, 100000, 0.001});
  const std::string text = metrics.Render();
  INFO(text.substr(0, 6000));
  const std::string tier = std::to_string(f.engine->queues().TierFor(f.engine->snapshot().pod(f.engine->snapshot().FindPod("ns/run")).pod));
  CHECK(Has(text, "drover_preemption_victims_total{kind=\"in_queue\",tier=\"" + tier + "\"} 1"));
  CHECK(Has(text, "drover_preemption_victims_total{kind=\"reclaim\",tier=\"" + tier + "\"} 1"));
  CHECK(Has(text, "drover_preemption_victims_total{kind=\"reclaim\",tier=\"0\"} 0"));
}

TEST_CASE("metrics_say_the_store_is_degraded_and_how_long_its_writes_take", "[server][metrics]") {
  Fixture f;
  Metrics metrics(&f.board);
  StoreHealth health;
  metrics.AddCollector(StoreHealthCollector(&health));
  CHECK(Has(metrics.Render(), "drover_store_degraded 0"));
  CHECK(health.Write("timeline", [] { return absl::OkStatus(); }).ok());
  CHECK(Has(metrics.Render(), "drover_store_degraded 0"));
  CHECK_FALSE(health.Write("audit", [] { return absl::ResourceExhaustedError("disk full"); }).ok());
  std::string text = metrics.Render();
  INFO(text.substr(text.find("drover_store")));
  CHECK(Has(text, "drover_store_degraded 1"));
  CHECK(Has(text, "drover_store_write_failures_total 1"));
  CHECK(Has(text, "drover_store_write_duration_seconds_count{kind=\"timeline\"} 1"));
  CHECK(Has(text, "drover_store_write_duration_seconds_count{kind=\"audit\"} 1"));
  CHECK(health.Write("audit", [] { return absl::OkStatus(); }).ok());  // the next write that succeeds clears it
  text = metrics.Render();
  CHECK(Has(text, "drover_store_degraded 0"));
  CHECK(Has(text, "drover_store_write_duration_seconds_count{kind=\"audit\"} 2"));
}

TEST_CASE("metrics_pass_promtool_check_metrics", "[server][metrics][promtool]") {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    WARN("promtool not found (Debian package prometheus): skipping the lint of /metrics");
    return;
  }
  Fixture f;
  Metrics metrics(&f.board);
  StoreHealth health;
  metrics.AddCollector(StoreHealthCollector(&health));
  (void)health.Write("timeline", [] { return absl::OkStatus(); });
  Decisions d;
  d.binds.push_back(Binding{"ns/p", "uid", "a-1", {0}, "root.team", 1, 5000});
  d.evictions.push_back(Eviction{"ns/run", "run", "preempted by ns/wait", "ns/wait"});
  metrics.ObserveCycle(Daemon::CycleRecord{*f.engine, d, 100000, 0.003});
  char path[] = "/tmp/drover-metrics-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path) << metrics.Render();
  const std::string out_path = std::string(path) + ".out";
  const int rc = std::system(("promtool check metrics < " + std::string(path) + " > " + out_path + " 2>&1").c_str());
  std::ifstream in(out_path);
  const std::string report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO("promtool says: " << report);
  CHECK(rc == 0);
  CHECK(report.empty());
  std::remove(path);
  std::remove(out_path.c_str());
}

}  // namespace drover
