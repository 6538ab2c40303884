// The pieces store_bench's modes share (bench/store_bench.cc is the program):
// its arguments, a RocksStore in a temporary directory, the synthetic cluster
// status usage is sampled from, and each mode's run. Figures only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "server/status.h"
#include "store/rocks_store.h"

namespace drover::store_bench {

inline constexpr int64_t kMin = 60'000;
inline constexpr int64_t kHour = 60 * kMin;
inline constexpr int64_t kDay = 24 * kHour;
// Where the simulated clock starts (Unix ms): any day boundary far from 0.
inline constexpr int64_t kEpoch = 20'000 * kDay;

struct Args {
  std::string dir = "/tmp";
  std::string only;  // "", apply, mirror, sampling, year, timeline
  int runs = 3;
  int queues = 1000;
  int types = 6;
  int applies = 300;
  int passes = 60;
  double cycle_ms = 19.8;
  double usage_interval_s = 60;  // RecorderOptions::usage_interval_ms
  int days = 365;
  int year_queues = 100;  // the year's queues: 1,000 (the size) with --full, --queues when given
  int64_t timeline_events = 1'000'000;  // in the year's store: StoreOptions::timeline_max_events
  int binds_per_s = 2000;
  int timeline_seconds = 30;  // measured after the timeline is filled to its cap
  std::string lock;  // --lock: a file flock()ed while measuring (not while building the data)
  bool full = false;        // the year at the size, 1,000 queues
  bool as_droverd = false;  // the year written pass by pass as droverd writes it
};

// A RocksStore (droverd's defaults: StoreOptions{}) in a fresh directory under
// `parent`, removed with the object. Exits the program when it cannot open.
class TempStore {
 public:
  explicit TempStore(const std::string& parent);
  ~TempStore();
  // Opens the store (it must be closed).
  void Open();
  // Closes it: RecordStore's destructor writes the hour points held in memory.
  void Close() { store_.reset(); }
  // Bytes of every file in the directory (what du counts, rounded to bytes).
  int64_t Bytes() const;
  // Asks the kernel to drop the directory's files from the page cache, so the
  // next open reads the disk (files must be closed and written).
  void EvictFromPageCache() const;
  RocksStore& store() { return *store_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<RocksStore> store_;
};

// A status of `queues` leaf queues, each with a value on `types` GPU types
// (plus cpu and memory, which are not sampled).
ClusterStatus SyntheticStatus(int queues, int types);

// Exits with a message naming `what` when `s` is not OK.
void Check(const absl::Status& s, const char* what);

// Holds an exclusive flock(2) on `path` for its lifetime (nothing when empty),
// so that measurements run while no build holding the same lock does.
class MeasureLock {
 public:
  explicit MeasureLock(const std::string& path);
  ~MeasureLock();
  MeasureLock(const MeasureLock&) = delete;
  MeasureLock& operator=(const MeasureLock&) = delete;

 private:
  int fd_ = -1;
};

// Milliseconds since `t0` (bench::NowSec()).
double MsSince(double t0);

// --- apply and mirror (store_bench_apply.cc) ---
struct Latency {
  double p50_ms = 0, p99_ms = 0;
};
struct ApplyFigures {
  Latency store;    // Store::Apply alone (one synced batch)
  Latency history;  // ConfigHistory::RecordAdmin without a mirror: the revision and its audit record, both synced
};
ApplyFigures ApplyRun(const Args& a);
// ConfigHistory::RecordAdmin with a KubeRevisionMirror against the test API
// server (tests/k8s_api_server) over HTTP: the ControllerRevision created, then
// the synced revision and audit record. Exits when the server does not start.
Latency MirroredApplyRun(const Args& a);

// --- year (store_bench_year.cc) ---
struct StartUp {
  double open_ms = 0;        // RocksStore::Open: RocksDB's open and the store's Load
  double reads_ms = 0;       // what droverd reads next: Stats, the active revision, every timer
  double first_pass_ms = 0;  // the first usage pass after the open (it looks up each series' stored points)
};
struct YearFigures {
  double build_s = 0;        // writing, pruning and compacting the year
  double points = 0;         // usage points kept (RocksDB's estimate)
  double usage_bytes = 0;    // on disk, compacted: the year of usage alone
  StartUp usage_warm, usage_cold;  // start-up with usage only; warm / cold page cache
  double all_bytes = 0;      // with the timeline at its cap as well
  StartUp all_warm, all_cold;
};
YearFigures YearRun(const Args& a);
// Appends `events` timeline events (a submitted, a bound and a completed event
// per pod, 4,000 a second up to `end_ms`) in batches of 300.
void FillTimeline(RocksStore& store, int64_t events, int64_t end_ms);

}  // namespace drover::store_bench
