// droverd as one object: it owns every component of the daemon and starts and
// stops them in one stated order. The same object runs the embedded simulated
// cluster and a real one; droverd.cc is flag parsing plus this object.
//
//   Process p(options);
//   absl::Status s = p.RunCluster(stop);          // a real cluster, until `stop`
//   absl::StatusOr<SimRunResult> r = p.RunSimulated(input);   // the simulator, to the end
//
// Threads and ownership:
//   loop thread (the caller of Run*): the engine, the daemon step, the mailbox's
//     commands, building the published status. Nothing else touches the engine.
//   informer threads (k8s/): list/watch into the source's event queue.
//   actuator workers (k8s/): binds, evictions, status patches, events.
//   leader elector thread (k8s/): the Lease.
//   config thread (LiveConfig): polls the quota document, applies through the mailbox.
//   HTTP threads (HttpServer): probes, status, metrics and the page, reading the StatusBoard (and the store
//   for the page's timelines and usage).
//
// Cluster start order: API client, quota document (the ConfigMap or file),
// engine, HTTP server, informers, leader election, config polling, loop.
// Stop order: the loop ends; the actuator stops acting (queued binds dropped);
// informers; config polling; the mailbox closes; leader election releases the
// Lease (a successor never sees binds of ours still arriving); the HTTP server.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "placement/engine.h"
#include "server/admin_reads.h"
#include "server/admin_service.h"
#include "server/kube_options.h"
#include "server/live_config.h"
#include "server/loop.h"
#include "server/mailbox.h"
#include "server/sim_runner.h"
#include "server/status.h"
#include "server/store_health.h"
#include "server/store_recorder.h"
#include "store/store.h"

namespace drover {

class HttpServer;
class Metrics;

// A quota document that takes effect at a virtual time in the simulator.
struct TimedConfig {
  int64_t at_ms = 0;
  std::string path;
};

struct ProcessOptions {
  EngineOptions engine;
  std::string queues_path;       // "" = simulator: one root queue (DefaultQueueConfig); cluster: required
  std::string queues_configmap;  // cluster: "NS/NAME[:KEY]", polled and preferred over queues_path
  absl::Duration config_poll = absl::Seconds(5);
  int http_port = -1;            // -1 = no HTTP server; 0 = any free port
  LoopOptions loop;
  KubeRunOptions kube;           // cluster mode
  SimRunOptions sim;             // simulator mode
  std::vector<TimedConfig> sim_configs;  // simulator: documents applied at virtual times
  // The store's RocksDB directory (--state-dir); "" = in memory, nothing kept
  // past the process. A store that does not open leaves droverd scheduling with
  // an in-memory one, degraded on /readyz.
  std::string state_dir;
  int64_t usage_interval_ms = 60'000;  // usage sampling (loop clock: virtual in the simulator)
  // The admin API (gRPC): -1 = off, 0 = any free port (logged). Simulator: only with Serve.
  int admin_port = -1;
  std::string admin_tokens_path;  // --admin-tokens: token,user,group1|group2 lines
  bool admin_anonymous_read = false;
  AdminTlsFiles admin_tls;  // --admin-tls-cert/-key, --admin-client-ca
  RateLimitOptions admin_rate;  // --admin-rate-limit, --admin-rate-burst (per principal)
  // Cluster mode: tokens not in --admin-tokens are reviewed by Kubernetes TokenReview
  // (server/admin_authn.h), answers cached for admin_token_review_ttl.
  bool admin_token_review = true;
  absl::Duration admin_token_review_ttl = absl::Seconds(10);
  std::vector<std::string> admin_token_audiences;  // spec.audiences; empty: the API server's own
};

class Process : public AdminBackend {
 public:
  explicit Process(ProcessOptions options);
  ~Process() override;

  // Schedules a real cluster until `stop` turns true. Errors: bad kubeconfig,
  // no or invalid quota document, HTTP port taken.
  absl::Status RunCluster(const std::atomic<bool>& stop);
  // Runs the simulated cluster to its end (or options.sim.until_ms) and returns
  // the report. `initial` is the quota document in force at time 0 (see
  // LoadQueues), `input` the cluster and workload.
  absl::StatusOr<SimRunResult> RunSimulated(QueueConfig initial, SimInput input);

