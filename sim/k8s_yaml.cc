#include "sim/k8s_yaml.h"

#include <fstream>
#include <sstream>

#include "core/quantity.h"
#include "core/snapshot.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "sim/duration.h"
#include "sim/yaml_constraints.h"
#include "yaml-cpp/yaml.h"

namespace drover {
namespace {

// Follows map keys; an empty node if any step is missing or not a map.
YAML::Node Walk(const YAML::Node& root, std::initializer_list<const char*> keys) {
  YAML::Node cur = YAML::Clone(root);
  for (const char* k : keys) {
    if (!cur || !cur.IsMap() || !cur[k]) return YAML::Node();
    cur = cur[k];
  }
  return cur;
}

// Decodes one object; `where` prefixes every error ("file.yaml: document 3 (Pod ns/x)").
class Decoder {
 public:
  Decoder(const GpuCatalog& catalog, std::string where) : catalog_(catalog), where_(std::move(where)) {}

  template <typename Why>
  absl::Status Fail(std::string_view field, const Why& why) const {
    return absl::InvalidArgumentError(StrCat(where_, ": ", field, ": ", why));
  }

  std::string Str(const YAML::Node& n) const { return n && n.IsScalar() ? n.Scalar() : std::string(); }

  absl::Status ReadMap(const YAML::Node& n, std::string_view field, Labels* out) const {
    if (!n || n.IsNull()) return absl::OkStatus();
    if (!n.IsMap()) return Fail(field, "must be a map of strings");
    for (const auto& kv : n) {
      if (!kv.second.IsScalar() && !kv.second.IsNull()) return Fail(StrCat(field, ".", kv.first.Scalar()), "must be a string");
      out->Set(kv.first.Scalar(), Str(kv.second));
    }
    return absl::OkStatus();
  }

  absl::Status ReadResources(const YAML::Node& n, std::string_view field, ResourceVec* out) const {
    if (!n || n.IsNull()) return absl::OkStatus();
    if (!n.IsMap()) return Fail(field, "must be a map of resource quantities");
    for (const auto& kv : n) {
      const std::string name = kv.first.Scalar();
      const std::string f = StrCat(field, ".", name);
      if (!kv.second.IsScalar()) return Fail(f, "must be a quantity");
      absl::StatusOr<Quantity> q = Quantity::Parse(kv.second.Scalar());
      if (!q.ok()) return Fail(f, q.status().message());
      if (q->IsNegative()) return Fail(f, StrCat("\"", kv.second.Scalar(), "\" is negative"));
      absl::StatusOr<ResourceId> id = InternResource(name);
      if (!id.ok()) return Fail(f, id.status().message());
      absl::StatusOr<int64_t> v = (*id == Res::kCpu) ? q->Milli() : q->Units();
      if (!v.ok()) return Fail(f, v.status().message());
      (*out)[*id] = *id == Res::kGpu ? *v * 1000 : *v;
    }
    return absl::OkStatus();
  }

  absl::Status ReadContainers(const YAML::Node& n, std::string_view field, std::vector<ContainerRequests>* out) const {
    if (!n || n.IsNull()) return absl::OkStatus();
    if (!n.IsSequence()) return Fail(field, "must be a list");
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string f = StrCat(field, "[", i, "].resources");
      ContainerRequests c;
      ResourceVec limits;
      const YAML::Node res = n[i]["resources"];
      if (res && !res.IsMap() && !res.IsNull()) return Fail(f, "must be a map");
      if (res && res.IsMap()) {
        RETURN_IF_ERROR(ReadResources(res["requests"], StrCat(f, ".requests"), &c.requests));
        RETURN_IF_ERROR(ReadResources(res["limits"], StrCat(f, ".limits"), &limits));
      }
      // The API server defaults a missing request to its limit.
      for (ResourceId r = 0; r < Res::kMax; ++r) {
        if (c.requests[r] == 0 && limits[r] > 0 && !(res["requests"] && res["requests"][std::string(ResourceName(r))])) {
          c.requests[r] = limits[r];
        }
      }
      c.sidecar = Str(n[i]["restartPolicy"]) == "Always";
      out->push_back(c);
    }
    return absl::OkStatus();
  }

