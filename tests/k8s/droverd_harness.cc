#include "tests/k8s/droverd_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "core/strings.h"
#include "k8s/leader.h"

namespace drover::k8s::testing {

std::string DroverdBinary() {
  if (const char* env = std::getenv("DROVERD_BINARY"); env != nullptr && *env != '\0') return env;
  return DROVERD_BINARY;
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = StrCat("/tmp/", prefix, "-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) return "/tmp";
  return tmpl;
}

absl::Status WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return absl::InternalError(StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// --- DroverdProcess -----------------------------------------------------------

DroverdProcess::~DroverdProcess() {
  if (pid_ > 0 && !exit_code_.has_value()) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

absl::Status DroverdProcess::Start(const std::vector<std::string>& args) {
  if (pid_ > 0 && !exit_code_.has_value()) return absl::FailedPreconditionError("droverd already running");
  std::vector<std::string> owned = args;
  std::vector<char*> argv;
  for (std::string& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = log_path_;
  exit_code_.reset();
  pid_ = fork();
  if (pid_ < 0) return absl::InternalError("fork failed");
  if (pid_ == 0) {  // only async-signal-safe calls until exec
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  return absl::OkStatus();
}

void DroverdProcess::Signal(int sig) {
  if (pid_ > 0 && !exit_code_.has_value()) kill(pid_, sig);
}

std::optional<int> DroverdProcess::Wait(absl::Duration timeout) {
  if (exit_code_.has_value() || pid_ <= 0) return exit_code_;
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (absl::Now() > deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

bool DroverdProcess::Running() { return pid_ > 0 && !Wait(absl::ZeroDuration()).has_value(); }

namespace {

// The first number matched by `pattern`'s group in `log`; 0 when none.
int PortFromLog(const std::string& log, const char* pattern) {
  const std::regex re(pattern);
  std::smatch m;
  if (!std::regex_search(log, m, re)) return 0;
  return std::atoi(m[1].str().c_str());
}

}  // namespace

int DroverdProcess::HealthPort() const { return PortFromLog(Log(), "/readyz on port ([0-9]+)"); }

int DroverdProcess::AdminPort() const { return PortFromLog(Log(), "admin API: .* on port ([0-9]+)"); }

// --- configuration ------------------------------------------------------------

std::string WriteKubeconfig(const FakeApiServer& server, const std::string& dir) {
  const std::string path = dir + "/kubeconfig";
  (void)WriteFile(path, StrCat("apiVersion: v1\n"
                               "kind: Config\n"
                               "clusters:\n"
                               "- name: fake\n"
                               "  cluster:\n"
                               "    server: ", server.url(), "\n",
                               // The test server's certificate is self-signed (tests that check the CA use
                               // HttpClient directly: http_client_test.cc).
                               server.url().starts_with("https://") ? "    insecure-skip-tls-verify: true\n" : "",
                               "users:\n"
                               "- name: drover\n"
                               "  user:\n"
                               "    token: ", FakeApiServer::kToken, "\n"
                               "contexts:\n"
                               "- name: fake\n"
                               "  context:\n"
                               "    cluster: fake\n"
                               "    user: drover\n"
                               "    namespace: drover-system\n"
                               "current-context: fake\n"));
  return path;
}

const char* const kE2eQueues = R"(# droverd end-to-end tests (tests/k8s/droverd_e2e_test.cc)
gpu_classes:
  - name: a10+
    min: A10
placement:
  default_queue: root.research
queues:
  children:
    - name: prod
      weight: 2
      guaranteed: {gpu: {A100: 64, H100: 64}}
    - name: research
      max: {gpu: {H100: 96}}
    - name: capped
      max: {gpu: {T4: 24, A10G: 0, A100: 0, H100: 0}}
)";

std::vector<std::string> DroverdArgs(const FakeApiServer& server, const std::string& dir, const std::string& identity,
                                     const std::vector<std::string>& extra) {
  const std::string kubeconfig = WriteKubeconfig(server, dir);
  const std::string queues = dir + "/queues.yaml";
  (void)WriteFile(queues, kE2eQueues);
  std::vector<std::string> args = {DroverdBinary(), "--kubeconfig", kubeconfig, "--queues", queues,
                                   "--health-port", "0", "--admin-port", "0", "--leader-elect=true", "--lease-namespace",
                                   "drover-system", "--lease-name", "drover", "--identity", identity,
                                   "--kube-api-qps", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// --- workloads ----------------------------------------------------------------

namespace {

struct GpuKind {
  const char* type;
  const char* product;
  int cpu;
  int memory_gi;
};
constexpr GpuKind kKinds[] = {{"T4", "Tesla-T4", 64, 256},
                              {"A10G", "NVIDIA-A10G", 192, 768},
                              {"A100", "NVIDIA-A100-SXM4-80GB", 128, 1024},
                              {"H100", "NVIDIA-H100-80GB-HBM3", 192, 2048}};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

PodSpec GpuPod(const std::string& ns, const std::string& queue, const std::string& type, int gpus) {
  PodSpec p;
  p.namespace_ = ns;
  p.queue = queue;
  p.gpu_type = type;
  p.gpus = gpus;
  p.cpu = std::to_string(4 * gpus);
  p.memory = StrCat(16 * gpus, "Gi");
  return p;
}

PodSpec CpuPod(const std::string& ns, const std::string& queue, const std::string& cpu, const std::string& mem) {
  PodSpec p;
  p.namespace_ = ns;
  p.queue = queue;
  p.cpu = cpu;
  p.memory = mem;
  return p;
}

}  // namespace

E2eWorkload MixedGpuWorkload(int drover_pods) {
  E2eWorkload w;
  for (const GpuKind& k : kKinds) {
    for (int i = 0; i < 25; ++i) {
      w.nodes.push_back(NodeSpec{.name = StrCat(Lower(k.type), "-", i < 10 ? "0" : "", i),
                                 .product = k.product,
                                 .gpu_type = k.type,
                                 .gpus = 8,
                                 .cpu = k.cpu,
                                 .memory_gi = k.memory_gi});
    }
  }
  std::vector<PodSpec> d;
  static constexpr int kSizes[] = {1, 1, 1, 2, 4};
  for (int i = 0; i < 120; ++i) d.push_back(GpuPod("team-prod", "root.prod", i % 2 ? "H100" : "A100", kSizes[(i / 2) % 5]));
  for (int i = 0; i < 40; ++i) d.push_back(CpuPod("team-prod", "root.prod", "1", "2Gi"));
  for (int i = 0; i < 100; ++i) d.push_back(GpuPod("research", "root.research", "a10+", 1));
  for (int i = 0; i < 20; ++i) d.push_back(GpuPod("research", "root.research", "H100", 1));
  for (int i = 0; i < 20; ++i) d.push_back(GpuPod("research", "root.research", "", 1));
  for (int i = 0; i < 60; ++i) {
    PodSpec p = GpuPod("capped", "root.capped", "T4", 1);
    p.role = PodRole::kOverQuota;
    d.push_back(p);
  }
  {
    PodSpec p = GpuPod("research", "root.research", "H100", 16);
    p.role = PodRole::kTooLarge;
    d.push_back(p);
  }
  while (static_cast<int>(d.size()) < drover_pods) {
    PodSpec p = CpuPod("research", "root.research", "500m", "1Gi");
    p.tier = d.size() % 3 == 0 ? "2" : "";
    d.push_back(p);
  }
  d.resize(drover_pods);
  // Arrival order mixed, deterministically.
  std::mt19937 rng(12345);
  for (size_t i = d.size(); i > 1; --i) std::swap(d[i - 1], d[rng() % i]);
  for (size_t i = 0; i < d.size(); ++i) {
    d[i].name = StrCat("p-", i < 10 ? "000" : i < 100 ? "00" : i < 1000 ? "0" : "", i);
  }
  w.drover_pods = static_cast<int>(d.size());
  w.pods = std::move(d);
  // Pods of another scheduler, pending.
  for (int i = 0; i < 30; ++i) {
    PodSpec p = GpuPod("other", "", "", 1);
    p.name = StrCat("default-", i);
    p.scheduler = "default-scheduler";
    p.role = PodRole::kOtherScheduler;
    w.pods.push_back(p);
  }
  // Running pods, bound before droverd starts: one on each of the first 10 nodes of each type.
  for (int k = 0; k < 40; ++k) {
    PodSpec p = GpuPod("legacy", k % 2 == 0 ? "root.prod" : "", "", 2);
    p.name = StrCat("running-", k);
    p.scheduler = k % 2 == 0 ? "drover" : "default-scheduler";
    p.node = w.nodes[(k % 4) * 25 + k / 4].name;
    p.role = PodRole::kPreBound;
    w.pods.push_back(p);
  }
  return w;
}

E2eWorkload BenchWorkload(int nodes, int pods) {
  E2eWorkload w;
  for (int i = 0; i < nodes; ++i) {
    const GpuKind& k = kKinds[i % 4];
    w.nodes.push_back(NodeSpec{.name = StrCat("node-", i), .product = k.product, .gpu_type = k.type, .gpus = 8,
                               .cpu = 128, .memory_gi = 1024});
  }
  for (int i = 0; i < pods; ++i) {
    PodSpec p = i % 8 == 0 ? GpuPod("bench", "root.research", "", 1) : CpuPod("bench", "root.research", "250m", "256Mi");
    p.name = StrCat("pod-", i);
    w.pods.push_back(p);
  }
  w.drover_pods = pods;
  return w;
}

std::string NodeJson(const NodeSpec& n) {
  const std::string res = StrCat(R"({"cpu":")", n.cpu, R"(","memory":")", n.memory_gi, R"(Gi","pods":")", n.max_pods,
                                 R"(","nvidia.com/gpu":")", n.gpus, R"("})");
  return StrCat(R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")", n.name,
                R"(","labels":{"kubernetes.io/hostname":")", n.name, R"(","nvidia.com/gpu.product":")", n.product,
                R"(","nvidia.com/gpu.count":")", n.gpus, R"("}},"spec":{},"status":{"capacity":)", res,
                R"(,"allocatable":)", res, R"(,"conditions":[{"type":"Ready","status":"True"}]}})");
}

std::string PodJson(const PodSpec& p) {
  std::string ann;
  auto add = [&ann](std::string_view k, const std::string& v) {
    if (!v.empty()) StrAppend(&ann, ann.empty() ? "" : ",", "\"", k, "\":\"", v, "\"");
  };
  add("drover.io/queue", p.queue);
  add("drover.io/gpu-type", p.gpu_type);
  add("drover.io/tier", p.tier);
  std::string requests = StrCat(R"("cpu":")", p.cpu, R"(","memory":")", p.memory, "\"");
  std::string limits;
  if (p.gpus > 0) {
    StrAppend(&requests, R"(,"nvidia.com/gpu":")", p.gpus, "\"");
    limits = StrCat(R"(,"limits":{"nvidia.com/gpu":")", p.gpus, "\"}");
  }
  const bool running = !p.node.empty();
  return StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")", p.name, R"(","namespace":")", p.namespace_,
                R"(","annotations":{)", ann, R"(}},"spec":{"schedulerName":")", p.scheduler, "\"",
                running ? StrCat(R"(,"nodeName":")", p.node, "\"") : std::string(),
                R"(,"containers":[{"name":"main","image":"registry.example.com/train:1","resources":{"requests":{)",
                requests, "}", limits, R"(}}]},"status":{"phase":")", running ? "Running" : "Pending", "\"",
                running ? R"(,"conditions":[{"type":"PodScheduled","status":"True"},{"type":"Ready","status":"True"}])"
                        : "",
                "}}");
}

