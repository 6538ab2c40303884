#include "k8s/leader.h"

#include <spdlog/spdlog.h>

#include "absl/random/random.h"
#include "core/strings.h"
#include "k8s/api_status.h"
#include "k8s/decode_internal.h"
#include "k8s/json_util.h"
#include "core/status_macros.h"
#include "k8s/text.h"

namespace drover::k8s {

namespace od = simdjson::ondemand;

absl::StatusOr<LeaseRecord> ParseLease(std::string_view json) {
  od::parser parser;
  std::string scratch;
  od::document doc;
  od::object root;
  RETURN_IF_ERROR(internal::ParseRootObject(parser, json, "lease", &scratch, &doc, &root));
  LeaseRecord rec;
  absl::Status s = internal::ForEachFieldOf(root, "lease", [&](std::string_view key, od::value v) -> absl::Status {
    if (key == "metadata") {
      return internal::ForEachField(v, "metadata", [&](std::string_view k, od::value m) -> absl::Status {
        if (k == "resourceVersion") return internal::ReadString(m, "metadata.resourceVersion", &rec.resource_version);
        return absl::OkStatus();
      });
    }
    if (key != "spec") return absl::OkStatus();
    return internal::ForEachField(v, "spec", [&](std::string_view k, od::value f) -> absl::Status {
      if (k == "holderIdentity") return internal::ReadString(f, "spec.holderIdentity", &rec.holder);
      if (k == "leaseDurationSeconds") return internal::ReadInt(f, "spec.leaseDurationSeconds", &rec.lease_duration_seconds);
      if (k == "acquireTime") return internal::ReadString(f, "spec.acquireTime", &rec.acquire_time);
      if (k == "renewTime") return internal::ReadString(f, "spec.renewTime", &rec.renew_time);
      if (k == "leaseTransitions") return internal::ReadInt(f, "spec.leaseTransitions", &rec.transitions);
      return absl::OkStatus();
    });
  });
  if (!s.ok()) return s;
  return rec;
}

absl::Status LeaderElector::Validate(const LeaderOptions& o) {
  if (o.identity.empty()) return absl::InvalidArgumentError("leader election: identity is empty");
  if (o.name.empty() || o.namespace_.empty()) {
    return absl::InvalidArgumentError("leader election: lease name and namespace are required");
  }
  if (o.lease_duration <= o.renew_deadline) {
    return absl::InvalidArgumentError(StrCat("leader election: lease duration ", absl::FormatDuration(o.lease_duration),
                                             " must exceed the renew deadline ", absl::FormatDuration(o.renew_deadline)));
  }
  if (o.renew_deadline <= o.retry_period * 1.2) {
    return absl::InvalidArgumentError(StrCat("leader election: renew deadline ", absl::FormatDuration(o.renew_deadline),
                                             " must exceed 1.2 x the retry period ", absl::FormatDuration(o.retry_period)));
  }
  return absl::OkStatus();
}

LeaderElector::LeaderElector(HttpClient* http, LeaderOptions opts)
    : http_(http), opts_(std::move(opts)), clock_(opts_.clock != nullptr ? opts_.clock : RealClock()) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Start() { thread_ = std::thread([this] { Run(); }); }

void LeaderElector::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

bool LeaderElector::IsLeader() const {
  if (!leader_.load()) return false;
  const absl::Time now = clock_->Now();
  MutexLock lock(&mu_);
  return now - renewed_at_ < opts_.renew_deadline;
}

std::string LeaderElector::ObservedLeader() const {
  MutexLock lock(&mu_);
  return observed_.holder;
}

void LeaderElector::SetLeader(bool leader) {
  if (leader_.exchange(leader) == leader) return;
  if (leader) {
    times_acquired_.fetch_add(1);
    spdlog::info("leader election: {} is now the leader of {}/{}", opts_.identity, opts_.namespace_, opts_.name);
    if (opts_.on_started_leading) opts_.on_started_leading();
  } else {
    spdlog::info("leader election: {} stopped leading {}/{}", opts_.identity, opts_.namespace_, opts_.name);
    if (opts_.on_stopped_leading) opts_.on_stopped_leading();
  }
}

std::string LeaderElector::LeasePath(bool collection) const {
  std::string p = StrCat("/apis/coordination.k8s.io/v1/namespaces/", opts_.namespace_, "/leases");
  if (!collection) StrAppend(&p, "/", opts_.name);
  return p;
}

void LeaderElector::Run() {
  absl::BitGen gen;
  while (!stop_.HasBeenNotified()) {
    // Acquire.
    while (!TryAcquireOrRenew()) {
      if (!Wait(opts_.retry_period * absl::Uniform(gen, 1.0, 1.2))) break;
    }
    if (stop_.HasBeenNotified()) break;
    SetLeader(true);
    // Renew every retry period; give up when the renew deadline passes.
    while (Wait(opts_.retry_period)) {
      bool renewed = false;
      while (!stop_.HasBeenNotified() && IsLeader()) {
        if (TryAcquireOrRenew()) {
          renewed = true;
          break;
        }
        if (!Wait(opts_.retry_period / 4)) break;
      }
      if (stop_.HasBeenNotified()) break;
      if (!renewed) {
        spdlog::warn("leader election: {} failed to renew {}/{} within {}", opts_.identity, opts_.namespace_,
                     opts_.name, absl::FormatDuration(opts_.renew_deadline));
        SetLeader(false);
        break;
      }
    }
  }
  if (leader_.load() && opts_.release_on_stop) Release();
  SetLeader(false);
}

void LeaderElector::WarnOnce(const std::string& message) {
  {
    MutexLock lock(&mu_);
    if (last_warning_ == message) return;
    last_warning_ = message;
  }
  spdlog::warn("leader election: {} (said once until it changes or the Lease is written)", message);
}

void LeaderElector::AnnounceStandingBy(const std::string& holder) {
  {
    MutexLock lock(&mu_);
    if (announced_holder_ == holder) return;
    announced_holder_ = holder;
  }
  spdlog::info(
      "leader election: Lease {}/{} is held by {}; {} stands by and schedules nothing until that Lease is released "
      "or expires",
      opts_.namespace_, opts_.name, holder, opts_.identity);
}

bool LeaderElector::TryAcquireOrRenew() {
  const absl::Time attempt = clock_->Now();
  const std::string now = FormatMicroTime(absl::Now());
  const absl::Duration timeout = std::max(absl::Seconds(1), opts_.renew_deadline / 2);
  absl::StatusOr<HttpResponse> resp = http_->Send(HttpRequest{.path = LeasePath(false), .max_attempts = 1, .timeout = timeout});
  if (!resp.ok()) return false;
  LeaseRecord mine{.holder = opts_.identity,
                   .lease_duration_seconds = std::max<int64_t>(1, absl::ToInt64Seconds(opts_.lease_duration)),
                   .acquire_time = now,
                   .renew_time = now};
  std::optional<LeaseRecord> written;
  if (resp->status == 404) {
    written = Write("POST", mine);
  } else if (resp->status == 200) {
    absl::StatusOr<LeaseRecord> rec = ParseLease(resp->body);
    if (!rec.ok()) {
      WarnOnce(std::string(Msg(rec.status())));
      return false;
    }
    absl::Time observed_at;
    {
      MutexLock lock(&mu_);
      if (!(*rec == observed_)) {
        observed_ = *rec;
        observed_at_ = attempt;
      }
      observed_at = observed_at_;
    }
    const bool held_by_other = !rec->holder.empty() && rec->holder != opts_.identity;
    if (held_by_other && attempt < observed_at + absl::Seconds(rec->lease_duration_seconds)) {
      AnnounceStandingBy(rec->holder);
      return false;
    }
    if (rec->holder == opts_.identity) {
      mine.acquire_time = rec->acquire_time;
      mine.transitions = rec->transitions;
    } else {
      mine.transitions = rec->transitions + 1;
    }
    mine.resource_version = rec->resource_version;
    written = Write("PUT", mine);
  } else {
    WarnOnce(std::string(Msg(ApiError(*resp, "get lease"))));
    return false;
  }
  if (!written) return false;
  MutexLock lock(&mu_);
  last_warning_.clear();
  observed_ = *written;
  observed_at_ = attempt;
  renewed_at_ = attempt;
  return true;
}

std::optional<LeaseRecord> LeaderElector::Write(const std::string& method, const LeaseRecord& rec) {
  std::string body = StrCat("{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":",
                            JsonQuote(opts_.name), ",\"namespace\":", JsonQuote(opts_.namespace_));
  if (!rec.resource_version.empty()) StrAppend(&body, ",\"resourceVersion\":", JsonQuote(rec.resource_version));
  StrAppend(&body, "},\"spec\":{\"holderIdentity\":", JsonQuote(rec.holder),
            ",\"leaseDurationSeconds\":", rec.lease_duration_seconds, ",\"acquireTime\":", JsonQuote(rec.acquire_time),
            ",\"renewTime\":", JsonQuote(rec.renew_time), ",\"leaseTransitions\":", rec.transitions, "}}");
  const absl::Duration timeout = std::max(absl::Seconds(1), opts_.renew_deadline / 2);
  absl::StatusOr<HttpResponse> resp = http_->Send(HttpRequest{.method = method,
                                                              .path = LeasePath(method == "POST"),
                                                              .body = std::move(body),
                                                              .max_attempts = 1,
                                                              .timeout = timeout});
  if (!resp.ok()) return std::nullopt;
  if (resp->status != 200 && resp->status != 201) {
    if (resp->status == 404 && method == "POST") {
      WarnOnce(StrCat("namespace ", opts_.namespace_, " does not exist, so Lease ", opts_.namespace_, "/", opts_.name,
                      " cannot be created and this replica cannot lead: create it (kubectl create namespace ",
                      opts_.namespace_, ") or pass --lease-namespace"));
    } else if (resp->status != 409) {
      WarnOnce(std::string(Msg(ApiError(*resp, StrCat(method, " lease")))));
    }
    return std::nullopt;  // 409: another candidate wrote first
  }
  absl::StatusOr<LeaseRecord> out = ParseLease(resp->body);
  if (!out.ok()) return std::nullopt;
  return *out;
}

void LeaderElector::Release() {
  LeaseRecord rec;
  {
    MutexLock lock(&mu_);
    if (observed_.holder != opts_.identity) return;
    rec = observed_;
  }
  const std::string now = FormatMicroTime(absl::Now());
  rec.holder.clear();
  rec.lease_duration_seconds = 1;
  rec.acquire_time = now;
  rec.renew_time = now;
  if (Write("PUT", rec)) spdlog::info("leader election: {} released {}/{}", opts_.identity, opts_.namespace_, opts_.name);
}

}  // namespace drover::k8s
