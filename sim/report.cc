#include "sim/report.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "core/quantity.h"
#include "core/strings.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace drover {

Percentiles ComputePercentiles(std::vector<double> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {  // nearest rank
    size_t idx = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) ;
    return v[std::min(v.size() - 1, idx == 0 ? 0 : idx - 1)];
  };
  p.p50 = at(0.50);
  p.p95 = at(0.95);
  p.p99 = at(0.99);
  p.max = v.back();
  return p;
}

int64_t PeakRssKb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return 0;
}

namespace {

using GpuAmounts = RunReport::QueueRow::GpuAmounts;

// The GPU dimensions of `v` above 0, as GPUs per type.
GpuAmounts GpuAmountsOf(const GpuCatalog& catalog, const QVec& v) {
  GpuAmounts out;
  for (int d = 2; d < kQDims; ++d) {
    if (v[d] <= 0 || d - 2 >= catalog.size()) continue;
    out.emplace_back(catalog.type(d - 2).name, static_cast<double>(v[d]) / 1000.0);
  }
  return out;
}

// The effective GPU max where it binds: types whose max is below what the cluster
// has (0 = the queue may not use the type). Root: its whole max.
GpuAmounts MaxAmountsOf(const GpuCatalog& catalog, const QVec& max, const QVec& cluster, bool root) {
  if (root) return GpuAmountsOf(catalog, max);
  GpuAmounts out;
  for (int d = 2; d < kQDims; ++d) {
    if (d - 2 >= catalog.size() || cluster[d] <= 0 || max[d] >= cluster[d]) continue;
    out.emplace_back(catalog.type(d - 2).name, static_cast<double>(std::max<int64_t>(max[d], 0)) / 1000.0);
  }
  return out;
}

// "A100=16 T4=0.5", or `none` when empty.
std::string Summary(const GpuAmounts& amounts, const char* none) {
  std::string out;
  for (const auto& [type, gpus] : amounts) {
    StrAppend(&out, out.empty() ? "" : " ", type, "=",
              FormatAmount(Res::kGpu, static_cast<int64_t>(std::llround(gpus * 1000))));
  }
  return out.empty() ? none : out;
}

// The leaf a finished or pending pod belonged to: its queue annotation, else the
// namespace mapping or the default queue, as the engine resolved it.
QueueId RecordLeaf(const QueueTree& tree, const PodRecord& rec) {
  if (!rec.queue.empty()) {
    const QueueId id = tree.Find(rec.queue);
    return id != kNoQueue ? id : tree.Find(StrCat("root.", rec.queue));
  }
  Pod pod;
  pod.namespace_ = rec.key.substr(0, rec.key.find('/'));
  absl::StatusOr<QueueId> leaf = tree.LeafFor(pod);
  return leaf.ok() ? *leaf : kNoQueue;
}

}  // namespace

