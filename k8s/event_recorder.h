// Writes core/v1 Events about pods (Scheduled, FailedScheduling, Preempted), with
// client-go's aggregation: a repeat of the same (object, type, reason, message)
// bumps `count` and `lastTimestamp` of the event already written (PATCH) instead
// of creating a new one.
//
//   EventRecorder events(http, clock, {.component = "drover"});
//   events.Record({"team-a", "train-0", uid}, "Warning", "FailedScheduling", "Scheduling",
//                 "0/12 nodes are available: 12 Insufficient nvidia.com/gpu.");
//
// Events carry source.component and reportingComponent = the component name,
// reportingInstance = the instance (host) name. Record does blocking HTTP; call it
// from a worker thread. Thread-safe. The aggregation cache keeps the most recent
// `cache_size` keys.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/cluster.h"
#include "core/sync.h"
#include "k8s/http_client.h"

namespace drover::k8s {

struct ObjectRef {
  std::string namespace_;
  std::string name;
  std::string uid;  // may be empty
};

struct EventOptions {
  std::string component = "drover";
  std::string instance;  // defaults to the host name
  size_t cache_size = 4096;
};

class EventRecorder {
 public:
  EventRecorder(HttpClient* http, const Clock* clock, EventOptions opts = {});

  // Creates the event, or bumps the count of the same event written before.
  absl::Status Record(const ObjectRef& pod, std::string_view type, std::string_view reason, std::string_view action,
                      std::string_view message);

 private:
  struct Seen {
    std::string event_name;
    int64_t count = 0;
    std::string first_timestamp;
  };

  absl::Status Create(const ObjectRef& pod, std::string_view type, std::string_view reason, std::string_view action,
                      std::string_view message, const std::string& key);
  void Remember(const std::string& key, Seen seen);

  HttpClient* const http_;
  const Clock* const clock_;
  const EventOptions opts_;
  Mutex mu_;
  absl::flat_hash_map<std::string, Seen> seen_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);  // insertion order, for eviction
};

}  // namespace drover::k8s
