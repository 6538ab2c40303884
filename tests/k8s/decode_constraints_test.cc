// Pod affinity, anti-affinity and topology spread constraints decoded from pod
// JSON (k8s/decode_constraints.cc); bad values reject the pod naming the field.
#include <catch2/catch.hpp>
#include <string>

#include "core/strings.h"
#include "k8s/decode.h"

namespace drover::k8s {
namespace {

std::string PodJson(const std::string& spec_extra) {
  return StrCat(R"({"metadata": {"name": "w-0", "namespace": "ml", "labels": {"app": "w", "job": "j1"}},
  "spec": {"schedulerName": "drover", "containers": [{"name": "c"}])",
                spec_extra, "}}");
}

constexpr const char* kConstraints = R"(,
  "affinity": {
    "podAffinity": {
      "requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "topology.kubernetes.io/zone",
         "namespaces": ["ml", "infra"]}],
      "preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 50, "podAffinityTerm": {"labelSelector": {}, "topologyKey": "example.com/rack",
                                          "namespaceSelector": {}}}]
    },
    "podAntiAffinity": {
      "requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["w"]},
                                                {"key": "tier", "operator": "DoesNotExist"}]},
         "topologyKey": "kubernetes.io/hostname", "matchLabelKeys": ["job"], "mismatchLabelKeys": ["absent"]}]
    }
  },
  "topologySpreadConstraints": [
    {"maxSkew": 2, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
     "labelSelector": {"matchLabels": {"app": "w"}}, "matchLabelKeys": ["job"], "minDomains": 3,
     "nodeAffinityPolicy": "Ignore", "nodeTaintsPolicy": "Honor"},
    {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
     "labelSelector": null}
  ])";

}  // namespace

TEST_CASE("decode_pod_reads_pod_affinity_anti_affinity_and_spread", "[k8s][decode]") {
  Decoder dec;
  absl::StatusOr<Pod> pod = dec.DecodePod(PodJson(kConstraints));
  REQUIRE(pod.ok());
  const PodConstraints& c = pod->constraints;
  CHECK(c.error.empty());
  REQUIRE(c.affinity.size() == 1);
  CHECK(c.affinity[0].topology_key == "topology.kubernetes.io/zone");
  CHECK(c.affinity[0].namespaces == std::vector<std::string>{"ml", "infra"});
  CHECK(c.affinity[0].selector.match_labels == std::vector<std::pair<std::string, std::string>>{{"app", "cache"}});
  REQUIRE(c.preferred_affinity.size() == 1);
  CHECK(c.preferred_affinity[0].weight == 50);
  CHECK(c.preferred_affinity[0].selector.present);          // {} = every pod
  CHECK(c.preferred_affinity[0].namespace_selector.present);  // {} = every namespace
  REQUIRE(c.anti_affinity.size() == 1);
  const auto& ex = c.anti_affinity[0].selector.match_expressions;
  // matchLabelKeys merged as `job In [j1]`; the absent mismatch key is ignored.
  REQUIRE(ex.size() == 3);
  CHECK(ex[1].op == LabelSelector::Requirement::Op::kDoesNotExist);
  CHECK(ex[2].key == "job");
  CHECK(ex[2].values == std::vector<std::string>{"j1"});
  REQUIRE(c.spread.size() == 2);
  CHECK(c.spread[0].max_skew == 2);
  CHECK(c.spread[0].do_not_schedule);
  CHECK(c.spread[0].min_domains == 3);
  CHECK_FALSE(c.spread[0].honor_node_affinity);
  CHECK(c.spread[0].honor_taints);
  CHECK(c.spread[0].selector.match_expressions.size() == 1);  // job In [j1]
  CHECK_FALSE(c.spread[1].do_not_schedule);
  CHECK_FALSE(c.spread[1].selector.present);  // null selects nothing
}

TEST_CASE("decode_pod_with_bad_constraint_values_keeps_the_pod_and_names_the_field", "[k8s][decode]") {
  struct Case {
    std::string extra;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"(, "topologySpreadConstraints": [{"maxSkew": 0, "topologyKey": "z", "whenUnsatisfiable": "DoNotSchedule"}])",
       "spec.topologySpreadConstraints[0].maxSkew: \"0\" must be at least 1"},
      {R"(, "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "z", "whenUnsatisfiable": "Maybe"}])",
       "spec.topologySpreadConstraints[0].whenUnsatisfiable: \"Maybe\" is not DoNotSchedule or ScheduleAnyway"},
      {R"(, "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
          {"labelSelector": {"matchExpressions": [{"key": "a", "operator": "Near", "values": ["x"]}]}, "topologyKey": "h"}]}})",
       "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0]"
       ".operator: \"Near\" is not In, NotIn, Exists or DoesNotExist"},
      {R"(, "affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {}}]}})",
       "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: \"\" must not be empty"},
      {R"(, "affinity": {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
          {"weight": 1000, "podAffinityTerm": {"labelSelector": {}, "topologyKey": "h"}}]}})",
       "preferredDuringSchedulingIgnoredDuringExecution[0].weight: \"101\" must be in 1..100"},
  };
  for (const Case& c : cases) {
    Decoder dec;
    absl::StatusOr<Pod> pod = dec.DecodePod(PodJson(c.extra));
    INFO(c.extra);
    REQUIRE(pod.ok());  // still a pod: the engine rejects it with the reason
    CHECK_THAT(pod->intent.invalid, Catch::Contains(c.message));
    CHECK_THAT(pod->intent.invalid, Catch::StartsWith("pod ml/w-0: "));
  }
}

TEST_CASE("decode_pod_bounds_the_number_of_terms", "[k8s][decode]") {
  std::string terms;
  for (size_t i = 0; i < kMaxConstraintTerms + 10; ++i) {
    StrAppend(&terms, i ? "," : "", R"({"labelSelector": {}, "topologyKey": "h"})");
  }
  Decoder dec;
  absl::StatusOr<Pod> pod = dec.DecodePod(
      PodJson(StrCat(R"(, "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [)", terms, "]}}")));
  REQUIRE(pod.ok());
  CHECK(pod->constraints.anti_affinity.size() == kMaxConstraintTerms);
  CHECK_THAT(pod->intent.invalid, Catch::Contains("is more than the limit of 32"));
}

}  // namespace drover::k8s
