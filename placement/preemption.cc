// Preemption: which running pods may be evicted for a pending one, and the
// smallest set on one node that makes it fit. The rules (placement/README.md):
//  - reclaim: the pod's leaf queue is within its guaranteed for the GPU type even
//    after this pod; victims run on borrowed capacity, in a queue (and in the
//    branch below the common ancestor) above its guaranteed, and never below it;
//  - in-queue: victims in the pod's own leaf that it outranks (lower tier
//    number, or the same tier and higher priority);
//  - never Tier 0, never a pod already being evicted, a pod a PDB protected
//    recently, or one preempted max_preemptions_per_pod times;
//  - victims are ranked Tier 2 before Tier 1, single pods before gang members,
//    then youngest first; per node the shortest prefix of that ranking that frees
//    enough is taken; across nodes the set with the fewest victims wins, then the
//    least important (sum of 2 - tier), then the youngest, then the least GPU;
//  - the pod is nominated to that node: its freed space is held for it.
// A gang member is preempted with all its running siblings. A complete gang
// preempts as a whole (TryPreemptGang): its pending members are placed one by one
// on one GPU type, each on the node needing the fewest victims given the victims
// and members chosen before it; the queues must admit the whole gang with all
// the victims gone; the nodes are nominated to the gang, open to all its members.
// A victim cannot preempt its preemptor back: the preemptor sits within its
// guaranteed, and a pod in a queue within guaranteed is never a reclaim victim;
// and an outranked pod never outranks the pod that outranked it.
#include <algorithm>
#include <tuple>

#include "core/strings.h"
#include "placement/engine.h"

