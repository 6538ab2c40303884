#include "review_fixture.h"

#include <simdjson.h>

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"
#include "core/strings.h"
#include "queues/config.h"

namespace drover::admission::testing {

const char* const kDocument = R"(
tiers:
  priority_classes: {critical: 0, low: 2}
placement:
  namespaces: {team-a: root.research.a, team-b: root.dev}
  default_queue: root.dev
admission:
  scheduler_namespaces: [cpu-batch]
  requests_per_gpu:
    - {gpu_type: H100, cpu: 20, memory: 200Gi}
queues:
  children:
    - name: research
      submit: {users: [alice], groups: [ml-admins]}
      children:
        - name: a
          guaranteed: {gpu: {A100: 8}}
        - name: b
          admission: {proportional: warn, tier0: audit}
    - name: dev
      admission: {cpu_per_gpu: 4}
)";

namespace {
Node GpuNode(const GpuCatalog& catalog, const std::string& type, int64_t cpu_cores, int64_t mem_gi) {
  Node n;
  n.name = type + "-node";
  n.gpu_count = 8;
  n.gpu_type = catalog.FindType(type);
  n.allocatable[Res::kCpu] = cpu_cores * 1000;
  n.allocatable[Res::kMemory] = mem_gi << 30;
  n.allocatable[Res::kGpu] = 8000;
  return n;
}
}  // namespace

std::shared_ptr<const AdmissionPolicy> MakePolicy(const char* document) {
  absl::StatusOr<QueueConfig> config = ParseQueueConfig(document, "queues.yaml");
  REQUIRE(config.ok());
  GpuNodeShapes shapes;
  for (int i = 0; i < 4; ++i) AddNodeShape(&shapes, GpuNode(config->catalog, "A100", 96, 960));
  for (int i = 0; i < 2; ++i) AddNodeShape(&shapes, GpuNode(config->catalog, "H100", 192, 2048));
  return std::make_shared<const AdmissionPolicy>(*config, std::move(shapes), "drover");
}

std::string PodJson(const PodSpec& p) {
  std::string requests = StrCat("\"nvidia.com/gpu\":\"", p.gpus, "\"");
  if (p.gpus == 0) requests.clear();
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) StrAppend(&requests, requests.empty() ? "" : ",", "\"", k, "\":\"", v, "\"");
  };
  add("cpu", p.cpu);
  add("memory", p.memory);
  const std::string limits = p.gpus == 0 ? "{}" : StrCat("{\"nvidia.com/gpu\":\"", p.gpus, "\"}");
  return StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")", p.name, R"(","namespace":")", p.ns, "\"",
                p.annotations_json.empty() ? "" : StrCat(",\"annotations\":", p.annotations_json),
                R"(},"spec":{"containers":[{"name":"main","image":"trainer:1","resources":{"requests":{)", requests,
                R"(},"limits":)", limits, R"(}}],"restartPolicy":"Never","schedulerName":")", p.scheduler, "\"",
                p.priority_class.empty() ? "" : StrCat(",\"priorityClassName\":\"", p.priority_class, "\""),
                R"(,"terminationGracePeriodSeconds":30},"status":{}})");
}

std::string ReviewJson(const std::string& pod_json, const std::string& ns, const std::string& user,
                       const std::vector<std::string>& groups, const std::string& operation) {
  std::string g;
  for (const std::string& x : groups) StrAppend(&g, g.empty() ? "" : ",", "\"", x, "\"");
  return StrCat(R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{)",
                R"("uid":"705ab4f5-6393-11e8-b7cc-42010a800002",)",
                R"("kind":{"group":"","version":"v1","kind":"Pod"},)",
                R"("resource":{"group":"","version":"v1","resource":"pods"},)",
                R"("requestKind":{"group":"","version":"v1","kind":"Pod"},)",
                R"("requestResource":{"group":"","version":"v1","resource":"pods"},)",
                R"("name":"","namespace":")", ns, R"(","operation":")", operation, R"(",)",
                R"("userInfo":{"username":")", user, R"(","uid":"u-1","groups":[)", g, "]},",
                R"("object":)", pod_json, R"(,"oldObject":null,"dryRun":false,)",
                R"("options":{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}}})");
}

Response Call(const AdmissionPolicy& policy, Endpoint endpoint, const std::string& body) {
  thread_local Reviewer reviewer;
  const HttpReply reply = reviewer.Review(policy, endpoint, body);
  Response r;
  r.http = reply.status;
  r.raw = reply.body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(reply.body).get(doc) == simdjson::SUCCESS);
  simdjson::dom::object resp;
  if (doc["response"].get(resp) != simdjson::SUCCESS) return r;
  std::string_view s;
  if (resp["uid"].get(s) == simdjson::SUCCESS) r.uid = std::string(s);
  REQUIRE(resp["allowed"].get(r.allowed) == simdjson::SUCCESS);
  int64_t code = 0;
  if (resp["status"]["code"].get(code) == simdjson::SUCCESS) r.code = static_cast<int>(code);
  if (resp["status"]["message"].get(s) == simdjson::SUCCESS) r.message = std::string(s);
  if (resp["patch"].get(s) == simdjson::SUCCESS) {
    std::string_view type;
    REQUIRE(resp["patchType"].get(type) == simdjson::SUCCESS);
    REQUIRE(type == "JSONPatch");
    REQUIRE(absl::Base64Unescape(absl::string_view(s.data(), s.size()), &r.patch));
  }
  simdjson::dom::array warnings;
  if (resp["warnings"].get(warnings) == simdjson::SUCCESS) {
    for (auto w : warnings) r.warnings.emplace_back(std::string_view(w));
  }
  simdjson::dom::element audit;
  if (resp["auditAnnotations"].get(audit) == simdjson::SUCCESS) r.audit = simdjson::minify(audit);
  return r;
}

}  // namespace drover::admission::testing
