#include "k8s/kubeconfig.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "k8s/fake_clock.h"
#include "k8s/token_source.h"

namespace drover::k8s {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/drover-kubeconfig-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string B64(const std::string& s) { return absl::Base64Escape(s); }

std::string Config(const std::string& cluster_extra, const std::string& user_extra,
                   const std::string& server = "https://10.0.0.1:6443/") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
         "contexts:\n"
         "- name: prod\n  context: {cluster: c1, user: u1, namespace: team-a}\n"
         "- name: other\n  context: {cluster: c2, user: u1}\n"
         "clusters:\n"
         "- name: c1\n  cluster:\n    server: " +
         server + "\n" + cluster_extra +
         "- name: c2\n  cluster:\n    server: http://127.0.0.1:8080\n"
         "users:\n"
         "- name: u1\n  user:\n" +
         user_extra;
}

std::string ErrorOf(const absl::StatusOr<RestConfig>& r) {
  REQUIRE_FALSE(r.ok());
  return std::string(r.status().message().data(), r.status().message().size());
}

TEST_CASE("kubeconfig_reads_current_context_cluster_and_user", "[k8s][kubeconfig]") {
  const std::string ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  absl::StatusOr<RestConfig> cfg = ParseKubeconfig(
      Config("    certificate-authority-data: " + B64(ca) + "\n", "    token: abc123\n"), "/k/config", "/k");
  REQUIRE(cfg.ok());
  CHECK(cfg->server == "https://10.0.0.1:6443");  // trailing slash dropped
  CHECK(cfg->ca_pem == ca);
  CHECK(cfg->token == "abc123");
  CHECK(cfg->namespace_ == "team-a");
  CHECK_FALSE(cfg->insecure_skip_tls_verify);
  CHECK(cfg->source.find("/k/config") != std::string::npos);
}

TEST_CASE("kubeconfig_context_override_and_relative_files", "[k8s][kubeconfig]") {
  const std::string dir = TempDir();
  WriteFile(dir + "/ca.crt", "CA");
  WriteFile(dir + "/client.crt", "CERT");
  WriteFile(dir + "/client.key", "KEY");
  WriteFile(dir + "/token", "from-file\n");
  WriteFile(dir + "/config", Config("    certificate-authority: ca.crt\n",
                                    "    client-certificate: client.crt\n    client-key: client.key\n"
                                    "    tokenFile: token\n"));
  SECTION("current context resolves files against the kubeconfig's directory") {
    absl::StatusOr<RestConfig> cfg = LoadKubeconfigFile(dir + "/config");
    REQUIRE(cfg.ok());
    CHECK(cfg->ca_file == dir + "/ca.crt");
    CHECK(cfg->client_cert_file == dir + "/client.crt");
    CHECK(cfg->client_key_file == dir + "/client.key");
    CHECK(cfg->token_file == dir + "/token");
  }
  SECTION("an explicit context wins over current-context") {
    absl::StatusOr<RestConfig> cfg = LoadKubeconfigFile(dir + "/config", "other");
    REQUIRE(cfg.ok());
    CHECK(cfg->server == "http://127.0.0.1:8080");
    CHECK(cfg->namespace_ == "default");
  }
  SECTION("--kubeconfig beats $KUBECONFIG") {
    const std::string other = dir + "/other";
    WriteFile(other, Config("", "    token: t\n", "https://other:6443"));
    setenv("KUBECONFIG", other.c_str(), 1);
    absl::StatusOr<RestConfig> flag = LoadRestConfig(dir + "/config");
    absl::StatusOr<RestConfig> env = LoadRestConfig("");
    unsetenv("KUBECONFIG");
    REQUIRE(flag.ok());
    REQUIRE(env.ok());
    CHECK(flag->server == "https://10.0.0.1:6443");
    CHECK(env->server == "https://other:6443");
  }
}

