// The validating endpoint: every rule, in each mode, with the exact message kubectl shows.
#include <catch2/catch.hpp>

#include "core/strings.h"
#include "queues/config.h"
#include "review_fixture.h"

namespace drover::admission::testing {
namespace {

PodSpec DroverPod() {
  PodSpec p;
  p.scheduler = "drover";
  p.cpu = "8";
  p.memory = "64Gi";
  return p;
}

Response Validate(const PodSpec& p, const AdmissionPolicy& policy, const std::string& user = "alice",
                  const std::vector<std::string>& groups = {"system:authenticated"}) {
  return Call(policy, Endpoint::kValidate, ReviewJson(PodJson(p), p.ns, user, groups));
}

TEST_CASE("validate_refuses_cpu_and_memory_out_of_proportion_to_the_gpu_node_shape", "[admission]") {
  auto policy = MakePolicy();
  PodSpec p = DroverPod();
  p.annotations_json = R"({"drover.io/gpu-type":"A100"})";
  CHECK(Validate(p, *policy).allowed);  // 8 cpu, 64Gi for 1 A100: within 15 and 150Gi
  p.cpu = "90";
  Response r = Validate(p, *policy);
  CHECK_FALSE(r.allowed);
  CHECK(r.code == 403);
  CHECK(r.message ==
        "pod team-a/train: spec.containers[*].resources.requests.cpu: 90 for 1 GPU is above the limit of 15 "
        "(15 per GPU: A100 nodes: 96 cpu for 8 GPUs, +25%)");
  p.cpu = "20";
  p.gpus = 2;
  p.memory = "400Gi";
  r = Validate(p, *policy);
  CHECK_FALSE(r.allowed);
  CHECK(r.message ==
        "pod team-a/train: spec.containers[*].resources.requests.memory: 400Gi for 2 GPUs is above the limit of "
        "300Gi (150Gi per GPU: A100 nodes: 960Gi memory for 8 GPUs, +25%)");
  SECTION("a pod that may land on any type is held to the loosest type the cluster has (H100: 24 cpu + 25%)") {
    p.annotations_json = "";
    p.gpus = 1;
    p.memory = "64Gi";
    p.cpu = "30";
    CHECK(Validate(p, *policy).allowed);
    p.cpu = "31";
    CHECK(Validate(p, *policy).message ==
          "pod team-a/train: spec.containers[*].resources.requests.cpu: 31 for 1 GPU is above the limit of 30 "
          "(30 per GPU: H100 nodes: 192 cpu for 8 GPUs, +25%)");
  }
}

TEST_CASE("validate_uses_the_queue_bound_and_the_queue_mode_inherited_down_the_tree", "[admission]") {
  auto policy = MakePolicy();
  PodSpec dev = DroverPod();
  dev.ns = "team-b";  // root.dev: cpu_per_gpu 4
  Response r = Validate(dev, *policy);
  CHECK_FALSE(r.allowed);
  CHECK(r.message ==
        "pod team-b/train: spec.containers[*].resources.requests.cpu: 8 for 1 GPU is above the limit of 4 "
        "(4 per GPU: root.dev.admission.cpu_per_gpu)");

  PodSpec b = DroverPod();  // root.research.b: proportional warn; alice's grant, vouched for by /mutate
  b.annotations_json =
      R"({"drover.io/queue":"root.research.b","drover.io/gpu-type":"A100","drover.io/submit-grant":"user:alice"})";
  b.cpu = "90";
  r = Validate(b, *policy);
  CHECK(r.allowed);
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0] ==
        "pod team-a/train: spec.containers[*].resources.requests.cpu: 90 for 1 GPU is above the limit of 15 "
        "(15 per GPU: A100 nodes: 96 cpu for 8 GPUs, +25%)");
}

TEST_CASE("validate_refuses_unknown_queues_and_gpu_types_and_malformed_intent", "[admission]") {
  auto policy = MakePolicy();
  PodSpec p = DroverPod();
  p.annotations_json = R"({"drover.io/queue":"root.nope"})";
  CHECK(Validate(p, *policy).message ==
        "pod team-a/train: queue \"root.nope\" (from annotation drover.io/queue) does not exist");
  p.annotations_json = R"({"drover.io/gpu-type":"a100"})";
  CHECK(Validate(p, *policy).message ==
        "pod team-a/train: annotation drover.io/gpu-type: \"a100\" is not a GPU type or class of the quota document "
        "(did you mean \"A100\"?)");
  p.annotations_json = R"({"drover.io/gpu-type":"Z100"})";
  CHECK(Validate(p, *policy).message ==
        "pod team-a/train: annotation drover.io/gpu-type: \"Z100\" is not a GPU type or class of the quota document");
  p.annotations_json = R"({"drover.io/gang":"g","drover.io/gang-min-members":"abc"})";
  CHECK(Validate(p, *policy).message ==
        "pod team-a/train: annotation drover.io/gang-min-members: \"abc\" is not a positive integer");
  p.annotations_json = R"({"drover.io/gpu-fraction":"1.5"})";
  const Response r = Validate(p, *policy);
  CHECK_FALSE(r.allowed);
  CHECK(r.message.find("drover.io/gpu-fraction") != std::string::npos);
}

