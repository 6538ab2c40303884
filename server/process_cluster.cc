// Process: the cluster mode (informers, actuator, leader election).
#include <algorithm>
#include <unistd.h>

#include <memory>
#include <cstdlib>

#include "absl/cleanup/cleanup.h"
#include "core/strings.h"
#include "k8s/actuator.h"
#include "k8s/http_client.h"
#include "k8s/informer.h"
#include "k8s/kubeconfig.h"
#include "k8s/leader.h"
#include "k8s/token_review.h"
#include "k8s/wall_clock.h"
#include "server/configmap_source.h"
#include "server/droverd_flags.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/status_json.h"
#include "server/process.h"
#include "server/process_webhook.h"
#include "server/revision_mirror.h"
#include "spdlog/spdlog.h"

namespace drover {
namespace {

// $POD_NAME (the Deployment's downward API), else the host name: stable across a
// restart of the same replica, so it takes its own Lease back at once instead of
// waiting it out. Two droverd on one host must be given --identity each.
std::string DefaultIdentity() {
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') return pod;
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return host;
}

absl::StatusOr<std::unique_ptr<k8s::HttpClient>> MakeClient(const KubeRunOptions& o, const k8s::RestConfig& rest,
                                                            const std::string& identity) {
  k8s::HttpOptions http_opts;
  http_opts.qps = o.qps;
  http_opts.burst = o.burst;
  // A kept connection per sending thread: the bind workers, plus the status and
  // event workers, the Lease, evictions and informers' lists.
  http_opts.max_idle_handles = std::max(http_opts.max_idle_handles, o.bind_workers + 16);
  // Like client-go's "binary/version (os/arch) ...": the identity tells replicas
  // apart in the API server's audit log.
  http_opts.user_agent = StrCat("drover/0.1 (", identity, ")");
  return k8s::HttpClient::Create(rest, http_opts);
}

absl::StatusOr<std::unique_ptr<k8s::LeaderElector>> MakeElector(const KubeRunOptions& o, const k8s::RestConfig& rest,
                                                                const std::string& identity, k8s::HttpClient* http) {
  if (!o.leader_elect) return std::unique_ptr<k8s::LeaderElector>();
  k8s::LeaderOptions lo;
  lo.namespace_ = o.lease_namespace.empty() ? rest.namespace_ : o.lease_namespace;
  lo.name = o.lease_name;
  lo.identity = identity;
  lo.lease_duration = o.lease_duration;
  lo.renew_deadline = o.lease_renew_deadline;
  lo.retry_period = o.lease_retry_period;
  // The elector logs each change of leadership itself (once).
  if (!o.in_cluster) {
    spdlog::info(
        "leader election is on (Lease {}/{}) and droverd runs outside the cluster: if a droverd in the cluster "
        "holds the Lease, this one only stands by. To schedule from here alone, stop the other one and pass "
        "--leader-elect=false",
        lo.namespace_, lo.name);
  }
  if (absl::Status s = k8s::LeaderElector::Validate(lo); !s.ok()) return s;
  return std::make_unique<k8s::LeaderElector>(http, lo);
}

// Kubernetes TokenReview for admin tokens not in --admin-tokens (null when
// --admin-token-review=false), on a client of its own: its token bucket (20/s,
// burst 40) keeps reviews from taking the binds' budget, and a review is tried
// twice at most, within 5 s, as a caller is waiting.
absl::StatusOr<TokenReviewer> MakeTokenReviewer(const ProcessOptions& p, const k8s::RestConfig& rest,
                                                const std::string& identity) {
  if (!p.admin_token_review || p.admin_port < 0) return TokenReviewer();
  k8s::HttpOptions http_opts;
  http_opts.qps = 20;
  http_opts.burst = 40;
  http_opts.max_attempts = 2;
  http_opts.request_timeout = absl::Seconds(5);
  http_opts.max_idle_handles = 8;
  http_opts.user_agent = StrCat("drover/0.1 (", identity, "; tokenreview)");
  absl::StatusOr<std::unique_ptr<k8s::HttpClient>> created = k8s::HttpClient::Create(rest, http_opts);
  if (!created.ok()) return created.status();
  std::shared_ptr<k8s::HttpClient> http = *std::move(created);
  return TokenReviewer([http, audiences = p.admin_token_audiences](std::string_view token) {
    return k8s::ReviewToken(http.get(), token, audiences);
  });
}

}  // namespace

// GET /api/v1/status[?nodes=true][&limit=N][&queue=PATH]
HttpResponse StatusResponse(const ClusterStatus& status, const HttpRequest& req) {
  StatusJsonOptions o;
  o.nodes = req.Param("nodes") == "true";
  o.pending_queue = req.Param("queue");
  const std::string limit = req.Param("limit", "100");
  char* end = nullptr;
  const long long n = std::strtoll(limit.c_str(), &end, 10);
  if (limit.empty() || *end != '\0' || n < 0 || n > 100000) {
    return HttpResponse{400, StrCat("limit: \"", limit.substr(0, 40), "\" is not a number in 0..100000\n"), "text/plain"};
  }
  o.pending_limit = static_cast<size_t>(n);
  return HttpResponse{200, FormatStatusJson(status, o), "application/json"};
}


absl::Status Process::RunCluster(const std::atomic<bool>& stop) {
  const KubeRunOptions& o = options_.kube;
  absl::StatusOr<k8s::RestConfig> rest =
      o.in_cluster ? k8s::LoadInClusterConfig() : k8s::LoadRestConfig(o.kubeconfig, o.context);
  if (!rest.ok()) return rest.status();
  const std::string identity = o.identity.empty() ? DefaultIdentity() : o.identity;
  absl::StatusOr<std::unique_ptr<k8s::HttpClient>> http = MakeClient(o, *rest, identity);
  if (!http.ok()) return http.status();

  // The quota document: the ConfigMap when named (the file is the fallback at
  // start), else the file. A cluster is never scheduled under a guessed tree.
  OpenStore();
  // Revisions are mirrored as ControllerRevisions in droverd's namespace (the Lease's), and
  // recorded only by the leader once it has imported them (TakeOverConfig).
  MirrorOptions mirror_options;
  mirror_options.namespace_ = o.lease_namespace.empty() ? rest->namespace_ : o.lease_namespace;
  mirror_options.name_prefix = o.lease_name;
  KubeRevisionMirror mirror(http->get(), mirror_options);
  history_->SetMirror(&mirror);
  absl::Cleanup forget_mirror = [this] {  // on every return: the mirror and the elector go with this frame
    {
      MutexLock lock(&write_gate_mu_);
      write_gate_ = nullptr;
    }
    history_->SetMirror(nullptr);
  };
  auto apply = [this](QueueConfig c) { return ApplyThroughMailbox(std::move(c)); };
  absl::StatusOr<QueueConfig> config = absl::FailedPreconditionError(
      "no quota document: pass --queues FILE or --queues-configmap NAMESPACE/NAME (see deploy/)");
  if (!options_.queues_configmap.empty()) {
    absl::StatusOr<ConfigMapRef> ref = ParseConfigMapRef("--queues-configmap", options_.queues_configmap);
    if (!ref.ok()) return ref.status();
    live_ = std::make_unique<LiveConfig>(std::make_unique<ConfigMapConfigSource>(http->get(), *ref), apply,
                                         history_.get());
    config = live_->LoadInitial();
    if (!config.ok() && !options_.queues_path.empty()) {
      spdlog::warn("configuration: {}; starting from {} instead", std::string(config.status().message()),
                   options_.queues_path);
      live_ = std::make_unique<LiveConfig>(std::make_unique<FileConfigSource>(options_.queues_path), apply,
                                           history_.get());
      config = live_->LoadInitial();
    }
  } else if (!options_.queues_path.empty()) {
    live_ = std::make_unique<LiveConfig>(std::make_unique<FileConfigSource>(options_.queues_path), apply,
                                         history_.get());
    config = live_->LoadInitial();
  }
  if (!config.ok()) return config.status();
  if (absl::Status s = BuildEngine(*std::move(config)); !s.ok()) return s;
  // Timers from before a restart, so a pod keeps the preemption delay it waited
  // and its preemption count; usage is sampled from the published status.
  RecorderOptions recorder_options;
  recorder_options.write_usage_async = true;
  StoreRecorder* recorder = StartRecorder(
      recorder_options, [this](const Engine&, int64_t) { return board_.Get(); }, /*restore_timers=*/true);

  absl::StatusOr<std::unique_ptr<k8s::LeaderElector>> elector = MakeElector(o, *rest, identity, http->get());
  if (!elector.ok()) return elector.status();
  k8s::WallClock clock;
  k8s::KubeClusterSource source(http->get(), engine_->catalog().product_labels());
  k8s::ActuatorOptions act_opts;
  act_opts.bind_workers = o.bind_workers;
  // Binds queued while we led are dropped once we do not: another replica may
  // already be placing pods on the same capacity.
  if (*elector) act_opts.may_act = [e = elector->get()] { return e->IsLeader(); };
  k8s::KubeActuator actuator(http->get(), &clock, act_opts);

  Metrics metrics(&board_);  // before the server, which serves it: destroyed after it
  metrics.AddCollector(KubeClientCollector(http->get(), &source));
  absl::StatusOr<TokenReviewer> review = MakeTokenReviewer(options_, *rest, identity);
  if (!review.ok()) return review.status();
  if (absl::Status s = LoadAdminAuth(*review); !s.ok()) {
    // deploy/ mounts the tokens from an optional Secret: without it, run without the file rather than crash-loop.
    if (!(o.in_cluster && absl::IsNotFound(s))) return s;
    spdlog::warn("{}: until the file exists (deploy/README.md: Secret drover-admin-tokens; then restart droverd), the "
                 "admin API and the page's data accept {}", std::string(s.message()),
                 *review ? "only tokens Kubernetes TokenReview authenticates" : "no token");
    options_.admin_tokens_path.clear();
    if (absl::Status again = LoadAdminAuth(*review); !again.ok()) return again;
  }
  std::unique_ptr<HttpServer> server;
  if (options_.http_port >= 0) {
    server = std::make_unique<HttpServer>(HttpOptions{"0.0.0.0", options_.http_port});
    server->AddReadyCheck("informer-sync", [&source] {
      return source.Synced() ? CheckResult{true, ""} : CheckResult{false, "not synced yet"};
    });
    server->AddReadyCheck("watches", [&source] {
      return source.Healthy() ? CheckResult{true, ""}
                              : CheckResult{false, "a watch made no progress within its bound; re-listing"};
    });
    if (*elector) {
      // A standby is ready: it serves probes and keeps its snapshot warm.
      server->AddReadyCheck("leader", [e = elector->get()] { return CheckResult{true, e->IsLeader() ? "leading" : "standby"}; });
    }
    AddHttpRoutes(server.get(), &metrics);
    absl::StatusOr<int> port = server->Start();
    if (!port.ok()) return port.status();
    spdlog::info("http: the page at http://localhost:{}/ (its data under /api/v1/admin/), /metrics, /api/v1/status, "
                 "/healthz and /readyz", *port);
  }
  {
    MutexLock lock(&write_gate_mu_);
    write_gate_ = [this, e = elector->get(), identity, lease = StrCat(mirror_options.namespace_, "/", o.lease_name)] {
      if (e != nullptr && !e->IsLeader()) {
        const std::string leader = e->ObservedLeader();
        return absl::FailedPreconditionError(StrCat(
            "this replica (\"", identity, "\") is a standby; send writes to the leader",
            leader.empty() ? StrCat(" (none holds Lease ", lease, " now; try again in a few seconds)")
                           : StrCat(", \"", leader, "\" (the holder of Lease ", lease, ")")));
      }
      if (!history_->leading()) {
        return absl::UnavailableError("this replica has just become leader and is importing the mirrored "
                                      "configuration revisions; try again in a few seconds");
      }
      return absl::OkStatus();
    };
  }
  absl::StatusOr<std::unique_ptr<AdminServer>> admin = StartAdmin();
  if (!admin.ok()) return admin.status();
  WebhookPolicy webhook_policy;  // before the server, which reads it: destroyed after it
  absl::StatusOr<WebhookRuntime> webhook = StartWebhook(o, http->get(), &webhook_policy);
  if (!webhook.ok()) return webhook.status();
  absl::Time webhook_refreshed = absl::InfinitePast();

  source.Start();
  if (*elector) (*elector)->Start();
  if (live_) live_->Start(options_.config_poll);
  spdlog::info("droverd {}: watching {} as scheduler \"{}\", identity \"{}\"{}", kDroverVersion, rest->server,
               engine_->options().scheduler_name, identity,
               *elector ? "" : "; leader election is off: make sure no other droverd schedules this cluster");
  auto inputs = [&] {
    const bool leader = *elector == nullptr || (*elector)->IsLeader();
    return StatusInputs{source.Synced(), leader, live_ ? live_->status() : static_config_, {}};
  };
  LoopOptions loop_options = options_.loop;
  loop_options.log_decisions = true;
  loop_options.observer = recorder;
  SchedulingLoop loop(engine_.get(), &source, &actuator, &clock, &mailbox_, &board_, inputs, loop_options);
  loop.AddObserver([&metrics](const Daemon::CycleRecord& c) { metrics.ObserveCycle(c); });
  bool was_synced = false;
  absl::Time next_takeover = absl::InfinitePast();
  while (!stop.load()) {
    source.WaitForEvents(absl::Milliseconds(100));
    if (reload_requested_.exchange(false) && live_) live_->RequestCheck();
    // Only the leader acts, and only once it has imported the mirrored revisions; a standby keeps
    // its snapshot warm.
    const bool leader = *elector == nullptr || (*elector)->IsLeader();
    if (!leader && history_->leading()) history_->StepDown();
    if (leader && !history_->leading() && absl::Now() >= next_takeover && !TakeOverConfig()) {
      next_takeover = absl::Now() + absl::Seconds(1);
    }
    // Synced before the step's drain: then the step took in the whole initial state.
    const bool synced = source.Synced();
    const StepResult r = loop.Iterate(/*act=*/leader && history_->leading());
    if (!was_synced && synced) {
      was_synced = true;
      spdlog::info("informers synced: {} nodes, {} pods", engine_->snapshot().live_nodes(),
                   engine_->snapshot().live_pods());
    }
    // The webhook judges by the document in force and the nodes' shapes, once synced.
    if (webhook->server && synced && absl::Now() - webhook_refreshed > absl::Seconds(1)) {
      webhook_refreshed = absl::Now();
      if (webhook_policy.Refresh(*engine_, config_generation_)) {
        spdlog::info("webhook: policy of configuration revision {}", board_.Get()->config.revision);
      }
    }
    if (r.binds > 0 || r.evictions > 0) {
      spdlog::debug("cycle: {} binds, {} evictions, {} pending updates", r.binds, r.evictions, r.pending_updates);
    }
  }
  spdlog::info("droverd: stopping");
  // Stop acting before the Lease is released: a successor must never see binds
  // of ours still arriving.
  actuator.Stop();
  source.Stop();
  if (live_) live_->Stop();
  mailbox_.Close();
  webhook->Stop();
  if (*admin) (*admin)->Stop();  // after the mailbox: admin writes still waiting are told first
  if (*elector) (*elector)->Stop();
  if (server) server->Stop();
  return absl::OkStatus();
}

bool Process::TakeOverConfig() {
  const SourceDocument source = live_ ? live_->source_document() : SourceDocument{};
  absl::StatusOr<Revision> in_force = history_->TakeOver(source, absl::ToUnixMillis(absl::Now()));
  if (!in_force.ok()) {
    spdlog::warn("configuration: leading, but not acting until the mirrored revisions are imported: {}; retrying",
                 std::string(in_force.status().message()));
    return false;
  }
  const ConfigStatus current = live_ ? live_->status() : static_config_;
  if (in_force->sha256() != current.hash) {
    absl::StatusOr<QueueConfig> config = ParseQueueConfig(in_force->document(), StrCat("revision ", in_force->revision()));
    if (!config.ok()) {
      spdlog::error("configuration: revision {} (the newest mirrored one) does not validate here; the document in "
                    "force stays: {}", in_force->revision(), std::string(config.status().message()));
      return true;
    }
    ++config_generation_;
    for (const std::string& n : engine_->ApplyConfig(*std::move(config))) {
      spdlog::warn("configuration: revision {}: {}", in_force->revision(), n);
    }
  }
  const std::string from = StrCat(store::v1::RevisionSource_Name(in_force->source()), " by ", in_force->author());
  if (live_) live_->NoteRevision(in_force->revision(), in_force->sha256(), from);
  spdlog::info("configuration: leading with revision {} ({}, sha256 {})", in_force->revision(), from,
               in_force->sha256().substr(0, 12));
  return true;
}

}  // namespace drover