RunReport BuildReport(const SimCluster& sim, const Engine& engine, double wall_seconds) {
  RunReport r;
  r.policy = std::string(engine.policy().name());
  r.virtual_end_s = sim.totals().end_ms / 1000;
  r.wall_seconds = wall_seconds;
  r.peak_rss_kb = PeakRssKb();
  const int64_t end = sim.totals().end_ms;
  std::vector<double> waits;
  std::map<int, std::vector<double>> by_tier;
  const QueueTree& tree = engine.queues();
  std::vector<std::array<std::vector<double>, 3>> by_queue_tier(static_cast<size_t>(tree.size()));
  const std::string& ours = engine.options().scheduler_name;
  for (const PodRecord& rec : sim.records()) {
    if (rec.scheduler_name != ours) {
      if (!rec.resubmission) ++r.other_schedulers[rec.scheduler_name.empty() ? "(none)" : rec.scheduler_name];
      continue;
    }
    ++r.submitted;
    ++(rec.resubmission ? r.resubmitted : r.workload_pods);
    const double wait = static_cast<double>((rec.bound_ms >= 0 ? rec.bound_ms : end) - rec.submit_ms) / 1000.0;
    waits.push_back(wait);
    const int tier = rec.tier < 0 ? 1 : rec.tier;
    by_tier[tier].push_back(wait);
    if (const QueueId leaf = RecordLeaf(tree, rec); leaf != kNoQueue) {
      tree.ForEachAncestor(leaf, [&](QueueId q) { by_queue_tier[q][std::clamp(tier, 0, 2)].push_back(wait); });
    }
    if (rec.bound_ms >= 0) ++r.scheduled;
  }
  r.completed = sim.totals().completions;
  r.preemptions = sim.totals().evictions;
  r.preemptions_in_queue = engine.stats().preemptions_in_queue;
  r.preemptions_reclaim = engine.stats().preemptions_reclaim;
  int64_t others = 0;
  for (const auto& [name, n] : r.other_schedulers) others += n;
  r.pending = static_cast<int64_t>(sim.pending_count()) - others;  // the simulator never binds theirs
  r.rejected = engine.stats().rejected;
  r.pending_s = ComputePercentiles(waits);
  for (auto& [tier, v] : by_tier) r.pending_by_tier.emplace_back(tier, ComputePercentiles(v));
  const SimTotals& t = sim.totals();
  r.gpu_alloc_mean_defined = t.gpu_capacity_integral > 0;
  r.gpu_alloc_end = sim.AllocationNow();
  r.gpu_alloc_mean = r.gpu_alloc_mean_defined ? t.gpu_alloc_integral / t.gpu_capacity_integral : r.gpu_alloc_end;
  r.gpu_alloc_peak = t.peak_alloc_ratio;
  r.nodes = engine.snapshot().live_nodes();
  r.gpu_nodes_free = sim.FreeGpuNodes();
  r.nodes_idle_gpus = sim.NodesWithIdleGpus();
  r.stranded_gpus = sim.StrandedGpus();
  if (const double span = static_cast<double>(t.end_ms - t.start_ms); span > 0) {
    r.gpu_nodes_free_mean = t.free_gpu_nodes_integral / span;
    r.stranded_gpus_mean = t.stranded_gpus_integral / span;
  }
  for (QueueId id = 0; id < tree.size(); ++id) {
    const Queue& q = tree.queue(id);
    if (q.path.empty()) continue;
    RunReport::QueueRow row;
    row.path = q.path;
    const GpuCatalog& catalog = engine.catalog();
    row.guaranteed_gpus = GpuAmountsOf(catalog, q.guaranteed);
    row.max_gpus = MaxAmountsOf(catalog, q.max, tree.cluster_capacity(), id == tree.root());
    row.peak_gpus = GpuAmountsOf(catalog, q.peak_usage);
    QVec borrowed{};
    for (int d = 0; d < kQDims; ++d) borrowed[d] = tree.Borrowed(id, d);
    row.borrowed_gpus = GpuAmountsOf(catalog, borrowed);
    row.peak_borrowed_gpus = GpuAmountsOf(catalog, q.peak_borrowed);
    row.guaranteed = Summary(row.guaranteed_gpus, "-");
    row.max = Summary(row.max_gpus, id == tree.root() ? "-" : "cluster");
    row.peak = Summary(row.peak_gpus, "-");
    row.borrowed = Summary(row.borrowed_gpus, "-");
    row.peak_borrowed = Summary(row.peak_borrowed_gpus, "-");
    if (q.draining) {
      row.note = "draining";
    } else if (q.over_max_by_config) {
      row.note = "above max since a configuration change";
    }
    for (int k = 0; k < 3; ++k) row.p_tier[k] = ComputePercentiles(by_queue_tier[id][k]);
    r.queues.push_back(std::move(row));
  }
  std::map<std::string, int64_t> reasons;
  absl::flat_hash_set<std::string> theirs;
  for (const PodRecord& rec : sim.records()) {
    if (rec.scheduler_name != ours) theirs.insert(rec.key);
  }
  for (const std::string& key : sim.PendingKeys()) {
    if (theirs.contains(key)) continue;
    auto it = sim.pending_reasons().find(key);
    std::string why = it != sim.pending_reasons().end() ? it->second : engine.WhyPending(key);
    ++reasons[why.empty() ? StrCat("(no reason recorded, e.g. ", key, ")") : why];
  }
  for (const auto& [why, n] : reasons) r.top_pending_reasons.emplace_back(n, why);
  std::sort(r.top_pending_reasons.begin(), r.top_pending_reasons.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  if (r.top_pending_reasons.size() > 5) r.top_pending_reasons.resize(5);
  r.violations = engine.CheckInvariants();
  for (const std::string& v : t.violations) r.violations.push_back(v);
  return r;
}

std::string FormatReportTable(const RunReport& r) {
  std::string out;
  auto line = [&](const std::string& k, const std::string& v) { StrAppend(&out, absl::StrFormat("  %-34s %s\n", k, v)); };
  auto pct = [](const Percentiles& p) {
    return absl::StrFormat("p50 %.0fs  p95 %.0fs  p99 %.0fs  max %.0fs  (n=%d)", p.p50, p.p95, p.p99, p.max, p.n);
  };
  StrAppend(&out, "Drover simulation report (policy ", r.policy, ")\n");
  line("virtual time simulated", absl::StrFormat("%.1f h", r.virtual_end_s / 3600.0));
  line("wall time / peak memory", absl::StrFormat("%.2f s / %.1f MiB", r.wall_seconds, r.peak_rss_kb / 1024.0));
  line("pods in the workload", StrCat(r.workload_pods));
  line("pods submitted", r.resubmitted == 0 ? StrCat(r.submitted)
                                            : StrCat(r.submitted, "  (", r.workload_pods, " + ", r.resubmitted,
                                                     " recreated after preemption or a lost node, as a controller would)"));
  line("pods scheduled", StrCat(r.scheduled));
  line("pods completed", StrCat(r.completed));
  line("pods still pending", StrCat(r.pending));
  line("pods rejected (bad queue/request)", StrCat(r.rejected));
  line("preemptions", StrCat(r.preemptions, "  (decided: ", r.preemptions_in_queue, " in-queue by tier/priority, ",
                              r.preemptions_reclaim, " reclaim of borrowed capacity)"));
  line("pending time (all)", pct(r.pending_s));
  for (const auto& [tier, p] : r.pending_by_tier) line(StrCat("pending time (tier ", tier, ")"), pct(p));
  line("GPU allocation (time-weighted)",
       r.gpu_alloc_mean_defined
           ? absl::StrFormat("mean %.1f%%  peak %.1f%%", 100 * r.gpu_alloc_mean, 100 * r.gpu_alloc_peak)
           : absl::StrFormat("at end %.1f%%  peak %.1f%%  (no mean: no virtual time passed; give pods %s)",
                             100 * r.gpu_alloc_end, 100 * r.gpu_alloc_peak, "sim.drover.io/duration"));
  if (!r.other_schedulers.empty()) {
    std::string names;
    int64_t n = 0;
    for (const auto& [name, k] : r.other_schedulers) {
      StrAppend(&names, names.empty() ? "" : ", ", name, " ", k);
      n += k;
    }
    line("pods of other schedulers", StrCat(n, "  (", names, "; left alone, not in the figures)"));
  }
  line("nodes at end", StrCat(r.nodes));
  line("GPU nodes entirely free", absl::StrFormat("mean %.1f  at end %d", r.gpu_nodes_free_mean, r.gpu_nodes_free));
  line("nodes with idle GPUs at end", StrCat(r.nodes_idle_gpus));
  line("stranded GPUs (idle on partly used nodes)", absl::StrFormat("mean %.1f  at end %d", r.stranded_gpus_mean, r.stranded_gpus));
  if (r.queues.size() > 1) {
    StrAppend(&out, "\nQueues (GPUs; max: where below the cluster; pending: p50/p99 seconds of the subtree's pods)\n");
    std::vector<std::array<std::string, 8>> rows;
    rows.push_back({"queue", "guaranteed", "max", "peak usage", "peak borrowed", "borrowed at end",
                    "pending tier 0 | 1 | 2", ""});
    for (const auto& q : r.queues) {
      std::string tiers;
      for (int k = 0; k < 3; ++k) {
        StrAppend(&tiers, k ? " | " : "",
                  q.p_tier[k].n ? absl::StrFormat("%.0f/%.0f", q.p_tier[k].p50, q.p_tier[k].p99) : std::string("-"));
      }
      rows.push_back({q.path, q.guaranteed, q.max, q.peak, q.peak_borrowed, q.borrowed, tiers, q.note});
    }
    std::array<size_t, 8> width{};
    for (const auto& row : rows) {
      for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    }
    for (const auto& row : rows) {
      std::string text = " ";
      for (size_t c = 0; c < row.size(); ++c) {
        StrAppend(&text, " ", row[c], c + 1 < row.size() ? std::string(width[c] - row[c].size() + 1, ' ') : "");
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      StrAppend(&out, text, "\n");
    }
  }
  if (!r.top_pending_reasons.empty()) {
    StrAppend(&out, "\nWhy pods are still pending (most common)\n");
    for (const auto& [n, why] : r.top_pending_reasons) StrAppend(&out, absl::StrFormat("  %5d  %s\n", n, why));
  }
  StrAppend(&out, "\nInvariants (no node over-committed, no queue above max, no pod bound twice): ",
            r.violations.empty() ? "OK" : StrCat(r.violations.size(), " VIOLATIONS"), "\n");
  for (size_t i = 0; i < r.violations.size() && i < 20; ++i) StrAppend(&out, "  ! ", r.violations[i], "\n");
  if (!r.stored.empty()) StrAppend(&out, "\nStore: ", r.stored, "\n");
  return out;
}

std::string FormatReportJson(const RunReport& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto pct = [&w](const Percentiles& p) {
    w.StartObject();
    w.Key("p50"); w.Double(p.p50);
    w.Key("p95"); w.Double(p.p95);
    w.Key("p99"); w.Double(p.p99);
    w.Key("max"); w.Double(p.max);
    w.Key("n"); w.Uint64(p.n);
    w.EndObject();
  };
  w.StartObject();
  w.Key("policy"); w.String(r.policy.c_str());
  w.Key("virtual_end_seconds"); w.Int64(r.virtual_end_s);
  w.Key("pods"); w.StartObject();
  w.Key("workload"); w.Int64(r.workload_pods);
  w.Key("submitted"); w.Int64(r.submitted);
  w.Key("resubmitted"); w.Int64(r.resubmitted);
  w.Key("scheduled"); w.Int64(r.scheduled);
  w.Key("completed"); w.Int64(r.completed);
  w.Key("pending"); w.Int64(r.pending);
  w.Key("rejected"); w.Int64(r.rejected);
  w.Key("preemptions"); w.Int64(r.preemptions);
  w.Key("preemptions_in_queue"); w.Int64(r.preemptions_in_queue);
  w.Key("preemptions_reclaim"); w.Int64(r.preemptions_reclaim);
  w.Key("other_schedulers"); w.StartObject();
  for (const auto& [name, n] : r.other_schedulers) { w.Key(name.c_str()); w.Int64(n); }
  w.EndObject();
  w.EndObject();
  w.Key("pending_seconds"); pct(r.pending_s);
  w.Key("pending_seconds_by_tier"); w.StartObject();
  for (const auto& [tier, p] : r.pending_by_tier) { w.Key(StrCat(tier).c_str()); pct(p); }
  w.EndObject();
  w.Key("gpu_allocation"); w.StartObject();
  w.Key("mean");
  if (r.gpu_alloc_mean_defined) w.Double(r.gpu_alloc_mean); else w.Null();
  w.Key("end"); w.Double(r.gpu_alloc_end);
  w.Key("peak"); w.Double(r.gpu_alloc_peak);
  w.EndObject();
  w.Key("nodes"); w.StartObject();
  w.Key("total"); w.Int(r.nodes);
  w.Key("gpu_nodes_free"); w.Int(r.gpu_nodes_free);
  w.Key("with_idle_gpus"); w.Int(r.nodes_idle_gpus);
  w.Key("stranded_gpus"); w.Int64(r.stranded_gpus);
  w.Key("gpu_nodes_free_mean"); w.Double(r.gpu_nodes_free_mean);
  w.Key("stranded_gpus_mean"); w.Double(r.stranded_gpus_mean);
  w.EndObject();
  w.Key("queues"); w.StartArray();
  for (const auto& q : r.queues) {
    w.StartObject();
    w.Key("path"); w.String(q.path.c_str());
    auto gpus = [&w](const char* key, const GpuAmounts& amounts) {  // {"A100": 16, "T4": 0.5}
      w.Key(key);
      w.StartObject();
      for (const auto& [type, n] : amounts) {
        w.Key(type.c_str());
        w.Double(n);
      }
      w.EndObject();
    };
    gpus("guaranteed_gpus", q.guaranteed_gpus);
    gpus("max_gpus", q.max_gpus);  // types where max is below the cluster's ({} = the cluster); root: all
    gpus("peak_usage_gpus", q.peak_gpus);
    gpus("borrowed_gpus", q.borrowed_gpus);
    gpus("peak_borrowed_gpus", q.peak_borrowed_gpus);
    w.Key("note"); w.String(q.note.c_str());
    w.Key("pending_seconds_by_tier"); w.StartArray();  // tiers 0, 1, 2; the subtree's pods
    for (int k = 0; k < 3; ++k) pct(q.p_tier[k]);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("invariants_ok"); w.Bool(r.violations.empty());
  w.Key("violations"); w.StartArray();
  for (const auto& v : r.violations) w.String(v.c_str());
  w.EndArray();
  w.Key("stored"); w.String(r.stored.c_str());
  w.Key("wall_seconds"); w.Double(r.wall_seconds);
  w.Key("peak_rss_kb"); w.Int64(r.peak_rss_kb);
  w.EndObject();
  return buf.GetString();
}

}  // namespace drover
