#include "sim/yaml_constraints.h"

#include <algorithm>

#include "core/status_macros.h"
#include "core/strings.h"

namespace drover {
namespace {

absl::Status Wrong(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(StrCat(field, ": must be ", what));
}

std::string Scalar(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); }

absl::Status ReadList(const YAML::Node& n, const std::string& field, PodConstraints* c, std::vector<std::string>* out) {
  if (!n || n.IsNull()) return absl::OkStatus();
  if (!n.IsSequence()) return Wrong(field, "a list of strings");
  for (size_t i = 0; i < n.size(); ++i) {
    if (i >= kMaxSelectorRequirements) {
      NoteConstraintError(c, field, StrCat(n.size(), " entries"), StrCat("is more than the limit of ", kMaxSelectorRequirements));
      break;
    }
    if (!n[i].IsScalar()) return Wrong(StrCat(field, "[", i, "]"), "a string");
    out->push_back(n[i].Scalar());
  }
  return absl::OkStatus();
}

absl::Status ReadInt(const YAML::Node& n, const std::string& field, int64_t* out) {
  try {
    *out = n.as<int64_t>();
  } catch (const YAML::Exception&) {
    return absl::InvalidArgumentError(StrCat(field, ": \"", CutForMessage(Scalar(n)), "\" is not an integer"));
  }
  return absl::OkStatus();
}

absl::Status ReadSelector(const YAML::Node& n, const std::string& field, PodConstraints* c, LabelSelector* sel) {
  if (!n || n.IsNull()) return absl::OkStatus();
  if (!n.IsMap()) return Wrong(field, "a label selector (a map)");
  sel->present = true;
  if (const YAML::Node ml = n["matchLabels"]; ml && !ml.IsNull()) {
    if (!ml.IsMap()) return Wrong(field + ".matchLabels", "a map of strings");
    for (const auto& kv : ml) {
      if (sel->match_labels.size() >= kMaxSelectorRequirements) {
        NoteConstraintError(c, field + ".matchLabels", StrCat(ml.size(), " entries"),
                            StrCat("is more than the limit of ", kMaxSelectorRequirements));
        break;
      }
      sel->match_labels.emplace_back(kv.first.Scalar(), Scalar(kv.second));
    }
  }
  const YAML::Node me = n["matchExpressions"];
  if (!me || me.IsNull()) return absl::OkStatus();
  if (!me.IsSequence()) return Wrong(field + ".matchExpressions", "a list");
  for (size_t i = 0; i < me.size(); ++i) {
    const std::string f = StrCat(field, ".matchExpressions[", i, "]");
    if (i >= kMaxSelectorRequirements) {
      NoteConstraintError(c, field + ".matchExpressions", StrCat(me.size(), " entries"),
                          StrCat("is more than the limit of ", kMaxSelectorRequirements));
      break;
    }
    if (!me[i].IsMap()) return Wrong(f, "a map");
    LabelSelector::Requirement r;
    r.key = Scalar(me[i]["key"]);
    r.op_text = Scalar(me[i]["operator"]);
    RETURN_IF_ERROR(ReadList(me[i]["values"], f + ".values", c, &r.values));
    sel->match_expressions.push_back(std::move(r));
  }
  return absl::OkStatus();
}

absl::Status ReadTerm(const YAML::Node& n, const std::string& f, PodConstraints* c, PodAffinityTerm* t) {
  if (!n.IsMap()) return Wrong(f, "a map");
  RETURN_IF_ERROR(ReadSelector(n["labelSelector"], f + ".labelSelector", c, &t->selector));
  RETURN_IF_ERROR(ReadSelector(n["namespaceSelector"], f + ".namespaceSelector", c, &t->namespace_selector));
  RETURN_IF_ERROR(ReadList(n["namespaces"], f + ".namespaces", c, &t->namespaces));
  RETURN_IF_ERROR(ReadList(n["matchLabelKeys"], f + ".matchLabelKeys", c, &t->match_label_keys));
  RETURN_IF_ERROR(ReadList(n["mismatchLabelKeys"], f + ".mismatchLabelKeys", c, &t->mismatch_label_keys));
  t->topology_key = Scalar(n["topologyKey"]);
  return absl::OkStatus();
}

absl::Status ReadTerms(const YAML::Node& n, const std::string& field, bool preferred, PodConstraints* c,
                       std::vector<PodAffinityTerm>* out) {
  if (!n || n.IsNull()) return absl::OkStatus();
  if (!n.IsSequence()) return Wrong(field, "a list");
  for (size_t i = 0; i < n.size(); ++i) {
    if (i >= kMaxConstraintTerms) {
      NoteConstraintError(c, field, StrCat(n.size(), " entries"), StrCat("is more than the limit of ", kMaxConstraintTerms));
      break;
    }
    const std::string f = StrCat(field, "[", i, "]");
    PodAffinityTerm t;
    if (preferred) {
      if (!n[i].IsMap()) return Wrong(f, "a map");
      int64_t w = 0;
      if (n[i]["weight"]) RETURN_IF_ERROR(ReadInt(n[i]["weight"], f + ".weight", &w));
      t.weight = static_cast<int32_t>(std::clamp<int64_t>(w, -1, 101));
      RETURN_IF_ERROR(ReadTerm(n[i]["podAffinityTerm"], f + ".podAffinityTerm", c, &t));
    } else {
      RETURN_IF_ERROR(ReadTerm(n[i], f, c, &t));
    }
    out->push_back(std::move(t));
  }
  return absl::OkStatus();
}

absl::Status ReadSpread(const YAML::Node& n, const std::string& f, PodConstraints* c, SpreadConstraint* s) {
  if (!n.IsMap()) return Wrong(f, "a map");
  if (n["maxSkew"]) RETURN_IF_ERROR(ReadInt(n["maxSkew"], f + ".maxSkew", &s->max_skew));
  if (n["minDomains"] && !n["minDomains"].IsNull()) {
    s->min_domains_set = true;
    RETURN_IF_ERROR(ReadInt(n["minDomains"], f + ".minDomains", &s->min_domains));
  }
  s->topology_key = Scalar(n["topologyKey"]);
  s->when_unsatisfiable = Scalar(n["whenUnsatisfiable"]);
  s->node_affinity_policy = Scalar(n["nodeAffinityPolicy"]);
  s->node_taints_policy = Scalar(n["nodeTaintsPolicy"]);
  RETURN_IF_ERROR(ReadSelector(n["labelSelector"], f + ".labelSelector", c, &s->selector));
  return ReadList(n["matchLabelKeys"], f + ".matchLabelKeys", c, &s->match_label_keys);
}

}  // namespace

