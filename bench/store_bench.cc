// store_bench: what the store (store/) costs droverd. RocksStore in a temporary
// directory under --dir (default /tmp), each figure the median of --runs runs:
//   apply      configuration apply latency (synced revision + pointer batch), p50 / p99
//   sampling   one usage-sampling pass at --queues x --types (StoreRecorder::UsageSamples
//              from a ClusterStatus + Store::RecordUsage), against --cycle-ms (status_bench's
//              cycle p50 at 10k nodes and 1,057 queues): the pass itself, and per cycle
//              amortized over the --usage-interval
//   year       database size and start-up (RocksStore::Open) after a simulated year of
//              samples at --queues x --types: every minute for the last 14 days, one an
//              hour before that (what the hour points keep), pruned daily as droverd does
//   timeline   timeline write cost at --binds-per-s (a submitted and a bound event per bind,
//              written per cycle of --cycle-ms), as a share of one core
//
//   store_bench                       # all, 3 runs
//   store_bench --only year --days 30 # a smaller year
// Figures only: nothing asserts a time.
#include <filesystem>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "server/store_recorder.h"
#include "store/rocks_store.h"

namespace drover {
namespace {

constexpr int64_t kMin = 60'000;
constexpr int64_t kDay = 24 * 3'600'000;

struct Args {
  std::string dir = "/tmp";
  std::string only;  // "", apply, sampling, year, timeline
  int runs = 3;
  int queues = 1000;
  int types = 6;
  int applies = 200;
  int passes = 60;
  double cycle_ms = 19.8;
  double usage_interval_s = 60;
  int days = 365;
  int binds_per_s = 2000;
};

struct TempStore {
  explicit TempStore(const std::string& parent) {
    std::string tmpl = parent + "/drover-store-bench-XXXXXX";
    path = mkdtemp(tmpl.data());
    Open();
  }
  ~TempStore() {
    store.reset();
    std::filesystem::remove_all(path);
  }
  void Open() {
    absl::StatusOr<std::unique_ptr<RocksStore>> s = RocksStore::Open(path + "/db");
    if (!s.ok()) {
      std::fprintf(stderr, "store_bench: %s\n", s.status().ToString().c_str());
      std::exit(1);
    }
    store = *std::move(s);
  }
  int64_t Bytes() const {
    int64_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(path)) {
      if (e.is_regular_file()) n += static_cast<int64_t>(e.file_size());
    }
    return n;
  }
  std::string path;
  std::unique_ptr<RocksStore> store;
};

double Ms(double t0) { return (bench::NowSec() - t0) * 1000; }

// {p50, p99} of apply latency in ms.
std::pair<double, double> ApplyRun(const Args& a) {
  TempStore t(a.dir);
  std::string doc(2090, 'q');  // examples/queues.yaml's size
  std::vector<double> ms;
  for (int i = 0; i < a.applies; ++i) {
    doc[static_cast<size_t>(i) % doc.size()] = static_cast<char>('a' + i % 26);
    Revision r;
    r.set_document(doc);
    r.set_author("bench");
    const double t0 = bench::NowSec();
    if (!t.store->Apply(i, r).ok()) std::exit(1);
    ms.push_back(Ms(t0));
  }
  return {bench::Percentile(ms, 0.5), bench::Percentile(ms, 0.99)};
}

ClusterStatus SyntheticStatus(const Args& a) {
  ClusterStatus s;
  for (int q = 0; q < a.queues; ++q) {
    QueueStatus& qs = s.queues.emplace_back();
    qs.path = "root.team-" + std::to_string(q / 32) + ".q-" + std::to_string(q);
    qs.pending_pods = q % 7;
    for (int t = 0; t < a.types; ++t) {
      qs.dims.push_back(QueueDimStatus{"GPU-TYPE-" + std::to_string(t), 8000, 16000, 1000 * (q % 17), 0, 500 * (q % 3)});
    }
    qs.dims.push_back(QueueDimStatus{"cpu", 64000, 128000, 1000, 0, 0});
    qs.dims.push_back(QueueDimStatus{"memory", 1 << 30, 1 << 31, 1 << 20, 0, 0});
  }
  return s;
}

struct SamplingFigures {
  double list_p50 = 0, write_p50 = 0, write_p99 = 0;
};

// One sampling pass: listing the samples (the loop thread's part) and writing them (the usage writer's).
SamplingFigures SamplingRun(const Args& a) {
  TempStore t(a.dir);
  const ClusterStatus status = SyntheticStatus(a);
  std::vector<double> list_ms, write_ms;
  for (int i = 0; i < a.passes; ++i) {
    const double t0 = bench::NowSec();
    std::vector<UsageSample> samples = StoreRecorder::UsageSamples(status, 1000 * kDay + i * kMin);
    list_ms.push_back(Ms(t0));
    const double t1 = bench::NowSec();
    if (!t.store->RecordUsage(samples).ok()) std::exit(1);
    write_ms.push_back(Ms(t1));
  }
  return {bench::Percentile(list_ms, 0.5), bench::Percentile(write_ms, 0.5), bench::Percentile(write_ms, 0.99)};
}

struct YearFigures {
  double write_s = 0, bytes = 0, open_ms = 0, points = 0;
};

YearFigures YearRun(const Args& a) {
  TempStore t(a.dir);
  const ClusterStatus status = SyntheticStatus(a);
  const int64_t start = 1000 * kDay;
  const int64_t end = start + a.days * kDay;
  const int64_t dense_from = end - 14 * kDay;
  const double t0 = bench::NowSec();
  int64_t next_prune = start + kDay;
  for (int64_t ms = start; ms < end; ms += ms < dense_from ? 60 * kMin : kMin) {
    if (!t.store->RecordUsage(StoreRecorder::UsageSamples(status, ms)).ok()) std::exit(1);
    if (ms >= next_prune) {
      if (!t.store->Prune(ms).ok()) std::exit(1);
      next_prune += kDay;
    }
  }
  if (!t.store->Prune(end).ok()) std::exit(1);
  YearFigures f;
  f.write_s = bench::NowSec() - t0;
  f.points = static_cast<double>(t.store->Stats().usage_points);
  t.store.reset();  // close
  f.bytes = static_cast<double>(t.Bytes());
  const double t1 = bench::NowSec();
  t.Open();
  f.open_ms = Ms(t1);
  return f;
}

// Share of one core the timeline writes take at a.binds_per_s, over 10 simulated seconds.
double TimelineRun(const Args& a) {
  TempStore t(a.dir);
  const int cycles_per_s = std::max(1, static_cast<int>(1000 / a.cycle_ms));
  const int per_cycle = std::max(1, a.binds_per_s / cycles_per_s);
  int64_t pod = 0;
  double busy = 0;
  for (int c = 0; c < 10 * cycles_per_s; ++c) {
    std::vector<TimelineEvent> batch;
    for (int i = 0; i < per_cycle; ++i, ++pod) {
      for (auto kind : {store::v1::TIMELINE_EVENT_KIND_SUBMITTED, store::v1::TIMELINE_EVENT_KIND_BOUND}) {
        TimelineEvent& e = batch.emplace_back();
        e.set_workload("team-" + std::to_string(pod % 50) + "/job-" + std::to_string(pod));
        e.set_unix_ms(1000 * kDay + c * 50);
        e.set_kind(kind);
        e.set_node("node-" + std::to_string(pod % 10000));
        e.add_devices(static_cast<int>(pod % 8));
      }
    }
    const double t0 = bench::NowSec();
    if (!t.store->AppendTimeline(batch).ok()) std::exit(1);
    busy += bench::NowSec() - t0;
  }
  return busy / 10.0;
}

bool Want(const Args& a, const char* what) { return a.only.empty() || a.only == what; }

}  // namespace
}  // namespace drover

