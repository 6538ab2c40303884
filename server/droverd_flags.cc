#include "server/droverd_flags.h"

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "sim/duration.h"
#include "spdlog/spdlog.h"

namespace drover {
namespace {

// Longest accepted for delays and poll intervals: a value beyond it is a typo.
constexpr int64_t kMaxDelayMs = int64_t{30} * 24 * 3600 * 1000;
// Fastest --serve-speed: a year of virtual time in about half a wall minute.
constexpr double kMaxServeSpeed = 1e6;

std::string Quoted(std::string_view v) { return StrCat("\"", CutForMessage(v), "\""); }

absl::StatusOr<int64_t> DurationFlag(std::string_view flag, const std::string& text, int64_t min_ms) {
  absl::StatusOr<int64_t> ms = ParseDurationMillis(text);
  if (!ms.ok()) return absl::InvalidArgumentError(StrCat(flag, ": ", ms.status().message()));
  if (*ms < min_ms || *ms > kMaxDelayMs) {
    return absl::InvalidArgumentError(
        StrCat(flag, ": ", Quoted(text), " is outside ", min_ms, "ms..30d"));
  }
  return *ms;
}

void AddSimulatorFlags(CLI::App* app, DroverdFlags* f) {
  auto sim = [&](CLI::Option* o) { o->group("Simulated cluster (the default mode)"); };
  sim(app->add_option("--cluster", f->sim_input.cluster_path, "Node manifests YAML (default: examples/cluster.yaml)"));
  sim(app->add_option("--workload", f->sim_input.workload_path, "Pod manifests YAML (default: examples/workload.yaml)"));
  sim(app->add_option("--generate", f->sim_input.generate,
                      "synthetic cluster and workload, e.g. nodes=5000,pods=50000,seed=1"));
  sim(app->add_option("--until", f->until, "stop at this virtual time (e.g. 24h)"));
  sim(app->add_option("--config-at", f->config_at,
                      "apply a quota document at a virtual time: DURATION=PATH (repeatable), e.g. 2h=queues-2.yaml"));
  sim(app->add_option("--report-json", f->report_json, "write the report as JSON to this file ('-' = stdout)"));
  sim(app->add_flag("-q,--quiet", f->quiet, "no table on stdout"));
  sim(app->add_flag("--serve", f->serve,
                    "after the run, keep droverd up at the simulation's end state with the HTTP status "
                    "(--health-port, default 10251 here) and the admin API (--admin-port; default tokens "
                    "examples/admin-tokens.csv) until SIGTERM, so droverctl can be tried on it"));
  sim(app->add_option("--serve-speed", f->serve_speed,
                      "with --serve: serve from the start and run the simulation in real time, X virtual seconds "
                      "per wall second (e.g. 60: a virtual hour per wall minute), then hold its end state; "
                      "0 (default) runs it at full speed first and serves only its end state"));
}

// --serve-speed: "" or a number in 0..kMaxServeSpeed; positive only with --serve.
absl::Status ServeSpeedFlag(const DroverdFlags& f, double* speed) {
  *speed = 0;
  if (f.serve_speed.empty()) return absl::OkStatus();
  if (!absl::SimpleAtod(f.serve_speed, speed) || !(*speed >= 0 && *speed <= kMaxServeSpeed)) {
    return absl::InvalidArgumentError(StrCat("--serve-speed: ", Quoted(f.serve_speed),
                                             " is not a speed factor: 0 (the end state) or a positive number of virtual "
                                             "seconds per wall second, at most 1000000"));
  }
  if (*speed > 0 && !f.serve) {
    return absl::InvalidArgumentError(StrCat("--serve-speed: ", Quoted(f.serve_speed), " needs --serve"));
  }
  return absl::OkStatus();
}

void AddClusterFlags(CLI::App* app, DroverdFlags* f) {
  KubeRunOptions& k = f->process.kube;
  auto kube = [&](CLI::Option* o) { o->group("Real cluster"); };
  kube(app->add_option("--kubeconfig", k.kubeconfig, "schedule a real cluster through this kubeconfig"));
  kube(app->add_option("--context", k.context, "kubeconfig context (default: current-context)"));
  kube(app->add_flag("--in-cluster", k.in_cluster, "schedule the cluster this pod runs in (service account)"));
  kube(app->add_option("--queues-configmap", f->process.queues_configmap,
                       "read the quota document from this ConfigMap, NAMESPACE/NAME[:KEY] (key default queues.yaml), "
                       "and follow its changes; --queues is then only the fallback at start"));
  kube(app->add_option("--leader-elect", k.leader_elect, "use a coordination.k8s.io Lease so only one replica acts")
           ->default_val(true));
  kube(app->add_option("--lease-namespace", k.lease_namespace, "namespace of the Lease: deploy/'s by default, so a droverd run from a laptop waits while the cluster's replicas lead")->capture_default_str());
  kube(app->add_option("--lease-name", k.lease_name, "name of the Lease")->capture_default_str());
  kube(app->add_option("--lease-duration", f->lease_duration, "how long a Lease holds without renewal: a crashed leader's successor waits this long")->capture_default_str());
  kube(app->add_option("--lease-renew-deadline", f->lease_renew_deadline, "the leader stops acting when it has not renewed within this")->capture_default_str());
  kube(app->add_option("--lease-retry-period", f->lease_retry_period, "how often a candidate tries the Lease")->capture_default_str());
  kube(app->add_option("--identity", k.identity, "leader election identity (default: $POD_NAME, else the host name: a restarted replica takes its own Lease back at once; give two droverd on one host an identity each)"));
  kube(app->add_option("--kube-api-qps", k.qps,
                       "client-side requests per second to the API server (0 = unlimited); size it to the "
                       "cluster: binds need one request each (see k8s/README.md)")
           ->capture_default_str()
           ->check(CLI::Range(0.0, 1e6)));
  kube(app->add_option("--kube-api-burst", k.burst, "client-side burst")->capture_default_str()->check(CLI::Range(1, 1000000)));
  kube(app->add_option("--bind-workers", k.bind_workers, "concurrent binds")->capture_default_str()->check(CLI::Range(1, 1024)));
  kube(app->add_option("--admin-token-review", f->process.admin_token_review,
                       "authenticate admin API tokens that are not in --admin-tokens with Kubernetes TokenReview (a "
                       "user's kubectl token or a service-account token; droverd needs create on tokenreviews)")
           ->default_val(true));
  kube(app->add_option("--admin-token-review-ttl", f->token_review_ttl,
                       "how long a TokenReview answer (authenticated or not) is cached")
           ->capture_default_str());
  kube(app->add_option("--admin-token-audiences", f->process.admin_token_audiences,
                       "audiences sent in each TokenReview (comma-separated); a token must be meant for one of them. "
                       "Default: none, the API server's own (kubectl and service-account tokens)")
           ->delimiter(','));
}

// The simulator's default store: build/state beside the droverd that runs, when
// it runs from its build tree (an installed droverd has none: in memory).
std::string DefaultSimStateDir() {
#ifdef DROVER_BUILD_DIR
  std::error_code ec;
  if (std::filesystem::is_directory(DROVER_BUILD_DIR, ec)) return StrCat(DROVER_BUILD_DIR, "/state");
#endif
  return "";
}

absl::StatusOr<std::string> StateDirFlag(const std::string& value, bool cluster) {
  if (value == "(default)") return cluster ? std::string() : DefaultSimStateDir();
  if (value.empty() || value == "none") return std::string();
  if (value.size() > 4096) return absl::InvalidArgumentError(StrCat("--state-dir: ", Quoted(value), " is too long"));
  std::error_code ec;
  if (std::filesystem::exists(value, ec) && !std::filesystem::is_directory(value, ec)) {
    return absl::InvalidArgumentError(StrCat("--state-dir: ", Quoted(value), " exists and is not a directory"));
  }
  return value;
}

}  // namespace

bool IsDnsSubdomain(std::string_view v) {
  bool ok = !v.empty() && v.size() <= 253 && absl::ascii_isalnum(v.front()) && absl::ascii_isalnum(v.back());
  for (char c : v) ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '.');
  return ok;
}

