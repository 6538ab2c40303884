#include "server/store_health.h"

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
