// ParseQueueConfig: every class of validation error, all errors in one pass, the
// example documents, max inheritance and GPU class expansion.
#include "queues/config.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace drover {
namespace {

// The error text of a document that must fail.
std::string ErrorsOf(std::string_view yaml) {
  absl::StatusOr<QueueConfig> cfg = ParseQueueConfig(yaml, "q.yaml");
  REQUIRE_FALSE(cfg.ok());
  CHECK(cfg.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(cfg.status().message());
}

QueueConfig MustParse(std::string_view yaml) {
  absl::StatusOr<QueueConfig> cfg = ParseQueueConfig(yaml, "q.yaml");
  INFO(cfg.status().message());
  REQUIRE(cfg.ok());
  return *std::move(cfg);
}

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')) + 1; }

const QueueSpec& Child(const QueueSpec& q, std::string_view name) {
  for (const QueueSpec& c : q.children) {
    if (c.name == name) return c;
  }
  FAIL("no child " << name << " in " << q.path);
  return q;
}

// The source tree: DROVER_SOURCE_DIR (set by ctest), else found from the working directory.
std::string SourceDir() {
  if (const char* dir = std::getenv("DROVER_SOURCE_DIR")) return dir;
  for (const char* dir : {".", "..", "../..", "../../.."}) {
    if (std::filesystem::exists(std::filesystem::path(dir) / "examples/queues-org.yaml")) return dir;
  }
  return ".";
}

GpuTypeMask Mask(const GpuCatalog& c, std::initializer_list<const char*> types) {
  GpuTypeMask m = 0;
  for (const char* t : types) {
    REQUIRE(c.FindType(t) != kNoGpuType);
    m |= GpuTypeMask{1} << c.FindType(t);
  }
  return m;
}

}  // namespace

TEST_CASE("valid_document_builds_paths_and_quantities", "[queues_config]") {
  const QueueConfig cfg = MustParse(R"(
queues:
  max: {cpu: 4000, memory: 32Ti}
  children:
    - name: safety
      weight: 2
      guaranteed: {cpu: "500m", memory: 4Ti, gpu: {A100: 16, T4: "0.5"}}
      limits: {max_running_pods: 500, max_pending_apps: 20}
      children:
        - name: prod
        - name: eval_v2
)");
  CHECK(cfg.root.name == "root");
  CHECK(cfg.root.path == "root");
  CHECK(cfg.root.max.cpu_millis == 4000000);
  CHECK(cfg.root.max.memory_bytes == int64_t{32} << 40);
  const QueueSpec& safety = Child(cfg.root, "safety");
  CHECK(safety.path == "root.safety");
  CHECK(safety.weight == 2.0);
  CHECK(safety.guaranteed.cpu_millis == 500);
  CHECK(safety.guaranteed.gpu_millis.at("A100") == 16000);
  CHECK(safety.guaranteed.gpu_millis.at("T4") == 500);
  CHECK(safety.limits.max_running_pods == 500);
  CHECK(safety.limits.max_pending_apps == 20);
  CHECK_FALSE(safety.limits.max_running_apps.has_value());
  CHECK(Child(safety, "prod").path == "root.safety.prod");
  CHECK(Child(safety, "eval_v2").path == "root.safety.eval_v2");
  CHECK(Child(safety, "prod").weight == 1.0);
  CHECK(cfg.default_tier == 1);
  CHECK(cfg.default_queue.empty());
}

TEST_CASE("policies_tiers_and_placement_are_read", "[queues_config]") {
  const QueueConfig cfg = MustParse(R"(
product_labels: [example.com/gpu-model]
tiers:
  default: 2
  priority_classes: {critical-inference: 0, batch-low: 2}
proportional:
  - {gpu_type: A100, cpu_per_gpu: 12, memory_per_gpu: 120Gi, action: charge}
  - {gpu_type: T4, cpu_per_gpu: 8}
placement:
  namespaces: {safety-prod: root.safety.prod}
  default_queue: root.scratch
  application_label: drover.io/application
queues:
  children:
    - {name: safety, children: [{name: prod}]}
    - {name: scratch}
)");
  CHECK(cfg.catalog.product_labels() == std::vector<std::string>{"example.com/gpu-model"});
  CHECK(cfg.default_tier == 2);
  CHECK(cfg.priority_class_tiers.at("critical-inference") == 0);
  REQUIRE(cfg.proportional.size() == 2);
  CHECK(cfg.proportional[0].gpu_type == "A100");
  CHECK(cfg.proportional[0].cpu_millis_per_gpu == 12000);
  CHECK(cfg.proportional[0].memory_bytes_per_gpu == int64_t{120} << 30);
  CHECK(cfg.proportional[0].action == ProportionalPolicy::Action::kCharge);
  CHECK(cfg.proportional[1].action == ProportionalPolicy::Action::kReject);
  CHECK_FALSE(cfg.proportional[1].memory_bytes_per_gpu.has_value());
  CHECK(cfg.namespace_queues.at("safety-prod") == "root.safety.prod");
  CHECK(cfg.default_queue == "root.scratch");
  CHECK(cfg.application_label == "drover.io/application");
}

TEST_CASE("malformed_yaml_is_an_error_with_line_and_column", "[queues_config]") {
  const std::string e = ErrorsOf("queues:\n  children: [\n    {name: a\n");
  CHECK_THAT(e, Catch::Contains("q.yaml:"));
  CHECK_THAT(e, Catch::Contains("invalid YAML"));
  CHECK_THAT(ErrorsOf("queues:\n  max: {cpu: 1\n  bad"), Catch::Matches("q\\.yaml:\\d+:\\d+: invalid YAML: .*"));
}

TEST_CASE("document_must_be_one_non_empty_mapping", "[queues_config]") {
  CHECK_THAT(ErrorsOf(""), Catch::Contains("q.yaml: the document is empty"));
  CHECK_THAT(ErrorsOf("# only a comment\n"), Catch::Contains("the document is empty"));
  CHECK_THAT(ErrorsOf("- a\n- b\n"), Catch::Contains("must be a mapping of sections, got a list"));
  CHECK_THAT(ErrorsOf("just text"), Catch::Contains("got a single value"));
  CHECK_THAT(ErrorsOf("queues: {}\n---\nqueues: {}\n"), Catch::Contains("expected one YAML document, found 2"));
}

TEST_CASE("unknown_keys_are_errors_with_a_suggestion", "[queues_config]") {
  SECTION("a typo in a queue") {
    const std::string e = ErrorsOf("queues:\n  children:\n    - name: safety\n      gaurnteed: {cpu: 1}\n");
    CHECK_THAT(e, Catch::Contains("q.yaml:4:7: root.safety.gaurnteed: unknown key (did you mean \"guaranteed\"?)"));
  }
  SECTION("at the top level") {
    CHECK_THAT(ErrorsOf("queue: {}\n"), Catch::Contains("queue: unknown key (did you mean \"queues\"?)"));
  }
  SECTION("nothing close: the known keys are listed") {
    CHECK_THAT(ErrorsOf("queues: {limits: {pods: 3}}\n"),
               Catch::Contains("root.limits.pods: unknown key (known keys: max_running_pods, max_pending_pods"));
  }
  SECTION("in every section") {
    const std::string e = ErrorsOf(R"(
gpu_types: [{name: X1, rank: 3, prodcts: [x]}]
gpu_classes: [{name: c, typs: [T4]}]
tiers: {defualt: 1}
proportional: [{gpu_type: T4, cpu_per_gpu: 1, actoin: reject}]
placement: {namespace: {}}
queues: {max: {gpus: {T4: 1}}}
)");
    CHECK_THAT(e, Catch::Contains("gpu_types[0].prodcts: unknown key (did you mean \"products\"?)"));
    CHECK_THAT(e, Catch::Contains("gpu_classes[0].typs: unknown key (did you mean \"types\"?)"));
    CHECK_THAT(e, Catch::Contains("tiers.defualt: unknown key (did you mean \"default\"?)"));
    CHECK_THAT(e, Catch::Contains("proportional[0].actoin: unknown key (did you mean \"action\"?)"));
    CHECK_THAT(e, Catch::Contains("placement.namespace: unknown key (did you mean \"namespaces\"?)"));
    CHECK_THAT(e, Catch::Contains("root.max.gpus: unknown key (did you mean \"gpu\"?)"));
  }
  SECTION("a key given twice") {
    CHECK_THAT(ErrorsOf("queues:\n  max: {cpu: 1}\n  max: {cpu: 2}\n"),
               Catch::Contains("root.max: key given twice (first at line 2)"));
  }
}

TEST_CASE("wrong_yaml_types_are_errors", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
gpu_types: {name: X}
queues:
  children:
    - name: a
      weight: {x: 1}
      max: {gpu: [A100]}
    - name: b
      children: {name: c}
)");
  CHECK_THAT(e, Catch::Contains("gpu_types: expected a list, got a mapping"));
  CHECK_THAT(e, Catch::Contains("root.a.weight: expected a single value, got a mapping"));
  CHECK_THAT(e, Catch::Contains("root.a.max.gpu: expected a mapping, got a list"));
  CHECK_THAT(e, Catch::Contains("root.b.children: expected a list, got a mapping"));
  CHECK_THAT(ErrorsOf("queues: [{name: a}]\n"), Catch::Contains("queues: expected the root queue"));
}