absl::Status ReadYamlPodConstraints(const YAML::Node& spec, PodConstraints* c) {
  if (const YAML::Node aff = spec["affinity"]; aff && aff.IsMap()) {
    for (const bool anti : {false, true}) {
      const char* kind = anti ? "podAntiAffinity" : "podAffinity";
      const YAML::Node a = aff[kind];
      if (!a || a.IsNull()) continue;
      if (!a.IsMap()) return Wrong(StrCat("spec.affinity.", kind), "a map");
      const std::string f = StrCat("spec.affinity.", kind, ".");
      RETURN_IF_ERROR(ReadTerms(a["requiredDuringSchedulingIgnoredDuringExecution"],
                                f + "requiredDuringSchedulingIgnoredDuringExecution", false, c,
                                anti ? &c->anti_affinity : &c->affinity));
      RETURN_IF_ERROR(ReadTerms(a["preferredDuringSchedulingIgnoredDuringExecution"],
                                f + "preferredDuringSchedulingIgnoredDuringExecution", true, c,
                                anti ? &c->preferred_anti_affinity : &c->preferred_affinity));
    }
  }
  const YAML::Node tsc = spec["topologySpreadConstraints"];
  if (!tsc || tsc.IsNull()) return absl::OkStatus();
  if (!tsc.IsSequence()) return Wrong("spec.topologySpreadConstraints", "a list");
  for (size_t i = 0; i < tsc.size(); ++i) {
    if (i >= kMaxConstraintTerms) {
      NoteConstraintError(c, "spec.topologySpreadConstraints", StrCat(tsc.size(), " entries"),
                          StrCat("is more than the limit of ", kMaxConstraintTerms));
      break;
    }
    SpreadConstraint s;
    RETURN_IF_ERROR(ReadSpread(tsc[i], StrCat("spec.topologySpreadConstraints[", i, "]"), c, &s));
    c->spread.push_back(std::move(s));
  }
  return absl::OkStatus();
}

}  // namespace drover
