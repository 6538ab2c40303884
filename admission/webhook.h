// One AdmissionReview in, one HTTP reply out: the whole webhook minus the
// transport. The server calls it from its worker threads with the policy in force.
//
//   thread_local Reviewer reviewer;            // not thread-safe: one per thread
//   HttpReply reply = reviewer.Review(*policy, Endpoint::kValidate, body);
//
// A body that is not an AdmissionReview with a request.uid gets HTTP 400 with a
// metav1.Status naming the problem (there is no uid to answer to; the API server
// then applies the webhook's failurePolicy). Everything else gets HTTP 200 and an
// AdmissionReview: a pod that cannot be decoded (wrong types) or an object that is
// not a pod is refused with code 400 and the field named; other operations than
// CREATE and subresources are allowed untouched.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "admission/policy.h"

namespace drover::admission {

enum class Endpoint { kMutate, kValidate };

struct HttpReply {
  int status = 200;
  std::string body;  // application/json
};

class Reviewer {
 public:
  Reviewer();
  ~Reviewer();
  Reviewer(const Reviewer&) = delete;
  Reviewer& operator=(const Reviewer&) = delete;

  // Never throws, never fails: bad input is an error reply.
  HttpReply Review(const AdmissionPolicy& policy, Endpoint endpoint, std::string_view body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace drover::admission
