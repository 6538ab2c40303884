#include "server/sim_setup.h"

#include <algorithm>
#include <fstream>

#include "sim/generator.h"
#include "sim/k8s_yaml.h"

namespace drover {
namespace {

std::vector<std::string> LeafQueues(const QueueConfig& config) {
  std::vector<std::string> leaves;
  std::vector<const QueueSpec*> stack{&config.root};
  while (!stack.empty()) {
    const QueueSpec* q = stack.back();
    stack.pop_back();
    if (q->children.empty() && q != &config.root) leaves.push_back(q->path);
    for (const auto& c : q->children) stack.push_back(&c);
  }
  std::sort(leaves.begin(), leaves.end());
  return leaves;
}

}  // namespace

std::string ExamplePath(const std::string& name) {
  const std::string local = "examples/" + name;
  if (std::ifstream(local).good()) return local;
  return std::string(DROVER_SOURCE_DIR) + "/examples/" + name;
}

absl::StatusOr<SimInput> LoadSimInput(const SimInputOptions& o, const QueueConfig& config) {
  if (!o.generate.empty()) {
    absl::StatusOr<GenSpec> spec = ParseGenSpec(o.generate);
    if (!spec.ok()) return spec.status();
    spec->scheduler_name = o.scheduler_name;
    if (config.catalog.FindClass(spec->inference_gpu) == nullptr) spec->inference_gpu = "A10G";
    spec->queues = LeafQueues(config);  // spread generated pods over the leaf queues
    return Generate(*spec);
  }
  SimInput input;
  const std::string cluster = o.cluster_path.empty() ? ExamplePath("cluster.yaml") : o.cluster_path;
  const std::string workload = o.workload_path.empty() ? ExamplePath("workload.yaml") : o.workload_path;
  for (const std::string& path : {cluster, workload}) {
    if (absl::Status s = LoadSimYamlFile(path, config.catalog, &input); !s.ok()) return s;
  }
  return input;
}

}  // namespace drover