TEST_CASE("negative_and_malformed_quantities_are_errors", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
queues:
  children:
    - name: research
      max: {cpu: 12x, memory: -1Gi, gpu: {A100: "-3"}}
      guaranteed: {gpu: {T4: }}
)");
  CHECK_THAT(e, Catch::Contains("root.research.max.gpu.A100: \"-3\" is negative"));
  CHECK_THAT(e, Catch::Contains("root.research.max.cpu: \"12x\" is not a quantity"));
  CHECK_THAT(e, Catch::Contains("root.research.max.memory: \"-1Gi\" is negative"));
  CHECK_THAT(e, Catch::Contains("root.research.guaranteed.gpu.T4: missing value"));
  CHECK_THAT(ErrorsOf("queues: {max: {memory: 99999999Ei}}\n"), Catch::Contains("root.max.memory: \"99999999Ei\""));
}

TEST_CASE("unknown_gpu_types_are_errors", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
gpu_classes: [{name: big, types: [A100, H100]}]
proportional: [{gpu_type: H1OO, cpu_per_gpu: 4}]
queues:
  max: {gpu: {A1OO: 4, big: 2}}
)");
  CHECK_THAT(e, Catch::Contains("root.max.gpu.A1OO: \"A1OO\" is not a gpu type (did you mean \"A100\"?)"));
  CHECK_THAT(e, Catch::Contains("root.max.gpu.big: \"big\" is a gpu class; quotas are per gpu type"));
  CHECK_THAT(e, Catch::Contains("proportional[0].gpu_type: \"H1OO\" is not a gpu type (did you mean \"H100\"?)"));
}

