// webhook_bench: the admission webhook's cost per review, on one core.
//   1. the pure function (admission::Reviewer::Review): p50/p99 per review and reviews/s;
//   2. droverd's HTTPS server (server/webhook_server.h) over loopback, one worker thread, a keep-alive client
//      as the API server uses: reviews paced at --rate (latency counted from each review's scheduled time, so
//      queueing shows), then as fast as one client goes.
// The process is pinned to one CPU (client and server share it: pessimistic for the server).
//
//   ./build/bench/webhook_bench [--reviews 20000] [--rate 500]
#include <httplib.h>
#include <sched.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <thread>

#include "admission/policy.h"
#include "admission/webhook.h"
#include "bench/bench_util.h"
#include "core/strings.h"
#include "queues/config.h"
#include "server/webhook_server.h"
#include "server/webhook_tls.h"

namespace drover::bench {
namespace {

constexpr const char* kDoc = R"(
tiers: {priority_classes: {critical: 0}}
placement: {namespaces: {team-a: root.research.a, team-b: root.dev}, default_queue: root.dev}
queues:
  children:
    - name: research
      submit: {users: [alice]}
      children:
        - {name: a, guaranteed: {gpu: {A100: 64}}}
        - {name: b, admission: {proportional: warn}}
    - name: dev
)";

std::shared_ptr<const admission::AdmissionPolicy> Policy() {
  QueueConfig config = ParseQueueConfig(kDoc, "bench").value();
  admission::GpuNodeShapes shapes;
  for (int i = 0; i < 200; ++i) {
    Node n;
    n.gpu_count = 8;
    n.gpu_type = config.catalog.FindType(i % 2 ? "A100" : "H100");
    n.allocatable[Res::kCpu] = 96000;
    n.allocatable[Res::kMemory] = int64_t{960} << 30;
    admission::AddNodeShape(&shapes, n);
  }
  return std::make_shared<const admission::AdmissionPolicy>(config, shapes, "drover");
}

// A Job's pod as the API server sends it: defaulted, a few labels, env, volumes (~3 KB).
std::string Review(int i) {
  std::string env;
  for (int e = 0; e < 12; ++e) StrAppend(&env, e ? "," : "", R"({"name":"VAR_)", e, R"(","value":"value-)", e, "\"}");
  const std::string pod = StrCat(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"","generateName":"train-)", i % 100,
      R"(-","namespace":"team-a","labels":{"job-name":"train","batch.kubernetes.io/controller-uid":"0d5c","app":"llm"},)",
      R"("annotations":{"drover.io/gpu-type":"A100"},"ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":)",
      R"("train","uid":"0d5c","controller":true,"blockOwnerDeletion":true}]},"spec":{"volumes":[{"name":"data",)",
      R"("persistentVolumeClaim":{"claimName":"data"}},{"name":"shm","emptyDir":{"medium":"Memory"}}],"containers":[{)",
      R"("name":"trainer","image":"registry.example.com/llm/trainer:2024.05","command":["python","-m","train"],)",
      R"("env":[)", env, R"(],"resources":{"limits":{"nvidia.com/gpu":")", 1 + i % 8, R"("},"requests":{"nvidia.com/gpu":")",
      1 + i % 8, R"(","cpu":")", 4 + i % 8, R"(","memory":"64Gi"}},"volumeMounts":[{"name":"data","mountPath":"/data"},)",
      R"({"name":"shm","mountPath":"/dev/shm"}],"terminationMessagePath":"/dev/termination-log",)",
      R"("terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Never",)",
      R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default",)",
      R"("securityContext":{},"schedulerName":")", i % 2 ? "drover" : "default-scheduler",
      R"(","tolerations":[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}],"priority":0,)",
      R"("enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},"status":{}})");
  return StrCat(R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u-)", i,
                R"(","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1",)",
                R"("resource":"pods"},"namespace":"team-a","operation":"CREATE","userInfo":{"username":"alice",)",
                R"("groups":["system:authenticated"]},"object":)", pod, R"(,"oldObject":null,"dryRun":false}})");
}

