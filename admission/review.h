// The admission.k8s.io/v1 AdmissionReview wire format: the request the API server
// sends a webhook, read into ReviewRequest, and the response written back.
// https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/
//
//   simdjson::dom::parser parser;
//   ASSIGN_OR_RETURN(ReviewRequest req, ParseReview(parser, body));   // error: answer HTTP 400
//   ReviewResponse resp{req.uid};  resp.allowed = false; resp.message = "...";
//   std::string body = RenderReview(resp);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "queues/queue_tree.h"

namespace simdjson::dom {
class parser;
}

namespace drover::admission {

// Largest request body read (the API server's own request limit is 3 MiB, so a
// real review is never larger); a larger body is refused before it is parsed.
inline constexpr size_t kMaxReviewBytes = 3u << 20;

// What a JSON Patch needs to know of the pod as sent (the decoded Pod does not say
// which keys exist). Requests count as set when a limit stands in for them.
struct ContainerFacts {
  bool has_resources = false;
  bool has_requests = false;
  bool cpu_set = false;
  bool memory_set = false;
  int64_t gpu_millis = 0;  // GPUs the container asks for (requests, else limits), milli
};
struct PodFacts {
  bool has_annotations = false;     // metadata.annotations is an object
  bool has_scheduler_name = false;  // spec.schedulerName is present (the API server defaults it)
  std::vector<ContainerFacts> containers;
};

struct ReviewRequest {
  std::string uid;
  std::string kind;        // request.kind as "group/version/Kind" ("/v1/Pod" for core pods)
  std::string resource;    // request.resource.resource ("pods")
  std::string sub_resource;
  std::string operation;   // CREATE, UPDATE, DELETE, CONNECT
  std::string namespace_;
  Requester requester;     // request.userInfo
  bool dry_run = false;
  bool has_object = false;
  // request.object, minified; a pod without metadata.name (generateName: the API
  // server names it after admission) gets "<generateName>*" so it can be decoded
  // and named in messages.
  std::string object_json;
  PodFacts facts;
};

// Reads an AdmissionReview. Error (InvalidArgument, naming the field): not JSON,
// not an admission.k8s.io/v1 AdmissionReview, no request or no request.uid, a field
// of the wrong type; the caller answers HTTP 400, as there is no uid to answer to.
absl::StatusOr<ReviewRequest> ParseReview(simdjson::dom::parser& parser, std::string_view body);

struct ReviewResponse {
  std::string uid;
  bool allowed = true;
  int code = 0;             // status.code when refused (403 policy, 400 bad object)
  std::string message;      // status.message: what kubectl shows after "denied the request: "
  std::string patch;        // a JSON Patch document ("[...]"), "" = none; sent base64
  std::vector<std::string> warnings;
  std::vector<std::pair<std::string, std::string>> audit_annotations;
};

// The AdmissionReview response body.
std::string RenderReview(const ReviewResponse& response);

}  // namespace drover::admission