TEST_CASE("queue_names_must_be_valid_and_unique_among_siblings", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
queues:
  name: top
  children:
    - name: Safety
    - name: trailing-
    - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
    - weight: 1
    - name: research
    - name: research
)");
  CHECK_THAT(e, Catch::Contains("root.name: \"top\": the top queue is always \"root\""));
  CHECK_THAT(e, Catch::Contains("root.children[0].name: \"Safety\" is not a queue name"));
  CHECK_THAT(e, Catch::Contains("root.children[1].name: \"trailing-\" is not a queue name"));
  CHECK_THAT(e, Catch::Contains("root.children[2].name: \"aaaa"));
  CHECK_THAT(e, Catch::Contains("root.children[3]: a queue needs a name"));
  CHECK_THAT(e, Catch::Contains("q.yaml:10:7: root.research: duplicate queue name \"research\" (a sibling at line 9"));
  CHECK(Lines(e) == 6);
}

TEST_CASE("weight_must_be_a_positive_number", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
queues:
  weight: 2
  children:
    - {name: a, weight: 0}
    - {name: b, weight: -1.5}
    - {name: c, weight: heavy}
)");
  CHECK_THAT(e, Catch::Contains("root.weight: weight does not apply to root"));
  CHECK_THAT(e, Catch::Contains("root.a.weight: \"0\" must be above 0"));
  CHECK_THAT(e, Catch::Contains("root.b.weight: \"-1.5\" must be above 0"));
  CHECK_THAT(e, Catch::Contains("root.c.weight: \"heavy\" is not a number"));
}

TEST_CASE("max_below_guaranteed_is_an_error", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
queues:
  children:
    - name: a
      guaranteed: {cpu: 8, memory: 64Gi, gpu: {A100: 4}}
      max: {cpu: 4, memory: 64Gi, gpu: {A100: 2}}
)");
  CHECK_THAT(e, Catch::Contains("root.a.max.cpu: 4 is below guaranteed 8"));
  CHECK_THAT(e, Catch::Contains("root.a.max.gpu.A100: 2 is below guaranteed 4"));
  CHECK(Lines(e) == 2);
}

TEST_CASE("children_guaranteed_may_not_add_up_above_the_parent", "[queues_config]") {
  SECTION("the parent sets guaranteed for the dimension") {
    const std::string e = ErrorsOf(R"(
queues:
  children:
    - name: safety
      guaranteed: {cpu: 10, gpu: {A100: 32}}
      children:
        - {name: prod, guaranteed: {cpu: 6, gpu: {A100: 24, T4: 100}}}
        - {name: eval, guaranteed: {cpu: 4, gpu: {A100: 24}}}
)");
    CHECK_THAT(e, Catch::Contains("root.safety.guaranteed.gpu.A100: the children's guaranteed add up to 48, "
                                  "above this queue's 32"));
    CHECK(Lines(e) == 1);  // cpu adds up exactly; T4 is not set on the parent
  }
  SECTION("a parent without guaranteed: the sum must fit its effective max") {
    const std::string e = ErrorsOf(R"(
queues:
  children:
    - name: safety
      max: {gpu: {A100: 16}}
      children:
        - {name: prod, guaranteed: {gpu: {A100: 10}}}
        - {name: eval, guaranteed: {gpu: {A100: 10}}}
)");
    CHECK_THAT(e, Catch::Contains("root.safety: the children's guaranteed gpu.A100 add up to 20, above the "
                                  "effective max 16 (from root.safety.max)"));
  }
  SECTION("grandchildren count through a parent without guaranteed") {
    const std::string e = ErrorsOf(R"(
queues:
  children:
    - name: org
      guaranteed: {memory: 1Ti}
      children:
        - name: team
          children:
            - {name: a, guaranteed: {memory: 768Gi}}
            - {name: b, guaranteed: {memory: 512Gi}}
)");
    CHECK_THAT(e, Catch::Contains("root.org.guaranteed.memory: the children's guaranteed add up to 1280Gi, "
                                  "above this queue's 1Ti"));
  }
}

