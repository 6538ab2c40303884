// Internals of ParseQueueConfig shared by config.cc (document, catalog, policies)
// and config_validate.cc (YAML field helpers, the queue tree and its quota checks).
// Not part of the module's interface: include only from those two files.
//
// Every helper reports problems into one Errors collector and returns what it
// could still read (std::nullopt for a bad value), so that one pass over the
// document finds every error.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/gpu_catalog.h"
#include "queues/config.h"
#include "yaml-cpp/yaml.h"

namespace drover::config_internal {

// The errors of one document, each rendered "source:line: path: message".
class Errors {
 public:
  explicit Errors(std::string_view source) : source_(source) {}

  void Add(const YAML::Mark& at, std::string_view path, std::string_view message);
  // A node that is not in the document (a missing key) has no position.
  void Add(const YAML::Node& at, std::string_view path, std::string_view message) {
    Add(at.IsDefined() ? at.Mark() : YAML::Mark::null_mark(), path, message);
  }
  bool empty() const { return entries_.empty(); }
  // InvalidArgument listing every error, one per line, in document order; past
  // kMaxErrorsListed, a last line says how many more there were.
  absl::Status ToStatus() const;
  // Every listed error, structured, in document order.
  std::vector<ConfigError> Structured() const;

 private:
  struct Entry {
    int line;
    std::string text;
    ConfigError error;
  };
  std::string source_;
  std::vector<Entry> entries_;
  size_t unlisted_ = 0;  // errors past kMaxErrorsListed
};

// One entry of a YAML mapping.
struct Field {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};
using Fields = std::vector<Field>;

// The entries of a mapping. Errors: `node` is not a mapping (a null node is an
// empty mapping), a key that is not a plain string, a key given twice.
Fields MapEntries(const YAML::Node& node, std::string_view path, Errors& errors);
// Like MapEntries, but also an error (with a "did you mean" hint) for each key
// not in `known`; only known keys are returned.
Fields MapFields(const YAML::Node& node, std::string_view path, std::initializer_list<std::string_view> known,
                 Errors& errors);
const Field* Find(const Fields& fields, std::string_view key);
// The items of a sequence; error if `node` is anything else (null = empty).
std::vector<YAML::Node> Items(const YAML::Node& node, std::string_view path, Errors& errors);

// Scalar readers: error (naming path and value) and std::nullopt when the node is
// not a scalar or the value is out of range.
std::optional<std::string> ReadString(const YAML::Node& node, std::string_view path, Errors& errors);
std::optional<int64_t> ReadInt(const YAML::Node& node, std::string_view path, int64_t min, int64_t max, Errors& errors);
std::optional<double> ReadPositiveNumber(const YAML::Node& node, std::string_view path, Errors& errors);
// A non-negative Kubernetes quantity in milli-units (cpu, GPUs) or whole units (bytes).
enum class Unit { kMilli, kUnits };
std::optional<int64_t> ReadQuantity(const YAML::Node& node, std::string_view path, Unit unit, Errors& errors);

// " (did you mean \"x\"?)" for the candidate closest to `word`, or "" if none is close.
std::string Suggest(std::string_view word, const std::vector<std::string>& candidates);
std::string Quote(std::string_view s);
// Node kind for messages: "a mapping", "a list", "a value", "nothing".
std::string_view KindOf(const YAML::Node& node);
std::string Join(std::string_view a, std::string_view b);  // "a.b"
std::string Index(std::string_view path, size_t i);        // "path[i]"
// Whether `name` is a queue name: [a-z0-9]([-a-z0-9_]*[a-z0-9])?, at most 63 chars.
bool IsQueueName(std::string_view name);
// Whether `key` is a Kubernetes label key: an optional DNS-subdomain prefix and
// '/', then a name of at most 63 characters.
bool IsLabelKey(std::string_view key);
// Whether `name` is a Kubernetes DNS label (namespace names).
bool IsDnsLabel(std::string_view name);
std::vector<std::string> TypeNames(const GpuCatalog& catalog);

// One quota dimension as written: value and where. Dimensions are keyed "cpu",
// "memory" and "gpu.<type>", which is also how they appear in error paths.
struct Amount {
  int64_t value = 0;
  YAML::Mark mark;
};
using QuotaDraft = std::map<std::string, Amount>;

// A queue as read, with what the cross-checks need to point at the source.
struct QueueDraft {
  std::string name;
  std::string path;   // "root.safety"; "root.children[2]" while the name is invalid
  bool named = true;  // false when the name is missing or invalid
  YAML::Mark mark;
  double weight = 1.0;
  QuotaDraft guaranteed;
  QuotaDraft max;
  QueueLimits limits;
  SubmitAcl submit;
  AdminAcl admins;
  QueueAdmissionRules admission;
  std::vector<QueueDraft> children;
};

// Reads the `queues:` tree (null = a lone root). Types in gpu maps are checked
// against `catalog`.
QueueDraft ParseQueueTree(const YAML::Node& node, const GpuCatalog& catalog, Errors& errors);
// Max against guaranteed, against the inherited max, and the children's sums.
void CheckQueueTree(const QueueDraft& root, Errors& errors);
// Path -> whether it is a leaf, for every queue with a valid name.
std::map<std::string, bool> QueuePaths(const QueueDraft& root);
QueueSpec BuildQueueSpec(const QueueDraft& draft);
// A queue's `admission` key (config_admission.cc).
QueueAdmissionRules ReadQueueAdmission(const YAML::Node& node, const std::string& path, Errors& errors);
// The top-level `admission` section (config_admission.cc); GPU types checked against `catalog`.
AdmissionSettings ReadAdmissionSection(const YAML::Node& node, const GpuCatalog& catalog, Errors& errors);
// The top-level `topology` section (config_topology.cc): its levels, widest first.
std::vector<TopologyLevel> ReadTopologySection(const YAML::Node& node, Errors& errors);
// Reads an `admins: {users: [...], groups: [...]}` mapping.
AdminAcl ReadAdmins(const YAML::Node& node, const std::string& path, Errors& errors);

}  // namespace drover::config_internal
