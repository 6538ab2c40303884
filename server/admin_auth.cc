#include "server/admin_auth.h"

#include <algorithm>

#include <cctype>
#include "core/status_macros.h"
#include "k8s/small_file.h"
#include "core/strings.h"
#include "yaml-cpp/yaml.h"

namespace drover {
namespace {

// Splits `s` at every `sep` (empty pieces kept).
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}


bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// Structural equality: mappings by key (order does not matter), sequences in order, scalars by text.
bool YamlEqual(const YAML::Node& a, const YAML::Node& b) {
  const bool a_null = !a || a.IsNull(), b_null = !b || b.IsNull();
  if (a_null || b_null) return a_null == b_null;
  if (a.Type() != b.Type()) return false;
  if (a.IsScalar()) return a.Scalar() == b.Scalar();
  if (a.size() != b.size()) return false;
  if (a.IsSequence()) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (!YamlEqual(a[i], b[i])) return false;
    }
    return true;
  }
  for (const auto& kv : a) {
    const std::string key = kv.first.Scalar();
    if (!b[key] || !YamlEqual(kv.second, b[key])) return false;
  }
  return true;
}

// A mapping without the keys in `skip`.
YAML::Node Without(const YAML::Node& node, std::initializer_list<std::string_view> skip) {
  YAML::Node out(YAML::NodeType::Map);
  if (!node || !node.IsMap()) return node ? YAML::Clone(node) : out;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    if (std::find(skip.begin(), skip.end(), key) == skip.end()) out[key] = kv.second;
  }
  return out;
}

const QueueSpec* FindChild(const QueueSpec* q, const std::string& name) {
  if (q == nullptr) return nullptr;
  for (const QueueSpec& c : q->children) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::vector<std::string> ChildNames(const YAML::Node& queue) {
  std::vector<std::string> out;
  const YAML::Node children = queue && queue.IsMap() ? queue["children"] : YAML::Node();
  if (!children || !children.IsSequence()) return out;
  for (const auto& c : children) out.push_back(c.IsMap() && c["name"] ? c["name"].Scalar() : "");
  return out;
}

YAML::Node ChildNamed(const YAML::Node& queue, const std::string& name) {
  for (const auto& c : queue["children"]) {
    if (c.IsMap() && c["name"] && c["name"].Scalar() == name) return c;
  }
  return YAML::Node();
}

absl::Status Denied(const Principal& p, std::string_view what, std::string_view needs) {
  return absl::PermissionDeniedError(StrCat("\"", p.user, "\" may not change ", what, ": that needs ", needs,
                                            " (queues/README.md, admins)"));
}

std::string Parent(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

// Compares one queue of both documents. `admin_above`: p administers a strict
// ancestor (or is a cluster admin), so may change this queue's own entry.
absl::Status CheckQueue(const Principal& p, const QueueSpec* spec, const YAML::Node& active, const YAML::Node& proposed,
                        const std::string& path, bool admin_above) {
  const bool admin_here = admin_above || (spec != nullptr && InAcl(p, spec->admins));
  if (!admin_above && !YamlEqual(Without(active, {"children", "name"}), Without(proposed, {"children", "name"}))) {
    const std::string parent = Parent(path);
    return Denied(p, StrCat("queue ", path, "'s own entry (guaranteed, max, weight, limits, submit, admins)"),
                  parent.empty() ? "a cluster admin" : StrCat("an admin of ", parent, " or above"));
  }
  const std::vector<std::string> before = ChildNames(active), after = ChildNames(proposed);
  if (!admin_here && before != after) {
    return Denied(p, StrCat("the queues under ", path, " (added, removed or reordered)"),
                  StrCat("an admin of ", path, " or above"));
  }
  for (const std::string& name : after) {
    if (std::find(before.begin(), before.end(), name) == before.end()) continue;  // new: admin_here checked above
    absl::Status s = CheckQueue(p, FindChild(spec, name), ChildNamed(active, name), ChildNamed(proposed, name),
                                StrCat(path, ".", name), admin_here);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TokenFile> TokenFile::Parse(std::string_view text, std::string_view source) {
  TokenFile out;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> fields;
    for (std::string_view f : Split(line, ',')) fields.emplace_back(Trim(f));
    if (fields.size() < 2 || fields.size() > 3 || fields[0].empty() || fields[1].empty()) {
      return absl::InvalidArgumentError(
          StrCat(source, ":", line_no, ": expected token,user[,group1|group2] (", fields.size(), " fields)"));
    }
    Principal p{fields[1], {}, false};
    for (std::string_view g : fields.size() == 3 ? Split(fields[2], '|') : std::vector<std::string_view>{}) {
      if (!Trim(g).empty()) p.groups.emplace_back(Trim(g));
    }
    for (const auto& [token, other] : out.entries_) {
      if (token == fields[0]) {
        return absl::InvalidArgumentError(StrCat(source, ":", line_no, ": a token given already (for \"", other.user, "\")"));
      }
    }
    out.entries_.emplace_back(fields[0], std::move(p));
  }
  return out;
}

absl::StatusOr<TokenFile> TokenFile::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile("--admin-tokens", path, 1 << 20));
  return Parse(text, path);
}

std::optional<Principal> TokenFile::Find(std::string_view token) const {
  std::optional<Principal> found;
  for (const auto& [t, p] : entries_) {
    if (ConstantTimeEqual(t, token) && !found) found = p;
  }
  return found;
}

bool InAcl(const Principal& p, const AdminAcl& acl) {
  if (p.anonymous) return false;
  if (std::find(acl.users.begin(), acl.users.end(), p.user) != acl.users.end()) return true;
  return std::any_of(p.groups.begin(), p.groups.end(), [&acl](const std::string& g) {
    return std::find(acl.groups.begin(), acl.groups.end(), g) != acl.groups.end();
  });
}

bool IsClusterAdmin(const Principal& p, const QueueConfig& active) { return InAcl(p, active.cluster_admins); }

absl::Status AuthorizeChange(const Principal& p, const QueueConfig& active, std::string_view active_yaml,
                             std::string_view proposed_yaml) {
  if (p.anonymous) return Denied(p, "the configuration", "an authenticated cluster or queue admin");
  if (IsClusterAdmin(p, active)) return absl::OkStatus();
  if (active_yaml.empty()) return Denied(p, "the configuration (none is active yet)", "a cluster admin");
  YAML::Node a, b;
  try {
    a = YAML::Load(std::string(active_yaml));
    b = YAML::Load(std::string(proposed_yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat("document: invalid YAML: ", e.msg));
  }
  const YAML::Node a_rest = Without(a, {"queues"}), b_rest = Without(b, {"queues"});
  if (!YamlEqual(a_rest, b_rest)) {
    for (const auto& kv : b_rest.IsMap() ? b_rest : a_rest) {
      const std::string key = kv.first.Scalar();
      if (!YamlEqual(a_rest[key], b_rest[key])) return Denied(p, StrCat("section ", key), "a cluster admin");
    }
    return Denied(p, "the document's sections outside queues", "a cluster admin");
  }
  return CheckQueue(p, &active.root, a["queues"], b["queues"], "root", /*admin_above=*/false);
}

}  // namespace drover