TEST_CASE("max_is_inherited_from_the_nearest_ancestor_that_sets_it", "[queues_config]") {
  SECTION("a grandchild is bounded by the grandparent's max") {
    const std::string e = ErrorsOf(R"(
queues:
  max: {cpu: 100}
  children:
    - name: a
      children:
        - {name: b, guaranteed: {cpu: 150}, max: {cpu: 200, gpu: {H100: 1000}}}
)");
    CHECK_THAT(e, Catch::Contains("root.a.b.guaranteed.cpu: 150 is above the effective max 100 (from root.max)"));
    CHECK_THAT(e, Catch::Contains("root.a.b.max.cpu: 200 is above the effective max 100 (from root.max)"));
    CHECK(Lines(e) == 2);  // no ancestor sets H100: only the cluster bounds it
  }
  SECTION("a nearer max overrides a farther one") {
    const std::string e = ErrorsOf(R"(
queues:
  max: {gpu: {A100: 64}}
  children:
    - name: a
      max: {gpu: {A100: 8}}
      children:
        - {name: b, max: {gpu: {A100: 12}}}
)");
    CHECK_THAT(e, Catch::Contains("root.a.b.max.gpu.A100: 12 is above the effective max 8 (from root.a.max)"));
  }
  SECTION("an omitted max stays unset: the queue tree inherits it at run time") {
    const QueueConfig cfg = MustParse(R"(
queues:
  max: {gpu: {A100: 64}}
  children:
    - name: a
      max: {gpu: {A100: 8}}
      children:
        - {name: b, guaranteed: {gpu: {A100: 8}}}
)");
    const QueueSpec& b = Child(Child(cfg.root, "a"), "b");
    CHECK(b.max.empty());
    CHECK(Child(cfg.root, "a").max.gpu_millis.at("A100") == 8000);
  }
}

TEST_CASE("gpu_classes_expand_to_types_including_classes_of_classes", "[queues_config]") {
  const QueueConfig cfg = MustParse(R"(
gpu_types:
  - {name: RTX6000, rank: 40, products: [NVIDIA-RTX-6000-Ada-Generation]}
gpu_classes:
  - {name: train, types: [big, L40S]}
  - {name: a10+, min: A10}
  - {name: big, types: [A100, H100, H200]}
  - {name: small, types: [T4]}
  - {name: everything, types: [train, small, a10+]}
)");
  const GpuCatalog& c = cfg.catalog;
  CHECK(c.ResolveRequest("big").value() == Mask(c, {"A100", "H100", "H200"}));
  CHECK(c.ResolveRequest("train").value() == Mask(c, {"A100", "H100", "H200", "L40S"}));
  CHECK(c.ResolveRequest("a10+").value() ==
        Mask(c, {"A10", "A10G", "L4", "RTX6000", "L40S", "A100", "A800", "H100", "H800", "H200", "B200"}));
  CHECK(c.ResolveRequest("everything").value() == (c.ResolveRequest("a10+").value() | Mask(c, {"T4"})));
  CHECK(c.MaskToString(c.ResolveRequest("train").value()) == "L40S|A100|H100|H200");
}

TEST_CASE("gpu_class_cycles_and_unknown_members_are_errors", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
gpu_classes:
  - {name: a, types: [b]}
  - {name: b, types: [c, T4]}
  - {name: c, types: [a]}
  - {name: d, types: [A1000]}
  - {name: e, min: big}
  - {name: f, types: [T4], min: A10}
  - {name: g, types: []}
)");
  CHECK_THAT(e, Catch::Contains("gpu_classes[2].types[0]: gpu classes form a cycle: a -> b -> c -> a"));
  CHECK_THAT(e,
             Catch::Contains("gpu_classes[3].types[0]: \"A1000\" is not a gpu type or class (did you mean \"A100\"?)"));
  CHECK_THAT(e, Catch::Contains("gpu_classes[4].min: \"big\" is not a gpu type"));
  CHECK_THAT(e, Catch::Contains("gpu_classes[5]: gpu class \"f\" needs either types or min (not both)"));
  CHECK_THAT(e, Catch::Contains("gpu_classes[6].types: a class needs at least one type"));
  CHECK(Lines(e) == 5);
}