TEST_CASE("kubeconfig_errors_name_file_context_and_field", "[k8s][kubeconfig]") {
  SECTION("missing file") {
    std::string e = ErrorOf(LoadKubeconfigFile("/nonexistent/kubeconfig"));
    CHECK(e.find("/nonexistent/kubeconfig") != std::string::npos);
  }
  SECTION("malformed YAML names the line") {
    std::string e = ErrorOf(ParseKubeconfig("clusters: [\n  - {name: x\n", "/k/config", "/k"));
    CHECK(e.find("/k/config") != std::string::npos);
    CHECK(e.find("line") != std::string::npos);
  }
  SECTION("no current-context") {
    std::string e = ErrorOf(ParseKubeconfig("apiVersion: v1\nclusters: []\n", "/k/config", "/k"));
    CHECK(e.find("current-context") != std::string::npos);
  }
  SECTION("unknown context") {
    std::string e = ErrorOf(ParseKubeconfig(Config("", "    token: t\n"), "/k/config", "/k", "staging"));
    CHECK(e.find("context \"staging\"") != std::string::npos);
    CHECK(e.find("contexts") != std::string::npos);
  }
  SECTION("server missing") {
    std::string text = "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\n"
                       "clusters:\n- name: c\n  cluster: {}\n";
    std::string e = ErrorOf(ParseKubeconfig(text, "/k/config", "/k"));
    CHECK(e.find("clusters[c].cluster.server: is missing") != std::string::npos);
    CHECK(e.find("context \"a\"") != std::string::npos);
  }
  SECTION("server is not a URL") {
    std::string e = ErrorOf(ParseKubeconfig(Config("", "    token: t\n", "10.0.0.1:6443"), "/k/config", "/k"));
    CHECK(e.find("clusters[c1].cluster.server") != std::string::npos);
  }
  SECTION("bad base64 CA data") {
    std::string e = ErrorOf(
        ParseKubeconfig(Config("    certificate-authority-data: '!!not base64!!'\n", ""), "/k/config", "/k"));
    CHECK(e.find("certificate-authority-data: is not valid base64") != std::string::npos);
  }
  SECTION("unreadable CA file") {
    std::string e =
        ErrorOf(ParseKubeconfig(Config("    certificate-authority: /nope/ca.crt\n", ""), "/k/config", "/k"));
    CHECK(e.find("certificate-authority: cannot read file /nope/ca.crt") != std::string::npos);
  }
  SECTION("insecure together with a CA") {
    std::string e = ErrorOf(ParseKubeconfig(
        Config("    insecure-skip-tls-verify: true\n    certificate-authority-data: " + B64("x") + "\n", ""),
        "/k/config", "/k"));
    CHECK(e.find("insecure-skip-tls-verify") != std::string::npos);
  }
  SECTION("insecure is not a boolean") {
    std::string e = ErrorOf(ParseKubeconfig(Config("    insecure-skip-tls-verify: maybe\n", ""), "/k/config", "/k"));
    CHECK(e.find("\"maybe\" is not a boolean") != std::string::npos);
  }
  SECTION("client certificate without its key") {
    std::string e =
        ErrorOf(ParseKubeconfig(Config("", "    client-certificate-data: " + B64("C") + "\n"), "/k/config", "/k"));
    CHECK(e.find("users[u1].user.client-key: is missing") != std::string::npos);
  }
  SECTION("auth-provider plugins are refused, saying so") {
    std::string e = ErrorOf(ParseKubeconfig(Config("", "    auth-provider: {name: gcp}\n"), "/k/config", "/k"));
    CHECK(e.find("users[u1].user.auth-provider: is not supported") != std::string::npos);
  }
  SECTION("an exec plugin needs a known apiVersion, a command, and no other token") {
    std::string e = ErrorOf(ParseKubeconfig(Config("", "    exec: {command: aws}\n"), "/k/config", "/k"));
    CHECK(e.find("users[u1].user.exec.apiVersion: \"\" is not client.authentication.k8s.io/v1 or v1beta1") !=
          std::string::npos);
    e = ErrorOf(ParseKubeconfig(Config("", "    exec: {apiVersion: client.authentication.k8s.io/v1}\n"), "/k/config",
                                "/k"));
    CHECK(e.find("users[u1].user.exec.command: is missing") != std::string::npos);
    e = ErrorOf(ParseKubeconfig(
        Config("", "    token: t\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}\n"),
        "/k/config", "/k"));
    CHECK(e.find("cannot be combined with token") != std::string::npos);
    e = ErrorOf(ParseKubeconfig(
        Config("", "    exec: {apiVersion: client.authentication.k8s.io/v1, command: x, interactiveMode: Always}\n"),
        "/k/config", "/k"));
    CHECK(e.find("exec.interactiveMode: \"Always\" needs a terminal") != std::string::npos);
  }
  SECTION("a field of the wrong kind") {
    std::string e = ErrorOf(ParseKubeconfig(Config("", "    token: [a, b]\n"), "/k/config", "/k"));
    CHECK(e.find("users[u1].user.token: must be a string") != std::string::npos);
  }
}

