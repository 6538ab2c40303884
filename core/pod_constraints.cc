// Label selectors, affinity terms and spread constraints (core/pod_constraints.h).
#include "core/pod_constraints.h"

#include <algorithm>

#include "core/model.h"
#include "core/namespaces.h"
#include "core/strings.h"

namespace drover {
namespace {

using Req = LabelSelector::Requirement;

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool RequirementMatches(const Req& r, const Labels& labels) {
  const std::string* v = labels.Get(r.key);
  switch (r.op) {
    case Req::Op::kIn: return v != nullptr && Contains(r.values, *v);
    case Req::Op::kNotIn: return v == nullptr || !Contains(r.values, *v);
    case Req::Op::kExists: return v != nullptr;
    case Req::Op::kDoesNotExist: return v == nullptr;
  }
  return false;
}

// Judges one selector's operators and value counts (metav1 validation's rules).
void FinishSelector(LabelSelector* sel, const std::string& field, PodConstraints* c) {
  for (size_t i = 0; i < sel->match_expressions.size(); ++i) {
    Req& r = sel->match_expressions[i];
    const std::string f = StrCat(field, ".matchExpressions[", i, "]");
    if (r.op_text == "In") r.op = Req::Op::kIn;
    else if (r.op_text == "NotIn") r.op = Req::Op::kNotIn;
    else if (r.op_text == "Exists") r.op = Req::Op::kExists;
    else if (r.op_text == "DoesNotExist") r.op = Req::Op::kDoesNotExist;
    else NoteConstraintError(c, f + ".operator", r.op_text, "is not In, NotIn, Exists or DoesNotExist");
    if (r.key.empty()) NoteConstraintError(c, f + ".key", r.key, "must not be empty");
    const bool takes_values = r.op == Req::Op::kIn || r.op == Req::Op::kNotIn;
    if (takes_values && r.values.empty()) NoteConstraintError(c, f + ".values", "", "must not be empty for In and NotIn");
    if (!takes_values && !r.values.empty()) {
      NoteConstraintError(c, f + ".values", r.values[0], "must be empty for Exists and DoesNotExist");
    }
  }
}

// Adds `key In/NotIn [the pod's value]` for each key the pod carries.
void MergeLabelKeys(const std::vector<std::string>& keys, Req::Op op, const Labels& labels, LabelSelector* sel) {
  for (const std::string& key : keys) {
    const std::string* v = labels.Get(key);
    if (v == nullptr) continue;
    Req r{key, op, op == Req::Op::kIn ? "In" : "NotIn", {*v}};
    if (std::find(sel->match_expressions.begin(), sel->match_expressions.end(), r) == sel->match_expressions.end()) {
      sel->match_expressions.push_back(std::move(r));
    }
  }
}

void FinishTerms(std::vector<PodAffinityTerm>* terms, const std::string& field, bool preferred, const Pod& pod,
                 PodConstraints* c) {
  for (size_t i = 0; i < terms->size(); ++i) {
    PodAffinityTerm& t = (*terms)[i];
    const std::string f = StrCat(field, "[", i, "]", preferred ? ".podAffinityTerm" : "");
    if (preferred && (t.weight < 1 || t.weight > 100)) {
      NoteConstraintError(c, StrCat(field, "[", i, "].weight"), std::to_string(t.weight), "must be in 1..100");
    }
    if (t.topology_key.empty()) NoteConstraintError(c, f + ".topologyKey", "", "must not be empty");
    for (const std::string& k : t.match_label_keys) {
      if (Contains(t.mismatch_label_keys, k)) {
        NoteConstraintError(c, f + ".matchLabelKeys", k, "is also in mismatchLabelKeys");
      }
    }
    if ((!t.match_label_keys.empty() || !t.mismatch_label_keys.empty()) && !t.selector.present) {
      NoteConstraintError(c, f + ".matchLabelKeys", t.match_label_keys.empty() ? t.mismatch_label_keys[0] : t.match_label_keys[0],
                          "needs a labelSelector");
    }
    FinishSelector(&t.selector, f + ".labelSelector", c);
    FinishSelector(&t.namespace_selector, f + ".namespaceSelector", c);
    MergeLabelKeys(t.match_label_keys, Req::Op::kIn, pod.labels, &t.selector);
    MergeLabelKeys(t.mismatch_label_keys, Req::Op::kNotIn, pod.labels, &t.selector);
  }
}

void FinishSpread(std::vector<SpreadConstraint>* spread, const Pod& pod, PodConstraints* c) {
  for (size_t i = 0; i < spread->size(); ++i) {
    SpreadConstraint& s = (*spread)[i];
    const std::string f = StrCat("spec.topologySpreadConstraints[", i, "]");
    if (s.max_skew < 1) NoteConstraintError(c, f + ".maxSkew", std::to_string(s.max_skew), "must be at least 1");
    if (s.topology_key.empty()) NoteConstraintError(c, f + ".topologyKey", "", "must not be empty");
    if (s.when_unsatisfiable == "DoNotSchedule") {
      s.do_not_schedule = true;
    } else if (s.when_unsatisfiable == "ScheduleAnyway") {
      s.do_not_schedule = false;
    } else {
      NoteConstraintError(c, f + ".whenUnsatisfiable", s.when_unsatisfiable, "is not DoNotSchedule or ScheduleAnyway");
    }
    if (s.min_domains_set) {
      if (s.min_domains < 1) NoteConstraintError(c, f + ".minDomains", std::to_string(s.min_domains), "must be at least 1");
      if (!s.do_not_schedule) {
        NoteConstraintError(c, f + ".minDomains", std::to_string(s.min_domains),
                            "may only be set with whenUnsatisfiable DoNotSchedule");
      }
    } else {
      s.min_domains = 1;
    }
    if (s.node_affinity_policy.empty() || s.node_affinity_policy == "Honor") {
      s.honor_node_affinity = true;
    } else if (s.node_affinity_policy == "Ignore") {
      s.honor_node_affinity = false;
    } else {
      NoteConstraintError(c, f + ".nodeAffinityPolicy", s.node_affinity_policy, "is not Honor or Ignore");
    }
    if (s.node_taints_policy.empty() || s.node_taints_policy == "Ignore") {
      s.honor_taints = false;
    } else if (s.node_taints_policy == "Honor") {
      s.honor_taints = true;
    } else {
      NoteConstraintError(c, f + ".nodeTaintsPolicy", s.node_taints_policy, "is not Honor or Ignore");
    }
    FinishSelector(&s.selector, f + ".labelSelector", c);
    if (!s.match_label_keys.empty() && !s.selector.present) {
      NoteConstraintError(c, f + ".matchLabelKeys", s.match_label_keys[0], "needs a labelSelector");
    }
    MergeLabelKeys(s.match_label_keys, Req::Op::kIn, pod.labels, &s.selector);
  }
}

}  // namespace

bool LabelSelector::Matches(const Labels& labels) const {
  if (!present) return false;
  for (const auto& [k, v] : match_labels) {
    const std::string* have = labels.Get(k);
    if (have == nullptr || *have != v) return false;
  }
  for (const Req& r : match_expressions) {
    if (!RequirementMatches(r, labels)) return false;
  }
  return true;
}

bool PodConstraints::HasHardSpread() const {
  for (const SpreadConstraint& s : spread) {
    if (s.do_not_schedule) return true;
  }
  return false;
}

void NoteConstraintError(PodConstraints* c, std::string_view field, std::string_view value, std::string_view what) {
  if (!c->error.empty()) return;
  c->error = StrCat(field, ": \"", CutForMessage(value), "\" ", what);
}

void FinishPodConstraints(Pod* pod) {
  PodConstraints& c = pod->constraints;
  if (c.empty()) return;
  const std::string aff = "spec.affinity.podAffinity.";
  const std::string anti = "spec.affinity.podAntiAffinity.";
  FinishTerms(&c.affinity, aff + "requiredDuringSchedulingIgnoredDuringExecution", false, *pod, &c);
  FinishTerms(&c.preferred_affinity, aff + "preferredDuringSchedulingIgnoredDuringExecution", true, *pod, &c);
  FinishTerms(&c.anti_affinity, anti + "requiredDuringSchedulingIgnoredDuringExecution", false, *pod, &c);
  FinishTerms(&c.preferred_anti_affinity, anti + "preferredDuringSchedulingIgnoredDuringExecution", true, *pod, &c);
  FinishSpread(&c.spread, *pod, &c);
}

bool TermMatches(const PodAffinityTerm& term, std::string_view owner_namespace, std::string_view ns,
                 const Labels& labels, const NamespaceLabels& namespaces) {
  bool ns_ok;
  if (term.namespaces.empty() && !term.namespace_selector.present) {
    ns_ok = ns == owner_namespace;
  } else {
    ns_ok = std::find(term.namespaces.begin(), term.namespaces.end(), ns) != term.namespaces.end() ||
            namespaces.Matches(term.namespace_selector, ns);
  }
  return ns_ok && term.selector.Matches(labels);
}

}  // namespace drover
