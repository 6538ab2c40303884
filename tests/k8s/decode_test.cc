#include "k8s/decode.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/gpu_catalog.h"
#include "core/quantity.h"
#include "core/snapshot.h"
#include "core/strings.h"
#include "k8s/api_status.h"
#include "k8s/http_client.h"

namespace drover::k8s {
namespace {

constexpr int64_t kMi = 1024 * 1024;
constexpr int64_t kGi = 1024 * kMi;

std::string Message(const absl::Status& s) { return std::string(s.message().data(), s.message().size()); }

// A pod with limits-only containers, a regular init container after a sidecar,
// and overhead: the cases where requests are not simply the sum.
constexpr const char* kTrainingPod = R"({
  "metadata": {
    "name": "train-0", "namespace": "team-a", "uid": "u-1", "resourceVersion": "42",
    "creationTimestamp": "2024-05-01T10:00:00Z",
    "labels": {"app": "train"},
    "annotations": {"drover.io/queue": "research", "drover.io/gpu-devices": "0, 3"},
    "ownerReferences": [
      {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "x"},
      {"apiVersion": "batch/v1", "kind": "Job", "name": "train", "uid": "y", "controller": true}
    ]
  },
  "spec": {
    "schedulerName": "drover",
    "priority": 1000, "priorityClassName": "high",
    "nodeSelector": {"pool": "a100"},
    "tolerations": [
      {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
      {"key": "dedicated", "value": "ml"},
      {"operator": "Exists"}
    ],
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
      {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]},
                            {"key": "gpu-mem", "operator": "Gt", "values": ["40"]}]},
      {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["bad-node"]}]}
    ]}}},
    "initContainers": [
      {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
      {"name": "fetch", "resources": {"requests": {"cpu": "3"}}}
    ],
    "containers": [
      {"name": "main", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"nvidia.com/gpu": "2", "memory": "2Gi"}}},
      {"name": "logger", "resources": {"limits": {"cpu": "1", "memory": "512Mi"}}}
    ],
    "overhead": {"cpu": "250m"}
  },
  "status": {"phase": "Pending", "nominatedNodeName": "gpu-7"}
})";

TEST_CASE("decode_pod_computes_requests_the_kubernetes_way", "[k8s][decode]") {
  Decoder dec;
  absl::StatusOr<Pod> pod = dec.DecodePod(kTrainingPod);
  REQUIRE(pod.ok());
  // app containers: cpu 500m + 1000m (limit), memory 1Gi (request wins over its limit) + 512Mi (limit)
  // sidecar proxy: +100m, +64Mi -> 1600m, 1.5Gi+64Mi
  // init "fetch" runs beside the sidecar: 3000m + 100m = 3100m > 1600m
  // overhead: +250m
  CHECK(pod->requests[Res::kCpu] == 3350);
  CHECK(pod->requests[Res::kMemory] == kGi + 512 * kMi + 64 * kMi);
  CHECK(pod->requests[Res::kGpu] == 2000);
  CHECK(pod->requests[Res::kPods] == 1);
  CHECK(pod->gpu_devices == 2);
  CHECK(pod->gpu_milli_per_device == 1000);
  CHECK(pod->gpu_device_ids == std::vector<int>{0, 3});

  CHECK(pod->Key() == "team-a/train-0");
  CHECK(pod->uid == "u-1");
  CHECK(pod->scheduler_name == "drover");
  CHECK(pod->priority == 1000);
  CHECK(pod->priority_class == "high");
  CHECK(pod->creation_ms == 1714557600000);
  CHECK(pod->owner_kind == "Job");
  CHECK(pod->owner_name == "train");
  CHECK(pod->nominated_node == "gpu-7");
  CHECK(pod->phase == PodPhase::kPending);
  CHECK_FALSE(pod->deleting);
  REQUIRE(pod->labels.Get("app") != nullptr);
  REQUIRE(pod->annotations.Get("drover.io/queue") != nullptr);
  CHECK(*pod->node_selector.Get("pool") == "a100");

  REQUIRE(pod->tolerations.size() == 3);
  CHECK(pod->tolerations[0].op == Toleration::Op::kExists);
  CHECK(pod->tolerations[0].effect == TaintEffect::kNoSchedule);
  CHECK(pod->tolerations[1].op == Toleration::Op::kEqual);
  CHECK(pod->tolerations[1].value == "ml");
  CHECK_FALSE(pod->tolerations[1].effect.has_value());
  CHECK(pod->tolerations[2].key.empty());

  REQUIRE(pod->required_affinity.size() == 2);
  REQUIRE(pod->required_affinity[0].match_expressions.size() == 2);
  CHECK(pod->required_affinity[0].match_expressions[1].op == NodeSelectorRequirement::Op::kGt);
  CHECK(pod->required_affinity[0].match_expressions[0].values == std::vector<std::string>{"a", "b"});
  REQUIRE(pod->required_affinity[1].match_fields.size() == 1);
  CHECK(pod->required_affinity[1].match_fields[0].op == NodeSelectorRequirement::Op::kNotIn);
}

