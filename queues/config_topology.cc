// The quota document's `topology` section: the cluster's topology levels that
// gangs may name in drover.io/topology-required and drover.io/topology-preferred
// (queues/README.md, "topology").
//
//   topology:
//     levels:
//       - {name: zone, node_label: topology.kubernetes.io/zone}
//       - {name: rack, node_label: example.com/rack}
#include "absl/strings/str_join.h"
#include "core/model.h"
#include "core/strings.h"
#include "queues/config_internal.h"

namespace drover {

int FindTopologyLevel(const std::vector<TopologyLevel>& levels, std::string_view name) {
  for (size_t i = 0; i < levels.size(); ++i) {
    if (levels[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string ResolveTopologyIntent(const std::vector<TopologyLevel>& levels, const Pod& pod, int* required,
                                  int* preferred) {
  *required = *preferred = -1;
  auto resolve = [&](std::string_view annotation, const std::string& name, int* out) -> std::string {
    if (name.empty()) return "";
    *out = FindTopologyLevel(levels, name);
    if (*out >= 0) return "";
    std::vector<std::string> names;
    for (const TopologyLevel& l : levels) names.push_back(l.name);
    return StrCat("pod ", pod.Key(), ": annotation ", annotation, ": \"", name,
                  "\" is not a topology level of the quota document (",
                  names.empty() ? "it declares none: see topology.levels" : StrCat("levels: ", absl::StrJoin(names, ", ")),
                  ")");
  };
  std::string error = resolve(annotations::kTopologyRequired, pod.intent.topology_required, required);
  if (error.empty()) {
    error = resolve(annotations::kTopologyPreferred, pod.intent.topology_preferred, preferred);
  }
  if (error.empty() && *required >= 0 && *preferred >= 0 && *preferred <= *required) {
    error = StrCat("pod ", pod.Key(), ": annotation ", annotations::kTopologyPreferred, ": \"",
                   pod.intent.topology_preferred, "\" must name a level narrower than ",
                   annotations::kTopologyRequired, " \"", pod.intent.topology_required,
                   "\" (levels run widest first in topology.levels)");
  }
  if (!error.empty()) *required = *preferred = -1;
  return error;
}

namespace config_internal {
namespace {

// One entry of `levels`; nullopt (errors reported) when it is unusable.
std::optional<TopologyLevel> ReadLevel(const YAML::Node& node, const std::string& path, Errors& errors) {
  const Fields fields = MapFields(node, path, {"name", "node_label"}, errors);
  TopologyLevel level;
  bool ok = true;
  for (const char* key : {"name", "node_label"}) {
    const Field* f = Find(fields, key);
    if (f == nullptr) {
      if (node.IsMap()) errors.Add(node, path, StrCat("a level needs a ", key));
      ok = false;
      continue;
    }
    std::optional<std::string> v = ReadString(f->value, Join(path, key), errors);
    if (!v) {
      ok = false;
    } else if (std::string_view(key) == "name" && !IsTopologyLevelName(*v)) {
      errors.Add(f->value, Join(path, key),
                 StrCat(Quote(CutForMessage(*v)), " is not a level name (lower-case letters, digits, '-' and '_', "
                        "starting and ending with a letter or digit, at most 63)"));
      ok = false;
    } else if (std::string_view(key) == "node_label" && !IsLabelKey(*v)) {
      errors.Add(f->value, Join(path, key), StrCat(Quote(CutForMessage(*v)), " is not a Kubernetes label key"));
      ok = false;
    } else {
      (std::string_view(key) == "name" ? level.name : level.node_label) = std::move(*v);
    }
  }
  if (!ok) return std::nullopt;
  return level;
}

}  // namespace

std::vector<TopologyLevel> ReadTopologySection(const YAML::Node& node, Errors& errors) {
  std::vector<TopologyLevel> out;
  const Fields fields = MapFields(node, "topology", {"levels"}, errors);
  const Field* f = Find(fields, "levels");
  if (f == nullptr) return out;
  const std::string path = "topology.levels";
  const std::vector<YAML::Node> items = Items(f->value, path, errors);
  if (items.size() > static_cast<size_t>(kMaxTopologyLevels)) {
    errors.Add(items[kMaxTopologyLevels], Index(path, kMaxTopologyLevels),
               StrCat(items.size(), " levels listed; the limit is ", kMaxTopologyLevels));
    return out;
  }
  for (size_t i = 0; i < items.size(); ++i) {
    std::optional<TopologyLevel> level = ReadLevel(items[i], Index(path, i), errors);
    if (!level) continue;
    bool dup = false;
    for (const TopologyLevel& other : out) {
      if (other.name == level->name) {
        errors.Add(items[i], Join(Index(path, i), "name"), StrCat(Quote(level->name), " is given twice"));
        dup = true;
      } else if (other.node_label == level->node_label) {
        errors.Add(items[i], Join(Index(path, i), "node_label"),
                   StrCat(Quote(level->node_label), " is already the label of level ", Quote(other.name)));
        dup = true;
      }
    }
    if (!dup) out.push_back(std::move(*level));
  }
  return out;
}

}  // namespace config_internal
}  // namespace drover
