#include "k8s/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "k8s/small_file.h"
#include "core/strings.h"
#include "k8s/text.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/status_macros.h"

namespace drover::k8s {
namespace {

// Kubeconfigs with many clusters and users run to a few hundred KB; tokens and
// namespace files are far smaller.
constexpr size_t kMaxKubeconfigBytes = 16 << 20;

absl::StatusOr<std::string> ReadFile(const std::string& path) { return ReadSmallFile("kubeconfig", path, kMaxKubeconfigBytes); }

std::string Resolve(const std::string& base_dir, std::string path) {
  if (!path.empty() && path[0] != '/' && !base_dir.empty()) path = base_dir + "/" + path;
  return path;
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Reads kubeconfig fields; every error names the file, the context and the field.
class Reader {
 public:
  Reader(std::string_view file, std::string_view base_dir) : file_(file), base_dir_(base_dir) {}

  void set_context(std::string_view c) { context_ = c; }
  const std::string& base_dir() const { return base_dir_; }

  absl::Status Error(std::string_view field, std::string_view problem) const {
    std::string where = StrCat("kubeconfig ", file_);
    if (!context_.empty()) StrAppend(&where, " context \"", context_, "\"");
    return absl::InvalidArgumentError(StrCat(where, ": ", field, ": ", problem));
  }

  // A scalar string at node[key]; "" when absent. Error when not a scalar.
  absl::StatusOr<std::string> String(const YAML::Node& node, const char* key, std::string_view field) const {
    YAML::Node v = node[key];
    if (!v || v.IsNull()) return std::string();
    if (!v.IsScalar()) return Error(field, "must be a string");
    return v.Scalar();
  }

  absl::StatusOr<bool> Bool(const YAML::Node& node, const char* key, std::string_view field) const {
    ASSIGN_OR_RETURN(std::string s, String(node, key, field));
    if (s.empty() || s == "false") return false;
    if (s == "true") return true;
    return Error(field, StrCat("\"", s, "\" is not a boolean"));
  }

  // Base64 PEM data at node[key], decoded.
  absl::StatusOr<std::string> Data(const YAML::Node& node, const char* key, std::string_view field) const {
    ASSIGN_OR_RETURN(std::string s, String(node, key, field));
    if (s.empty()) return s;
    std::string out;
    if (!absl::Base64Unescape(s, &out)) return Error(field, "is not valid base64");
    return out;
  }

  // A file path at node[key], resolved and checked for readability.
  absl::StatusOr<std::string> File(const YAML::Node& node, const char* key, std::string_view field) const {
    ASSIGN_OR_RETURN(std::string s, String(node, key, field));
    if (s.empty()) return s;
    std::string path = Resolve(base_dir_, s);
    std::ifstream in(path);
    if (!in) return Error(field, StrCat("cannot read file ", path));
    return path;
  }

  // The entry named `name` in the list `key` ("clusters", "users", "contexts"),
  // returning its `inner` map.
  absl::StatusOr<YAML::Node> Named(const YAML::Node& root, const char* key, const char* inner,
                                   const std::string& name) const {
    YAML::Node list = root[key];
    if (list && !list.IsNull() && !list.IsSequence()) return Error(key, "must be a list");
    if (list) {
      for (size_t i = 0; i < list.size(); ++i) {
        YAML::Node entry = list[i];
        if (!entry.IsMap()) return Error(StrCat(key, "[", i, "]"), "must be a map");
        YAML::Node n = entry["name"];
        if (n && n.IsScalar() && n.Scalar() == name) {
          YAML::Node body = entry[inner];
          if (body && !body.IsNull() && !body.IsMap()) {
            return Error(StrCat(key, "[", i, "].", inner), "must be a map");
          }
          return body ? body : YAML::Node(YAML::NodeType::Map);
        }
      }
    }
    return Error(key, StrCat("no entry named \"", name, "\""));
  }

 private:
  std::string file_;
  std::string base_dir_;
  std::string context_;
};

absl::Status ReadCluster(const Reader& r, const YAML::Node& c, const std::string& name, RestConfig* cfg) {
  const std::string f = StrCat("clusters[", name, "].cluster.");
  ASSIGN_OR_RETURN(cfg->server, r.String(c, "server", f + "server"));
  if (cfg->server.empty()) return r.Error(f + "server", "is missing");
  if (!cfg->server.starts_with("https://") && !cfg->server.starts_with("http://")) {
    return r.Error(f + "server", StrCat("\"", cfg->server, "\" is not an http(s) URL"));
  }
  while (cfg->server.ends_with("/")) cfg->server.pop_back();
  ASSIGN_OR_RETURN(cfg->ca_pem, r.Data(c, "certificate-authority-data", f + "certificate-authority-data"));
  ASSIGN_OR_RETURN(cfg->ca_file, r.File(c, "certificate-authority", f + "certificate-authority"));
  ASSIGN_OR_RETURN(cfg->insecure_skip_tls_verify,
                   r.Bool(c, "insecure-skip-tls-verify", f + "insecure-skip-tls-verify"));
  if (cfg->insecure_skip_tls_verify && (!cfg->ca_pem.empty() || !cfg->ca_file.empty())) {
    return r.Error(f + "insecure-skip-tls-verify", "cannot be combined with a certificate authority");
  }
  return absl::OkStatus();
}

// users[].user.exec: an exec credential plugin (exec_credential.h).
absl::StatusOr<ExecConfig> ReadExec(const Reader& r, const YAML::Node& e, const std::string& f,
                                    const std::string& base_dir, const RestConfig& cluster) {
  if (!e.IsMap()) return r.Error(f, "must be a map");
  ExecConfig x;
  ASSIGN_OR_RETURN(x.command, r.String(e, "command", f + ".command"));
  if (x.command.empty()) return r.Error(f + ".command", "is missing");
  if (x.command.find('/') != std::string::npos) x.command = Resolve(base_dir, x.command);  // as kubectl does
  ASSIGN_OR_RETURN(x.api_version, r.String(e, "apiVersion", f + ".apiVersion"));
  if (x.api_version != "client.authentication.k8s.io/v1" && x.api_version != "client.authentication.k8s.io/v1beta1") {
    return r.Error(f + ".apiVersion", StrCat("\"", CutForMessage(x.api_version),
                                             "\" is not client.authentication.k8s.io/v1 or v1beta1"));
  }
  if (YAML::Node args = e["args"]; args && !args.IsNull()) {
    if (!args.IsSequence()) return r.Error(f + ".args", "must be a list of strings");
    for (size_t i = 0; i < args.size(); ++i) {
      if (!args[i].IsScalar()) return r.Error(StrCat(f, ".args[", i, "]"), "must be a string");
      x.args.push_back(args[i].Scalar());
    }
  }
  if (YAML::Node env = e["env"]; env && !env.IsNull()) {
    if (!env.IsSequence()) return r.Error(f + ".env", "must be a list of {name, value}");
    for (size_t i = 0; i < env.size(); ++i) {
      const std::string ef = StrCat(f, ".env[", i, "]");
      if (!env[i].IsMap()) return r.Error(ef, "must be a map with name and value");
      ASSIGN_OR_RETURN(std::string n, r.String(env[i], "name", ef + ".name"));
      ASSIGN_OR_RETURN(std::string v, r.String(env[i], "value", ef + ".value"));
      if (n.empty() || n.find('=') != std::string::npos) return r.Error(ef + ".name", "must be a variable name");
      x.env.emplace_back(std::move(n), std::move(v));
    }
  }
  ASSIGN_OR_RETURN(x.install_hint, r.String(e, "installHint", f + ".installHint"));
  ASSIGN_OR_RETURN(std::string mode, r.String(e, "interactiveMode", f + ".interactiveMode"));
  if (mode == "Always") {
    return r.Error(f + ".interactiveMode", "\"Always\" needs a terminal, which droverd has none of; use IfAvailable or Never");
  }
  if (!mode.empty() && mode != "Never" && mode != "IfAvailable") {
    return r.Error(f + ".interactiveMode", StrCat("\"", CutForMessage(mode), "\" is not Never, IfAvailable or Always"));
  }
  ASSIGN_OR_RETURN(bool cluster_info, r.Bool(e, "provideClusterInfo", f + ".provideClusterInfo"));
  if (cluster_info) x.cluster_server = cluster.server;
  return x;
}

absl::Status ReadUser(const Reader& r, const YAML::Node& u, const std::string& name, const std::string& base_dir,
                      RestConfig* cfg) {
  const std::string f = StrCat("users[", name, "].user.");
  for (const char* unsupported : {"auth-provider", "username"}) {
    if (u[unsupported]) {
      return r.Error(f + unsupported, "is not supported; use a token, tokenFile, exec or a client certificate");
    }
  }
  if (YAML::Node exec = u["exec"]; exec && !exec.IsNull()) {
    ASSIGN_OR_RETURN(cfg->exec, ReadExec(r, exec, f + "exec", base_dir, *cfg));
  }
  ASSIGN_OR_RETURN(cfg->client_cert_pem, r.Data(u, "client-certificate-data", f + "client-certificate-data"));
  ASSIGN_OR_RETURN(cfg->client_key_pem, r.Data(u, "client-key-data", f + "client-key-data"));
  ASSIGN_OR_RETURN(cfg->client_cert_file, r.File(u, "client-certificate", f + "client-certificate"));
  ASSIGN_OR_RETURN(cfg->client_key_file, r.File(u, "client-key", f + "client-key"));
  ASSIGN_OR_RETURN(cfg->token, r.String(u, "token", f + "token"));
  ASSIGN_OR_RETURN(cfg->token_file, r.File(u, "tokenFile", f + "tokenFile"));
  if (cfg->exec.has_value() && (!cfg->token.empty() || !cfg->token_file.empty())) {
    return r.Error(f + "exec", "cannot be combined with token or tokenFile: give one source of the token");
  }
  const bool has_cert = !cfg->client_cert_pem.empty() || !cfg->client_cert_file.empty();
  const bool has_key = !cfg->client_key_pem.empty() || !cfg->client_key_file.empty();
  if (has_cert != has_key) {
    return r.Error(f + (has_cert ? "client-key" : "client-certificate"),
                   "is missing (a client certificate needs its key and the key its certificate)");
  }
  return absl::OkStatus();
}

absl::StatusOr<RestConfig> ParseRoot(const YAML::Node& root, Reader& r, std::string_view file,
                                     std::string_view context_override) {
  if (!root.IsMap()) return r.Error("(document)", "must be a map");
  std::string context(context_override);
  if (context.empty()) {
    ASSIGN_OR_RETURN(context, r.String(root, "current-context", "current-context"));
    if (context.empty()) return r.Error("current-context", "is not set");
  }
  r.set_context(context);
  ASSIGN_OR_RETURN(YAML::Node ctx, r.Named(root, "contexts", "context", context));
  const std::string f = StrCat("contexts[", context, "].context.");
  RestConfig cfg;
  cfg.source = StrCat("kubeconfig ", file, " context \"", context, "\"");
  ASSIGN_OR_RETURN(std::string cluster_name, r.String(ctx, "cluster", f + "cluster"));
  if (cluster_name.empty()) return r.Error(f + "cluster", "is missing");
  ASSIGN_OR_RETURN(std::string user_name, r.String(ctx, "user", f + "user"));
  ASSIGN_OR_RETURN(std::string ns, r.String(ctx, "namespace", f + "namespace"));
  if (!ns.empty()) cfg.namespace_ = ns;

  ASSIGN_OR_RETURN(YAML::Node cluster, r.Named(root, "clusters", "cluster", cluster_name));
  RETURN_IF_ERROR(ReadCluster(r, cluster, cluster_name, &cfg));
  if (!user_name.empty()) {
    ASSIGN_OR_RETURN(YAML::Node user, r.Named(root, "users", "user", user_name));
    RETURN_IF_ERROR(ReadUser(r, user, user_name, r.base_dir(), &cfg));
  }
  return cfg;
}

}  // namespace

absl::StatusOr<RestConfig> ParseKubeconfig(std::string_view yaml, std::string_view file, std::string_view base_dir,
                                           std::string_view context) {
  Reader r(file, base_dir);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    return ParseRoot(root, r, file, context);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat("kubeconfig ", file, ": line ", e.mark.line + 1, ": ", e.msg));
  }
}

