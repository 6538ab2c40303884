// End-to-end binding speed: the droverd binary against the fake API server
// (tests/k8s_api_server/fake_apiserver.py), through the same harness as the e2e
// tests (tests/k8s/droverd_harness.h). Each run starts a fresh server, seeds
// `nodes` 8-GPU nodes and `pods` pending drover pods (every 8th asks one GPU, the
// rest 250m CPU), starts droverd and polls the server's bind statistics until
// every pod is bound. Printed per run and as the median:
//   first bind  seconds from starting droverd to the first successful bind
//               (start-up, LIST of nodes and pods, Lease, first cycle);
//   all bound   seconds from starting droverd to the last successful bind;
//   binds/s     pods / (all bound - first bind);
//   droverd CPU user + system seconds of droverd until all were bound;
//   conns/bind  connections droverd opened to the server, per pod bound (TLS
//               handshakes with --tls): near 0 when workers keep theirs.
// With --ceiling, each run also measures the server's own ceiling first: a plain
// loop of `--bind-workers` threads binding the same pods with kept-alive
// connections (our HttpClient, no rate limit), on a fresh server; droverd's
// binds/s is then printed as a fraction of it.
// Times are resolved to the 50 ms poll. The fake server is one Python process,
// so it, not droverd, bounds the rate; compare runs on one machine only.
//
//   k8s_e2e_bench [--nodes 100] [--pods 5000] [--runs 3] [--tls] [--ceiling] [--bind-workers 16]
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "core/strings.h"
#include "k8s/http_client.h"
#include "tests/k8s/droverd_harness.h"
#include "tests/k8s/fake_apiserver.h"

namespace {

using drover::StrCat;
namespace t = drover::k8s::testing;

struct RunResult {
  bool ok = false;
  double first_bind_s = 0;
  double all_bound_s = 0;
  double binds_per_s = 0;
  double droverd_cpu_s = 0;
  double connections_per_bind = 0;
  int64_t bound = 0;
};

struct Setup {
  int nodes = 100;
  int pods = 5000;
  bool tls = false;
  int bind_workers = 16;
  std::string cert_dir;  // with tls: server.crt and server.key
};

// A self-signed certificate for 127.0.0.1 in a new directory ("" if openssl failed).
std::string MakeCertificate() {
  const std::string dir = t::MakeTempDir("bench-tls");
  const std::string cmd = StrCat("cd ", dir, " && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1",
                                 " -addext subjectAltName=IP:127.0.0.1 -keyout server.key -out server.crt",
                                 " > openssl.log 2>&1");
  return std::system(cmd.c_str()) == 0 ? dir : "";
}

// Starts a fresh server (https with setup.tls) seeded with the bench workload.
bool StartSeeded(const Setup& setup, t::FakeApiServer& server, t::E2eWorkload* w) {
  std::vector<std::string> args;
  if (setup.tls) args = {"--tls-cert", setup.cert_dir + "/server.crt", "--tls-key", setup.cert_dir + "/server.key"};
  if (absl::Status s = server.Start(args); !s.ok()) {
    std::fprintf(stderr, "fake API server: %s\n", std::string(s.message()).c_str());
    return false;
  }
  *w = t::BenchWorkload(setup.nodes, setup.pods);
  if (absl::Status s = t::Seed(server, w->nodes, w->pods); !s.ok()) {
    std::fprintf(stderr, "seed: %s\n", std::string(s.message()).c_str());
    return false;
  }
  return true;
}

// The server's ceiling: binds/s of `bind_workers` threads posting bindings with kept-alive connections.
double CeilingBindsPerSecond(const Setup& setup) {
  t::FakeApiServer server;
  t::E2eWorkload w;
  if (!StartSeeded(setup, server, &w)) return 0;
  drover::k8s::HttpOptions opts;
  opts.qps = 0;
  opts.max_idle_handles = setup.bind_workers + 4;
  auto http = drover::k8s::HttpClient::Create(server.Config(), opts);
  if (!http.ok()) return 0;
  std::atomic<size_t> next{0};
  std::atomic<int64_t> ok{0};
  const double start = drover::bench::NowSec();
  std::vector<std::thread> workers;
  for (int i = 0; i < setup.bind_workers; ++i) {
    workers.emplace_back([&] {
      for (size_t k = next++; k < w.pods.size(); k = next++) {
        const t::PodSpec& p = w.pods[k];
        const std::string& node = w.nodes[k % w.nodes.size()].name;
        const std::string body = StrCat(R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":")", p.name,
                                        R"("},"target":{"apiVersion":"v1","kind":"Node","name":")", node, R"("}})");
        auto r = (*http)->Send({.method = "POST",
                                .path = StrCat("/api/v1/namespaces/", p.namespace_, "/pods/", p.name, "/binding"),
                                .body = body});
        if (r.ok() && r->status == 201) ++ok;
      }
    });
  }
  for (std::thread& th : workers) th.join();
  const double span = drover::bench::NowSec() - start;
  if (ok.load() != static_cast<int64_t>(w.pods.size())) {
    std::fprintf(stderr, "ceiling loop: only %lld of %zu binds succeeded\n", static_cast<long long>(ok.load()),
                 w.pods.size());
  }
  return span > 0 ? static_cast<double>(ok.load()) / span : 0;
}

