#include "admission/review.h"

#include <simdjson.h>

#include "absl/strings/escaping.h"
#include "core/quantity.h"
#include "core/resources.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "k8s/json_util.h"

namespace drover::admission {
namespace {

namespace dom = simdjson::dom;
using k8s::JsonQuote;

absl::Status Bad(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(StrCat("AdmissionReview: ", field, ": ", what));
}

std::string_view TypeName(dom::element e) {
  switch (e.type()) {
    case dom::element_type::ARRAY: return "a list";
    case dom::element_type::OBJECT: return "an object";
    case dom::element_type::STRING: return "a string";
    case dom::element_type::BOOL: return "a boolean";
    case dom::element_type::NULL_VALUE: return "null";
    default: return "a number";
  }
}

// An optional string field; null counts as absent.
absl::Status ReadString(dom::object o, std::string_view key, std::string_view path, std::string* out) {
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return absl::OkStatus();
  std::string_view s;
  if (e.get(s) != simdjson::SUCCESS) return Bad(path, StrCat("expected a string, got ", TypeName(e)));
  *out = std::string(s);
  return absl::OkStatus();
}

// An optional object field; false when absent or null.
absl::StatusOr<bool> ReadObject(dom::object o, std::string_view key, std::string_view path, dom::object* out) {
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return false;
  if (e.get(*out) != simdjson::SUCCESS) return Bad(path, StrCat("expected an object, got ", TypeName(e)));
  return true;
}

absl::Status ReadUserInfo(dom::object request, Requester* who) {
  dom::object user;
  absl::StatusOr<bool> has = ReadObject(request, "userInfo", "request.userInfo", &user);
  if (!has.ok() || !*has) return has.status();
  RETURN_IF_ERROR(ReadString(user, "username", "request.userInfo.username", &who->username));
  dom::element groups;
  if (user["groups"].get(groups) != simdjson::SUCCESS || groups.is_null()) return absl::OkStatus();
  dom::array list;
  if (groups.get(list) != simdjson::SUCCESS) return Bad("request.userInfo.groups", "expected a list of strings");
  for (dom::element g : list) {
    std::string_view s;
    if (g.get(s) != simdjson::SUCCESS) return Bad("request.userInfo.groups", "expected a list of strings");
    who->groups.emplace_back(s);
  }
  return absl::OkStatus();
}

// "group/version/Kind" from request.kind.
absl::Status ReadKind(dom::object request, std::string* out) {
  dom::object kind;
  ASSIGN_OR_RETURN(bool has, ReadObject(request, "kind", "request.kind", &kind));
  if (!has) return absl::OkStatus();
  std::string group, version, k;
  RETURN_IF_ERROR(ReadString(kind, "group", "request.kind.group", &group));
  RETURN_IF_ERROR(ReadString(kind, "version", "request.kind.version", &version));
  RETURN_IF_ERROR(ReadString(kind, "kind", "request.kind.kind", &k));
  *out = StrCat(group, "/", version, "/", k);
  return absl::OkStatus();
}

// A quantity given as a string or a number, in milli; 0 when unreadable (the
// pod decoder reports those).
int64_t QuantityMilli(dom::element e) {
  std::string text;
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS) {
    text = std::string(s);
  } else if (e.is_number()) {
    text = simdjson::minify(e);
  }
  absl::StatusOr<int64_t> v = ParseMilli(text);
  return v.ok() ? *v : 0;
}

void ReadResourceFacts(dom::object list, ContainerFacts* c, int64_t* gpu_millis) {
  for (auto field : list) {
    if (field.key == "cpu") c->cpu_set = true;
    if (field.key == "memory") c->memory_set = true;
    if (IsGpuResourceName(field.key)) *gpu_millis += QuantityMilli(field.value);
  }
}

ContainerFacts ReadContainerFacts(dom::element e) {
  ContainerFacts c;
  dom::object resources;
  if (e["resources"].get(resources) != simdjson::SUCCESS) return c;
  c.has_resources = true;
  dom::object requests, limits;
  int64_t requested_gpus = 0, limited_gpus = 0;
  if (resources["requests"].get(requests) == simdjson::SUCCESS) {
    c.has_requests = true;
    ReadResourceFacts(requests, &c, &requested_gpus);
  }
  if (resources["limits"].get(limits) == simdjson::SUCCESS) ReadResourceFacts(limits, &c, &limited_gpus);
  c.gpu_millis = requested_gpus > 0 ? requested_gpus : limited_gpus;
  return c;
}

PodFacts ReadPodFacts(dom::object pod) {
  PodFacts f;
  dom::object meta, annotations, spec;
  if (pod["metadata"].get(meta) == simdjson::SUCCESS) {
    f.has_annotations = meta["annotations"].get(annotations) == simdjson::SUCCESS;
  }
  if (pod["spec"].get(spec) != simdjson::SUCCESS) return f;
  dom::element scheduler;
  f.has_scheduler_name = spec["schedulerName"].get(scheduler) == simdjson::SUCCESS && !scheduler.is_null();
  dom::array containers;
  if (spec["containers"].get(containers) == simdjson::SUCCESS) {
    for (dom::element c : containers) f.containers.push_back(ReadContainerFacts(c));
  }
  return f;
}

// The object with metadata.name set to `name` (which it lacks).
std::string WithName(dom::object obj, std::string_view name) {
  std::string out = "{";
  bool first = true;
  for (auto field : obj) {
    if (!first) out += ',';
    first = false;
    StrAppend(&out, JsonQuote(field.key), ":");
    dom::object meta;
    if (field.key != "metadata" || field.value.get(meta) != simdjson::SUCCESS) {
      out += simdjson::minify(field.value);
      continue;
    }
    StrAppend(&out, "{\"name\":", JsonQuote(name));
    for (auto m : meta) {
      if (m.key != "name") StrAppend(&out, ",", JsonQuote(m.key), ":", simdjson::minify(m.value));
    }
    out += '}';
  }
  return out + "}";
}

absl::Status ReadObjectField(dom::object request, ReviewRequest* out) {
  dom::object obj;
  ASSIGN_OR_RETURN(out->has_object, ReadObject(request, "object", "request.object", &obj));
  if (!out->has_object) return absl::OkStatus();
  std::string name, generate_name;
  dom::object meta;
  const bool has_meta = obj["metadata"].get(meta) == simdjson::SUCCESS;
  if (has_meta) {
    RETURN_IF_ERROR(ReadString(meta, "name", "request.object.metadata.name", &name));
    RETURN_IF_ERROR(ReadString(meta, "generateName", "request.object.metadata.generateName", &generate_name));
  }
  out->object_json = name.empty() && has_meta ? WithName(obj, StrCat(generate_name, "*")) : simdjson::minify(obj);
  out->facts = ReadPodFacts(obj);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ReviewRequest> ParseReview(dom::parser& parser, std::string_view body) {
  if (body.size() > kMaxReviewBytes) {
    return absl::InvalidArgumentError(StrCat("AdmissionReview: the body is ", body.size(),
                                             " bytes; the limit is ", kMaxReviewBytes, " bytes (3 MiB)"));
  }
  dom::element doc;
  if (auto err = parser.parse(body.data(), body.size()).get(doc); err != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(StrCat("AdmissionReview: the body is not JSON: ", simdjson::error_message(err)));
  }
  dom::object root;
  if (doc.get(root) != simdjson::SUCCESS) return Bad("(body)", StrCat("expected an object, got ", TypeName(doc)));
  std::string api_version, kind;
  RETURN_IF_ERROR(ReadString(root, "apiVersion", "apiVersion", &api_version));
  RETURN_IF_ERROR(ReadString(root, "kind", "kind", &kind));
  if (kind != "AdmissionReview" || api_version != "admission.k8s.io/v1") {
    return Bad("apiVersion/kind", StrCat("\"", CutForMessage(api_version, 60), "\"/\"", CutForMessage(kind, 60),
                                         "\" is not admission.k8s.io/v1 AdmissionReview (webhooks must list "
                                         "admissionReviewVersions: [\"v1\"])"));
  }
  dom::object request;
  ASSIGN_OR_RETURN(bool has_request, ReadObject(root, "request", "request", &request));
  if (!has_request) return Bad("request", "is missing");
  ReviewRequest out;
  RETURN_IF_ERROR(ReadString(request, "uid", "request.uid", &out.uid));
  if (out.uid.empty()) return Bad("request.uid", "is missing");
  if (out.uid.size() > 128) return Bad("request.uid", StrCat("\"", CutForMessage(out.uid, 60), "\" is too long"));
  RETURN_IF_ERROR(ReadKind(request, &out.kind));
  dom::object resource;
  ASSIGN_OR_RETURN(bool has_resource, ReadObject(request, "resource", "request.resource", &resource));
  if (has_resource) RETURN_IF_ERROR(ReadString(resource, "resource", "request.resource.resource", &out.resource));
  RETURN_IF_ERROR(ReadString(request, "subResource", "request.subResource", &out.sub_resource));
  RETURN_IF_ERROR(ReadString(request, "operation", "request.operation", &out.operation));
  RETURN_IF_ERROR(ReadString(request, "namespace", "request.namespace", &out.namespace_));
  RETURN_IF_ERROR(ReadUserInfo(request, &out.requester));
  dom::element dry;
  if (request["dryRun"].get(dry) == simdjson::SUCCESS && !dry.is_null()) {
    if (dry.get(out.dry_run) != simdjson::SUCCESS) return Bad("request.dryRun", "expected a boolean");
  }
  RETURN_IF_ERROR(ReadObjectField(request, &out));
  return out;
}

std::string RenderReview(const ReviewResponse& r) {
  std::string out = StrCat("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"response\":{",
                           "\"uid\":", JsonQuote(r.uid), ",\"allowed\":", r.allowed ? "true" : "false");
  if (!r.allowed || !r.message.empty()) {
    StrAppend(&out, ",\"status\":{");
    if (r.code != 0) StrAppend(&out, "\"code\":", r.code, ",");
    StrAppend(&out, "\"message\":", JsonQuote(r.message), "}");
  }
  if (!r.patch.empty()) {
    StrAppend(&out, ",\"patchType\":\"JSONPatch\",\"patch\":\"", absl::Base64Escape(r.patch), "\"");
  }
  if (!r.warnings.empty()) {
    out += ",\"warnings\":[";
    for (size_t i = 0; i < r.warnings.size(); ++i) StrAppend(&out, i ? "," : "", JsonQuote(r.warnings[i]));
    out += "]";
  }
  if (!r.audit_annotations.empty()) {
    out += ",\"auditAnnotations\":{";
    for (size_t i = 0; i < r.audit_annotations.size(); ++i) {
      StrAppend(&out, i ? "," : "", JsonQuote(r.audit_annotations[i].first), ":",
                JsonQuote(r.audit_annotations[i].second));
    }
    out += "}";
  }
  return out + "}}";
}

}  // namespace drover::admission