absl::Status Seed(FakeApiServer& server, const std::vector<NodeSpec>& nodes, const std::vector<PodSpec>& pods) {
  std::vector<std::string> objects;
  for (const NodeSpec& n : nodes) objects.push_back(NodeJson(n));
  for (const PodSpec& p : pods) objects.push_back(PodJson(p));
  constexpr size_t kChunk = 500;
  for (size_t i = 0; i < objects.size(); i += kChunk) {
    std::string body = R"({"objects":[)";
    for (size_t j = i; j < std::min(objects.size(), i + kChunk); ++j) StrAppend(&body, j > i ? "," : "", objects[j]);
    StrAppend(&body, "]}");
    absl::StatusOr<std::string> r = server.Control("/_control/objects", body);
    if (!r.ok()) return r.status();
  }
  return absl::OkStatus();
}

// --- stats --------------------------------------------------------------------

absl::StatusOr<ServerStats> GetStats(FakeApiServer& server) {
  absl::StatusOr<std::string> body = server.ControlGet("/_control/stats");
  if (!body.ok()) return body.status();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(*body).get(doc) != simdjson::SUCCESS) return absl::InternalError("stats: bad JSON");
  ServerStats out;
  auto i64 = [](simdjson::dom::element e, const char* key) {
    int64_t v = 0;
    if (e[key].get_int64().get(v) != simdjson::SUCCESS) v = 0;
    return v;
  };
  simdjson::dom::object binds;
  if (doc["binds"].get_object().get(binds) == simdjson::SUCCESS) {
    for (auto [key, value] : binds) {
      BindStat s{.attempts = i64(value, "attempts"),
                 .succeeded = i64(value, "succeeded"),
                 .conflicts = i64(value, "conflicts"),
                 .injected_failures = i64(value, "injected_failures")};
      std::string_view node;
      if (value["node"].get_string().get(node) == simdjson::SUCCESS) s.node = std::string(node);
      out.succeeded_total += s.succeeded;
      out.injected_total += s.injected_failures;
      out.binds.emplace(std::string(key), std::move(s));
    }
  }
  simdjson::dom::object agents;
  if (doc["requests"]["by_user_agent"].get_object().get(agents) == simdjson::SUCCESS) {
    for (auto [ua, counts] : agents) {
      simdjson::dom::object by_resource;
      if (counts.get_object().get(by_resource) != simdjson::SUCCESS) continue;
      for (auto [what, count] : by_resource) {
        int64_t n = 0;
        if (count.get_int64().get(n) != simdjson::SUCCESS) continue;
        if (what == "create pods/binding") out.bind_requests_by_agent[std::string(ua)] = n;
        const bool write = what.starts_with("create ") || what.starts_with("update ") || what.starts_with("patch ") ||
                           what.starts_with("delete");
        const std::string_view resource = what.substr(what.find(' ') + 1);
        if (write && (resource.starts_with("pods") || resource.starts_with("events"))) {
          out.pod_writes_by_agent[std::string(ua)] += n;
        }
      }
    }
  }
  out.watches_dropped = i64(doc["watches"], "dropped");
  simdjson::dom::object conns;
  if (doc["connections"]["by_user_agent"].get_object().get(conns) == simdjson::SUCCESS) {
    for (auto [ua, count] : conns) {
      int64_t n = 0;
      if (count.get_int64().get(n) == simdjson::SUCCESS) out.connections_by_agent[std::string(ua)] = n;
    }
  }
  return out;
}


