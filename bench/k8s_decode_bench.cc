// Decoding speed of the Kubernetes adapter: a 100,000-pod list and a 10,000-node
// list, in LIST pages of 500 as the informer reads them. Objects look like what a
// real API server returns (managedFields, volumes, env, status conditions,
// container statuses, node images), generated in memory page by page; only the
// decoding is timed. Decoded objects are all kept, as the informer's event queue
// would hold them before the engine drains it.
//
//   k8s_decode_bench [--pods 100000] [--nodes 10000] [--page 500]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/strings.h"
#include "k8s/decode.h"

namespace {

using drover::StrAppend;
using drover::StrCat;

long VmKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  }
  return -1;
}

void AppendPod(std::string* out, int i, int nodes) {
  const bool bound = i % 4 != 0;
  const int gpus = (i % 8 == 0) ? 8 : (i % 3 == 0 ? 1 : 0);
  const std::string name = StrCat("train-", i / 100, "-worker-", i % 100);
  StrAppend(out, R"({"metadata":{"name":")", name, R"(","generateName":"train-)", i / 100,
            R"(-worker-","namespace":"team-)", i % 20, R"(","uid":"6f1c2a8e-)", 100000 + i,
            R"(-4d1b-9c7e-2f3a4b5c6d7e","resourceVersion":")", 5000000 + i,
            R"(","creationTimestamp":"2024-05-01T10:)", (i / 60) % 60 < 10 ? "0" : "", (i / 60) % 60, ":",
            i % 60 < 10 ? "0" : "", i % 60,
            R"(Z","labels":{"app":"train","batch.kubernetes.io/job-name":"train-)", i / 100,
            R"(","batch.kubernetes.io/controller-uid":"aa11bb22-cc33","drover.io/queue":"research"},)",
            R"("annotations":{"drover.io/queue":"research","drover.io/tier":"1",)",
            bound && gpus > 0 ? R"("drover.io/gpu-devices":"0",)" : "",
            R"("kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}"},)",
            R"("ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":"train-)", i / 100,
            R"(","uid":"aa11bb22-cc33","controller":true,"blockOwnerDeletion":true}],)",
            R"("managedFields":[{"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1",)",
            R"("time":"2024-05-01T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:generateName":{},)",
            R"("f:labels":{".":{},"f:app":{}},"f:ownerReferences":{".":{}}},"f:spec":{"f:containers":{}}}},)",
            R"({"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"2024-05-01T10:00:05Z",)",
            R"("fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{},"f:phase":{},"f:podIP":{}}},)",
            R"("subresource":"status"}]},)");
  StrAppend(out, R"("spec":{"volumes":[{"name":"kube-api-access-x1","projected":{"sources":[{"serviceAccountToken":)",
            R"({"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt",)",
            R"("path":"ca.crt"}]}}],"defaultMode":420}},{"name":"data","persistentVolumeClaim":{"claimName":"data"}}],)",
            R"("initContainers":[{"name":"proxy","image":"envoy:1.30","restartPolicy":"Always",)",
            R"("resources":{"requests":{"cpu":"100m","memory":"128Mi"}}}],)",
            R"("containers":[{"name":"main","image":"registry.example.com/ml/train:2024.05",)",
            R"("command":["python","-m","train"],"args":["--epochs","90","--batch","256"],)",
            R"("env":[{"name":"NCCL_DEBUG","value":"WARN"},{"name":"RANK","value":")", i % 100,
            R"("},{"name":"POD_IP","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"status.podIP"}}}],)",
            R"("resources":{"limits":{"cpu":"8","memory":"64Gi")",
            gpus > 0 ? StrCat(R"(,"nvidia.com/gpu":")", gpus, "\"") : std::string(),
            R"(},"requests":{"cpu":"4","memory":"32Gi"}},)",
            R"("volumeMounts":[{"name":"data","mountPath":"/data"},{"name":"kube-api-access-x1","readOnly":true,)",
            R"("mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"terminationMessagePath":"/dev/termination-log",)",
            R"("terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Never",)",
            R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default",)",
            bound ? StrCat(R"("nodeName":"gpu-node-)", i % nodes, "\",") : std::string(),
            R"("securityContext":{},"schedulerName":"drover","tolerations":[{"key":"nvidia.com/gpu","operator":"Exists",)",
            R"("effect":"NoSchedule"},{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",)",
            R"("tolerationSeconds":300}],"priorityClassName":"research","priority":1000,"enableServiceLinks":true,)",
            R"("nodeSelector":{"pool":"a100"},"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":)",
            R"({"nodeSelectorTerms":[{"matchExpressions":[{"key":"topology.kubernetes.io/zone","operator":"In",)",
            R"("values":["zone-a","zone-b"]}]}]}}},"preemptionPolicy":"PreemptLowerPriority"},)");
  if (bound) {
    StrAppend(out, R"("status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True",)",
              R"("lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:03Z"},{"type":"Ready","status":"True",)",
              R"("lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:09Z"},{"type":"PodScheduled","status":"True",)",
              R"("lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:01Z"}],"hostIP":"10.0.)", i % 250,
              R"(.1","podIP":"10.244.)", i % 250, ".", i % 200,
              R"(","startTime":"2024-05-01T10:00:01Z","containerStatuses":[{"name":"main","state":{"running":)",
              R"({"startedAt":"2024-05-01T10:00:08Z"}},"ready":true,"restartCount":0,"image":"registry.example.com/ml/train:2024.05",)",
              R"("imageID":"registry.example.com/ml/train@sha256:0123456789abcdef","containerID":"containerd://abcdef0123",)",
              R"("started":true}],"qosClass":"Burstable"}})");
  } else {
    StrAppend(out, R"("status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False",)",
              R"("lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:01Z","reason":"Unschedulable",)",
              R"("message":"0/10000 nodes are available: 10000 Insufficient nvidia.com/gpu."}],"qosClass":"Burstable"}})");
  }
}

