// The store in the process: revisions from the quota documents applied (and
// their numbering across a restart), audit records, timelines, usage samples
// and timers from the simulated cluster; a store that will not open leaves
// droverd scheduling, degraded.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "server/config_history.h"
#include "server/process.h"
#include "store/memory_store.h"
#include "store/rocks_store.h"
#include "tests/common/fixtures.h"

namespace drover {
namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/drover-store-int-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path + "/" + name) << text;
    return path + "/" + name;
  }
  std::string path;
};

std::string TeamMax(int a100) {
  return "queues:\n  children:\n    - name: team\n      max: {gpu: {A100: " + std::to_string(a100) + "}}\n";
}

// One 8-GPU A100 node; ten 1-GPU pods of root.team at 0 running 10 minutes (two wait).
SimInput Workload() {
  SimInput in;
  in.nodes.push_back(SimNode{testing::GpuNode("a-1", testing::kA100, 8), 0, -1, -1});
  for (int i = 0; i < 10; ++i) in.pods.push_back(SimPod{testing::GpuPod("p" + std::to_string(i), "root.team", 1), 0, 600 * 1000});
  return in;
}

SimRunResult RunSim(ProcessOptions o) {
  Process p(std::move(o));
  absl::StatusOr<QueueConfig> config = p.LoadQueues();
  REQUIRE(config.ok());
  absl::StatusOr<SimRunResult> r = p.RunSimulated(*std::move(config), Workload());
  REQUIRE(r.ok());
  return *std::move(r);
}