TEST_CASE("in_cluster_config_reads_service_account_files", "[k8s][kubeconfig]") {
  const std::string dir = TempDir();
  InClusterPaths paths{dir + "/token", dir + "/ca.crt", dir + "/namespace"};
  WriteFile(paths.token_file, "sa-token\n");
  WriteFile(paths.ca_file, "CA");
  WriteFile(paths.namespace_file, "drover-system\n");
  SECTION("complete") {
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    absl::StatusOr<RestConfig> cfg = LoadInClusterConfig(paths);
    REQUIRE(cfg.ok());
    CHECK(cfg->server == "https://10.96.0.1:443");
    CHECK(cfg->token_file == paths.token_file);
    CHECK(cfg->ca_file == paths.ca_file);
    CHECK(cfg->namespace_ == "drover-system");
  }
  SECTION("IPv6 host is bracketed") {
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    absl::StatusOr<RestConfig> cfg = LoadInClusterConfig(paths);
    REQUIRE(cfg.ok());
    CHECK(cfg->server == "https://[fd00::1]:443");
  }
  SECTION("environment missing") {
    unsetenv("KUBERNETES_SERVICE_HOST");
    std::string e = ErrorOf(LoadInClusterConfig(paths));
    CHECK(e.find("KUBERNETES_SERVICE_HOST") != std::string::npos);
  }
  SECTION("token file missing") {
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    paths.token_file = dir + "/absent";
    std::string e = ErrorOf(LoadInClusterConfig(paths));
    CHECK(e.find(dir + "/absent") != std::string::npos);
  }
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
}

TEST_CASE("token_file_is_reread_when_it_changes", "[k8s][kubeconfig]") {
  const std::string dir = TempDir();
  const std::string file = dir + "/token";
  WriteFile(file, "first\n");
  FakeClock clock;
  TokenSource tokens("", file, absl::Seconds(1), &clock);
  CHECK(tokens.Token() == "first");
  WriteFile(file + ".new", "second-longer\n");
  REQUIRE(rename((file + ".new").c_str(), file.c_str()) == 0);  // how kubelet rotates projected tokens
  CHECK(tokens.Token() == "first");  // the file is looked at once a second at most
  clock.Advance(absl::Milliseconds(999));
  CHECK(tokens.Token() == "first");
  clock.Advance(absl::Milliseconds(1));
  CHECK(tokens.Token() == "second-longer");
  WriteFile(file, "");  // a half-written file keeps the last good token
  clock.Advance(absl::Seconds(1));
  CHECK(tokens.Token() == "second-longer");
}

// An EKS-style kubeconfig user, as `aws eks update-kubeconfig` writes it.
constexpr const char* kEksUser = R"(    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./plugin.sh
      args: [eks, get-token, --cluster-name, prod]
      env:
      - {name: PLUGIN_DIR, value: '@DIR@'}
      interactiveMode: IfAvailable
      provideClusterInfo: true
      installHint: install the plugin
)";

