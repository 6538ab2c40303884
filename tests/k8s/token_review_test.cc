// TokenReview: the request body, the answer's status read as documented
// (authenticated, user, groups, audiences, error), and a review through the
// test API server's table.
#include "k8s/token_review.h"

#include <catch2/catch.hpp>

#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

TEST_CASE("token_review_body_carries_the_token_and_audiences", "[k8s][tokenreview]") {
  CHECK(TokenReviewBody("a\"b", {}) ==
        R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"a\"b"}})");
  CHECK(TokenReviewBody("t", {"x", "y"}).find(R"("audiences":["x","y"])") != std::string::npos);
}

TEST_CASE("token_review_status_is_read_as_documented", "[k8s][tokenreview]") {
  absl::StatusOr<TokenReviewResult> r = ParseTokenReview(
      R"({"kind":"TokenReview","status":{"authenticated":true,"user":{"username":"alice","uid":"u1",
          "groups":["team","system:authenticated"],"extra":{"k":["v"]}},"audiences":["api"]}})",
      {});
  REQUIRE(r.ok());
  CHECK(r->authenticated);
  CHECK(r->username == "alice");
  CHECK(r->uid == "u1");
  CHECK(r->groups == std::vector<std::string>{"team", "system:authenticated"});
  CHECK(r->audiences == std::vector<std::string>{"api"});

  // Not authenticated: the field is omitted (Go's omitempty), the error says why.
  r = ParseTokenReview(R"({"status":{"user":{},"error":"[invalid bearer token]"}})", {});
  REQUIRE(r.ok());
  CHECK_FALSE(r->authenticated);
  CHECK(r->error == "[invalid bearer token]");

  // Authenticated, but for no audience we asked about: refused, naming both lists.
  r = ParseTokenReview(R"({"status":{"authenticated":true,"user":{"username":"bot"},"audiences":["other"]}})", {"drover"});
  REQUIRE(r.ok());
  CHECK_FALSE(r->authenticated);
  CHECK(r->error.find("[other]") != std::string::npos);
  CHECK(r->error.find("[drover]") != std::string::npos);

  // Authenticated without a user name: nothing to authorize, refused.
  r = ParseTokenReview(R"({"status":{"authenticated":true,"user":{}}})", {});
  REQUIRE(r.ok());
  CHECK_FALSE(r->authenticated);
}

TEST_CASE("token_review_wrong_types_are_errors_naming_the_field", "[k8s][tokenreview]") {
  absl::StatusOr<TokenReviewResult> r = ParseTokenReview(R"({"status":{"user":{"groups":["a",7]}}})", {});
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).find("status.user.groups") != std::string::npos);
  r = ParseTokenReview(R"({"status":{"authenticated":"yes"}})", {});
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).find("status.authenticated") != std::string::npos);
  CHECK_FALSE(ParseTokenReview("not json", {}).ok());
}

TEST_CASE("token_review_through_the_api_server", "[k8s][tokenreview][integration]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  REQUIRE(server.Control("/_control/tokens",
                         R"({"tokens":{"alice-t":{"username":"alice","groups":["research-admins"]}}})").ok());
  auto http = server.Client();
  absl::StatusOr<TokenReviewResult> r = ReviewToken(http.get(), "alice-t", {});
  REQUIRE(r.ok());
  CHECK(r->authenticated);
  CHECK(r->username == "alice");
  CHECK(r->groups == std::vector<std::string>{"research-admins", "system:authenticated"});
  r = ReviewToken(http.get(), "unknown-t", {});
  REQUIRE(r.ok());
  CHECK_FALSE(r->authenticated);
  CHECK(r->error.find("invalid bearer token") != std::string::npos);
  // The API server refusing the review itself (droverd lacking RBAC: 403) is an error, not a "no".
  REQUIRE(server.Control("/_control/faults", R"({"fail_next":{"path_regex":"tokenreviews","code":403,"count":1}})").ok());
  r = ReviewToken(http.get(), "alice-t", {});
  REQUIRE_FALSE(r.ok());
  CHECK(absl::IsPermissionDenied(r.status()));
}

}  // namespace
}  // namespace drover::k8s::testing
