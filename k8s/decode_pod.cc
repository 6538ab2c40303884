// Pod JSON -> drover::Pod. See decode.h for the rules.
#include <charconv>

#include "core/strings.h"
#include "k8s/text.h"
#include "k8s/decode_internal.h"

namespace drover::k8s::internal {
namespace {

struct PodSpecParts {
  std::vector<ContainerRequests> init_containers;
  std::vector<ContainerRequests> containers;
  ResourceVec overhead;
};

std::string Indexed(std::string_view field, size_t i) { return StrCat(field, "[", i, "]."); }

absl::Status ReadOwnerRef(od::value v, Pod* pod) {
  std::string kind, name;
  bool controller = false;
  absl::Status s = ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "kind") return ReadString(val, "kind", &kind);
    if (key == "name") return ReadString(val, "name", &name);
    if (key == "controller") return ReadBool(val, "controller", &controller);
    return absl::OkStatus();
  });
  if (s.ok() && controller) {
    pod->owner_kind = std::move(kind);
    pod->owner_name = std::move(name);
  }
  return s;
}

absl::Status ReadPodMeta(od::value v, Pod* pod, std::string* rv) {
  return ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "name") return ReadString(val, "name", &pod->name);
    if (key == "namespace") return ReadString(val, "namespace", &pod->namespace_);
    if (key == "uid") return ReadString(val, "uid", &pod->uid);
    if (key == "resourceVersion") return ReadString(val, "resourceVersion", rv);
    if (key == "labels") return ReadStringMap(val, "labels", &pod->labels);
    if (key == "annotations") return ReadStringMap(val, "annotations", &pod->annotations);
    if (key == "creationTimestamp") return ReadTimeMillis(val, "creationTimestamp", &pod->creation_ms);
    if (key == "deletionTimestamp") {
      if (IsNull(val)) return absl::OkStatus();
      int64_t ms = 0;
      absl::Status s = ReadTimeMillis(val, "deletionTimestamp", &ms);
      pod->deleting = s.ok();
      return s;
    }
    if (key == "ownerReferences") {
      return ForEachElement(val, "ownerReferences", [&](size_t i, od::value ref) -> absl::Status {
        return WithPrefix(Indexed("ownerReferences", i), ReadOwnerRef(ref, pod));
      });
    }
    return absl::OkStatus();
  });
}

// One container: its requests with limits standing in for absent requests.
absl::Status ReadContainer(od::value v, DecodeContext* ctx, ContainerRequests* c) {
  ResourceVec requests, limits;
  uint32_t requested = 0, limited = 0;
  std::string restart_policy;
  absl::Status s = ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "restartPolicy") return ReadString(val, "restartPolicy", &restart_policy);
    if (key != "resources") return absl::OkStatus();
    return ForEachField(val, "resources", [&](std::string_view k, od::value list) -> absl::Status {
      if (k == "requests") return WithPrefix("resources.requests.", ReadResourceList(list, &ctx->names, &requests, &requested));
      if (k == "limits") return WithPrefix("resources.limits.", ReadResourceList(list, &ctx->names, &limits, &limited));
      return absl::OkStatus();
    });
  });
  if (!s.ok()) return s;
  for (ResourceId id = 0; id < Res::kMax; ++id) {
    const uint32_t bit = uint32_t{1} << id;
    if ((limited & bit) != 0 && (requested & bit) == 0) requests[id] = limits[id];
  }
  c->requests = requests;
  c->sidecar = restart_policy == "Always";
  return absl::OkStatus();
}

absl::Status ReadContainers(od::value v, std::string_view field, DecodeContext* ctx,
                            std::vector<ContainerRequests>* out) {
  return ForEachElement(v, field, [&](size_t i, od::value c) -> absl::Status {
    ContainerRequests req;
      absl::Status s = ReadContainer(c, ctx, &req);
    if (!s.ok()) return WithPrefix(Indexed(field, i), s);
    out->push_back(std::move(req));
    return absl::OkStatus();
  });
}

