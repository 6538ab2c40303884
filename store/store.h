// The seam for Drover's durable state: quota configuration revisions, the audit
// log, usage history per queue and GPU type, workload timelines, and the timers
// that keep a pod's place in line across a restart. The daemon talks only to
// this interface; MemoryStore (memory_store.h) and RocksStore (rocks_store.h)
// implement it, and one contract test suite (tests/store/) runs against both.
//
//   std::unique_ptr<Store> store = *RocksStore::Open("/var/lib/drover", {});
//   absl::StatusOr<Revision> r = store->Apply(/*expected_active=*/0, doc);   // revision 1
//   store->Rollback(1, "alice", "undo", /*expected_active=*/r->revision(), now_ms);
//   store->RecordUsage(samples);   // one sampling pass
//
// Records are the Protobuf messages of proto/drover/store/v1/records.proto, so
// they can gain fields without a migration. Every method is thread-safe. A
// record that fails to decode is skipped, counted in StoreStats and logged with
// its key; it never fails a whole read. Every read is capped (kMaxPage and the
// options' limits), so nothing stored can make a reader allocate without bound.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "drover/store/v1/records.pb.h"

namespace drover {

using Revision = store::v1::Revision;
using AuditRecord = store::v1::AuditRecord;
using UsageSample = store::v1::UsageSample;
using TimelineEvent = store::v1::TimelineEvent;
using WorkloadTimers = store::v1::WorkloadTimers;

// The most records one read returns, whatever limit it asks for.
inline constexpr int kMaxPage = 1000;
// A stored value larger than this is treated as corrupt (skipped, counted).
inline constexpr size_t kMaxRecordBytes = 8 << 20;
// The schema_version the store writes into every record (records.proto).
inline constexpr uint32_t kSchemaVersion = 1;

// Retention and caps. Durations in milliseconds.
struct StoreOptions {
  int64_t usage_minute_retention_ms = int64_t{14} * 24 * 3600 * 1000;  // 1-minute points; at least 1 h (hour points are rebuilt from them)
  int64_t usage_hour_retention_ms = int64_t{400} * 24 * 3600 * 1000;   // 1-hour points
  int64_t timeline_max_age_ms = int64_t{7} * 24 * 3600 * 1000;
  int timeline_max_events_per_workload = 64;  // the oldest go first
  int64_t timeline_max_events = 1'000'000;    // over all workloads; the oldest go first
  int64_t max_usage_series = 100'000;         // queue x GPU type pairs; samples of new ones beyond are dropped
  int64_t max_timers = 1'000'000;             // workloads with timers; Put beyond is refused
};

// One page of revision history, newest first.
struct RevisionPage {
  std::vector<Revision> revisions;
  int64_t next_before = 0;  // pass as `before` for the next page; 0 = no more
};

// Audit filters; an empty field matches everything.
struct AuditFilter {
  int64_t from_unix_ms = 0;        // inclusive
  int64_t to_unix_ms = INT64_MAX;  // exclusive
  std::string actor;               // exact
  std::string target_prefix;
  int limit = 100;                 // at most kMaxPage
};

// Usage over [from, to) for one queue and GPU type, one point per `step_ms`.
struct UsageQuery {
  std::string queue;
  std::string gpu_type;
  int64_t from_unix_ms = 0;
  int64_t to_unix_ms = 0;
  int64_t step_ms = 60'000;  // >= 60 s; from the hour points when >= 1 h, else the minute points
};

// Counts per record kind, and what could not be read.
struct StoreStats {
  int64_t revisions = 0;
  int64_t audit_records = 0;
  int64_t usage_points = 0;     // minute + hour points: RocksDB's estimate on disk (exact in memory)
  int64_t timeline_events = 0;
  int64_t timers = 0;
  int64_t decode_errors = 0;    // records skipped because they did not decode
  std::string last_decode_error;  // names the key
  std::string path;             // "" for the in-memory store
};

class Store {
 public:
  virtual ~Store() = default;

  // --- Configuration revisions. Exactly one is active once any exists. ---

