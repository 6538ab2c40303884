#include "server/status.h"

#include <algorithm>

#include "core/strings.h"

namespace drover {
namespace {

void AddQueues(const Engine& engine, ClusterStatus* out) {
  const QueueTree& tree = engine.queues();
  const GpuCatalog& catalog = engine.catalog();
  out->queues.reserve(tree.size());
  // Tree order (root first, children after their parent), by an explicit stack.
  std::vector<QueueId> stack{tree.root()};
  while (!stack.empty()) {
    const QueueId id = stack.back();
    stack.pop_back();
    const Queue& q = tree.queue(id);
    QueueStatus& s = out->queues.emplace_back();
    s.path = q.path;
    s.parent = q.parent == kNoQueue ? "" : tree.queue(q.parent).path;
    s.leaf = q.leaf();
    s.draining = q.draining;
    s.over_max_by_config = q.over_max_by_config;
    s.weight = q.weight;
    s.share = tree.Share(id);
    s.running_pods = q.running_pods;
    s.pending_pods = q.pending_pods;
    s.running_apps = q.running_apps;
    s.pending_apps = q.pending_apps;
    std::copy(std::begin(q.running_by_tier), std::end(q.running_by_tier), s.running_by_tier.begin());
    auto add_dim = [&](int dim, std::string name) {
      QueueDimStatus d{std::move(name), q.guaranteed[dim], q.max[dim], q.usage[dim], tree.Borrowed(id, dim), 0};
      s.dims.push_back(std::move(d));
    };
    for (GpuTypeId t : catalog.AllByRank()) {
      const int dim = QGpu(t);
      if (q.guaranteed[dim] == 0 && q.max[dim] == 0 && q.usage[dim] == 0) continue;
      add_dim(dim, catalog.type(t).name);
    }
    add_dim(kQCpu, "cpu");
    add_dim(kQMemory, "memory");
    for (auto it = q.children.rbegin(); it != q.children.rend(); ++it) stack.push_back(*it);
  }
}

void AddNodes(const Engine& engine, ClusterStatus* out) {
  const Snapshot& snap = engine.snapshot();
  const GpuCatalog& catalog = engine.catalog();
  std::vector<GpuInventory> by_type(catalog.size());
  for (NodeId id = 0; id < snap.node_slots(); ++id) {
    const NodeState& st = snap.node(id);
    if (!st.present || st.node.gpu_count <= 0) continue;
    NodeGpuStatus& n = out->nodes.emplace_back();
    n.name = st.node.name;
    n.schedulable = st.node.ready && !st.node.unschedulable;
    n.gpus = static_cast<int32_t>(st.device_used.size());
    for (int32_t used : st.device_used) {
      n.allocated_milli += used;
      n.free_gpus += used == 0 ? 1 : 0;
    }
    if (st.node.gpu_type == kNoGpuType) continue;
    n.type = catalog.type(st.node.gpu_type).name;
    if (!n.schedulable) continue;
    GpuInventory& inv = by_type[st.node.gpu_type];
    inv.nodes += 1;
    inv.total += n.gpus;
    inv.allocated_milli += n.allocated_milli;
    inv.free += n.free_gpus;
    if (n.free_gpus == n.gpus) {
      inv.whole_nodes_free += 1;
    } else {
      inv.stranded += n.free_gpus;
    }
  }
  std::sort(out->nodes.begin(), out->nodes.end(),
            [](const NodeGpuStatus& a, const NodeGpuStatus& b) { return a.name < b.name; });
  for (GpuTypeId t : catalog.AllByRank()) {
    if (by_type[t].nodes == 0) continue;
    by_type[t].type = catalog.type(t).name;
    out->gpus.push_back(std::move(by_type[t]));
  }
}

// The quota dimension a pending pod's GPUs count under: its first allowed type
// (the one the engine tries first), or -1 for a pod that names none. Cached per
// request text: a backlog repeats a few.
int DemandDim(const Engine& engine, const Pod& pod, absl::flat_hash_map<std::string, int>* cache) {
  if (pod.intent.gpu_type.empty()) return -1;
  auto [it, fresh] = cache->try_emplace(pod.intent.gpu_type, -1);
  if (!fresh) return it->second;
  absl::StatusOr<GpuTypeMask> mask = engine.catalog().ResolveRequest(pod.intent.gpu_type);
  if (!mask.ok()) return -1;
  const std::vector<GpuTypeId> ranked = engine.catalog().ByRank(*mask);
  if (!ranked.empty()) it->second = QGpu(ranked.front());
  return it->second;
}

// Demand per queue id: the quota dimensions, then GPUs of no named type.
struct DemandTable {
  std::vector<QVec> dims;
  std::vector<int64_t> any_gpu;
};

// "ns/gang" for a gang's workload, else its first pod's key (as StoreRecorder keys timelines).
std::string WorkloadKeyOf(const Snapshot& snap, const PendingWorkload& w) {
  if (w.pod_keys.empty()) return "";
  const PodId id = snap.FindPod(w.pod_keys.front());
  if (id == kNoPod || snap.pod(id).pod.intent.gang.empty()) return w.pod_keys.front();
  const Pod& pod = snap.pod(id).pod;
  return StrCat(pod.namespace_, "/", pod.intent.gang);
}

void AddDemand(const Engine& engine, QueueId leaf, const Pod& pod, DemandTable* t,
               absl::flat_hash_map<std::string, int>* cache) {
  t->dims[leaf][kQCpu] += pod.requests[Res::kCpu];
  t->dims[leaf][kQMemory] += pod.requests[Res::kMemory];
  if (!pod.WantsGpu()) return;
  const int dim = DemandDim(engine, pod, cache);
  (dim < 0 ? t->any_gpu[leaf] : t->dims[leaf][dim]) += pod.requests[Res::kGpu];
}

// Adds every queue's own demand to its ancestors' (into `t`'s totals), then
// names it by path.
void RollUp(const Engine& engine, const DemandTable& own, PendingSection* out) {
  const QueueTree& tree = engine.queues();
  DemandTable total{std::vector<QVec>(own.dims.size(), QVec{}), std::vector<int64_t>(own.dims.size(), 0)};
  for (QueueId q = 0; q < tree.size(); ++q) {
    if (own.any_gpu[q] == 0 && own.dims[q] == QVec{}) continue;
    tree.ForEachAncestor(q, [&](QueueId a) {
      for (int d = 0; d < kQDims; ++d) total.dims[a][d] += own.dims[q][d];
      total.any_gpu[a] += own.any_gpu[q];
    });
  }
  const DemandTable* t = &total;
  for (QueueId q = 0; q < tree.size(); ++q) {
    absl::flat_hash_map<std::string, int64_t> named;
    for (int d = 0; d < kQDims; ++d) {
      if (t->dims[q][d] != 0) named[QueueTree::DimName(engine.catalog(), d)] = t->dims[q][d];
    }
    if (t->any_gpu[q] != 0) named["gpu"] = t->any_gpu[q];
    if (!named.empty()) out->demand[tree.queue(q).path] = std::move(named);
  }
}

void ApplyDemand(const PendingSection& pending, ClusterStatus* out) {
  for (QueueStatus& q : out->queues) {
    auto it = pending.demand.find(q.path);
    if (it == pending.demand.end()) continue;
    for (const auto& [resource, amount] : it->second) {
      auto dim = std::find_if(q.dims.begin(), q.dims.end(), [&](const QueueDimStatus& d) { return d.resource == resource; });
      if (dim == q.dims.end()) {
        // A type the queue has no quota for (it waits at max 0), or "gpu": shown before cpu.
        dim = q.dims.insert(q.dims.end() - 2, QueueDimStatus{resource, 0, 0, 0, 0, 0});
      }
      dim->pending_demand = amount;
    }
  }
}

}  // namespace

const PendingSection::Lookup& PendingSection::lookup() const {
  std::call_once(lookup_once_, [this] {
    auto l = std::make_unique<Lookup>();
    for (size_t i = 0; i < workloads.size(); ++i) {
      for (const std::string& pod : workloads[i].pod_keys) l->by_pod.try_emplace(pod, i);
      if (!workloads[i].queue.empty()) l->by_queue[workloads[i].queue].push_back(i);
    }
    for (auto& [queue, indices] : l->by_queue) {
      std::stable_sort(indices.begin(), indices.end(), [this](size_t a, size_t b) {
        const int64_t pa = workloads[a].position, pb = workloads[b].position;
        return (pa > 0) != (pb > 0) ? pa > 0 : pa < pb;
      });
    }
    lookup_ = std::move(l);
  });
  return *lookup_;
}

std::shared_ptr<PendingSection> BuildDemandSection(const Engine& engine, int64_t now_ms) {
  auto out = std::make_shared<PendingSection>();
  out->as_of_ms = now_ms;
  DemandTable table{std::vector<QVec>(engine.queues().size(), QVec{}),
                    std::vector<int64_t>(engine.queues().size(), 0)};
  absl::flat_hash_map<std::string, int> cache;
  engine.ForEachPendingPod([&](QueueId leaf, const Pod& pod) { AddDemand(engine, leaf, pod, &table, &cache); });
  RollUp(engine, table, out.get());
  return out;
}

std::shared_ptr<const PendingSection> BuildPendingSection(const Engine& engine, int64_t now_ms) {
  std::shared_ptr<PendingSection> out = BuildDemandSection(engine, now_ms);
  out->workloads = engine.ListPending();
  out->workload_keys.reserve(out->workloads.size());
  for (const PendingWorkload& w : out->workloads) out->workload_keys.push_back(WorkloadKeyOf(engine.snapshot(), w));
  return out;
}

const QueueStatus* ClusterStatus::FindQueue(const std::string& path) const {
  for (const QueueStatus& q : queues) {
    if (q.path == path) return &q;
  }
  return nullptr;
}

std::shared_ptr<ClusterStatus> BuildStatus(const Engine& engine, int64_t now_ms, const StatusInputs& in,
                                           std::shared_ptr<const PendingSection> pending,
                                           std::shared_ptr<const RunningSection> running) {
  auto out = std::make_shared<ClusterStatus>();
  out->now_ms = now_ms;
  out->synced = in.synced;
  out->leader = in.leader;
  out->live_nodes = engine.snapshot().live_nodes();
  out->live_pods = engine.snapshot().live_pods();
  out->pending_pods = static_cast<int64_t>(engine.pending_pods());
  out->config = in.config;
  out->cycle = in.cycle;
  out->cycle.engine = engine.stats();
  AddQueues(engine, out.get());
  if (in.nodes) AddNodes(engine, out.get());
  out->pending = pending ? std::move(pending) : std::make_shared<const PendingSection>();
  ApplyDemand(*out->pending, out.get());
  if (running) out->running = std::move(running);
  return out;
}

void StatusBoard::Publish(std::shared_ptr<ClusterStatus> status) {
  std::shared_ptr<const ClusterStatus> old;  // released outside the lock
  MutexLock lock(&mu_);
  status->generation = ++generation_;
  old = std::exchange(current_, std::move(status));
}

std::shared_ptr<const ClusterStatus> StatusBoard::Get() const {
  {
    MutexLock lock(&mu_);
    if (current_) return current_;
  }
  static const auto* const kEmpty = new std::shared_ptr<const ClusterStatus>(std::make_shared<ClusterStatus>());
  return *kEmpty;
}

}  // namespace drover
