// Kubernetes TokenReview (authentication.k8s.io/v1): asks the API server who
// holds a bearer token, as kube-rbac-proxy and aggregated API servers do.
//
//   ASSIGN_OR_RETURN(TokenReviewResult r, ReviewToken(http, token, /*audiences=*/{}));
//   if (!r.authenticated) return Unauthenticated(r.error);
//   Principal{r.username, r.groups};
//
// The request is POST /apis/authentication.k8s.io/v1/tokenreviews with
// {"spec":{"token", "audiences"?}}; the API server answers 201 with the object and
// its status {authenticated, user {username, uid, groups}, audiences, error}. With
// `audiences` given, a token is taken only when status.audiences names one of them
// (the documented check for audience-aware callers); without, the token must be
// valid for the API server itself (a service account's or a user's kubectl token).
// droverd's credentials need `create` on tokenreviews (deploy/10-rbac.yaml).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "k8s/http_client.h"

namespace drover::k8s {

struct TokenReviewResult {
  bool authenticated = false;
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
  std::vector<std::string> audiences;  // status.audiences
  std::string error;                   // status.error (why not authenticated), cut short
};

inline constexpr std::string_view kTokenReviewPath = "/apis/authentication.k8s.io/v1/tokenreviews";

// The request body for `token` (and `audiences`, omitted when empty).
std::string TokenReviewBody(std::string_view token, const std::vector<std::string>& audiences);

// Reads the status of a TokenReview answer. With `audiences` non-empty, an
// authenticated answer whose status.audiences names none of them is turned into
// not authenticated (error says so). Error: not JSON, or a field of the wrong type
// (named, e.g. "status.user.groups[1]").
absl::StatusOr<TokenReviewResult> ParseTokenReview(std::string_view body, const std::vector<std::string>& audiences);

// One review through `http` (201 expected). Error: the request failed or the API
// server refused it (ApiError: 403 when droverd may not create tokenreviews,
// Unavailable when unreachable), or the answer did not parse.
absl::StatusOr<TokenReviewResult> ReviewToken(HttpClient* http, std::string_view token,
                                              const std::vector<std::string>& audiences);

}  // namespace drover::k8s
