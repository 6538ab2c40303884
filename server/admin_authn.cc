#include "server/admin_authn.h"

#include <openssl/sha.h>

#include "core/strings.h"

namespace drover {
namespace {

std::string TokenKey(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

}  // namespace

Authenticator::Authenticator(AuthenticatorOptions options) : options_(std::move(options)) {}

absl::StatusOr<Principal> Authenticator::Authenticate(std::string_view token) {
  if (options_.tokens) {
    if (std::optional<Principal> p = options_.tokens->Find(token)) return *p;
  }
  if (!options_.review) {
    return absl::UnauthenticatedError("authorization: the token is not known to this droverd (--admin-tokens)");
  }
  return Review(token);
}

absl::StatusOr<Principal> Authenticator::Review(std::string_view token) {
  const std::string key = TokenKey(token);
  if (std::optional<absl::StatusOr<Principal>> hit = Lookup(key)) return *std::move(hit);
  if (in_flight_.fetch_add(1) >= options_.max_in_flight) {
    in_flight_.fetch_sub(1);
    return absl::UnavailableError(StrCat("authorization: ", options_.max_in_flight,
                                         " token reviews are in flight already; retry shortly"));
  }
  reviews_sent_.fetch_add(1);
  absl::StatusOr<k8s::TokenReviewResult> r = options_.review(token);
  in_flight_.fetch_sub(1);
  if (!r.ok()) {
    return absl::UnavailableError(StrCat("authorization: could not review the token with Kubernetes: ", r.status().message()));
  }
  if (!r->authenticated) {
    absl::Status refused = absl::UnauthenticatedError(StrCat(
        "authorization: the token is not known to this droverd", options_.tokens ? " (--admin-tokens)" : "",
        " and Kubernetes did not authenticate it (TokenReview", r->error.empty() ? "" : ": ", r->error, ")"));
    Remember(key, refused, options_.failure_ttl);
    return refused;
  }
  Principal p{r->username, r->groups, false};
  Remember(key, p, options_.success_ttl);
  return p;
}

std::optional<absl::StatusOr<Principal>> Authenticator::Lookup(const std::string& key) {
  MutexLock lock(&mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  if (it->second->expires <= Now()) {
    lru_.erase(it->second);
    index_.erase(it);
    return std::nullopt;
  }
  lru_.splice(lru_.end(), lru_, it->second);  // most recently used
  return it->second->result;
}

void Authenticator::Remember(const std::string& key, absl::StatusOr<Principal> result, absl::Duration ttl) {
  if (options_.max_cached == 0 || ttl <= absl::ZeroDuration()) return;
  MutexLock lock(&mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  while (lru_.size() >= options_.max_cached) {
    index_.erase(lru_.front().key);
    lru_.pop_front();
  }
  lru_.push_back(Entry{key, Now() + ttl, std::move(result)});
  index_[key] = std::prev(lru_.end());
}

size_t Authenticator::cached() const {
  MutexLock lock(&mu_);
  return lru_.size();
}

std::string Authenticator::Describe(std::string_view tokens_path) const {
  std::string out = options_.tokens ? StrCat(options_.tokens->size(), " tokens from ", tokens_path) : "";
  if (options_.review) {
    StrAppend(&out, out.empty() ? "" : ", then ", "Kubernetes TokenReview (answers cached ",
              absl::FormatDuration(options_.success_ttl), ", refusals ", absl::FormatDuration(options_.failure_ttl), ")");
  }
  return out.empty() ? "no --admin-tokens and no TokenReview: no one can authenticate" : out;
}

absl::StatusOr<Principal> AuthenticateBearer(std::optional<std::string_view> authorization, Authenticator* authn,
                                             bool anonymous_read) {
  if (!authorization) {
    if (anonymous_read) return Principal{"system:anonymous", {}, true};
    return absl::UnauthenticatedError("no credentials: send \"authorization: Bearer TOKEN\" (droverctl --token or DROVER_TOKEN)");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization->starts_with(kBearer)) return absl::UnauthenticatedError("authorization: expected \"Bearer TOKEN\"");
  const std::string_view token = authorization->substr(kBearer.size());
  if (token.empty()) return absl::UnauthenticatedError("authorization: the bearer token is empty");
  if (authn == nullptr) return absl::UnauthenticatedError("authorization: this droverd accepts no token (no --admin-tokens)");
  return authn->Authenticate(token);
}

}  // namespace drover
