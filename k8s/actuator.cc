#include "k8s/actuator.h"

#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "k8s/api_status.h"
#include "k8s/decode.h"
#include "k8s/json_util.h"
#include "k8s/text.h"

namespace drover::k8s {
namespace {

constexpr int64_t kPendingTtlMs = 3'600'000;   // forget a pod's pending state after an hour untouched
constexpr int64_t kSweepEveryMs = 300'000;

struct PodName {
  std::string namespace_;
  std::string name;
};

PodName SplitKey(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos) return {"default", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

std::string PodPath(const PodName& p, std::string_view sub = "") {
  std::string path = StrCat("/api/v1/namespaces/", p.namespace_, "/pods/", p.name);
  if (!sub.empty()) StrAppend(&path, "/", sub);
  return path;
}

std::string DeviceList(const std::vector<int>& devices) {
  std::string out;
  for (int d : devices) StrAppend(&out, out.empty() ? "" : ",", d);
  return out;
}

std::string BindingBody(const PodName& p, const Binding& b) {
  std::string body = StrCat("{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":", JsonQuote(p.name),
                            ",\"namespace\":", JsonQuote(p.namespace_));
  if (!b.pod_uid.empty()) StrAppend(&body, ",\"uid\":", JsonQuote(b.pod_uid));
  if (!b.gpu_devices.empty()) {
    StrAppend(&body, ",\"annotations\":{", JsonQuote(annotations::kGpuDevices), ":",
              JsonQuote(DeviceList(b.gpu_devices)), "}");
  }
  StrAppend(&body, "},\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":", JsonQuote(b.node), "}}");
  return body;
}

std::string EvictionBody(const PodName& p, const Eviction& e) {
  std::string body = StrCat("{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":",
                            JsonQuote(p.name), ",\"namespace\":", JsonQuote(p.namespace_), "}");
  if (!e.pod_uid.empty()) StrAppend(&body, ",\"deleteOptions\":{\"preconditions\":{\"uid\":", JsonQuote(e.pod_uid), "}}");
  StrAppend(&body, "}");
  return body;
}

}  // namespace

KubeActuator::KubeActuator(HttpClient* http, const Clock* clock, ActuatorOptions opts)
    : http_(http),
      clock_(clock),
      opts_(std::move(opts)),
      events_(http, clock, opts_.events),
      status_limiter_(opts_.status_qps, opts_.status_burst),
      event_limiter_(opts_.event_qps, opts_.event_burst),
      normal_event_pool_(std::make_unique<WorkerPool>(1)),
      warning_event_pool_(std::make_unique<WorkerPool>(1)),
      status_pool_(std::make_unique<WorkerPool>(opts_.status_workers)),
      bind_pool_(std::make_unique<WorkerPool>(opts_.bind_workers)) {}

KubeActuator::~KubeActuator() { Stop(); }

void KubeActuator::Stop() {
  // Queued tasks see stopping_ and return at once; limiter waits are cut short.
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  bind_pool_->Stop();
  status_pool_->Stop();
  warning_event_pool_->Stop();
  normal_event_pool_->Stop();
}

void KubeActuator::WaitIdle() {
  bind_pool_->WaitIdle();    // binds queue events
  status_pool_->WaitIdle();  // patches queue events
  warning_event_pool_->WaitIdle();
  normal_event_pool_->WaitIdle();
}

void KubeActuator::Bind(const Binding& b) {
  {
    MutexLock lock(&mu_);
    auto it = pending_.find(b.pod_key);
    if (it != pending_.end()) it->second.bound = true;  // no more Unschedulable patches for it
  }
  bind_pool_->Submit([this, b] { DoBind(b); });
}

void KubeActuator::Evict(const Eviction& e) {
  bind_pool_->Submit([this, e] { DoEvict(e); });
}

void KubeActuator::CollectOutcomes(std::vector<BindOutcome>* out) {
  MutexLock lock(&mu_);
  for (BindOutcome& o : bind_outcomes_) out->push_back(std::move(o));
  bind_outcomes_.clear();
}

void KubeActuator::CollectEvictionOutcomes(std::vector<EvictionOutcome>* out) {
  MutexLock lock(&mu_);
  for (EvictionOutcome& o : eviction_outcomes_) out->push_back(std::move(o));
  eviction_outcomes_.clear();
}

void KubeActuator::DoBind(const Binding& b) {
  const PodName p = SplitKey(b.pod_key);
  BindOutcome out{.pod_key = b.pod_key};
  absl::StatusOr<HttpResponse> resp = absl::AbortedError("not sent");
  if (stopping_.HasBeenNotified()) {
    resp = absl::CancelledError("the actuator is stopping");
  } else if (opts_.may_act && !opts_.may_act()) {
    resp = absl::AbortedError("not the leader any more");
  } else {
    resp = http_->Send(HttpRequest{.method = "POST", .path = PodPath(p, "binding"), .body = BindingBody(p, b)});
  }
  if (!resp.ok()) {
    out.result = BindOutcome::Result::kFailed;
    out.message = std::string(Msg(resp.status()));
  } else if (resp->status == 201 || resp->status == 200) {
    out.result = BindOutcome::Result::kBound;
  } else if (resp->status == 409) {
    out.message = std::string(Msg(ApiError(*resp, StrCat("bind ", b.pod_key, " to ", b.node))));
    out.result = resp->attempts > 1 ? ResolveConflict(b, &out.message) : BindOutcome::Result::kConflict;
  } else if (resp->status == 404) {
    out.result = BindOutcome::Result::kGone;
    out.message = std::string(Msg(ApiError(*resp, StrCat("bind ", b.pod_key))));
  } else {
    out.result = BindOutcome::Result::kFailed;
    out.message = std::string(Msg(ApiError(*resp, StrCat("bind ", b.pod_key, " to ", b.node))));
  }
  if (out.result == BindOutcome::Result::kBound) {
    RecordEvent(b.pod_key, b.pod_uid, "Normal", "Scheduled", "Binding",
                StrCat("Successfully assigned ", b.pod_key, " to ", b.node));
  } else {
    spdlog::info("bind {} to {}: {}", b.pod_key, b.node, out.message);
    MutexLock lock(&mu_);
    auto it = pending_.find(b.pod_key);
    if (it != pending_.end()) it->second.bound = false;
  }
  MutexLock lock(&mu_);
  bind_outcomes_.push_back(std::move(out));
}

// A 409 after a retry may be our own earlier attempt having landed.
BindOutcome::Result KubeActuator::ResolveConflict(const Binding& b, std::string* message) {
  absl::StatusOr<HttpResponse> resp = http_->Send(HttpRequest{.path = PodPath(SplitKey(b.pod_key))});
  if (!resp.ok() || resp->status != 200) return BindOutcome::Result::kConflict;
  thread_local Decoder decoder;
  absl::StatusOr<Pod> pod = decoder.DecodePod(resp->body);
  if (pod.ok() && pod->node_name == b.node && (b.pod_uid.empty() || pod->uid == b.pod_uid)) {
    message->clear();
    return BindOutcome::Result::kBound;
  }
  return BindOutcome::Result::kConflict;
}

void KubeActuator::DoEvict(const Eviction& e) {
  const PodName p = SplitKey(e.pod_key);
  EvictionOutcome out{.pod_key = e.pod_key, .preemptor_key = e.preemptor_key};
  absl::StatusOr<HttpResponse> resp = absl::AbortedError("not sent");
  if (stopping_.HasBeenNotified()) {
    resp = absl::CancelledError("the actuator is stopping");
  } else if (opts_.may_act && !opts_.may_act()) {
    resp = absl::AbortedError("not the leader any more");
  } else {
    resp = http_->Send(HttpRequest{
        .method = "POST", .path = PodPath(p, "eviction"), .body = EvictionBody(p, e), .retry_on_429 = false});
  }
  if (!resp.ok()) {
    out.result = EvictionOutcome::Result::kFailed;
    out.message = std::string(Msg(resp.status()));
  } else if (resp->status == 201 || resp->status == 200) {
    out.result = EvictionOutcome::Result::kEvicted;
  } else {
    out.message = std::string(Msg(ApiError(*resp, StrCat("evict ", e.pod_key))));
    switch (resp->status) {
      case 429: out.result = EvictionOutcome::Result::kBlocked; break;
      case 404:
      case 409:  // the UID precondition failed: the pod was replaced
        out.result = EvictionOutcome::Result::kGone;
        break;
      default: out.result = EvictionOutcome::Result::kFailed;
    }
  }
  if (out.result == EvictionOutcome::Result::kEvicted) {
    std::string why = e.reason.empty() ? StrCat("Preempted by ", e.preemptor_key) : e.reason;
    RecordEvent(e.pod_key, e.pod_uid, "Normal", "Preempted", "Preempting", why);
  } else {
    spdlog::info("evict {}: {}", e.pod_key, out.message);
  }
  MutexLock lock(&mu_);
  eviction_outcomes_.push_back(std::move(out));
}

void KubeActuator::RecordPending(const PendingReason& r) {
  const int64_t now = clock_->NowMillis();
  MutexLock lock(&mu_);
  SweepPendingLocked(now);
  PendingState& st = pending_[r.pod_key];
  st.touched_ms = now;
  st.bound = false;
  if (st.message == r.message && st.nominated == r.nominated_node) return;
  st.message = r.message;
  st.nominated = r.nominated_node;
  if (st.queued) return;  // the queued patch will send the latest
  st.queued = true;
  status_pool_->Submit([this, key = r.pod_key] { DoPatchStatus(key); });
}

void KubeActuator::SweepPendingLocked(int64_t now_ms) {
  if (now_ms - last_sweep_ms_ < kSweepEveryMs) return;
  last_sweep_ms_ = now_ms;
  absl::erase_if(pending_, [now_ms](const auto& kv) {
    return !kv.second.queued && now_ms - kv.second.touched_ms > kPendingTtlMs;
  });
}

void KubeActuator::DoPatchStatus(const std::string& key) {
  if (!status_limiter_.Acquire(&stopping_)) return;
  std::string message, nominated;
  bool first;
  {
    MutexLock lock(&mu_);
    auto it = pending_.find(key);
    if (it == pending_.end()) return;
    PendingState& st = it->second;
    st.queued = false;
    if (st.bound || (st.message == st.sent_message && st.nominated == st.sent_nominated)) return;
    message = st.message;
    nominated = st.nominated;
    first = st.sent_message.empty();
  }
  // Strategic merge: conditions merge by type; lastTransitionTime only when the
  // condition is new to us (the status did not change otherwise).
  std::string cond = StrCat("{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":\"Unschedulable\",\"message\":",
                            JsonQuote(message), ",\"lastProbeTime\":null");
  if (first) StrAppend(&cond, ",\"lastTransitionTime\":", JsonQuote(FormatRfc3339(absl::FromUnixMillis(clock_->NowMillis()))));
  StrAppend(&cond, "}");
  std::string body = StrCat("{\"status\":{\"conditions\":[", cond, "],\"nominatedNodeName\":",
                            nominated.empty() ? std::string("null") : JsonQuote(nominated), "}}");
  const PodName p = SplitKey(key);
  absl::StatusOr<HttpResponse> resp = http_->Send(HttpRequest{.method = "PATCH",
                                                              .path = PodPath(p, "status"),
                                                              .body = std::move(body),
                                                              .content_type = "application/strategic-merge-patch+json"});
  bool post_event = false;
  {
    MutexLock lock(&mu_);
    auto it = pending_.find(key);
    if (resp.ok() && resp->status == 404) {
      if (it != pending_.end() && !it->second.queued) pending_.erase(it);
      return;
    }
    if (!resp.ok() || resp->status != 200) {
      spdlog::warn("{}", resp.ok() ? std::string(Msg(ApiError(*resp, StrCat("patch status of ", key))))
                                   : std::string(Msg(resp.status())));
      return;
    }
    if (it == pending_.end()) return;
    PendingState& st = it->second;
    st.sent_message = message;
    st.sent_nominated = nominated;
    const int64_t now = clock_->NowMillis();
    if (opts_.record_events && message != st.event_message &&
        (st.event_ms == 0 || now - st.event_ms >= opts_.failed_scheduling_interval_ms)) {
      st.event_message = message;
      st.event_ms = now;
      post_event = true;
    }
  }
  if (post_event) RecordEvent(key, "", "Warning", "FailedScheduling", "Scheduling", message);
}

void KubeActuator::RecordEvent(const std::string& key, const std::string& uid, std::string_view type,
                               std::string_view reason, std::string_view action, std::string_view message) {
  if (!opts_.record_events) return;
  if (queued_events_.fetch_add(1) >= opts_.max_queued_events) {
    queued_events_.fetch_sub(1);
    if (dropped_events_.fetch_add(1) % 1000 == 0) spdlog::warn("dropping events: {} queued", opts_.max_queued_events);
    return;
  }
  PodName p = SplitKey(key);
  ObjectRef ref{p.namespace_, p.name, uid};
  WorkerPool* pool = type == "Warning" ? warning_event_pool_.get() : normal_event_pool_.get();
  auto write = [this, ref, type = std::string(type), reason = std::string(reason), action = std::string(action),
                message = std::string(message)] {
    queued_events_.fetch_sub(1);
    if (!event_limiter_.Acquire(&stopping_)) return;
    absl::Status s = events_.Record(ref, type, reason, action, message);
    if (!s.ok()) spdlog::warn("event {} for {}/{}: {}", reason, ref.namespace_, ref.name, Msg(s));
  };
  pool->Submit(std::move(write));
}

}  // namespace drover::k8s
