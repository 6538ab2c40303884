#include "server/store_recorder.h"

#include "core/strings.h"
#include "spdlog/spdlog.h"

namespace drover {
namespace {

using Kind = store::v1::TimelineEventKind;

bool IsGpuDimension(const std::string& resource) { return resource != "cpu" && resource != "memory"; }

std::string WorkloadKey(const Pod& pod) {
  return pod.intent.gang.empty() ? pod.Key() : StrCat(pod.namespace_, "/", pod.intent.gang);
}

}  // namespace

StoreRecorder::StoreRecorder(Store* store, StoreHealth* health, RecorderOptions options, StatusFn status)
    : store_(store), health_(health), options_(options), status_(std::move(status)) {
  if (options_.write_usage_async) usage_writer_ = std::thread([this] { UsageWriterLoop(); });
}

StoreRecorder::~StoreRecorder() {
  {
    MutexLock lock(&usage_mu_);
    usage_stop_ = true;
  }
  usage_cv_.SignalAll();
  if (usage_writer_.joinable()) usage_writer_.join();
}

void StoreRecorder::WriteUsage(std::vector<UsageSample> samples) {
  if (!options_.write_usage_async) {
    (void)health_->Write("usage", [&] { return store_->RecordUsage(samples); });
    return;
  }
  {
    MutexLock lock(&usage_mu_);
    if (usage_queued_.has_value()) {
      ++usage_dropped_;
      spdlog::warn("store: a usage pass was dropped: the previous one is still being written ({} so far)",
                   usage_dropped_);
    }
    usage_queued_ = std::move(samples);
  }
  usage_cv_.Signal();
}

void StoreRecorder::UsageWriterLoop() {
  while (true) {
    std::vector<UsageSample> pass;
    {
      MutexLock lock(&usage_mu_);
      while (!usage_queued_.has_value() && !usage_stop_) usage_cv_.Wait(&usage_mu_);
      if (!usage_queued_.has_value()) return;  // stopping, nothing left
      pass = std::move(*usage_queued_);
      usage_queued_.reset();
    }
    (void)health_->Write("usage", [&] { return store_->RecordUsage(pass); });
  }
}

std::string StoreRecorder::WorkloadOf(const std::string& pod_key) const {
  auto it = known_.find(pod_key);
  return it == known_.end() ? pod_key : it->second;
}

TimelineEvent StoreRecorder::Event(const std::string& pod_key, int64_t unix_ms, Kind kind) const {
  TimelineEvent e;
  e.set_workload(WorkloadOf(pod_key));
  e.set_unix_ms(unix_ms);
  e.set_kind(kind);
  if (e.workload() != pod_key) e.set_message(pod_key);  // a gang's member
  return e;
}

void StoreRecorder::OnStep(Engine& engine, const std::vector<ClusterEvent>& events, const Decisions& decisions,
                           int64_t now_ms) {
  const int64_t unix_ms = options_.time_base_ms + now_ms;
  batch_.clear();
  RecordEvents(engine, events, unix_ms);
  RecordDecisions(decisions, unix_ms);
  if (!batch_.empty()) {
    (void)health_->Write("timeline", [&] { return store_->AppendTimeline(batch_); });
    counts_.timeline_events += static_cast<int64_t>(batch_.size());
  }
  RecordTimers(engine, unix_ms);
  Maintain(engine, now_ms);
}

void StoreRecorder::RecordEvents(const Engine& engine, const std::vector<ClusterEvent>& events, int64_t unix_ms) {
  for (const ClusterEvent& ev : events) {
    if (ev.kind == ClusterEvent::Kind::kPodDelete) {
      const std::string key = ev.pod.Key();
      if (auto it = known_.find(key); it != known_.end()) {
        TimelineEvent e = Event(key, unix_ms, Kind::TIMELINE_EVENT_KIND_COMPLETED);
        e.set_reason("Deleted");
        batch_.push_back(std::move(e));
        known_.erase(it);
      }
      continue;
    }
    if (ev.kind != ClusterEvent::Kind::kPodUpsert || ev.pod.scheduler_name != engine.options().scheduler_name) continue;
    const Pod& pod = ev.pod;
    const std::string key = pod.Key();
    const bool known = known_.contains(key);
    if (pod.IsTerminal()) {
      if (known) {
        TimelineEvent e = Event(key, unix_ms, Kind::TIMELINE_EVENT_KIND_COMPLETED);
        e.set_reason(pod.phase == PodPhase::kSucceeded ? "Succeeded" : "Failed");
        batch_.push_back(std::move(e));
        known_.erase(key);
      }
      continue;
    }
    if (known) continue;
    known_.emplace(key, WorkloadKey(pod));
    if (!pod.IsBound()) {
      TimelineEvent e = Event(key, unix_ms, Kind::TIMELINE_EVENT_KIND_SUBMITTED);
      e.set_reason(pod.intent.queue);
      batch_.push_back(std::move(e));
    }
  }
}

void StoreRecorder::RecordDecisions(const Decisions& d, int64_t unix_ms) {
  for (const Binding& b : d.binds) {
    TimelineEvent e = Event(b.pod_key, unix_ms, Kind::TIMELINE_EVENT_KIND_BOUND);
    e.set_node(b.node);
    for (int dev : b.gpu_devices) e.add_devices(dev);
    batch_.push_back(std::move(e));
  }
  for (const Eviction& ev : d.evictions) {
    TimelineEvent e = Event(ev.pod_key, unix_ms, Kind::TIMELINE_EVENT_KIND_PREEMPTED);
    e.set_by(ev.preemptor_key);
    e.set_reason(ev.reason);
    batch_.push_back(std::move(e));
    // The structured line ships the record off the pod whether or not the store takes it.
    spdlog::debug("audit: actor=scheduler action=preempt target=pod/{} reason=\"{}\" result=decided", ev.pod_key,
                 ev.reason);
    AuditRecord a;
    a.set_unix_ms(unix_ms);
    a.set_actor("scheduler");
    a.set_action("preempt");
    a.set_target("pod/" + ev.pod_key);
    a.set_reason(ev.reason);
    a.set_result("decided");
    (void)health_->Write("audit", [&] { return store_->AppendAudit(std::move(a)).status(); });
    ++counts_.audit;
  }
  std::string last_workload, last_message;  // a gang's members share one event per change
  for (const PendingReason& p : d.pending) {
    const bool nominated = !p.nominated_node.empty() && p.code == PendingCode::kWaitingForPreemption;
    TimelineEvent e = Event(p.pod_key, unix_ms,
                            nominated ? Kind::TIMELINE_EVENT_KIND_NOMINATED : Kind::TIMELINE_EVENT_KIND_PENDING_REASON);
    if (e.workload() == last_workload && p.message == last_message) continue;
    last_workload = e.workload();
    last_message = p.message;
    e.set_reason(std::string(PendingCodeName(p.code)));
    e.set_message(p.message);
    e.set_node(p.nominated_node);
    batch_.push_back(std::move(e));
  }
}

void StoreRecorder::RecordTimers(Engine& engine, int64_t unix_ms) {
  std::vector<WorkloadTimers> put;
  std::vector<std::string> gone;
  for (auto& [key, t] : engine.TakeTimerChanges()) {
    if (t.waiting_since_ms < 0 && t.preemptions == 0) {
      gone.push_back(key);
      continue;
    }
    WorkloadTimers w;
    w.set_workload(key);
    w.set_waiting_since_unix_ms(t.waiting_since_ms < 0 ? -1 : options_.time_base_ms + t.waiting_since_ms);
    w.set_preemption_count(t.preemptions);
    w.set_updated_unix_ms(unix_ms);
    put.push_back(std::move(w));
  }
  if (!put.empty()) (void)health_->Write("timers", [&] { return store_->PutTimers(put); });
  if (!gone.empty()) (void)health_->Write("timers", [&] { return store_->DeleteTimers(gone); });
  counts_.timers_written += static_cast<int64_t>(put.size());
}

absl::flat_hash_map<std::string, PodTimers> StoreRecorder::LoadTimers() {
  absl::flat_hash_map<std::string, PodTimers> out;
  absl::StatusOr<std::vector<WorkloadTimers>> all = store_->AllTimers();
  health_->Note(all.status(), "timers");
  if (!all.ok()) return out;
  for (const WorkloadTimers& w : *all) {
    PodTimers t;
    t.waiting_since_ms = w.waiting_since_unix_ms() < 0 ? -1 : w.waiting_since_unix_ms() - options_.time_base_ms;
    t.preemptions = w.preemption_count();
    out.emplace(w.workload(), t);
  }
  counts_.timers_restored = static_cast<int64_t>(out.size());
  return out;
}

void StoreRecorder::PruneTimers(const Engine& engine, int64_t unix_ms) {
  absl::StatusOr<std::vector<WorkloadTimers>> all = store_->AllTimers();
  if (!all.ok()) return health_->Note(all.status(), "timers");
  std::vector<std::string> gone;
  for (const WorkloadTimers& w : *all) {
    if (w.updated_unix_ms() < unix_ms - options_.forget_timers_after_ms &&
        engine.snapshot().FindPod(w.workload()) == kNoPod) {
      gone.push_back(w.workload());
    }
  }
  if (!gone.empty()) (void)health_->Write("timers", [&] { return store_->DeleteTimers(gone); });
}

std::vector<UsageSample> StoreRecorder::UsageSamples(const ClusterStatus& status, int64_t unix_ms) {
  std::vector<UsageSample> out;
  for (const QueueStatus& q : status.queues) {
    for (const QueueDimStatus& d : q.dims) {
      if (!IsGpuDimension(d.resource)) continue;
      UsageSample& s = out.emplace_back();
      s.set_queue(q.path);
      s.set_gpu_type(d.resource);
      s.set_unix_ms(unix_ms);
      s.set_allocated(d.usage);
      s.set_guaranteed(d.guaranteed);
      s.set_effective_max(d.max);
      s.set_borrowed(d.borrowed);
      s.set_pending_demand(d.pending_demand);
      s.set_pending_count(q.pending_pods);
    }
  }
  return out;
}

void StoreRecorder::Maintain(const Engine& engine, int64_t now_ms) {
  if (now_ms >= next_sample_ms_ && status_) {
    const int64_t interval = std::max<int64_t>(1, options_.usage_interval_ms);
    next_sample_ms_ = (now_ms / interval + 1) * interval;
    if (std::shared_ptr<const ClusterStatus> status = status_(engine, now_ms)) {
      std::vector<UsageSample> samples = UsageSamples(*status, options_.time_base_ms + now_ms);
      counts_.usage_samples += static_cast<int64_t>(samples.size());
      WriteUsage(std::move(samples));
      ++counts_.usage_passes;
    }
  }
  if (now_ms >= next_prune_ms_) {
    next_prune_ms_ = now_ms + options_.prune_interval_ms;
    (void)health_->Write("retention", [&] { return store_->Prune(options_.time_base_ms + now_ms); });
    PruneTimers(engine, options_.time_base_ms + now_ms);
  }
}

}  // namespace drover
