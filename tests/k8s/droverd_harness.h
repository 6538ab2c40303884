// Test and bench helper: runs the droverd BINARY as a subprocess against the fake
// API server (tests/k8s/fake_apiserver.h), with a mixed-GPU cluster to seed and the
// fake server's /_control/stats parsed.
//
//   FakeApiServer server;  REQUIRE(server.Start().ok());
//   E2eWorkload w = MixedGpuWorkload();
//   REQUIRE(Seed(server, w.nodes, w.pods).ok());
//   const std::string dir = MakeTempDir("droverd-e2e");
//   DroverdProcess d(dir + "/a.log");
//   REQUIRE(d.Start(DroverdArgs(server, dir, "replica-a")).ok());
//   absl::StatusOr<ServerStats> s = GetStats(server);
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {

// Path of the droverd executable (compile definition DROVERD_BINARY, or $DROVERD_BINARY).
std::string DroverdBinary();
std::string MakeTempDir(const std::string& prefix);
absl::Status WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

// One droverd process; stdout and stderr go to `log_path`. The destructor SIGKILLs
// it if it still runs; it also dies with the test process (PR_SET_PDEATHSIG).
class DroverdProcess {
 public:
  explicit DroverdProcess(std::string log_path) : log_path_(std::move(log_path)) {}
  ~DroverdProcess();
  DroverdProcess(const DroverdProcess&) = delete;
  DroverdProcess& operator=(const DroverdProcess&) = delete;

  absl::Status Start(const std::vector<std::string>& args);
  void Signal(int sig);
  // Waits for the process to exit: its exit code, 128 + signal if a signal ended
  // it, nullopt if it still runs after `timeout`.
  std::optional<int> Wait(absl::Duration timeout);
  bool Running();
  pid_t pid() const { return pid_; }
  std::string Log() const { return ReadFile(log_path_); }
  // The health port from the log line "health: ... on port N"; 0 until logged.
  int HealthPort() const;
  // The admin API's port from the log line "admin API: ... on port N"; 0 until logged.
  int AdminPort() const;

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// Writes a kubeconfig (bearer token, namespace drover-system) for `server` into
// `dir`; returns its path.
std::string WriteKubeconfig(const FakeApiServer& server, const std::string& dir);

// The queue configuration of the e2e tests (written to dir/queues.yaml by DroverdArgs):
//   root.prod      guaranteed A100 64, H100 64 (no max: up to the cluster)
//   root.research  max H100 96; default queue
//   root.capped    max T4 24 and nothing else
// plus GPU class "a10+" (A10 and up).
extern const char* const kE2eQueues;

// droverd flags for `server`: --kubeconfig, --queues, --health-port 0,
// --leader-elect=true on Lease drover-system/drover with `identity`, no client-side
// QPS limit (the fake server is the bottleneck, not the token bucket). Writes the
// kubeconfig and the queue file into `dir`.
std::vector<std::string> DroverdArgs(const FakeApiServer& server, const std::string& dir, const std::string& identity,
                                     const std::vector<std::string>& extra = {});

struct NodeSpec {
  std::string name;
  std::string product;  // nvidia.com/gpu.product
  std::string gpu_type; // what the product means in the catalog
  int gpus = 0;
  int cpu = 0;          // cores
  int memory_gi = 0;
  int max_pods = 110;
};

// What a seeded pod is and what the tests expect of it.
enum class PodRole {
  kSchedulable,     // drover pod that fits: must be bound exactly once
  kOverQuota,       // drover pod of root.capped: bound only while the queue is under its max
  kTooLarge,        // drover pod that fits no node: PodScheduled=False with an explanation
  kOtherScheduler,  // schedulerName default-scheduler, unbound: must stay untouched
  kPreBound,        // already bound (Running) before droverd starts: must stay untouched
};

struct PodSpec {
  std::string namespace_ = "default";
  std::string name;
  std::string scheduler = "drover";
  std::string queue;     // drover.io/queue, "" for none
  std::string gpu_type;  // drover.io/gpu-type, "" for none
  std::string tier;      // drover.io/tier, "" for none
  int gpus = 0;
  std::string cpu = "1";
  std::string memory = "2Gi";
  std::string node;      // spec.nodeName for pre-bound pods
  PodRole role = PodRole::kSchedulable;
  std::string Key() const { return namespace_ + "/" + name; }
};

struct E2eWorkload {
  std::vector<NodeSpec> nodes;
  std::vector<PodSpec> pods;  // the drover pods first (`drover_pods` of them), then the others
  int drover_pods = 0;
};

// 100 nodes, 25 each of T4, A10G, A100, H100 (8 GPUs each), and:
//  - `drover_pods` (default 1,000) pending pods with schedulerName drover:
//    120 GPU pods in root.prod (A100/H100, 1-4 GPUs), 40 CPU pods in root.prod,
//    100 "a10+" pods, 20 H100 pods and 20 untyped 1-GPU pods in root.research,
//    60 one-T4 pods in root.capped (24 fit its max), one 16-GPU pod (fits no node),
//    and CPU-only research pods for the rest;
//  - 30 pending pods of default-scheduler;
//  - 40 Running pods already bound (2 GPUs each; half drover's, half not).
// Everything schedulable fits with room to spare (no preemption needed).
E2eWorkload MixedGpuWorkload(int drover_pods = 1000);

// A simpler workload for throughput: `nodes` 8-GPU nodes (types in turn) and
// `pods` drover pods in root.research, every 8th asking one GPU, the rest 250m CPU.
E2eWorkload BenchWorkload(int nodes, int pods);

std::string NodeJson(const NodeSpec& n);
std::string PodJson(const PodSpec& p);
// Seeds nodes and pods through /_control/objects, in chunks.
absl::Status Seed(FakeApiServer& server, const std::vector<NodeSpec>& nodes, const std::vector<PodSpec>& pods);

struct BindStat {
  int64_t attempts = 0;
  int64_t succeeded = 0;
  int64_t conflicts = 0;
  int64_t injected_failures = 0;
  std::string node;
};

struct ServerStats {
  std::map<std::string, BindStat> binds;  // "ns/name"
  int64_t succeeded_total = 0;
  int64_t injected_total = 0;
  // "create pods/binding" requests per User-Agent (droverd sends its identity in it).
  std::map<std::string, int64_t> bind_requests_by_agent;
  // Writes to pods and events ("create pods/binding", "patch pods/status",
  // "create events", ...) per User-Agent.
  std::map<std::string, int64_t> pod_writes_by_agent;
  int64_t watches_dropped = 0;
  // Connections the server accepted, per the User-Agent of each one's first request.
  std::map<std::string, int64_t> connections_by_agent;
};

absl::StatusOr<ServerStats> GetStats(FakeApiServer& server);
// Bind requests, and writes to pods and events, sent by the droverd with
// `identity` (its User-Agent is "drover/<version> (<identity>)").
int64_t BindRequestsOf(const ServerStats& s, const std::string& identity);
int64_t PodWritesOf(const ServerStats& s, const std::string& identity);
// Connections opened by the droverd with `identity`.
int64_t ConnectionsOf(const ServerStats& s, const std::string& identity);

// The lease holder of drover-system/drover, "" if none.
std::string LeaseHolder(HttpClient* http);

// A pod as the API server holds it (one LIST of /api/v1/pods).
struct ServerPod {
  std::string key;  // "ns/name"
  std::string uid;
  std::string resource_version;
  std::string scheduler;
  std::string node;
  std::string phase;
  std::string nominated_node;
  std::string gpu_devices;  // annotation drover.io/gpu-devices
  // The PodScheduled condition ("" when absent).
  std::string scheduled_status;
  std::string scheduled_reason;
  std::string scheduled_message;
};
absl::StatusOr<std::map<std::string, ServerPod>> ListServerPods(HttpClient* http);

// Messages of the FailedScheduling events about pod `key` ("ns/name").
absl::StatusOr<std::vector<std::string>> FailedSchedulingEvents(HttpClient* http, const std::string& key);

// Requests of the test's pods, parsed from PodSpec (not from the server's view).
int64_t CpuMillis(const std::string& quantity);    // "500m", "4"
int64_t MemoryBytes(const std::string& quantity);  // "256Mi", "16Gi"

// root.capped's max of T4 GPUs in kE2eQueues.
constexpr int64_t kCappedT4Max = 24;

// How far the binding of `w` has come, from the API server's stats.
struct BindProgress {
  int schedulable = 0;        // kSchedulable pods in the workload
  int schedulable_bound = 0;  // of them, with a successful bind
  int64_t capped_gpus = 0;    // GPUs of root.capped pods with a successful bind
  bool Done() const { return schedulable_bound == schedulable && capped_gpus == kCappedT4Max; }
  // Nothing more to wait for: Done, or root.capped went above its max (binds are
  // never undone, so that never recovers).
  bool Finished() const { return schedulable_bound == schedulable && capped_gpus >= kCappedT4Max; }
};
BindProgress Progress(const E2eWorkload& w, const ServerStats& s);

// Polls the stats until Finished() or `timeout` passes. Returns the last progress
// seen.
BindProgress WaitForAllBound(FakeApiServer& server, const E2eWorkload& w, absl::Duration timeout);

// Invariants, checked from the API server's side. Each returns one line per
// violation, empty when everything holds.
//
// Every kSchedulable pod bound by exactly one successful bind, on the node the
// server holds; root.capped pods bound at most once, only on T4 nodes, together
// within kCappedT4Max; kTooLarge pods never bound.
std::vector<std::string> CheckBoundOnce(const E2eWorkload& w, const ServerStats& s,
                                        const std::map<std::string, ServerPod>& pods);
// For every node, the requests (CPU, memory, GPUs, pod count) of the pods bound to
// it, pre-bound ones included, fit its allocatable.
std::vector<std::string> CheckNoOvercommit(const E2eWorkload& w, const std::map<std::string, ServerPod>& pods);
// Pods of another scheduler and pods bound before droverd started: no bind
// attempt, and the object unchanged since `before` (same resourceVersion and node).
std::vector<std::string> CheckUntouched(const E2eWorkload& w, const ServerStats& s,
                                        const std::map<std::string, ServerPod>& before,
                                        const std::map<std::string, ServerPod>& after);

}  // namespace drover::k8s::testing
