// Topology-aware gangs (placement/topology_gang.h): the domains of each topology
// level, and the engine's side: which level and domain a gang tries, placing it
// all or nothing inside one domain, the explanation when none holds it, and
// preemption that keeps a required gang's victims inside one domain.
#include <algorithm>
#include <tuple>


#include "core/strings.h"
#include "placement/engine.h"

namespace drover {
namespace {

// Domains tried per level and attempt, fullest fitting first: bounds an attempt at
// O(this x members x nodes of the type) when domains hold enough GPUs in sum but
// not in shape. The explanation says when the bound cut the search short.
constexpr size_t kMaxDomainsTried = 32;
// Domains searched for victims per preemption attempt (most free first).
constexpr size_t kMaxPreemptionDomains = 16;

// What the workload's pending members ask, together.
struct Demand {
  int64_t gpu_millis = 0;
  int64_t cpu_millis = 0;
  GpuTypeMask mask = kAnyGpuType;  // GPU types every GPU member accepts
  int pods = 0;
};

// Free (or allocatable) GPUs of the demand's types and CPU in one domain.
struct DomainRoom {
  int domain = 0;
  int64_t gpu_millis = 0;
  int64_t cpu_millis = 0;
};

bool Schedulable(const NodeState& st) { return st.present && st.node.ready && !st.node.unschedulable; }

}  // namespace

void TopologyDomains::Refresh(const std::vector<TopologyLevel>& levels, const Snapshot& snapshot) {
  if (generation_ == snapshot.node_spec_generation() && levels_ == levels) return;
  levels_ = levels;
  generation_ = snapshot.node_spec_generation();
  by_level_.assign(levels_.size(), Level{});
  for (size_t i = 0; i < levels_.size(); ++i) {
    Level& lv = by_level_[i];
    lv.of_node.assign(snapshot.node_slots(), -1);
    absl::flat_hash_map<std::string, int> ids;  // "zone\0rack\0" -> domain
    for (NodeId id = 0; id < snapshot.node_slots(); ++id) {
      const NodeState& st = snapshot.node(id);
      if (!st.present) continue;
      std::string key;
      const std::string* value = nullptr;
      for (size_t j = 0; j <= i; ++j) {
        value = st.node.labels.Get(levels_[j].node_label);
        if (value == nullptr) break;
        key.append(*value).push_back('\0');
      }
      if (value == nullptr) continue;
      auto [it, fresh] = ids.emplace(std::move(key), static_cast<int>(lv.names.size()));
      if (fresh) {
        lv.names.push_back(*value);
        lv.nodes.emplace_back();
      }
      lv.of_node[id] = it->second;
      lv.nodes[it->second].push_back(id);
    }
  }
}

std::string Engine::ResolveTopology(const Pod& pod, Workload& w) const {
  return ResolveTopologyIntent(config_.topology_levels, pod, &w.topology_required, &w.topology_preferred);
}

NodeId Engine::RunningMemberNode(const Workload& w) const {
  if (w.gang.empty()) return kNoNode;
  auto running = gang_running_.find(w.gang);
  if (running == gang_running_.end() || running->second == 0) return kNoNode;
  // Rare (a replacement for a member that failed or was preempted): one walk of the pods.
  for (PodId id = 0; id < snapshot_.pod_slots(); ++id) {
    const PodEntry& e = snapshot_.pod(id);
    if (!e.live || e.counted_on == kNoNode || e.pod.intent.gang.empty()) continue;
    if (StrCat(e.pod.namespace_, "/", e.pod.intent.gang) == w.gang) return e.counted_on;
  }
  return kNoNode;
}

namespace {

Demand DemandOf(const Snapshot& snapshot, const GpuCatalog& catalog, const std::vector<PodId>& members) {
  Demand d;
  for (PodId id : members) {
    const Pod& p = snapshot.pod(id).pod;
    ++d.pods;
    d.gpu_millis += p.requests[Res::kGpu];
    d.cpu_millis += p.requests[Res::kCpu];
    if (p.WantsGpu()) {
      std::string error;
      d.mask &= AllowedGpuTypes(p, catalog, &error);
    }
  }
  return d;
}

// Room per domain of `level`: free capacity, or allocatable with `allocatable`.
std::vector<DomainRoom> RoomByDomain(const Snapshot& snapshot, const TopologyDomains& domains, int level,
                                     const Demand& demand, bool allocatable) {
  std::vector<DomainRoom> room(domains.domains(level));
  for (int d = 0; d < static_cast<int>(room.size()); ++d) {
    room[d].domain = d;
    for (NodeId id : domains.NodesOf(level, d)) {
      const NodeState& st = snapshot.node(id);
      if (!Schedulable(st)) continue;
      const ResourceVec free = allocatable ? st.node.allocatable : snapshot.Free(id);
      room[d].cpu_millis += std::max<int64_t>(0, free[Res::kCpu]);
      if (st.node.gpu_type != kNoGpuType && (demand.mask & (GpuTypeMask{1} << st.node.gpu_type))) {
        room[d].gpu_millis += std::max<int64_t>(0, free[Res::kGpu]);
      }
    }
  }
  return room;
}

bool Holds(const DomainRoom& r, const Demand& d) { return r.gpu_millis >= d.gpu_millis && r.cpu_millis >= d.cpu_millis; }

}  // namespace

bool Engine::TryPlaceTopology(Workload& w, Decisions* out, Wait* why) {
  domains_.Refresh(config_.topology_levels, snapshot_);
  const int required = w.topology_required;
  // Preferred levels, narrowest first, down to just below the required one.
  if (w.topology_preferred >= 0) {
    for (int level = w.topology_preferred; level > required; --level) {
      Wait soft;
      const int r = PlaceInLevel(w, level, out, &soft);
      if (r == 1) return true;
      if (r < 0) {
        *why = std::move(soft);
        return false;
      }
    }
  }
  if (required >= 0) return PlaceInLevel(w, required, out, why) == 1;
  return PlaceMembers(w, out, why, /*reuse_reason=*/true);  // preferred only: anywhere
}

int Engine::PlaceInLevel(Workload& w, int level, Decisions* out, Wait* why) {
  const TopologyLevel& lv = domains_.level(level);
  const Demand demand = DemandOf(snapshot_, catalog_, w.member_ids);
  std::vector<DomainRoom> room = RoomByDomain(snapshot_, domains_, level, demand, /*allocatable=*/false);
  // A replacement member joins its running gang's domain.
  const NodeId sibling = RunningMemberNode(w);
  const int only = sibling == kNoNode ? -1 : domains_.DomainOf(level, sibling);
  std::vector<DomainRoom> fits;
  DomainRoom largest{-1, -1, -1};
  for (const DomainRoom& r : room) {
    if (only >= 0 && r.domain != only) continue;
    if (largest.domain < 0 || std::tie(r.gpu_millis, r.cpu_millis) > std::tie(largest.gpu_millis, largest.cpu_millis)) {
      largest = r;
    }
    if (Holds(r, demand)) fits.push_back(r);
  }
  // Bin-pack domains as nodes are: the fewest free GPUs (then CPU) that still hold it all.
  std::sort(fits.begin(), fits.end(), [&](const DomainRoom& a, const DomainRoom& b) {
    return std::tie(a.gpu_millis, a.cpu_millis, domains_.Name(level, a.domain)) <
           std::tie(b.gpu_millis, b.cpu_millis, domains_.Name(level, b.domain));
  });
  domain_mask_.assign(snapshot_.node_slots(), 0);
  Wait first;
  std::string first_domain;
  size_t tried = 0;
  for (const DomainRoom& r : fits) {
    if (tried++ == kMaxDomainsTried) break;
    for (NodeId id : domains_.NodesOf(level, r.domain)) domain_mask_[id] = 1;
    domain_active_ = true;
    Wait member_why;
    const bool placed = PlaceMembers(w, out, &member_why, /*reuse_reason=*/false);
    domain_active_ = false;
    for (NodeId id : domains_.NodesOf(level, r.domain)) domain_mask_[id] = 0;
    if (placed) return 1;
    // The queue refuses it whatever the domain.
    if (member_why.code == PendingCode::kQueueAtMax) {
      *why = std::move(member_why);
      return -1;
    }
    if (first_domain.empty()) {
      first = std::move(member_why);
      first_domain = domains_.Name(level, r.domain);
    }
  }
  // The explanation: "gang ns/train (16 pods, 128 GPUs A100) fits in no single rack: ...".
  const Pod& head = snapshot_.pod(w.member_ids[0]).pod;
  const bool gpus = demand.gpu_millis > 0;
  auto amount = [&](const DomainRoom& r) {
    return gpus ? StrCat(FormatAmount(Res::kGpu, r.gpu_millis), " GPUs") : StrCat(FormatAmount(Res::kCpu, r.cpu_millis), " CPU");
  };
  const std::string what = StrCat(
      w.gang.empty() ? StrCat("pod ", w.members[0]) : StrCat("gang ", w.gang), " (", demand.pods,
      demand.pods == 1 ? " pod, " : " pods, ", amount(DomainRoom{0, demand.gpu_millis, demand.cpu_millis}),
      gpus && !head.intent.gpu_type.empty() ? StrCat(" ", head.intent.gpu_type) : "", ") fits in no single ", lv.name,
      ": ");
  why->code = first_domain.empty() ? PendingCode::kUnschedulable : first.code;
  if (room.empty()) {
    why->message = StrCat(what, "no node carries the ", lv.name, " label ", lv.node_label,
                          level > 0 ? " (with the labels of every wider level)" : "");
  } else if (only >= 0 && first_domain.empty()) {
    why->message = StrCat(what, "its running members are in ", lv.name, " ", domains_.Name(level, only),
                          ", which has ", amount(room[only]), " free");
  } else if (only < 0 && sibling != kNoNode) {
    why->message = StrCat(what, "its running members are on node ", snapshot_.node(sibling).node.name,
                          ", which has no ", lv.name, " label ", lv.node_label);
  } else if (first_domain.empty()) {
    why->message = StrCat(what, "largest free ", lv.name, " has ", amount(largest));
  } else {
    why->message = StrCat(what, fits.size(), " ", lv.name, "(s) have enough free in sum, but none can hold every member",
                          tried > kMaxDomainsTried ? StrCat(" (the ", kMaxDomainsTried, " fullest were tried)") : "",
                          "; in ", lv.name, " ", first_domain, ": ", first.message);
  }
  return 0;
}

std::optional<PreemptionPlan> Engine::SearchInOneDomain(const Workload& w, const PreemptionView& view,
                                                        const PreemptionRequest& req) {
  domains_.Refresh(config_.topology_levels, snapshot_);
  const int level = w.topology_required;
  const Demand demand = DemandOf(snapshot_, catalog_, w.member_ids);
  const std::vector<DomainRoom> total = RoomByDomain(snapshot_, domains_, level, demand, /*allocatable=*/true);
  std::vector<DomainRoom> free = RoomByDomain(snapshot_, domains_, level, demand, /*allocatable=*/false);
  const NodeId sibling = RunningMemberNode(w);
  const int only = sibling == kNoNode ? -1 : domains_.DomainOf(level, sibling);
  if (sibling != kNoNode && only < 0) return std::nullopt;
  // Domains that could hold it once emptied, most free first (likely the fewest victims).
  std::vector<DomainRoom> candidates;
  for (const DomainRoom& r : free) {
    if ((only < 0 || r.domain == only) && Holds(total[r.domain], demand)) candidates.push_back(r);
  }
  std::sort(candidates.begin(), candidates.end(), [&](const DomainRoom& a, const DomainRoom& b) {
    return std::tie(b.gpu_millis, b.cpu_millis, domains_.Name(level, a.domain)) <
           std::tie(a.gpu_millis, a.cpu_millis, domains_.Name(level, b.domain));
  });
  if (candidates.size() > kMaxPreemptionDomains) candidates.resize(kMaxPreemptionDomains);
  std::optional<PreemptionPlan> best;
  for (const DomainRoom& r : candidates) {
    PreemptionView inside = view;
    inside.held_for_other = [&, d = r.domain](NodeId id) {
      return domains_.DomainOf(level, id) != d || (view.held_for_other && view.held_for_other(id));
    };
    std::optional<PreemptionPlan> plan = preemptor_.Search(inside, req, now_ms_);
    if (plan && (!best || plan->victims.size() < best->victims.size())) best = std::move(plan);
    if (best && best->victims.empty()) break;  // pods already leaving suffice: nothing cheaper
  }
  return best;
}

}  // namespace drover
