// droverctl's connection to droverd's admin API and the output helpers its
// verbs share (tables like kubectl's, -o json|yaml).
//
//   Client c(globals);
//   if (absl::Status s = c.Init(); !s.ok()) ...          // server, token, TLS resolved
//   pb::ListQueuesResponse resp;
//   if (int rc = c.Call(&pb::Admin::Stub::ListQueues, req, &resp); rc != kOk) return rc;
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/strings.h"
#include "drover/admin/v1/admin.grpc.pb.h"
#include "server/droverctl_creds.h"

namespace drover::ctl {

namespace pb = ::drover::admin::v1;

// droverctl's exit codes.
enum Exit { kOk = 0, kError = 1, kUsage = 2, kConflict = 3, kDenied = 4 };

// The global flags.
struct Globals {
  std::string server;
  std::string token;
  std::string token_file;
  ClientTlsFiles tls;
  std::string config;  // --config; "" = the default file, if it exists
  std::string output = "table";  // table, wide, json, yaml
};

class Client {
 public:
  explicit Client(Globals g) : g_(std::move(g)) {}

  // Resolves the server, token and TLS files: flags, then the environment, then
  // the config file. Error: a config or token file that cannot be read.
  absl::Status Init();

  // Calls `method` with credentials and a 30 s deadline; on failure prints the error and returns its exit code.
  template <typename Req, typename Resp, typename Method>
  int Call(Method method, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!token_.empty()) ctx.AddMetadata("authorization", StrCat("Bearer ", token_));
    const grpc::Status s = ((*stub_).*method)(&ctx, req, resp);
    if (s.ok()) return kOk;
    return Report(s);
  }

  const Globals& globals() const { return g_; }

 private:
  // Prints the error (and what to do next) on stderr; returns its exit code.
  int Report(const grpc::Status& s) const;

  Globals g_;
  std::string server_;
  std::string token_;
  std::unique_ptr<pb::Admin::Stub> stub_;
};

// `m` in Protobuf's JSON mapping (proto field names), indented.
std::string Json(const google::protobuf::Message& m);
// `m` as block-style YAML.
std::string Yaml(const google::protobuf::Message& m);
// Prints `m` as JSON or YAML when -o asks for it; returns false for the table formats.
bool PrintStructured(const Globals& g, const google::protobuf::Message& m);
// Milli-units as a short decimal: 16000 -> "16", 500 -> "0.5".
std::string Milli(int64_t v);
// Prints rows as columns padded to their widest cell, two spaces apart, like kubectl.
void PrintTable(const std::vector<std::vector<std::string>>& rows);

}  // namespace drover::ctl
