#include "server/kube_runner.h"

#include <unistd.h>

#include <memory>
#include <random>

#include "core/strings.h"
#include "k8s/actuator.h"
#include "k8s/health.h"
#include "k8s/http_client.h"
#include "k8s/informer.h"
#include "k8s/kubeconfig.h"
#include "k8s/leader.h"
#include "k8s/wall_clock.h"
#include "server/daemon.h"
#include "spdlog/spdlog.h"

namespace drover {
namespace {

std::string DefaultIdentity() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  std::random_device rd;
  return StrCat(host, "_", absl::Hex(rd(), absl::kZeroPad8));
}

}  // namespace

absl::Status RunKubernetes(Engine* engine, const KubeRunOptions& o, const std::atomic<bool>& stop) {
  absl::StatusOr<k8s::RestConfig> rest =
      o.in_cluster ? k8s::LoadInClusterConfig() : k8s::LoadRestConfig(o.kubeconfig, o.context);
  if (!rest.ok()) return rest.status();
  const std::string identity = o.identity.empty() ? DefaultIdentity() : o.identity;
  k8s::HttpOptions http_opts;
  http_opts.qps = o.qps;
  http_opts.burst = o.burst;
  // Like client-go's "binary/version (os/arch) ...": the identity tells replicas
  // apart in the API server's audit log.
  http_opts.user_agent = StrCat("drover/0.1 (", identity, ")");
  absl::StatusOr<std::unique_ptr<k8s::HttpClient>> http = k8s::HttpClient::Create(*rest, http_opts);
  if (!http.ok()) return http.status();

  k8s::WallClock clock;
  k8s::KubeClusterSource source(http->get(), engine->catalog().product_labels());
  std::unique_ptr<k8s::LeaderElector> elector;
  if (o.leader_elect) {
    k8s::LeaderOptions lo;
    lo.namespace_ = o.lease_namespace.empty() ? rest->namespace_ : o.lease_namespace;
    lo.name = o.lease_name;
    lo.identity = identity;
    lo.on_started_leading = [id = lo.identity] { spdlog::info("leader election: {} is now the leader", id); };
    lo.on_stopped_leading = [id = lo.identity] { spdlog::warn("leader election: {} stopped leading", id); };
    if (absl::Status s = k8s::LeaderElector::Validate(lo); !s.ok()) return s;
    elector = std::make_unique<k8s::LeaderElector>(http->get(), lo);
  }
  k8s::ActuatorOptions act_opts;
  act_opts.bind_workers = o.bind_workers;
  // Binds queued while we led are dropped once we do not: another replica may
  // already be placing pods on the same capacity.
  if (elector) act_opts.may_act = [e = elector.get()] { return e->IsLeader(); };
  k8s::KubeActuator actuator(http->get(), &clock, act_opts);
  std::unique_ptr<k8s::HealthServer> health;
  if (o.health_port >= 0) {
    k8s::HealthChecks checks;
    checks.synced = [&source] { return source.Synced(); };
    if (elector) checks.leader = [&elector] { return elector->IsLeader(); };
    health = std::make_unique<k8s::HealthServer>(k8s::HealthOptions{"0.0.0.0", o.health_port, false}, checks);
    absl::StatusOr<int> port = health->Start();
    if (!port.ok()) return port.status();
    spdlog::info("health: /healthz and /readyz on port {}", *port);
  }

  source.Start();
  if (elector) elector->Start();
  spdlog::info("droverd: watching {} as scheduler \"{}\"", rest->server, engine->options().scheduler_name);
  Daemon daemon(engine, &source, &actuator, &clock);
  bool was_synced = false;
  while (!stop.load()) {
    source.WaitForEvents(absl::Milliseconds(100));
    // Only the leader acts; a standby keeps its snapshot warm.
    const bool leader = elector == nullptr || elector->IsLeader();
    // Synced before the step's drain: then the step took in the whole initial state.
    const bool synced = source.Synced();
    const StepResult r = daemon.Step(/*act=*/leader);
    if (!was_synced && synced) {
      was_synced = true;
      spdlog::info("informers synced: {} nodes, {} pods", engine->snapshot().live_nodes(), engine->snapshot().live_pods());
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
  if (elector) elector->Stop();
  if (health) health->Stop();
  return absl::OkStatus();
}

}  // namespace drover