namespace {

int64_t SumOfAgent(const std::map<std::string, int64_t>& by_agent, const std::string& identity) {
  int64_t n = 0;
  for (const auto& [agent, count] : by_agent) {
    if (agent.find(StrCat("(", identity, ")")) != std::string::npos) n += count;
  }
  return n;
}

}  // namespace

int64_t BindRequestsOf(const ServerStats& s, const std::string& identity) {
  return SumOfAgent(s.bind_requests_by_agent, identity);
}

int64_t ConnectionsOf(const ServerStats& s, const std::string& identity) {
  return SumOfAgent(s.connections_by_agent, identity);
}

int64_t PodWritesOf(const ServerStats& s, const std::string& identity) {
  return SumOfAgent(s.pod_writes_by_agent, identity);
}

// --- the server's view ----------------------------------------------------------

namespace {

// `key`'s string value; "" when `e` (an absent field, e.g. a pod without
// annotations) or the key is missing.
std::string Str(simdjson::simdjson_result<simdjson::dom::element> e, const char* key) {
  std::string_view v;
  if (e[key].get_string().get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}
std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get_string().get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

}  // namespace

absl::StatusOr<std::map<std::string, ServerPod>> ListServerPods(HttpClient* http) {
  absl::StatusOr<HttpResponse> r = http->Send(HttpRequest{.path = "/api/v1/pods"});
  if (!r.ok()) return r.status();
  if (r->status != 200) return absl::InternalError(StrCat("list pods: HTTP ", r->status));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r->body).get(doc) != simdjson::SUCCESS) return absl::InternalError("list pods: bad JSON");
  simdjson::dom::array items;
  if (doc["items"].get_array().get(items) != simdjson::SUCCESS) return absl::InternalError("list pods: no items");
  std::map<std::string, ServerPod> out;
  for (simdjson::dom::element item : items) {
    ServerPod p;
    simdjson::simdjson_result<simdjson::dom::element> md = item["metadata"], spec = item["spec"],
                                                      status = item["status"];
    p.key = StrCat(Str(md, "namespace"), "/", Str(md, "name"));
    p.uid = Str(md, "uid");
    p.resource_version = Str(md, "resourceVersion");
    p.gpu_devices = Str(md["annotations"], "drover.io/gpu-devices");
    p.scheduler = Str(spec, "schedulerName");
    p.node = Str(spec, "nodeName");
    p.phase = Str(status, "phase");
    p.nominated_node = Str(status, "nominatedNodeName");
    simdjson::dom::array conds;
    if (status["conditions"].get_array().get(conds) == simdjson::SUCCESS) {
      for (simdjson::dom::element c : conds) {
        if (Str(c, "type") != "PodScheduled") continue;
        p.scheduled_status = Str(c, "status");
        p.scheduled_reason = Str(c, "reason");
        p.scheduled_message = Str(c, "message");
      }
    }
    out.emplace(p.key, std::move(p));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> FailedSchedulingEvents(HttpClient* http, const std::string& key) {
  const size_t slash = key.find('/');
  const std::string ns = key.substr(0, slash), name = key.substr(slash + 1);
  absl::StatusOr<HttpResponse> r = http->Send(HttpRequest{
      .path = StrCat("/api/v1/namespaces/", ns, "/events?fieldSelector=involvedObject.name%3D", name,
                     "%2Creason%3DFailedScheduling")});
  if (!r.ok()) return r.status();
  if (r->status != 200) return absl::InternalError(StrCat("list events: HTTP ", r->status));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r->body).get(doc) != simdjson::SUCCESS) return absl::InternalError("list events: bad JSON");
  std::vector<std::string> out;
  simdjson::dom::array items;
  if (doc["items"].get_array().get(items) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : items) out.push_back(Str(e, "message"));
  }
  return out;
}