void AppendNode(std::string* out, int i) {
  StrAppend(out, R"({"metadata":{"name":"gpu-node-)", i, R"(","uid":"n-)", i, R"(","resourceVersion":")", 900000 + i,
            R"(","creationTimestamp":"2024-04-01T00:00:00Z","labels":{"beta.kubernetes.io/arch":"amd64",)",
            R"("kubernetes.io/hostname":"gpu-node-)", i, R"(","node.kubernetes.io/instance-type":"p4d.24xlarge",)",
            R"("nvidia.com/gpu.product":")", i % 3 == 0 ? "NVIDIA-H100-80GB-HBM3" : "NVIDIA-A100-SXM4-80GB",
            R"(","nvidia.com/gpu.count":"8","nvidia.com/gpu.memory":"81920","pool":"a100",)",
            R"("topology.kubernetes.io/zone":"zone-)", i % 3 == 0 ? "a" : "b",
            R"("},"annotations":{"node.alpha.kubernetes.io/ttl":"0","volumes.kubernetes.io/controller-managed-attach-detach":"true"}},)",
            R"("spec":{"podCIDR":"10.244.)", i % 250, R"(.0/24","providerID":"aws:///zone-a/i-0abc)", i, R"(",)",
            R"("taints":[{"key":"nvidia.com/gpu","value":"present","effect":"NoSchedule"}]},)",
            R"("status":{"capacity":{"cpu":"96","ephemeral-storage":"1073741824Ki","hugepages-1Gi":"0",)",
            R"("hugepages-2Mi":"0","memory":"1176Gi","nvidia.com/gpu":"8","pods":"110"},)",
            R"("allocatable":{"cpu":"95690m","ephemeral-storage":"989556962604","hugepages-1Gi":"0",)",
            R"("hugepages-2Mi":"0","memory":"1160Gi","nvidia.com/gpu":"8","pods":"110"},"conditions":[)");
  const char* conds[] = {"MemoryPressure", "DiskPressure", "PIDPressure"};
  for (const char* c : conds) {
    StrAppend(out, R"({"type":")", c, R"(","status":"False","lastHeartbeatTime":"2024-05-01T10:00:00Z",)",
              R"("lastTransitionTime":"2024-04-01T00:00:00Z","reason":"KubeletHasSufficient","message":"ok"},)");
  }
  StrAppend(out, R"({"type":"Ready","status":"True","lastHeartbeatTime":"2024-05-01T10:00:00Z",)",
            R"("lastTransitionTime":"2024-04-01T00:00:00Z","reason":"KubeletReady","message":"kubelet is posting ready status"}],)",
            R"("addresses":[{"type":"InternalIP","address":"10.0.)", i % 250, ".", i % 200,
            R"("},{"type":"Hostname","address":"gpu-node-)", i, R"("}],"daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},)",
            R"("nodeInfo":{"machineID":"m)", i, R"(","systemUUID":"s)", i, R"(","bootID":"b)", i,
            R"(","kernelVersion":"6.1.0","osImage":"Ubuntu 22.04","containerRuntimeVersion":"containerd://1.7.2",)",
            R"("kubeletVersion":"v1.30.1","kubeProxyVersion":"v1.30.1","operatingSystem":"linux","architecture":"amd64"},"images":[)");
  for (int k = 0; k < 20; ++k) {
    StrAppend(out, k ? "," : "", R"({"names":["registry.example.com/ml/image-)", k,
              R"(@sha256:0123456789abcdef0123456789abcdef","registry.example.com/ml/image-)", k,
              R"(:v1"],"sizeBytes":)", 1000000000 + k, "}");
  }
  StrAppend(out, "]}}");
}

