// Internal to k8s/: helpers over simdjson's on-demand API for reading Kubernetes
// JSON. Fields are read in whatever order they come; unknown fields are skipped;
// JSON null reads as absent. Errors carry the field path relative to the value
// being read; each level prefixes its own segment on the way out (WithPrefix), so
// the success path builds no strings.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model.h"
#include "core/resources.h"

namespace drover::k8s::internal {

namespace od = simdjson::ondemand;

// A field with a bad value: InvalidArgument, "field: problem".
absl::Status FieldError(std::string_view field, std::string_view problem);
// A simdjson error: InvalidArgument for a wrong type or number, DataLoss when the
// JSON text itself is broken (then nothing after it can be trusted).
absl::Status JsonError(std::string_view field, simdjson::error_code e);
// Same code, message "prefix" + old message; OK stays OK.
absl::Status WithPrefix(std::string_view prefix, absl::Status s);

// True (and the null consumed) when v is JSON null.
inline bool IsNull(od::value& v) {
  bool is_null = false;
  return !v.is_null().get(is_null) && is_null;
}

absl::Status ReadString(od::value v, std::string_view field, std::string* out);
absl::Status ReadBool(od::value v, std::string_view field, bool* out);
absl::Status ReadInt(od::value v, std::string_view field, int64_t* out);
// RFC 3339 time to milliseconds since the epoch; null leaves *ms untouched.
absl::Status ReadTimeMillis(od::value v, std::string_view field, int64_t* ms);
// A map of strings (labels, annotations, nodeSelector).
absl::Status ReadStringMap(od::value v, std::string_view field, Labels* out);
absl::Status ReadStringList(od::value v, std::string_view field, std::vector<std::string>* out);

// Calls fn(key, value) -> absl::Status for each field of `obj`. Stops at the
// first error. Use this for a document's root (simdjson treats the root value
// specially): doc.get_object(), then ForEachFieldOf.
template <typename Fn>
absl::Status ForEachFieldOf(od::object obj, std::string_view field, Fn&& fn) {
  for (auto f : obj) {
    std::string_view key;
    if (auto e = f.unescaped_key().get(key)) return JsonError(field, e);
    od::value val;
    if (auto e = f.value().get(val)) return JsonError(StrCat(field, ".", key), e);
    absl::Status s = fn(key, val);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// The same for a (non-root) value; null means no fields.
template <typename Fn>
absl::Status ForEachField(od::value v, std::string_view field, Fn&& fn) {
  if (IsNull(v)) return absl::OkStatus();
  od::object obj;
  if (auto e = v.get_object().get(obj)) return JsonError(field, e);
  return ForEachFieldOf(obj, field, std::forward<Fn>(fn));
}

// Calls fn(index, value) -> absl::Status for each element of an array (null = none).
template <typename Fn>
absl::Status ForEachElement(od::value v, std::string_view field, Fn&& fn) {
  if (IsNull(v)) return absl::OkStatus();
  od::array arr;
  if (auto e = v.get_array().get(arr)) return JsonError(field, e);
  size_t i = 0;
  for (auto el : arr) {
    od::value val;
    if (auto e = el.get(val)) return JsonError(StrCat(field, "[", i, "]"), e);
    absl::Status s = fn(i, val);
    if (!s.ok()) return s;
    ++i;
  }
  return absl::OkStatus();
}

// Resource name -> id, caching the process-wide registry's answers per decoder.
// Names that cannot be interned (registry full) are reported once and ignored.
class ResourceNames {
 public:
  // -1 when the name cannot be interned.
  ResourceId Find(std::string_view name);

 private:
  std::vector<std::pair<std::string, ResourceId>> cache_;
};

// A Kubernetes ResourceList ({"cpu": "500m", "nvidia.com/gpu": "1"}) into exact
// units (cpu and GPUs in milli, the rest in whole units, rounded up). `present`
// gets bit i set for each dimension i named in the list.
absl::Status ReadResourceList(od::value v, ResourceNames* names, ResourceVec* out, uint32_t* present);

// Pads `json` for simdjson, copying into `scratch` only when `capacity` (the
// caller's buffer size) leaves too little room.
simdjson::simdjson_result<od::document> Iterate(od::parser& parser, std::string_view json, size_t capacity,
                                                std::string* scratch);

// A small API response's top-level object: `doc` (which must outlive `root`) and
// `root` from `json`. Error: not JSON or not an object, naming `what`.
absl::Status ParseRootObject(od::parser& parser, std::string_view json, std::string_view what, std::string* scratch,
                             od::document* doc, od::object* root);

}  // namespace drover::k8s::internal

namespace drover::k8s::internal {

// Per-decoder state shared by the object decoders.
struct DecodeContext {
  ResourceNames names;
  std::vector<std::string> product_labels;
};

// Decode one object. `*rv` gets metadata.resourceVersion. On error the object
// holds what was read (its name, for the caller's bookkeeping) and the message
// starts with "pod ns/name: " / "node name: ".
absl::Status DecodePodObject(od::object obj, DecodeContext* ctx, Pod* pod, std::string* rv);
absl::Status DecodeNodeObject(od::object obj, DecodeContext* ctx, Node* node, std::string* rv);
// metadata.name and metadata.labels; errors start with "namespace name: ".
absl::Status DecodeNamespaceObject(od::object obj, Namespace* ns, std::string* rv);

// spec.affinity.podAffinity (anti false) or podAntiAffinity (anti true), and
// spec.topologySpreadConstraints, into `c` (decode_constraints.cc). A wrong JSON
// type is an error; values are judged later by FinishPodConstraints.
absl::Status ReadPodAffinity(od::value v, bool anti, PodConstraints* c);
absl::Status ReadSpreadConstraints(od::value v, PodConstraints* c);

}  // namespace drover::k8s::internal