TEST_CASE("gpu_type_and_class_names_may_not_clash", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
gpu_types:
  - {name: X1, rank: 5}
  - {name: X1, rank: 6}
  - {name: a100, rank: 1}
  - {name: X2, rank: 7, products: [NVIDIA-L4]}
  - {name: X3}
gpu_classes:
  - {name: A100, types: [T4]}
  - {name: fast, types: [H100]}
  - {name: fast, types: [H200]}
)");
  CHECK_THAT(e, Catch::Contains("gpu_types[1].name: \"X1\" is already defined at gpu_types[0]"));
  CHECK_THAT(e, Catch::Contains("gpu_types[2].name: \"a100\" differs from the built-in type \"A100\" only in case"));
  CHECK_THAT(e, Catch::Contains("gpu_types[3].products: \"NVIDIA-L4\" already belongs to the built-in type L4"));
  CHECK_THAT(e, Catch::Contains("gpu_types[4].rank: the new gpu type \"X3\" needs a rank"));
  CHECK_THAT(e, Catch::Contains("gpu_classes[0].name: \"A100\" is already the name of a gpu type"));
  CHECK_THAT(e, Catch::Contains("gpu_classes[2].name: \"fast\" is already defined at gpu_classes[1]"));
  CHECK(Lines(e) == 6);
}

TEST_CASE("gpu_types_add_to_and_override_the_builtin_catalog", "[queues_config]") {
  const QueueConfig cfg = MustParse(R"(
gpu_types:
  - {name: A100, rank: 65}
  - {name: T4, products: [Custom-T4-Board]}
  - {name: RTX6000, rank: 40, products: [NVIDIA-RTX-6000-Ada-Generation]}
queues:
  max: {gpu: {RTX6000: 8}}
)");
  const GpuCatalog& c = cfg.catalog;
  CHECK(c.size() == GpuCatalog::Default().size() + 1);
  CHECK(c.type(c.FindType("A100")).rank == 65);
  CHECK(c.type(c.FindType("A100")).products ==
        GpuCatalog::Default().type(GpuCatalog::Default().FindType("A100")).products);
  CHECK(c.MatchProduct("Custom-T4-Board") == c.FindType("T4"));
  CHECK(c.type(c.FindType("T4")).rank == 10);
  CHECK(c.MatchProduct("NVIDIA-RTX-6000-Ada-Generation") == c.FindType("RTX6000"));
  CHECK(cfg.root.max.gpu_millis.at("RTX6000") == 8000);
}

TEST_CASE("tiers_must_be_0_1_or_2", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
tiers:
  default: 3
  priority_classes: {batch-low: -1, critical: high}
)");
  CHECK_THAT(e, Catch::Contains("tiers.default: 3 is outside 0..2"));
  CHECK_THAT(e, Catch::Contains("tiers.priority_classes.batch-low: -1 is outside 0..2"));
  CHECK_THAT(e, Catch::Contains("tiers.priority_classes.critical: \"high\" is not a whole number"));
}

TEST_CASE("placement_must_point_at_an_existing_leaf_queue", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
placement:
  namespaces:
    safety-prod: root.safety
    research: research.scratch
    typo: root.safety.prd
    Bad_NS: root.safety.prod
  default_queue: root.nowhere
  application_label: "has space"
queues:
  children:
    - {name: safety, children: [{name: prod}]}
    - {name: research, children: [{name: scratch}]}
)");
  CHECK_THAT(e, Catch::Contains("placement.namespaces.safety-prod: queue \"root.safety\" has children; pods go only "
                                "to leaf queues"));
  CHECK_THAT(e, Catch::Contains("placement.namespaces.research: no queue \"research.scratch\" (did you mean "
                                "\"root.research.scratch\"?"));
  CHECK_THAT(e, Catch::Contains("placement.namespaces.typo: no queue \"root.safety.prd\" (did you mean "
                                "\"root.safety.prod\"?)"));
  CHECK_THAT(e, Catch::Contains("placement.namespaces.Bad_NS: \"Bad_NS\" is not a namespace name"));
  CHECK_THAT(e, Catch::Contains("placement.default_queue: no queue \"root.nowhere\""));
  CHECK_THAT(e, Catch::Contains("placement.application_label: \"has space\" is not a Kubernetes label key"));
  CHECK(Lines(e) == 6);
}