TEST_CASE("decode_pod_defaults_and_gpu_shares", "[k8s][decode]") {
  Decoder dec;
  SECTION("no schedulerName means default-scheduler; a bound running pod") {
    absl::StatusOr<Pod> pod = dec.DecodePod(R"({"metadata":{"name":"p","namespace":"d",
        "deletionTimestamp":"2024-05-01T10:00:00.5+02:00"},
        "spec":{"nodeName":"n1","containers":[{"name":"c"}]},"status":{"phase":"Running"}})");
    REQUIRE(pod.ok());
    CHECK(pod->scheduler_name == "default-scheduler");
    CHECK(pod->node_name == "n1");
    CHECK(pod->phase == PodPhase::kRunning);
    CHECK(pod->deleting);
    CHECK(pod->requests[Res::kCpu] == 0);
    CHECK(pod->requests[Res::kPods] == 1);
    CHECK(pod->gpu_devices == 0);
  }
  SECTION("a GPU fraction annotation makes a shared-GPU pod") {
    absl::StatusOr<Pod> pod = dec.DecodePod(R"({"metadata":{"name":"p","namespace":"d",
        "annotations":{"drover.io/gpu-fraction":"0.25"}},"spec":{"containers":[{"name":"c"}]}})");
    REQUIRE(pod.ok());
    CHECK(pod->gpu_devices == 1);
    CHECK(pod->gpu_milli_per_device == 250);
    CHECK(pod->requests[Res::kGpu] == 250);
  }
  SECTION("null fields read as absent") {
    absl::StatusOr<Pod> pod = dec.DecodePod(R"({"metadata":{"name":"p","namespace":"d","labels":null,
        "creationTimestamp":null},"spec":{"containers":[{"name":"c","resources":{"requests":null}}],
        "tolerations":null,"affinity":null},"status":{}})");
    REQUIRE(pod.ok());
    CHECK(pod->labels.empty());
  }
}

