#include "server/metrics.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"
#include "server/droverd_flags.h"
#include "server/store_health.h"

namespace drover {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// A status-derived family under construction.
class FamilyBuilder {
 public:
  FamilyBuilder(std::string name, std::string help, MetricType type) {
    family_.name = std::move(name);
    family_.help = std::move(help);
    family_.type = type;
  }
  void Add(Labels labels, double value) {
    ClientMetric m;
    m.label = std::move(labels);
    if (family_.type == MetricType::Counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    family_.metric.push_back(std::move(m));
  }
  MetricFamily Take() { return std::move(family_); }

 private:
  MetricFamily family_;
};

// A quota dimension in its base unit: GPUs (devices), cores, bytes.
double BaseUnits(const std::string& resource, int64_t value) {
  if (resource == "memory") return static_cast<double>(value);
  return static_cast<double>(value) / 1000.0;  // milli-GPU, milli-cores
}

void AddQueueFamilies(const ClusterStatus& s, std::vector<MetricFamily>* out) {
  struct Dim {
    const char* name;
    const char* help;
    int64_t QueueDimStatus::*field;
  };
  static constexpr Dim kDims[] = {
      {"drover_queue_guaranteed", "Guaranteed capacity of the queue (GPUs, cores or bytes).",
       &QueueDimStatus::guaranteed},
      {"drover_queue_max", "Effective max of the queue: explicit, else inherited; root's is the cluster.",
       &QueueDimStatus::max},
      {"drover_queue_allocated", "Capacity allocated to the queue's subtree (running and assumed pods).",
       &QueueDimStatus::usage},
      {"drover_queue_borrowed", "Allocation above the queue's guaranteed capacity.", &QueueDimStatus::borrowed},
      {"drover_queue_pending_demand", "Requests of the subtree's pending pods (GPUs under the first type each may use).",
       &QueueDimStatus::pending_demand},
  };
  for (const Dim& dim : kDims) {
    FamilyBuilder f(dim.name, dim.help, MetricType::Gauge);
    for (const QueueStatus& q : s.queues) {
      for (const QueueDimStatus& d : q.dims) {
        f.Add({{"queue", q.path}, {"resource", d.resource}}, BaseUnits(d.resource, d.*(dim.field)));
      }
    }
    out->push_back(f.Take());
  }
  FamilyBuilder pending("drover_queue_pending_pods", "Pods of the queue's subtree waiting to be placed.",
                        MetricType::Gauge);
  FamilyBuilder running("drover_queue_running_pods", "Pods running in a leaf queue, by tier.", MetricType::Gauge);
  FamilyBuilder over("drover_queue_over_max_by_config",
                     "1 if a configuration change left the queue above its max (it admits nothing until under).",
                     MetricType::Gauge);
  for (const QueueStatus& q : s.queues) {
    pending.Add({{"queue", q.path}}, static_cast<double>(q.pending_pods));
    over.Add({{"queue", q.path}}, q.over_max_by_config ? 1 : 0);
    if (!q.leaf) continue;
    for (int t = 0; t < 3; ++t) {
      running.Add({{"queue", q.path}, {"tier", std::to_string(t)}}, static_cast<double>(q.running_by_tier[t]));
    }
  }
  out->push_back(pending.Take());
  out->push_back(running.Take());
  out->push_back(over.Take());
}

void AddPendingFamilies(const ClusterStatus& s, std::vector<MetricFamily>* out) {
  // (queue, tier, reason) -> workloads; (queue, tier) -> the longest wait.
  std::map<std::tuple<std::string, int, std::string_view>, int64_t> count;
  std::map<std::pair<std::string, int>, int64_t> oldest_ms;
  for (const PendingWorkload& w : s.pending->workloads) {
    ++count[{w.queue, w.tier, PendingCodeName(w.code)}];
    int64_t& oldest = oldest_ms[{w.queue, w.tier}];
    oldest = std::max(oldest, s.pending->as_of_ms - w.waiting_since_ms);
  }
  FamilyBuilder workloads("drover_pending_workloads",
                          "Pending workloads (a pod, or a gang) by leaf queue, tier and reason code.",
                          MetricType::Gauge);
  for (const auto& [key, n] : count) {
    const auto& [queue, tier, reason] = key;
    workloads.Add({{"queue", queue}, {"tier", std::to_string(tier)}, {"reason", std::string(reason)}},
                  static_cast<double>(n));
  }
  FamilyBuilder oldest("drover_pending_oldest_wait_seconds",
                       "Longest time a pending workload of the queue and tier has waited since its creation.",
                       MetricType::Gauge);
  for (const auto& [key, ms] : oldest_ms) {
    oldest.Add({{"queue", key.first}, {"tier", std::to_string(key.second)}}, static_cast<double>(ms) / 1000.0);
  }
  out->push_back(workloads.Take());
  out->push_back(oldest.Take());
}

void AddGpuFamilies(const ClusterStatus& s, std::vector<MetricFamily>* out) {
  FamilyBuilder gpus("drover_gpus", "GPU devices on schedulable nodes, by type and state (allocated may be fractional).",
                     MetricType::Gauge);
  FamilyBuilder nodes("drover_gpu_nodes", "Schedulable GPU nodes by type.", MetricType::Gauge);
  FamilyBuilder whole("drover_gpu_nodes_whole_free", "GPU nodes with every device free, by type.",
                      MetricType::Gauge);
  for (const GpuInventory& g : s.gpus) {
    gpus.Add({{"type", g.type}, {"state", "total"}}, static_cast<double>(g.total));
    gpus.Add({{"type", g.type}, {"state", "allocated"}}, static_cast<double>(g.allocated_milli) / 1000.0);
    gpus.Add({{"type", g.type}, {"state", "free"}}, static_cast<double>(g.free));
    gpus.Add({{"type", g.type}, {"state", "stranded"}}, static_cast<double>(g.stranded));
    nodes.Add({{"type", g.type}}, static_cast<double>(g.nodes));
    whole.Add({{"type", g.type}}, static_cast<double>(g.whole_nodes_free));
  }
  out->push_back(gpus.Take());
  out->push_back(nodes.Take());
  out->push_back(whole.Take());
}

void AddEngineCounters(const ClusterStatus& s, std::vector<MetricFamily>* out) {
  const EngineStats& e = s.cycle.engine;
  auto counter = [&](const char* name, const char* help, int64_t value) {
    FamilyBuilder f(name, help, MetricType::Counter);
    f.Add({}, static_cast<double>(value));
    out->push_back(f.Take());
  };
  counter("drover_cycles_total", "Scheduling cycles run.", s.cycle.cycles);
  counter("drover_binds_total", "Pods the scheduler decided to bind.", e.binds);
  counter("drover_bind_failures_total", "Binds the API server refused or that failed.", e.bind_failures);
  counter("drover_unschedulable_attempts_total", "Placement attempts that found no place.", e.unschedulable_attempts);
  counter("drover_rejected_workloads_total", "Workloads rejected (bad queue or request, never fits, limits).",
          e.rejected);
  counter("drover_gangs_placed_total", "Gangs placed whole.", e.gangs_placed);
  counter("drover_evictions_blocked_total", "Evictions refused by a PodDisruptionBudget.", e.evictions_blocked);
  counter("drover_reservations_total", "Nodes reserved for a waiting workload.", e.reservations);
  counter("drover_reservations_expired_total", "Reservations that expired unused.", e.reservations_expired);
  FamilyBuilder preempt("drover_preemptions_total",
                        "Evictions decided to make room, by kind: in_queue (outranked by tier or priority in the "
                        "victim's own queue) or reclaim (borrowed capacity taken back for a queue below guaranteed).",
                        MetricType::Counter);
  preempt.Add({{"kind", "in_queue"}}, static_cast<double>(e.preemptions_in_queue));
  preempt.Add({{"kind", "reclaim"}}, static_cast<double>(e.preemptions_reclaim));
  out->push_back(preempt.Take());
}

void AddProcessFamilies(const ClusterStatus& s, std::vector<MetricFamily>* out) {
  auto gauge = [&](const char* name, const char* help, double value, Labels labels = {}) {
    FamilyBuilder f(name, help, MetricType::Gauge);
    f.Add(std::move(labels), value);
    out->push_back(f.Take());
  };
  gauge("drover_leader", "1 while this replica holds the Lease and schedules.", s.leader ? 1 : 0);
  gauge("drover_informers_synced", "1 once the node and pod informers have synced.", s.synced ? 1 : 0);
  gauge("drover_nodes", "Nodes in the snapshot.", static_cast<double>(s.live_nodes));
  gauge("drover_pods", "Pods in the snapshot (every scheduler's).", static_cast<double>(s.live_pods));
  gauge("drover_pending_pods", "Pods of this scheduler waiting to be placed.", static_cast<double>(s.pending_pods));
  gauge("drover_config_revision", "Revision of the quota document in force.", static_cast<double>(s.config.revision));
  gauge("drover_config_last_apply_timestamp_seconds", "When the revision in force was applied (Unix time).",
        static_cast<double>(s.config.applied_unix_ms) / 1000.0);
  gauge("drover_config_last_apply_failed", "1 if the last document seen was refused (the revision in force stays).",
        s.config.last_error.empty() ? 0 : 1);
  gauge("drover_build_info", "Always 1; the version is a label.", 1, {{"version", kDroverVersion}});
}

// The kind of an eviction (in_queue when the victim and its preemptor share a leaf
// queue, else reclaim) and the victim's tier, from the engine's snapshot, where
// the victim still is right after the cycle. Tier -1 if the victim is unknown.
std::pair<const char*, int> VictimKindAndTier(const Engine& engine, const Eviction& e) {
  const Snapshot& snap = engine.snapshot();
  const PodId victim = snap.FindPod(e.pod_key);
  if (victim == kNoPod) return {"reclaim", -1};
  const Pod& pod = snap.pod(victim).pod;
  const int tier = std::clamp(engine.queues().TierFor(pod), 0, 2);
  const PodId preemptor = snap.FindPod(e.preemptor_key);
  if (preemptor == kNoPod) return {"reclaim", tier};
  absl::StatusOr<QueueId> a = engine.queues().LeafFor(pod);
  absl::StatusOr<QueueId> b = engine.queues().LeafFor(snap.pod(preemptor).pod);
  return {a.ok() && b.ok() && *a == *b ? "in_queue" : "reclaim", tier};
}

}  // namespace

Metrics::Metrics(const StatusBoard* board) : board_(board), registry_(std::make_shared<prometheus::Registry>()) {
  cycle_seconds_ = &prometheus::BuildHistogram()
                        .Name("drover_scheduling_cycle_duration_seconds")
                        .Help("Wall time of one scheduling cycle.")
                        .Register(*registry_);
  wait_seconds_ = &prometheus::BuildHistogram()
                       .Name("drover_pod_scheduling_wait_seconds")
                       .Help("Time from a pod's creation to the decision to bind it, by leaf queue and tier.")
                       .Register(*registry_);
  victims_ = &prometheus::BuildCounter()
                  .Name("drover_preemption_victims_total")
                  .Help("Pods evicted to make room, by kind (in_queue: outranked in its own leaf queue; reclaim: "
                        "taken back for another queue) and the victim's tier.")
                  .Register(*registry_);
  // Every series from the start, so rate() sees the first eviction.
  for (const char* kind : {"in_queue", "reclaim"}) {
    for (const char* tier : {"0", "1", "2"}) victims_->Add({{"kind", kind}, {"tier", tier}});
  }
}

void Metrics::ObserveCycle(const Daemon::CycleRecord& cycle) {
  static const prometheus::Histogram::BucketBoundaries kCycle = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  static const prometheus::Histogram::BucketBoundaries kWait = {1,   5,    15,   30,    60,    120,  300,
                                                                600, 1800, 3600, 10800, 21600, 43200, 86400};
  cycle_seconds_->Add({}, kCycle).Observe(cycle.seconds);
  for (const Binding& b : cycle.decisions.binds) {
    wait_seconds_->Add({{"queue", b.queue}, {"tier", std::to_string(b.tier)}}, kWait)
        .Observe(static_cast<double>(b.waited_ms) / 1000.0);
  }
  for (const Eviction& e : cycle.decisions.evictions) {
    const auto [kind, tier] = VictimKindAndTier(cycle.engine, e);
    if (tier >= 0) victims_->Add({{"kind", kind}, {"tier", std::to_string(tier)}}).Increment();
  }
}

std::string Metrics::Render() const {
  std::vector<MetricFamily> families = registry_->Collect();
  const std::shared_ptr<const ClusterStatus> s = board_->Get();
  AddQueueFamilies(*s, &families);
  AddPendingFamilies(*s, &families);
  AddGpuFamilies(*s, &families);
  AddEngineCounters(*s, &families);
  AddProcessFamilies(*s, &families);
  for (const auto& collect : collectors_) {
    for (MetricFamily& f : collect()) families.push_back(std::move(f));
  }
  return prometheus::TextSerializer().Serialize(families);
}

std::function<std::vector<MetricFamily>()> StoreHealthCollector(const StoreHealth* health) {
  return [health] {
    std::vector<MetricFamily> out;
    FamilyBuilder degraded("drover_store_degraded",
                           "1 while store writes fail or the store did not open (scheduling goes on; /readyz says why).",
                           MetricType::Gauge);
    degraded.Add({}, health->degraded() ? 1 : 0);
    out.push_back(degraded.Take());
    FamilyBuilder failures("drover_store_write_failures_total", "Store writes that failed.", MetricType::Counter);
    failures.Add({}, static_cast<double>(health->failures()));
    out.push_back(failures.Take());
    MetricFamily latency;
    latency.name = "drover_store_write_duration_seconds";
    latency.help = "Wall time of one store write, by kind (configuration revisions and audit records are synced).";
    latency.type = MetricType::Histogram;
    for (auto& [kind, metric] : health->WriteLatencies()) {
      metric.label = {{"kind", kind}};
      latency.metric.push_back(std::move(metric));
    }
    out.push_back(std::move(latency));
    return out;
  };
}

}  // namespace drover
