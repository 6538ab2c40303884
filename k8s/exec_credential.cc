#include "k8s/exec_credential.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>

#include "absl/time/clock.h"
#include "core/strings.h"
#include "k8s/text.h"

extern char** environ;

namespace drover::k8s {
namespace {

std::string FirstLine(std::string_view text) {
  text = Trim(text);
  return CutForMessage(text.substr(0, text.find('\n')));
}

std::string ExecInfo(const ExecConfig& cfg) {
  std::string cluster;
  if (!cfg.cluster_server.empty()) cluster = StrCat(",\"cluster\":{\"server\":\"", cfg.cluster_server, "\"}");
  return StrCat("{\"apiVersion\":\"", cfg.api_version, "\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false",
                cluster, "}}");
}

// The child's environment: ours, then the kubeconfig's env, then KUBERNETES_EXEC_INFO.
std::vector<std::string> ChildEnv(const ExecConfig& cfg) {
  std::vector<std::string> env;
  auto overridden = [&cfg](std::string_view entry) {
    const std::string_view name = entry.substr(0, entry.find('='));
    if (name == "KUBERNETES_EXEC_INFO") return true;
    for (const auto& [k, v] : cfg.env) {
      if (k == name) return true;
    }
    return false;
  };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!overridden(*e)) env.emplace_back(*e);
  }
  for (const auto& [k, v] : cfg.env) env.push_back(StrCat(k, "=", v));
  env.push_back(StrCat("KUBERNETES_EXEC_INFO=", ExecInfo(cfg)));
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

struct Finished {
  std::string out;
  std::string err;
  int wait_status = 0;
  bool timed_out = false;
};

// Reads the child's stdout and stderr to their end (or the deadline), then reaps it.
Finished Collect(pid_t pid, int out_fd, int err_fd, absl::Duration timeout) {
  Finished f;
  const absl::Time deadline = absl::Now() + timeout;
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) {
      f.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(std::min<int64_t>(left_ms, 1000))) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        std::string& into = i == 0 ? f.out : f.err;
        if (into.size() < (1u << 20)) into.append(buf, static_cast<size_t>(n));  // a credential is small
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  while (waitpid(pid, &f.wait_status, 0) < 0 && errno == EINTR) {
  }
  return f;
}

}  // namespace

absl::StatusOr<ExecCredential> ParseExecCredential(std::string_view json, std::string_view api_version) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(json));  // JSON is YAML
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat("the output is not an ExecCredential (", e.msg, ")"));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError("the output is not an ExecCredential (not a JSON object)");
  // (Never assign one YAML::Node to another: yaml-cpp would overwrite the node.)
  auto scalar = [&root](const char* a, const char* b = nullptr) -> std::string {
    const YAML::Node& doc = root;
    const YAML::Node first = doc[a];
    if (!first || (b != nullptr && !first.IsMap())) return std::string();
    const YAML::Node value = b == nullptr ? first : first[b];
    return value && value.IsScalar() ? value.Scalar() : std::string();
  };
  if (scalar("kind") != "ExecCredential") {
    return absl::InvalidArgumentError(StrCat("kind is \"", CutForMessage(scalar("kind")), "\", not ExecCredential"));
  }
  if (scalar("apiVersion") != api_version) {
    return absl::InvalidArgumentError(
        StrCat("apiVersion is \"", CutForMessage(scalar("apiVersion")), "\", not \"", api_version, "\" as configured"));
  }
  ExecCredential c;
  c.token = scalar("status", "token");
  if (c.token.empty()) {
    return absl::InvalidArgumentError(!scalar("status", "clientCertificateData").empty()
                                          ? "status has a client certificate, which is not supported; only a token"
                                          : "status.token is missing");
  }
  if (const std::string ts = scalar("status", "expirationTimestamp"); !ts.empty()) {
    std::string why;
    if (!absl::ParseTime(absl::RFC3339_full, ts, &c.expiry, &why)) {
      return absl::InvalidArgumentError(
          StrCat("status.expirationTimestamp: \"", CutForMessage(ts), "\" is not an RFC 3339 time"));
    }
  }
  return c;
}

absl::StatusOr<ExecCredential> RunExecPlugin(const ExecConfig& cfg, absl::Duration timeout) {
  const std::string what = StrCat("exec credential plugin \"", cfg.command, "\"");
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError(StrCat(what, ": pipe: ", std::strerror(errno)));
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return absl::InternalError(StrCat(what, ": pipe: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);  // no terminal, no prompts
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<std::string> argv_s{cfg.command};
  argv_s.insert(argv_s.end(), cfg.args.begin(), cfg.args.end());
  std::vector<std::string> env_s = ChildEnv(cfg);
  std::vector<char*> argv = Pointers(argv_s), envp = Pointers(env_s);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, cfg.command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    return absl::FailedPreconditionError(StrCat(what, ": cannot run it: ", std::strerror(rc),
                                                cfg.install_hint.empty() ? "" : StrCat(" (", cfg.install_hint, ")")));
  }
  const Finished f = Collect(pid, out[0], err[0], timeout);
  close(out[0]);
  close(err[0]);
  if (f.timed_out) {
    return absl::DeadlineExceededError(StrCat(what, ": still running after ", absl::FormatDuration(timeout),
                                              "; killed"));
  }
  if (WIFEXITED(f.wait_status) && WEXITSTATUS(f.wait_status) == 127) {
    return absl::FailedPreconditionError(StrCat(what, ": command not found",
                                                cfg.install_hint.empty() ? "" : StrCat(" (", cfg.install_hint, ")")));
  }
  if (!WIFEXITED(f.wait_status) || WEXITSTATUS(f.wait_status) != 0) {
    const std::string how = WIFEXITED(f.wait_status) ? StrCat("exited with status ", WEXITSTATUS(f.wait_status))
                                                     : StrCat("was killed by signal ", WTERMSIG(f.wait_status));
    return absl::UnavailableError(StrCat(what, ": ", how, f.err.empty() ? "" : ": ", FirstLine(f.err)));
  }
  absl::StatusOr<ExecCredential> c = ParseExecCredential(f.out, cfg.api_version);
  if (!c.ok()) return absl::Status(c.status().code(), StrCat(what, ": ", c.status().message()));
  return c;
}

}  // namespace drover::k8s
