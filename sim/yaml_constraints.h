// Reads a pod's inter-pod affinity, anti-affinity and topology spread constraints
// from simulator YAML (spec.affinity.podAffinity / podAntiAffinity,
// spec.topologySpreadConstraints) into core's PodConstraints. Only the structure:
// values are judged by FinishPodConstraints (drover::DecodePod), as for k8s/.
#pragma once

#include "absl/status/status.h"
#include "core/pod_constraints.h"
#include "yaml-cpp/yaml.h"

namespace drover {

// `spec` is the pod's spec map. Error (naming the field) on a wrong shape: a list
// that is a map, a number that is not one. Lists past the bounds of
// core/pod_constraints.h are not stored; `c->error` says so.
absl::Status ReadYamlPodConstraints(const YAML::Node& spec, PodConstraints* c);

}  // namespace drover