TEST_CASE("validate_refuses_topology_levels_the_document_does_not_declare", "[admission][topology_gang]") {
  auto policy = MakePolicy();
  PodSpec p = DroverPod();
  p.annotations_json = R"({"drover.io/gang":"g","drover.io/topology-required":"rack"})";
  CHECK(Validate(p, *policy).message ==
        "pod team-a/train: annotation drover.io/topology-required: \"rack\" is not a topology level of the quota "
        "document (it declares none: see topology.levels)");
  p.annotations_json = R"({"drover.io/topology-preferred":"Rack 1"})";
  CHECK(Validate(p, *policy).message ==
        "pod team-a/train: annotation drover.io/topology-preferred: \"Rack 1\" is not a topology level name");
  const std::string with_levels =
      StrCat(kDocument, "topology: {levels: [{name: zone, node_label: topology.kubernetes.io/zone}, ",
             "{name: rack, node_label: example.com/rack}]}\n");
  auto next = MakePolicy(with_levels.c_str());
  p.annotations_json = R"({"drover.io/gang":"g","drover.io/topology-required":"rack"})";
  CHECK(Validate(p, *next).allowed);
  p.annotations_json = R"({"drover.io/topology-required":"row"})";
  CHECK(Validate(p, *next).message ==
        "pod team-a/train: annotation drover.io/topology-required: \"row\" is not a topology level of the quota "
        "document (levels: zone, rack)");
}

TEST_CASE("validate_enforces_submit_users_and_groups_from_the_requests_user_info", "[admission]") {
  auto policy = MakePolicy();
  PodSpec p = DroverPod();
  p.ns = "team-b";
  p.cpu = "4";
  // As /mutate leaves them: the creator's grant written into drover.io/submit-grant.
  p.annotations_json = R"({"drover.io/queue":"root.research.a","drover.io/submit-grant":"user:alice"})";
  CHECK(Validate(p, *policy, "alice").allowed);
  p.annotations_json = R"({"drover.io/queue":"root.research.a","drover.io/submit-grant":"group:ml-admins"})";
  CHECK(Validate(p, *policy, "carol", {"system:authenticated", "ml-admins"}).allowed);
  p.annotations_json = R"({"drover.io/queue":"root.research.a"})";
  const Response r = Validate(p, *policy, "bob");
  CHECK_FALSE(r.allowed);
  CHECK(r.message ==
        "pod team-b/train: namespace \"team-b\" and user \"bob\" may not submit to queue \"root.research.a\" (from "
        "annotation drover.io/queue): it is not in root.research.submit.namespaces [], users [alice], groups "
        "[ml-admins]; an admin of the queue may add it to submit.namespaces, users or groups");
}

TEST_CASE("the_submit_grant_annotation_must_be_the_creators_own", "[admission][submit]") {
  auto policy = MakePolicy();
  PodSpec p = DroverPod();
  p.ns = "team-b";
  p.cpu = "4";
  // Written by bob himself to ride on alice's grant (accepted for alice: the test above): refused,
  // whatever the submit rule's mode.
  p.annotations_json = R"({"drover.io/submit-grant":"user:alice","drover.io/queue":"root.research.a"})";
  Response r = Validate(p, *policy, "bob");
  CHECK_FALSE(r.allowed);
  CHECK(r.message.find("pod team-b/train: annotation drover.io/submit-grant: \"user:alice\" is not held by the "
                       "pod's creator (user \"bob\"); Drover's webhook writes it, not users") != std::string::npos);
  p.annotations_json = R"({"drover.io/queue":"root.research.a","drover.io/submit-grant":"group:ml-admins"})";
  CHECK(Validate(p, *policy, "carol", {"ml-admins"}).allowed);
  CHECK_FALSE(Validate(p, *policy, "carol", {"other"}).allowed);
  // Granted to alice only, and the annotation is missing (the mutating webhook did not run): said now.
  p.annotations_json = R"({"drover.io/queue":"root.research.a"})";
  r = Validate(p, *policy, "alice");
  CHECK_FALSE(r.allowed);
  CHECK(r.message ==
        "pod team-b/train: queue root.research.a is granted to user:alice but annotation drover.io/submit-grant is "
        "missing (did the mutating webhook run?); the scheduler would refuse the pod");
  // A malformed value is an intent error naming the annotation.
  p.annotations_json = R"({"drover.io/queue":"root.research.a","drover.io/submit-grant":"alice"})";
  r = Validate(p, *policy, "alice");
  CHECK_FALSE(r.allowed);
  CHECK(r.message.find("annotation drover.io/submit-grant: \"alice\" is not user:NAME or group:NAME") !=
        std::string::npos);
}

