// Node JSON -> drover::Node. See decode.h for the rules.
#include "core/snapshot.h"
#include "k8s/decode_internal.h"

namespace drover::k8s::internal {
namespace {

absl::Status ReadNodeMeta(od::value v, Node* node, std::string* rv) {
  return ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "name") return ReadString(val, "name", &node->name);
    if (key == "resourceVersion") return ReadString(val, "resourceVersion", rv);
    if (key == "labels") return ReadStringMap(val, "labels", &node->labels);
    return absl::OkStatus();
  });
}

absl::Status ReadTaint(od::value v, Taint* t) {
  std::string effect;
  absl::Status s = ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "key") return ReadString(val, "key", &t->key);
    if (key == "value") return ReadString(val, "value", &t->value);
    if (key == "effect") return ReadString(val, "effect", &effect);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  std::optional<TaintEffect> e = ParseTaintEffect(effect);
  if (!e) return FieldError("effect", StrCat("\"", CutForMessage(effect), "\" is not a taint effect"));
  t->effect = *e;
  return absl::OkStatus();
}

absl::Status ReadNodeSpec(od::value v, Node* node) {
  return ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "unschedulable") return ReadBool(val, "unschedulable", &node->unschedulable);
    if (key != "taints") return absl::OkStatus();
    return ForEachElement(val, "taints", [&](size_t i, od::value t) -> absl::Status {
      Taint taint;
      absl::Status s = ReadTaint(t, &taint);
      if (!s.ok()) return WithPrefix(StrCat("taints[", i, "]."), s);
      node->taints.push_back(std::move(taint));
      return absl::OkStatus();
    });
  });
}

// Ready unless a Ready condition says otherwise: kube-scheduler itself filters on
// the not-ready taints, not on the condition, so a node without conditions is usable.
absl::Status ReadCondition(od::value v, Node* node) {
  std::string type, status;
  absl::Status s = ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "type") return ReadString(val, "type", &type);
    if (key == "status") return ReadString(val, "status", &status);
    return absl::OkStatus();
  });
  if (s.ok() && type == "Ready") node->ready = status == "True";
  return s;
}

absl::Status ReadNodeStatus(od::value v, DecodeContext* ctx, Node* node) {
  return ForEachField(v, "", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "allocatable") {
      uint32_t present = 0;
      return WithPrefix("allocatable.", ReadResourceList(val, &ctx->names, &node->allocatable, &present));
    }
    if (key != "conditions") return absl::OkStatus();
    return ForEachElement(val, "conditions", [&](size_t i, od::value c) -> absl::Status {
      return WithPrefix(StrCat("conditions[", i, "]."), ReadCondition(c, node));
    });
  });
}

}  // namespace

absl::Status DecodeNodeObject(od::object obj, DecodeContext* ctx, Node* node, std::string* rv) {
  absl::Status first;
  absl::Status s = ForEachFieldOf(obj, "", [&](std::string_view key, od::value val) -> absl::Status {
    absl::Status r;
    if (key == "metadata") r = WithPrefix("metadata.", ReadNodeMeta(val, node, rv));
    if (key == "spec") r = WithPrefix("spec.", ReadNodeSpec(val, node));
    if (key == "status") r = WithPrefix("status.", ReadNodeStatus(val, ctx, node));
    if (first.ok()) first = r;
    return absl::OkStatus();
  });
  if (first.ok()) first = s;
  if (first.ok() && node->name.empty()) first = FieldError("metadata.name", "is missing");
  if (!first.ok()) return WithPrefix(StrCat("node ", node->name.empty() ? "(unnamed)" : node->name, ": "), first);
  const int64_t gpu_milli = node->allocatable[Res::kGpu];
  if (gpu_milli % 1000 != 0) {
    return FieldError(StrCat("node ", node->name, ": status.allocatable"),
                      StrCat("GPU count ", FormatAmount(Res::kGpu, gpu_milli), " is not whole"));
  }
  // A claim over the per-node limit leaves the node not schedulable, with its reason
  // (never an int overflow here, nor per-device state of that size later).
  if (ContainGpuClaim(*node).empty()) node->gpu_count = static_cast<int>(gpu_milli / 1000);
  for (const std::string& label : ctx->product_labels) {
    if (const std::string* product = node->labels.Get(label)) {
      node->gpu_product = *product;
      break;
    }
  }
  return absl::OkStatus();
}

}  // namespace drover::k8s::internal
