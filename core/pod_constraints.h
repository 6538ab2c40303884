// Inter-pod affinity, anti-affinity and topology spread constraints of a pod, as
// kube-scheduler's InterPodAffinity and PodTopologySpread plugins read them, and
// the label-selector matching they share.
//
//   PodConstraints& c = pod.constraints;      // filled by a decoder (k8s/, sim/)
//   FinishPodConstraints(&pod);               // merges matchLabelKeys, checks values
//   if (!c.error.empty()) ...                 // the engine rejects the pod with it
//
// Decoders only copy the structure; every value is judged in FinishPodConstraints,
// so both decoders reject the same things with the same words. Sizes are bounded:
// at most kMaxConstraintTerms terms of each kind and spread constraints, and
// kMaxSelectorRequirements requirements (or values) per selector; a decoder
// stops storing at the bound and records the error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drover {

class Labels;
class NamespaceLabels;
struct Pod;

inline constexpr size_t kMaxConstraintTerms = 32;       // per kind, per pod
inline constexpr size_t kMaxSelectorRequirements = 64;  // per selector (and values per requirement)

// metav1.LabelSelector. A selector that is absent (`present` false) matches
// nothing; a present, empty one matches everything (Kubernetes' rule).
struct LabelSelector {
  struct Requirement {
    std::string key;
    enum class Op { kIn, kNotIn, kExists, kDoesNotExist } op = Op::kIn;
    std::string op_text;  // as written, until FinishPodConstraints judges it
    std::vector<std::string> values;
    bool operator==(const Requirement&) const = default;
  };
  bool present = false;
  std::vector<std::pair<std::string, std::string>> match_labels;
  std::vector<Requirement> match_expressions;
  bool Matches(const Labels& labels) const;
  bool operator==(const LabelSelector&) const = default;
};

// One v1.PodAffinityTerm (weight > 0 for a preferred term).
struct PodAffinityTerm {
  LabelSelector selector;
  std::vector<std::string> namespaces;  // empty and no namespace_selector: the pod's own
  LabelSelector namespace_selector;     // present: namespaces whose labels match
  std::string topology_key;
  std::vector<std::string> match_label_keys;     // merged into `selector` (In)
  std::vector<std::string> mismatch_label_keys;  // merged into `selector` (NotIn)
  int32_t weight = 0;
  bool operator==(const PodAffinityTerm&) const = default;
};

// One v1.TopologySpreadConstraint.
struct SpreadConstraint {
  int64_t max_skew = 0;
  std::string topology_key;
  std::string when_unsatisfiable;  // as written; DoNotSchedule / ScheduleAnyway
  bool do_not_schedule = true;
  LabelSelector selector;
  std::vector<std::string> match_label_keys;
  int64_t min_domains = 1;
  bool min_domains_set = false;
  std::string node_affinity_policy;  // "" = Honor
  std::string node_taints_policy;    // "" = Ignore
  bool honor_node_affinity = true;
  bool honor_taints = false;
  bool operator==(const SpreadConstraint&) const = default;
};

struct PodConstraints {
  std::vector<PodAffinityTerm> affinity;                 // required
  std::vector<PodAffinityTerm> preferred_affinity;
  std::vector<PodAffinityTerm> anti_affinity;            // required
  std::vector<PodAffinityTerm> preferred_anti_affinity;
  std::vector<SpreadConstraint> spread;
  // The first problem found ("spec.topologySpreadConstraints[0].maxSkew: 0 must be
  // at least 1"); the engine rejects the pod with it.
  std::string error;
  bool empty() const {
    return affinity.empty() && preferred_affinity.empty() && anti_affinity.empty() &&
           preferred_anti_affinity.empty() && spread.empty();
  }
  bool HasRequired() const { return !affinity.empty() || !anti_affinity.empty() || HasHardSpread(); }
  bool HasHardSpread() const;
  bool operator==(const PodConstraints&) const = default;
};

// Records `field: "value" what` as the constraints' error unless one is there.
void NoteConstraintError(PodConstraints* c, std::string_view field, std::string_view value, std::string_view what);

// Judges every value (operators, maxSkew, minDomains, policies, weights, keys),
// parses the enums, and merges matchLabelKeys / mismatchLabelKeys into the
// selectors with the pod's own label values, as the API server and
// kube-scheduler do (a key the pod lacks is ignored). Sets `error` on the first
// problem. Idempotent.
void FinishPodConstraints(Pod* pod);

// True if `term` (of a pod in `owner_namespace`) selects a pod in namespace `ns`
// with `labels`: the namespace is the owner's (no namespaces, no selector), or
// listed, or its labels in `namespaces` match the namespaceSelector (core/namespaces.h:
// a namespace not known reads as its kubernetes.io/metadata.name label only).
bool TermMatches(const PodAffinityTerm& term, std::string_view owner_namespace, std::string_view ns,
                 const Labels& labels, const NamespaceLabels& namespaces);

}  // namespace drover
