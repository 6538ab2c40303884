// Exec credential plugins (a kubeconfig's users[].user.exec), as EKS (`aws eks
// get-token`), GKE (`gke-gcloud-auth-plugin`) and AKS (`kubelogin`) kubeconfigs
// use: a command that prints an ExecCredential of client.authentication.k8s.io/v1
// (or v1beta1) whose status carries a bearer token and, usually, when it expires.
//
//   ASSIGN_OR_RETURN(ExecCredential c, RunExecPlugin(cfg.exec));
//   request.headers["Authorization"] = "Bearer " + c.token;
//
// Like client-go's exec authenticator: the plugin gets KUBERNETES_EXEC_INFO (an
// ExecCredential with spec.interactive false), the kubeconfig's env on top of
// ours, and no terminal; TokenSource caches its token until expirationTimestamp
// and runs it again after a 401. Client certificates from a plugin are not
// supported (an error says so).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace drover::k8s {

struct ExecConfig {
  std::string command;  // a path (relative ones resolved against the kubeconfig's directory) or a name in $PATH
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to the process's environment
  std::string api_version = "client.authentication.k8s.io/v1";
  std::string install_hint;  // shown when the command cannot be run
  std::string cluster_server;  // for spec.cluster when provideClusterInfo is set ("" = not provided)
  bool operator==(const ExecConfig&) const = default;
};

struct ExecCredential {
  std::string token;
  absl::Time expiry = absl::InfiniteFuture();  // status.expirationTimestamp; none = never
};

// Parses a plugin's output. Errors: not JSON, kind or apiVersion not the one asked
// for, no status.token (or a client certificate instead), a bad timestamp.
absl::StatusOr<ExecCredential> ParseExecCredential(std::string_view json, std::string_view api_version);

// Runs the plugin once and parses what it printed. Errors name the command: it
// could not be started (with the install hint), it exited non-zero (with the first
// line of its stderr), it ran past `timeout` (it is killed), or its output is bad.
absl::StatusOr<ExecCredential> RunExecPlugin(const ExecConfig& cfg, absl::Duration timeout = absl::Seconds(60));

}  // namespace drover::k8s