TEST_CASE("the_simulator_records_revisions_timelines_usage_and_says_so", "[server][store]") {
  TempDir dir;
  ProcessOptions o;
  o.queues_path = dir.Write("q.yaml", TeamMax(16));
  o.sim_configs = {TimedConfig{5 * 60 * 1000, dir.Write("q2.yaml", TeamMax(12))}};
  o.state_dir = dir.path + "/state";
  SimRunResult r = RunSim(o);
  CHECK_THAT(r.report.stored, Catch::Contains(dir.path + "/state: 2 configuration revisions (active 2)"));
  CHECK_THAT(r.report.stored, Catch::Contains("timeline events"));
  absl::StatusOr<std::unique_ptr<RocksStore>> s = RocksStore::Open(o.state_dir);
  REQUIRE(s.ok());
  Store& store = **s;
  absl::StatusOr<Revision> active = store.Active();
  REQUIRE(active.ok());
  CHECK(active->revision() == 2);
  CHECK(active->author() == "file:" + dir.path + "/q2.yaml");
  CHECK(active->source() == store::v1::REVISION_SOURCE_FILE);
  CHECK(active->sha256() == Sha256Hex(TeamMax(12)));
  AuditFilter config_changes;
  config_changes.target_prefix = "config";
  CHECK(store.ListAudit(config_changes)->size() == 2);
  std::vector<TimelineEvent> t = *store.Timeline("ns/p9", 100);
  REQUIRE(t.size() >= 3);
  CHECK(t.front().kind() == store::v1::TIMELINE_EVENT_KIND_SUBMITTED);
  bool bound = false, completed = false;
  for (const TimelineEvent& e : t) {
    bound = bound || (e.kind() == store::v1::TIMELINE_EVENT_KIND_BOUND && e.node() == "a-1" && e.devices_size() == 1);
    completed = completed || e.kind() == store::v1::TIMELINE_EVENT_KIND_COMPLETED;
  }
  CHECK(bound);
  CHECK(completed);
  const int64_t from = t.front().unix_ms() - 60'000;
  std::vector<UsageSample> usage = *store.QueryUsage({"root.team", "A100", from, from + 3'600'000, 60'000});
  REQUIRE(!usage.empty());
  CHECK(usage.front().allocated() == 8000);
  CHECK(usage.front().pending_count() == 2);
  CHECK(usage.front().effective_max() == 16000);
}

TEST_CASE("revision_numbers_continue_across_a_restart_and_an_unchanged_document_is_not_a_new_one", "[server][store]") {
  TempDir dir;
  ProcessOptions o;
  o.queues_path = dir.Write("q.yaml", TeamMax(16));
  o.state_dir = dir.path + "/state";
  RunSim(o);
  RunSim(o);  // the same document: still revision 1
  dir.Write("q.yaml", TeamMax(8));
  SimRunResult r = RunSim(o);
  CHECK_THAT(r.report.stored, Catch::Contains("2 configuration revisions (active 2)"));
}

TEST_CASE("a_store_that_does_not_open_leaves_the_simulation_running_degraded", "[server][store]") {
  TempDir dir;
  ProcessOptions o;
  o.queues_path = dir.Write("q.yaml", TeamMax(16));
  o.state_dir = dir.path + "/state";
  absl::StatusOr<std::unique_ptr<RocksStore>> holder = RocksStore::Open(o.state_dir);  // holds the lock
  REQUIRE(holder.ok());
  Process p(o);
  absl::StatusOr<QueueConfig> config = p.LoadQueues();
  REQUIRE(config.ok());
  absl::StatusOr<SimRunResult> r = p.RunSimulated(*std::move(config), Workload());
  REQUIRE(r.ok());
  CHECK(r->report.violations.empty());
  CHECK(p.store_health().degraded());
  const CheckResult check = p.store_health().Check();
  CHECK(check.ok);
  CHECK(check.degraded);
  CHECK_THAT(check.detail, Catch::Contains(o.state_dir) && Catch::Contains("another droverd holds this store"));
  CHECK_THAT(r->report.stored, Catch::Contains("in memory") && Catch::Contains("DEGRADED"));
}

TEST_CASE("config_history_applies_on_top_of_a_revision_another_writer_made", "[server][store]") {
  MemoryStore store;
  StoreHealth health;
  ConfigHistory history(&store, &health);
  CHECK(history.RecordInitial("a", "file:/q", store::v1::REVISION_SOURCE_FILE, 1) == 1);
  REQUIRE(store.Apply(1, Revision()).ok());  // another writer: revision 2
  CHECK(history.RecordApplied("b", "file:/q", store::v1::REVISION_SOURCE_FILE, 2).value_or(0) == 3);
  CHECK(store.Active()->document() == "b");
  CHECK_FALSE(health.degraded());
  history.RecordRefused("bad", "file:/q", "queues[0]: no name", 3);
  AuditFilter f;
  f.limit = 1;
  CHECK(store.ListAudit(f)->front().result() == "refused: queues[0]: no name");
}

TEST_CASE("store_health_is_degraded_after_a_failed_write_until_one_succeeds", "[server][store]") {
  StoreHealth health("/var/lib/drover");
  CHECK(health.Check().detail == "/var/lib/drover");
  health.Note(absl::ResourceExhaustedError("store \"/var/lib/drover\": cannot write: No space left on device"), "usage");
  CHECK(health.Check().degraded);
  CHECK(health.Check().ok);
  CHECK_THAT(health.Check().detail, Catch::Contains("usage: ") && Catch::Contains("No space left"));
  health.Note(absl::OkStatus(), "usage");
  CHECK_FALSE(health.degraded());
}

}  // namespace
}  // namespace drover

namespace drover {
namespace {

TEST_CASE("the_recorder_restores_stored_timers_for_the_engine", "[server][store]") {
  MemoryStore store;
  StoreHealth health;
  WorkloadTimers a;
  a.set_workload("team-a/p1");
  a.set_waiting_since_unix_ms(1'700'000'000'000);
  a.set_preemption_count(2);
  WorkloadTimers b;
  b.set_workload("team-b/p2");
  b.set_waiting_since_unix_ms(-1);
  b.set_preemption_count(1);
  REQUIRE(store.PutTimers({a, b}).ok());
  StoreRecorder recorder(&store, &health, RecorderOptions{}, nullptr);
  absl::flat_hash_map<std::string, PodTimers> t = recorder.LoadTimers();
  REQUIRE(t.size() == 2);
  CHECK(t["team-a/p1"].waiting_since_ms == 1'700'000'000'000);
  CHECK(t["team-a/p1"].preemptions == 2);
  CHECK(t["team-b/p2"].waiting_since_ms == -1);
  CHECK(recorder.counts().timers_restored == 2);
}

}  // namespace
}  // namespace drover