absl::Status ReadToleration(od::value v, Toleration* t) {
  std::string op, effect;
  absl::Status s = ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "key") return ReadString(val, "key", &t->key);
    if (key == "value") return ReadString(val, "value", &t->value);
    if (key == "operator") return ReadString(val, "operator", &op);
    if (key == "effect") return ReadString(val, "effect", &effect);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (op.empty() || op == "Equal") {
    t->op = Toleration::Op::kEqual;
  } else if (op == "Exists") {
    t->op = Toleration::Op::kExists;
  } else {
    return FieldError("operator", StrCat("\"", op, "\" is not Equal or Exists"));
  }
  if (!effect.empty()) {
    t->effect = ParseTaintEffect(effect);
    if (!t->effect) return FieldError("effect", StrCat("\"", effect, "\" is not a taint effect"));
  }
  return absl::OkStatus();
}

absl::Status ReadRequirement(od::value v, NodeSelectorRequirement* r) {
  using Op = NodeSelectorRequirement::Op;
  std::string op;
  absl::Status s = ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "key") return ReadString(val, "key", &r->key);
    if (key == "operator") return ReadString(val, "operator", &op);
    if (key == "values") return ReadStringList(val, "values", &r->values);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (op == "In") r->op = Op::kIn;
  else if (op == "NotIn") r->op = Op::kNotIn;
  else if (op == "Exists") r->op = Op::kExists;
  else if (op == "DoesNotExist") r->op = Op::kDoesNotExist;
  else if (op == "Gt") r->op = Op::kGt;
  else if (op == "Lt") r->op = Op::kLt;
  else return FieldError("operator", StrCat("\"", op, "\" is not a node selector operator"));
  return absl::OkStatus();
}

absl::Status ReadRequirements(od::value v, std::string_view field, std::vector<NodeSelectorRequirement>* out) {
  return ForEachElement(v, field, [&](size_t i, od::value el) -> absl::Status {
    NodeSelectorRequirement r;
    absl::Status s = ReadRequirement(el, &r);
    if (!s.ok()) return WithPrefix(Indexed(field, i), s);
    out->push_back(std::move(r));
    return absl::OkStatus();
  });
}

absl::Status ReadTerm(od::value v, NodeSelectorTerm* term) {
  return ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "matchExpressions") return ReadRequirements(val, "matchExpressions", &term->match_expressions);
    if (key == "matchFields") return ReadRequirements(val, "matchFields", &term->match_fields);
    return absl::OkStatus();
  });
}

// affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
// affinity.podAffinity and affinity.podAntiAffinity
absl::Status ReadAffinity(od::value v, Pod* pod) {
  return ForEachField(v, "", [&](std::string_view key, od::value na) -> absl::Status {
    if (key == "podAffinity") return WithPrefix("podAffinity.", ReadPodAffinity(na, false, &pod->constraints));
    if (key == "podAntiAffinity") return WithPrefix("podAntiAffinity.", ReadPodAffinity(na, true, &pod->constraints));
    if (key != "nodeAffinity") return absl::OkStatus();
    return WithPrefix("nodeAffinity.", ForEachField(na, "", [&](std::string_view k, od::value req) -> absl::Status {
      if (k != "requiredDuringSchedulingIgnoredDuringExecution") return absl::OkStatus();
      return WithPrefix(
          "requiredDuringSchedulingIgnoredDuringExecution.",
          ForEachField(req, "", [&](std::string_view k2, od::value terms) -> absl::Status {
            if (k2 != "nodeSelectorTerms") return absl::OkStatus();
            return ForEachElement(terms, "nodeSelectorTerms", [&](size_t i, od::value t) -> absl::Status {
              NodeSelectorTerm term;
              absl::Status s = ReadTerm(t, &term);
              if (!s.ok()) return WithPrefix(Indexed("nodeSelectorTerms", i), s);
              pod->required_affinity.push_back(std::move(term));
              return absl::OkStatus();
            });
          }));
    }));
  });
}

