// RecordStore: the Store contract (store.h) over an ordered key-value seam
// (kv.h). MemoryStore and RocksStore are this class over MemoryKv and RocksKv,
// so the record logic (compare-and-set, roll-ups, retention, decoding) is one
// piece of code and the contract suite exercises it on both.
//
// In memory it keeps only what makes writes O(1): the active and newest
// revision numbers, the next audit and timeline sequences, the number of
// timeline events, and per usage series the current minute and hour point.
// All of it is rebuilt from the keys at open (Load).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "core/sync.h"
#include "store/kv.h"
#include "store/store.h"

namespace drover {

class RecordStore : public Store {
 public:
  // Writes the hour points still in memory (see RecordUsage), unsynced.
  ~RecordStore() override;

  absl::StatusOr<Revision> Apply(int64_t expected_active, Revision record) override;
  absl::StatusOr<Revision> Rollback(int64_t to, std::string author, std::string comment, int64_t expected_active,
                                    int64_t now_unix_ms) override;
  absl::StatusOr<std::vector<int64_t>> ImportRevisions(std::vector<Revision> mirrored) override;
  absl::StatusOr<Revision> Active() const override;
  absl::StatusOr<Revision> GetRevision(int64_t n) const override;
  absl::StatusOr<RevisionPage> ListRevisions(int64_t before, int limit) const override;

  absl::StatusOr<int64_t> AppendAudit(AuditRecord record) override;
  absl::StatusOr<std::vector<AuditRecord>> ListAudit(const AuditFilter& filter) const override;

  absl::Status RecordUsage(const std::vector<UsageSample>& samples) override;
  absl::StatusOr<std::vector<UsageSample>> QueryUsage(const UsageQuery& query) const override;

  absl::Status AppendTimeline(const std::vector<TimelineEvent>& events) override;
  absl::StatusOr<std::vector<TimelineEvent>> Timeline(std::string_view workload, int limit) const override;

  absl::Status PutTimers(const std::vector<WorkloadTimers>& timers) override;
  absl::Status DeleteTimers(const std::vector<std::string>& workloads) override;
  absl::StatusOr<std::vector<WorkloadTimers>> AllTimers() const override;

  absl::Status Prune(int64_t now_unix_ms) override;
  StoreStats Stats() const override;

  // Compacts the key-value layer in full (Kv::Compact): for maintenance and
  // benchmarks, never on the scheduling path. An I/O error as it happened.
  absl::Status Compact() { return kv_->Compact(); }
  // The raw key-value layer, for tests that plant corrupt records.
  Kv* kv_for_testing() { return kv_.get(); }

 protected:
  RecordStore(std::unique_ptr<Kv> kv, StoreOptions options);
  // Rebuilds the in-memory state from the keys. Undecodable records are skipped
  // (counted); only an I/O error fails.
  absl::Status Load();

 private:
  // The current point of one series in one tier (sums over `samples`).
  struct Point {
    int64_t bucket = -1;
    int64_t newest = -1;  // the latest bucket held since open: later ones are new
    UsageSample sums;
  };
  struct Series {
    Point minute;
    Point hour;
  };

  absl::StatusOr<Revision> ApplyLocked(int64_t expected_active, Revision record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(rev_mu_);
  absl::Status LoadRevisions();
  absl::Status LoadSequences();
  absl::Status LoadSeries();
  // Folds `s` into its minute point and adds the write to `batch`.
  absl::Status FoldMinute(const std::string& prefix, const UsageSample& s, Point* point, KvBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(usage_mu_);
  // Folds `s` into its hour point, kept in memory and written when the hour
  // ends (or at close); after a restart it is rebuilt from the minute points.
  absl::Status FoldHour(const std::string& prefix, const UsageSample& s, Point* point, KvBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(usage_mu_);
  // After an open: writes hour points for the hours before `bucket` that have
  // minute points but no stored hour point (a crash lost them from memory).
  absl::Status RepairHours(const std::string& prefix, const UsageSample& s, int64_t bucket, KvBatch* batch);
  // Starts `point` at `bucket` for the series of `s`.
  static void StartPoint(const UsageSample& s, int64_t bucket, Point* point);
  // Deletes the oldest events of `workload` beyond the per-workload cap.
  absl::Status CapWorkload(const std::string& workload) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tl_mu_);
  // Deletes timeline events older than `cutoff_ms`, then the oldest while over the overall cap.
  absl::Status PruneTimeline(int64_t cutoff_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tl_mu_);
  absl::Status PruneUsage(int64_t now_unix_ms);

  // Decodes `value` into `out`; on failure counts and logs an error naming the key.
  template <typename M>
  bool Decode(Family f, std::string_view key, std::string_view value, M* out) const;
  void NoteDecodeError(std::string message) const;

  std::unique_ptr<Kv> kv_;
  const StoreOptions options_;

  mutable Mutex rev_mu_;  // one apply or rollback at a time: the compare-and-set
  int64_t active_ ABSL_GUARDED_BY(rev_mu_) = 0;
  int64_t newest_ ABSL_GUARDED_BY(rev_mu_) = 0;
  int64_t revision_count_ ABSL_GUARDED_BY(rev_mu_) = 0;

  mutable Mutex audit_mu_;
  int64_t next_audit_ ABSL_GUARDED_BY(audit_mu_) = 1;
  int64_t audit_count_ ABSL_GUARDED_BY(audit_mu_) = 0;

  mutable Mutex usage_mu_;
  absl::flat_hash_map<std::string, Series> series_ ABSL_GUARDED_BY(usage_mu_);  // key: queue \0 type \0
  int64_t usage_dropped_ ABSL_GUARDED_BY(usage_mu_) = 0;

  mutable Mutex tl_mu_;
  int64_t next_event_ ABSL_GUARDED_BY(tl_mu_) = 1;
  int64_t event_count_ ABSL_GUARDED_BY(tl_mu_) = 0;
  // Every timeline sequence below this has been deleted: pruning seeks here
  // rather than stepping over the tombstones of everything it deleted before.
  int64_t prune_from_ ABSL_GUARDED_BY(tl_mu_) = 0;

  mutable Mutex err_mu_;
  mutable int64_t decode_errors_ ABSL_GUARDED_BY(err_mu_) = 0;
  mutable std::string last_decode_error_ ABSL_GUARDED_BY(err_mu_);
};

// Key helpers shared with tests and the benchmark.
std::string UsageSeriesPrefix(std::string_view queue, std::string_view gpu_type);
std::string TimelinePrefix(std::string_view workload);

}  // namespace drover
