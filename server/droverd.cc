// droverd: the Drover scheduler daemon.
//
// With no arguments it runs on the embedded simulated cluster with the example
// in examples/ and prints a report. With --kubeconfig or --in-cluster it
// schedules a real cluster (see k8s/README.md).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>

#include "CLI/CLI.hpp"
#include "placement/engine.h"
#include "queues/config.h"
#include "server/kube_runner.h"
#include "server/sim_runner.h"
#include "sim/duration.h"
#include "sim/generator.h"
#include "sim/k8s_yaml.h"
#include "spdlog/spdlog.h"

namespace {

std::string ExamplePath(const std::string& name) {
  const std::string local = "examples/" + name;
  if (std::ifstream(local).good()) return local;
  return std::string(DROVER_SOURCE_DIR) + "/examples/" + name;
}

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

int Fail(const std::string& what) {
  std::fprintf(stderr, "droverd: %s\n", what.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"droverd: GPU batch scheduler for Kubernetes (simulated cluster by default)"};
  std::string config_path, cluster_path, workload_path, generate, report_json, until, policy = "binpack";
  std::string scheduler_name = "drover";
  bool quiet = false;
  uint64_t seed = 1;
  std::string preemption_delay = "30s";
  app.add_option("--queues", config_path,
                 "quota-as-code YAML (default: examples/queues.yaml; with --generate: a single root queue)");
  app.add_option("--cluster", cluster_path, "simulation: Node manifests YAML (default: examples/cluster.yaml)");
  app.add_option("--workload", workload_path, "simulation: Pod manifests YAML (default: examples/workload.yaml)");
  app.add_option("--generate", generate, "simulation: synthetic cluster and workload, e.g. nodes=5000,pods=50000,seed=1");
  app.add_option("--policy", policy, "placement policy: binpack, spread, fgd, ...");
  app.add_option("--seed", seed, "seed for randomized policies");
  app.add_option("--preemption-delay", preemption_delay,
                 "how long a pod waits for capacity to free before it preempts (e.g. 30s; 0 = at once)");
  app.add_option("--until", until, "simulation: stop at this virtual time (e.g. 24h)");
  app.add_option("--report-json", report_json, "write the report as JSON to this file ('-' = stdout)");
  app.add_option("--scheduler-name", scheduler_name, "spec.schedulerName this daemon serves");
  app.add_flag("-q,--quiet", quiet, "no table on stdout");
  drover::KubeRunOptions kube;
  bool use_kube = false, in_cluster = false;
  app.add_option("--kubeconfig", kube.kubeconfig, "schedule a real cluster through this kubeconfig");
  app.add_option("--context", kube.context, "kubeconfig context (default: current-context)");
  app.add_flag("--in-cluster", in_cluster, "schedule the cluster this pod runs in (service account)");
  app.add_option("--leader-elect", kube.leader_elect, "use a coordination.k8s.io Lease so only one replica acts")
      ->default_val(true);
  app.add_option("--lease-namespace", kube.lease_namespace, "namespace of the Lease (default: the config's)");
  app.add_option("--lease-name", kube.lease_name, "name of the Lease");
  app.add_option("--identity", kube.identity, "leader election identity (default: hostname + random)");
  app.add_option("--health-port", kube.health_port, "port for /healthz and /readyz (-1 = off)");
  app.add_option("--kube-api-qps", kube.qps, "client-side QPS limit to the API server");
  app.add_option("--kube-api-burst", kube.burst, "client-side burst");
  app.add_option("--bind-workers", kube.bind_workers, "concurrent binds");
  CLI11_PARSE(app, argc, argv);

  // Generated clusters get a single root queue unless a queue file is given: the
  // example tree is sized for the 36-node example cluster.
  absl::StatusOr<drover::QueueConfig> config = drover::DefaultQueueConfig();
  if (!config_path.empty() || generate.empty()) {
    if (config_path.empty()) config_path = ExamplePath("queues.yaml");
    config = drover::LoadQueueConfigFile(config_path);
    if (!config.ok()) return Fail(std::string(config.status().message()));
  }

  drover::EngineOptions engine_options{scheduler_name, policy, seed};
  absl::StatusOr<int64_t> delay_ms = drover::ParseDurationMillis(preemption_delay);
  if (!delay_ms.ok()) return Fail("--preemption-delay: " + std::string(delay_ms.status().message()));
  if (*delay_ms < 0) return Fail("--preemption-delay: must not be negative, got \"" + preemption_delay + "\"");
  engine_options.preemption_delay_ms = *delay_ms;

  kube.in_cluster = in_cluster;
  use_kube = !kube.kubeconfig.empty() || in_cluster;
  if (use_kube) {
    absl::StatusOr<std::unique_ptr<drover::Engine>> engine =
        drover::Engine::Create(*config, engine_options);
    if (!engine.ok()) return Fail(std::string(engine.status().message()));
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    if (absl::Status s = drover::RunKubernetes(engine->get(), kube, g_stop); !s.ok()) {
      return Fail(std::string(s.message()));
    }
    return 0;
  }

  drover::SimInput input;
  if (!generate.empty()) {
    absl::StatusOr<drover::GenSpec> spec = drover::ParseGenSpec(generate);
    if (!spec.ok()) return Fail(std::string(spec.status().message()));
    spec->scheduler_name = scheduler_name;
    if (config->catalog.FindClass(spec->inference_gpu) == nullptr) spec->inference_gpu = "A10G";
    // Spread generated pods over the configured leaf queues.
    std::vector<const drover::QueueSpec*> stack{&config->root};
    while (!stack.empty()) {
      const drover::QueueSpec* q = stack.back();
      stack.pop_back();
      if (q->children.empty() && q != &config->root) spec->queues.push_back(q->path);
      for (const auto& c : q->children) stack.push_back(&c);
    }
    std::sort(spec->queues.begin(), spec->queues.end());
    input = drover::Generate(*spec);
  } else {
    if (cluster_path.empty()) cluster_path = ExamplePath("cluster.yaml");
    if (workload_path.empty()) workload_path = ExamplePath("workload.yaml");
    for (const std::string& path : {cluster_path, workload_path}) {
      if (absl::Status s = drover::LoadSimYamlFile(path, config->catalog, &input); !s.ok()) {
        return Fail(std::string(s.message()));
      }
    }
  }
  drover::SimRunOptions run;
  if (!until.empty()) {
    absl::StatusOr<int64_t> ms = drover::ParseDurationMillis(until);
    if (!ms.ok()) return Fail(std::string(ms.status().message()));
    run.until_ms = *ms;
  }
  absl::StatusOr<std::unique_ptr<drover::Engine>> engine =
      drover::Engine::Create(*config, engine_options);
  if (!engine.ok()) return Fail(std::string(engine.status().message()));
  spdlog::info("simulating {} nodes and {} pods with policy {}", input.nodes.size(), input.pods.size(), policy);
  drover::SimCluster sim(std::move(input));
  drover::SimRunResult result = drover::RunSimulation(engine->get(), &sim, run);
  if (!quiet) std::fputs(drover::FormatReportTable(result.report).c_str(), stdout);
  if (!report_json.empty()) {
    const std::string json = drover::FormatReportJson(result.report) + "\n";
    if (report_json == "-") {
      std::fputs(json.c_str(), stdout);
    } else if (std::ofstream out(report_json); out) {
      out << json;
    } else {
      return Fail("cannot write " + report_json);
    }
  }
  return result.report.violations.empty() ? 0 : 1;
}
