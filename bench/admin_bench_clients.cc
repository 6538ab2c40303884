#include "bench/admin_bench_clients.h"

#include <grpcpp/grpcpp.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cstdio>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "core/strings.h"
#include "drover/admin/v1/admin.grpc.pb.h"

namespace drover::bench {
namespace {

namespace pb = admin::v1;

// Pauses the clients between calls: `Pause` returns once every client has
// finished its call in flight, so the server then has no call to serve.
class Gate {
 public:
  explicit Gate(int clients) : clients_(clients) {}
  void Pause() {
    std::unique_lock l(mu_);
    paused_ = true;
    cv_.wait(l, [&] { return idle_ == clients_; });
  }
  void Resume() {
    std::lock_guard l(mu_);
    paused_ = false;
    cv_.notify_all();
  }
  // Called by a client between calls: waits while paused.
  void Between() {
    std::unique_lock l(mu_);
    if (!paused_) return;
    ++idle_;
    cv_.notify_all();
    cv_.wait(l, [&] { return !paused_; });
    --idle_;
  }
  // A client that stopped counts as idle for good.
  void Leave() {
    std::lock_guard l(mu_);
    ++idle_;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  const int clients_;
  int idle_ = 0;
  bool paused_ = false;
};

// One client's latencies (ms) per method.
struct ClientFigures {
  std::vector<double> pending_ms, explain_ms;
  int64_t errors = 0;
};

// Calls ListPending (a random page) and Explain (a pod of it) until `stop`;
// counts `ready` once after its first answer.
void Client(const std::string& address, int id, const std::atomic<bool>& stop, std::atomic<int>* ready, Gate* gate,
            ClientFigures* out) {
  grpc::ChannelArguments args;
  args.SetInt("drover.admin_bench.client", id);  // its own connection
  args.SetMaxReceiveMessageSize(64 << 20);
  std::unique_ptr<pb::Admin::Stub> stub =
      pb::Admin::NewStub(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  Rng rng(static_cast<uint64_t>(id) + 1);
  int64_t total = 0;
  bool counted = false;
  while (!stop.load()) {
    gate->Between();
    pb::ListPendingRequest req;
    if (total > 100) req.set_page_token(StrCat(rng.Below(static_cast<size_t>(total - 100))));
    pb::ListPendingResponse page;
    grpc::ClientContext c1;
    double t0 = NowSec();
    if (!stub->ListPending(&c1, req, &page).ok()) {
      ++out->errors;
      continue;
    }
    out->pending_ms.push_back((NowSec() - t0) * 1e3);
    if (!counted) ready->fetch_add(1), counted = true;
    total = page.total();
    if (page.workloads_size() == 0) continue;
    const std::string& pod = page.workloads(static_cast<int>(rng.Below(page.workloads_size()))).pods(0);
    pb::ExplainRequest ex;
    ex.set_namespace_(pod.substr(0, pod.find('/')));
    ex.set_name(pod.substr(pod.find('/') + 1));
    pb::Explanation why;
    grpc::ClientContext c2;
    t0 = NowSec();
    const grpc::Status s = stub->Explain(&c2, ex, &why);
    // A pod placed since the page was listed is NOT_FOUND (no timeline in this store): still a call served.
    if (!s.ok() && s.error_code() != grpc::StatusCode::NOT_FOUND) ++out->errors;
    out->explain_ms.push_back((NowSec() - t0) * 1e3);
  }
  gate->Leave();
}

void PrintMethod(const char* name, const std::vector<ClientFigures>& all, bool pending) {
  std::vector<double> v;
  int64_t errors = 0;
  for (const ClientFigures& c : all) {
    const std::vector<double>& m = pending ? c.pending_ms : c.explain_ms;
    v.insert(v.end(), m.begin(), m.end());
    errors += c.errors;
  }
  std::printf("%s %zu %.3f %.3f %lld\n", name, v.size(), Percentile(v, 0.5), Percentile(v, 0.99),
              static_cast<long long>(pending ? errors : 0));
}

}  // namespace

int RunClientProcess(const std::string& address, int clients, ClientPriority priority, int cpu) {
  if (cpu >= 0) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    (void)sched_setaffinity(0, sizeof one, &one);  // inherited by the threads created below
  }
  if (priority == ClientPriority::kIdle) {
    sched_param none{};
    (void)sched_setscheduler(0, SCHED_IDLE, &none);  // inherited by the threads created below
  }
  if (priority == ClientPriority::kLow) (void)setpriority(PRIO_PROCESS, 0, 19);  // this thread: inherited too
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
  std::vector<ClientFigures> figures(static_cast<size_t>(clients));
  std::vector<std::thread> threads;
  Gate gate(clients);
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back(Client, address, i, std::cref(stop), &ready, &gate, &figures[i]);
  }
  while (ready.load() < clients) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::printf("ready\n");
  std::fflush(stdout);
  char c;
  while (read(0, &c, 1) == 1) {  // 'p': pause and answer 'p' once no call is in flight; 'r': resume
    if (c == 'p') {
      gate.Pause();
      if (write(1, "p", 1) != 1) break;
    } else if (c == 'r') {
      gate.Resume();
    }
  }
  stop.store(true);
  gate.Resume();
  for (std::thread& t : threads) t.join();
  PrintMethod("ListPending", figures, true);
  PrintMethod("Explain", figures, false);
  std::fflush(stdout);
  return 0;
}

}  // namespace drover::bench