  absl::Status ReadRequirements(const YAML::Node& n, std::string_view field,
                                std::vector<NodeSelectorRequirement>* out) const {
    if (!n || n.IsNull()) return absl::OkStatus();
    if (!n.IsSequence()) return Fail(field, "must be a list");
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string f = StrCat(field, "[", i, "]");
      NodeSelectorRequirement r;
      r.key = Str(n[i]["key"]);
      const std::string op = Str(n[i]["operator"]);
      using Op = NodeSelectorRequirement::Op;
      if (op == "In") r.op = Op::kIn;
      else if (op == "NotIn") r.op = Op::kNotIn;
      else if (op == "Exists") r.op = Op::kExists;
      else if (op == "DoesNotExist") r.op = Op::kDoesNotExist;
      else if (op == "Gt") r.op = Op::kGt;
      else if (op == "Lt") r.op = Op::kLt;
      else return Fail(StrCat(f, ".operator"), StrCat("\"", op, "\" is not In, NotIn, Exists, DoesNotExist, Gt or Lt"));
      if (const YAML::Node v = n[i]["values"]; v && v.IsSequence()) {
        for (const auto& x : v) r.values.push_back(Str(x));
      }
      out->push_back(std::move(r));
    }
    return absl::OkStatus();
  }

  absl::Status ReadTiming(const YAML::Node& annotations, std::string_view key, int64_t* out) const {
    if (!annotations || !annotations[std::string(key)]) return absl::OkStatus();
    absl::StatusOr<int64_t> ms = ParseDurationMillis(Str(annotations[std::string(key)]));
    if (!ms.ok()) return Fail(StrCat("metadata.annotations[", key, "]"), ms.status().message());
    *out = *ms;
    return absl::OkStatus();
  }

  absl::Status DecodeNode(const YAML::Node& doc, SimNode* out) const {
    Node& n = out->node;
    const YAML::Node meta = doc["metadata"];
    n.name = Str(meta["name"]);
    if (n.name.empty()) return Fail("metadata.name", "missing");
    RETURN_IF_ERROR(ReadMap(meta["labels"], "metadata.labels", &n.labels));
    const YAML::Node status = doc["status"];
    RETURN_IF_ERROR(ReadResources(status["allocatable"] ? status["allocatable"] : status["capacity"],
                                  "status.allocatable", &n.allocatable));
    // A simulated cluster is written by hand: a claim over the per-node limit is an error.
    if (const int64_t gpus = n.allocatable[Res::kGpu] / 1000; gpus > kMaxGpuDevicesPerNode) {
      return Fail("status.allocatable", StrCat(gpus, " GPUs is above the limit of ", kMaxGpuDevicesPerNode,
                                               " per node (core/snapshot.h)"));
    }
    n.gpu_count = static_cast<int>(n.allocatable[Res::kGpu] / 1000);
    for (const std::string& key : catalog_.product_labels()) {
      if (const std::string* p = n.labels.Get(key)) {
        n.gpu_product = *p;
        break;
      }
    }
    const YAML::Node spec = doc["spec"];
    n.unschedulable = spec && spec["unschedulable"] && spec["unschedulable"].as<std::string>() == "true";
    if (const YAML::Node taints = spec ? spec["taints"] : YAML::Node(); taints && taints.IsSequence()) {
      for (size_t i = 0; i < taints.size(); ++i) {
        auto effect = ParseTaintEffect(Str(taints[i]["effect"]));
        if (!effect) return Fail(StrCat("spec.taints[", i, "].effect"), StrCat("\"", Str(taints[i]["effect"]), "\" is not NoSchedule, PreferNoSchedule or NoExecute"));
        n.taints.push_back(Taint{Str(taints[i]["key"]), Str(taints[i]["value"]), *effect});
      }
    }
    if (const YAML::Node conds = status["conditions"]; conds && conds.IsSequence()) {
      for (const auto& c : conds) {
        if (Str(c["type"]) == "Ready") n.ready = Str(c["status"]) == "True";
      }
    }
    const YAML::Node ann = meta["annotations"];
    RETURN_IF_ERROR(ReadTiming(ann, sim_annotations::kAddAt, &out->add_ms));
    RETURN_IF_ERROR(ReadTiming(ann, sim_annotations::kRemoveAt, &out->remove_ms));
    RETURN_IF_ERROR(ReadTiming(ann, sim_annotations::kCordonAt, &out->cordon_ms));
    return absl::OkStatus();
  }

