// Leader election on a coordination.k8s.io/v1 Lease, following client-go's
// leaderelection package:
//
//  - try to acquire or renew every retry period (2 s, jittered up to 1.2x while
//    acquiring); a lease held by someone else can be taken once it has not changed
//    for leaseDurationSeconds (15 s) as observed on our own monotonic clock (the
//    injected SteadyClock), so no clock skew between candidates matters; an absent
//    lease is created;
//  - writes carry the resourceVersion read, so a 409 Conflict means another
//    candidate won the race;
//  - the leader must renew within the renew deadline (10 s) of its last successful
//    renewal. IsLeader() turns false the moment that deadline passes, even if a
//    renew request is still hanging, so the engine stops acting before another
//    candidate can take over (lease duration > renew deadline);
//  - on Stop() with release_on_stop, the leader clears holderIdentity so a
//    successor need not wait for expiry.
//
//   LeaderElector elector(http.get(), {.namespace_ = "drover-system", .name = "drover",
//                                      .identity = hostname});
//   elector.Start();
//   if (elector.IsLeader()) engine.RunCycle();
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/sync.h"
#include "k8s/clock.h"
#include "k8s/http_client.h"

namespace drover::k8s {

struct LeaderOptions {
  std::string namespace_ = "default";
  std::string name = "drover";
  std::string identity;  // unique per candidate (host name + random suffix)
  absl::Duration lease_duration = absl::Seconds(15);
  absl::Duration renew_deadline = absl::Seconds(10);
  absl::Duration retry_period = absl::Seconds(2);
  bool release_on_stop = true;
  std::function<void()> on_started_leading;  // called on the elector's thread
  std::function<void()> on_stopped_leading;
  // Times lease expiry, the renew deadline and retries; not owned. Null: RealClock().
  SteadyClock* clock = nullptr;
};

// The spec of a Lease as read from or written to the API server.
struct LeaseRecord {
  std::string holder;
  int64_t lease_duration_seconds = 0;
  std::string acquire_time;  // MicroTime text, kept as written
  std::string renew_time;
  int64_t transitions = 0;
  std::string resource_version;
  bool operator==(const LeaseRecord&) const = default;
};

// Parses a Lease object's JSON. Error names the field.
absl::StatusOr<LeaseRecord> ParseLease(std::string_view json);

class LeaderElector {
 public:
  // Error if the durations are inconsistent (lease <= renew deadline, renew
  // deadline <= 1.2 x retry period) or the identity is empty.
  static absl::Status Validate(const LeaderOptions& opts);

  LeaderElector(HttpClient* http, LeaderOptions opts);
  ~LeaderElector();

  void Start();
  // Stops the loop; releases the lease if we hold it and release_on_stop is set.
  void Stop();

  bool IsLeader() const;
  // The holder last observed ("" if none or unknown).
  std::string ObservedLeader() const;
  // How many times this elector became the leader.
  int64_t times_acquired() const { return times_acquired_.load(); }

 private:
  void Run();
  // One attempt; true if we hold the lease afterwards.
  bool TryAcquireOrRenew();
  // Logs once per holder that another replica holds the Lease and this one waits.
  void AnnounceStandingBy(const std::string& holder);
  // Logs a warning unless it repeats the last one (cleared when the Lease is written).
  void WarnOnce(const std::string& message);
  // PUT (update) or POST (create) `rec`; the new record (with its resourceVersion)
  // on success, nullopt on a conflict or error.
  std::optional<LeaseRecord> Write(const std::string& method, const LeaseRecord& rec);
  void Release();
  void SetLeader(bool leader);
  std::string LeasePath(bool collection) const;

  // Waits `d` on the clock; false when Stop() cut it short.
  bool Wait(absl::Duration d) { return clock_->SleepFor(d, &stop_); }

  HttpClient* const http_;
  const LeaderOptions opts_;
  SteadyClock* const clock_;
  Notification stop_;
  std::thread thread_;

  mutable Mutex mu_;
  LeaseRecord observed_ ABSL_GUARDED_BY(mu_);
  absl::Time observed_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // when observed_ last changed
  std::string announced_holder_ ABSL_GUARDED_BY(mu_);
  std::string last_warning_ ABSL_GUARDED_BY(mu_);  // last holder AnnounceStandingBy logged
  absl::Time renewed_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();   // the last successful write
  std::atomic<bool> leader_{false};
  std::atomic<int64_t> times_acquired_{0};
};

}  // namespace drover::k8s
