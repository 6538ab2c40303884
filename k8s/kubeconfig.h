// Where the API server is and how to authenticate to it, loaded from a kubeconfig
// file or from the in-cluster service account.
//
//   ASSIGN_OR_RETURN(RestConfig cfg, LoadRestConfig(flags.kubeconfig));
//   ASSIGN_OR_RETURN(auto http, HttpClient::Create(cfg, HttpOptions{}));
//
// Lookup order (like controller-runtime's GetConfig): the --kubeconfig path, then
// $KUBECONFIG (its first entry; files are not merged), then the in-cluster service
// account when KUBERNETES_SERVICE_HOST is set, then ~/.kube/config.
// Supported: cluster server, certificate-authority(-data), insecure-skip-tls-verify;
// user client-certificate(-data), client-key(-data), token, tokenFile, and exec
// credential plugins (client.authentication.k8s.io/v1 and v1beta1: command, args,
// env, installHint, interactiveMode Never or IfAvailable, provideClusterInfo).
// auth-provider and basic auth are rejected with an error that says so. Relative
// file paths (and a relative exec command) are resolved against the kubeconfig's
// directory, as kubectl does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "k8s/exec_credential.h"

namespace drover::k8s {

struct RestConfig {
  std::string server;  // "https://10.0.0.1:6443" (no trailing slash)
  // Trust: PEM data or a file; both empty = the system roots.
  std::string ca_pem;
  std::string ca_file;
  bool insecure_skip_tls_verify = false;
  // Client certificate auth: PEM data or files (cert and key come together).
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string client_cert_file;
  std::string client_key_file;
  // Bearer token: a fixed value, or a file re-read when it changes.
  std::string token;
  std::string token_file;
  // Or an exec credential plugin (users[].user.exec) that prints the token.
  std::optional<ExecConfig> exec;
  std::string namespace_ = "default";  // the context's (or pod's) namespace
  std::string source;                   // for messages: "kubeconfig /root/.kube/config context kind"
};

// Parses kubeconfig YAML text. `file` names the source in errors and `base_dir`
// resolves relative paths. `context` overrides current-context when not empty.
// Errors name the file, the context and the field.
absl::StatusOr<RestConfig> ParseKubeconfig(std::string_view yaml, std::string_view file, std::string_view base_dir,
                                           std::string_view context = "");

// Reads and parses one kubeconfig file.
absl::StatusOr<RestConfig> LoadKubeconfigFile(const std::string& path, std::string_view context = "");

// Files and environment of an in-cluster pod; overridable for tests.
struct InClusterPaths {
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespace_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
};

// The in-cluster config from KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT and
// the service account files. The token is referenced by path so that rotation is
// picked up. Error if the variables or the token file are missing.
absl::StatusOr<RestConfig> LoadInClusterConfig(const InClusterPaths& paths = {});

// The lookup order described at the top of this file.
absl::StatusOr<RestConfig> LoadRestConfig(const std::string& kubeconfig_flag, std::string_view context = "");

}  // namespace drover::k8s
