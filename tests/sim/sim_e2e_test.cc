#include <catch2/catch.hpp>

#include <cstdlib>

#include "core/strings.h"
#include "placement/engine.h"
#include "queues/config.h"
#include "server/sim_runner.h"
#include "sim/generator.h"
#include "sim/k8s_yaml.h"
#include "tests/common/fixtures.h"

using namespace drover;

namespace {
std::string Src(const std::string& rel) {
  const char* d = std::getenv("DROVER_SOURCE_DIR");
  return std::string(d ? d : ".") + "/" + rel;
}

RunReport RunExample(const std::string& policy) {
  auto cfg = LoadQueueConfigFile(Src("examples/queues.yaml"));
  REQUIRE(cfg.ok());
  SimInput in;
  REQUIRE(LoadSimYamlFile(Src("examples/cluster.yaml"), cfg->catalog, &in).ok());
  REQUIRE(LoadSimYamlFile(Src("examples/workload.yaml"), cfg->catalog, &in).ok());
  auto engine = Engine::Create(*cfg, EngineOptions{"drover", policy, 1});
  REQUIRE(engine.ok());
  SimCluster sim(std::move(in));
  SimRunOptions opts;
  opts.check_invariants_every_step = true;
  return RunSimulation(engine->get(), &sim, opts).report;
}
}  // namespace

TEST_CASE("example_run_completes_every_pod_without_over_commit", "[e2e]") {
  const RunReport r = RunExample("binpack");
  INFO(FormatReportTable(r));
  CHECK(r.violations.empty());
  // Every pod of examples/workload.yaml completes exactly once; a preempted pod
  // is resubmitted (as its controller would) and counts as a new submission.
  CHECK(r.completed == 470);
  CHECK(r.submitted == 470 + r.preemptions);
  CHECK(r.workload_pods == 470);
  CHECK(r.resubmitted == r.preemptions);
  const std::string table = FormatReportTable(r);
  CHECK(table.find(StrCat(r.submitted, "  (470 + ", r.resubmitted, " recreated after preemption")) != std::string::npos);
  CHECK(r.pending == 0);
  CHECK(r.rejected == 0);
}

TEST_CASE("same_inputs_give_the_same_report", "[e2e]") {
  RunReport a = RunExample("binpack");
  RunReport b = RunExample("binpack");
  a.wall_seconds = b.wall_seconds = 0;
  a.peak_rss_kb = b.peak_rss_kb = 0;
  CHECK(FormatReportJson(a) == FormatReportJson(b));
}

TEST_CASE("generated_workload_runs_with_invariants_holding", "[e2e]") {
  auto cfg = LoadQueueConfigFile(Src("examples/queues.yaml"));
  REQUIRE(cfg.ok());
  GenSpec spec;
  spec.nodes = 60;
  spec.pods = 800;
  spec.seed = 3;
  spec.queues = {"root.safety.inference", "root.recommendations", "root.research.scratch"};
  SimInput in = Generate(spec);
  const size_t pods = in.pods.size();
  auto engine = Engine::Create(*cfg, EngineOptions{});
  REQUIRE(engine.ok());
  SimCluster sim(std::move(in));
  SimRunOptions opts;
  opts.check_invariants_every_step = true;
  const RunReport r = RunSimulation(engine->get(), &sim, opts).report;
  INFO(FormatReportTable(r));
  CHECK(r.violations.empty());
  CHECK(static_cast<size_t>(r.submitted) == pods + static_cast<size_t>(r.preemptions));
  CHECK(r.completed + r.pending + r.preemptions == r.submitted);
  CHECK(r.scheduled == r.completed + r.preemptions);
}

