// The mutating endpoint: exact JSON Patches for AdmissionReviews as the API server sends them.
#include <catch2/catch.hpp>

#include "admission/json_patch.h"
#include "review_fixture.h"

namespace drover::admission::testing {
namespace {

Response Mutate(const PodSpec& p, const AdmissionPolicy& policy, const std::string& user = "alice",
                const std::vector<std::string>& groups = {"system:authenticated"}) {
  return Call(policy, Endpoint::kMutate, ReviewJson(PodJson(p), p.ns, user, groups));
}

TEST_CASE("mutate_vouches_for_a_creator_granted_a_queue_its_namespace_is_not", "[admission][submit]") {
  auto policy = MakePolicy();
  PodSpec p;
  p.ns = "team-b";
  p.scheduler = "drover";
  p.cpu = "4";
  p.memory = "32Gi";
  p.annotations_json = R"({"drover.io/queue":"root.research.a"})";
  // root.research grants user alice and group ml-admins, not namespace team-b.
  CHECK(Mutate(p, *policy, "alice").patch ==
        R"([{"op":"add","path":"/metadata/annotations/drover.io~1submit-grant","value":"user:alice"}])");
  CHECK(Mutate(p, *policy, "carol", {"system:authenticated", "ml-admins"}).patch ==
        R"([{"op":"add","path":"/metadata/annotations/drover.io~1submit-grant","value":"group:ml-admins"}])");
  CHECK(Mutate(p, *policy, "bob").patch.empty());  // no grant: nothing vouched (validation refuses the pod)
  // A value the creator wrote: replaced by the one it holds, or removed when it holds none.
  p.annotations_json = R"({"drover.io/queue":"root.research.a","drover.io/submit-grant":"user:alice"})";
  CHECK(Mutate(p, *policy, "bob").patch ==
        R"([{"op":"remove","path":"/metadata/annotations/drover.io~1submit-grant"}])");
  CHECK(Mutate(p, *policy, "carol", {"ml-admins"}).patch ==
        R"([{"op":"replace","path":"/metadata/annotations/drover.io~1submit-grant","value":"group:ml-admins"}])");
  // The namespace's own queue needs no grant: nothing added.
  p.ns = "team-a";
  p.annotations_json = R"({"drover.io/queue":"root.research.a"})";
  CHECK(Mutate(p, *policy, "alice").patch.empty());
}

TEST_CASE("mutate_routes_a_plain_gpu_pod_to_its_namespace_queue_with_requests_per_gpu", "[admission]") {
  auto policy = MakePolicy();
  const Response r = Mutate(PodSpec{}, *policy);
  CHECK(r.http == 200);
  CHECK(r.uid == "705ab4f5-6393-11e8-b7cc-42010a800002");
  CHECK(r.allowed);
  // schedulerName was defaulted by the API server: replaced. No annotations: one op adds the map.
  // No cpu/memory: the A100 node shape (96 cpu, 960Gi for 8 GPUs) per GPU, the smallest of the types.
  CHECK(r.patch ==
        R"([{"op":"replace","path":"/spec/schedulerName","value":"drover"},)"
        R"({"op":"add","path":"/metadata/annotations","value":{"drover.io/queue":"root.research.a"}},)"
        R"({"op":"add","path":"/spec/containers/0/resources/requests/cpu","value":"12"},)"
        R"({"op":"add","path":"/spec/containers/0/resources/requests/memory","value":"120Gi"}])");
}

TEST_CASE("mutate_escapes_annotation_keys_and_fills_tier_and_canonical_gpu_type", "[admission]") {
  auto policy = MakePolicy();
  PodSpec p;
  p.annotations_json = R"({"team":"x","drover.io/gpu-type":"a100"})";
  p.priority_class = "critical";
  p.cpu = "8";
  p.memory = "64Gi";
  CHECK(Mutate(p, *policy).patch ==
        R"([{"op":"replace","path":"/spec/schedulerName","value":"drover"},)"
        R"({"op":"replace","path":"/metadata/annotations/drover.io~1gpu-type","value":"A100"},)"
        R"({"op":"add","path":"/metadata/annotations/drover.io~1queue","value":"root.research.a"},)"
        R"({"op":"add","path":"/metadata/annotations/drover.io~1tier","value":"0"}])");
  SECTION("a product name is normalised to its type") {
    p.annotations_json = R"({"drover.io/gpu-type":"NVIDIA-A100-SXM4-80GB","drover.io/tier":"1"})";
    CHECK(Mutate(p, *policy).patch ==
          R"([{"op":"replace","path":"/spec/schedulerName","value":"drover"},)"
          R"({"op":"replace","path":"/metadata/annotations/drover.io~1gpu-type","value":"A100"},)"
          R"({"op":"add","path":"/metadata/annotations/drover.io~1queue","value":"root.research.a"}])");
  }
}

TEST_CASE("mutate_fills_requests_from_the_documents_per_gpu_defaults_for_the_named_type", "[admission]") {
  auto policy = MakePolicy();
  PodSpec p;
  p.annotations_json = R"({"drover.io/gpu-type":"H100","drover.io/queue":"root.research.a"})";
  p.scheduler = "drover";
  p.gpus = 2;
  CHECK(Mutate(p, *policy).patch ==
        R"([{"op":"add","path":"/spec/containers/0/resources/requests/cpu","value":"40"},)"
        R"({"op":"add","path":"/spec/containers/0/resources/requests/memory","value":"400Gi"}])");
  SECTION("a pod that gives its cpu keeps it; only memory is filled") {
    p.cpu = "10";
    CHECK(Mutate(p, *policy).patch ==
          R"([{"op":"add","path":"/spec/containers/0/resources/requests/memory","value":"400Gi"}])");
  }
}

TEST_CASE("mutate_leaves_complete_pods_and_pods_not_for_drover_alone", "[admission]") {
  auto policy = MakePolicy();
  PodSpec p;
  p.annotations_json = R"({"drover.io/queue":"root.research.a"})";
  p.scheduler = "drover";
  p.cpu = "8";
  p.memory = "64Gi";
  const Response complete = Mutate(p, *policy);
  CHECK(complete.allowed);
  CHECK(complete.patch.empty());
  CHECK(complete.raw.find("patchType") == std::string::npos);

  PodSpec cpu_only;
  cpu_only.gpus = 0;
  cpu_only.cpu = "1";
  CHECK(Mutate(cpu_only, *policy).patch.empty());

  SECTION("a CPU pod of an opted-in namespace goes to Drover") {
    cpu_only.ns = "cpu-batch";
    CHECK(Mutate(cpu_only, *policy).patch == R"([{"op":"replace","path":"/spec/schedulerName","value":"drover"}])");
  }
  SECTION("a GPU pod naming another scheduler is left alone, with a warning") {
    PodSpec other;
    other.scheduler = "volcano";
    const Response r = Mutate(other, *policy);
    CHECK(r.allowed);
    CHECK(r.patch.empty());
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0] ==
          "pod team-a/train asks for GPUs but names scheduler \"volcano\"; Drover leaves it alone (its queues do not "
          "count it)");
  }
}

TEST_CASE("json_pointer_tokens_escape_tilde_then_slash", "[admission]") {
  CHECK(PointerToken("drover.io/queue") == "drover.io~1queue");
  CHECK(PointerToken("a~b/c~/") == "a~0b~1c~0~1");
  JsonPatch p;
  CHECK(p.ToJson().empty());
  p.Add("/a", "1");
  p.Replace("/b~1c", "\"x\"");
  CHECK(p.ToJson() == R"([{"op":"add","path":"/a","value":1},{"op":"replace","path":"/b~1c","value":"x"}])");
}

}  // namespace
}  // namespace drover::admission::testing
