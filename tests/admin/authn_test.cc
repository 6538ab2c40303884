// The admin API's authenticator: the token file before TokenReview, answers
// cached by TTL (successes and refusals), the cache bounded, reviews in flight
// bounded, and a failed review not cached.
#include "server/admin_authn.h"

#include <catch2/catch.hpp>

#include <future>

namespace drover {
namespace {

// A reviewer that knows "alice-t" and counts its calls.
struct FakeReviewer {
  int calls = 0;
  bool fail = false;
  TokenReviewer Fn() {
    return [this](std::string_view token) -> absl::StatusOr<k8s::TokenReviewResult> {
      ++calls;
      if (fail) return absl::UnavailableError("API server down");
      k8s::TokenReviewResult r;
      if (token == "alice-t") {
        r.authenticated = true;
        r.username = "alice";
        r.groups = {"research", "system:authenticated"};
      } else {
        r.error = "[invalid bearer token]";
      }
      return r;
    };
  }
};

struct Clock {
  absl::Time now = absl::FromUnixSeconds(1'000'000);
  std::function<absl::Time()> Fn() {
    return [this] { return now; };
  }
};

TEST_CASE("authn_token_file_wins_and_other_tokens_are_reviewed", "[admin][authn]") {
  absl::StatusOr<TokenFile> file = TokenFile::Parse("file-t,ops,admins\n", "tokens");
  REQUIRE(file.ok());
  FakeReviewer reviewer;
  Authenticator a({.tokens = std::make_shared<const TokenFile>(*file), .review = reviewer.Fn()});
  absl::StatusOr<Principal> p = a.Authenticate("file-t");
  REQUIRE(p.ok());
  CHECK(p->user == "ops");
  CHECK(reviewer.calls == 0);  // a file token never leaves the process
  p = a.Authenticate("alice-t");
  REQUIRE(p.ok());
  CHECK(p->user == "alice");
  CHECK(p->groups == std::vector<std::string>{"research", "system:authenticated"});
  p = a.Authenticate("bad-t");
  REQUIRE(absl::IsUnauthenticated(p.status()));
  CHECK(std::string(p.status().message()).find("[invalid bearer token]") != std::string::npos);
  CHECK(reviewer.calls == 2);
}

TEST_CASE("authn_answers_are_cached_for_their_ttl", "[admin][authn]") {
  FakeReviewer reviewer;
  Clock clock;
  Authenticator a({.review = reviewer.Fn(), .success_ttl = absl::Seconds(10), .failure_ttl = absl::Seconds(3),
                   .now = clock.Fn()});
  REQUIRE(a.Authenticate("alice-t").ok());
  REQUIRE_FALSE(a.Authenticate("bad-t").ok());
  CHECK(reviewer.calls == 2);
  clock.now += absl::Seconds(2);
  REQUIRE(a.Authenticate("alice-t").ok());
  REQUIRE_FALSE(a.Authenticate("bad-t").ok());
  CHECK(reviewer.calls == 2);  // both from the cache
  clock.now += absl::Seconds(2);  // 4 s: the refusal expired, the success not
  REQUIRE_FALSE(a.Authenticate("bad-t").ok());
  REQUIRE(a.Authenticate("alice-t").ok());
  CHECK(reviewer.calls == 3);
  clock.now += absl::Seconds(7);  // 11 s: the success expired too
  REQUIRE(a.Authenticate("alice-t").ok());
  CHECK(reviewer.calls == 4);
}

TEST_CASE("authn_cache_is_bounded_under_a_flood_of_bad_tokens", "[admin][authn]") {
  FakeReviewer reviewer;
  Authenticator a({.review = reviewer.Fn(), .max_cached = 64});
  REQUIRE(a.Authenticate("alice-t").ok());
  for (int i = 0; i < 10'000; ++i) {
    REQUIRE(absl::IsUnauthenticated(a.Authenticate("flood-" + std::to_string(i)).status()));
    REQUIRE(a.cached() <= 64);
  }
  CHECK(a.cached() == 64);
  const int before = reviewer.calls;
  REQUIRE(a.Authenticate("flood-9999").ok() == false);  // recent: still cached
  CHECK(reviewer.calls == before);
  REQUIRE(a.Authenticate("alice-t").ok());  // evicted long ago (least recently used): reviewed again
  CHECK(reviewer.calls == before + 1);
}

TEST_CASE("authn_a_failed_review_is_unavailable_and_not_cached", "[admin][authn]") {
  FakeReviewer reviewer;
  reviewer.fail = true;
  Authenticator a({.review = reviewer.Fn()});
  absl::StatusOr<Principal> p = a.Authenticate("alice-t");
  REQUIRE(absl::IsUnavailable(p.status()));
  CHECK(std::string(p.status().message()).find("API server down") != std::string::npos);
  reviewer.fail = false;
  CHECK(a.Authenticate("alice-t").ok());
  CHECK(reviewer.calls == 2);
}

TEST_CASE("authn_reviews_in_flight_are_bounded", "[admin][authn]") {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;
  TokenReviewer slow = [&](std::string_view) -> absl::StatusOr<k8s::TokenReviewResult> {
    entered.set_value();
    released.wait();
    return k8s::TokenReviewResult{};
  };
  Authenticator a({.review = slow, .max_in_flight = 1});
  auto first = std::async(std::launch::async, [&a] { return a.Authenticate("one").status(); });
  entered.get_future().wait();
  absl::StatusOr<Principal> second = a.Authenticate("two");
  REQUIRE(absl::IsUnavailable(second.status()));
  CHECK(std::string(second.status().message()).find("in flight") != std::string::npos);
  release.set_value();
  CHECK(absl::IsUnauthenticated(first.get()));
}

TEST_CASE("authn_bearer_header_is_checked_before_any_review", "[admin][authn]") {
  FakeReviewer reviewer;
  Authenticator a({.review = reviewer.Fn()});
  CHECK(absl::IsUnauthenticated(AuthenticateBearer(std::nullopt, &a, false).status()));
  CHECK(AuthenticateBearer(std::nullopt, &a, true)->anonymous);
  CHECK(absl::IsUnauthenticated(AuthenticateBearer("Basic abc", &a, false).status()));
  CHECK(absl::IsUnauthenticated(AuthenticateBearer("Bearer ", &a, false).status()));
  CHECK(absl::IsUnauthenticated(AuthenticateBearer("Bearer alice-t", nullptr, false).status()));
  CHECK(reviewer.calls == 0);
  CHECK(AuthenticateBearer("Bearer alice-t", &a, false)->user == "alice");
}

}  // namespace
}  // namespace drover
