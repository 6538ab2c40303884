// Namespace JSON -> drover::Namespace: metadata.name and metadata.labels only
// (what a pod affinity term's namespaceSelector reads). See decode.h.
#include "k8s/decode_internal.h"

namespace drover::k8s::internal {

absl::Status DecodeNamespaceObject(od::object obj, Namespace* ns, std::string* rv) {
  absl::Status first;
  absl::Status s = ForEachFieldOf(obj, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key != "metadata") return absl::OkStatus();
    absl::Status r = ForEachField(val, "", [&](std::string_view k, od::value m) -> absl::Status {
      if (k == "name") return ReadString(m, "name", &ns->name);
      if (k == "resourceVersion") return ReadString(m, "resourceVersion", rv);
      if (k == "labels") return ReadStringMap(m, "labels", &ns->labels);
      return absl::OkStatus();
    });
    if (first.ok()) first = WithPrefix("metadata.", r);
    return absl::OkStatus();
  });
  if (first.ok()) first = s;
  if (first.ok() && ns->name.empty()) first = FieldError("metadata.name", "is missing");
  if (!first.ok()) return WithPrefix(StrCat("namespace ", ns->name.empty() ? "(unnamed)" : ns->name, ": "), first);
  return absl::OkStatus();
}

}  // namespace drover::k8s::internal