TEST_CASE("decode_pod_errors_name_the_object_and_field", "[k8s][decode]") {
  Decoder dec;
  auto error_of = [&](const std::string& json) {
    absl::StatusOr<Pod> pod = dec.DecodePod(json);
    REQUIRE_FALSE(pod.ok());
    return Message(pod.status());
  };
  CHECK(error_of(R"({"metadata":{"name":"p","namespace":"d"},"spec":{"containers":[{"name":"a"},
        {"name":"b","resources":{"requests":{"cpu":"lots"}}}]}})")
            .find("pod d/p: spec.containers[1].resources.requests.cpu: ") == 0);
  // The name is found even when metadata comes after the bad spec.
  CHECK(error_of(R"({"spec":{"tolerations":[{"key":"k","operator":"Maybe"}]},"metadata":{"name":"p","namespace":"d"}})") ==
        "pod d/p: spec.tolerations[0].operator: \"Maybe\" is not Equal or Exists");
  CHECK(error_of(R"({"metadata":{"name":"p","namespace":"d"},"spec":{"affinity":{"nodeAffinity":{
        "requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[
        {"key":"k","operator":"Near"}]}]}}}}})") ==
        "pod d/p: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]."
        "matchExpressions[0].operator: \"Near\" is not a node selector operator");
  CHECK(error_of(R"({"metadata":{"name":"p","namespace":"d"},"spec":{"containers":"none"}})") ==
        "pod d/p: spec.containers: has the wrong JSON type");
  CHECK(error_of(R"({"metadata":{"name":"p","namespace":"d"},"spec":{"priority":"high"}})") ==
        "pod d/p: spec.priority: must be an integer");
  CHECK(error_of(R"({"metadata":{"name":"p","namespace":"d","creationTimestamp":"yesterday"}})")
            .find("pod d/p: metadata.creationTimestamp: \"yesterday\"") == 0);
  CHECK(error_of(R"({"metadata":{"name":"p","namespace":"d","annotations":{"drover.io/gpu-devices":"0,x"}}})")
            .find("pod d/p: metadata.annotations[drover.io/gpu-devices]") == 0);
  {
    // A GPU request the scheduler cannot read is not a decode error: the pod goes on
    // to the engine, which rejects it with this reason (so the pod is told).
    absl::StatusOr<Pod> pod = dec.DecodePod(R"({"metadata":{"name":"p","namespace":"d"},"spec":{"containers":[
        {"name":"c","resources":{"limits":{"nvidia.com/gpu":"1500m"}}}]}})");
    REQUIRE(pod.ok());
    CHECK(pod->intent.invalid.find("pod d/p: nvidia.com/gpu request 1.5 is not a whole number") == 0);
    CHECK(pod->gpu_devices == 2);  // what it may hold meanwhile: the whole devices it asks
  }
  {
    absl::StatusOr<Pod> pod = dec.DecodePod(R"({"metadata":{"name":"p","namespace":"d",
        "annotations":{"drover.io/gpu-fraction":"half","drover.io/gang-min-members":"-3"}},
        "spec":{"containers":[{"name":"c"}]}})");
    REQUIRE(pod.ok());
    CHECK(pod->intent.invalid == "pod d/p: annotation drover.io/gpu-fraction: \"half\" must be a fraction in (0, 1]");
  }
  {
    absl::StatusOr<Pod> pod = dec.DecodePod(R"({"metadata":{"name":"p","namespace":"d",
        "annotations":{"drover.io/gang":"g","drover.io/topology-required":"rack","drover.io/topology-preferred":"nvlink"}},
        "spec":{"containers":[{"name":"c"}]}})");
    REQUIRE(pod.ok());
    CHECK(pod->intent.invalid.empty());
    CHECK(pod->intent.topology_required == "rack");
    CHECK(pod->intent.topology_preferred == "nvlink");
    pod = dec.DecodePod(R"({"metadata":{"name":"p","namespace":"d",
        "annotations":{"drover.io/topology-required":"rack/1"}},"spec":{"containers":[{"name":"c"}]}})");
    REQUIRE(pod.ok());
    CHECK(pod->intent.invalid == "pod d/p: annotation drover.io/topology-required: \"rack/1\" is not a topology level name");
  }
  CHECK(error_of(R"({"metadata":{"namespace":"d"}})") == "pod (unnamed): metadata.name: is missing");
  CHECK(error_of(R"({"metadata":{"name":"p","namespace":"d"},"spec":{"containers":[{"name":"c",
        "resources":{"requests":{"memory":"-1Gi"}}}]}})") ==
        "pod d/p: spec.containers[0].resources.requests.memory: \"-1Gi\" is negative");
  CHECK_FALSE(dec.DecodePod("{\"metadata\": ").ok());
}

