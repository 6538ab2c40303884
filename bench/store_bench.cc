// store_bench: what the store (store/) costs droverd, at droverd's defaults
// (StoreOptions{}, RecorderOptions{}). RocksStore in a temporary directory under
// --dir (default /tmp), each figure the median of --runs runs:
//   apply      configuration apply latency p50 / p99: Store::Apply alone, and an
//              admin apply without a cluster (ConfigHistory: revision + audit, synced)
//   mirror     the same admin apply with mirroring, as the cluster leader does it:
//              a ControllerRevision created through the Python test API server
//              (tests/k8s_api_server) over HTTP, then the synced local writes
//   sampling   one usage-sampling pass at --queues x --types: listing the samples
//              from the published status on the loop thread, against --cycle-ms
//              (status_bench's cycle p50 at 10k nodes), and writing them (the usage
//              writer thread's part)
//   year       the store after --days of sampling every 60 s with retention at 100
//              queues x --types, 1,000 with --full (store_bench_year.cc): size on disk compacted, start-up (open,
//              droverd's first reads, the first usage pass), warm and cold page
//              cache, without and with the timeline at its cap
//   timeline   timeline writes at --binds-per-s (submitted, bound and completed per
//              pod, written per --cycle-ms cycle) into a timeline already at its
//              cap (1M events), so every append also prunes: share of one core
//
//   store_bench                        # all, 3 runs
//   store_bench --only year            # 100 queues x 6 GPU types
//   store_bench --only year --full     # 1,000 queues (the size)
// Figures only: nothing asserts a time.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "bench/store_bench.h"
#include "server/store_recorder.h"
#include "spdlog/spdlog.h"

namespace drover::store_bench {

TempStore::TempStore(const std::string& parent) {
  std::string tmpl = parent + "/drover-store-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) Check(absl::InternalError(tmpl), "create a temporary directory");
  path_ = tmpl + "/db";
  Open();
}

TempStore::~TempStore() {
  store_.reset();
  std::filesystem::remove_all(std::filesystem::path(path_).parent_path());
}

void TempStore::Open() {
  absl::StatusOr<std::unique_ptr<RocksStore>> s = RocksStore::Open(path_);
  Check(s.status(), "open the store");
  store_ = *std::move(s);
}

int64_t TempStore::Bytes() const {
  int64_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(path_)) {
    if (e.is_regular_file()) n += static_cast<int64_t>(e.file_size());
  }
  return n;
}