int64_t CpuMillis(const std::string& q) {
  if (!q.empty() && q.back() == 'm') return std::atoll(q.c_str());
  return static_cast<int64_t>(std::atof(q.c_str()) * 1000);
}

int64_t MemoryBytes(const std::string& q) {
  const int64_t n = std::atoll(q.c_str());
  if (q.ends_with("Ki")) return n << 10;
  if (q.ends_with("Mi")) return n << 20;
  if (q.ends_with("Gi")) return n << 30;
  if (q.ends_with("Ti")) return n << 40;
  return n;
}

// --- progress and invariants ------------------------------------------------------

BindProgress Progress(const E2eWorkload& w, const ServerStats& s) {
  BindProgress p;
  for (const PodSpec& pod : w.pods) {
    auto it = s.binds.find(pod.Key());
    const bool bound = it != s.binds.end() && it->second.succeeded > 0;
    if (pod.role == PodRole::kSchedulable) {
      ++p.schedulable;
      p.schedulable_bound += bound ? 1 : 0;
    } else if (pod.role == PodRole::kOverQuota && bound) {
      p.capped_gpus += pod.gpus;
    }
  }
  return p;
}

BindProgress WaitForAllBound(FakeApiServer& server, const E2eWorkload& w, absl::Duration timeout) {
  BindProgress last;
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (absl::StatusOr<ServerStats> s = GetStats(server); s.ok()) {
      last = Progress(w, *s);
      if (last.Finished()) return last;
    }
    if (absl::Now() > deadline) return last;
    // Stats of every pod are not free for the server: poll gently.
    absl::SleepFor(absl::Milliseconds(100));
  }
}