  // metadata.name and metadata.labels; kubernetes.io/metadata.name is the API server's to set.
  absl::Status DecodeNamespace(const YAML::Node& doc, Namespace* out) const {
    const YAML::Node meta = doc["metadata"];
    out->name = Str(meta["name"]);
    if (out->name.empty()) return Fail("metadata.name", "missing");
    RETURN_IF_ERROR(ReadMap(meta["labels"], "metadata.labels", &out->labels));
    if (const std::string* v = out->labels.Get("kubernetes.io/metadata.name"); v != nullptr && *v != out->name) {
      return Fail("metadata.labels.kubernetes.io/metadata.name",
                  StrCat("\"", CutForMessage(*v), "\" differs from the name (the API server sets it to the name)"));
    }
    out->labels.Set("kubernetes.io/metadata.name", out->name);
    return absl::OkStatus();
  }

  absl::Status DecodePod(const YAML::Node& doc, SimPod* out) const {
    Pod& p = out->pod;
    const YAML::Node meta = doc["metadata"];
    p.name = Str(meta["name"]);
    if (p.name.empty()) return Fail("metadata.name", "missing");
    p.namespace_ = meta["namespace"] ? Str(meta["namespace"]) : "default";
    p.uid = Str(meta["uid"]);
    RETURN_IF_ERROR(ReadMap(meta["labels"], "metadata.labels", &p.labels));
    RETURN_IF_ERROR(ReadMap(meta["annotations"], "metadata.annotations", &p.annotations));
    const YAML::Node spec = doc["spec"];
    if (!spec || !spec.IsMap()) return Fail("spec", "missing");
    p.scheduler_name = spec["schedulerName"] ? Str(spec["schedulerName"]) : "default-scheduler";
    p.node_name = Str(spec["nodeName"]);
    p.priority_class = Str(spec["priorityClassName"]);
    if (spec["priority"]) {
      try {
        p.priority = spec["priority"].as<int32_t>();
      } catch (const YAML::Exception&) {
        return Fail("spec.priority", StrCat("\"", Str(spec["priority"]), "\" is not an integer"));
      }
    }
    std::vector<ContainerRequests> init, app;
    RETURN_IF_ERROR(ReadContainers(spec["initContainers"], "spec.initContainers", &init));
    RETURN_IF_ERROR(ReadContainers(spec["containers"], "spec.containers", &app));
    if (app.empty()) return Fail("spec.containers", "a pod needs at least one container");
    ResourceVec overhead;
    RETURN_IF_ERROR(ReadResources(spec["overhead"], "spec.overhead", &overhead));
    p.requests = EffectiveRequests(init, app, overhead);
    if (absl::Status s = ReadYamlPodConstraints(spec, &p.constraints); !s.ok()) return absl::InvalidArgumentError(StrCat(where_, ": ", s.message()));
    // The same decoding as k8s/: a malformed Drover annotation is the engine's to
    // reject with a reason; a GPU request that cannot be read fails the load.
    (void)drover::DecodePod(&p);
    if (!p.intent.shape_error.empty()) return Fail("resources", p.intent.shape_error);
    RETURN_IF_ERROR(ReadMap(spec["nodeSelector"], "spec.nodeSelector", &p.node_selector));
    if (const YAML::Node tols = spec["tolerations"]; tols && tols.IsSequence()) {
      for (size_t i = 0; i < tols.size(); ++i) {
        Toleration t;
        t.key = Str(tols[i]["key"]);
        t.op = Str(tols[i]["operator"]) == "Exists" ? Toleration::Op::kExists : Toleration::Op::kEqual;
        t.value = Str(tols[i]["value"]);
        if (const std::string e = Str(tols[i]["effect"]); !e.empty()) {
          t.effect = ParseTaintEffect(e);
          if (!t.effect) return Fail(StrCat("spec.tolerations[", i, "].effect"), StrCat("\"", e, "\" is not a taint effect"));
        }
        p.tolerations.push_back(std::move(t));
      }
    }
    const YAML::Node terms = Walk(spec, {"affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
                                         "nodeSelectorTerms"});
    if (terms && terms.IsSequence()) {
      for (size_t i = 0; i < terms.size(); ++i) {
        NodeSelectorTerm term;
        const std::string f = StrCat("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[", i, "]");
        RETURN_IF_ERROR(ReadRequirements(terms[i]["matchExpressions"], StrCat(f, ".matchExpressions"), &term.match_expressions));
        RETURN_IF_ERROR(ReadRequirements(terms[i]["matchFields"], StrCat(f, ".matchFields"), &term.match_fields));
        p.required_affinity.push_back(std::move(term));
      }
    }
    const YAML::Node ann = meta["annotations"];
    RETURN_IF_ERROR(ReadTiming(ann, sim_annotations::kSubmitAt, &out->submit_ms));
    RETURN_IF_ERROR(ReadTiming(ann, sim_annotations::kDuration, &out->duration_ms));
    if (!ann || !ann[std::string(sim_annotations::kDuration)]) out->duration_ms = -1;
    return absl::OkStatus();
  }

