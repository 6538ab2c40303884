// admin_bench: does the admin API slow the scheduling loop? droverd's loop
// (server/loop.h: the real SchedulingLoop, mailbox, status pacing) runs on a
// generated cluster (sim/generator.h, as status_bench) with a backlog of ~100k
// pending pods in a 1,057-queue tree, pods completing and the backlog placed in
// their room. The admin API's real gRPC server (server/admin_service.h) serves
// its published status on 127.0.0.1 to a client process (admin_bench_clients.h):
// `--clients` threads calling ListPending (a random page of 100) and Explain (a
// pod of that page) back to back, as fast as they can.
//
//   admin_bench                                  # 10k nodes, 100k backlog, 50 clients
//   admin_bench --nodes 1000 --pending 10000 --clients 8 --cycles 200
//
// The same cycles are timed twice: the simulation is deterministic, so the
// cluster is built twice from one seed, each run until every pod has arrived and
// `--warm-cycles` more; then the two run in step for `--cycles` cycles: a cycle of
// the first with the clients paused (no call in flight), the same cycle of the
// second with the clients calling. The two runs make the same decisions (the bench checks the
// binds), so the cycle times compare like for like: p50/p99 of each, the rise,
// and the median of the per-cycle ratios. Reads are anonymous and unlimited (no
// rate limit): the worst case. Figures only: nothing asserts a time.
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <cstdio>
#include <memory>

#include "CLI/CLI.hpp"
#include "bench/admin_bench_clients.h"
#include "bench/bench_util.h"
#include "bench/observe_cost.h"
#include "bench/queue_tree.h"
#include "server/admin_service.h"
#include "server/loop.h"
#include "sim/generator.h"

extern char** environ;

namespace drover {
namespace {

struct Args {
  int nodes = 10000;
  int fanout = 32;
  int pending = 100000;
  int clients = 50;
  int warm_cycles = 100;
  int cycles = 400;
  std::string client_priority = "low";
  int client_cpu = -1;
  bool pin = false;  // the loop on CPU 0; gRPC's threads and the client process on CPU 1
  std::string client_of;  // set: this process is the client process
};

// One simulated cluster with droverd's loop on it, built from the bench's seed.
struct World {
  explicit World(const Args& a, const QueueConfig& cfg, const std::vector<std::string>& leaves)
      : sim(Generate(Spec(a, leaves))),
        engine(std::move(*Engine::Create(cfg, EngineOptions{}))),
        loop(engine.get(), &sim, &sim, &sim, &mailbox, &board, [] { return StatusInputs{true, true, {}, {}}; }) {
    loop.AddObserver([this](const Daemon::CycleRecord& r) {
      ++cycle;
      if (times) times->push_back(r.seconds * 1e3);
      if (times) binds += static_cast<int64_t>(r.decisions.binds.size());
    });
  }
  static GenSpec Spec(const Args& a, const std::vector<std::string>& leaves) {
    GenSpec spec;
    spec.nodes = a.nodes;
    spec.pods = a.pending + a.nodes * 4;  // the backlog beyond what the cluster holds at once
    spec.queues = leaves;
    spec.span_ms = kSpanMs;  // everything arrives in the first virtual second: a backlog
    return spec;
  }
  // Runs until every pod has arrived (the backlog is built), then `n` more cycles.
  void WarmUp(int n) {
    double last = bench::NowSec();
    while (sim.NowMillis() <= kSpanMs) {
      if (!Step(INT64_MAX)) break;
      if (bench::NowSec() - last > 2) {
        last = bench::NowSec();
        std::fprintf(stderr, "warm-up: cycle %lld, virtual %lld ms, %lld pending\n", static_cast<long long>(cycle),
                     static_cast<long long>(sim.NowMillis()), static_cast<long long>(board.Get() ? board.Get()->pending_pods : -1));
      }
    }
    RunCycles(n);
  }
  // Steps the loop (a settled step, then the simulator's next event) until `n` more cycles ran.
  void RunCycles(int n) {
    const int64_t end = cycle + n;
    const double wall0 = bench::NowSec(), cpu0 = ThreadCpuSec();
    while (cycle < end && Step(end)) {
    }
    wall += bench::NowSec() - wall0;
    cpu += ThreadCpuSec() - cpu0;
  }
  // CPU time of the calling (loop) thread: with `wall`, how much of the time it had a core.
  static double ThreadCpuSec() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }
  // One settled step and the simulator's next event, stopping early at cycle `end`; false when the simulation ended.
  bool Step(int64_t end) {
    StepResult r;
    do {
      r = loop.Iterate(/*act=*/true);
    } while ((r.events > 0 || r.binds > 0) && cycle < end);
    if (r.events > 0 || r.binds > 0) return true;  // stopped at `end` before settling: go on from here
    return sim.Advance(-1, engine->NextWakeupMs());
  }
  static constexpr int64_t kSpanMs = 1000;

