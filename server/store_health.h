// Whether the store works, for /readyz and the log. droverd never stops
// scheduling because the store fails: writes that fail are dropped and said
// here; the next write that succeeds clears it.
//
//   StoreHealth health;
//   health.Write("timeline", [&] { return store->AppendTimeline(events); });   // timed and noted
//   health.Note(store->Active().status(), "configuration revisions");           // a read: noted only
//   server.AddReadyCheck("store", [&] { return health.Check(); });
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "core/sync.h"
#include "prometheus/client_metric.h"
#include "prometheus/histogram.h"
#include "server/http_server.h"

namespace drover {

class StoreHealth {
 public:
  // `where`: the store's path, or a note such as "in memory" (shown on /readyz).
  explicit StoreHealth(std::string where = "") : where_(std::move(where)) {}
  void set_where(std::string where) {
    MutexLock lock(&mu_);
    where_ = std::move(where);
  }
  // Records the outcome of a write of `what`. An error is logged when it
  // differs from the last one (and every 1,000th repeat), never thrown.
  void Note(const absl::Status& status, std::string_view what);
  // Runs one store write, records its wall time under `what` (a few fixed kinds:
  // "timeline", "audit", "usage", "timers", "configuration revision", "retention")
  // and notes its outcome. Returns the write's status.
  absl::Status Write(std::string_view what, const std::function<absl::Status()>& write);
  // Each write kind's latency so far (seconds), for /metrics: (kind, histogram).
  std::vector<std::pair<std::string, prometheus::ClientMetric>> WriteLatencies() const;
  // Marks the store unusable from the start (it did not open).
  void SetUnavailable(const absl::Status& why);
  bool degraded() const;
  int64_t failures() const;
  // /readyz: ok with the path, or degraded with the last error (never failed).
  CheckResult Check() const;

 private:
  mutable Mutex mu_;
  std::string where_ ABSL_GUARDED_BY(mu_);
  bool degraded_ ABSL_GUARDED_BY(mu_) = false;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  int64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t repeats_ ABSL_GUARDED_BY(mu_) = 0;
  // Never erased, so a pointer taken under the lock stays valid; Observe is thread-safe.
  std::map<std::string, std::unique_ptr<prometheus::Histogram>, std::less<>> latency_ ABSL_GUARDED_BY(mu_);
};

}  // namespace drover
