// Whether the store works, for /readyz and the log. droverd never stops
// scheduling because the store fails: writes that fail are dropped and said
// here; the next write that succeeds clears it.
//
//   StoreHealth health;
//   health.Note(store->AppendTimeline(events), "timeline");
//   server.AddReadyCheck("store", [&] { return health.Check(); });
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "core/sync.h"
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
};

}  // namespace drover