// A plugin that counts its runs, records what it was given, and prints the token
// in $PLUGIN_DIR/token, valid for $PLUGIN_DIR/ttl seconds.
void WritePlugin(const std::string& dir) {
  WriteFile(dir + "/plugin.sh", R"SH(#!/bin/sh
d="$PLUGIN_DIR"
n=$(cat "$d/count" 2>/dev/null || echo 0); echo $((n + 1)) > "$d/count"
echo "$KUBERNETES_EXEC_INFO" > "$d/info"; echo "$*" > "$d/args"
[ -f "$d/fail" ] && { echo "token service unreachable" >&2; exit 3; }
exp=$(date -u -d "+$(cat "$d/ttl") seconds" +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\n' "$(cat "$d/token")" "$exp"
)SH");
  REQUIRE(chmod((dir + "/plugin.sh").c_str(), 0755) == 0);
  WriteFile(dir + "/token", "first-token");
  WriteFile(dir + "/ttl", "3600");
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("kubeconfig_exec_plugin_runs_and_is_cached_until_expiry", "[k8s][kubeconfig]") {
  // Before: EKS, GKE and AKS kubeconfigs were refused: "exec: is not supported" (issue 21 item 17).
  const std::string dir = TempDir();
  WritePlugin(dir);
  std::string user = kEksUser;
  user.replace(user.find("@DIR@"), 5, dir);
  WriteFile(dir + "/config", Config("", user));
  absl::StatusOr<RestConfig> cfg = LoadKubeconfigFile(dir + "/config");
  REQUIRE(cfg.ok());
  REQUIRE(cfg->exec.has_value());
  CHECK(cfg->exec->command == dir + "/./plugin.sh");
  CHECK(cfg->exec->args == std::vector<std::string>{"eks", "get-token", "--cluster-name", "prod"});
  CHECK(cfg->exec->cluster_server == "https://10.0.0.1:6443");

  FakeClock clock;
  TokenSource tokens("", "", absl::Seconds(1), &clock, cfg->exec);
  CHECK(tokens.Token() == "first-token");
  CHECK(ReadAll(dir + "/count") == "1\n");
  CHECK(ReadAll(dir + "/args") == "eks get-token --cluster-name prod\n");
  const std::string info = ReadAll(dir + "/info");
  CHECK_THAT(info, Catch::Contains(R"("kind":"ExecCredential")"));
  CHECK_THAT(info, Catch::Contains(R"("interactive":false)"));
  CHECK_THAT(info, Catch::Contains(R"("server":"https://10.0.0.1:6443")"));
  WriteFile(dir + "/token", "second-token");
  clock.Advance(absl::Minutes(59));
  CHECK(tokens.Token() == "first-token");  // cached until it expires
  CHECK(ReadAll(dir + "/count") == "1\n");
  clock.Advance(absl::Minutes(2));
  CHECK(tokens.Token() == "second-token");
  CHECK(ReadAll(dir + "/count") == "2\n");
  WriteFile(dir + "/token", "third-token");
  CHECK(tokens.Invalidate());  // the server said 401
  CHECK(tokens.Token() == "third-token");
  CHECK(ReadAll(dir + "/count") == "3\n");

  // A failing plugin: its error is logged, no token, and it is not run again at once.
  WriteFile(dir + "/fail", "");
  CHECK(tokens.Invalidate());
  CHECK(tokens.Token().empty());
  CHECK(tokens.Token().empty());
  CHECK(ReadAll(dir + "/count") == "4\n");
  absl::StatusOr<ExecCredential> direct = RunExecPlugin(*cfg->exec);
  REQUIRE_FALSE(direct.ok());
  CHECK_THAT(std::string(direct.status().message()),
             Catch::Contains("plugin.sh\": exited with status 3: token service unreachable"));
  ExecConfig missing = *cfg->exec;
  missing.command = "drover-no-such-plugin";
  CHECK_THAT(std::string(RunExecPlugin(missing).status().message()), Catch::Contains("install the plugin"));
}

TEST_CASE("exec_credential_output_is_checked", "[k8s][kubeconfig]") {
  const std::string v1 = "client.authentication.k8s.io/v1";
  absl::StatusOr<ExecCredential> c = ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
          "status":{"token":"t","expirationTimestamp":"2030-01-02T03:04:05Z"}})",
      v1);
  REQUIRE(c.ok());
  CHECK(c->token == "t");
  CHECK(c->expiry == absl::FromUnixSeconds(1893553445));
  CHECK_FALSE(ParseExecCredential("not json {", v1).ok());
  CHECK_THAT(std::string(ParseExecCredential(R"({"apiVersion":"client.authentication.k8s.io/v1beta1",
      "kind":"ExecCredential","status":{"token":"t"}})", v1).status().message()), Catch::Contains("apiVersion"));
  CHECK_THAT(std::string(ParseExecCredential(R"({"apiVersion":"client.authentication.k8s.io/v1",
      "kind":"ExecCredential","status":{"clientCertificateData":"x"}})", v1).status().message()),
             Catch::Contains("client certificate, which is not supported"));
  CHECK_THAT(std::string(ParseExecCredential(R"({"apiVersion":"client.authentication.k8s.io/v1",
      "kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"soon"}})", v1).status().message()),
             Catch::Contains("expirationTimestamp: \"soon\""));
}

}  // namespace
}  // namespace drover::k8s