TEST_CASE("limits_must_be_non_negative_whole_numbers", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
queues:
  children:
    - name: a
      limits: {max_running_pods: -1, max_pending_pods: 1.5, max_running_apps: 10}
)");
  CHECK_THAT(e, Catch::Contains("root.a.limits.max_running_pods: -1 is negative"));
  CHECK_THAT(e, Catch::Contains("root.a.limits.max_pending_pods: \"1.5\" is not a whole number"));
  CHECK(Lines(e) == 2);
}

TEST_CASE("proportional_policies_are_validated", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
proportional:
  - {gpu_type: A100, cpu_per_gpu: 12, action: rejct}
  - {gpu_type: A100, memory_per_gpu: 100Gi}
  - {gpu_type: T4}
  - {cpu_per_gpu: 0}
)");
  CHECK_THAT(e, Catch::Contains("proportional[0].action: \"rejct\" is not an action: use reject or charge"));
  CHECK_THAT(e, Catch::Contains("proportional[1].gpu_type: gpu type A100 already has a policy above"));
  CHECK_THAT(e, Catch::Contains("proportional[2]: give cpu_per_gpu, memory_per_gpu or both"));
  CHECK_THAT(e, Catch::Contains("proportional[3]: a proportional policy needs a gpu_type"));
  CHECK_THAT(e, Catch::Contains("proportional[3].cpu_per_gpu: 0 would reject every GPU pod"));
}

TEST_CASE("every_error_of_a_document_is_reported_in_one_pass", "[queues_config]") {
  const std::string e = ErrorsOf(R"(
queues:
  children:
    - name: research
      max: {gpu: {A100: "-3"}}
      wieght: 2
    - name: safety
      guaranteed: {gpu: {A100: 48}}
      max: {gpu: {A100: 32}}
)");
  INFO(e);
  CHECK(Lines(e) == 3);
  CHECK_THAT(e, Catch::Contains("q.yaml:5:25: root.research.max.gpu.A100: \"-3\" is negative"));
  CHECK_THAT(e, Catch::Contains("q.yaml:6:7: root.research.wieght: unknown key (did you mean \"weight\"?)"));
  CHECK_THAT(e, Catch::Contains("q.yaml:9:25: root.safety.max.gpu.A100: 32 is below guaranteed 48"));
  // In document order.
  CHECK(e.find("wieght") < e.find("below guaranteed"));
}

TEST_CASE("a_bad_document_is_an_error_and_nothing_else", "[queues_config]") {
  // ParseQueueConfig is pure: a rejected revision yields only the error, so a
  // caller keeps whatever configuration it had.
  const QueueConfig good = MustParse("queues: {children: [{name: a}]}\n");
  const absl::StatusOr<QueueConfig> bad = ParseQueueConfig("queues: {children: [{name: A}]}\n", "q.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("\"A\" is not a queue name"));
  CHECK(good.root.children.at(0).path == "root.a");
}

TEST_CASE("the_example_documents_parse", "[queues_config]") {
  for (const char* name : {"examples/queues-org.yaml", "examples/queues-small-team.yaml"}) {
    const std::string path = SourceDir() + "/" + name;
    INFO(path);
    const absl::StatusOr<QueueConfig> cfg = LoadQueueConfigFile(path);
    INFO(cfg.status().message());
    REQUIRE(cfg.ok());
    CHECK_FALSE(cfg->root.children.empty());
    CHECK_FALSE(cfg->default_queue.empty());
  }
  const QueueConfig org = LoadQueueConfigFile(SourceDir() + "/examples/queues-org.yaml").value();
  const QueueSpec& pretraining = Child(Child(Child(org.root, "research"), "llm"), "pretraining");
  CHECK(pretraining.path == "root.research.llm.pretraining");
  CHECK(org.namespace_queues.at("safety-prod") == "root.safety.prod");
  CHECK(org.catalog.FindClass("training") != nullptr);
}

TEST_CASE("the_readme_shows_the_example_documents_verbatim", "[queues_config]") {
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const std::string readme = read(SourceDir() + "/queues/README.md");
  for (const char* name : {"examples/queues-org.yaml", "examples/queues-small-team.yaml"}) {
    INFO(name);
    CHECK(readme.find(read(SourceDir() + "/" + name)) != std::string::npos);
  }
}

TEST_CASE("a_missing_file_is_not_found", "[queues_config]") {
  const absl::StatusOr<QueueConfig> cfg = LoadQueueConfigFile("/nonexistent/queues.yaml");
  REQUIRE_FALSE(cfg.ok());
  CHECK(cfg.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(cfg.status().message()), Catch::Contains("/nonexistent/queues.yaml"));
}

TEST_CASE("the_default_config_is_a_lone_root", "[queues_config]") {
  const QueueConfig cfg = DefaultQueueConfig();
  CHECK(cfg.root.path == "root");
  CHECK(cfg.root.children.empty());
  CHECK(cfg.root.max.empty());
  CHECK(cfg.default_tier == 1);
  CHECK(cfg.default_queue == "root");
  CHECK(cfg.catalog.size() == GpuCatalog::Default().size());
  // An empty mapping means the same tree.
  CHECK(MustParse("{}").root.children.empty());
}