  // Stores `record` as the next revision (one above the newest) and makes it
  // active, atomically and durably, if the active revision is still
  // `expected_active` (0 = none yet). The store sets revision, sha256 (of
  // document) and schema_version; applied_unix_ms is kept if set. Returns the
  // stored record. Aborted if another apply got there first (the message names
  // the expected and the actual revision); InvalidArgument for a document over
  // kMaxRecordBytes; an I/O error as it happened.
  virtual absl::StatusOr<Revision> Apply(int64_t expected_active, Revision record) = 0;
  // Creates a new revision whose document equals revision `to`'s (source
  // ROLLBACK, rolled_back_from = to) and makes it active, under the same
  // compare-and-set as Apply. NotFound if `to` does not exist.
  virtual absl::StatusOr<Revision> Rollback(int64_t to, std::string author, std::string comment,
                                            int64_t expected_active, int64_t now_unix_ms) = 0;
  // Makes this store agree with the API server's mirror of the revisions
  // (`mirrored`, any order, each with its revision number): each is written at
  // its own number, replacing a local one whose sha256 differs; local revisions
  // newer than the newest mirrored one are dropped (they were never mirrored,
  // so never acknowledged); the newest mirrored one becomes active. One synced
  // batch. Returns the numbers written (new or replaced), oldest first; empty
  // for an empty list. InvalidArgument (naming the revision) for a number < 1,
  // a duplicate, or a document over the Apply limit, before anything is written.
  virtual absl::StatusOr<std::vector<int64_t>> ImportRevisions(std::vector<Revision> mirrored) = 0;
  // The active revision; NotFound when none has been applied.
  virtual absl::StatusOr<Revision> Active() const = 0;
  // Revision `n`; NotFound if absent (or skipped as undecodable).
  virtual absl::StatusOr<Revision> GetRevision(int64_t n) const = 0;
  // Revisions older than `before` (0 = from the newest), newest first, at most
  // min(limit, kMaxPage).
  virtual absl::StatusOr<RevisionPage> ListRevisions(int64_t before, int limit) const = 0;

  // --- Audit log: appended durably, never rewritten. ---

  // Appends `record` (the store assigns sequence); returns the sequence.
  virtual absl::StatusOr<int64_t> AppendAudit(AuditRecord record) = 0;
  // Records matching `filter`, newest first, at most min(filter.limit, kMaxPage).
  virtual absl::StatusOr<std::vector<AuditRecord>> ListAudit(const AuditFilter& filter) const = 0;

  // --- Usage history: 1-minute and 1-hour points per queue x GPU type. ---

  // Adds one sampling pass (not synced: usage is derivable from the cluster).
  // Each sample is folded into its minute's point and its hour's point (sums
  // and a sample count); the hour being filled is held in memory and written
  // when it ends or at close (after a crash it is rebuilt from the minute
  // points). Samples of a series beyond max_usage_series are dropped:
  // ResourceExhausted says how many.
  virtual absl::Status RecordUsage(const std::vector<UsageSample>& samples) = 0;
  // The points of one series over the query's window, the mean of the samples
  // in each step (steps with no sample are absent). At most kMaxPage * 10
  // points; InvalidArgument for an empty window or a step under 60 s.
  virtual absl::StatusOr<std::vector<UsageSample>> QueryUsage(const UsageQuery& query) const = 0;

  // --- Workload timelines. ---

  // Appends events (the store assigns each a sequence). Not synced.
  virtual absl::Status AppendTimeline(const std::vector<TimelineEvent>& events) = 0;
  // `workload`'s events, oldest first, at most min(limit, kMaxPage).
  virtual absl::StatusOr<std::vector<TimelineEvent>> Timeline(std::string_view workload, int limit) const = 0;

  // --- Timers that survive a restart, one record per workload. ---

  // Writes (replaces) each workload's timers. Not synced.
  virtual absl::Status PutTimers(const std::vector<WorkloadTimers>& timers) = 0;
  virtual absl::Status DeleteTimers(const std::vector<std::string>& workloads) = 0;
  // Every workload's timers, at most options.max_timers.
  virtual absl::StatusOr<std::vector<WorkloadTimers>> AllTimers() const = 0;

  // --- Maintenance. ---

  // Drops what retention no longer keeps (usage points past their tier's age,
  // timeline events past max age or over max_events), as of `now_unix_ms`.
  virtual absl::Status Prune(int64_t now_unix_ms) = 0;
  virtual StoreStats Stats() const = 0;
};

// Hex SHA-256 of `text`.
std::string Sha256Hex(std::string_view text);

// The point-in-time bucket a sample belongs to: `unix_ms` rounded down to `width_ms`.
inline int64_t BucketStart(int64_t unix_ms, int64_t width_ms) {
  const int64_t r = unix_ms % width_ms;
  return r < 0 ? unix_ms - r - width_ms : unix_ms - r;
}

}  // namespace drover