constexpr const char* kGpuNode = R"({
  "metadata": {"name": "gpu-7", "resourceVersion": "9", "labels": {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB", "zone": "a"}},
  "spec": {"unschedulable": true, "taints": [
    {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute", "timeAdded": "2024-05-01T10:00:00Z"}]},
  "status": {
    "capacity": {"cpu": "64", "memory": "512Gi", "nvidia.com/gpu": "8", "pods": "110"},
    "allocatable": {"cpu": "63500m", "memory": "500Gi", "nvidia.com/gpu": "8", "pods": "110", "ephemeral-storage": "100G"},
    "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "False"}]
  }
})";

TEST_CASE("decode_node_reads_capacity_gpus_taints_and_readiness", "[k8s][decode]") {
  Decoder dec;
  absl::StatusOr<Node> node = dec.DecodeNode(kGpuNode);
  REQUIRE(node.ok());
  CHECK(node->name == "gpu-7");
  CHECK(node->allocatable[Res::kCpu] == 63500);
  CHECK(node->allocatable[Res::kMemory] == 500 * kGi);
  CHECK(node->allocatable[Res::kGpu] == 8000);
  CHECK(node->allocatable[Res::kPods] == 110);
  CHECK(node->allocatable[Res::kEphemeralStorage] == 100'000'000'000);
  CHECK(node->gpu_count == 8);
  CHECK(node->gpu_product == "NVIDIA-A100-SXM4-80GB");
  CHECK(node->gpu_type == kNoGpuType);  // the snapshot resolves it
  CHECK(node->unschedulable);
  CHECK_FALSE(node->ready);
  REQUIRE(node->taints.size() == 2);
  CHECK(node->taints[0].effect == TaintEffect::kNoSchedule);
  CHECK(node->taints[0].value == "present");
  CHECK(node->taints[1].effect == TaintEffect::kNoExecute);

  SECTION("another GPU resource name counts as GPUs") {
    AddGpuResourceName("alibabacloud.com/gpu-count");
    absl::StatusOr<Node> n = dec.DecodeNode(R"({"metadata":{"name":"n","labels":{"alibabacloud.com/gpu-card-model":"L4"}},
        "status":{"allocatable":{"alibabacloud.com/gpu-count":"4"}}})");
    REQUIRE(n.ok());
    CHECK(n->gpu_count == 4);
    CHECK(n->gpu_product == "L4");
    CHECK(n->ready);  // no Ready condition: usable, like kube-scheduler
  }
  SECTION("a bad taint names the node and the field") {
    absl::StatusOr<Node> n = dec.DecodeNode(R"({"metadata":{"name":"n"},"spec":{"taints":[{"key":"k","effect":"Sometimes"}]}})");
    REQUIRE_FALSE(n.ok());
    CHECK(Message(n.status()) == "node n: spec.taints[0].effect: \"Sometimes\" is not a taint effect");
  }
}

TEST_CASE("decode_node_over_the_gpu_limit_is_not_schedulable_and_says_why", "[k8s][decode]") {
  // Before: 10^9 GPUs became 10^9 per-device entries in the snapshot (bad_alloc),
  // 9.2e15 an int overflow and a length_error (issue 21 item 1).
  Decoder dec;
  for (const char* count : {"1000000000", "9200000000000000", "1025"}) {
    INFO(count);
    absl::StatusOr<Node> n = dec.DecodeNode(StrCat(
        R"({"metadata":{"name":"liar","labels":{"nvidia.com/gpu.product":"NVIDIA-A100-SXM4-80GB"}},
            "status":{"allocatable":{"cpu":"8","nvidia.com/gpu":")",
        count, R"("}}})"));
    REQUIRE(n.ok());
    CHECK(n->gpu_count == 0);
    CHECK(n->allocatable[Res::kGpu] == 0);
    CHECK(n->allocatable[Res::kCpu] == 8000);
    CHECK(n->unschedulable);
    CHECK_THAT(n->not_schedulable_reason, Catch::Contains(StrCat("node liar: status.allocatable nvidia.com/gpu: ",
                                                                 count, " GPUs is above the limit of 1024")));
    // The snapshot takes it without per-device state, and says why once.
    GpuCatalog catalog = GpuCatalog::Default();
    Snapshot snap(&catalog);
    CHECK_THAT(snap.UpsertNode(*n), Catch::Contains("above the limit"));
    CHECK(snap.node(snap.FindNode("liar")).device_used.empty());
    Node update = *n;
    update.allocatable[Res::kCpu] = 9000;
    CHECK(snap.UpsertNode(update).empty());
  }
  absl::StatusOr<Node> at_limit = dec.DecodeNode(
      R"({"metadata":{"name":"big"},"status":{"allocatable":{"nvidia.com/gpu":"1024"}}})");
  REQUIRE(at_limit.ok());
  CHECK(at_limit->gpu_count == 1024);
  CHECK(at_limit->not_schedulable_reason.empty());
  CHECK_FALSE(at_limit->unschedulable);
}

TEST_CASE("decode_errors_quote_huge_values_cut_and_sums_do_not_wrap", "[k8s][decode]") {
  Decoder dec;
  const std::string huge(1 << 20, 'Z');
  absl::StatusOr<Node> n = dec.DecodeNode(
      StrCat(R"({"metadata":{"name":"n"},"spec":{"taints":[{"key":"k","effect":")", huge, R"("}]}})"));
  REQUIRE_FALSE(n.ok());
  CHECK(Message(n.status()).size() < 1000);
  CHECK_THAT(Message(n.status()), Catch::Contains("(1048576 bytes)\" is not a taint effect"));
  n = dec.DecodeNode(StrCat(R"({"metadata":{"name":"n"},"status":{"allocatable":{"cpu":")", huge, R"("}}})"));
  REQUIRE_FALSE(n.ok());
  CHECK(Message(n.status()).size() < 1000);
  // Two GPU resource names adding up past int64 are an error, not a wrapped count.
  AddGpuResourceName("alibabacloud.com/gpu-count");
  n = dec.DecodeNode(R"({"metadata":{"name":"n"},"status":{"allocatable":
      {"nvidia.com/gpu":"9000000000000000","alibabacloud.com/gpu-count":"9000000000000000"}}})");
  REQUIRE_FALSE(n.ok());
  CHECK_THAT(Message(n.status()), Catch::Contains("passes the largest quantity"));
  // A Status message from the server is cut too.
  HttpResponse resp;
  resp.status = 422;
  resp.body = StrCat(R"({"kind":"Status","reason":"Invalid","code":422,"message":")", huge, R"("})");
  const absl::Status err = ApiError(resp, "create pod");
  CHECK(Message(err).size() < 1200);
  CHECK_THAT(Message(err), Catch::Contains("create pod: HTTP 422 Invalid: ZZZ"));
}

TEST_CASE("decode_list_skips_bad_items_and_keeps_going", "[k8s][decode]") {
  Decoder dec;
  const std::string page = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"77","continue":"tok","remainingItemCount":10},
    "items":[
      {"metadata":{"name":"a","namespace":"d"},"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"1"}}}]}},
      {"metadata":{"name":"b","namespace":"d"},"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"x1"}}}],
        "nodeName":"n1"},"status":{"phase":"Running"}},
      {"metadata":{"name":"c","namespace":"d"},"spec":{"containers":[{"name":"c","resources":{"limits":{"memory":"1Gi"}}}]}}
    ]})";
  std::vector<Pod> pods;
  std::vector<std::pair<std::string, std::string>> bad;
  absl::StatusOr<ListMeta> meta = dec.DecodePodList(
      page, [&](Pod&& p) { pods.push_back(std::move(p)); },
      [&](std::string_view key, const absl::Status& why) { bad.emplace_back(std::string(key), Message(why)); });
  REQUIRE(meta.ok());
  CHECK(meta->resource_version == "77");
  CHECK(meta->continue_token == "tok");
  REQUIRE(pods.size() == 2);
  CHECK(pods[0].name == "a");
  CHECK(pods[0].requests[Res::kCpu] == 1000);
  CHECK(pods[1].name == "c");
  CHECK(pods[1].requests[Res::kMemory] == kGi);
  REQUIRE(bad.size() == 1);
  CHECK(bad[0].first == "d/b");
  CHECK(bad[0].second.find("pod d/b: spec.containers[0].resources.requests.cpu") == 0);

  SECTION("a page that is not JSON is an error, not a crash") {
    std::string broken = page.substr(0, page.size() / 2);
    absl::StatusOr<ListMeta> m = dec.DecodePodList(broken, [&](Pod&&) {}, [&](std::string_view, const absl::Status&) {});
    CHECK_FALSE(m.ok());
  }
  SECTION("node lists too") {
    std::vector<Node> nodes;
    absl::StatusOr<ListMeta> m = dec.DecodeNodeList(
        std::string(R"({"kind":"NodeList","metadata":{"resourceVersion":"5"},"items":[)") + kGpuNode + "]}",
        [&](Node&& n) { nodes.push_back(std::move(n)); }, [&](std::string_view, const absl::Status&) {});
    REQUIRE(m.ok());
    CHECK(m->continue_token.empty());
    REQUIRE(nodes.size() == 1);
    CHECK(nodes[0].gpu_count == 8);
  }
}