  SimCluster sim;
  std::unique_ptr<Engine> engine;
  Mailbox mailbox;
  StatusBoard board;
  SchedulingLoop loop;
  int64_t cycle = 0;
  int64_t binds = 0;
  double wall = 0, cpu = 0;  // in RunCycles since reset: wall seconds, and the loop thread's CPU seconds
  std::vector<double>* times = nullptr;  // set: the cycles' wall times (ms) are recorded
};

// The client process: this binary run with --client-of, its stdin and stdout piped to us.
struct ClientProcess {
  pid_t pid = -1;
  int to = -1;     // its stdin: closing it stops the clients
  FILE* from = nullptr;  // its stdout

  bool Start(const Args& a, const std::string& address) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    const std::string clients = std::to_string(a.clients), cpu = std::to_string(a.client_cpu);
    std::vector<const char*> argv = {"/proc/self/exe", "--client-of", address.c_str(), "--clients", clients.c_str(),
                                     "--client-priority", a.client_priority.c_str(), "--client-cpu", cpu.c_str(), nullptr};
    const int rc = posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, const_cast<char**>(argv.data()), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    to = in[1];
    from = fdopen(out[0], "r");
    char line[64];
    return rc == 0 && from && std::fgets(line, sizeof line, from) && std::string(line) == "ready\n";
  }
  // Pauses the clients; returns once no call is in flight.
  bool Pause() {
    if (write(to, "p", 1) != 1) return false;
    return std::fgetc(from) == 'p';
  }
  bool Resume() { return write(to, "r", 1) == 1; }
  // Stops the clients and prints their figures over `seconds` of calls.
  void StopAndReport(double seconds) {
    close(to);
    char name[32];
    long long calls, errors;
    double p50, p99;
    while (from && std::fscanf(from, "%31s %lld %lf %lf %lld", name, &calls, &p50, &p99, &errors) == 5) {
      std::printf("  %-11s %8.0f calls/s  latency p50 %.2f ms  p99 %.2f ms  errors %lld\n", name,
                  static_cast<double>(calls) / seconds, p50, p99, errors);
    }
    if (from) std::fclose(from);
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
  }
};

void PrintCycles(const char* what, const std::vector<double>& t) {
  std::printf("  cycle %-13s p50 %7.2f ms  p99 %7.2f ms  mean %7.2f ms  (%zu cycles)\n", what, bench::Percentile(t, 0.5),
              bench::Percentile(t, 0.99), t.empty() ? 0.0 : [&] {
                double s = 0;
                for (double x : t) s += x;
                return s / static_cast<double>(t.size());
              }(), t.size());
}

// Pins the calling thread (and the threads it creates from now on) to one CPU.
void PinTo(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  (void)sched_setaffinity(0, sizeof one, &one);
}

