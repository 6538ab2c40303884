// RecordStore: usage roll-ups, workload timelines, timers and pruning.
#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "core/strings.h"
#include "spdlog/spdlog.h"
#include "store/record_store.h"

namespace drover {
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 3'600'000;  // minute retention must be at least this (hour points are rebuilt from minutes)
constexpr int64_t kMaxUsagePoints = int64_t{kMaxPage} * 10;
// Text fields of a timeline event are cut to this many bytes.
constexpr size_t kMaxEventFieldBytes = 1024;
constexpr int kMaxEventDevices = 64;
// Deletes are written in batches of at most this many keys.
constexpr size_t kPruneBatch = 10'000;

void AddInto(UsageSample* sums, const UsageSample& s) {
  sums->set_allocated(sums->allocated() + s.allocated());
  sums->set_guaranteed(sums->guaranteed() + s.guaranteed());
  sums->set_effective_max(sums->effective_max() + s.effective_max());
  sums->set_borrowed(sums->borrowed() + s.borrowed());
  sums->set_pending_demand(sums->pending_demand() + s.pending_demand());
  sums->set_pending_count(sums->pending_count() + s.pending_count());
  sums->set_samples(sums->samples() + std::max<int64_t>(1, s.samples()));
}

// The mean of `sums` over its samples, stamped at `unix_ms`.
UsageSample MeanOf(const UsageSample& sums, int64_t unix_ms) {
  UsageSample m = sums;
  const int64_t n = std::max<int64_t>(1, sums.samples());
  m.set_unix_ms(unix_ms);
  m.set_allocated(sums.allocated() / n);
  m.set_guaranteed(sums.guaranteed() / n);
  m.set_effective_max(sums.effective_max() / n);
  m.set_borrowed(sums.borrowed() / n);
  m.set_pending_demand(sums.pending_demand() / n);
  m.set_pending_count(sums.pending_count() / n);
  return m;
}

void CutEvent(TimelineEvent* e) {
  for (std::string* f : {e->mutable_workload(), e->mutable_reason(), e->mutable_message(), e->mutable_node(),
                         e->mutable_by()}) {
    if (f->size() > kMaxEventFieldBytes) *f = CutForMessage(*f, kMaxEventFieldBytes);
  }
  if (e->devices_size() > kMaxEventDevices) e->mutable_devices()->Truncate(kMaxEventDevices);
}

}  // namespace

std::string UsageSeriesPrefix(std::string_view queue, std::string_view gpu_type) {
  return StrCat(queue, std::string_view("\0", 1), gpu_type, std::string_view("\0", 1));
}

std::string TimelinePrefix(std::string_view workload) { return StrCat(workload, std::string_view("\0", 1)); }

absl::Status RecordStore::LoadSeries() {
  MutexLock lock(&usage_mu_);
  // One seek per series: after a series' first key, skip past all its points.
  for (Family f : {Family::kUsageHour, Family::kUsageMinute}) {
    std::string begin;
    while (static_cast<int64_t>(series_.size()) < options_.max_usage_series) {
      std::string found;
      absl::Status s = kv_->Scan(f, begin, "", false, [&](std::string_view k, std::string_view) {
        found = std::string(k);
        return false;
      });
      if (!s.ok()) return s;
      if (found.size() < 8) break;
      std::string prefix = found.substr(0, found.size() - 8);
      begin = prefix + "\xff";
      series_.try_emplace(std::move(prefix));
    }
  }
  return absl::OkStatus();
}

void RecordStore::StartPoint(const UsageSample& s, int64_t bucket, Point* point) {
  point->bucket = bucket;
  point->newest = std::max(point->newest, bucket);
  point->sums.Clear();
  point->sums.set_schema_version(kSchemaVersion);
  point->sums.set_queue(s.queue());
  point->sums.set_gpu_type(s.gpu_type());
  point->sums.set_unix_ms(bucket);
}

