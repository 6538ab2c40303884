// Pod JSON -> PodConstraints: spec.affinity.podAffinity / podAntiAffinity and
// spec.topologySpreadConstraints. Only the structure is read here; values are
// judged by core's FinishPodConstraints (via DecodePod), like the simulator's YAML.
// Lists past the bounds of core/pod_constraints.h are not stored: the pod gets
// the error instead.
#include <algorithm>

#include "core/strings.h"
#include "k8s/decode_internal.h"

namespace drover::k8s::internal {
namespace {

// Calls fn(i, value) for the first `cap` elements; a longer list is an error on `c`.
template <typename Fn>
absl::Status ForFirst(od::value v, std::string_view field, std::string_view path, size_t cap, PodConstraints* c,
                      Fn&& fn) {
  return ForEachElement(v, field, [&](size_t i, od::value el) -> absl::Status {
    if (i >= cap) {
      NoteConstraintError(c, path, StrCat(i + 1, " entries"), StrCat("is more than the limit of ", cap));
      return absl::OkStatus();
    }
    return WithPrefix(StrCat(field, "[", i, "]."), fn(i, el));
  });
}

absl::Status ReadBoundedList(od::value v, std::string_view field, PodConstraints* c, std::vector<std::string>* out) {
  absl::Status s = ReadStringList(v, field, out);
  if (out->size() > kMaxSelectorRequirements) {
    NoteConstraintError(c, field, StrCat(out->size(), " entries"), StrCat("is more than the limit of ", kMaxSelectorRequirements));
    out->resize(kMaxSelectorRequirements);
  }
  return s;
}

absl::Status ReadSelector(od::value v, PodConstraints* c, LabelSelector* sel) {
  if (IsNull(v)) return absl::OkStatus();
  sel->present = true;
  return ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "matchLabels") {
      Labels labels;
      absl::Status s = ReadStringMap(val, "matchLabels", &labels);
      for (const auto& kv : labels.items()) {
        if (sel->match_labels.size() >= kMaxSelectorRequirements) {
          NoteConstraintError(c, "matchLabels", StrCat(labels.size(), " entries"),
                              StrCat("is more than the limit of ", kMaxSelectorRequirements));
          break;
        }
        sel->match_labels.push_back(kv);
      }
      return s;
    }
    if (key != "matchExpressions") return absl::OkStatus();
    return ForFirst(val, "matchExpressions", "matchExpressions", kMaxSelectorRequirements, c,
                    [&](size_t, od::value e) -> absl::Status {
                      LabelSelector::Requirement r;
                      absl::Status s = ForEachField(e, "", [&](std::string_view k, od::value x) -> absl::Status {
                        if (k == "key") return ReadString(x, "key", &r.key);
                        if (k == "operator") return ReadString(x, "operator", &r.op_text);
                        if (k == "values") return ReadBoundedList(x, "values", c, &r.values);
                        return absl::OkStatus();
                      });
                      sel->match_expressions.push_back(std::move(r));
                      return s;
                    });
  });
}

absl::Status ReadTerm(od::value v, PodConstraints* c, PodAffinityTerm* t) {
  return ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "labelSelector") return WithPrefix("labelSelector.", ReadSelector(val, c, &t->selector));
    if (key == "namespaceSelector") return WithPrefix("namespaceSelector.", ReadSelector(val, c, &t->namespace_selector));
    if (key == "namespaces") return ReadBoundedList(val, "namespaces", c, &t->namespaces);
    if (key == "topologyKey") return ReadString(val, "topologyKey", &t->topology_key);
    if (key == "matchLabelKeys") return ReadBoundedList(val, "matchLabelKeys", c, &t->match_label_keys);
    if (key == "mismatchLabelKeys") return ReadBoundedList(val, "mismatchLabelKeys", c, &t->mismatch_label_keys);
    return absl::OkStatus();
  });
}

absl::Status ReadWeightedTerm(od::value v, PodConstraints* c, PodAffinityTerm* t) {
  return ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "podAffinityTerm") return WithPrefix("podAffinityTerm.", ReadTerm(val, c, t));
    if (key != "weight") return absl::OkStatus();
    int64_t w = 0;
    absl::Status s = ReadInt(val, "weight", &w);
    t->weight = static_cast<int32_t>(std::clamp<int64_t>(w, -1, 101));  // out of 1..100 is judged later
    return s;
  });
}

absl::Status ReadSpread(od::value v, PodConstraints* c, SpreadConstraint* s) {
  return ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "maxSkew") return ReadInt(val, "maxSkew", &s->max_skew);
    if (key == "topologyKey") return ReadString(val, "topologyKey", &s->topology_key);
    if (key == "whenUnsatisfiable") return ReadString(val, "whenUnsatisfiable", &s->when_unsatisfiable);
    if (key == "labelSelector") return WithPrefix("labelSelector.", ReadSelector(val, c, &s->selector));
    if (key == "matchLabelKeys") return ReadBoundedList(val, "matchLabelKeys", c, &s->match_label_keys);
    if (key == "nodeAffinityPolicy") return ReadString(val, "nodeAffinityPolicy", &s->node_affinity_policy);
    if (key == "nodeTaintsPolicy") return ReadString(val, "nodeTaintsPolicy", &s->node_taints_policy);
    if (key == "minDomains") {
      if (IsNull(val)) return absl::OkStatus();
      s->min_domains_set = true;
      return ReadInt(val, "minDomains", &s->min_domains);
    }
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status ReadPodAffinity(od::value v, bool anti, PodConstraints* c) {
  const std::string_view kind = anti ? "podAntiAffinity" : "podAffinity";
  std::vector<PodAffinityTerm>* required = anti ? &c->anti_affinity : &c->affinity;
  std::vector<PodAffinityTerm>* preferred = anti ? &c->preferred_anti_affinity : &c->preferred_affinity;
  return ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    const std::string path = StrCat("spec.affinity.", kind, ".", key);
    if (key == "requiredDuringSchedulingIgnoredDuringExecution") {
      return WithPrefix(StrCat(key, "."), ForFirst(val, "", path, kMaxConstraintTerms, c, [&](size_t, od::value t) {
        required->emplace_back();
        return ReadTerm(t, c, &required->back());
      }));
    }
    if (key == "preferredDuringSchedulingIgnoredDuringExecution") {
      return WithPrefix(StrCat(key, "."), ForFirst(val, "", path, kMaxConstraintTerms, c, [&](size_t, od::value t) {
        preferred->emplace_back();
        return ReadWeightedTerm(t, c, &preferred->back());
      }));
    }
    return absl::OkStatus();
  });
}

absl::Status ReadSpreadConstraints(od::value v, PodConstraints* c) {
  return ForFirst(v, "topologySpreadConstraints", "spec.topologySpreadConstraints", kMaxConstraintTerms, c,
                  [&](size_t, od::value s) {
                    c->spread.emplace_back();
                    return ReadSpread(s, c, &c->spread.back());
                  });
}

}  // namespace drover::k8s::internal