int Run(Args a) {
  if (a.pin) {
    a.client_cpu = 1;
    PinTo(0);
  }
  std::vector<std::string> leaves;
  const QueueConfig cfg = bench::FanoutTree(a.fanout, 0, &leaves);
  // Two identical clusters, run in step: cycle i of `quiet` with the clients paused
  // (no call in flight), then cycle i of `w` with them calling. Both see the
  // machine's moods alike.
  World quiet(a, cfg, leaves), w(a, cfg, leaves);
  quiet.WarmUp(a.warm_cycles);
  w.WarmUp(a.warm_cycles);
  bench::BoardBackend backend(&w.board);  // reads only, an empty in-memory store
  AdminOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.anonymous_read = true;
  o.rate.qps = 0;
  AdminServer server(&backend, o);
  if (a.pin) PinTo(1);  // gRPC's threads, created by Start() and by its own threads, stay on CPU 1
  absl::StatusOr<int> port = server.Start();
  if (a.pin) PinTo(0);
  if (!port.ok()) {
    std::fprintf(stderr, "%s\n", std::string(port.status().message()).c_str());
    return 1;
  }
  ClientProcess clients;
  if (!clients.Start(a, StrCat("127.0.0.1:", *port))) {
    std::fprintf(stderr, "admin_bench: the client process did not start\n");
    return 1;
  }
  std::vector<double> alone, loaded;
  quiet.times = &alone;
  w.times = &loaded;
  quiet.wall = quiet.cpu = w.wall = w.cpu = 0;
  for (int i = 0; i < a.cycles; ++i) {
    if (!clients.Pause()) {
      std::fprintf(stderr, "admin_bench: the client process stopped answering\n");
      return 1;
    }
    quiet.RunCycles(1);
    clients.Resume();
    w.RunCycles(1);
  }
  const int64_t binds_alone = quiet.binds;
  const double wall_alone = quiet.wall, cpu_alone = quiet.cpu, seconds = w.wall;
  const std::shared_ptr<const ClusterStatus> st = w.board.Get();
  std::printf("admin_bench: %d nodes, %d queues, %lld pending pods, %d clients (%s priority), cycles %d..%d\n", a.nodes,
              static_cast<int>(w.engine->queues().size()), static_cast<long long>(st->pending_pods), a.clients, a.client_priority.c_str(),
              a.warm_cycles + 1, a.warm_cycles + a.cycles);
  clients.StopAndReport(seconds);
  server.Stop();
  PrintCycles("alone", alone);
  PrintCycles("with clients", loaded);
  std::vector<double> ratio;
  for (size_t i = 0; i < std::min(alone.size(), loaded.size()); ++i) {
    if (alone[i] > 0) ratio.push_back(loaded[i] / alone[i]);
  }
  const double p99a = bench::Percentile(alone, 0.99), p99l = bench::Percentile(loaded, 0.99);
  std::printf("  p99 %+.1f%%  p50 %+.1f%%  median per-cycle ratio %.3f  binds %lld / %lld (%s)\n",
              p99a > 0 ? 100 * (p99l / p99a - 1) : 0.0,
              100 * (bench::Percentile(loaded, 0.5) / std::max(1e-9, bench::Percentile(alone, 0.5)) - 1),
              bench::Median(ratio), static_cast<long long>(binds_alone), static_cast<long long>(w.binds),
              binds_alone == w.binds ? "same decisions" : "DIFFERENT decisions: not comparable");
  std::printf("  loop thread on a core: alone %.1f%% of %.2f s (CPU %.2f s); with clients %.1f%% of %.2f s (CPU %.2f s)\n",
              100 * cpu_alone / std::max(1e-9, wall_alone), wall_alone, cpu_alone, 100 * w.cpu / std::max(1e-9, w.wall),
              w.wall, w.cpu);
  std::printf("  peak RSS %ld kB (both clusters)\n", bench::HwmKb());
  return 0;
}

}  // namespace
}  // namespace drover

int main(int argc, char** argv) {
  drover::Args a;
  CLI::App app{"admin_bench: the scheduling loop's cycle time with and without admin API clients"};
  app.add_option("--nodes", a.nodes)->capture_default_str();
  app.add_option("--fanout", a.fanout, "queue tree fanout (fanout^2 leaves)")->capture_default_str();
  app.add_option("--pending", a.pending, "backlog beyond what the cluster holds")->capture_default_str();
  app.add_option("--clients", a.clients, "gRPC client threads (in one client process)")->capture_default_str();
  app.add_option("--warm-cycles", a.warm_cycles, "cycles run before measuring")->capture_default_str();
  app.add_option("--cycles", a.cycles, "cycles measured, alone and with the clients")->capture_default_str();
  app.add_option("--client-priority", a.client_priority,
                 "low: clients stand for other machines (nice 19, as droverd's gRPC threads); idle: SCHED_IDLE; "
                 "normal: clients compete with droverd as any process on its machine")
      ->check(CLI::IsMember({"low", "idle", "normal"}))
      ->capture_default_str();
  app.add_option("--client-cpu", a.client_cpu, "the client process runs on this CPU only (-1: any)")
      ->capture_default_str();
  app.add_flag("--pin", a.pin,
               "the loop on CPU 0, gRPC's threads and the client process on CPU 1: a droverd whose loop has a core "
               "of its own, clients on other machines");
  app.add_option("--client-of", a.client_of, "internal: run as the client process against this address");
  CLI11_PARSE(app, argc, argv);
  if (!a.client_of.empty()) {
    using drover::bench::ClientPriority;
    const ClientPriority p = a.client_priority == "idle"  ? ClientPriority::kIdle
                             : a.client_priority == "low" ? ClientPriority::kLow
                                                          : ClientPriority::kNormal;
    return drover::bench::RunClientProcess(a.client_of, a.clients, p, a.client_cpu);
  }
  return drover::Run(a);
}