TEST_CASE("decode_namespace_reads_name_and_labels_and_names_bad_fields", "[k8s][decode]") {
  Decoder dec;
  absl::StatusOr<Namespace> ns = dec.DecodeNamespace(R"({"kind":"Namespace","apiVersion":"v1",
    "metadata":{"name":"team-a","resourceVersion":"7","uid":"u","annotations":{"a":"b"},
      "labels":{"team":"a","kubernetes.io/metadata.name":"team-a"}},
    "spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}})");
  REQUIRE(ns.ok());
  CHECK(ns->name == "team-a");
  REQUIRE(ns->labels.size() == 2);
  CHECK(*ns->labels.Get("team") == "a");
  CHECK(*ns->labels.Get("kubernetes.io/metadata.name") == "team-a");

  auto error_of = [&](const std::string& json) {
    absl::StatusOr<Namespace> n = dec.DecodeNamespace(json);
    return n.ok() ? std::string("(ok)") : Message(n.status());
  };
  CHECK(error_of(R"({"metadata":{"name":"t","labels":{"team":7}}})") ==
        "namespace t: metadata.labels[team]: must be a string");
  CHECK(error_of(R"({"metadata":{"name":"t","labels":["team"]}})") ==
        "namespace t: metadata.labels: has the wrong JSON type");
  CHECK(error_of(R"({"metadata":{"name":5}})") == "namespace (unnamed): metadata.name: must be a string");
  CHECK(error_of(R"({"metadata":"x"})") == "namespace (unnamed): metadata: has the wrong JSON type");
  CHECK(error_of(R"({"metadata":{"labels":{"team":"a"}}})") == "namespace (unnamed): metadata.name: is missing");
  CHECK_FALSE(dec.DecodeNamespace(R"({"metadata":{"name":"t")").ok());  // truncated: an error, not a crash

  SECTION("lists skip a bad namespace, watch events carry the key") {
    std::vector<Namespace> good;
    std::vector<std::string> bad;
    absl::StatusOr<ListMeta> m = dec.DecodeNamespaceList(
        R"({"kind":"NamespaceList","metadata":{"resourceVersion":"9"},"items":[
          {"metadata":{"name":"a","labels":{"team":"a"}}},{"metadata":{"name":"b","labels":{"team":[1]}}},
          {"metadata":{"name":"c"}}]})",
        [&](Namespace&& n) { good.push_back(std::move(n)); },
        [&](std::string_view key, const absl::Status&) { bad.emplace_back(key); });
    REQUIRE(m.ok());
    CHECK(m->resource_version == "9");
    REQUIRE(good.size() == 2);
    CHECK(good[1].name == "c");
    CHECK(good[1].labels.empty());
    CHECK(bad == std::vector<std::string>{"b"});
    absl::StatusOr<WatchEvent<Namespace>> ev = dec.DecodeNamespaceEvent(
        R"({"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"10","labels":{"team":"b"}}}})");
    REQUIRE(ev.ok());
    CHECK(ev->key == "a");
    CHECK(ev->resource_version == "10");
    REQUIRE(ev->object.has_value());
    CHECK(*ev->object->labels.Get("team") == "b");
  }
}

