// Kubernetes Status bodies (the JSON an API server returns with an error) and
// their conversion to absl::Status.
//
//   if (resp.status != 201) return ApiError(resp, "bind ns/p to node-1");
//   // -> Aborted: "bind ns/p to node-1: HTTP 409 Conflict: pod p is already assigned to node n"
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "k8s/http_client.h"

namespace drover::k8s {

struct ApiStatus {
  int code = 0;         // Status.code, 0 if the body was not a Status
  std::string reason;   // "Conflict", "NotFound", "TooManyRequests", "Expired"
  std::string message;
};

// Best effort: fields the body does not have stay empty.
ApiStatus ParseApiStatus(std::string_view body);

// "<what>: HTTP <code> <reason>: <message>" with a matching absl code
// (404 NotFound, 409 Aborted, 410 OutOfRange, 401 Unauthenticated, 403
// PermissionDenied, 429 ResourceExhausted, 5xx Unavailable, else Unknown).
absl::Status ApiError(const HttpResponse& resp, std::string_view what);

}  // namespace drover::k8s
