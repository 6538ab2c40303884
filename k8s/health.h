// A tiny HTTP server for the kubelet's probes:
//   GET /healthz -> 200 "ok" while the process serves;
//   GET /readyz  -> 200 when the informers have synced (and, with
//                   require_leader, this replica leads), else 503 with the reason.
// Both bodies list the checks, like the API server's verbose health output.
//
//   HealthServer health({.port = 10251}, {.synced = [&] { return source.Synced(); },
//                                         .leader = [&] { return elector.IsLeader(); }});
//   ASSIGN_OR_RETURN(int port, health.Start());
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace drover::k8s {

struct HealthOptions {
  std::string host = "0.0.0.0";
  int port = 10251;  // 0 = any free port
  bool require_leader = false;
};

struct HealthChecks {
  std::function<bool()> synced;  // null = always true
  std::function<bool()> leader;  // null = not using leader election
};

class HealthServer {
 public:
  HealthServer(HealthOptions opts, HealthChecks checks);
  ~HealthServer();

  // Binds and starts serving on a thread; returns the port. Error if the port
  // cannot be bound.
  absl::StatusOr<int> Start();
  void Stop();

 private:
  const HealthOptions opts_;
  const HealthChecks checks_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace drover::k8s