// utime + stime of a live process, in seconds (-1 if unreadable).
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in(StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
  std::vector<std::string> fields;
  size_t pos = close + 2;
  while (pos < stat.size()) {
    size_t sp = stat.find(' ', pos);
    if (sp == std::string::npos) sp = stat.size();
    fields.push_back(stat.substr(pos, sp - pos));
    pos = sp + 1;
  }
  if (fields.size() < 13) return -1;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) / ticks;
}

RunResult RunOnce(const Setup& setup) {
  RunResult r;
  const int pods = setup.pods;
  t::FakeApiServer server;
  t::E2eWorkload w;
  if (!StartSeeded(setup, server, &w)) return r;
  const std::string dir = t::MakeTempDir("droverd-bench");
  t::DroverdProcess d(dir + "/droverd.log");
  const double start = drover::bench::NowSec();
  const std::vector<std::string> extra = {"--bind-workers", std::to_string(setup.bind_workers)};
  if (absl::Status s = d.Start(t::DroverdArgs(server, dir, "bench", extra)); !s.ok()) {
    std::fprintf(stderr, "droverd: %s\n", std::string(s.message()).c_str());
    return r;
  }
  const double deadline = start + 600;
  while (drover::bench::NowSec() < deadline && d.Running()) {
    absl::StatusOr<t::ServerStats> s = t::GetStats(server);
    const double now = drover::bench::NowSec();
    if (s.ok()) {
      if (r.first_bind_s == 0 && s->succeeded_total > 0) r.first_bind_s = now - start;
      r.bound = s->succeeded_total;
      if (r.bound >= pods) {
        r.all_bound_s = now - start;
        r.droverd_cpu_s = ProcessCpuSeconds(d.pid());
        r.connections_per_bind = static_cast<double>(t::ConnectionsOf(*s, "bench")) / pods;
        r.ok = true;
        break;
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  if (!r.ok) std::fprintf(stderr, "only %lld of %d pods bound; droverd log: %s/droverd.log\n",
                          static_cast<long long>(r.bound), pods, dir.c_str());
  const double span = r.all_bound_s - r.first_bind_s;
  r.binds_per_s = span > 0 ? static_cast<double>(pods) / span : 0;
  d.Signal(SIGTERM);
  d.Wait(absl::Seconds(30));
  return r;
}

int IntFlag(int argc, char** argv, const char* name, int def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return def;
}

bool BoolFlag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  Setup setup;
  setup.nodes = IntFlag(argc, argv, "--nodes", 100);
  setup.pods = IntFlag(argc, argv, "--pods", 5000);
  setup.tls = BoolFlag(argc, argv, "--tls");
  setup.bind_workers = IntFlag(argc, argv, "--bind-workers", 16);
  const bool ceiling = BoolFlag(argc, argv, "--ceiling");
  const int runs = IntFlag(argc, argv, "--runs", 3);
  if (setup.tls && (setup.cert_dir = MakeCertificate()).empty()) {
    std::fprintf(stderr, "--tls needs openssl to make a certificate\n");
    return 1;
  }
  std::printf("droverd end to end against the fake API server (%s): %d nodes, %d pods, %d bind workers, %d runs\n",
              setup.tls ? "https" : "http", setup.nodes, setup.pods, setup.bind_workers, runs);
  std::printf("%-6s %12s %12s %9s %13s %10s %10s %9s\n", "run", "first bind s", "all bound s", "binds/s",
              "droverd CPU s", "conns/bind", "ceiling/s", "fraction");
  std::vector<double> first, all, rate, cpu, conns, ceil, frac;
  for (int i = 1; i <= runs; ++i) {
    const double c = ceiling ? CeilingBindsPerSecond(setup) : 0;
    const RunResult r = RunOnce(setup);
    if (!r.ok) return 1;
    const double f = c > 0 ? r.binds_per_s / c : 0;
    std::printf("%-6d %12.2f %12.2f %9.0f %13.2f %10.3f %10.0f %9.2f\n", i, r.first_bind_s, r.all_bound_s,
                r.binds_per_s, r.droverd_cpu_s, r.connections_per_bind, c, f);
    first.push_back(r.first_bind_s);
    all.push_back(r.all_bound_s);
    rate.push_back(r.binds_per_s);
    cpu.push_back(r.droverd_cpu_s);
    conns.push_back(r.connections_per_bind);
    ceil.push_back(c);
    frac.push_back(f);
  }
  using drover::bench::Median;
  std::printf("%-6s %12.2f %12.2f %9.0f %13.2f %10.3f %10.0f %9.2f\n", "median", Median(first), Median(all),
              Median(rate), Median(cpu), Median(conns), Median(ceil), Median(frac));
  return 0;
}