absl::StatusOr<RestConfig> LoadKubeconfigFile(const std::string& path, std::string_view context) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return absl::Status(text.status().code(), StrCat("kubeconfig ", path, ": ", text.status().message()));
  return ParseKubeconfig(*text, path, DirOf(path), context);
}

absl::StatusOr<RestConfig> LoadInClusterConfig(const InClusterPaths& paths) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    return absl::FailedPreconditionError(
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  }
  RestConfig cfg;
  std::string h(host);
  if (h.find(':') != std::string::npos) h = StrCat("[", h, "]");  // IPv6
  cfg.server = StrCat("https://", h, ":", port);
  if (!ReadFile(paths.token_file).ok()) {
    return absl::FailedPreconditionError(StrCat("in-cluster config: token file ", paths.token_file,
                                                      ": cannot read the file"));
  }
  cfg.token_file = paths.token_file;
  if (std::ifstream(paths.ca_file)) cfg.ca_file = paths.ca_file;
  if (absl::StatusOr<std::string> ns = ReadFile(paths.namespace_file); ns.ok()) {
    std::string_view trimmed = Trim(*ns);
    if (!trimmed.empty()) cfg.namespace_ = std::string(trimmed);
  }
  cfg.source = StrCat("in-cluster service account (", paths.token_file, ")");
  return cfg;
}

absl::StatusOr<RestConfig> LoadRestConfig(const std::string& kubeconfig_flag, std::string_view context) {
  if (!kubeconfig_flag.empty()) return LoadKubeconfigFile(kubeconfig_flag, context);
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::vector<std::string_view> paths = SplitTrimmed(env, ':');
    if (!paths.empty()) return LoadKubeconfigFile(std::string(paths[0]), context);
  }
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST"); host != nullptr && *host != '\0') {
    return LoadInClusterConfig();
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    return absl::NotFoundError("no kubeconfig: --kubeconfig and $KUBECONFIG are unset, not in a cluster, no $HOME");
  }
  return LoadKubeconfigFile(StrCat(home, "/.kube/config"), context);
}

}  // namespace drover::k8s
