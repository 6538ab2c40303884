// Process: the parts shared by both modes, and the simulated cluster.
#include "server/process.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

#include "core/status_macros.h"
#include "core/strings.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/page_routes.h"
#include "server/status_json.h"
#include "spdlog/spdlog.h"
#include "store/memory_store.h"
#include "store/rocks_store.h"

namespace drover {

// GET /api/v1/status (process_cluster.cc).
HttpResponse StatusResponse(const ClusterStatus& status, const HttpRequest& req);

namespace {

// How long a configuration apply may wait for the loop before it is reported
// as not applied (the loop runs commands between cycles; a cycle is short).
constexpr auto kApplyWait = std::chrono::seconds(60);

}  // namespace

Process::Process(ProcessOptions options) : options_(std::move(options)) {}

Process::~Process() {
  if (live_) live_->Stop();
  mailbox_.Close();
  if (serve_admin_) serve_admin_->Stop();
  serve_http_.reset();
}

absl::Status Process::LoadAdminAuth(TokenReviewer review) {
  if (admin_authn_) return absl::OkStatus();
  AuthenticatorOptions a;
  if (!options_.admin_tokens_path.empty()) {
    ASSIGN_OR_RETURN(TokenFile tokens, TokenFile::Load(options_.admin_tokens_path));
    a.tokens = std::make_shared<const TokenFile>(std::move(tokens));
  }
  a.review = std::move(review);
  a.success_ttl = a.failure_ttl = options_.admin_token_review_ttl;
  if (a.tokens || a.review) admin_authn_ = std::make_shared<Authenticator>(std::move(a));
  return absl::OkStatus();
}

void Process::AddHttpRoutes(HttpServer* http, Metrics* metrics) {
  metrics->AddCollector(StoreHealthCollector(&store_health_));
  // Not fatal: scheduling goes on without the store; /readyz says it is degraded.
  http->AddReadyCheck("store", [this] { return store_health_.Check(); });
  http->Get("/api/v1/status", [this](const HttpRequest& req) { return StatusResponse(*board_.Get(), req); });
  http->Get("/metrics", [metrics](const HttpRequest&) { return HttpResponse{200, metrics->Render(), kMetricsContentType}; });
  AddPageRoutes(http, &admin_reads_, PageAccess{admin_authn_, options_.admin_anonymous_read});
}

absl::StatusOr<std::unique_ptr<AdminServer>> Process::StartAdmin() {
  if (options_.admin_port < 0) return std::unique_ptr<AdminServer>();
  RETURN_IF_ERROR(LoadAdminAuth());
  AdminOptions o;
  o.port = options_.admin_port;
  o.anonymous_read = options_.admin_anonymous_read;
  o.authn = admin_authn_;
  o.tls = options_.admin_tls;
  o.rate = options_.admin_rate;
  auto server = std::make_unique<AdminServer>(this, o);
  ASSIGN_OR_RETURN(int port, server->Start());
  spdlog::info("admin API: gRPC drover.admin.v1 (with grpc.health.v1 and reflection){} on port {}; {}{}",
               o.tls.cert.empty() ? "" : o.tls.client_ca.empty() ? " over TLS" : " over TLS with client certificates", port,
               o.authn ? o.authn->Describe(options_.admin_tokens_path)
                       : std::string("no --admin-tokens: no one can authenticate"),
               o.anonymous_read ? "; anonymous reads allowed" : "");
  options_.admin_port = port;
  return server;
}

void Process::NoteConfig(const ConfigStatus& status) { static_config_ = status; }

absl::Status Process::AcceptsWrites() const {
  MutexLock lock(&write_gate_mu_);
  return write_gate_ ? write_gate_() : absl::OkStatus();
}

absl::StatusOr<AdminApplied> Process::ApplyAdmin(AdminWrite w) {
  MutexLock one_at_a_time(&admin_mu_);
  RETURN_IF_ERROR(AcceptsWrites());
  const int64_t active = history_ ? history_->active() : 0;
  if (active != w.expected_revision) {
    return absl::AbortedError(StrCat("expected_revision ", w.expected_revision, " is not the active revision ", active,
                                     ": another change got there first; diff against revision ", active,
                                     " and apply again"));
  }
  // Recorded first (in a cluster: mirrored, then stored), then put in force: an
  // apply is acknowledged only once both hold, and one that is not recorded is
  // never in force.
  const int64_t now = absl::ToUnixMillis(absl::Now());
  absl::StatusOr<int64_t> recorded = history_->RecordAdmin(w.text, w.author, w.comment, w.rolled_back_from, now);
  if (!recorded.ok()) {
    return absl::UnavailableError(StrCat("the configuration was not applied: ", recorded.status().message()));
  }
  const int64_t revision = *recorded;
  absl::StatusOr<std::vector<std::string>> notes = ApplyThroughMailbox(std::move(w.config));
  if (!notes.ok()) {
    return absl::Status(notes.status().code(),
                        StrCat("revision ", revision, " is recorded but not yet in force here: ", notes.status().message()));
  }
  const ConfigStatus status{revision, ContentHash(w.text),
                            w.rolled_back_from > 0 ? StrCat("rollback to ", w.rolled_back_from, " by ", w.author)
                                                   : StrCat("admin-api ", w.author),
                            now, ""};
  // The cluster's loop publishes live_'s status, the simulator's static_config_ (the loop thread's).
  if (live_) live_->NoteRevision(status.revision, status.hash, status.source);
  (void)mailbox_.Post([this, status](Engine&) { NoteConfig(status); });
  spdlog::info("configuration: applied revision {} from the admin API (author \"{}\")", revision, w.author);
  for (const std::string& n : *notes) spdlog::warn("configuration: revision {}: {}", revision, n);
  return AdminApplied{revision, *std::move(notes)};
}

absl::Status Process::StartServing(std::function<void(int)> on_ready) {
  if (serve_metrics_) return absl::OkStatus();
  serve_metrics_ = std::make_unique<Metrics>(&board_);
  if (options_.http_port >= 0) {
    RETURN_IF_ERROR(LoadAdminAuth());
    serve_http_ = std::make_unique<HttpServer>(HttpOptions{"0.0.0.0", options_.http_port});
    AddHttpRoutes(serve_http_.get(), serve_metrics_.get());
    ASSIGN_OR_RETURN(int port, serve_http_->Start());
    spdlog::info("http: the page at http://localhost:{}/ (its data under /api/v1/admin/), /metrics, /api/v1/status, "
                 "/healthz and /readyz", port);
  }
  ASSIGN_OR_RETURN(serve_admin_, StartAdmin());
  if (on_ready) on_ready(serve_admin_ ? options_.admin_port : -1);
  return absl::OkStatus();
}

absl::Status Process::Serve(const std::atomic<bool>& stop, std::function<void(int)> on_ready) {
  if (!engine_) return absl::FailedPreconditionError("Serve: no engine (RunSimulated first)");
  RETURN_IF_ERROR(StartServing(std::move(on_ready)));
  const std::shared_ptr<const ClusterStatus> last = board_.Get();
  const int64_t now_ms = last->now_ms;
  const CycleStatus cycle = last->cycle;
  spdlog::info("serving the simulated cluster's end state (virtual time {} ms) until SIGTERM", now_ms);
  while (!stop.load()) {
    if (mailbox_.RunPending(*engine_) > 0) {
      board_.Publish(BuildStatus(*engine_, now_ms, StatusInputs{true, true, static_config_, cycle},
                                 BuildPendingSection(*engine_, now_ms), BuildRunningSection(*engine_, now_ms)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  spdlog::info("droverd: stopping");
  mailbox_.Close();  // admin writes still waiting are told, so the server's Stop does not wait for them
  if (serve_admin_) serve_admin_->Stop();
  if (serve_http_) serve_http_->Stop();
  return absl::OkStatus();
}

void Process::OpenStore() {
  if (store_) return;
  if (options_.state_dir.empty()) {
    spdlog::info("store: in memory (no --state-dir): revisions, audit, usage and timelines last as long as this process");
    store_health_.set_where("in memory (no --state-dir)");
    store_ = std::make_unique<MemoryStore>();
  } else if (absl::StatusOr<std::unique_ptr<RocksStore>> rocks = RocksStore::Open(options_.state_dir); rocks.ok()) {
    const StoreStats st = (*rocks)->Stats();
    spdlog::info("store: {} ({} revisions, {} audit records, about {} usage points, {} timeline events{})",
                 options_.state_dir, st.revisions, st.audit_records, st.usage_points, st.timeline_events,
                 st.decode_errors > 0 ? StrCat("; ", st.decode_errors, " records skipped: they did not decode") : "");
    store_health_.set_where(options_.state_dir);
    store_ = *std::move(rocks);
  } else {
    spdlog::error("store: {}; scheduling goes on with an in-memory store (nothing is kept past this process)",
                  std::string(rocks.status().message()));
    store_health_.SetUnavailable(rocks.status());
    store_ = std::make_unique<MemoryStore>();
  }
  history_ = std::make_unique<ConfigHistory>(store_.get(), &store_health_);
}

StoreRecorder* Process::StartRecorder(RecorderOptions options, StoreRecorder::StatusFn status, bool restore_timers) {
  OpenStore();
  options.usage_interval_ms = options_.usage_interval_ms;
  options.forget_timers_after_ms = options_.engine.forget_preempted_after_ms;
  recorder_ = std::make_unique<StoreRecorder>(store_.get(), &store_health_, options, std::move(status));
  if (restore_timers) {
    absl::flat_hash_map<std::string, PodTimers> timers = recorder_->LoadTimers();
    if (!timers.empty()) spdlog::info("store: restored the timers of {} pods (waiting since, preemptions)", timers.size());
    engine_->RestoreTimers(std::move(timers));
  }
  return recorder_.get();
}

std::string Process::StoreSummary() const {
  if (!store_) return "";
  const StoreStats st = store_->Stats();
  std::string out = StrCat(st.path.empty() ? "in memory" : st.path, ": ", st.revisions, " configuration revisions (active ",
                           history_ ? history_->active() : 0, "), ", st.audit_records, " audit records, ");
  if (recorder_) {
    const RecorderCounts& c = recorder_->counts();
    StrAppend(&out, "this run wrote ", c.usage_samples, " usage samples in ", c.usage_passes, " passes, ",
              c.timeline_events, " timeline events, ", c.audit, " preemption audits, ", c.timers_written, " timers; ");
  }
  StrAppend(&out, "held: ", st.timeline_events, " timeline events, ", st.usage_points, " usage points (estimate), ", st.timers,
            " timers");
  if (st.decode_errors > 0) StrAppend(&out, "; ", st.decode_errors, " undecodable records skipped");
  if (store_health_.degraded()) StrAppend(&out, "; DEGRADED: ", store_health_.Check().detail);
  return out;
}

absl::StatusOr<QueueConfig> Process::LoadQueues() {
  OpenStore();
  if (options_.queues_path.empty()) {
    static_config_ = ConfigStatus{1, "", "built-in (one root queue)", absl::ToUnixMillis(absl::Now()), ""};
    return DefaultQueueConfig();
  }
  live_ = std::make_unique<LiveConfig>(std::make_unique<FileConfigSource>(options_.queues_path),
                                       [this](QueueConfig c) { return ApplyThroughMailbox(std::move(c)); },
                                       history_.get());
  return live_->LoadInitial();
}

absl::Status Process::BuildEngine(QueueConfig config) {
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(std::move(config), options_.engine);
  if (!engine.ok()) return engine.status();
  engine_ = *std::move(engine);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Process::ApplyThroughMailbox(QueueConfig config) {
  auto shared = std::make_shared<QueueConfig>(std::move(config));
  std::future<absl::StatusOr<std::vector<std::string>>> f = mailbox_.Call<std::vector<std::string>>(
      [this, shared](Engine& e) -> absl::StatusOr<std::vector<std::string>> {
        ++config_generation_;
        return e.ApplyConfig(std::move(*shared));
      });
  if (f.wait_for(kApplyWait) != std::future_status::ready) {
    return absl::DeadlineExceededError("the scheduling loop did not take the document within 60 s");
  }
  try {
    return f.get();
  } catch (const std::future_error&) {
    return absl::UnavailableError("the scheduling loop stopped before applying the document");
  }
}

int64_t Process::ApplyTimedConfigs(int64_t now_ms, size_t* next) {
  const std::vector<TimedConfig>& timed = options_.sim_configs;
  while (*next < timed.size() && timed[*next].at_ms <= now_ms) {
    const TimedConfig& t = timed[(*next)++];
    FileConfigSource source(t.path);
    absl::StatusOr<std::string> text = source.Read();
    absl::StatusOr<QueueConfig> config = text.ok() ? ParseQueueConfig(*text, source.Name()) : text.status();
    const int64_t wall_ms = absl::ToUnixMillis(absl::Now());
    if (!config.ok()) {
      if (text.ok()) history_->RecordRefused(*text, source.Author(), std::string(config.status().message()), wall_ms);
      static_config_.last_error = std::string(config.status().message());
      spdlog::error("configuration at {} ms: refused {}; revision {} stays:\n{}", now_ms, t.path,
                    static_config_.revision, static_config_.last_error);
      continue;
    }
    for (const std::string& note : engine_->ApplyConfig(*std::move(config))) {
      spdlog::warn("configuration at {} ms: {}", now_ms, note);
    }
    // No mirror in the simulator: recording always numbers the revision (a store failure is noted, not fatal).
    static_config_.revision = history_->RecordApplied(*text, source.Author(), source.Kind(), wall_ms).value_or(0);
    static_config_.hash = ContentHash(*text);
    static_config_.source = "file " + t.path;
    static_config_.last_error.clear();
    spdlog::info("configuration at {} ms: applied revision {} from {}", now_ms, static_config_.revision, t.path);
  }
  return *next < timed.size() ? timed[*next].at_ms : -1;
}

absl::StatusOr<SimRunResult> Process::RunSimulated(QueueConfig initial, SimInput input) {
  if (absl::Status s = BuildEngine(std::move(initial)); !s.ok()) return s;
  if (live_) static_config_ = live_->status();
  std::sort(options_.sim_configs.begin(), options_.sim_configs.end(),
            [](const TimedConfig& a, const TimedConfig& b) { return a.at_ms < b.at_ms; });
  SimCluster sim(std::move(input));
  SimRunOptions run = options_.sim;
  size_t next_config = 0;
  if (!options_.sim_configs.empty()) {
    run.on_time = [this, &next_config](Engine*, int64_t now) { return ApplyTimedConfigs(now, &next_config); };
  }
  run.mailbox = &mailbox_;
  run.board = &board_;
  run.inputs = [this] { return StatusInputs{true, true, static_config_, {}}; };
  // Usage is sampled from a status built at the virtual time (the board's is paced by wall time).
  // Record times are the run's wall-clock start plus virtual time; timers are not restored: a
  // simulation starts its virtual clock, and its pods, afresh.
  RecorderOptions recorder;
  recorder.time_base_ms = absl::ToUnixMillis(absl::Now());
  store_time_base_ms_.store(recorder.time_base_ms);
  run.observer = StartRecorder(recorder, [this](const Engine& e, int64_t now) {
    return std::shared_ptr<const ClusterStatus>(
        BuildStatus(e, now, StatusInputs{true, true, static_config_, {}, /*nodes=*/false}, BuildDemandSection(e, now)));
  }, /*restore_timers=*/false);
  SimRunResult result = RunSimulation(engine_.get(), &sim, run);
  result.report.stored = StoreSummary();
  return result;
}

}  // namespace drover
