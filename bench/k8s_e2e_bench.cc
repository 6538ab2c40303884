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
//   droverd CPU user + system seconds of droverd until all were bound.
// Times are resolved to the 50 ms poll. The fake server is one Python process,
// so it, not droverd, bounds the rate; compare runs on one machine only.
//
//   k8s_e2e_bench [--nodes 100] [--pods 5000] [--runs 3]
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "core/strings.h"
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
  int64_t bound = 0;
};

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

RunResult RunOnce(int nodes, int pods) {
  RunResult r;
  t::FakeApiServer server;
  if (absl::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "fake API server: %s\n", std::string(s.message()).c_str());
    return r;
  }
  const t::E2eWorkload w = t::BenchWorkload(nodes, pods);
  if (absl::Status s = t::Seed(server, w.nodes, w.pods); !s.ok()) {
    std::fprintf(stderr, "seed: %s\n", std::string(s.message()).c_str());
    return r;
  }
  const std::string dir = t::MakeTempDir("droverd-bench");
  t::DroverdProcess d(dir + "/droverd.log");
  const double start = drover::bench::NowSec();
  if (absl::Status s = d.Start(t::DroverdArgs(server, dir, "bench")); !s.ok()) {
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

}  // namespace

int main(int argc, char** argv) {
  const int nodes = IntFlag(argc, argv, "--nodes", 100);
  const int pods = IntFlag(argc, argv, "--pods", 5000);
  const int runs = IntFlag(argc, argv, "--runs", 3);
  std::printf("droverd end to end against the fake API server: %d nodes, %d pods, %d runs\n", nodes, pods, runs);
  std::printf("%-6s %14s %14s %10s %14s\n", "run", "first bind s", "all bound s", "binds/s", "droverd CPU s");
  std::vector<double> first, all, rate, cpu;
  for (int i = 1; i <= runs; ++i) {
    const RunResult r = RunOnce(nodes, pods);
    if (!r.ok) return 1;
    std::printf("%-6d %14.2f %14.2f %10.0f %14.2f\n", i, r.first_bind_s, r.all_bound_s, r.binds_per_s, r.droverd_cpu_s);
    first.push_back(r.first_bind_s);
    all.push_back(r.all_bound_s);
    rate.push_back(r.binds_per_s);
    cpu.push_back(r.droverd_cpu_s);
  }
  std::printf("%-6s %14.2f %14.2f %10.0f %14.2f\n", "median", drover::bench::Median(first),
              drover::bench::Median(all), drover::bench::Median(rate), drover::bench::Median(cpu));
  return 0;
}