struct Figures {
  double p50_ms, p99_ms, max_ms, per_s;
};

Figures Summarize(std::vector<double> lat_s, double wall_s) {
  std::sort(lat_s.begin(), lat_s.end());
  auto at = [&](double q) { return lat_s[static_cast<size_t>(q * (lat_s.size() - 1))] * 1e3; };
  return Figures{at(0.5), at(0.99), lat_s.back() * 1e3, lat_s.size() / wall_s};
}

void Print(const char* what, const Figures& f) {
  std::printf("%-44s p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms  %9.0f reviews/s\n", what, f.p50_ms, f.p99_ms,
              f.max_ms, f.per_s);
}

}  // namespace
}  // namespace drover::bench

int main(int argc, char** argv) {
  using namespace drover;
  using namespace drover::bench;
  int reviews = 20000;
  double rate = 500;
  CLI::App app("admission webhook latency and throughput on one core");
  app.add_option("--reviews", reviews, "reviews per measurement")->capture_default_str();
  app.add_option("--rate", rate, "paced reviews per second over HTTPS")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  sched_setaffinity(0, sizeof(one), &one);

  auto policy = Policy();
  std::vector<std::string> bodies;
  for (int i = 0; i < 256; ++i) bodies.push_back(Review(i));
  std::printf("webhook_bench: %d reviews, pod body ~%zu bytes, one CPU\n", reviews, bodies[0].size());

  admission::Reviewer reviewer;
  for (const auto endpoint : {admission::Endpoint::kMutate, admission::Endpoint::kValidate}) {
    std::vector<double> lat;
    lat.reserve(reviews);
    const double t0 = NowSec();
    for (int i = 0; i < reviews; ++i) {
      const double s = NowSec();
      admission::HttpReply r = reviewer.Review(*policy, endpoint, bodies[i % bodies.size()]);
      lat.push_back(NowSec() - s);
      if (r.status != 200) std::printf("unexpected HTTP %d\n", r.status);
    }
    Print(endpoint == admission::Endpoint::kMutate ? "pure function, /mutate" : "pure function, /validate",
          Summarize(lat, NowSec() - t0));
  }

  TlsPair pair = MakeServingPair({"localhost"}, absl::Now(), 1).value();
  WebhookPolicy holder;
  holder.Set(policy);
  WebhookServer server(WebhookServerOptions{.host = "127.0.0.1", .port = 0, .threads = 1}, &holder,
                       ServingCert::FromPem(pair).value());
  const int port = server.Start().value();
  const std::string ca_path = "/tmp/webhook_bench_ca.pem";
  std::ofstream(ca_path) << pair.ca_pem;
  httplib::SSLClient cli("localhost", port);
  cli.set_ca_cert_path(ca_path.c_str());
  cli.enable_server_certificate_verification(true);
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);  // as Go's net/http (the API server) does
  for (int i = 0; i < 200; ++i) cli.Post("/validate", bodies[i % bodies.size()], "application/json");  // warm up

  const double interval = 1.0 / rate;
  for (bool paced : {true, false}) {
    std::vector<double> lat;
    lat.reserve(reviews);
    const double t0 = NowSec();
    for (int i = 0; i < reviews; ++i) {
      const double scheduled = paced ? t0 + i * interval : NowSec();
      while (paced && NowSec() < scheduled) {
        const double left = scheduled - NowSec();
        if (left > 2e-4) std::this_thread::sleep_for(std::chrono::duration<double>(left - 1e-4));
      }
      auto res = cli.Post(i % 2 ? "/validate" : "/mutate", bodies[i % bodies.size()], "application/json");
      lat.push_back(NowSec() - scheduled);
      if (!res || res->status != 200) std::printf("unexpected reply\n");
    }
    Print(paced ? StrCat("HTTPS loopback, paced at ", static_cast<int>(rate), "/s").c_str()
                : "HTTPS loopback, as fast as one client goes",
          Summarize(lat, NowSec() - t0));
  }
  server.Stop();
  std::remove(ca_path.c_str());
  return 0;
}
