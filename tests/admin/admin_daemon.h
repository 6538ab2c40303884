// The admin API tests' daemon: droverd's Process runs the simulator, then serves
// its end state with a real gRPC server on 127.0.0.1 (any free port), with
// tokens admin-t (ops, a cluster admin), research-t (alice, admin of
// root.research) and viewer-t (bob, reads only). Helpers to call it.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <thread>

#include "drover/admin/v1/admin.grpc.pb.h"
#include "core/strings.h"
#include "server/process.h"
#include "tests/common/fixtures.h"

namespace drover {
namespace admin_testing {

namespace pb = admin::v1;

constexpr const char* kQueues = R"(admins: {users: [ops]}
queues:
  children:
    - name: research
      admins: {users: [alice]}
      children:
        - name: llm
        - name: scratch
          max: {gpu: {A100: 8}}
    - name: safety
      max: {gpu: {A100: 8}}
)";

inline std::string WriteTemp(const std::string& text) {
  char tmpl[] = "/tmp/drover-admin-XXXXXX";
  const int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(tmpl) << text;
  return tmpl;
}

inline std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

// Two 8-GPU A100 nodes; four 8-GPU pods of root.research.llm that run 10 h: at
// the end (1 h) two run and two wait.
inline SimInput Workload() {
  SimInput in;
  for (const char* n : {"a-1", "a-2"}) in.nodes.push_back(SimNode{testing::GpuNode(n, testing::kA100, 8), 0, -1, -1});
  for (int i = 0; i < 4; ++i) {
    in.pods.push_back(SimPod{testing::GpuPod("train-" + std::to_string(i), "root.research.llm", 8), i * 1000, 10 * 3600 * 1000});
  }
  return in;
}

// droverd on the simulator, serving its end state until destroyed; with
// options.sim.speed > 0 (--serve-speed), serving from the start while the
// simulation runs in real time.
class AdminDaemon {
 public:
  // `customize` (optional) changes the options before the process is made;
  // `input` is the simulated cluster and workload.
  explicit AdminDaemon(const std::function<void(ProcessOptions*)>& customize = {}, SimInput input = Workload()) {
    queues_path_ = WriteTemp(kQueues);
    tokens_path_ = WriteTemp("admin-t,ops\nresearch-t,alice,research\nviewer-t,bob\n");
    ProcessOptions o;
    o.queues_path = queues_path_;
    o.admin_port = 0;
    o.admin_tokens_path = tokens_path_;
    o.sim.until_ms = 3600 * 1000;
    if (customize) customize(&o);
    const bool paced = o.sim.speed > 0;
    if (paced) o.sim.stop = &stop_;
    process_ = std::make_unique<Process>(o);
    std::promise<int> port;
    std::future<int> ready = port.get_future();
    thread_ = std::thread([this, &port, paced, input = std::move(input)]() mutable {
      bool told = false;
      auto ready = [&port, &told](int p) {
        port.set_value(p);
        told = true;
      };
      absl::StatusOr<QueueConfig> config = process_->LoadQueues();
      absl::Status started = config.ok() && paced ? process_->StartServing(ready) : config.status();
      absl::StatusOr<SimRunResult> run = started.ok() ? process_->RunSimulated(*std::move(config), std::move(input))
                                                      : absl::StatusOr<SimRunResult>(started);
      absl::Status served = run.ok() ? process_->Serve(stop_, told ? nullptr : std::function<void(int)>(ready)) : run.status();
      if (!served.ok() && !told) port.set_value(-1);
    });
    port_ = ready.get();
    REQUIRE(port_ > 0);
    stub_ = pb::Admin::NewStub(grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
  }
  ~AdminDaemon() {
    stop_.store(true);
    thread_.join();
    std::remove(queues_path_.c_str());
    std::remove(tokens_path_.c_str());
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  pb::Admin::Stub& stub() { return *stub_; }

 private:
  std::string queues_path_, tokens_path_;
  std::unique_ptr<Process> process_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  int port_ = -1;
  std::unique_ptr<pb::Admin::Stub> stub_;
};

// A call context carrying `token` ("" = none).
inline std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

// Runs droverctl with `args` against `d`; returns its exit code, stdout and stderr in `out`.
inline int Droverctl(AdminDaemon& d, const std::string& args, std::string* out, const std::string& input = "") {
  const std::string in_file = WriteTemp(input);
  const std::string out_file = WriteTemp("");
  const std::string cmd = std::string(DROVERCTL_PATH) + " --server " + d.address() + " " + args + " <" + in_file + " >" +
                          out_file + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream f(out_file);
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  std::remove(in_file.c_str());
  std::remove(out_file.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace admin_testing
}  // namespace drover
