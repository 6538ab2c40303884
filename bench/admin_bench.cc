// admin_bench: does the admin API slow the scheduling loop? droverd's loop
// (server/loop.h: the real SchedulingLoop, mailbox, status pacing) runs on a
// generated cluster (sim/generator.h, as status_bench) with a backlog of ~100k
// pending pods in a 1,057-queue tree, pods completing and the backlog placed in
// their room. The admin API's real gRPC server (server/admin_service.h) serves
// its published status on 127.0.0.1; `--clients` threads, each on its own
// connection, call ListPending (a random page of 100) and Explain (a pod of that
// page) back to back, as fast as they can.
//
//   admin_bench                                  # 10k nodes, 100k backlog, 50 clients, 20 s per phase
//   admin_bench --nodes 1000 --pending 10000 --clients 8 --seconds 5
//
// Phases, each --seconds of wall time after a warm-up: the loop alone, then the
// loop with the clients. Prints the loop's cycle time (RunCycle, the figure the
// status reports) p50/p99 in each and the rise, and the clients' calls/s and
// latency p50/p99 per method. Reads are anonymous and unlimited (no rate limit):
// the worst case. Figures only: nothing asserts a time.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "bench/queue_tree.h"
#include "drover/admin/v1/admin.grpc.pb.h"
#include "server/admin_service.h"
#include "server/loop.h"
#include "sim/generator.h"
#include "store/memory_store.h"

namespace drover {
namespace {

namespace pb = admin::v1;

struct Args {
  int nodes = 10000;
  int fanout = 32;
  int pending = 100000;
  int clients = 50;
  double seconds = 20;  // per phase
  double warmup = 10;   // wall seconds of loop before measuring
};

// What the admin API reads: the loop's board and an (empty) in-memory store.
class BenchBackend : public AdminBackend {
 public:
  explicit BenchBackend(const StatusBoard* board) : board_(board) {}
  std::shared_ptr<const ClusterStatus> CurrentStatus() const override { return board_->Get(); }
  Store* AdminStore() const override { return &store_; }
  absl::StatusOr<AdminApplied> ApplyAdmin(AdminWrite) override { return absl::UnimplementedError("reads only"); }