absl::Status RecordStore::FoldMinute(const std::string& prefix, const UsageSample& s, Point* point, KvBatch* batch) {
  const int64_t bucket = BucketStart(s.unix_ms(), kMinuteMs);
  std::string key = prefix + EncodeU64(static_cast<uint64_t>(std::max<int64_t>(0, bucket)));
  if (point->bucket != bucket) {
    // A bucket later than any held since open is new (this store is the only
    // writer); any other continues the stored point if there is one.
    const bool look = bucket <= point->newest || point->newest < 0;
    StartPoint(s, bucket, point);
    if (look) {
      absl::StatusOr<std::optional<std::string>> stored = kv_->Get(Family::kUsageMinute, key);
      if (!stored.ok()) return stored.status();
      if (stored->has_value() && !Decode(Family::kUsageMinute, key, **stored, &point->sums)) StartPoint(s, bucket, point);
    }
  }
  AddInto(&point->sums, s);
  batch->Put(Family::kUsageMinute, std::move(key), point->sums.SerializeAsString());
  return absl::OkStatus();
}

absl::Status RecordStore::FoldHour(const std::string& prefix, const UsageSample& s, Point* point, KvBatch* batch) {
  const int64_t bucket = BucketStart(s.unix_ms(), kHourMs);
  if (point->bucket != bucket) {
    if (point->bucket >= 0) {  // the hour held so far is complete
      batch->Put(Family::kUsageHour, prefix + EncodeU64(static_cast<uint64_t>(point->bucket)),
                 point->sums.SerializeAsString());
    }
    const bool look = bucket <= point->newest || point->newest < 0;
    if (point->newest < 0) {
      if (absl::Status st = RepairHours(prefix, s, bucket, batch); !st.ok()) return st;
    }
    StartPoint(s, bucket, point);
    if (look) {
      // The minute points already stored for this hour hold all of it (the
      // stored hour point, if any, only what was written at a close).
      int64_t minutes = 0;
      absl::Status st = kv_->Scan(Family::kUsageMinute, prefix + EncodeU64(static_cast<uint64_t>(bucket)),
                                  prefix + EncodeU64(static_cast<uint64_t>(bucket + kHourMs)), false,
                                  [&](std::string_view k, std::string_view v) {
                                    UsageSample m;
                                    if (Decode(Family::kUsageMinute, k, v, &m)) AddInto(&point->sums, m);
                                    ++minutes;
                                    return true;
                                  });
      if (!st.ok()) return st;
      const std::string key = prefix + EncodeU64(static_cast<uint64_t>(bucket));
      absl::StatusOr<std::optional<std::string>> stored = minutes > 0 ? std::optional<std::string>() : kv_->Get(Family::kUsageHour, key);
      if (!stored.ok()) return stored.status();
      if (stored->has_value() && !Decode(Family::kUsageHour, key, **stored, &point->sums)) StartPoint(s, bucket, point);
    }
  }
  AddInto(&point->sums, s);
  return absl::OkStatus();
}

absl::Status RecordStore::RepairHours(const std::string& prefix, const UsageSample& s, int64_t bucket,
                                      KvBatch* batch) {
  int64_t newest_hour = -1;
  absl::Status st = kv_->Scan(Family::kUsageHour, prefix, prefix + EncodeU64(static_cast<uint64_t>(bucket)), true,
                              [&](std::string_view k, std::string_view) {
                                if (k.size() >= 8) newest_hour = static_cast<int64_t>(DecodeU64(k.substr(k.size() - 8)));
                                return false;
                              });
  if (!st.ok()) return st;
  const int64_t from = std::max<int64_t>({0, newest_hour + kHourMs, bucket - options_.usage_minute_retention_ms});
  if (from >= bucket) return absl::OkStatus();
  Point hour;
  auto flush = [&] {
    if (hour.bucket >= 0) {
      batch->Put(Family::kUsageHour, prefix + EncodeU64(static_cast<uint64_t>(hour.bucket)), hour.sums.SerializeAsString());
    }
  };
  st = kv_->Scan(Family::kUsageMinute, prefix + EncodeU64(static_cast<uint64_t>(from)),
                 prefix + EncodeU64(static_cast<uint64_t>(bucket)), false, [&](std::string_view k, std::string_view v) {
                   UsageSample m;
                   if (!Decode(Family::kUsageMinute, k, v, &m)) return true;
                   if (const int64_t b = BucketStart(m.unix_ms(), kHourMs); b != hour.bucket) {
                     flush();
                     StartPoint(s, b, &hour);
                   }
                   AddInto(&hour.sums, m);
                   return true;
                 });
  flush();
  return st;
}

