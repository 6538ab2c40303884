#include "placement/preemptor.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <tuple>

#include "placement/filters.h"

namespace drover {
namespace {

// A node as the search sees it: its devices' use and its free resources once the
// victims and members chosen so far are counted.
struct NodeSim {
  std::vector<int32_t> device_used;
  ResourceVec free;
};

bool FitsOn(const Pod& pod, const NodeSim& sim) {
  if (!pod.requests.FitsIn(sim.free)) return false;
  int fits = 0;
  for (int32_t used : sim.device_used) fits += 1000 - used >= pod.gpu_milli_per_device ? 1 : 0;
  return fits >= pod.gpu_devices;
}

void Free(const PodEntry& e, NodeSim* sim) {
  sim->free += e.pod.requests;
  for (int d : e.devices) sim->device_used[d] -= e.pod.gpu_milli_per_device;
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

// What a node's victims cost: fewest, least important, youngest, least GPU.
using Cost = std::tuple<size_t, int, int64_t, int64_t>;

bool Contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

struct Preemptor::Search1 {
  const PreemptionView& view;
  const PreemptionRequest& req;
  int64_t now_ms;
  bool reclaim = false;
  int dim = 0;
  absl::flat_hash_map<NodeId, NodeSim> sims;  // nodes touched so far
  Taken taken;                                // by the victims chosen so far
  std::vector<std::string> victims;
  std::vector<std::string> leaving;           // pods already being evicted, counted on
  std::vector<NodeId> nodes;                  // per member placed
};

struct Preemptor::Offer {
  std::vector<std::string> victims;  // new evictions, in the order chosen
  std::vector<std::string> leaving;  // pods already being evicted whose space it counts on
  Cost cost{0, 0, 0, 0};
};

std::optional<PreemptionPlan> Preemptor::Search(const PreemptionView& view, const PreemptionRequest& req,
                                                int64_t now_ms) const {
  QueueTree& tree = *view.tree;
  for (GpuTypeId t : view.catalog->ByRank(req.mask)) {
    if (view.index->nodes_of_type(t) == 0 || !tree.MayUseType(req.leaf, t)) continue;
    Charge total;
    total.gpu_type = t;
    bool charged = true;
    for (const Pod* p : req.members) {
      absl::StatusOr<Charge> c = tree.ChargeFor(*p, t);
      if (!(charged = c.ok())) break;
      total.cpu_millis += c->cpu_millis;
      total.memory_bytes += c->memory_bytes;
      total.gpu_millis += c->gpu_millis;
    }
    if (!charged) continue;
    Search1 s{view, req, now_ms};
    s.dim = QGpu(t);
    // Entitled to reclaim only within guaranteed, counting the queue's other
    // preemptors whose space is held but who are not bound yet.
    const Queue& lq = tree.queue(req.leaf);
    const int64_t held = req.nominated_gpu ? req.nominated_gpu(s.dim) : 0;
    s.reclaim = lq.usage[s.dim] + held + total.gpu_millis <= lq.guaranteed[s.dim];
    // Nothing to free: it failed for other reasons.
    if (!PlaceMembers(&s, t) || (s.victims.empty() && s.leaving.empty())) continue;
    // The queues must admit the workload once the victims and the pods it counts
    // on are gone (their usage counts in common ancestors, up to the root).
    std::vector<const TrackedPod*> gone;
    for (const std::string& v : s.victims) gone.push_back(&view.pods->at(v));
    for (const std::string& l : s.leaving) gone.push_back(&view.pods->at(l));
    for (const TrackedPod* tv : gone) tree.Remove(tv->leaf, tv->charge, tv->tier);
    const std::string admit = tree.CheckAdmit(req.leaf, total, req.tier);
    for (const TrackedPod* tv : gone) tree.Add(tv->leaf, tv->charge, tv->tier);
    if (!admit.empty()) continue;
    return PreemptionPlan{t, std::move(s.victims), std::move(s.nodes), std::move(s.leaving)};
  }
  return std::nullopt;
}

bool Preemptor::PlaceMembers(Search1* s, GpuTypeId t) const {
  const Snapshot& snap = *s->view.snapshot;
  for (const Pod* member : s->req.members) {
    const Pod& pod = *member;
    NodeId best_node = kNoNode;
    Offer best;
    // With inter-pod rules, every offer is kept and the cheapest that satisfies them wins.
    const bool constrained = static_cast<bool>(s->view.constraints_ok);
    std::vector<std::pair<Offer, NodeId>> offers;
    s->view.index->Visit(t, 0, true, [&](NodeId id) {
      if (s->view.held_for_other && s->view.held_for_other(id)) return true;
      const NodeState& st = snap.node(id);
      // Everything but resources must already allow the pod here.
      const FilterFailure f = CheckNode(pod, st, st.node.allocatable);
      if (f != FilterFailure::kNone && f < FilterFailure::kInsufficientCpu) return true;
      const size_t bound = constrained || best_node == kNoNode ? SIZE_MAX : best.victims.size();
      std::optional<Offer> offer = OfferOn(*s, pod, id, bound);
      if (offer && constrained) {
        offers.emplace_back(*std::move(offer), id);
      } else if (offer && (best_node == kNoNode || offer->cost < best.cost)) {
        best_node = id;
        best = *std::move(offer);
      }
      return true;
    });
    if (constrained && !ChooseAllowedOffer(*s, pod, &offers, &best_node, &best)) return false;
    if (best_node == kNoNode) return false;
    // Carry the choice into the node's simulated state.
    auto it = s->sims.find(best_node);
    if (it == s->sims.end()) {
      it = s->sims.emplace(best_node, NodeSim{snap.node(best_node).device_used, snap.Free(best_node)}).first;
    }
    for (std::string& l : best.leaving) {
      Free(snap.pod(snap.FindPod(l)), &it->second);
      s->leaving.push_back(std::move(l));
    }
    for (std::string& v : best.victims) {
      Free(snap.pod(snap.FindPod(v)), &it->second);
      const TrackedPod& tv = s->view.pods->at(v);
      if (tv.leaf != s->req.leaf) NoteTaken(*s->view.tree, tv, s->req.leaf, &s->taken);
      s->victims.push_back(std::move(v));
    }
    TakeDevices(pod, &it->second);
    s->nodes.push_back(best_node);
  }
  return true;
}

bool Preemptor::ChooseAllowedOffer(const Search1& s, const Pod& pod, std::vector<std::pair<Offer, NodeId>>* offers,
                                   NodeId* node, Offer* chosen) const {
  // Cheapest first; ties keep the index's visit order, as without rules.
  std::stable_sort(offers->begin(), offers->end(), [](const auto& a, const auto& b) { return a.first.cost < b.first.cost; });
  std::vector<std::pair<const Pod*, NodeId>> placed;
  for (size_t i = 0; i < s.nodes.size(); ++i) placed.emplace_back(s.req.members[i], s.nodes[i]);
  for (auto& [offer, id] : *offers) {
    std::vector<std::string> gone = s.victims;
    gone.insert(gone.end(), s.leaving.begin(), s.leaving.end());
    gone.insert(gone.end(), offer.victims.begin(), offer.victims.end());
    gone.insert(gone.end(), offer.leaving.begin(), offer.leaving.end());
    if (!s.view.constraints_ok(pod, id, gone, placed)) continue;
    *node = id;
    *chosen = std::move(offer);
    return true;
  }
  return false;
}

std::optional<Preemptor::Offer> Preemptor::OfferOn(const Search1& s, const Pod& pod, NodeId id, size_t bound) const {
  const Snapshot& snap = *s.view.snapshot;
  auto it = s.sims.find(id);
  NodeSim sim = it == s.sims.end() ? NodeSim{snap.node(id).device_used, snap.Free(id)} : it->second;
  Offer offer;
  if (!s.req.each_member_evicts && FitsOn(pod, sim)) return offer;  // (a gang member) room already
  Candidates leaving, candidates;
  for (PodId p : snap.node(id).pods) {
    const std::string key = snap.pod(p).pod.Key();
    if (Contains(s.victims, key) || Contains(s.leaving, key)) continue;
    auto tv = s.view.pods->find(key);
    if (tv == s.view.pods->end()) continue;
    if (MayCountOn(s, key, tv->second)) {
      leaving.emplace_back(&tv->second, key);
    } else if (MayEvict(s, key, tv->second, s.taken)) {
      candidates.emplace_back(&tv->second, key);
    }
  }
  // Pods already being evicted leave anyway: their space is counted first, at no cost.
  for (const auto& [v, key] : leaving) {
    Free(snap.pod(snap.FindPod(key)), &sim);
    offer.leaving.push_back(key);
    if (FitsOn(pod, sim)) return offer;
  }
  SortVictims(&candidates);
  Taken node_taken = s.taken;
  bool fits = false;
  for (const auto& [v, key] : candidates) {
    if (offer.victims.size() >= bound) return std::nullopt;  // cannot beat the best
    if (!MayEvict(s, key, *v, node_taken)) continue;
    const PodEntry& e = snap.pod(snap.FindPod(key));
    Free(e, &sim);
    offer.victims.push_back(key);
    std::get<1>(offer.cost) += 2 - v->tier;
    std::get<2>(offer.cost) += s.now_ms - v->started_ms;
    std::get<3>(offer.cost) += e.pod.requests[Res::kGpu];
    if (v->leaf != s.req.leaf) NoteTaken(*s.view.tree, *v, s.req.leaf, &node_taken);
    if ((fits = FitsOn(pod, sim))) break;
  }
  if (!fits) return std::nullopt;
  std::get<0>(offer.cost) = offer.victims.size();
  return offer;
}

bool Preemptor::MayCountOn(const Search1& s, const std::string& key, const TrackedPod& v) const {
  if (!v.charged || !v.evicting) return false;
  if (v.leaf == s.req.leaf) return Outranks(s, key, v);
  return s.reclaim && v.charge.gpu_type != kNoGpuType && QGpu(v.charge.gpu_type) == s.dim;
}

bool Preemptor::Outranks(const Search1& s, const std::string& key, const TrackedPod& v) const {
  if (s.req.tier < v.tier) return true;
  const Snapshot& snap = *s.view.snapshot;
  return s.req.tier == v.tier && s.req.priority > snap.pod(snap.FindPod(key)).pod.priority;
}

bool Preemptor::MayEvict(const Search1& s, const std::string& key, const TrackedPod& v, const Taken& taken) const {
  if (!v.charged || v.evicting || v.tier == 0) return false;
  if (auto c = preempted_.find(key); c != preempted_.end() && c->second.count >= options_.max_preemptions_per_pod) {
    return false;
  }
  if (auto b = pdb_blocked_until_.find(key); b != pdb_blocked_until_.end() && b->second > s.now_ms) return false;
  const PreemptionRequest& req = s.req;
  if (v.leaf == req.leaf) return Outranks(s, key, v);
  if (!s.reclaim || v.charge.gpu_type == kNoGpuType || QGpu(v.charge.gpu_type) != s.dim) return false;
  // Only borrowed capacity: the victim's leaf and its branch stay at or above
  // guaranteed after everything taken from them so far, in this decision and in
  // evictions still under way (their pods are charged until they are gone).
  const QueueTree& tree = *s.view.tree;
  for (QueueId q : {v.leaf, BranchBelowCommonAncestor(tree, v.leaf, req.leaf)}) {
    auto t = taken.find(q);
    const int64_t already = (t == taken.end() ? 0 : t->second) + EvictingGpu(q, s.dim);
    if (tree.queue(q).usage[s.dim] - already - v.charge.gpu_millis < tree.queue(q).guaranteed[s.dim]) return false;
  }
  return true;
}

void Preemptor::SortVictims(Candidates* c) {
  std::sort(c->begin(), c->end(), [](const auto& a, const auto& b) {
    if (a.first->tier != b.first->tier) return a.first->tier > b.first->tier;
    // Within a tier, single pods before gang members (a gang member's loss stalls its job).
    if (a.first->gang.empty() != b.first->gang.empty()) return a.first->gang.empty();
    if (a.first->started_ms != b.first->started_ms) return a.first->started_ms > b.first->started_ms;
    return a.second < b.second;
  });
}

QueueId Preemptor::BranchBelowCommonAncestor(const QueueTree& tree, QueueId victim_leaf, QueueId leaf) {
  // Ancestors of `leaf`, then climb from the victim until the parent is one of them.
  std::vector<QueueId> path;
  tree.ForEachAncestor(leaf, [&](QueueId q) { path.push_back(q); });
  QueueId cur = victim_leaf;
  while (true) {
    const QueueId parent = tree.queue(cur).parent;
    if (parent == kNoQueue || std::find(path.begin(), path.end(), parent) != path.end()) return cur;
    cur = parent;
  }
}

void Preemptor::NoteTaken(const QueueTree& tree, const TrackedPod& v, QueueId leaf, Taken* taken) {
  // The victim's leaf and its branch below the common ancestor give up its GPUs
  // (once: when the leaf is that branch, it is one queue).
  (*taken)[v.leaf] += v.charge.gpu_millis;
  const QueueId branch = BranchBelowCommonAncestor(tree, v.leaf, leaf);
  if (branch != v.leaf) (*taken)[branch] += v.charge.gpu_millis;
}

void Preemptor::NoteEvicted(const std::string& pod_key, int64_t now_ms) {
  Count& c = preempted_[pod_key];
  ++c.count;
  c.last_ms = now_ms;
}

void Preemptor::RestoreCount(const std::string& pod_key, int count, int64_t now_ms) {
  if (count > 0) preempted_[pod_key] = Count{count, now_ms};
}

void Preemptor::NoteEvictionRefused(const std::string& pod_key, bool blocked, int64_t now_ms) {
  if (auto c = preempted_.find(pod_key); c != preempted_.end() && --c->second.count <= 0) {
    preempted_.erase(c);  // as if never preempted
  }
  if (blocked) pdb_blocked_until_[pod_key] = now_ms + options_.pdb_backoff_ms;
}

void Preemptor::Prune(int64_t now_ms, const std::function<bool(const std::string&)>& live) {
  absl::erase_if(pdb_blocked_until_, [&](const auto& kv) { return kv.second <= now_ms; });
  absl::erase_if(preempted_, [&](const auto& kv) {
    return !live(kv.first) && now_ms - kv.second.last_ms >= options_.forget_preempted_after_ms;
  });
}

int Preemptor::PreemptedCount(const std::string& pod_key) const {
  auto it = preempted_.find(pod_key);
  return it == preempted_.end() ? 0 : it->second.count;
}

void Preemptor::NoteEvicting(const QueueTree& tree, TrackedPod& pod, bool evicting) {
  if (pod.evicting == evicting) return;
  pod.evicting = evicting;
  if (!pod.charged || pod.charge.gpu_type == kNoGpuType || pod.leaf == kNoQueue) return;
  const int dim = QGpu(pod.charge.gpu_type);
  tree.ForEachAncestor(pod.leaf, [&](QueueId q) {
    const int64_t k = static_cast<int64_t>(q) * kQDims + dim;
    if ((evicting_gpu_[k] += evicting ? pod.charge.gpu_millis : -pod.charge.gpu_millis) == 0) evicting_gpu_.erase(k);
  });
}

int64_t Preemptor::EvictingGpu(QueueId q, int dim) const {
  if (evicting_gpu_.empty()) return 0;
  auto it = evicting_gpu_.find(static_cast<int64_t>(q) * kQDims + dim);
  return it == evicting_gpu_.end() ? 0 : it->second;
}

}  // namespace drover