void TempStore::EvictFromPageCache() const {
  for (const auto& e : std::filesystem::recursive_directory_iterator(path_)) {
    if (!e.is_regular_file()) continue;
    const int fd = open(e.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
}

ClusterStatus SyntheticStatus(int queues, int types) {
  ClusterStatus s;
  for (int q = 0; q < queues; ++q) {
    QueueStatus& qs = s.queues.emplace_back();
    qs.path = "root.team-" + std::to_string(q / 32) + ".q-" + std::to_string(q);
    qs.pending_pods = q % 7;
    for (int t = 0; t < types; ++t) {
      qs.dims.push_back(QueueDimStatus{"GPU-TYPE-" + std::to_string(t), 8000, 16000, 1000 * (q % 17), 0, 500 * (q % 3)});
    }
    qs.dims.push_back(QueueDimStatus{"cpu", 64000, 128000, 1000, 0, 0});
    qs.dims.push_back(QueueDimStatus{"memory", 1 << 30, 1 << 31, 1 << 20, 0, 0});
  }
  return s;
}

void Check(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "store_bench: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

MeasureLock::MeasureLock(const std::string& path) {
  if (path.empty()) return;
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0 || flock(fd_, LOCK_EX) != 0) Check(absl::UnavailableError(path), "take --lock");
}

MeasureLock::~MeasureLock() {
  if (fd_ >= 0) close(fd_);  // releases the lock
}

double MsSince(double t0) { return (bench::NowSec() - t0) * 1000; }

namespace {

struct SamplingFigures {
  double list_p50 = 0, write_p50 = 0, write_p99 = 0;
};

// Sampling passes a minute apart: listing the samples (the loop thread's part) and writing them (the usage writer's).
SamplingFigures SamplingRun(const Args& a) {
  TempStore t(a.dir);
  const ClusterStatus status = SyntheticStatus(a.queues, a.types);
  std::vector<double> list_ms, write_ms;
  for (int i = 0; i < a.passes; ++i) {
    const double t0 = bench::NowSec();
    std::vector<UsageSample> samples = StoreRecorder::UsageSamples(status, kEpoch + i * kMin);
    list_ms.push_back(MsSince(t0));
    const double t1 = bench::NowSec();
    Check(t.store().RecordUsage(samples), "record usage");
    write_ms.push_back(MsSince(t1));
  }
  return {bench::Percentile(list_ms, 0.5), bench::Percentile(write_ms, 0.5), bench::Percentile(write_ms, 0.99)};
}

// Share of one core the timeline writes take at a.binds_per_s, over a.timeline_seconds
// simulated seconds, once the timeline holds StoreOptions::timeline_max_events.
double TimelineRun(const Args& a) {
  TempStore t(a.dir);
  const int64_t cap = StoreOptions().timeline_max_events;
  FillTimeline(t.store(), cap, kEpoch);
  MeasureLock lock(a.lock);
  const int cycles_per_s = std::max(1, static_cast<int>(1000 / a.cycle_ms));
  const int per_cycle = std::max(1, a.binds_per_s / cycles_per_s);
  int64_t pod = cap;  // new names after the filled ones
  double busy = 0;
  for (int c = 0; c < a.timeline_seconds * cycles_per_s; ++c) {
    std::vector<TimelineEvent> batch;
    for (int i = 0; i < per_cycle; ++i, ++pod) {
      for (auto kind : {store::v1::TIMELINE_EVENT_KIND_SUBMITTED, store::v1::TIMELINE_EVENT_KIND_BOUND,
                        store::v1::TIMELINE_EVENT_KIND_COMPLETED}) {
        TimelineEvent& e = batch.emplace_back();
        e.set_workload("team-" + std::to_string(pod % 50) + "/job-" + std::to_string(pod));
        e.set_unix_ms(kEpoch + c * 1000 / cycles_per_s);
        e.set_kind(kind);
        if (kind == store::v1::TIMELINE_EVENT_KIND_BOUND) {
          e.set_node("node-" + std::to_string(pod % 10000));
          e.add_devices(static_cast<int>(pod % 8));
        }
      }
    }
    const double t0 = bench::NowSec();
    Check(t.store().AppendTimeline(batch), "append timeline");
    busy += bench::NowSec() - t0;
  }
  return busy / a.timeline_seconds;
}

bool Want(const Args& a, const char* what) { return a.only.empty() || a.only == what; }

template <typename F>
std::vector<double> Each(const std::vector<F>& runs, double (*get)(const F&)) {
  std::vector<double> out;
  for (const F& f : runs) out.push_back(get(f));
  return out;
}

void PrintApply(const Args& a, const std::vector<ApplyFigures>& runs) {
  auto med = [&](double (*get)(const ApplyFigures&)) { return bench::Median(Each(runs, get)); };
  std::printf("apply, local (%d applies of a 2 KB document, %s, median of %d runs): Store::Apply p50 %.2f ms, p99 %.2f ms; "
              "admin apply without a cluster (revision + audit record, each synced) p50 %.2f ms, p99 %.2f ms\n",
              a.applies, a.dir.c_str(), a.runs, med([](const ApplyFigures& f) { return f.store.p50_ms; }),
              med([](const ApplyFigures& f) { return f.store.p99_ms; }),
              med([](const ApplyFigures& f) { return f.history.p50_ms; }),
              med([](const ApplyFigures& f) { return f.history.p99_ms; }));
}

void PrintStartUp(const char* what, const std::vector<StartUp>& runs) {
  auto med = [&](double (*get)(const StartUp&)) { return bench::Median(Each(runs, get)); };
  std::printf("    %s: open %.0f ms, then droverd's reads %.1f ms, first usage pass %.0f ms\n", what,
              med([](const StartUp& s) { return s.open_ms; }), med([](const StartUp& s) { return s.reads_ms; }),
              med([](const StartUp& s) { return s.first_pass_ms; }));
}

void PrintYear(const Args& a, const std::vector<YearFigures>& runs) {
  auto med = [&](double (*get)(const YearFigures&)) { return bench::Median(Each(runs, get)); };
  auto starts = [&](StartUp YearFigures::*m) {
    std::vector<StartUp> v;
    for (const YearFigures& f : runs) v.push_back(f.*m);
    return v;
  };
  std::printf("year (%d days at %d queues x %d GPU types, sampled every %.0f s, retention 14 d of minutes / 400 d of "
              "hours%s; median of %d runs): %.1f M points kept, %.1f MB on disk compacted; built in %.0f s\n",
              a.days, a.year_queues, a.types, a.usage_interval_s, a.as_droverd ? ", written as droverd does" : "", a.runs,
              med([](const YearFigures& f) { return f.points; }) / 1e6,
              med([](const YearFigures& f) { return f.usage_bytes; }) / 1e6,
              med([](const YearFigures& f) { return f.build_s; }));
  PrintStartUp("start-up, warm page cache", starts(&YearFigures::usage_warm));
  PrintStartUp("start-up, cold page cache", starts(&YearFigures::usage_cold));
  if (a.timeline_events <= 0) return;
  std::printf("  with %lld timeline events as well (the default cap is 1M): %.1f MB on disk compacted\n",
              static_cast<long long>(a.timeline_events), med([](const YearFigures& f) { return f.all_bytes; }) / 1e6);
  PrintStartUp("start-up, warm page cache", starts(&YearFigures::all_warm));
  PrintStartUp("start-up, cold page cache", starts(&YearFigures::all_cold));
}

}  // namespace
}  // namespace drover::store_bench

int main(int argc, char** argv) {
  using namespace drover;
  using namespace drover::store_bench;
  Args a;
  CLI::App app{"store_bench: what the store costs droverd (figures, medians of --runs)"};
  app.add_option("--dir", a.dir, "parent of the temporary databases")->capture_default_str();
  app.add_option("--only", a.only, "apply, mirror, sampling, year or timeline")
      ->check(CLI::IsMember({"apply", "mirror", "sampling", "year", "timeline"}));
  app.add_option("--runs", a.runs, "runs per figure (medians)")->capture_default_str()->check(CLI::Range(1, 100));
  app.add_option("--applies", a.applies, "applies per run (apply, mirror)")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--queues", a.queues, "queues")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--types", a.types, "GPU types per queue")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--cycle-ms", a.cycle_ms, "the cycle time to compare with (status_bench p50)")->capture_default_str();
  app.add_option("--days", a.days, "length of the simulated year")->capture_default_str()->check(CLI::Range(1, 3650));
  app.add_option("--timeline-events", a.timeline_events, "timeline events in the year's store (0: none)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{10'000'000}));
  app.add_option("--binds-per-s", a.binds_per_s, "bind rate for the timeline figure")->capture_default_str();
  app.add_option("--timeline-seconds", a.timeline_seconds, "simulated seconds of timeline writes measured")
      ->capture_default_str()->check(CLI::Range(1, 3600));
  app.add_option("--lock", a.lock, "a file to flock while measuring, not while building data (e.g. the build lock)");
  app.add_flag("--full", a.full, "year: at the issue's size, 1,000 queues (default 100; --queues overrides both)");
  app.add_flag("--as-droverd", a.as_droverd, "year: write every pass as droverd does (every series each minute, "
                                             "pruned hourly) rather than series by series; hours at 1,000 queues");
  CLI11_PARSE(app, argc, argv);
  a.year_queues = app.count("--queues") > 0 ? a.queues : a.full ? 1000 : 100;
  spdlog::set_level(spdlog::level::warn);  // ConfigHistory logs each apply's audit line at info
  if (Want(a, "apply")) {
    std::vector<ApplyFigures> runs;
    for (int r = 0; r < a.runs; ++r) {
      MeasureLock lock(a.lock);
      runs.push_back(ApplyRun(a));
    }
    PrintApply(a, runs);
  }
  if (Want(a, "mirror")) {
    std::vector<double> p50, p99;
    for (int r = 0; r < a.runs; ++r) {
      MeasureLock lock(a.lock);
      const Latency l = MirroredApplyRun(a);
      p50.push_back(l.p50_ms);
      p99.push_back(l.p99_ms);
    }
    std::printf("apply with mirroring (%d admin applies: ControllerRevision created through the Python test API server "
                "over HTTP on loopback, then revision + audit synced in %s; median of %d runs): p50 %.2f ms, p99 %.2f ms\n",
                a.applies, a.dir.c_str(), a.runs, bench::Median(p50), bench::Median(p99));
  }
  if (Want(a, "sampling")) {
    std::vector<double> list, write, write99;
    for (int r = 0; r < a.runs; ++r) {
      MeasureLock lock(a.lock);
      SamplingFigures f = SamplingRun(a);
      list.push_back(f.list_p50);
      write.push_back(f.write_p50);
      write99.push_back(f.write_p99);
    }
    const double on_loop = bench::Median(list);
    const double cycles_per_interval = a.usage_interval_s * 1000 / a.cycle_ms;
    std::printf("sampling (%d queues x %d GPU types = %d samples a pass, every %.0f s): on the loop thread (listing) "
                "p50 %.2f ms = %.1f%% of the %.1f ms cycle it runs after, %.4f%% per cycle amortized; written by the "
                "usage writer thread p50 %.2f ms, p99 %.2f ms a pass (%.3f%% of one core)\n",
                a.queues, a.types, a.queues * a.types, a.usage_interval_s, on_loop, 100 * on_loop / a.cycle_ms,
                a.cycle_ms, 100 * on_loop / cycles_per_interval / a.cycle_ms, bench::Median(write),
                bench::Median(write99), 100 * bench::Median(write) / (a.usage_interval_s * 1000));
  }
  if (Want(a, "year")) {
    std::vector<YearFigures> runs;
    for (int r = 0; r < a.runs; ++r) runs.push_back(YearRun(a));
    PrintYear(a, runs);
  }
  if (Want(a, "timeline")) {
    std::vector<double> tl;
    for (int r = 0; r < a.runs; ++r) tl.push_back(TimelineRun(a));
    std::printf("timeline (%d binds/s, 3 events a pod, written per %.1f ms cycle, the timeline at its 1M-event cap; "
                "median of %d runs): %.1f%% of one core (%.2f us an event)\n",
                a.binds_per_s, a.cycle_ms, a.runs, 100 * bench::Median(tl), 1e6 * bench::Median(tl) / (3.0 * a.binds_per_s));
  }
  return 0;
}
