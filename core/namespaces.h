// The labels of the cluster's namespaces, for pod affinity terms'
// namespaceSelector (kube-scheduler's InterPodAffinity matches it against each
// Namespace's labels through its namespace lister).
//
//   NamespaceLabels ns;
//   ns.Set(Namespace{"team-a", labels});          // from a Namespace event
//   if (ns.Matches(term.namespace_selector, "team-a")) ...
//
// A namespace not known (not listed yet, no Namespace watch, or deleted) reads as
// the one label the API server sets on every namespace, kubernetes.io/metadata.name:
// a selector on that label is exact from the start; a selector on other labels
// matches it only once its Namespace has been seen. One entry per namespace.
#pragma once

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "core/model.h"
#include "core/pod_constraints.h"

namespace drover {

// The label the API server sets on every namespace to its name (Kubernetes 1.22+).
inline constexpr std::string_view kNamespaceNameLabel = "kubernetes.io/metadata.name";

class NamespaceLabels {
 public:
  // Records `ns`'s labels, with kubernetes.io/metadata.name set to its name as the
  // API server forces it. True if what a selector sees for it changed.
  bool Set(Namespace ns);
  // Forgets `name` (it reads as unknown again). True if it was known with labels
  // other than its name label.
  bool Erase(std::string_view name);
  // Whether `selector` (present) matches namespace `ns`'s labels; an empty selector
  // matches every namespace.
  bool Matches(const LabelSelector& selector, std::string_view ns) const;
  // The labels known for `ns`, or null if it is not known.
  const Labels* Find(std::string_view ns) const;
  size_t size() const { return labels_.size(); }

 private:
  absl::flat_hash_map<std::string, Labels> labels_;
};

}  // namespace drover
