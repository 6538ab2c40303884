// Bad input to the webhook: a clear error reply, never a crash or a hang.
#include <catch2/catch.hpp>

#include "admission/review.h"
#include "core/strings.h"
#include "review_fixture.h"

namespace drover::admission::testing {
namespace {

HttpReply Raw(const AdmissionPolicy& policy, const std::string& body) {
  thread_local Reviewer reviewer;
  return reviewer.Review(policy, Endpoint::kValidate, body);
}

TEST_CASE("a_body_that_is_not_an_admission_review_gets_http_400_naming_the_problem", "[admission]") {
  auto policy = MakePolicy();
  struct Case {
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"not json", "AdmissionReview: the body is not JSON"},
      {"[1,2]", "AdmissionReview: (body): expected an object, got a list"},
      {"{}", R"(AdmissionReview: apiVersion/kind: \"\"/\"\" is not admission.k8s.io/v1 AdmissionReview)"},
      {R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}})",
       R"(\"admission.k8s.io/v1beta1\"/\"AdmissionReview\" is not admission.k8s.io/v1 AdmissionReview)"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})", "AdmissionReview: request: is missing"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}})",
       "AdmissionReview: request.uid: is missing"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7}})",
       "AdmissionReview: request.uid: expected a string, got a number"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","userInfo":{"groups":"g"}}})",
       "AdmissionReview: request.userInfo.groups: expected a list of strings"},
      {std::string(100000, '['), "AdmissionReview: the body is not JSON"},
  };
  for (const Case& c : cases) {
    INFO(c.body.substr(0, 80));
    const HttpReply r = Raw(*policy, c.body);
    CHECK(r.status == 400);
    CHECK(r.body.find("\"kind\":\"Status\"") != std::string::npos);
    CHECK(r.body.find(c.message) != std::string::npos);
  }
}

TEST_CASE("a_body_above_3_mib_is_refused_before_it_is_parsed", "[admission]") {
  auto policy = MakePolicy();
  PodSpec p;
  p.annotations_json = StrCat(R"({"big":")", std::string(kMaxReviewBytes, 'x'), "\"}");
  const HttpReply r = Raw(*policy, ReviewJson(PodJson(p), p.ns));
  CHECK(r.status == 413);
  CHECK(r.body.find("the limit is 3145728 bytes (3 MiB)") != std::string::npos);
}

TEST_CASE("a_pod_with_wrong_types_or_another_kind_is_refused_with_the_field", "[admission]") {
  auto policy = MakePolicy();
  PodSpec p;
  p.cpu = "lots";
  Response r = Call(*policy, Endpoint::kValidate, ReviewJson(PodJson(p), p.ns));
  CHECK(r.http == 200);
  CHECK_FALSE(r.allowed);
  CHECK(r.code == 400);
  CHECK(r.message.find("pod team-a/train: spec.containers[0].resources.requests.cpu") != std::string::npos);
  CHECK(r.message.find("\"lots\"") != std::string::npos);

  std::string deployment = ReviewJson(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}})", "ns");
  deployment.replace(deployment.find(R"("kind":{"group":"","version":"v1","kind":"Pod"})"), 47,
                     R"("kind":{"group":"apps","version":"v1","kind":"Deployment"})");
  r = Call(*policy, Endpoint::kMutate, deployment);
  CHECK_FALSE(r.allowed);
  CHECK(r.message ==
        "drover admission judges pods (kind v1 Pod, resource pods) only; got kind \"apps/v1/Deployment\" resource "
        "\"pods\": check the webhook configuration's rules");
}

TEST_CASE("other_operations_pass_untouched_and_generate_name_pods_are_named_in_messages", "[admission]") {
  auto policy = MakePolicy();
  PodSpec p;
  p.scheduler = "drover";
  p.cpu = "90";
  p.annotations_json = R"({"drover.io/gpu-type":"A100"})";
  Response r = Call(*policy, Endpoint::kValidate, ReviewJson(PodJson(p), p.ns, "alice", {}, "UPDATE"));
  CHECK(r.allowed);
  CHECK(r.raw == R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":")"
                 R"(705ab4f5-6393-11e8-b7cc-42010a800002","allowed":true}})");
  std::string pod = PodJson(p);
  pod.replace(pod.find(R"("name":"train")"), 14, R"("name":"","generateName":"job-")");
  r = Call(*policy, Endpoint::kValidate, ReviewJson(pod, p.ns));
  CHECK_FALSE(r.allowed);
  CHECK(r.message.rfind("pod team-a/job-*: spec.containers[*].resources.requests.cpu: 90", 0) == 0);
}

}  // namespace
}  // namespace drover::admission::testing