TEST_CASE("decode_watch_events", "[k8s][decode]") {
  Decoder dec;
  SECTION("added") {
    absl::StatusOr<WatchEvent<Pod>> ev = dec.DecodePodEvent(
        R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"p","namespace":"d","resourceVersion":"12"}}})");
    REQUIRE(ev.ok());
    CHECK(ev->type == WatchType::kAdded);
    REQUIRE(ev->object.has_value());
    CHECK(ev->key == "d/p");
    CHECK(ev->resource_version == "12");
  }
  SECTION("object before type") {
    absl::StatusOr<WatchEvent<Pod>> ev = dec.DecodePodEvent(
        R"({"object":{"metadata":{"name":"p","namespace":"d","resourceVersion":"13"}},"type":"DELETED"})");
    REQUIRE(ev.ok());
    CHECK(ev->type == WatchType::kDeleted);
    CHECK(ev->key == "d/p");
    CHECK(ev->resource_version == "13");
  }
  SECTION("bookmark carries only a resourceVersion") {
    absl::StatusOr<WatchEvent<Node>> ev = dec.DecodeNodeEvent(
        R"({"type":"BOOKMARK","object":{"kind":"Node","apiVersion":"v1","metadata":{"resourceVersion":"99","creationTimestamp":null}}})");
    REQUIRE(ev.ok());
    CHECK(ev->type == WatchType::kBookmark);
    CHECK(ev->resource_version == "99");
    CHECK_FALSE(ev->object.has_value());
  }
  SECTION("410 error") {
    absl::StatusOr<WatchEvent<Pod>> ev = dec.DecodePodEvent(
        R"J({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
            "message":"too old resource version: 5 (10)","reason":"Expired","code":410}})J");
    REQUIRE(ev.ok());
    CHECK(ev->type == WatchType::kError);
    CHECK(ev->error_code == 410);
    CHECK(ev->error_message == "too old resource version: 5 (10)");
  }
  SECTION("a bad object keeps its key and resourceVersion") {
    absl::StatusOr<WatchEvent<Pod>> ev = dec.DecodePodEvent(
        R"({"type":"MODIFIED","object":{"metadata":{"name":"p","namespace":"d","resourceVersion":"14"},"spec":{"priority":"x"}}})");
    REQUIRE(ev.ok());
    CHECK_FALSE(ev->object.has_value());
    CHECK_FALSE(ev->object_error.ok());
    CHECK(ev->key == "d/p");
    CHECK(ev->resource_version == "14");
  }
  SECTION("not a watch event") {
    CHECK_FALSE(dec.DecodePodEvent(R"({"type":"EXPLODED","object":{}})").ok());
    CHECK_FALSE(dec.DecodePodEvent(R"({"object":{}})").ok());
    CHECK_FALSE(dec.DecodePodEvent("not json").ok());
  }
}

}  // namespace
}  // namespace drover::k8s
