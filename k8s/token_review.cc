#include "k8s/token_review.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "k8s/api_status.h"
#include "k8s/decode_internal.h"
#include "k8s/json_util.h"

namespace drover::k8s {

namespace od = simdjson::ondemand;
using internal::ForEachField;
using internal::ForEachFieldOf;
using internal::ReadBool;
using internal::ReadString;
using internal::ReadStringList;
using internal::WithPrefix;

namespace {

absl::Status ReadUser(od::value v, TokenReviewResult* r) {
  return ForEachField(v, "status.user", [r](std::string_view key, od::value f) -> absl::Status {
    if (key == "username") return ReadString(f, "status.user.username", &r->username);
    if (key == "uid") return ReadString(f, "status.user.uid", &r->uid);
    if (key == "groups") return ReadStringList(f, "status.user.groups", &r->groups);
    return absl::OkStatus();  // extra: not used for authorization here
  });
}

absl::Status ReadStatus(od::value v, TokenReviewResult* r) {
  return ForEachField(v, "status", [r](std::string_view key, od::value f) -> absl::Status {
    if (key == "authenticated") return ReadBool(f, "status.authenticated", &r->authenticated);
    if (key == "user") return ReadUser(f, r);
    if (key == "audiences") return ReadStringList(f, "status.audiences", &r->audiences);
    if (key == "error") {
      std::string error;
      RETURN_IF_ERROR(ReadString(f, "status.error", &error));
      r->error = CutForMessage(error, 4 * kMaxQuotedBytes);
      return absl::OkStatus();
    }
    return absl::OkStatus();
  });
}

}  // namespace

std::string TokenReviewBody(std::string_view token, const std::vector<std::string>& audiences) {
  std::string body = StrCat(R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":)",
                            JsonQuote(token));
  if (!audiences.empty()) {
    body += ",\"audiences\":[";
    for (size_t i = 0; i < audiences.size(); ++i) StrAppend(&body, i ? "," : "", JsonQuote(audiences[i]));
    body += "]";
  }
  body += "}}";
  return body;
}

absl::StatusOr<TokenReviewResult> ParseTokenReview(std::string_view body, const std::vector<std::string>& audiences) {
  TokenReviewResult r;
  od::parser parser;
  std::string scratch;
  od::document doc;
  od::object root;
  RETURN_IF_ERROR(internal::ParseRootObject(parser, body, "TokenReview", &scratch, &doc, &root));
  RETURN_IF_ERROR(WithPrefix("TokenReview: ", ForEachFieldOf(root, "TokenReview", [&r](std::string_view key, od::value v) {
    return key == "status" ? ReadStatus(v, &r) : absl::OkStatus();
  })));
  if (r.authenticated && r.username.empty()) {
    r.authenticated = false;
    r.error = "the API server authenticated the token but named no user (status.user.username)";
  }
  if (r.authenticated && !audiences.empty() &&
      std::none_of(r.audiences.begin(), r.audiences.end(), [&audiences](const std::string& a) {
        return std::find(audiences.begin(), audiences.end(), a) != audiences.end();
      })) {
    r.authenticated = false;
    r.error = StrCat("the token is not for this audience: status.audiences [", CutForMessage(absl::StrJoin(r.audiences, ",")),
                     "] names none of [", CutForMessage(absl::StrJoin(audiences, ",")), "]");
  }
  return r;
}

absl::StatusOr<TokenReviewResult> ReviewToken(HttpClient* http, std::string_view token,
                                              const std::vector<std::string>& audiences) {
  HttpRequest req;
  req.method = "POST";
  req.path = std::string(kTokenReviewPath);
  req.body = TokenReviewBody(token, audiences);
  ASSIGN_OR_RETURN(HttpResponse resp, http->Send(req));
  if (resp.status != 201 && resp.status != 200) return ApiError(resp, "TokenReview");
  return ParseTokenReview(resp.body, audiences);
}

}  // namespace drover::k8s