struct Result {
  int64_t items = 0;
  int64_t bad = 0;
  int64_t bytes = 0;
  double seconds = 0;
};

template <typename T, typename AppendFn, typename DecodeFn>
Result Run(int total, int page, AppendFn append, DecodeFn decode, std::vector<T>* keep) {
  Result r;
  std::string body;
  for (int start = 0; start < total; start += page) {
    body.clear();
    const int end = std::min(total, start + page);
    StrAppend(&body, R"({"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"123456")",
              end < total ? StrCat(R"(,"continue":"token-)", end, "\"") : std::string(), R"(},"items":[)");
    for (int i = start; i < end; ++i) {
      if (i > start) body += ',';
      append(&body, i);
    }
    body += "]}";
    body.reserve(body.size() + 64);  // HttpClient bodies carry simdjson's padding
    r.bytes += static_cast<int64_t>(body.size());
    const auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<drover::k8s::ListMeta> meta = decode(body, keep, &r);
    r.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!meta.ok()) {
      std::fprintf(stderr, "decode failed: %s\n", std::string(meta.status().message()).c_str());
      std::exit(1);
    }
  }
  return r;
}

void Print(const char* what, const Result& r) {
  std::printf("%-6s %8lld objects  %8.1f MB  %7.3f s  %7.1f MB/s  %9.0f objects/s  bad=%lld  VmHWM=%ld MB  VmRSS=%ld MB\n",
              what, static_cast<long long>(r.items), r.bytes / 1e6, r.seconds, r.bytes / 1e6 / r.seconds,
              r.items / r.seconds, static_cast<long long>(r.bad), VmKb("VmHWM:") / 1024, VmKb("VmRSS:") / 1024);
}

}  // namespace

int main(int argc, char** argv) {
  int pods = 100000, nodes = 10000, page = 500;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--pods")) pods = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--nodes")) nodes = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--page")) page = std::atoi(argv[i + 1]);
  }
  drover::k8s::Decoder decoder({"nvidia.com/gpu.product"});
  std::printf("k8s_decode_bench: simdjson kernel %s, pages of %d, VmHWM before=%ld MB\n",
              std::string(drover::k8s::Decoder::SimdKernel()).c_str(), page, VmKb("VmHWM:") / 1024);

  std::vector<drover::Pod> pod_store;
  pod_store.reserve(pods);
  Result pr = Run<drover::Pod>(
      pods, page, [&](std::string* out, int i) { AppendPod(out, i, nodes); },
      [&](const std::string& body, std::vector<drover::Pod>* keep, Result* r) {
        return decoder.DecodePodList(
            body, [&](drover::Pod&& p) { keep->push_back(std::move(p)), ++r->items; },
            [&](std::string_view, const absl::Status&) { ++r->bad; });
      },
      &pod_store);
  Print("pods", pr);

  std::vector<drover::Node> node_store;
  node_store.reserve(nodes);
  Result nr = Run<drover::Node>(
      nodes, page, [&](std::string* out, int i) { AppendNode(out, i); },
      [&](const std::string& body, std::vector<drover::Node>* keep, Result* r) {
        return decoder.DecodeNodeList(
            body, [&](drover::Node&& n) { keep->push_back(std::move(n)), ++r->items; },
            [&](std::string_view, const absl::Status&) { ++r->bad; });
      },
      &node_store);
  Print("nodes", nr);
  // Sanity: the decoded objects are what was generated.
  int64_t gpu_milli = 0;
  for (const drover::Pod& p : pod_store) gpu_milli += p.requests[drover::Res::kGpu];
  std::printf("check: %zu pods requesting %lld GPUs, %zu nodes with %lld GPUs\n", pod_store.size(),
              static_cast<long long>(gpu_milli / 1000), node_store.size(),
              static_cast<long long>(node_store.empty() ? 0 : node_store.size() * node_store[0].gpu_count));
  return 0;
}
