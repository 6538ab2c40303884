// A compact, seeded generator of large synthetic clusters and workloads: mixed
// GPU types (T4, A10G, L4, A100, H100 and CPU-only nodes) and a realistic mix of
// notebooks (shared or single GPUs, long), batch inference (one GPU of class a10+,
// short), training (multi-GPU, some gangs, long) and CPU pods. The same spec and
// seed always give the same input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/simulator.h"

namespace drover {

struct GenSpec {
  int nodes = 100;
  int pods = 1000;
  uint64_t seed = 1;
  int64_t span_ms = 4 * 3600 * 1000LL;  // arrivals spread over this window
  std::vector<std::string> queues;      // leaf queue paths, assigned round-robin-ish; empty = none
  std::string scheduler_name = "drover";
  std::string inference_gpu = "a10+";   // GPU type or class asked by batch inference pods
};

// Parses "nodes=5000,pods=50000,seed=7,hours=8". Errors name the key.
absl::StatusOr<GenSpec> ParseGenSpec(const std::string& text);
SimInput Generate(const GenSpec& spec);

}  // namespace drover
