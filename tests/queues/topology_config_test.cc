// The quota document's `topology` section: levels read in order, every bad value
// an error naming the field and the value; ResolveTopologyIntent judges a pod's
// drover.io/topology-* annotations against the levels.
#include <catch2/catch.hpp>
#include <string>

#include "core/model.h"
#include "queues/config.h"

namespace drover {
namespace {

std::string ErrorsOf(const std::string& yaml) {
  absl::StatusOr<QueueConfig> cfg = ParseQueueConfig(yaml, "q.yaml");
  REQUIRE_FALSE(cfg.ok());
  return std::string(cfg.status().message());
}

constexpr const char* kLevels = R"(
topology:
  levels:
    - {name: zone, node_label: topology.kubernetes.io/zone}
    - {name: rack, node_label: example.com/rack}
    - {name: nvlink, node_label: nvidia.com/gpu.clique}
)";

}  // namespace

TEST_CASE("topology_levels_are_read_widest_first", "[queues_config][topology]") {
  absl::StatusOr<QueueConfig> cfg = ParseQueueConfig(kLevels, "q.yaml");
  REQUIRE(cfg.ok());
  REQUIRE(cfg->topology_levels.size() == 3);
  CHECK(cfg->topology_levels[0] == TopologyLevel{"zone", "topology.kubernetes.io/zone"});
  CHECK(cfg->topology_levels[2] == TopologyLevel{"nvlink", "nvidia.com/gpu.clique"});
  CHECK(FindTopologyLevel(cfg->topology_levels, "rack") == 1);
  CHECK(FindTopologyLevel(cfg->topology_levels, "row") == -1);
  CHECK(ParseQueueConfig("{}", "q.yaml")->topology_levels.empty());
}

TEST_CASE("topology_level_errors_name_the_field_and_value", "[queues_config][topology]") {
  CHECK(ErrorsOf("topology: {levels: [{name: Rack, node_label: a/b}]}")
            .find("topology.levels[0].name: \"Rack\" is not a level name") != std::string::npos);
  CHECK(ErrorsOf("topology: {levels: [{name: rack, node_label: \"bad key!\"}]}")
            .find("topology.levels[0].node_label: \"bad key!\" is not a Kubernetes label key") != std::string::npos);
  CHECK(ErrorsOf("topology: {levels: [{name: rack}]}").find("topology.levels[0]: a level needs a node_label") !=
        std::string::npos);
  CHECK(ErrorsOf("topology: {levels: [{name: rack, node_label: a}, {name: rack, node_label: b}]}")
            .find("topology.levels[1].name: \"rack\" is given twice") != std::string::npos);
  CHECK(ErrorsOf("topology: {levels: [{name: zone, node_label: a}, {name: rack, node_label: a}]}")
            .find("topology.levels[1].node_label: \"a\" is already the label of level \"zone\"") != std::string::npos);
  CHECK(ErrorsOf("topology: {levles: []}").find("topology.levles: unknown key (did you mean \"levels\"?)") !=
        std::string::npos);
  CHECK(ErrorsOf("topology: {levels: [{name: rack, node_label: a, nodeLabel: b}]}")
            .find("topology.levels[0].nodeLabel: unknown key") != std::string::npos);
  std::string many = "topology: {levels: [";
  for (int i = 0; i < 9; ++i) many += "{name: l" + std::to_string(i) + ", node_label: k" + std::to_string(i) + "},";
  many += "]}";
  CHECK(ErrorsOf(many).find("topology.levels[8]: 9 levels listed; the limit is 8") != std::string::npos);
}

TEST_CASE("topology_intent_is_resolved_against_the_levels", "[queues_config][topology]") {
  const QueueConfig cfg = *ParseQueueConfig(kLevels, "q.yaml");
  Pod p;
  p.namespace_ = "ns";
  p.name = "w-0";
  int required = 7;
  int preferred = 7;
  CHECK(ResolveTopologyIntent(cfg.topology_levels, p, &required, &preferred).empty());
  CHECK(required == -1);
  CHECK(preferred == -1);
  p.intent.topology_required = "zone";
  p.intent.topology_preferred = "nvlink";
  CHECK(ResolveTopologyIntent(cfg.topology_levels, p, &required, &preferred).empty());
  CHECK(required == 0);
  CHECK(preferred == 2);
  p.intent.topology_preferred = "zone";
  CHECK(ResolveTopologyIntent(cfg.topology_levels, p, &required, &preferred) ==
        "pod ns/w-0: annotation drover.io/topology-preferred: \"zone\" must name a level narrower than "
        "drover.io/topology-required \"zone\" (levels run widest first in topology.levels)");
  p.intent.topology_preferred.clear();
  p.intent.topology_required = "rak";
  CHECK(ResolveTopologyIntent(cfg.topology_levels, p, &required, &preferred) ==
        "pod ns/w-0: annotation drover.io/topology-required: \"rak\" is not a topology level of the quota document "
        "(levels: zone, rack, nvlink)");
  CHECK(required == -1);
  CHECK(ResolveTopologyIntent({}, p, &required, &preferred).find("(it declares none: see topology.levels)") !=
        std::string::npos);
}

TEST_CASE("topology_annotation_syntax_is_checked_when_decoded", "[queues_config][topology]") {
  Pod p;
  p.namespace_ = "ns";
  p.name = "w-0";
  p.annotations.Set("drover.io/topology-required", "Rack!");
  DecodePodIntent(&p);
  CHECK(p.intent.invalid ==
        "pod ns/w-0: annotation drover.io/topology-required: \"Rack!\" is not a topology level name");
  p.annotations = Labels();
  p.annotations.Set("drover.io/topology-preferred", "rack");
  DecodePodIntent(&p);
  CHECK(p.intent.invalid.empty());
  CHECK(p.intent.topology_preferred == "rack");
  CHECK(p.intent.topology_required.empty());
}

}  // namespace drover
