// Simulator YAML reads the same pod (anti-)affinity and spread constraints as k8s/
// (sim/yaml_constraints.cc); values are judged by the same core function.
#include <catch2/catch.hpp>
#include <string>

#include "core/gpu_catalog.h"
#include "sim/k8s_yaml.h"
#include "sim/simulator.h"

namespace drover {
namespace {

constexpr const char* kPod = R"(
kind: Pod
metadata: {name: w-0, namespace: ml, labels: {app: w, job: j1}}
spec:
  schedulerName: drover
  containers: [{name: c}]
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        - labelSelector: {matchLabels: {app: cache}}
          topologyKey: topology.kubernetes.io/zone
          namespaces: [ml, infra]
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        - labelSelector:
            matchExpressions:
              - {key: app, operator: In, values: [w]}
          topologyKey: kubernetes.io/hostname
          matchLabelKeys: [job]
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 10
          podAffinityTerm: {labelSelector: {}, topologyKey: example.com/rack}
  topologySpreadConstraints:
    - {maxSkew: 2, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule,
       labelSelector: {matchLabels: {app: w}}, minDomains: 3, nodeTaintsPolicy: Honor}
)";

}  // namespace

TEST_CASE("sim_yaml_reads_pod_affinity_anti_affinity_and_spread", "[sim][yaml]") {
  GpuCatalog catalog;
  SimInput in;
  REQUIRE(LoadSimYaml(kPod, "w.yaml", catalog, &in).ok());
  REQUIRE(in.pods.size() == 1);
  const Pod& p = in.pods[0].pod;
  CHECK(p.intent.invalid.empty());
  const PodConstraints& c = p.constraints;
  REQUIRE(c.affinity.size() == 1);
  CHECK(c.affinity[0].namespaces == std::vector<std::string>{"ml", "infra"});
  REQUIRE(c.anti_affinity.size() == 1);
  REQUIRE(c.anti_affinity[0].selector.match_expressions.size() == 2);  // + job In [j1]
  CHECK(c.anti_affinity[0].selector.match_expressions[1].values == std::vector<std::string>{"j1"});
  REQUIRE(c.preferred_anti_affinity.size() == 1);
  CHECK(c.preferred_anti_affinity[0].weight == 10);
  REQUIRE(c.spread.size() == 1);
  CHECK(c.spread[0].min_domains == 3);
  CHECK(c.spread[0].honor_taints);
  CHECK(c.spread[0].honor_node_affinity);
}

TEST_CASE("sim_yaml_bad_constraints_reject_the_pod_or_the_file", "[sim][yaml]") {
  GpuCatalog catalog;
  SECTION("a bad value: the pod loads and the engine will reject it with the field") {
    SimInput in;
    const std::string doc =
        "kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c}]\n  topologySpreadConstraints:\n"
        "    - {maxSkew: 1, topologyKey: z, whenUnsatisfiable: DoNotSchedule, nodeAffinityPolicy: Sometimes}\n";
    REQUIRE(LoadSimYaml(doc, "w.yaml", catalog, &in).ok());
    CHECK_THAT(in.pods[0].pod.intent.invalid,
               Catch::Contains("spec.topologySpreadConstraints[0].nodeAffinityPolicy: \"Sometimes\" is not Honor or Ignore"));
  }
  SECTION("a wrong shape fails the load naming the field") {
    SimInput in;
    const std::string doc =
        "kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c}]\n  topologySpreadConstraints:\n"
        "    - {maxSkew: lots, topologyKey: z}\n";
    absl::Status s = LoadSimYaml(doc, "w.yaml", catalog, &in);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(std::string(s.message()),
               Catch::Contains("(Pod p): spec.topologySpreadConstraints[0].maxSkew: \"lots\" is not an integer"));
  }
}

TEST_CASE("sim_yaml_namespaces_carry_labels_into_the_simulated_cluster", "[sim][yaml]") {
  GpuCatalog catalog;
  SimInput in;
  const std::string docs =
      "kind: Namespace\nmetadata: {name: team-a, labels: {team: a}}\n---\n"
      "kind: NamespaceList\nitems:\n  - kind: Namespace\n    metadata: {name: team-b}\n";
  REQUIRE(LoadSimYaml(docs, "ns.yaml", catalog, &in).ok());
  REQUIRE(in.namespaces.size() == 2);
  CHECK(*in.namespaces[0].labels.Get("team") == "a");
  CHECK(*in.namespaces[0].labels.Get("kubernetes.io/metadata.name") == "team-a");  // as the API server sets it
  CHECK(in.namespaces[1].labels.size() == 1);

  SimCluster sim(in);  // the namespaces are there before the first cycle
  std::vector<ClusterEvent> events;
  sim.Drain(&events);
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == ClusterEvent::Kind::kNamespaceUpsert);
  CHECK(events[0].ns == in.namespaces[0]);

  SECTION("bad labels fail the load naming the field") {
    SimInput bad;
    absl::Status s = LoadSimYaml("kind: Namespace\nmetadata: {name: t, labels: {team: [a]}}\n", "ns.yaml", catalog, &bad);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(std::string(s.message()), Catch::Contains("(Namespace t): metadata.labels.team: must be a string"));
    s = LoadSimYaml("kind: Namespace\nmetadata: {name: t, labels: {kubernetes.io/metadata.name: u}}\n", "ns.yaml",
                    catalog, &bad);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(std::string(s.message()), Catch::Contains("kubernetes.io/metadata.name: \"u\" differs from the name"));
    CHECK(bad.namespaces.empty());
  }
}

}  // namespace drover