RecordStore::~RecordStore() {
  KvBatch batch;
  {
    MutexLock lock(&usage_mu_);
    for (const auto& [prefix, series] : series_) {
      if (series.hour.bucket < 0) continue;
      batch.Put(Family::kUsageHour, prefix + EncodeU64(static_cast<uint64_t>(series.hour.bucket)),
                series.hour.sums.SerializeAsString());
    }
  }
  if (!batch.empty() && kv_) (void)kv_->Write(batch, /*sync=*/false);  // best effort: rebuilt from minutes anyway
}

absl::Status RecordStore::RecordUsage(const std::vector<UsageSample>& samples) {
  // In key order: RocksDB's memtable inserts ascending keys far faster than scattered ones.
  std::vector<const UsageSample*> sorted;
  sorted.reserve(samples.size());
  for (const UsageSample& s : samples) sorted.push_back(&s);
  std::sort(sorted.begin(), sorted.end(), [](const UsageSample* a, const UsageSample* b) {
    return std::forward_as_tuple(a->queue(), a->gpu_type(), a->unix_ms()) <
           std::forward_as_tuple(b->queue(), b->gpu_type(), b->unix_ms());
  });
  MutexLock lock(&usage_mu_);
  KvBatch batch;
  int64_t dropped = 0;
  for (const UsageSample* sample : sorted) {
    const UsageSample& s = *sample;
    std::string prefix = UsageSeriesPrefix(s.queue(), s.gpu_type());
    auto it = series_.find(prefix);
    if (it == series_.end()) {
      if (static_cast<int64_t>(series_.size()) >= options_.max_usage_series) {
        ++dropped;
        continue;
      }
      it = series_.try_emplace(prefix).first;
    }
    if (absl::Status st = FoldMinute(prefix, s, &it->second.minute, &batch); !st.ok()) return st;
    if (absl::Status st = FoldHour(prefix, s, &it->second.hour, &batch); !st.ok()) return st;
  }
  if (absl::Status st = kv_->Write(batch, /*sync=*/false); !st.ok()) return st;
  if (dropped > 0) {
    usage_dropped_ += dropped;
    return absl::ResourceExhaustedError(StrCat("store: ", dropped, " usage samples dropped: the store keeps at most ",
                                               options_.max_usage_series, " queue x GPU type series"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<UsageSample>> RecordStore::QueryUsage(const UsageQuery& q) const {
  if (q.step_ms < kMinuteMs) {
    return absl::InvalidArgumentError(StrCat("store: usage step ", q.step_ms, " ms is under the minimum, 60000 ms"));
  }
  if (q.to_unix_ms <= q.from_unix_ms || q.from_unix_ms < 0) {
    return absl::InvalidArgumentError(StrCat("store: usage window [", q.from_unix_ms, ", ", q.to_unix_ms, ") is empty"));
  }
  if ((q.to_unix_ms - q.from_unix_ms) / q.step_ms >= kMaxUsagePoints) {
    return absl::InvalidArgumentError(StrCat("store: usage window / step gives more than ", kMaxUsagePoints,
                                             " points; take a larger step"));
  }
  const bool hourly = q.step_ms >= kHourMs;
  const Family family = hourly ? Family::kUsageHour : Family::kUsageMinute;
  const std::string prefix = UsageSeriesPrefix(q.queue, q.gpu_type);
  const int64_t first = BucketStart(q.from_unix_ms, hourly ? kHourMs : kMinuteMs);
  std::vector<UsageSample> out;
  UsageSample sums;
  int64_t step_index = -1;
  auto flush = [&] {
    if (step_index >= 0 && sums.samples() > 0) out.push_back(MeanOf(sums, q.from_unix_ms + step_index * q.step_ms));
    sums.Clear();
  };
  // The hour being filled is in memory, not yet stored (FoldHour).
  Point current;
  if (hourly) {
    MutexLock lock(&usage_mu_);
    if (auto it = series_.find(prefix); it != series_.end()) current = it->second.hour;
  }
  auto add = [&](const UsageSample& p) {
    const int64_t idx = (std::max(p.unix_ms(), q.from_unix_ms) - q.from_unix_ms) / q.step_ms;
    if (idx != step_index) {
      flush();
      step_index = idx;
      sums.set_queue(q.queue);
      sums.set_gpu_type(q.gpu_type);
    }
    AddInto(&sums, p);
  };
  absl::Status s = kv_->Scan(family, prefix + EncodeU64(static_cast<uint64_t>(first)),
                             prefix + EncodeU64(static_cast<uint64_t>(q.to_unix_ms)), false,
                             [&](std::string_view k, std::string_view v) {
                               UsageSample p;
                               if (Decode(family, k, v, &p) && p.unix_ms() != current.bucket) add(p);
                               return true;
                             });
  if (!s.ok()) return s;
  if (current.bucket >= first && current.bucket < q.to_unix_ms) add(current.sums);
  flush();
  return out;
}

absl::Status RecordStore::AppendTimeline(const std::vector<TimelineEvent>& events) {
  if (events.empty()) return absl::OkStatus();
  MutexLock lock(&tl_mu_);
  KvBatch batch;
  absl::flat_hash_set<std::string> touched;
  for (TimelineEvent e : events) {
    CutEvent(&e);
    e.set_schema_version(kSchemaVersion);
    e.set_sequence(next_event_);
    const std::string seq = EncodeU64(static_cast<uint64_t>(next_event_++));
    batch.Put(Family::kTimelineIndex, seq, EncodeU64(static_cast<uint64_t>(std::max<int64_t>(0, e.unix_ms()))) + e.workload());
    batch.Put(Family::kTimeline, TimelinePrefix(e.workload()) + seq, e.SerializeAsString());
    touched.insert(e.workload());
    ++event_count_;
  }
  if (absl::Status s = kv_->Write(batch, /*sync=*/false); !s.ok()) return s;
  for (const std::string& w : touched) {
    if (absl::Status s = CapWorkload(w); !s.ok()) return s;
  }
  return event_count_ > options_.timeline_max_events ? PruneTimeline(/*cutoff_ms=*/0) : absl::OkStatus();
}

absl::Status RecordStore::CapWorkload(const std::string& workload) {
  const std::string prefix = TimelinePrefix(workload);
  std::vector<std::string> keys;
  absl::Status s = kv_->Scan(Family::kTimeline, prefix, prefix + "\xff", false, [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  if (!s.ok()) return s;
  const size_t cap = static_cast<size_t>(std::max(1, options_.timeline_max_events_per_workload));
  if (keys.size() <= cap) return absl::OkStatus();
  KvBatch batch;
  for (size_t i = 0; i + cap < keys.size(); ++i) {
    batch.Delete(Family::kTimeline, keys[i]);
    batch.Delete(Family::kTimelineIndex, keys[i].substr(keys[i].size() - 8));
    --event_count_;
  }
  return kv_->Write(batch, false);
}

absl::Status RecordStore::PruneTimeline(int64_t cutoff_ms) {
  while (true) {
    KvBatch batch;
    size_t n = 0;
    int64_t next_from = prune_from_;  // past the last event deleted, or the first one kept
    const std::string from = EncodeU64(static_cast<uint64_t>(prune_from_));
    absl::Status s = kv_->Scan(Family::kTimelineIndex, from, "", false, [&](std::string_view k, std::string_view v) {
      const bool old = v.size() >= 8 && static_cast<int64_t>(DecodeU64(v.substr(0, 8))) < cutoff_ms;
      next_from = static_cast<int64_t>(DecodeU64(k));
      if (n == kPruneBatch || (!old && event_count_ - static_cast<int64_t>(n) <= options_.timeline_max_events)) {
        return false;
      }
      ++next_from;
      batch.Delete(Family::kTimelineIndex, std::string(k));
      if (v.size() >= 8) batch.Delete(Family::kTimeline, TimelinePrefix(v.substr(8)) + std::string(k));
      ++n;
      return true;
    });
    if (!s.ok()) return s;
    if (n > 0) {
      if (absl::Status w = kv_->Write(batch, false); !w.ok()) return w;
      event_count_ -= static_cast<int64_t>(n);
    }
    prune_from_ = next_from;  // sequences only grow: every one below is deleted
    if (n < kPruneBatch) return absl::OkStatus();
  }
}

absl::StatusOr<std::vector<TimelineEvent>> RecordStore::Timeline(std::string_view workload, int limit) const {
  std::vector<TimelineEvent> out;
  const size_t want = static_cast<size_t>(std::clamp(limit, 0, kMaxPage));
  const std::string prefix = TimelinePrefix(workload);
  absl::Status s = kv_->Scan(Family::kTimeline, prefix, prefix + "\xff", false, [&](std::string_view k, std::string_view v) {
    if (out.size() == want) return false;
    TimelineEvent e;
    if (Decode(Family::kTimeline, k, v, &e)) out.push_back(std::move(e));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status RecordStore::PutTimers(const std::vector<WorkloadTimers>& timers) {
  KvBatch batch;
  for (WorkloadTimers t : timers) {
    if (t.workload().empty() || t.workload().size() > kMaxEventFieldBytes) continue;
    t.set_schema_version(kSchemaVersion);
    batch.Put(Family::kTimers, t.workload(), t.SerializeAsString());
  }
  return batch.empty() ? absl::OkStatus() : kv_->Write(batch, false);
}

absl::Status RecordStore::DeleteTimers(const std::vector<std::string>& workloads) {
  KvBatch batch;
  for (const std::string& w : workloads) batch.Delete(Family::kTimers, w);
  return batch.empty() ? absl::OkStatus() : kv_->Write(batch, false);
}

absl::StatusOr<std::vector<WorkloadTimers>> RecordStore::AllTimers() const {
  std::vector<WorkloadTimers> out;
  absl::Status s = kv_->Scan(Family::kTimers, "", "", false, [&](std::string_view k, std::string_view v) {
    if (static_cast<int64_t>(out.size()) >= options_.max_timers) return false;
    WorkloadTimers t;
    if (Decode(Family::kTimers, k, v, &t)) out.push_back(std::move(t));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status RecordStore::PruneUsage(int64_t now_unix_ms) {
  std::vector<std::string> prefixes;
  {
    MutexLock lock(&usage_mu_);
    prefixes.reserve(series_.size());
    for (const auto& [prefix, series] : series_) prefixes.push_back(prefix);
  }
  const std::string zero = EncodeU64(0);
  const int64_t minute_cut = std::max<int64_t>(0, now_unix_ms - options_.usage_minute_retention_ms);
  const int64_t hour_cut = std::max<int64_t>(0, now_unix_ms - options_.usage_hour_retention_ms);
  KvBatch batch;
  for (const std::string& p : prefixes) {
    batch.DeleteRange(Family::kUsageMinute, p + zero, p + EncodeU64(static_cast<uint64_t>(minute_cut)));
    batch.DeleteRange(Family::kUsageHour, p + zero, p + EncodeU64(static_cast<uint64_t>(hour_cut)));
  }
  return batch.empty() ? absl::OkStatus() : kv_->Write(batch, false);
}

absl::Status RecordStore::Prune(int64_t now_unix_ms) {
  if (absl::Status s = PruneUsage(now_unix_ms); !s.ok()) return s;
  MutexLock lock(&tl_mu_);
  return PruneTimeline(now_unix_ms - options_.timeline_max_age_ms);
}

}  // namespace drover
