// droverd's admin API (proto/drover/admin/v1/admin.proto) over gRPC, with the
// standard grpc.health.v1 health service and server reflection.
//
//   AdminServer admin(&process, {.port = 10252, .tokens = tokens});
//   ASSIGN_OR_RETURN(int port, admin.Start());
//   ...
//   admin.Stop();
//
// Handlers are thin: they authenticate the caller (bearer token), validate the
// request (INVALID_ARGUMENT names the field and value), then read the published
// status or the store, or hand a write to the backend, which applies it on the
// loop thread. They never touch the engine. Writes are authorized against the
// active document's `admins` (server/admin_auth.h) and audited with their principal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "queues/config.h"
#include "server/admin_authn.h"
#include "server/admin_backend.h"
#include "server/admin_rate.h"
#include "server/admin_tls.h"

namespace grpc {
class Server;
}

namespace drover {

struct AdminOptions {
  std::string host = "0.0.0.0";
  int port = 10252;  // 0 = any free port
  std::shared_ptr<Authenticator> authn;  // null: nobody authenticates
  bool anonymous_read = false;  // callers without a token may read
  AdminTlsFiles tls;            // TLS, and client certificates (admin_tls.h); empty: plaintext
  RateLimitOptions rate;        // per principal (admin_rate.h)
  // Reads computed at once (1..64); a read waits for a slot until its deadline (at
  // most 30 s), then fails UNAVAILABLE. 0: half the cores, at least 1.
  int read_slots = 0;
};

class AdminServer {
 public:
  AdminServer(AdminBackend* backend, AdminOptions options);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds and serves on gRPC's threads; returns the bound port. Error naming the
  // address when it cannot bind.
  absl::StatusOr<int> Start();
  // Stops accepting calls and waits (at most 2 s) for those running.
  void Stop();

 private:
  class Service;
  AdminOptions options_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace drover