namespace drover {
namespace {

// A simulated node for gang preemption: its devices' use and its free resources
// once the victims and members chosen so far are counted.
struct NodeSim {
  std::vector<int32_t> device_used;
  ResourceVec free;
};

bool FitsOn(const Pod& pod, const std::vector<int32_t>& device_used, const ResourceVec& free) {
  if (!pod.requests.FitsIn(free)) return false;
  int fits = 0;
  for (int32_t used : device_used) fits += 1000 - used >= pod.gpu_milli_per_device ? 1 : 0;
  return fits >= pod.gpu_devices;
}

// Takes `pod`'s devices on a simulated node: the fullest devices that fit, as the
// snapshot's device choice packs.
void TakeDevices(const Pod& pod, NodeSim* sim) {
  sim->free -= pod.requests;
  for (int k = 0; k < pod.gpu_devices; ++k) {
    int best = -1;
    for (int d = 0; d < static_cast<int>(sim->device_used.size()); ++d) {
      if (1000 - sim->device_used[d] < pod.gpu_milli_per_device) continue;
      if (best < 0 || sim->device_used[d] > sim->device_used[best]) best = d;
    }
    if (best >= 0) sim->device_used[best] += pod.gpu_milli_per_device;
  }
}

}  // namespace

void Engine::SortVictims(Candidates* c) {
  std::sort(c->begin(), c->end(), [](const auto& a, const auto& b) {
    if (a.first->tier != b.first->tier) return a.first->tier > b.first->tier;
    // Within a tier, single pods before gang members (a gang member's loss stalls its job).
    if (a.first->gang.empty() != b.first->gang.empty()) return a.first->gang.empty();
    if (a.first->started_ms != b.first->started_ms) return a.first->started_ms > b.first->started_ms;
    return a.second < b.second;
  });
}

QueueId Engine::BranchBelowCommonAncestor(QueueId victim_leaf, QueueId leaf) const {
  // Ancestors of `leaf`, then climb from the victim until the parent is one of them.
  std::vector<QueueId> path;
  tree_->ForEachAncestor(leaf, [&](QueueId q) { path.push_back(q); });
  QueueId cur = victim_leaf;
  while (true) {
    const QueueId parent = tree_->queue(cur).parent;
    if (parent == kNoQueue || std::find(path.begin(), path.end(), parent) != path.end()) return cur;
    cur = parent;
  }
}

void Engine::NoteTaken(const Tracked& v, QueueId leaf, absl::flat_hash_map<QueueId, int64_t>* taken) const {
  // The victim's leaf and its branch below the common ancestor give up its GPUs
  // (once: when the leaf is that branch, it is one queue).
  (*taken)[v.leaf] += v.charge.gpu_millis;
  const QueueId branch = BranchBelowCommonAncestor(v.leaf, leaf);
  if (branch != v.leaf) (*taken)[branch] += v.charge.gpu_millis;
}

bool Engine::MayEvict(const std::string& victim_key, const Tracked& v, const Workload& w, bool reclaim, int dim,
                      const absl::flat_hash_map<QueueId, int64_t>& taken) const {
  if (!v.charged || v.evicting || v.tier == 0) return false;
  if (auto c = preempted_count_.find(victim_key);
      c != preempted_count_.end() && c->second.count >= options_.max_preemptions_per_pod) {
    return false;
  }
  if (auto b = pdb_blocked_until_.find(victim_key); b != pdb_blocked_until_.end() && b->second > now_ms_) return false;
  if (v.leaf == w.leaf) {
    if (w.tier < v.tier) return true;
    const Pod& vp = snapshot_.pod(snapshot_.FindPod(victim_key)).pod;
    const Pod& pp = snapshot_.pod(snapshot_.FindPod(w.members[0])).pod;
    return w.tier == v.tier && pp.priority > vp.priority;
  }
  if (!reclaim || v.charge.gpu_type == kNoGpuType || QGpu(v.charge.gpu_type) != dim) return false;
  // Only borrowed capacity: the victim's leaf and its branch stay at or above
  // guaranteed after everything taken from them so far, in this decision and in
  // evictions still under way (their pods are charged until they are gone).
  for (QueueId q : {v.leaf, BranchBelowCommonAncestor(v.leaf, w.leaf)}) {
    auto t = taken.find(q);
    const int64_t already = (t == taken.end() ? 0 : t->second) + EvictingGpu(q, dim);
    if (tree_->queue(q).usage[dim] - already - v.charge.gpu_millis < tree_->queue(q).guaranteed[dim]) return false;
  }
  return true;
}

bool Engine::TryPreempt(Workload& w, Decisions* out, std::string* why) {
  if (!w.gang.empty()) return TryPreemptGang(w, out, why);
  // CPU-only pods wait rather than preempt (see placement/README.md).
  if (!options_.preemption || w.members.size() != 1 || w.leaf == kNoQueue) return false;
  const std::string& key = w.members[0];
  const Pod& pod = snapshot_.pod(snapshot_.FindPod(key)).pod;
  if (!pod.WantsGpu()) return false;
  std::string error;
  const GpuTypeMask mask = AllowedGpuTypes(pod, catalog_, &error);
  for (GpuTypeId t : catalog_.ByRank(mask)) {
    if (index_.nodes_of_type(t) == 0 || !tree_->MayUseType(w.leaf, t)) continue;
    absl::StatusOr<Charge> charge = tree_->ChargeFor(pod, t);
    if (!charge.ok()) continue;
    const int dim = QGpu(t);
    const Queue& lq = tree_->queue(w.leaf);
    // Entitled to reclaim only within guaranteed, counting the queue's other
    // preemptors whose space is held but who are not bound yet.
    const bool reclaim = lq.usage[dim] + NominatedGpu(w.leaf, dim, key) + charge->gpu_millis <= lq.guaranteed[dim];
    NodeId best_node = kNoNode;
    std::vector<std::string> best_victims;
    int64_t best_gpu = 0;
    int best_importance = 0;  // sum over victims of (2 - tier): Tier 2 victims cost least
    int64_t best_age = 0;     // sum of the victims' run time so far: the youngest go first
    index_.Visit(t, 0, true, [&](NodeId id) {
      if (!reservations_.empty() && ReservedForOther(id, w.id)) return true;  // draining for another pod
      // Space already freed for another preemptor is its own: a second nomination
      // would take the first one's hold away.
      if (!nominations_.empty()) {
        if (auto n = nominations_.find(id); n != nominations_.end() && n->second.pod_key != key) return true;
      }
      const NodeState& st = snapshot_.node(id);
      // Everything but resources must already allow the pod here.
      const FilterFailure f = CheckNode(pod, st, st.node.allocatable);
      if (f != FilterFailure::kNone && f < FilterFailure::kInsufficientCpu) return true;
      Candidates candidates;
      absl::flat_hash_map<QueueId, int64_t> taken;
      for (PodId p : st.pods) {
        const std::string vkey = snapshot_.pod(p).pod.Key();
        auto it = tracked_.find(vkey);
        if (it != tracked_.end() && MayEvict(vkey, it->second, w, reclaim, dim, taken)) {
          candidates.emplace_back(&it->second, vkey);
        }
      }
      if (candidates.empty()) return true;
      SortVictims(&candidates);
      NodeState sim = st;  // usage with the victims gone
      ResourceVec free = snapshot_.Free(id) - Reserved(id, key);
      std::vector<std::string> victims;
      int64_t gpu = 0;
      int importance = 0;
      int64_t age = 0;
      for (const auto& [v, vkey] : candidates) {
        if (best_node != kNoNode && victims.size() > best_victims.size()) return true;
        if (!MayEvict(vkey, *v, w, reclaim, dim, taken)) continue;
        const PodEntry& e = snapshot_.pod(snapshot_.FindPod(vkey));
        free += e.pod.requests;
        for (int d : e.devices) sim.device_used[d] -= e.pod.gpu_milli_per_device;
        victims.push_back(vkey);
        gpu += e.pod.requests[Res::kGpu];
        importance += 2 - v->tier;
        age += now_ms_ - v->started_ms;
        if (v->leaf != w.leaf) NoteTaken(*v, w.leaf, &taken);
        if (pod.requests.FitsIn(free) && DevicesFit(pod, sim)) {
          const auto key = std::make_tuple(victims.size(), importance, age, gpu);
          if (best_node == kNoNode ||
              key < std::make_tuple(best_victims.size(), best_importance, best_age, best_gpu)) {
            best_node = id;
            best_victims = victims;
            best_gpu = gpu;
            best_importance = importance;
            best_age = age;
          }
          return true;
        }
      }
      return true;
    });
    if (best_node == kNoNode) continue;
    // The queues must admit the pod once the victims are gone (their usage counts
    // in common ancestors, up to the root).
    std::vector<const Tracked*> gone;
    for (const std::string& v : best_victims) gone.push_back(&tracked_[v]);
    for (const Tracked* tv : gone) tree_->Remove(tv->leaf, tv->charge, tv->tier);
    const std::string admit = tree_->CheckAdmit(w.leaf, *charge, w.tier);
    for (const Tracked* tv : gone) tree_->Add(tv->leaf, tv->charge, tv->tier);
    if (!admit.empty()) continue;
    const size_t evicted = Evict(std::move(best_victims), w, key, t, out);
    const std::string node_name = snapshot_.node(best_node).node.name;
    ++stats_.preemptors;
    // One hold per preemptor: one it still had elsewhere (its victims there not
    // gone yet) is released, or it would keep that space from others until expiry.
    DropNominationsOf(key);
    nominations_[best_node] = Nomination{key, pod.requests, now_ms_ + options_.nomination_ttl_ms};
    *why = StrCat(*why, " Preempting ", evicted, " pod(s) on node ", node_name, ".");
    return true;
  }
  return false;
}

size_t Engine::Evict(std::vector<std::string> victims, const Workload& w, const std::string& preemptor, GpuTypeId t,
                     Decisions* out) {
  // A gang is preempted whole: its other running members go too, or they would
  // hold their GPUs for a job that cannot make progress.
  for (size_t i = 0, n = victims.size(); i < n; ++i) {
    const std::string gang = tracked_[victims[i]].gang;
    if (gang.empty()) continue;
    std::vector<std::string> siblings;
    for (const auto& [k, tv] : tracked_) {
      if (tv.gang == gang && tv.charged && !tv.evicting && std::find(victims.begin(), victims.end(), k) == victims.end()) {
        siblings.push_back(k);
      }
    }
    std::sort(siblings.begin(), siblings.end());  // not the hash map's per-process order
    victims.insert(victims.end(), siblings.begin(), siblings.end());
  }
  const std::string by = w.gang.empty() ? preemptor : StrCat("gang ", w.gang);
  for (const std::string& v : victims) {
    Tracked& tv = tracked_[v];
    NoteEvicting(tv, true);
    PreemptedCount& count = preempted_count_[v];
    ++count.count;
    count.last_ms = now_ms_;
    ++stats_.preemptions;
    ++(tv.leaf == w.leaf ? stats_.preemptions_in_queue : stats_.preemptions_reclaim);
    const std::string reason =
        tv.leaf == w.leaf
            ? StrCat("preempted by ", by, " (higher tier or priority in queue ", tree_->queue(w.leaf).path, ")")
            : StrCat("preempted by ", by, " to reclaim ", catalog_.type(t).name, " guaranteed to queue ",
                     tree_->queue(w.leaf).path);
    out->evictions.push_back(Eviction{v, snapshot_.pod(snapshot_.FindPod(v)).pod.uid, reason, preemptor});
  }
  return victims.size();
}

bool Engine::TryPreemptGang(Workload& w, Decisions* out, std::string* why) {
  if (!options_.preemption || w.leaf == kNoQueue) return false;
  if (now_ms_ < w.gang_preempt_after_ms) {
    // Offered because something changed: look at it when the interval ends.
    WakeAt(w, w.gang_preempt_after_ms);
    return false;
  }
  // Until it finds victims, the next search waits (set here, cleared on success).
  w.gang_preempt_after_ms = now_ms_ + options_.gang_preemption_retry_ms;
  // Only a complete gang: one still waiting for members could not start anyway.
  auto running = gang_running_.find(w.gang);
  if (static_cast<int>(w.members.size()) + (running == gang_running_.end() ? 0 : running->second) < w.min_members) {
    return false;
  }
  std::vector<std::string> members = w.members;
  std::sort(members.begin(), members.end());
  std::vector<const Pod*> pods;
  GpuTypeMask mask = kAnyGpuType;
  for (const std::string& m : members) {
    const Pod& p = snapshot_.pod(snapshot_.FindPod(m)).pod;
    if (!p.WantsGpu()) return false;  // members without GPUs: the gang waits (as CPU-only pods do)
    std::string error;
    mask &= AllowedGpuTypes(p, catalog_, &error);
    pods.push_back(&p);
  }
  for (GpuTypeId t : catalog_.ByRank(mask)) {
    if (index_.nodes_of_type(t) == 0 || !tree_->MayUseType(w.leaf, t)) continue;
    Charge total;
    total.gpu_type = t;
    bool charged = true;
    for (const Pod* p : pods) {
      absl::StatusOr<Charge> c = tree_->ChargeFor(*p, t);
      if (!c.ok()) {
        charged = false;
        break;
      }
      total.cpu_millis += c->cpu_millis;
      total.memory_bytes += c->memory_bytes;
      total.gpu_millis += c->gpu_millis;
    }
    if (!charged) continue;
    const int dim = QGpu(t);
    const Queue& lq = tree_->queue(w.leaf);
    const bool reclaim = lq.usage[dim] + NominatedGpu(w.leaf, dim, members[0], w.id) + total.gpu_millis <= lq.guaranteed[dim];
    // Members are placed one by one on simulated node states that carry the
    // victims and members chosen so far; each takes the node needing the fewest
    // (then least important, youngest) victims.
    absl::flat_hash_map<NodeId, NodeSim> sims;
    absl::flat_hash_map<QueueId, int64_t> taken;
    std::vector<std::string> victims;
    std::vector<std::pair<NodeId, size_t>> placed;  // node, member index
    bool all = true;
    for (size_t i = 0; i < pods.size() && all; ++i) {
      const Pod& pod = *pods[i];
      NodeId best_node = kNoNode;
      std::vector<std::string> best_victims;
      std::tuple<size_t, int, int64_t, int64_t> best_key;
      index_.Visit(t, 0, true, [&](NodeId id) {
        if (!reservations_.empty() && ReservedForOther(id, w.id)) return true;
        if (auto n = nominations_.find(id); n != nominations_.end() && n->second.gang_workload != w.id) return true;
        const NodeState& st = snapshot_.node(id);
        const FilterFailure f = CheckNode(pod, st, st.node.allocatable);
        if (f != FilterFailure::kNone && f < FilterFailure::kInsufficientCpu) return true;
        auto it = sims.find(id);
        std::vector<std::string> mine;
        int importance = 0;
        int64_t age = 0, gpu = 0;
        const bool fits_now = it == sims.end() ? FitsOn(pod, st.device_used, snapshot_.Free(id))
                                               : FitsOn(pod, it->second.device_used, it->second.free);
        if (!fits_now) {
          NodeSim sim = it == sims.end() ? NodeSim{st.device_used, snapshot_.Free(id)} : it->second;
          Candidates candidates;
          for (PodId p : st.pods) {
            const std::string vkey = snapshot_.pod(p).pod.Key();
            if (std::find(victims.begin(), victims.end(), vkey) != victims.end()) continue;
            auto tv = tracked_.find(vkey);
            if (tv != tracked_.end() && MayEvict(vkey, tv->second, w, reclaim, dim, taken)) {
              candidates.emplace_back(&tv->second, vkey);
            }
          }
          SortVictims(&candidates);
          absl::flat_hash_map<QueueId, int64_t> node_taken = taken;
          bool fits = false;
          for (const auto& [v, vkey] : candidates) {
            if (!MayEvict(vkey, *v, w, reclaim, dim, node_taken)) continue;
            const PodEntry& e = snapshot_.pod(snapshot_.FindPod(vkey));
            sim.free += e.pod.requests;
            for (int d : e.devices) sim.device_used[d] -= e.pod.gpu_milli_per_device;
            mine.push_back(vkey);
            importance += 2 - v->tier;
            age += now_ms_ - v->started_ms;
            gpu += e.pod.requests[Res::kGpu];
            if (v->leaf != w.leaf) NoteTaken(*v, w.leaf, &node_taken);
            if (FitsOn(pod, sim.device_used, sim.free)) {
              fits = true;
              break;
            }
          }
          if (!fits) return true;
        }
        const auto key = std::make_tuple(mine.size(), importance, age, gpu);
        if (best_node == kNoNode || key < best_key) {
          best_node = id;
          best_victims = std::move(mine);
          best_key = key;
        }
        return true;
      });
      if (best_node == kNoNode) {
        all = false;
        break;
      }
      // Carry the choice into the node's simulated state.
      auto it = sims.find(best_node);
      if (it == sims.end()) {
        it = sims.emplace(best_node, NodeSim{snapshot_.node(best_node).device_used, snapshot_.Free(best_node)}).first;
      }
      for (const std::string& v : best_victims) {
        const PodEntry& e = snapshot_.pod(snapshot_.FindPod(v));
        it->second.free += e.pod.requests;
        for (int d : e.devices) it->second.device_used[d] -= e.pod.gpu_milli_per_device;
        const Tracked& tv = tracked_[v];
        if (tv.leaf != w.leaf) NoteTaken(tv, w.leaf, &taken);
        victims.push_back(v);
      }
      TakeDevices(pod, &it->second);
      placed.emplace_back(best_node, i);
    }
    if (!all || victims.empty()) continue;  // no victims needed: placement failed for other reasons
    // The queues must admit the whole gang once the victims are gone.
    std::vector<const Tracked*> gone;
    for (const std::string& v : victims) gone.push_back(&tracked_[v]);
    for (const Tracked* tv : gone) tree_->Remove(tv->leaf, tv->charge, tv->tier);
    const std::string admit = tree_->CheckAdmit(w.leaf, total, w.tier);
    for (const Tracked* tv : gone) tree_->Add(tv->leaf, tv->charge, tv->tier);
    if (!admit.empty()) continue;
    const size_t evicted = Evict(std::move(victims), w, w.members[0], t, out);
    ++stats_.preemptors;
    // The freed space is held for the gang: one nomination per node, open to all
    // its members, dropped together.
    for (const std::string& m : members) DropNominationsOf(m);
    absl::flat_hash_map<NodeId, size_t> first_on;
    for (const auto& [node, i] : placed) {
      auto [f, fresh] = first_on.emplace(node, i);
      Nomination& n = nominations_[node];
      if (fresh) n = Nomination{members[i], ResourceVec(), now_ms_ + options_.nomination_ttl_ms, w.id};
      n.reserve += pods[i]->requests;
    }
    *why = StrCat(*why, " Preempting ", evicted, " pod(s) on ", first_on.size(), " node(s) for the gang.");
    w.gang_preempt_after_ms = 0;
    return true;
  }
  return false;
}

void Engine::PruneExpired() {
  absl::erase_if(pdb_blocked_until_, [&](const auto& kv) { return kv.second <= now_ms_; });
  absl::erase_if(preempted_count_, [&](const auto& kv) {
    return !tracked_.contains(kv.first) && now_ms_ - kv.second.last_ms >= options_.forget_preempted_after_ms;
  });
}

int64_t Engine::EvictingGpu(QueueId q, int dim) const {
  if (evicting_gpu_.empty()) return 0;
  auto it = evicting_gpu_.find(static_cast<int64_t>(q) * kQDims + dim);
  return it == evicting_gpu_.end() ? 0 : it->second;
}

void Engine::NoteEvicting(Tracked& tr, bool evicting) {
  if (tr.evicting == evicting) return;
  tr.evicting = evicting;
  if (!tr.charged || tr.charge.gpu_type == kNoGpuType || tr.leaf == kNoQueue) return;
  const int dim = QGpu(tr.charge.gpu_type);
  tree_->ForEachAncestor(tr.leaf, [&](QueueId q) {
    const int64_t k = static_cast<int64_t>(q) * kQDims + dim;
    if ((evicting_gpu_[k] += evicting ? tr.charge.gpu_millis : -tr.charge.gpu_millis) == 0) evicting_gpu_.erase(k);
  });
}

int64_t Engine::NominatedGpu(QueueId leaf, int dim, const std::string& except, uint64_t except_gang) const {
  int64_t sum = 0;
  for (const auto& [node, nom] : nominations_) {
    if (nom.pod_key == except || QGpu(snapshot_.node(node).node.gpu_type) != dim) continue;
    if (except_gang != 0 && nom.gang_workload == except_gang) continue;
    auto it = tracked_.find(nom.pod_key);
    if (it != tracked_.end() && it->second.pending_leaf == leaf) sum += nom.reserve[Res::kGpu];
  }
  return sum;
}

void Engine::OnEvictionOutcome(const EvictionOutcome& o) {
  auto it = tracked_.find(o.pod_key);
  if (o.result == EvictionOutcome::Result::kEvicted || o.result == EvictionOutcome::Result::kGone) return;
  if (it != tracked_.end() && it->second.evicting) NoteEvicting(it->second, false);
  if (auto c = preempted_count_.find(o.pod_key); c != preempted_count_.end() && --c->second.count <= 0) {
    preempted_count_.erase(c);  // as if never preempted
  }
  --stats_.preemptions;
  if (o.result == EvictionOutcome::Result::kBlocked) {
    ++stats_.evictions_blocked;
    pdb_blocked_until_[o.pod_key] = now_ms_ + options_.pdb_backoff_ms;
  }
  // The preemptor's hold on the node goes; it chooses again (other victims).
  DropNominationsOf(o.preemptor_key);
  capacity_freed_ = true;
}

}  // namespace drover
