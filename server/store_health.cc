#include "server/store_health.h"

#include <chrono>

#include "core/strings.h"
#include "spdlog/spdlog.h"

namespace drover {

void StoreHealth::Note(const absl::Status& status, std::string_view what) {
  MutexLock lock(&mu_);
  if (status.ok()) {
    if (degraded_ && last_error_.rfind("store did not open", 0) != 0) {
      spdlog::info("store: writes succeed again ({})", what);
      degraded_ = false;
    }
    return;
  }
  ++failures_;
  std::string message = StrCat(what, ": ", status.message());
  if (message != last_error_ || ++repeats_ % 1000 == 0) {
    spdlog::error("store degraded, scheduling goes on: {} ({} failed writes so far)", message, failures_);
    if (message != last_error_) repeats_ = 0;
  }
  degraded_ = true;
  last_error_ = std::move(message);
}

absl::Status StoreHealth::Write(std::string_view what, const std::function<absl::Status()>& write) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                                   0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
  const auto start = std::chrono::steady_clock::now();
  absl::Status status = write();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  prometheus::Histogram* h = nullptr;
  {
    MutexLock lock(&mu_);
    auto it = latency_.find(what);
    if (it == latency_.end()) it = latency_.emplace(std::string(what), std::make_unique<prometheus::Histogram>(kBuckets)).first;
    h = it->second.get();
  }
  h->Observe(seconds);
  Note(status, what);
  return status;
}

std::vector<std::pair<std::string, prometheus::ClientMetric>> StoreHealth::WriteLatencies() const {
  MutexLock lock(&mu_);
  std::vector<std::pair<std::string, prometheus::ClientMetric>> out;
  for (const auto& [kind, h] : latency_) out.emplace_back(kind, h->Collect());
  return out;
}

void StoreHealth::SetUnavailable(const absl::Status& why) {
  MutexLock lock(&mu_);
  degraded_ = true;
  last_error_ = StrCat("store did not open: ", why.message());
}

bool StoreHealth::degraded() const {
  MutexLock lock(&mu_);
  return degraded_;
}

int64_t StoreHealth::failures() const {
  MutexLock lock(&mu_);
  return failures_;
}

CheckResult StoreHealth::Check() const {
  MutexLock lock(&mu_);
  if (degraded_) return CheckResult{true, last_error_, /*degraded=*/true};
  return CheckResult{true, where_};
}

}  // namespace drover