int main(int argc, char** argv) {
  using namespace drover;
  Args a;
  CLI::App app{"store_bench: what the store costs droverd (figures, medians of --runs)"};
  app.add_option("--dir", a.dir, "parent of the temporary databases")->capture_default_str();
  app.add_option("--only", a.only, "apply, sampling, year or timeline");
  app.add_option("--runs", a.runs, "runs per figure (medians)")->capture_default_str();
  app.add_option("--queues", a.queues, "queues")->capture_default_str();
  app.add_option("--types", a.types, "GPU types per queue")->capture_default_str();
  app.add_option("--cycle-ms", a.cycle_ms, "the cycle time to compare with (status_bench p50)")->capture_default_str();
  app.add_option("--days", a.days, "length of the simulated year")->capture_default_str();
  app.add_option("--binds-per-s", a.binds_per_s, "bind rate for the timeline figure")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::vector<double> p50, p99, year_write, year_bytes, year_open, year_points, tl;
  for (int r = 0; r < a.runs; ++r) {
    if (Want(a, "apply")) {
      auto [m, n] = ApplyRun(a);
      p50.push_back(m);
      p99.push_back(n);
    }
  }
  if (Want(a, "apply")) {
    std::printf("apply (%d synced applies of 2 KB, %s): p50 %.2f ms, p99 %.2f ms\n", a.applies, a.dir.c_str(),
                bench::Median(p50), bench::Median(p99));
  }
  if (Want(a, "sampling")) {
    std::vector<double> list, write, write99;
    for (int r = 0; r < a.runs; ++r) {
      SamplingFigures f = SamplingRun(a);
      list.push_back(f.list_p50);
      write.push_back(f.write_p50);
      write99.push_back(f.write_p99);
    }
    const double on_loop = bench::Median(list);
    const double cycles_per_interval = a.usage_interval_s * 1000 / a.cycle_ms;
    std::printf("sampling (%d queues x %d GPU types = %d samples a pass): on the loop thread (listing) p50 %.2f ms = "
                "%.1f%% of the %.1f ms cycle it runs after, %.4f%% per cycle over %.0f s; written by the usage writer "
                "thread p50 %.2f ms, p99 %.2f ms a pass (%.3f%% of one core)\n",
                a.queues, a.types, a.queues * a.types, on_loop, 100 * on_loop / a.cycle_ms, a.cycle_ms,
                100 * on_loop / cycles_per_interval / a.cycle_ms, a.usage_interval_s, bench::Median(write),
                bench::Median(write99), 100 * bench::Median(write) / (a.usage_interval_s * 1000));
  }
  if (Want(a, "year")) {
    for (int r = 0; r < a.runs; ++r) {
      YearFigures f = YearRun(a);
      year_write.push_back(f.write_s);
      year_bytes.push_back(f.bytes);
      year_open.push_back(f.open_ms);
      year_points.push_back(f.points);
    }
    std::printf("year (%d days at %d queues x %d GPU types, ~%.1f M points kept): %.0f MB on disk, start-up (open) "
                "%.0f ms; writing it took %.0f s\n",
                a.days, a.queues, a.types, bench::Median(year_points) / 1e6, bench::Median(year_bytes) / 1e6,
                bench::Median(year_open), bench::Median(year_write));
  }
  if (Want(a, "timeline")) {
    for (int r = 0; r < a.runs; ++r) tl.push_back(TimelineRun(a));
    std::printf("timeline (%d binds/s, 2 events each, written per %.1f ms cycle): %.1f%% of one core (%.2f us an event)\n",
                a.binds_per_s, a.cycle_ms, 100 * bench::Median(tl), 1e6 * bench::Median(tl) / (2.0 * a.binds_per_s));
  }
  return 0;
}