TEST_CASE("a_queue_alias_that_contains_itself_is_an_error_not_a_crash", "[queues_config]") {
  // Before: unbounded recursion in the validator, SIGSEGV (issue 21 item 2).
  const std::string errors = ErrorsOf(R"(
queues:
  children:
    - &q {name: a, children: [*q]}
)");
  CHECK_THAT(errors, Catch::Contains("root.a.children[0]"));
  CHECK_THAT(errors, Catch::Contains("makes this queue contain itself"));
  // An alias of a queue that is not its own ancestor is fine (a copy).
  const QueueConfig cfg = MustParse(R"(
queues:
  children:
    - name: a
      children: [&leaf {name: x, max: {gpu: {A100: 1}}}]
    - name: b
      children: [*leaf]
)");
  CHECK(Child(Child(cfg.root, "b"), "x").max.gpu_millis.at("A100") == 1000);
}

TEST_CASE("queues_nested_deeper_than_the_limit_are_an_error_naming_the_path", "[queues_config]") {
  auto nested = [](int levels) {
    std::string yaml = "queues:\n  children:\n";
    std::string indent = "    ";
    for (int i = 0; i < levels; ++i) {
      yaml += indent + "- name: q" + std::to_string(i) + "\n";
      if (i + 1 < levels) yaml += indent + "  children:\n";
      indent += "    ";
    }
    return yaml;
  };
  MustParse(nested(kMaxQueueDepth));  // root plus kMaxQueueDepth levels below it
  const std::string errors = ErrorsOf(nested(kMaxQueueDepth + 1));
  CHECK_THAT(errors, Catch::Contains("root.q0.q1.q2"));
  CHECK_THAT(errors, Catch::Contains("more than " + std::to_string(kMaxQueueDepth) + " levels"));
  CHECK(Lines(errors) == 1);
  // Far deeper (yaml-cpp's own parser recurses too): still one clear error, no crash.
  std::string flow = "queues: {children: [";
  for (int i = 0; i < 5000; ++i) flow += "{name: q, children: [";
  for (int i = 0; i < 5000; ++i) flow += "]}";
  flow += "]}";
  const std::string deep = ErrorsOf(flow);
  CHECK(Lines(deep) == 1);
  CHECK_THAT(deep, Catch::Contains("deep"));
}

TEST_CASE("children_guaranteed_that_overflow_when_added_are_an_error", "[queues_config]") {
  // Before: each fits in int64 milli-GPU, the sum wrapped negative and validated (issue 21 item 3).
  const std::string errors = ErrorsOf(R"(
queues:
  children:
    - name: a
      guaranteed: {gpu: {A100: 9223372036854775}}
    - name: b
      guaranteed: {gpu: {A100: 9223372036854775}}
)");
  CHECK_THAT(errors, Catch::Contains("root.guaranteed.gpu.A100"));
  CHECK_THAT(errors, Catch::Contains("root.b's 9223372036854775"));
  CHECK_THAT(errors, Catch::Contains("largest amount"));
  // The same on a deeper parent, for memory.
  const std::string memory = ErrorsOf(R"(
queues:
  children:
    - name: p
      children:
        - {name: a, guaranteed: {memory: 7Ei}}
        - {name: b, guaranteed: {memory: 7Ei}}
)");
  CHECK_THAT(memory, Catch::Contains("root.p.guaranteed.memory"));
  CHECK_THAT(memory, Catch::Contains("root.p.b's 7Ei"));
}

TEST_CASE("a_huge_value_is_quoted_cut_in_its_error", "[queues_config]") {
  // Before: a 50 MB value was echoed whole in the error line (issue 21 item 5).
  const std::string huge(1 << 20, 'x');
  // (An explicit key "? ...": YAML allows an implicit key of at most 1024 characters.)
  const std::string errors = ErrorsOf("queues: {max: {cpu: " + huge + "}}\n? " + huge + "\n: 1\n");
  CHECK(errors.size() < 2000);
  CHECK_THAT(errors, Catch::Contains("root.max.cpu: \"xxxx"));
  CHECK_THAT(errors, Catch::Contains("\"\u2026(1048576 bytes) is not a quantity"));
  CHECK_THAT(errors, Catch::Contains("(1048576 bytes): unknown key"));
  CHECK(Lines(errors) == 2);
}

