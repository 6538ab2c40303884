// Loader for the "openb" CSV files of Alibaba's cluster-trace-gpu-v2023 (the FGD
// paper's trace): node lists and pod lists, as drover::Node / drover::Pod.
//
//   GpuCatalog catalog;
//   ASSIGN_OR_RETURN(std::vector<Node> nodes, openb::LoadNodes(dir + "/openb_node_list_gpu_node.csv", &catalog));
//   ASSIGN_OR_RETURN(std::vector<Pod> pods, openb::LoadPods(dir + "/openb_pod_list_default.csv", &catalog));
//
// Mapping. Nodes: `sn` -> name, `cpu_milli` -> cpu, `memory_mib` -> memory bytes,
// `gpu` devices of type `model` (added to the catalog by AddGpuTypes). Pods: all
// in namespace "openb", unbound and Pending whatever the trace's `pod_phase` (kept
// as a label); `num_gpu`=k with `gpu_milli`=1000 is k whole devices, `num_gpu`=1
// with `gpu_milli`<1000 a share of one device (annotation drover.io/gpu-milli);
// a non-empty `gpu_spec` ("A|B") becomes annotation drover.io/gpu-type naming the
// type, or a catalog class of those types named "A|B" (created on first use).
//
// Errors name the file and line: `pods.csv:17: cpu_milli "-5" is negative`,
// `pods.csv:1: unknown column "foo"`, `pods.csv:9: 4 fields, the header has 5`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/gpu_catalog.h"
#include "core/model.h"

namespace drover::openb {

// Label keys set on loaded objects.
inline constexpr std::string_view kGpuModelLabel = "alibabacloud.com/gpu-card-model";
inline constexpr std::string_view kQosLabel = "openb.alibaba.com/qos";
inline constexpr std::string_view kPhaseLabel = "openb.alibaba.com/phase";
inline constexpr std::string_view kNamespace = "openb";
// Pods a node admits (the trace's node YAML says `pods: 1001`).
inline constexpr int kPodsPerNode = 1001;

// Adds the trace's GPU models as catalog types, ranked by capability as far as it
// is public: P100 < T4 < V100M16 < V100M32 < A10 < G2 < G3 (G2/G3 are Alibaba's
// undisclosed codes for its 8-GPU training servers; G3 hosts the largest pods).
// Types already in the catalog are left alone.
absl::Status AddGpuTypes(GpuCatalog* catalog);

// Parses a node list. `source` names the file in errors. Adds the GPU types first.
absl::StatusOr<std::vector<Node>> ParseNodes(std::string_view csv, std::string_view source, GpuCatalog* catalog);
// Parses a pod list. `gpu_spec` types must be in the catalog (call AddGpuTypes or
// ParseNodes first); classes for multi-type specs are added to it.
absl::StatusOr<std::vector<Pod>> ParsePods(std::string_view csv, std::string_view source, GpuCatalog* catalog);

// Read a file and parse it; errors name the path.
absl::StatusOr<std::vector<Node>> LoadNodes(const std::string& path, GpuCatalog* catalog);
absl::StatusOr<std::vector<Pod>> LoadPods(const std::string& path, GpuCatalog* catalog);

}  // namespace drover::openb