std::vector<std::string> CheckBoundOnce(const E2eWorkload& w, const ServerStats& s,
                                        const std::map<std::string, ServerPod>& pods) {
  std::vector<std::string> out;
  std::map<std::string, std::string> node_type;
  for (const NodeSpec& n : w.nodes) node_type[n.name] = n.gpu_type;
  int64_t capped_gpus = 0;
  for (const PodSpec& pod : w.pods) {
    const std::string key = pod.Key();
    auto st = s.binds.find(key);
    const BindStat none;
    const BindStat& b = st == s.binds.end() ? none : st->second;
    auto sp = pods.find(key);
    const std::string node = sp == pods.end() ? "" : sp->second.node;
    if (sp == pods.end()) {
      out.push_back(StrCat(key, ": gone from the API server"));
      continue;
    }
    switch (pod.role) {
      case PodRole::kSchedulable:
      case PodRole::kOverQuota:
        if (pod.role == PodRole::kSchedulable && b.succeeded != 1) {
          out.push_back(StrCat(key, ": ", b.succeeded, " successful binds (", b.attempts, " attempts), want 1"));
        }
        if (pod.role == PodRole::kOverQuota && b.succeeded > 1) {
          out.push_back(StrCat(key, ": ", b.succeeded, " successful binds, want at most 1"));
        }
        if (b.succeeded > 0 && node != b.node) {
          out.push_back(StrCat(key, ": bound to ", b.node, " but the server holds node \"", node, "\""));
        }
        if (pod.role == PodRole::kOverQuota && !node.empty()) {
          capped_gpus += pod.gpus;
          if (node_type[node] != "T4") out.push_back(StrCat(key, ": root.capped pod on ", node, " (not T4)"));
        }
        break;
      case PodRole::kTooLarge:
        if (b.attempts != 0 || !node.empty()) out.push_back(StrCat(key, ": fits no node but was bound to ", node));
        break;
      case PodRole::kOtherScheduler:
      case PodRole::kPreBound:
        break;  // CheckUntouched
    }
  }
  if (capped_gpus > kCappedT4Max) {
    out.push_back(StrCat("root.capped holds ", capped_gpus, " T4 GPUs, above its max of ", kCappedT4Max));
  }
  return out;
}