 private:
  const GpuCatalog& catalog_;
  std::string where_;
};

absl::Status DecodeObject(const YAML::Node& obj, const std::string& where, const GpuCatalog& catalog, SimInput* out) {
  if (!obj.IsMap()) return absl::InvalidArgumentError(StrCat(where, ": not a Kubernetes object (expected a map)"));
  const std::string kind = obj["kind"] ? obj["kind"].Scalar() : "";
  if (kind == "List" || kind == "NodeList" || kind == "PodList" || kind == "NamespaceList") {
    const YAML::Node items = obj["items"];
    if (!items || !items.IsSequence()) return absl::InvalidArgumentError(StrCat(where, ": items: must be a list"));
    for (size_t i = 0; i < items.size(); ++i) {
      RETURN_IF_ERROR(DecodeObject(items[i], StrCat(where, " items[", i, "]"), catalog, out));
    }
    return absl::OkStatus();
  }
  const std::string name = obj["metadata"] && obj["metadata"]["name"] ? obj["metadata"]["name"].Scalar() : "?";
  Decoder d(catalog, StrCat(where, " (", kind, " ", name, ")"));
  if (kind == "Node") {
    SimNode n;
    RETURN_IF_ERROR(d.DecodeNode(obj, &n));
    out->nodes.push_back(std::move(n));
  } else if (kind == "Pod") {
    SimPod p;
    RETURN_IF_ERROR(d.DecodePod(obj, &p));
    out->pods.push_back(std::move(p));
  } else if (kind == "Namespace") {
    Namespace ns;
    RETURN_IF_ERROR(d.DecodeNamespace(obj, &ns));
    out->namespaces.push_back(std::move(ns));
  } else {
    return absl::InvalidArgumentError(
        StrCat(where, ": kind \"", kind, "\" is not Node, Pod, Namespace or a List of them"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadSimYaml(std::string_view yaml_text, std::string_view source, const GpuCatalog& catalog,
                         SimInput* input) {
  SimInput staged;
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(yaml_text));
    for (size_t i = 0; i < docs.size(); ++i) {
      if (docs[i].IsNull()) continue;
      RETURN_IF_ERROR(DecodeObject(docs[i], StrCat(source, ": document ", i + 1), catalog, &staged));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat(source, ": line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg));
  }
  for (SimNode& n : staged.nodes) input->nodes.push_back(std::move(n));
  for (SimPod& p : staged.pods) input->pods.push_back(std::move(p));
  for (Namespace& ns : staged.namespaces) input->namespaces.push_back(std::move(ns));
  return absl::OkStatus();
}

absl::Status LoadSimYamlFile(const std::string& path, const GpuCatalog& catalog, SimInput* input) {
  std::ifstream f(path);
  if (!f) return absl::NotFoundError(StrCat(path, ": cannot open"));
  std::stringstream ss;
  ss << f.rdbuf();
  return LoadSimYaml(ss.str(), path, catalog, input);
}

}  // namespace drover
