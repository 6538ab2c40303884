// The simulated cluster's input for droverd: the example manifests, given
// manifests, or a generated cluster and workload spread over the quota tree's
// leaf queues.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "queues/config.h"
#include "sim/simulator.h"

namespace drover {

struct SimInputOptions {
  std::string cluster_path;   // "" = examples/cluster.yaml
  std::string workload_path;  // "" = examples/workload.yaml
  std::string generate;       // "nodes=5000,pods=50000,seed=1": overrides the paths
  std::string scheduler_name = "drover";
};

// The path of examples/NAME: from the working directory if it is there, else
// from the source tree droverd was built from.
std::string ExamplePath(const std::string& name);

absl::StatusOr<SimInput> LoadSimInput(const SimInputOptions& options, const QueueConfig& config);

}  // namespace drover
