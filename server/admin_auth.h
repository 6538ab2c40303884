// Who calls the admin API, and what they may change.
//
//   ASSIGN_OR_RETURN(TokenFile tokens, TokenFile::Load("/etc/drover/admin-tokens"));
//   std::optional<Principal> p = tokens.Find(bearer_token);          // authentication
//   RETURN_IF_ERROR(AuthorizeChange(*p, active_cfg, active_yaml, proposed_yaml));   // authorization
//
// Authentication: bearer tokens from a file, one `token,user,group1|group2` per line
// (`#` comments, blank lines ignored); in a cluster also Kubernetes TokenReview
// (server/admin_authn.h, which decides the order).
//
// Authorization is declared in the quota document (queues/README.md, `admins`):
// cluster admins may change anything; an admin of a queue's subtree may change
// the queues below it (never the queue's own entry, which its parent's admins
// set) and nothing else; every authenticated principal may read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "queues/config.h"

namespace drover {

struct Principal {
  std::string user;                 // "alice"; "system:anonymous" for anonymous reads
  std::vector<std::string> groups;
  bool anonymous = false;
};

class TokenFile {
 public:
  // Parses `text`; errors name `source`, the line and the problem (never the token).
  static absl::StatusOr<TokenFile> Parse(std::string_view text, std::string_view source);
  static absl::StatusOr<TokenFile> Load(const std::string& path);
  // The principal holding `token`; nullopt if none (compared in constant time per entry).
  std::optional<Principal> Find(std::string_view token) const;
  size_t size() const { return entries_.size(); }

 private:
  std::vector<std::pair<std::string, Principal>> entries_;
};

// Whether `p` is named by `acl` (as a user, or through one of its groups).
bool InAcl(const Principal& p, const AdminAcl& acl);
// Whether `p` is a cluster admin of `active`.
bool IsClusterAdmin(const Principal& p, const QueueConfig& active);
// OK if `p` may replace the active document (`active_yaml`, parsed as `active`)
// with `proposed_yaml` (already validated). Else PermissionDenied naming the
// principal, the first queue or section the change touches that `p` may not
// change, and the permission it needs. An `active_yaml` of "" (no document
// yet) needs a cluster admin.
absl::Status AuthorizeChange(const Principal& p, const QueueConfig& active, std::string_view active_yaml,
                             std::string_view proposed_yaml);

}  // namespace drover