absl::Status CheckDnsSubdomain(std::string_view flag, std::string_view v) {
  if (IsDnsSubdomain(v)) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat(flag, ": ", Quoted(v),
                                           " is not a lowercase RFC 1123 name (a-z, 0-9, '-', '.'; at most 253)"));
}

void AddDroverdFlags(CLI::App* app, DroverdFlags* f) {
  ProcessOptions& p = f->process;
  app->add_option("--queues", p.queues_path,
                  "quota-as-code YAML, re-read when it changes and on SIGHUP (simulator default: "
                  "examples/queues.yaml, or one root queue with --generate; required in a cluster)");
  app->add_option("--config-poll", f->config_poll, "how often the quota document is checked for changes")
      ->capture_default_str();
  app->add_option("--policy", p.engine.policy, "placement policy: binpack, spread, fgd, drover-frag, ...")
      ->capture_default_str();
  app->add_option("--seed", p.engine.seed, "seed for randomized policies")->capture_default_str();
  app->add_option("--preemption-delay", f->preemption_delay,
                  "how long a pod waits for capacity to free before it preempts (0 = at once)")
      ->capture_default_str();
  app->add_option("--scheduler-name", p.engine.scheduler_name, "spec.schedulerName this daemon serves")
      ->capture_default_str();
  app->add_option("--health-port", p.http_port,
                  "HTTP port for /healthz, /readyz and /api/v1/status (-1 = off; 0 = any free port); "
                  "default 10251 in a cluster, off in the simulator")
      ->check(CLI::Range(-1, 65535));
  app->add_option("--admin-port", p.admin_port,
                  "gRPC port of the admin API (droverctl): -1 = off, 0 = any free port (logged); default 10252 in a "
                  "cluster and with --serve, off in a plain simulation")
      ->check(CLI::Range(-1, 65535));
  app->add_option("--admin-tokens", p.admin_tokens_path,
                  "bearer tokens of the admin API, one 'token,user,group1|group2' per line; who may write is "
                  "declared in the quota document's admins sections (queues/README.md)");
  app->add_option("--admin-tls-cert", p.admin_tls.cert, "serve the admin API over TLS with this certificate (PEM)");
  app->add_option("--admin-tls-key", p.admin_tls.key, "private key of --admin-tls-cert (PEM)");
  app->add_option("--admin-client-ca", p.admin_tls.client_ca,
                  "CA bundle (PEM) for admin API client certificates: a verified certificate's CN is the user and "
                  "each O a group (as Kubernetes); callers without one still use a bearer token");
  app->add_option("--admin-rate-limit", p.admin_rate.qps,
                  "admin API calls per second per principal, on average (0 = no limit); over it: RESOURCE_EXHAUSTED")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  app->add_option("--admin-rate-burst", p.admin_rate.burst, "admin API calls a principal may make at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app->add_flag("--admin-anonymous-read", p.admin_anonymous_read,
                "let callers without a token read (list, get, explain); writes always need a token");
  app->add_option("--state-dir", f->state_dir,
                  "RocksDB directory for configuration revisions, audit, usage history, timelines and timers "
                  "(created if missing; 'none' = in memory). Simulator default: build/state; cluster default: none, "
                  "in memory (see store/README.md)");
  app->add_option("--usage-interval", f->usage_interval,
                  "how often usage per queue and GPU type is sampled into the store (virtual time in the simulator)")
      ->capture_default_str();
  app->add_option("--log-level", f->log_level, "trace, debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app->add_option("--webhook-port", p.kube.webhook_port,
                  "HTTPS port of the admission webhook (/mutate, /validate; deploy/README.md): 0 = off, -1 = any "
                  "free port; default 9443 with --in-cluster, else off")
      ->check(CLI::Range(-1, 65535));
  app->add_option("--webhook-cert", p.kube.webhook_cert,
                  "webhook serving certificate (PEM; cert-manager's tls.crt), re-read when it changes; without it "
                  "droverd makes one, keeps it in a Secret and sets the webhook configurations' caBundle");
  app->add_option("--webhook-key", p.kube.webhook_key, "private key of --webhook-cert (PEM)");
  app->add_option("--webhook-service", f->webhook_service,
                  "NAMESPACE/NAME of the webhook's Service: the names on droverd's own certificate and where its "
                  "Secret (drover-webhook-tls) is kept")
      ->capture_default_str();
  app->add_option("--webhook-cert-check", f->webhook_cert_check,
                  "without --webhook-cert: how often droverd renews or adopts the Secret's certificate and sets the "
                  "webhook configurations' caBundle again where it differs (e.g. after kubectl apply -f deploy/); "
                  "0 = at start only")
      ->capture_default_str();
  app->add_flag("--version", f->version, "print the version and exit");
  AddSimulatorFlags(app, f);
  AddClusterFlags(app, f);
  p.http_port = -2;  // unset: the mode decides
  p.admin_port = -2;
  p.kube.webhook_port = -2;
}

