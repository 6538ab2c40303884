// Who holds a bearer token presented to the admin API or the page's endpoints.
//
//   Authenticator authn({.tokens = token_file, .review = [http](std::string_view t) {
//     return k8s::ReviewToken(http, t, {}); }});
//   ASSIGN_OR_RETURN(Principal p, authn.Authenticate(token));
//
// Precedence: the token file (`--admin-tokens`) first, then Kubernetes TokenReview
// (droverd in a cluster, `--admin-token-review`). A token in the file never leaves
// the process; any other token is sent to the API server once per TTL.
//
// TokenReview answers are cached by the token's SHA-256 (the token itself is not
// kept), successes for `success_ttl` and refusals for `failure_ttl`, in a cache of
// at most `max_cached` entries (least recently used evicted), so a flood of bad
// tokens costs bounded memory. At most `max_in_flight` reviews run at once; beyond
// that the caller is told to retry (UNAVAILABLE), so a flood cannot tie up the API
// server or gRPC's threads. A review that fails (API server down, 403) is not cached.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/sync.h"
#include "k8s/token_review.h"
#include "server/admin_auth.h"

namespace drover {

// Reviews one token elsewhere (k8s::ReviewToken); an error means undecided.
using TokenReviewer = std::function<absl::StatusOr<k8s::TokenReviewResult>(std::string_view token)>;

struct AuthenticatorOptions {
  std::shared_ptr<const TokenFile> tokens;  // --admin-tokens; null: none
  TokenReviewer review;                     // null: no TokenReview
  absl::Duration success_ttl = absl::Seconds(10);
  absl::Duration failure_ttl = absl::Seconds(10);
  size_t max_cached = 4096;
  int max_in_flight = 8;
  std::function<absl::Time()> now;  // null: absl::Now
};

class Authenticator {
 public:
  explicit Authenticator(AuthenticatorOptions options);

  // The principal holding `token`. Unauthenticated when neither the file nor the
  // API server knows it (the message says which were asked and, for TokenReview,
  // its status.error); Unavailable when a review could not be made. Thread-safe.
  absl::StatusOr<Principal> Authenticate(std::string_view token);

  // "3 tokens from FILE, then Kubernetes TokenReview (cached 10s)" for the start-up log.
  std::string Describe(std::string_view tokens_path) const;
  size_t cached() const;
  int64_t reviews_sent() const { return reviews_sent_.load(); }

 private:
  struct Entry {
    std::string key;  // SHA-256 of the token
    absl::Time expires;
    absl::StatusOr<Principal> result;
  };
  absl::Time Now() const { return options_.now ? options_.now() : absl::Now(); }
  // The cached answer for `key`, if fresh (an expired one is dropped).
  std::optional<absl::StatusOr<Principal>> Lookup(const std::string& key);
  void Remember(const std::string& key, absl::StatusOr<Principal> result, absl::Duration ttl);
  absl::StatusOr<Principal> Review(std::string_view token);

  const AuthenticatorOptions options_;
  mutable Mutex mu_;
  std::list<Entry> lru_ ABSL_GUARDED_BY(mu_);  // most recently used last
  absl::flat_hash_map<std::string, std::list<Entry>::iterator> index_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> in_flight_{0};
  std::atomic<int64_t> reviews_sent_{0};
};

// The caller of the admin API (gRPC metadata or the HTTP header "authorization",
// whose value is `authorization`; nullopt when none was sent). Unauthenticated,
// saying what to send, without a header (unless `anonymous_read`: then the
// anonymous principal, who may only read), with one that is not "Bearer TOKEN",
// or with a token `authn` does not know (null: no one authenticates).
absl::StatusOr<Principal> AuthenticateBearer(std::optional<std::string_view> authorization, Authenticator* authn,
                                             bool anonymous_read);

}  // namespace drover