absl::Status ReadPodSpec(od::value v, DecodeContext* ctx, Pod* pod, PodSpecParts* parts) {
  return ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "containers") return ReadContainers(val, "containers", ctx, &parts->containers);
    if (key == "initContainers") return ReadContainers(val, "initContainers", ctx, &parts->init_containers);
    if (key == "overhead") {
      uint32_t present = 0;
      return WithPrefix("overhead.", ReadResourceList(val, &ctx->names, &parts->overhead, &present));
    }
    if (key == "schedulerName") return ReadString(val, "schedulerName", &pod->scheduler_name);
    if (key == "nodeName") return ReadString(val, "nodeName", &pod->node_name);
    if (key == "priorityClassName") return ReadString(val, "priorityClassName", &pod->priority_class);
    if (key == "priority") {
      int64_t p = 0;
      absl::Status s = ReadInt(val, "priority", &p);
      if (s.ok() && (p < INT32_MIN || p > INT32_MAX)) s = FieldError("priority", "is out of the int32 range");
      pod->priority = static_cast<int32_t>(p);
      return s;
    }
    if (key == "nodeSelector") return ReadStringMap(val, "nodeSelector", &pod->node_selector);
    if (key == "tolerations") {
      return ForEachElement(val, "tolerations", [&](size_t i, od::value t) -> absl::Status {
        Toleration tol;
        absl::Status s = ReadToleration(t, &tol);
        if (!s.ok()) return WithPrefix(Indexed("tolerations", i), s);
        pod->tolerations.push_back(std::move(tol));
        return absl::OkStatus();
      });
    }
    if (key == "affinity") return WithPrefix("affinity.", ReadAffinity(val, pod));
    if (key == "topologySpreadConstraints") return ReadSpreadConstraints(val, &pod->constraints);
    return absl::OkStatus();
  });
}

absl::Status ReadPodStatus(od::value v, Pod* pod) {
  return ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "phase") {
      std::string phase;
      absl::Status s = ReadString(val, "phase", &phase);
      pod->phase = ParsePodPhase(phase);
      return s;
    }
    if (key == "nominatedNodeName") return ReadString(val, "nominatedNodeName", &pod->nominated_node);
    return absl::OkStatus();
  });
}

absl::Status ReadDeviceIds(Pod* pod) {
  const std::string* text = pod->annotations.Get(annotations::kGpuDevices);
  if (text == nullptr) return absl::OkStatus();
  for (std::string_view part : SplitTrimmed(*text, ',')) {
    int id = -1;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), id);
    if (ec != std::errc() || ptr != part.data() + part.size() || id < 0) {
      return FieldError(StrCat("metadata.annotations[", annotations::kGpuDevices, "]"),
                        StrCat("\"", *text, "\" is not a list of device indexes like \"0,1\""));
    }
    pod->gpu_device_ids.push_back(id);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodePodObject(od::object obj, DecodeContext* ctx, Pod* pod, std::string* rv) {
  PodSpecParts parts;
  absl::Status first;
  // Sections are read independently so that a bad spec still yields the name.
  absl::Status s = ForEachFieldOf(obj, "", [&](std::string_view key, od::value val) -> absl::Status {
    absl::Status r;
    if (key == "metadata") r = WithPrefix("metadata.", ReadPodMeta(val, pod, rv));
    if (key == "spec") r = WithPrefix("spec.", ReadPodSpec(val, ctx, pod, &parts));
    if (key == "status") r = WithPrefix("status.", ReadPodStatus(val, pod));
    if (first.ok()) first = r;
    return absl::OkStatus();
  });
  if (first.ok()) first = s;
  if (first.ok() && pod->name.empty()) first = FieldError("metadata.name", "is missing");
  if (first.ok()) first = ReadDeviceIds(pod);
  if (!first.ok()) {
    return WithPrefix(StrCat("pod ", pod->name.empty() ? "(unnamed)" : pod->Key(), ": "), first);
  }
  if (pod->scheduler_name.empty()) pod->scheduler_name = "default-scheduler";  // API server default
  pod->requests = EffectiveRequests(parts.init_containers, parts.containers, parts.overhead);
  // A malformed Drover annotation (gpu-fraction, tier, gang-min-members) is not a
  // decode error: the pod goes on, and the engine rejects it with the reason
  // (pod.intent.invalid), so the pod is told (PodScheduled=False and an event).
  (void)DecodePod(pod);
  return absl::OkStatus();
}

}  // namespace drover::k8s::internal
