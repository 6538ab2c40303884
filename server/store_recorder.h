// Records what the scheduling loop sees and decides in the store: workload
// timelines (submitted, pending reason changed, nominated, bound, preempted,
// completed), an audit record for every preemption the engine decides, the
// timers a restart must not reset, and usage per queue and GPU type every
// usage interval. A StepObserver on the loop thread; a store that fails makes
// StoreHealth degraded and scheduling goes on.
//
//   StoreRecorder recorder(store, &health, {.usage_interval_ms = 60'000}, status_fn);
//   engine.RestoreTimers(recorder.LoadTimers());   // before the first step
//   loop_options.observer = &recorder;
//
// A workload is a pod ("ns/name"), or a gang ("ns/gang-name": its pods' events together).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/sync.h"
#include "server/daemon.h"
#include "server/status.h"
#include "server/store_health.h"
#include "store/store.h"

namespace drover {

struct RecorderOptions {
  int64_t usage_interval_ms = 60'000;      // loop clock (virtual in the simulator)
  int64_t prune_interval_ms = 3'600'000;   // how often retention runs
  // Added to the loop clock to stamp records: 0 for a wall clock; the run's
  // start (Unix ms) in the simulator, whose clock starts at 0.
  int64_t time_base_ms = 0;
  // A pod's timers with no preemption are deleted when it stops waiting; with
  // some they are kept this long after it is gone (EngineOptions::forget_preempted_after_ms).
  int64_t forget_timers_after_ms = 3'600'000;
  // Usage passes are written by a thread of the recorder's, so the loop pays
  // only for listing the samples (a pass at 1,000 queues x 6 GPU types is longer
  // than a cycle). Off in the simulator, whose virtual minutes pass in microseconds.
  bool write_usage_async = false;
};

// What the recorder has written, by kind (for the simulator's report).
struct RecorderCounts {
  int64_t audit = 0;
  int64_t usage_samples = 0;
  int64_t usage_passes = 0;
  int64_t timeline_events = 0;
  int64_t timers_written = 0;
  int64_t timers_restored = 0;
};

class StoreRecorder : public StepObserver {
 public:
  // Builds (or fetches) the status usage is sampled from; called on the loop thread.
  using StatusFn = std::function<std::shared_ptr<const ClusterStatus>(const Engine&, int64_t now_ms)>;

  StoreRecorder(Store* store, StoreHealth* health, RecorderOptions options, StatusFn status);
  // Writes the usage pass still queued, then stops the writer thread.
  ~StoreRecorder() override;

  void OnStep(Engine& engine, const std::vector<ClusterEvent>& events, const Decisions& decisions,
              int64_t now_ms) override;
  // The timers stored before a restart, for Engine::RestoreTimers. Empty if the store fails.
  absl::flat_hash_map<std::string, PodTimers> LoadTimers();
  // The samples one pass writes for `status` at `unix_ms`: per queue, per GPU type it has a value for.
  static std::vector<UsageSample> UsageSamples(const ClusterStatus& status, int64_t unix_ms);
  const RecorderCounts& counts() const { return counts_; }

 private:
  void RecordEvents(const Engine& engine, const std::vector<ClusterEvent>& events, int64_t unix_ms);
  void RecordDecisions(const Decisions& d, int64_t unix_ms);
  void RecordTimers(Engine& engine, int64_t unix_ms);
  void Maintain(const Engine& engine, int64_t now_ms);
  // Deletes the timers of pods gone for forget_timers_after_ms.
  void PruneTimers(const Engine& engine, int64_t unix_ms);
  TimelineEvent Event(const std::string& pod_key, int64_t unix_ms, store::v1::TimelineEventKind kind) const;
  std::string WorkloadOf(const std::string& pod_key) const;
  void WriteUsage(std::vector<UsageSample> samples);
  void UsageWriterLoop();

  Store* store_;
  StoreHealth* health_;
  RecorderOptions options_;
  StatusFn status_;
  absl::flat_hash_map<std::string, std::string> known_;  // our live pods: key -> workload key
  std::vector<TimelineEvent> batch_;
  int64_t next_sample_ms_ = -1;
  int64_t next_prune_ms_ = -1;
  RecorderCounts counts_;

  // The usage writer (write_usage_async): at most one pass waits; a pass that
  // finds one still waiting replaces it (counted as dropped).
  Mutex usage_mu_;
  CondVar usage_cv_;
  std::optional<std::vector<UsageSample>> usage_queued_ ABSL_GUARDED_BY(usage_mu_);
  bool usage_stop_ ABSL_GUARDED_BY(usage_mu_) = false;
  int64_t usage_dropped_ ABSL_GUARDED_BY(usage_mu_) = 0;
  std::thread usage_writer_;
};

}  // namespace drover
