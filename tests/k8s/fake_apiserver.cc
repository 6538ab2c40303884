#include "tests/k8s/fake_apiserver.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "core/strings.h"

namespace drover::k8s::testing {

std::string SourceDir() {
  if (const char* env = std::getenv("DROVER_SOURCE_DIR"); env != nullptr && *env != '\0') return env;
  return DROVER_SOURCE_DIR_DEFAULT;
}

bool WaitUntil(const std::function<bool()>& pred, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (pred()) return true;
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

FakeApiServer::~FakeApiServer() { Stop(); }

absl::Status FakeApiServer::Start(const std::vector<std::string>& extra_args) {
  char tmpl[] = "/tmp/drover-k8s-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  dir_ = tmpl;
  const std::string port_file = dir_ + "/port";
  const std::string log_file = dir_ + "/server.log";
  std::vector<std::string> args = {"python3", SourceDir() + "/tests/k8s_api_server/fake_apiserver.py",
                                   "--port", "0", "--port-file", port_file, "--token", kToken};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  tls_ = std::find(extra_args.begin(), extra_args.end(), "--tls-cert") != extra_args.end();
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) return absl::InternalError("fork failed");
  if (pid_ == 0) {  // only async-signal-safe calls until exec
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // no orphaned server if the test process dies
    int log = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    execvp("python3", argv.data());
    _exit(127);
  }
  const bool up = WaitUntil(
      [&] {
        std::ifstream in(port_file);
        return in && (in >> port_) && port_ > 0;
      },
      absl::Seconds(30));
  if (!up) {
    Stop();
    return absl::UnavailableError(StrCat("fake API server did not start; see ", log_file));
  }
  absl::StatusOr<std::unique_ptr<HttpClient>> c = HttpClient::Create(Config(), FastOptions());
  if (!c.ok()) return c.status();
  control_ = std::move(*c);
  return absl::OkStatus();
}

void FakeApiServer::Stop() {
  control_.reset();
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

std::string FakeApiServer::url() const { return StrCat(tls_ ? "https" : "http", "://127.0.0.1:", port_); }

RestConfig FakeApiServer::Config() const {
  RestConfig cfg;
  cfg.server = url();
  cfg.token = kToken;
  cfg.insecure_skip_tls_verify = tls_;
  cfg.source = "fake API server";
  return cfg;
}

HttpOptions FakeApiServer::FastOptions() {
  HttpOptions o;
  o.qps = 0;  // unlimited: the tests measure behaviour, not pacing
  o.initial_backoff = absl::Milliseconds(10);
  o.max_backoff = absl::Milliseconds(100);
  o.request_timeout = absl::Seconds(30);
  return o;
}

std::unique_ptr<HttpClient> FakeApiServer::Client(HttpOptions opts) const {
  absl::StatusOr<std::unique_ptr<HttpClient>> c = HttpClient::Create(Config(), opts);
  return c.ok() ? std::move(*c) : nullptr;
}

absl::StatusOr<std::string> FakeApiServer::Control(const std::string& path, const std::string& body) {
  absl::StatusOr<HttpResponse> r = control_->Send(HttpRequest{.method = "POST", .path = path, .body = body});
  if (!r.ok()) return r.status();
  if (r->status != 200) return absl::InternalError(StrCat(path, ": HTTP ", r->status, ": ", r->body));
  return r->body;
}

absl::StatusOr<std::string> FakeApiServer::ControlGet(const std::string& path) {
  absl::StatusOr<HttpResponse> r = control_->Send(HttpRequest{.path = path});
  if (!r.ok()) return r.status();
  if (r->status != 200) return absl::InternalError(StrCat(path, ": HTTP ", r->status, ": ", r->body));
  return r->body;
}

}  // namespace drover::k8s::testing