TEST_CASE("validate_refuses_tier0_where_the_queue_guarantees_no_capacity_of_the_type", "[admission]") {
  auto policy = MakePolicy();
  PodSpec p = DroverPod();
  p.priority_class = "critical";
  p.annotations_json = R"({"drover.io/gpu-type":"A100"})";
  CHECK(Validate(p, *policy).allowed);  // root.research.a guarantees 8 A100
  p.annotations_json = R"({"drover.io/gpu-type":"H100"})";
  CHECK(Validate(p, *policy).message ==
        "pod team-a/train: Tier 0 (priorityClassName \"critical\") in queue root.research.a, which has no guaranteed "
        "H100 GPU capacity (guaranteed H100 GPU: 0); Tier 0 runs only within its queue's guaranteed: use tier 1, or "
        "a queue that guarantees the type");
  SECTION("audit mode: admitted, with an audit annotation") {
    p.annotations_json = R"({"drover.io/queue":"root.research.b","drover.io/tier":"0","drover.io/submit-grant":"user:alice"})";
    const Response r = Validate(p, *policy);
    CHECK(r.allowed);
    CHECK(r.warnings.empty());
    CHECK(r.audit ==
          R"({"tier0":"pod team-a/train: Tier 0 (annotation drover.io/tier: \"0\") in queue root.research.b, which has )"
          R"(no guaranteed GPU capacity (guaranteed GPU: 0); Tier 0 runs only within its queue's guaranteed: use tier )"
          R"(1, or a queue that guarantees the type"})");
  }
}

TEST_CASE("validate_lets_pods_of_other_schedulers_through_and_follows_a_new_document", "[admission]") {
  auto policy = MakePolicy();
  PodSpec p = DroverPod();
  p.ns = "team-b";
  p.scheduler = "default-scheduler";
  CHECK(Validate(p, *policy).allowed);  // not Drover's: no rule applies
  p.scheduler = "drover";
  CHECK_FALSE(Validate(p, *policy).allowed);  // root.dev: 4 cpu per GPU
  std::string relaxed = kDocument;
  relaxed.replace(relaxed.find("cpu_per_gpu: 4"), 14, "cpu_per_gpu: 8");
  auto next = MakePolicy(relaxed.c_str());
  CHECK(Validate(p, *next).allowed);
}

TEST_CASE("admission_section_errors_name_the_field_and_value", "[admission]") {
  const absl::StatusOr<QueueConfig> bad = ParseQueueConfig(R"(
admission:
  scheduler_namespaces: [Bad_NS]
  shape_slack_percent: -1
  requests_per_gpu:
    - {gpu_type: A1000, cpu: 0}
queues:
  admission: {proportional: enforec, cpu_per_gpu: abc}
)", "q.yaml");
  REQUIRE_FALSE(bad.ok());
  const std::string m(bad.status().message());
  CHECK(m.find("admission.scheduler_namespaces[0]: \"Bad_NS\" is not a namespace name") != std::string::npos);
  CHECK(m.find("admission.shape_slack_percent") != std::string::npos);
  CHECK(m.find("admission.requests_per_gpu[0].gpu_type: \"A1000\" is not a gpu type") != std::string::npos);
  CHECK(m.find("admission.requests_per_gpu[0].cpu: must be above 0") != std::string::npos);
  CHECK(m.find("root.admission.proportional: \"enforec\" is not a rule mode: enforce, warn or audit (did you mean "
               "\"enforce\"?)") != std::string::npos);
  CHECK(m.find("root.admission.cpu_per_gpu") != std::string::npos);
}

}  // namespace
}  // namespace drover::admission::testing
