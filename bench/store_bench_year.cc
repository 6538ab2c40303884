// store_bench's year: the store droverd keeps after --days of usage sampling at
// its defaults (a pass every 60 s at --queues x --types: RecorderOptions;
// 1-minute points kept 14 days, 1-hour points 400 days: StoreOptions), its size
// on disk once compacted, and start-up as droverd does it.
//
// Built series by series in key order through Store::RecordUsage: the last 14
// days one sample a minute; the hours before that one sample each that carries
// the hour's 60 passes (samples = 60, the sums), which leaves the very hour
// point 60 passes leave (their minute points are what retention deletes). Then
// Prune and a full compaction: the points kept are a year's at the default
// rate. --as-droverd writes it as droverd does instead (every series each
// minute, pruned every hour, RocksDB's own compactions) and also reports the
// store as left before the full compaction: hours at 1,000 queues, a check on
// a few queues that the quick build leaves the same store.
#include <algorithm>
#include <cstdio>

#include "bench/bench_util.h"
#include "bench/store_bench.h"
#include "server/store_recorder.h"

namespace drover::store_bench {
namespace {

uint64_t Mix(uint64_t x) {  // splitmix64: a value per series and minute, the same in every run
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// What moves minute to minute in series `i` at `unix_ms`: usage in whole GPUs
// (guaranteed and max change with the document only).
struct Moving {
  int64_t allocated, pending_demand, pending_count;
};
Moving At(uint64_t i, int64_t unix_ms) {
  const uint64_t h = Mix(i * 1'000'003 + static_cast<uint64_t>(unix_ms / kMin));
  return {1000 * static_cast<int64_t>(h % 17), 1000 * static_cast<int64_t>((h >> 8) % 9),
          static_cast<int64_t>((h >> 16) % 5)};
}

// Series `i`'s sample at `unix_ms` (`shape`: its queue, GPU type, guaranteed and max).
UsageSample Sample(const UsageSample& shape, uint64_t i, int64_t unix_ms) {
  const Moving m = At(i, unix_ms);
  UsageSample s = shape;
  s.set_unix_ms(unix_ms);
  s.set_allocated(m.allocated);
  s.set_borrowed(std::max<int64_t>(0, m.allocated - shape.guaranteed()));
  s.set_pending_demand(m.pending_demand);
  s.set_pending_count(m.pending_count);
  return s;
}

// One sample carrying the hour's 60 passes (their sums, samples = 60), stamped at the hour.
UsageSample HourOfSamples(const UsageSample& shape, uint64_t i, int64_t hour) {
  UsageSample sum = shape;
  int64_t allocated = 0, borrowed = 0, demand = 0, count = 0;
  for (int k = 0; k < 60; ++k) {
    const Moving m = At(i, hour + k * kMin);
    allocated += m.allocated;
    borrowed += std::max<int64_t>(0, m.allocated - shape.guaranteed());
    demand += m.pending_demand;
    count += m.pending_count;
  }
  sum.set_unix_ms(hour);
  sum.set_allocated(allocated);
  sum.set_borrowed(borrowed);
  sum.set_pending_demand(demand);
  sum.set_pending_count(count);
  sum.set_guaranteed(shape.guaranteed() * 60);
  sum.set_effective_max(shape.effective_max() * 60);
  sum.set_samples(60);
  return sum;
}

void BuildBySeries(RocksStore& store, const std::vector<UsageSample>& shapes, int64_t start, int64_t end) {
  const int64_t dense_from = std::max(start, end - StoreOptions().usage_minute_retention_ms);
  std::vector<UsageSample> year;
  for (size_t i = 0; i < shapes.size(); ++i) {
    year.clear();
    for (int64_t t = start; t < dense_from; t += kHour) year.push_back(HourOfSamples(shapes[i], i, t));
    for (int64_t t = dense_from; t < end; t += kMin) year.push_back(Sample(shapes[i], i, t));
    Check(store.RecordUsage(year), "record usage");
  }
  Check(store.Prune(end), "prune");
}

void BuildAsDroverd(RocksStore& store, const std::vector<UsageSample>& shapes, int64_t start, int64_t end) {
  std::vector<UsageSample> pass(shapes.size());
  for (int64_t t = start, next_prune = start; t < end; t += kMin) {
    for (size_t i = 0; i < shapes.size(); ++i) pass[i] = Sample(shapes[i], i, t);
    Check(store.RecordUsage(pass), "record usage");
    if (t >= next_prune) {  // RecorderOptions::prune_interval_ms
      Check(store.Prune(t), "prune");
      next_prune = t + kHour;
    }
  }
}

// One revision in force, as droverd always has.
void ApplyOne(RocksStore& store) {
  Revision r;
  r.set_document(std::string(2090, 'q'));
  r.set_author("bench");
  Check(store.Apply(0, r).status(), "apply");
}

}  // namespace

void FillTimeline(RocksStore& store, int64_t events, int64_t end) {
  std::vector<TimelineEvent> batch;
  for (int64_t n = 0; n < events;) {
    batch.clear();
    for (int i = 0; i < 300 && n < events; ++i, ++n) {
      TimelineEvent& e = batch.emplace_back();
      e.set_workload("team-" + std::to_string(n / 3 % 50) + "/job-" + std::to_string(n / 3));
      e.set_unix_ms(end - (events - n) / 4);  // 4,000 events a second before the end
      e.set_kind(n % 3 == 0   ? store::v1::TIMELINE_EVENT_KIND_SUBMITTED
                 : n % 3 == 1 ? store::v1::TIMELINE_EVENT_KIND_BOUND
                              : store::v1::TIMELINE_EVENT_KIND_COMPLETED);
      if (n % 3 == 1) {
        e.set_node("node-" + std::to_string(n % 10'000));
        e.add_devices(static_cast<int>(n % 8));
      }
    }
    Check(store.AppendTimeline(batch), "append timeline");
  }
}

namespace {

StartUp TimeStartUp(const Args& a, TempStore& t, const ClusterStatus& status, int64_t now, bool cold) {
  MeasureLock lock(a.lock);
  t.Close();
  if (cold) t.EvictFromPageCache();
  StartUp s;
  double t0 = bench::NowSec();
  t.Open();
  s.open_ms = MsSince(t0);
  t0 = bench::NowSec();
  bench::Keep(t.store().Stats());  // what Process::OpenStore logs, RecordInitial and LoadTimers read
  Check(t.store().Active().status(), "read the active revision");
  Check(t.store().AllTimers().status(), "read the timers");
  s.reads_ms = MsSince(t0);
  t0 = bench::NowSec();
  Check(t.store().RecordUsage(StoreRecorder::UsageSamples(status, now)), "first usage pass");
  s.first_pass_ms = MsSince(t0);
  return s;
}

void Compact(TempStore& t) {
  t.Close();  // the hour points held in memory are written
  t.Open();
  Check(t.store().Compact(), "compact");
  t.Close();
  t.Open();
}

}  // namespace

YearFigures YearRun(const Args& a) {
  TempStore t(a.dir);
  const ClusterStatus status = SyntheticStatus(a.year_queues, a.types);
  const std::vector<UsageSample> shapes = StoreRecorder::UsageSamples(status, 0);
  const int64_t end = kEpoch + a.days * kDay;
  YearFigures f;
  const double t0 = bench::NowSec();
  ApplyOne(t.store());
  if (a.as_droverd) {
    BuildAsDroverd(t.store(), shapes, kEpoch, end);
    t.Close();
    t.Open();
    f.points = static_cast<double>(t.store().Stats().usage_points);
    std::printf("  --as-droverd, as left by droverd's writes (before a full compaction): %.1f MB on disk\n", t.Bytes() / 1e6);
    const StartUp left = TimeStartUp(a, t, status, end, /*cold=*/false);
    std::printf("  --as-droverd, as left: start-up (open) %.0f ms, reads %.1f ms, first usage pass %.0f ms\n", left.open_ms,
                left.reads_ms, left.first_pass_ms);
  } else {
    BuildBySeries(t.store(), shapes, kEpoch, end);
  }
  Compact(t);
  f.build_s = bench::NowSec() - t0;
  f.points = static_cast<double>(t.store().Stats().usage_points);
  f.usage_bytes = static_cast<double>(t.Bytes());
  f.usage_warm = TimeStartUp(a, t, status, end + kMin, false);
  f.usage_cold = TimeStartUp(a, t, status, end + 2 * kMin, true);
  if (a.timeline_events > 0) {
    FillTimeline(t.store(), a.timeline_events, end);
    Compact(t);
    f.all_bytes = static_cast<double>(t.Bytes());
    f.all_warm = TimeStartUp(a, t, status, end + 3 * kMin, false);
    f.all_cold = TimeStartUp(a, t, status, end + 4 * kMin, true);
  }
  return f;
}

}  // namespace drover::store_bench