std::vector<std::string> CheckNoOvercommit(const E2eWorkload& w, const std::map<std::string, ServerPod>& pods) {
  struct Usage {
    int64_t cpu_millis = 0, memory_bytes = 0, gpus = 0, pods = 0;
  };
  std::map<std::string, Usage> used;
  for (const PodSpec& pod : w.pods) {
    auto sp = pods.find(pod.Key());
    if (sp == pods.end() || sp->second.node.empty()) continue;
    if (sp->second.phase == "Succeeded" || sp->second.phase == "Failed") continue;
    Usage& u = used[sp->second.node];
    u.cpu_millis += CpuMillis(pod.cpu);
    u.memory_bytes += MemoryBytes(pod.memory);
    u.gpus += pod.gpus;
    u.pods += 1;
  }
  std::vector<std::string> out;
  std::map<std::string, const NodeSpec*> nodes;
  for (const NodeSpec& n : w.nodes) nodes[n.name] = &n;
  for (const auto& [name, u] : used) {
    auto it = nodes.find(name);
    if (it == nodes.end()) {
      out.push_back(StrCat(u.pods, " pods bound to unknown node ", name));
      continue;
    }
    const NodeSpec& n = *it->second;
    if (u.cpu_millis > n.cpu * int64_t{1000}) {
      out.push_back(StrCat(name, ": pods request ", u.cpu_millis, "m CPU, allocatable ", n.cpu));
    }
    if (u.memory_bytes > (int64_t{n.memory_gi} << 30)) {
      out.push_back(StrCat(name, ": pods request ", u.memory_bytes >> 20, "Mi memory, allocatable ", n.memory_gi, "Gi"));
    }
    if (u.gpus > n.gpus) out.push_back(StrCat(name, ": pods request ", u.gpus, " GPUs, allocatable ", n.gpus));
    if (u.pods > n.max_pods) out.push_back(StrCat(name, ": ", u.pods, " pods, allocatable ", n.max_pods));
  }
  return out;
}

std::vector<std::string> CheckUntouched(const E2eWorkload& w, const ServerStats& s,
                                        const std::map<std::string, ServerPod>& before,
                                        const std::map<std::string, ServerPod>& after) {
  std::vector<std::string> out;
  for (const PodSpec& pod : w.pods) {
    if (pod.role != PodRole::kOtherScheduler && pod.role != PodRole::kPreBound) continue;
    const std::string key = pod.Key();
    if (auto st = s.binds.find(key); st != s.binds.end() && st->second.attempts > 0) {
      out.push_back(StrCat(key, ": ", st->second.attempts, " bind attempts"));
    }
    auto b = before.find(key);
    auto a = after.find(key);
    if (b == before.end() || a == after.end()) {
      out.push_back(StrCat(key, ": missing ", b == before.end() ? "before" : "after"));
      continue;
    }
    if (a->second.resource_version != b->second.resource_version) {
      out.push_back(StrCat(key, ": modified (resourceVersion ", b->second.resource_version, " -> ",
                           a->second.resource_version, ", PodScheduled ", a->second.scheduled_status, " ",
                           a->second.scheduled_reason, ")"));
    }
    if (a->second.node != b->second.node) {
      out.push_back(StrCat(key, ": node \"", b->second.node, "\" -> \"", a->second.node, "\""));
    }
  }
  return out;
}

std::string LeaseHolder(HttpClient* http) {
  absl::StatusOr<HttpResponse> r =
      http->Send(HttpRequest{.path = "/apis/coordination.k8s.io/v1/namespaces/drover-system/leases/drover"});
  if (!r.ok() || r->status != 200) return "";
  absl::StatusOr<LeaseRecord> rec = ParseLease(r->body);
  return rec.ok() ? rec->holder : "";
}

}  // namespace drover::k8s::testing
