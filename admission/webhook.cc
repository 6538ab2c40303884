#include "admission/webhook.h"

#include <simdjson.h>

#include "admission/judge.h"
#include "admission/review.h"
#include "core/strings.h"
#include "k8s/decode.h"
#include "k8s/json_util.h"

namespace drover::admission {
namespace {

// A metav1.Status body for a request we cannot answer with an AdmissionReview.
HttpReply StatusReply(int code, std::string_view message) {
  return HttpReply{code, StrCat("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":", code,
                                ",\"reason\":\"BadRequest\",\"message\":", k8s::JsonQuote(message), "}")};
}

HttpReply Refuse(const std::string& uid, std::string message) {
  ReviewResponse r;
  r.uid = uid;
  r.allowed = false;
  r.code = 400;
  r.message = std::move(message);
  return HttpReply{200, RenderReview(r)};
}

}  // namespace

struct Reviewer::Impl {
  simdjson::dom::parser parser;
  k8s::Decoder decoder;
};

Reviewer::Reviewer() : impl_(std::make_unique<Impl>()) {}
Reviewer::~Reviewer() = default;

HttpReply Reviewer::Review(const AdmissionPolicy& policy, Endpoint endpoint, std::string_view body) {
  try {
    absl::StatusOr<ReviewRequest> req = ParseReview(impl_->parser, body);
    if (!req.ok()) return StatusReply(body.size() > kMaxReviewBytes ? 413 : 400, std::string(req.status().message()));
    if (req->operation != "CREATE" || !req->sub_resource.empty()) {
      return HttpReply{200, RenderReview(ReviewResponse{req->uid})};  // not judged: allowed as is
    }
    if (req->kind != "/v1/Pod" || (req->resource != "pods" && !req->resource.empty())) {
      return Refuse(req->uid, StrCat("drover admission judges pods (kind v1 Pod, resource pods) only; got kind \"",
                                     CutForMessage(req->kind, 80), "\" resource \"", CutForMessage(req->resource, 80),
                                     "\": check the webhook configuration's rules"));
    }
    if (!req->has_object) return Refuse(req->uid, "AdmissionReview: request.object is missing");
    absl::StatusOr<Pod> pod = impl_->decoder.DecodePod(req->object_json);
    if (!pod.ok()) return Refuse(req->uid, std::string(pod.status().message()));
    if (pod->namespace_.empty()) pod->namespace_ = req->namespace_;
    if (endpoint == Endpoint::kMutate) {
      MutateResult m = Mutate(policy, *pod, req->facts, req->requester);
      ReviewResponse r{req->uid};
      r.patch = m.patch.ToJson();
      r.warnings = std::move(m.warnings);
      return HttpReply{200, RenderReview(r)};
    }
    return HttpReply{200, RenderReview(Verdict(req->uid, Validate(policy, *pod, req->requester)))};
  } catch (const std::exception& e) {  // e.g. std::bad_alloc: an error reply, never a crash
    return StatusReply(500, StrCat("drover admission: ", e.what()));
  }
}

}  // namespace drover::admission