// --webhook-port/-cert/-key/-service.
absl::Status FinishWebhookFlags(DroverdFlags* f) {
  KubeRunOptions& k = f->process.kube;
  if (k.webhook_port == -2) k.webhook_port = f->cluster && k.in_cluster ? 9443 : 0;
  if (k.webhook_cert.empty() != k.webhook_key.empty()) {
    return absl::InvalidArgumentError("--webhook-cert and --webhook-key go together: give both, or neither");
  }
  if (!f->cluster && k.webhook_port != 0) {
    return absl::InvalidArgumentError("--webhook-port needs a cluster (--kubeconfig or --in-cluster)");
  }
  const size_t slash = f->webhook_service.find('/');
  if (slash == std::string::npos) {
    return absl::InvalidArgumentError(StrCat("--webhook-service: ", Quoted(f->webhook_service), " is not NAMESPACE/NAME"));
  }
  k.webhook_certs.service_namespace = f->webhook_service.substr(0, slash);
  k.webhook_certs.service_name = f->webhook_service.substr(slash + 1);
  ASSIGN_OR_RETURN(int64_t check_ms, DurationFlag("--webhook-cert-check", f->webhook_cert_check, 0));
  if (check_ms > 0 && check_ms < 1000) {
    return absl::InvalidArgumentError(
        StrCat("--webhook-cert-check: ", Quoted(f->webhook_cert_check), " is under 1s (0 turns it off)"));
  }
  k.webhook_cert_check = absl::Milliseconds(check_ms);
  RETURN_IF_ERROR(CheckDnsSubdomain("--webhook-service namespace", k.webhook_certs.service_namespace));
  return CheckDnsSubdomain("--webhook-service name", k.webhook_certs.service_name);
}