TEST_CASE("sim_yaml_rejects_bad_documents_and_loads_nothing", "[sim]") {
  GpuCatalog catalog = GpuCatalog::Default();
  const char* good_node = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {allocatable: {cpu: '4', memory: 8Gi}}\n";
  SECTION("bad quantity names document, object and field") {
    SimInput in;
    std::string doc = std::string(good_node) +
                      "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\n"
                      "spec: {containers: [{name: c, resources: {requests: {cpu: 2x}}}]}\n";
    absl::Status s = LoadSimYaml(doc, "w.yaml", catalog, &in);
    REQUIRE_FALSE(s.ok());
    CHECK(std::string(s.message()).find("w.yaml: document 2 (Pod p)") != std::string::npos);
    CHECK(std::string(s.message()).find("spec.containers[0].resources.requests.cpu") != std::string::npos);
    CHECK(in.nodes.empty());  // nothing half-loaded
  }
  SECTION("a node over the per-node GPU limit names the node, field and value") {
    SimInput in;
    absl::Status s = LoadSimYaml(
        "kind: Node\nmetadata: {name: liar}\nstatus: {allocatable: {nvidia.com/gpu: '9200000000000000'}}\n", "c.yaml",
        catalog, &in);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(std::string(s.message()), Catch::Contains("Node liar"));
    CHECK_THAT(std::string(s.message()),
               Catch::Contains("status.allocatable: 9200000000000000 GPUs is above the limit of 1024 per node"));
  }
  SECTION("unknown kind") {
    SimInput in;
    absl::Status s = LoadSimYaml("kind: Service\nmetadata: {name: x}\n", "w.yaml", catalog, &in);
    REQUIRE_FALSE(s.ok());
    CHECK(std::string(s.message()).find("kind \"Service\"") != std::string::npos);
  }
  SECTION("malformed YAML gives line and column") {
    SimInput in;
    absl::Status s = LoadSimYaml("kind: Node\nmetadata: {name: [\n", "w.yaml", catalog, &in);
    REQUIRE_FALSE(s.ok());
    CHECK(std::string(s.message()).find("w.yaml: line") != std::string::npos);
  }
  SECTION("bad duration annotation") {
    SimInput in;
    absl::Status s = LoadSimYaml(
        "kind: Pod\nmetadata: {name: p, annotations: {sim.drover.io/duration: soon}}\nspec: {containers: [{name: c}]}\n",
        "w.yaml", catalog, &in);
    REQUIRE_FALSE(s.ok());
    CHECK(std::string(s.message()).find("sim.drover.io/duration") != std::string::npos);
  }
  SECTION("a good node loads") {
    SimInput in;
    REQUIRE(LoadSimYaml(good_node, "w.yaml", catalog, &in).ok());
    REQUIRE(in.nodes.size() == 1);
    CHECK(in.nodes[0].node.allocatable[Res::kMemory] == 8LL << 30);
  }
}

TEST_CASE("free_nodes_and_stranded_gpus_are_time_weighted_and_tell_binpack_from_spread", "[sim]") {
  // Two 4-GPU A100 nodes. Pod a (1 GPU) runs [0, 1h); pod b (1 GPU) runs [30m, 1h).
  // binpack puts b beside a: one node free all along; 3 idle GPUs beside a for
  // 30 min, then 2: stranded mean 2.5. spread puts b on the other node: free
  // nodes 1 then 0 (mean 0.5), stranded 3 then 6 (mean 4.5).
  std::string yaml;
  for (const char* name : {"gpu-a", "gpu-b"}) {
    yaml += StrCat("---\napiVersion: v1\nkind: Node\nmetadata:\n  name: ", name,
                   "\n  labels: {nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB}\n"
                   "status:\n  allocatable: {cpu: '64', memory: 512Gi, pods: '110', nvidia.com/gpu: '4'}\n");
  }
  auto pod = [](const char* name, const char* at, const char* duration) {
    return StrCat("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: ", name,
                  "\n  namespace: default\n  annotations: {sim.drover.io/submit-at: '", at,
                  "', sim.drover.io/duration: '", duration,
                  "'}\nspec:\n  schedulerName: drover\n  containers:\n  - name: c\n    resources:\n"
                  "      requests: {cpu: '1', memory: 1Gi, nvidia.com/gpu: '1'}\n"
                  "      limits: {nvidia.com/gpu: '1'}\n");
  };
  yaml += pod("a", "0s", "3600s");
  yaml += pod("b", "1800s", "1800s");
  auto run = [&](const std::string& policy) {
    QueueConfig cfg = DefaultQueueConfig();
    SimInput in;
    REQUIRE(LoadSimYaml(yaml, "test.yaml", cfg.catalog, &in).ok());
    auto engine = Engine::Create(cfg, EngineOptions{"drover", policy, 1});
    REQUIRE(engine.ok());
    SimCluster sim(std::move(in));
    return RunSimulation(engine->get(), &sim, SimRunOptions{}).report;
  };
  const RunReport packed = run("binpack");
  INFO(FormatReportTable(packed));
  REQUIRE(packed.completed == 2);
  CHECK(packed.gpu_nodes_free_mean == Approx(1.0));
  CHECK(packed.stranded_gpus_mean == Approx(2.5));
  const RunReport spread = run("spread");
  INFO(FormatReportTable(spread));
  REQUIRE(spread.completed == 2);
  CHECK(spread.gpu_nodes_free_mean == Approx(0.5));
  CHECK(spread.stranded_gpus_mean == Approx(4.5));
}

