// Test helper: runs tests/k8s_api_server/fake_apiserver.py as a subprocess on a
// free port, and talks to its /_control/ API.
//
//   FakeApiServer server;
//   REQUIRE(server.Start().ok());
//   server.Control("/_control/objects", R"({"generate":{"nodes":3}})");
//   auto http = server.Client();   // an HttpClient with the right token
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "k8s/http_client.h"

namespace drover::k8s::testing {

class FakeApiServer {
 public:
  static constexpr const char* kToken = "test-token";

  FakeApiServer() = default;
  ~FakeApiServer();

  // Starts the server with extra command-line flags and waits for its port file.
  // With "--tls-cert"/"--tls-key" it serves https.
  absl::Status Start(const std::vector<std::string>& extra_args = {});
  void Stop();

  int port() const { return port_; }
  std::string url() const;
  RestConfig Config() const;
  // An HttpClient for the API with fast retries (tests stay quick).
  std::unique_ptr<HttpClient> Client(HttpOptions opts = FastOptions()) const;
  static HttpOptions FastOptions();

  // POST (or GET when body is empty and get is true) to a control path; returns
  // the body. Error on a non-200 answer.
  absl::StatusOr<std::string> Control(const std::string& path, const std::string& body);
  absl::StatusOr<std::string> ControlGet(const std::string& path);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool tls_ = false;  // started with --tls-cert: https, Config() skips verification
  std::string dir_;
  std::unique_ptr<HttpClient> control_;
};

// Polls `pred` every 20 ms until it holds (true) or `timeout` passes (false).
bool WaitUntil(const std::function<bool()>& pred, absl::Duration timeout = absl::Seconds(20));

// The repository root (for the fake server script and test data).
std::string SourceDir();

}  // namespace drover::k8s::testing