  // Simulator: starts the HTTP status (options.http_port, when >= 0) and the
  // admin API (options.admin_port, when >= 0) now, so that they answer while
  // RunSimulated runs (paced by options.sim.speed; admin writes are taken by its
  // loop) and then through Serve. `on_ready` (optional) gets the admin port (-1:
  // none) once it listens. Errors: a port taken. Does nothing if already started.
  absl::Status StartServing(std::function<void(int admin_port)> on_ready = nullptr);
  // After RunSimulated: keeps the engine at its end state and serves the HTTP
  // status and the admin API (started here unless StartServing did) until `stop`
  // turns true, running admin writes on this (the loop) thread. `on_ready`
  // (optional) gets the admin port once it listens. Errors: a port taken.
  absl::Status Serve(const std::atomic<bool>& stop, std::function<void(int admin_port)> on_ready = nullptr);

  // AdminBackend: read by the admin API's threads.
  std::shared_ptr<const ClusterStatus> CurrentStatus() const override { return board_.Get(); }
  Store* AdminStore() const override { return store_.get(); }
  absl::StatusOr<AdminApplied> ApplyAdmin(AdminWrite write) override;
  // In a cluster: FailedPrecondition naming the leader on a standby,
  // Unavailable while a new leader imports the mirrored revisions.
  absl::Status AcceptsWrites() const override;
  int64_t StoreTimeBaseMs() const override { return store_time_base_ms_.load(); }

  // The quota document named by the options (simulator: the built-in root queue
  // when none is named). Revision 1.
  absl::StatusOr<QueueConfig> LoadQueues();

  // Asks for the quota document to be re-read now (SIGHUP). Async-signal-safe.
  void RequestReload() { reload_requested_.store(true); }

  Mailbox& mailbox() { return mailbox_; }
  const StatusBoard& board() const { return board_; }
  // The engine, once a Run* has built it (for tests on the loop thread only).
  const Engine* engine() const { return engine_.get(); }
  // The store, once LoadQueues or RunCluster has opened it.
  Store* store() const { return store_.get(); }
  const StoreHealth& store_health() const { return store_health_; }
  // One line: where the store is and what this run wrote to it.
  std::string StoreSummary() const;

 private:
  absl::Status BuildEngine(QueueConfig config);
  // Opens the store named by state_dir once (never fails: see ProcessOptions::state_dir).
  void OpenStore();
  // The recorder on the engine: timers restored (when `restore_timers`), then observing the loop.
  StoreRecorder* StartRecorder(RecorderOptions options, StoreRecorder::StatusFn status, bool restore_timers);
  absl::StatusOr<std::vector<std::string>> ApplyThroughMailbox(QueueConfig config);
  // Loop thread, cluster mode: this replica now leads; imports the mirrored
  // revisions and puts the one that must be in force into the engine. False
  // (logged) when it cannot yet; the loop then does not act and tries again.
  bool TakeOverConfig();
  // Builds the admin API's and the page's authenticator once: --admin-tokens, then
  // `review` (null: none). Error: a token file that is missing or bad.
  absl::Status LoadAdminAuth(TokenReviewer review = nullptr);
  // The routes both modes serve on the HTTP port: store readiness, /api/v1/status,
  // /metrics (from `metrics`, which must outlive the server; the store's health is
  // added to it) and the page (page_routes.h).
  void AddHttpRoutes(HttpServer* http, Metrics* metrics);
  // The admin API on options.admin_port (null when off). Error: port taken.
  absl::StatusOr<std::unique_ptr<AdminServer>> StartAdmin();
  // Sets the configuration status the simulator's loop publishes (loop thread only).
  void NoteConfig(const ConfigStatus& status);
  // Applies due simulator documents (virtual time `now_ms`); returns the next due time or -1.
  int64_t ApplyTimedConfigs(int64_t now_ms, size_t* next);

  ProcessOptions options_;
  // The simulator's servers (StartServing, then Serve); stopped by Serve or the destructor.
  std::unique_ptr<Metrics> serve_metrics_;
  std::unique_ptr<HttpServer> serve_http_;
  std::unique_ptr<AdminServer> serve_admin_;
  StoreHealth store_health_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ConfigHistory> history_;
  std::unique_ptr<StoreRecorder> recorder_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<LiveConfig> live_;
  ConfigStatus static_config_;  // when there is no live source
  Mailbox mailbox_;
  StatusBoard board_;
  std::atomic<bool> reload_requested_{false};
  Mutex admin_mu_;  // one admin write at a time: compare-and-set, apply, record
  mutable Mutex write_gate_mu_;
  std::function<absl::Status()> write_gate_ ABSL_GUARDED_BY(write_gate_mu_);  // cluster: leader and imported?
  int64_t config_generation_ = 0;  // loop thread: documents the engine has taken (the webhook policy follows it)
  std::shared_ptr<Authenticator> admin_authn_;  // once loaded; null: no one authenticates
  AdminReads admin_reads_{this};
  std::atomic<int64_t> store_time_base_ms_{0};  // the recorder's time base (the simulator's wall-clock start)
};

}  // namespace drover