absl::Status FinishDroverdFlags(DroverdFlags* f) {
  ProcessOptions& p = f->process;
  spdlog::set_level(spdlog::level::from_str(f->log_level));
  f->cluster = !p.kube.kubeconfig.empty() || p.kube.in_cluster;
  if (p.http_port == -2) p.http_port = f->cluster || f->serve ? 10251 : -1;
  if (p.admin_port == -2) p.admin_port = f->cluster || f->serve ? 10252 : -1;
  if (f->serve && f->cluster) return absl::InvalidArgumentError("--serve is for the simulated cluster; a cluster droverd serves anyway");
  if (f->serve && p.admin_tokens_path.empty() && p.admin_port >= 0) p.admin_tokens_path = ExamplePath("admin-tokens.csv");
  RETURN_IF_ERROR(CheckDnsSubdomain("--scheduler-name", p.engine.scheduler_name));
  ASSIGN_OR_RETURN(p.engine.preemption_delay_ms, DurationFlag("--preemption-delay", f->preemption_delay, 0));
  ASSIGN_OR_RETURN(int64_t poll_ms, DurationFlag("--config-poll", f->config_poll, 100));
  p.config_poll = absl::Milliseconds(poll_ms);
  ASSIGN_OR_RETURN(p.usage_interval_ms, DurationFlag("--usage-interval", f->usage_interval, 1000));
  ASSIGN_OR_RETURN(p.state_dir, StateDirFlag(f->state_dir, f->cluster));
  RETURN_IF_ERROR(FinishWebhookFlags(f));
  if (f->cluster) {
    RETURN_IF_ERROR(CheckDnsSubdomain("--lease-name", p.kube.lease_name));
    RETURN_IF_ERROR(CheckDnsSubdomain("--lease-namespace", p.kube.lease_namespace));
    ASSIGN_OR_RETURN(int64_t lease_ms, DurationFlag("--lease-duration", f->lease_duration, 1000));
    ASSIGN_OR_RETURN(int64_t renew_ms, DurationFlag("--lease-renew-deadline", f->lease_renew_deadline, 500));
    ASSIGN_OR_RETURN(int64_t retry_ms, DurationFlag("--lease-retry-period", f->lease_retry_period, 100));
    p.kube.lease_duration = absl::Milliseconds(lease_ms);
    p.kube.lease_renew_deadline = absl::Milliseconds(renew_ms);
    p.kube.lease_retry_period = absl::Milliseconds(retry_ms);
    const std::vector<std::pair<const char*, bool>> sim_only = {
        {"--cluster", !f->sim_input.cluster_path.empty()}, {"--workload", !f->sim_input.workload_path.empty()},
        {"--generate", !f->sim_input.generate.empty()},    {"--until", !f->until.empty()},
        {"--config-at", !f->config_at.empty()},            {"--report-json", !f->report_json.empty()},
        {"--serve-speed", !f->serve_speed.empty()}};
    ASSIGN_OR_RETURN(int64_t ttl_ms, DurationFlag("--admin-token-review-ttl", f->token_review_ttl, 0));
    if (ttl_ms > 3600 * 1000) {
      return absl::InvalidArgumentError(StrCat("--admin-token-review-ttl: ", Quoted(f->token_review_ttl),
                                               " is over 1h: a revoked token would stay valid that long"));
    }
    p.admin_token_review_ttl = absl::Milliseconds(ttl_ms);
    for (const auto& [flag, given] : sim_only) {
      if (given) return absl::InvalidArgumentError(StrCat(flag, " is for the simulated cluster; not with --kubeconfig/--in-cluster"));
    }
    return absl::OkStatus();
  }
  if (!p.queues_configmap.empty()) {
    return absl::InvalidArgumentError("--queues-configmap needs a cluster (--kubeconfig or --in-cluster)");
  }
  f->sim_input.scheduler_name = p.engine.scheduler_name;
  // Generated clusters get a single root queue unless a queue file is given: the
  // example tree is sized for the 36-node example cluster.
  if (p.queues_path.empty() && f->sim_input.generate.empty()) p.queues_path = ExamplePath("queues.yaml");
  if (!f->until.empty()) {
    ASSIGN_OR_RETURN(p.sim.until_ms, DurationFlag("--until", f->until, 0));
  }
  RETURN_IF_ERROR(ServeSpeedFlag(*f, &p.sim.speed));
  for (const std::string& at : f->config_at) {
    const size_t eq = at.find('=');
    if (eq == std::string::npos || eq + 1 == at.size()) {
      return absl::InvalidArgumentError(StrCat("--config-at: ", Quoted(at), " is not DURATION=PATH"));
    }
    ASSIGN_OR_RETURN(int64_t ms, DurationFlag("--config-at", at.substr(0, eq), 0));
    p.sim_configs.push_back(TimedConfig{ms, at.substr(eq + 1)});
  }
  return absl::OkStatus();
}

}  // namespace drover
