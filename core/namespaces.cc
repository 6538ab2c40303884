// NamespaceLabels (core/namespaces.h).
#include "core/namespaces.h"

#include <utility>

#include "core/strings.h"

namespace drover {
namespace {

Labels NameOnly(std::string_view ns) {
  Labels l;
  l.Set(std::string(kNamespaceNameLabel), std::string(ns));
  return l;
}

}  // namespace

bool NamespaceLabels::Set(Namespace ns) {
  ns.labels.Set(std::string(kNamespaceNameLabel), ns.name);
  auto it = labels_.find(ns.name);
  if (it == labels_.end()) {
    const bool more_than_name = ns.labels.size() > 1;
    labels_.emplace(std::move(ns.name), std::move(ns.labels));
    return more_than_name;  // an unknown namespace read as its name label already
  }
  if (it->second == ns.labels) return false;
  it->second = std::move(ns.labels);
  return true;
}

bool NamespaceLabels::Erase(std::string_view name) {
  auto it = labels_.find(ToAbsl(name));
  if (it == labels_.end()) return false;
  const bool more_than_name = it->second.size() > 1;
  labels_.erase(it);
  return more_than_name;
}

const Labels* NamespaceLabels::Find(std::string_view ns) const {
  auto it = labels_.find(ToAbsl(ns));
  return it == labels_.end() ? nullptr : &it->second;
}

bool NamespaceLabels::Matches(const LabelSelector& selector, std::string_view ns) const {
  if (!selector.present) return false;
  if (selector.match_labels.empty() && selector.match_expressions.empty()) return true;
  if (const Labels* l = Find(ns)) return selector.Matches(*l);
  return selector.Matches(NameOnly(ns));
}

}  // namespace drover
