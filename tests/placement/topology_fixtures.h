// Builders for pod (anti-)affinity and topology spread tests: nodes with zone and
// rack labels, selectors, terms and constraints as a decoder would fill them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/model.h"
#include "tests/common/fixtures.h"

namespace drover::testing {

inline constexpr const char* kZoneKey = "topology.kubernetes.io/zone";
inline constexpr const char* kHostKey = "kubernetes.io/hostname";
inline constexpr const char* kRackKey = "example.com/rack";

// A quota document with one leaf queue `team`.
inline constexpr const char* kOneTeam = "queues:\n  children:\n    - name: team\n";

// A quota document with one leaf queue `team` and the topology levels zone (kZoneKey)
// and rack (kRackKey), for topology-aware gangs.
inline constexpr const char* kZonesAndRacks = R"(
topology:
  levels:
    - {name: zone, node_label: topology.kubernetes.io/zone}
    - {name: rack, node_label: example.com/rack}
queues:
  children:
    - name: team
)";

// An A100 node of `gpus` in `zone` ("" = no zone label) and `rack` ("" = none).
inline Node ZoneNode(const std::string& name, const std::string& zone, int gpus = 8, const std::string& rack = "") {
  Node n = GpuNode(name, kA100, gpus);
  if (!zone.empty()) n.labels.Set(kZoneKey, zone);
  if (!rack.empty()) n.labels.Set(kRackKey, rack);
  return n;
}

inline LabelSelector MatchLabel(const std::string& key, const std::string& value) {
  LabelSelector s;
  s.present = true;
  s.match_labels.emplace_back(key, value);
  return s;
}

inline PodAffinityTerm Term(LabelSelector sel, const std::string& topology_key) {
  PodAffinityTerm t;
  t.selector = std::move(sel);
  t.topology_key = topology_key;
  return t;
}

inline SpreadConstraint Spread(int max_skew, const std::string& key, LabelSelector sel, bool hard = true) {
  SpreadConstraint c;
  c.max_skew = max_skew;
  c.topology_key = key;
  c.when_unsatisfiable = hard ? "DoNotSchedule" : "ScheduleAnyway";
  c.selector = std::move(sel);
  return c;
}

// A one-GPU pod in `queue` labelled app=`app`.
inline Pod AppPod(const std::string& name, const std::string& app, int gpus = 1, const std::string& queue = "team") {
  Pod p = GpuPod(name, queue, gpus);
  p.labels.Set("app", app);
  return p;
}

}  // namespace drover::testing
