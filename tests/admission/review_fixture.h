// Shared fixture of the admission tests: a quota document, A100 and H100 node
// shapes, and AdmissionReview requests built as the API server sends them
// (admission.k8s.io/v1; the pod already defaulted: schedulerName default-scheduler,
// requests copied from limits; name "" for a generateName pod).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "admission/policy.h"
#include "admission/webhook.h"

namespace drover::admission::testing {

// The document: research (submit: alice, ml-admins) with leaves a (A100: 8 guaranteed)
// and b (proportional warn, tier0 audit); dev (cpu_per_gpu 4, the default queue);
// namespaces team-a -> root.research.a, team-b -> root.dev; priority class critical -> 0.
extern const char* const kDocument;

// Policy from `document`, with 4 A100 nodes (96 cpu, 960Gi, 8 GPUs: 12 cpu and
// 120Gi per GPU) and 2 H100 nodes (192 cpu, 2Ti, 8 GPUs).
std::shared_ptr<const AdmissionPolicy> MakePolicy(const char* document = kDocument);

struct PodSpec {
  std::string ns = "team-a";
  std::string name = "train";
  std::string annotations_json;     // "" = no metadata.annotations
  std::string scheduler = "default-scheduler";
  std::string priority_class;
  int gpus = 1;
  std::string cpu;                  // "" = no cpu request
  std::string memory;
};
std::string PodJson(const PodSpec& p);
// An AdmissionReview of a CREATE of `pod_json` in `ns` by `user` in `groups`.
std::string ReviewJson(const std::string& pod_json, const std::string& ns, const std::string& user = "alice",
                       const std::vector<std::string>& groups = {"system:authenticated"},
                       const std::string& operation = "CREATE");

// The review's response fields, read back from the reply body.
struct Response {
  int http = 0;
  std::string uid;
  bool allowed = false;
  int code = 0;
  std::string message;
  std::string patch;  // decoded from base64
  std::vector<std::string> warnings;
  std::string audit;  // auditAnnotations, minified
  std::string raw;
};
Response Call(const AdmissionPolicy& policy, Endpoint endpoint, const std::string& body);

}  // namespace drover::admission::testing