TEST_CASE("simulator_runs_a_cycle_when_the_preemption_delay_ends_with_no_event", "[e2e][preemption]") {
  // Nothing completes and nothing arrives after t = 1 s: only the engine's wake-up
  // can bring the reclaim about, at 1 s + the delay.
  EngineOptions o;
  o.reservation_after_ms = 0;
  o.preemption_delay_ms = 45 * 1000;
  auto engine = testing::MakeEngine(testing::kTwoTeamsAndScratch, o);
  SimInput in;
  in.nodes.push_back(SimNode{testing::GpuNode("a100-0", testing::kA100, 8)});
  in.nodes.push_back(SimNode{testing::GpuNode("a100-1", testing::kA100, 8)});
  in.pods.push_back(SimPod{testing::GpuPod("b0", "team-b", 8, "", 2), 0, -1});
  in.pods.push_back(SimPod{testing::GpuPod("b1", "team-b", 8, "", 2), 0, -1});
  in.pods.push_back(SimPod{testing::GpuPod("a", "team-a", 4), 1000, 60 * 1000});
  SimCluster sim(std::move(in));
  SimRunOptions run;
  run.until_ms = 10 * 60 * 1000;
  run.check_invariants_every_step = true;
  const SimRunResult r = RunSimulation(engine.get(), &sim, run);
  CHECK(r.report.violations.empty());
  CHECK(r.report.preemptions == 1);
  int64_t bound_ms = -1;
  for (const PodRecord& rec : sim.records()) {
    if (rec.key == "ns/a") bound_ms = rec.bound_ms;
  }
  // Evicted at 46 s; the victim's pod is gone at once in the simulator, so the
  // preemptor binds in the same instant.
  CHECK(bound_ms == 46 * 1000);
}

TEST_CASE("report_groups_other_schedulers_and_has_no_mean_without_time", "[sim][report]") {
  // Pods without durations, all at time 0, and two pods for another scheduler.
  constexpr const char* kYaml = R"(
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB}}
status: {allocatable: {cpu: "64", memory: 512Gi, nvidia.com/gpu: "8", pods: "110"}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns, annotations: {drover.io/gpu-type: A100}}
spec:
  schedulerName: drover
  containers: [{name: m, resources: {limits: {nvidia.com/gpu: "4"}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: ns}
spec:
  containers: [{name: m, resources: {requests: {cpu: "1"}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: ns}
spec:
  schedulerName: other
  containers: [{name: m, resources: {requests: {cpu: "1"}}}]
)";
  QueueConfig cfg = drover::testing::ParseOrDie("queues: {max: {gpu: {A100: 6}}}");
  SimInput in;
  REQUIRE(LoadSimYaml(kYaml, "w.yaml", cfg.catalog, &in).ok());
  auto engine = Engine::Create(cfg, EngineOptions{});
  REQUIRE(engine.ok());
  SimCluster sim(std::move(in));
  const RunReport r = RunSimulation(engine->get(), &sim, SimRunOptions{}).report;
  const std::string table = FormatReportTable(r);
  INFO(table);
  CHECK(r.submitted == 1);
  CHECK(r.pending == 0);
  CHECK(r.other_schedulers == std::map<std::string, int64_t>{{"default-scheduler", 1}, {"other", 1}});
  CHECK(table.find("pods of other schedulers           2  (default-scheduler 1, other 1; left alone") !=
        std::string::npos);
  CHECK(table.find("no reason recorded") == std::string::npos);
  CHECK_FALSE(r.gpu_alloc_mean_defined);
  CHECK(r.gpu_alloc_end == Approx(0.5));
  CHECK(table.find("at end 50.0%") != std::string::npos);
  const std::string json = FormatReportJson(r);
  CHECK(json.find("\"mean\":null") != std::string::npos);
  CHECK(json.find("\"other_schedulers\":{\"default-scheduler\":1,\"other\":1}") != std::string::npos);
  // Quotas are objects of GPUs per type.
  CHECK(json.find("\"max_gpus\":{\"A100\":6.0}") != std::string::npos);
  CHECK(json.find("\"peak_usage_gpus\":{\"A100\":4.0}") != std::string::npos);
}
