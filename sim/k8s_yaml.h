// Reads simulation input from ordinary Kubernetes YAML: multi-document Node, Pod
// and Namespace manifests (or `kind: List` / NodeList / PodList / NamespaceList),
// as `kubectl get -o yaml` prints them, plus the sim.drover.io/* annotations for
// timing. Namespaces carry labels for namespaceSelector and exist from the start.
//
// All or nothing: the first bad document is reported with its file, document
// number, object name and field, and nothing from the input is returned.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/gpu_catalog.h"
#include "sim/simulator.h"

namespace drover {

// Appends the nodes, pods and namespaces of `yaml_text` to `input`. `source` names it in errors.
absl::Status LoadSimYaml(std::string_view yaml_text, std::string_view source, const GpuCatalog& catalog,
                         SimInput* input);
absl::Status LoadSimYamlFile(const std::string& path, const GpuCatalog& catalog, SimInput* input);

}  // namespace drover