 private:
  const StatusBoard* board_;
  mutable MemoryStore store_;
};

// One client's latencies (ms) per method.
struct ClientFigures {
  std::vector<double> pending_ms, explain_ms;
  int64_t errors = 0;
};

// Calls ListPending (a random page) and Explain (a pod of it) until `stop`.
void Client(const std::string& address, int id, const std::atomic<bool>& stop, ClientFigures* out) {
  // Clients are other processes in reality (droverctl, the page): at nice +10 here, as the server's threads.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
  grpc::ChannelArguments args;
  args.SetInt("drover.admin_bench.client", id);  // its own connection
  args.SetMaxReceiveMessageSize(64 << 20);
  std::unique_ptr<pb::Admin::Stub> stub =
      pb::Admin::NewStub(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  bench::Rng rng(static_cast<uint64_t>(id) + 1);
  int64_t total = 0;
  while (!stop.load()) {
    pb::ListPendingRequest req;
    if (total > 100) req.set_page_token(StrCat(rng.Below(static_cast<size_t>(total - 100))));
    pb::ListPendingResponse page;
    grpc::ClientContext c1;
    double t0 = bench::NowSec();
    if (!stub->ListPending(&c1, req, &page).ok()) {
      ++out->errors;
      continue;
    }
    out->pending_ms.push_back((bench::NowSec() - t0) * 1e3);
    total = page.total();
    if (page.workloads_size() == 0) continue;
    const std::string& pod = page.workloads(static_cast<int>(rng.Below(page.workloads_size()))).pods(0);
    pb::ExplainRequest ex;
    ex.set_namespace_(pod.substr(0, pod.find('/')));
    ex.set_name(pod.substr(pod.find('/') + 1));
    pb::Explanation why;
    grpc::ClientContext c2;
    t0 = bench::NowSec();
    const grpc::Status s = stub->Explain(&c2, ex, &why);
    // A pod placed since the page was listed is NOT_FOUND (no timeline in this store): still a call served.
    if (!s.ok() && s.error_code() != grpc::StatusCode::NOT_FOUND) ++out->errors;
    out->explain_ms.push_back((bench::NowSec() - t0) * 1e3);
  }
}

// Runs the loop for `seconds` of wall time: a settled step, then the simulator's next event.
void RunLoop(SchedulingLoop* loop, SimCluster* sim, Engine* engine, double seconds) {
  const double end = bench::NowSec() + seconds;
  while (bench::NowSec() < end) {
    StepResult r;
    do {
      r = loop->Iterate(/*act=*/true);
    } while (r.events > 0 || r.binds > 0);
    if (!sim->Advance(-1, engine->NextWakeupMs())) break;
  }
}

void PrintLatency(const char* name, const std::vector<ClientFigures>& clients, double seconds) {
  std::vector<double> all;
  for (const ClientFigures& c : clients) {
    const auto& v = std::string_view(name) == "ListPending" ? c.pending_ms : c.explain_ms;
    all.insert(all.end(), v.begin(), v.end());
  }
  std::printf("  %-11s %8.0f calls/s  latency p50 %.2f ms  p99 %.2f ms\n", name, static_cast<double>(all.size()) / seconds,
              bench::Percentile(all, 0.5), bench::Percentile(all, 0.99));
}

int Run(const Args& a) {
  std::vector<std::string> leaves;
  QueueConfig cfg = bench::FanoutTree(a.fanout, 0, &leaves);
  GenSpec spec;
  spec.nodes = a.nodes;
  spec.pods = a.pending + a.nodes * 4;  // the backlog beyond what the cluster holds at once
  spec.queues = leaves;
  spec.span_ms = 1000;  // everything arrives in the first virtual second: a backlog
  SimCluster sim(Generate(spec));
  absl::StatusOr<std::unique_ptr<Engine>> made = Engine::Create(cfg, EngineOptions{});
  if (!made.ok()) {
    std::fprintf(stderr, "%s\n", std::string(made.status().message()).c_str());
    return 1;
  }
  Engine& engine = **made;
  Mailbox mailbox;
  StatusBoard board;
  SchedulingLoop loop(&engine, &sim, &sim, &sim, &mailbox, &board, [] { return StatusInputs{true, true, {}, {}}; });
  std::vector<double>* phase = nullptr;
  loop.AddObserver([&phase](const Daemon::CycleRecord& r) {
    if (phase) phase->push_back(r.seconds * 1e3);
  });
  BenchBackend backend(&board);
  AdminOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.anonymous_read = true;
  o.rate.qps = 0;
  AdminServer server(&backend, o);
  absl::StatusOr<int> port = server.Start();
  if (!port.ok()) {
    std::fprintf(stderr, "%s\n", std::string(port.status().message()).c_str());
    return 1;
  }
  RunLoop(&loop, &sim, &engine, a.warmup);
  std::vector<double> alone, loaded;
  phase = &alone;
  RunLoop(&loop, &sim, &engine, a.seconds);
  std::atomic<bool> stop{false};
  std::vector<ClientFigures> figures(static_cast<size_t>(a.clients));
  std::vector<std::thread> clients;
  const std::string address = StrCat("127.0.0.1:", *port);
  for (int i = 0; i < a.clients; ++i) clients.emplace_back(Client, address, i, std::cref(stop), &figures[i]);
  phase = &loaded;
  const double t0 = bench::NowSec();
  RunLoop(&loop, &sim, &engine, a.seconds);
  const double loaded_s = bench::NowSec() - t0;
  phase = nullptr;
  stop.store(true);
  for (std::thread& t : clients) t.join();
  server.Stop();
  int64_t errors = 0;
  for (const ClientFigures& f : figures) errors += f.errors;
  const std::shared_ptr<const ClusterStatus> st = board.Get();
  const double p99_alone = bench::Percentile(alone, 0.99), p99_loaded = bench::Percentile(loaded, 0.99);
  std::printf("admin_bench: %d nodes, %d queues, %lld pending pods (%zu workloads listed), %d clients, %.0f s per phase\n",
              a.nodes, engine.queues().size(), static_cast<long long>(st->pending_pods), st->pending->workloads.size(),
              a.clients, a.seconds);
  std::printf("  cycle alone         p50 %.2f ms  p99 %.2f ms  (%zu cycles)\n", bench::Percentile(alone, 0.5), p99_alone,
              alone.size());
  std::printf("  cycle with clients  p50 %.2f ms  p99 %.2f ms  (%zu cycles)  p99 %+.1f%%\n",
              bench::Percentile(loaded, 0.5), p99_loaded, loaded.size(),
              p99_alone > 0 ? 100 * (p99_loaded / p99_alone - 1) : 0.0);
  PrintLatency("ListPending", figures, loaded_s);
  PrintLatency("Explain", figures, loaded_s);
  std::printf("  client errors %lld; RSS %ld kB\n", static_cast<long long>(errors), bench::RssKb());
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
  app.add_option("--clients", a.clients, "gRPC client threads")->capture_default_str();
  app.add_option("--seconds", a.seconds, "wall seconds per phase")->capture_default_str();
  app.add_option("--warmup", a.warmup, "wall seconds of loop before measuring")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return drover::Run(a);
}