TEST_CASE("documents_over_the_count_and_size_limits_are_refused_clearly", "[queues_config]") {
  SECTION("queues") {
    std::string yaml = "queues:\n  children:\n";
    for (int i = 0; i < kMaxQueues + 5; ++i) yaml += "    - {name: q" + std::to_string(i) + "}\n";
    const std::string errors = ErrorsOf(yaml);
    CHECK(Lines(errors) == 1);
    CHECK_THAT(errors, Catch::Contains("root.children[9999]: more than 10000 queues"));
    // At the limit (root + 9,999 children) the document is valid.
    std::string at_limit = "queues:\n  children:\n";
    for (int i = 0; i < kMaxQueues - 1; ++i) at_limit += "    - {name: q" + std::to_string(i) + "}\n";
    CHECK(MustParse(at_limit).root.children.size() == kMaxQueues - 1);
  }
  SECTION("an alias repeated to multiply queues counts every copy") {
    std::string yaml = "queues:\n  children:\n    - &a {name: a, children: [";
    for (int i = 0; i < 200; ++i) yaml += std::string(i ? ", " : "") + "{name: x" + std::to_string(i) + "}";
    yaml += "]}\n";
    for (int i = 0; i < 60; ++i) yaml += "    - {name: b" + std::to_string(i) + ", children: [*a]}\n";
    CHECK_THAT(ErrorsOf(yaml), Catch::Contains("more than 10000 queues"));
  }
  SECTION("gpu classes") {
    std::string yaml = "gpu_classes:\n";
    for (int i = 0; i < kMaxGpuClasses + 1; ++i) yaml += "  - {name: c" + std::to_string(i) + ", types: [A100]}\n";
    const std::string errors = ErrorsOf(yaml);
    CHECK_THAT(errors, Catch::Contains("gpu_classes[256]: 257 gpu classes listed; the limit is 256"));
  }
  SECTION("gpu types") {
    std::string yaml = "gpu_types:\n";
    for (int i = 0; i < 100000; ++i) yaml += "  - {name: t" + std::to_string(i) + ", rank: 1}\n";
    CHECK_THAT(ErrorsOf(yaml), Catch::Contains("gpu_types[63]: 100000 gpu types listed; the limit is 63"));
  }
  SECTION("YAML values, counted before yaml-cpp builds its nodes") {
    std::string yaml = "product_labels: [";
    for (size_t i = 0; i < kMaxYamlValues; ++i) yaml += "a,";
    yaml += "a]\n";
    CHECK_THAT(ErrorsOf(yaml), Catch::Contains("the document has more than 1000000 YAML values"));
  }
  SECTION("errors past the listed limit are counted") {
    std::string yaml = "product_labels: [";
    for (int i = 0; i < 5000; ++i) yaml += "'!',";
    yaml += "'!']\n";
    const std::string errors = ErrorsOf(yaml);
    CHECK(Lines(errors) == kMaxErrorsListed + 1);
    CHECK_THAT(errors, Catch::Contains("q.yaml: and 4001 more errors (only the first 1000 are listed)"));
  }
  SECTION("document size") {
    const std::string big = "# " + std::string(kMaxDocumentBytes, '.') + "\nqueues: {}\n";
    CHECK_THAT(ErrorsOf(big), Catch::Contains("the limit is 16777216 bytes"));
  }
}

}  // namespace drover

TEST_CASE("admins: the cluster admins and a queue's subtree admins are read", "[config][admins]") {
  absl::StatusOr<drover::QueueConfig> cfg = drover::ParseQueueConfig(R"(
admins: {users: [ops], groups: [platform]}
queues:
  children:
    - name: research
      admins: {users: [alice], groups: [research-leads]}
      children: [{name: llm}]
)", "t.yaml");
  REQUIRE(cfg.ok());
  CHECK(cfg->cluster_admins.users == std::vector<std::string>{"ops"});
  CHECK(cfg->cluster_admins.groups == std::vector<std::string>{"platform"});
  REQUIRE(cfg->root.children.size() == 1);
  CHECK(cfg->root.children[0].admins.users == std::vector<std::string>{"alice"});
  CHECK(cfg->root.children[0].admins.groups == std::vector<std::string>{"research-leads"});
}

TEST_CASE("errors come back structured: path, message, line and column, all of them", "[config][errors]") {
  std::vector<drover::ConfigError> errors;
  absl::StatusOr<drover::QueueConfig> cfg = drover::ParseQueueConfig(R"(queues:
  children:
    - name: a
      max: {gpu: {A100: -3}}
    - name: b
      weigth: 2
admins: {userz: [x]}
)", "t.yaml", &errors);
  REQUIRE_FALSE(cfg.ok());
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].path == "root.a.max.gpu.A100");
  CHECK(errors[0].line == 4);
  CHECK(errors[0].column > 1);
  CHECK(errors[1].path == "root.b.weigth");
  CHECK(errors[1].line == 6);
  CHECK(errors[2].path == "admins.userz");
  CHECK(errors[2].message.find("unknown key") != std::string::npos);
}
