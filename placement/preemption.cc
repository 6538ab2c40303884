// The engine's side of preemption: when a waiting workload may preempt, asking
// the Preemptor (placement/preemptor.h) for the smallest victim set, and acting on
// its plan: the evictions (a victim gang member takes its running siblings with
// it), and nominations that hold the freed space for the preemptor. A complete
// gang preempts as a whole; its nodes are nominated to the gang, open to all its
// members, and dropped together.
// A victim cannot preempt its preemptor back: the preemptor sits within its
// guaranteed, and a pod in a queue within guaranteed is never a reclaim victim;
// and an outranked pod never outranks the pod that outranked it.
#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "core/strings.h"
#include "placement/engine.h"

namespace drover {

bool Engine::GangMayPreempt(Workload& w) {
  if (now_ms_ < w.gang_preempt_after_ms) {
    // Offered because something changed: look at it when the interval ends.
    WakeAt(w, w.gang_preempt_after_ms);
    return false;
  }
  // Until it finds victims, the next search waits (set here, cleared on success).
  w.gang_preempt_after_ms = now_ms_ + options_.gang_preemption_retry_ms;
  // Only a complete gang: one still waiting for members could not start anyway.
  auto running = gang_running_.find(w.gang);
  return static_cast<int>(w.members.size()) + (running == gang_running_.end() ? 0 : running->second) >= w.min_members;
}

bool Engine::TryPreempt(Workload& w, Decisions* out, std::string* why) {
  if (!options_.preemption || w.leaf == kNoQueue) return false;
  const bool gang = !w.gang.empty();
  if (gang && !GangMayPreempt(w)) return false;
  std::vector<std::string> members = w.members;
  std::sort(members.begin(), members.end());
  PreemptionRequest req;
  req.leaf = w.leaf;
  req.tier = w.tier;
  req.priority = snapshot_.pod(snapshot_.FindPod(w.members[0])).pod.priority;
  req.each_member_evicts = !gang;
  for (const std::string& m : members) {
    const Pod& p = snapshot_.pod(snapshot_.FindPod(m)).pod;
    if (!p.WantsGpu()) return false;  // CPU-only pods (and gangs with such members) wait rather than preempt
    std::string error;
    req.mask &= AllowedGpuTypes(p, catalog_, &error);
    req.members.push_back(&p);
  }
  const uint64_t gang_id = gang ? w.id : 0;
  req.nominated_gpu = [&](int dim) { return NominatedGpu(w.leaf, dim, members[0], gang_id); };
  PreemptionView view{&snapshot_, tree_.get(), &index_, &catalog_, &tracked_, [&](NodeId id) {
                        if (reservations_.ReservedForOther(id, w.id)) return true;  // draining for another
                        // Space already freed for another preemptor is its own: a second
                        // nomination would take the first one's hold away.
                        auto n = nominations_.find(id);
                        if (n == nominations_.end()) return false;
                        return gang ? n->second.gang_workload != w.id : n->second.pod_key != members[0];
                      }};
  if (topology_.enabled()) {
    view.constraints_ok = [this](const Pod& member, NodeId node, const std::vector<std::string>& gone,
                                 const std::vector<std::pair<const Pod*, NodeId>>& placed) {
      TopologyOverlay overlay;
      for (const std::string& key : gone) overlay.gone.insert(snapshot_.FindPod(key));
      overlay.added = placed;
      ConstraintCheck check;
      return !check.Prepare(member, topology_, &overlay) || check.Check(snapshot_.node(node).node) == FilterFailure::kNone;
    };
  }
  // A gang that requires a topology level takes victims inside one domain only.
  std::optional<PreemptionPlan> plan =
      w.topology_required >= 0 ? SearchInOneDomain(w, view, req) : preemptor_.Search(view, req, now_ms_);
  if (!plan) return false;
  // Pods already being evicted may be all it needs: then it evicts nobody and waits for them.
  const size_t evicted = Evict(std::move(plan->victims), w, w.members[0], plan->type, out);
  if (evicted > 0) ++stats_.preemptors;
  // The freed space is held for the preemptor: one nomination per node (a gang's
  // open to all its members, dropped together). One it still had (its victims
  // there gone, yet it did not fit) is released, or it would keep that space from
  // others until expiry.
  for (const std::string& m : members) DropNominationsOf(m);
  absl::flat_hash_set<NodeId> held;
  for (size_t i = 0; i < members.size(); ++i) {
    const NodeId node = plan->member_nodes[i];
    if (held.insert(node).second) Nominate(node, w, members[i], gang_id);
    nominations_.at(node).reserve += req.members[i]->requests;  // (a reference would not survive the next insert)
  }
  const std::string where = gang ? StrCat(held.size(), " node(s) for the gang")
                                 : StrCat("node ", snapshot_.node(plan->member_nodes[0]).node.name);
  if (evicted > 0) {
    *why = StrCat(*why, " Preempting ", evicted, " pod(s) on ", where, ".");
  } else {
    *why = StrCat(*why, " Waiting for ", plan->leaving.size(), " pod(s) already being evicted on ", where, ".");
  }
  if (gang) w.gang_preempt_after_ms = 0;
  return true;
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
    preemptor_.NoteEvicting(*tree_, tv, true);
    preemptor_.NoteEvicted(v, now_ms_);
    timers_changed_.insert(v);
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

void Engine::Nominate(NodeId node, Workload& w, const std::string& pod_key, uint64_t gang_id) {
  if (auto old = nominations_.find(node); old != nominations_.end()) EndNomination(old);
  ++w.nominations;
  nominations_.emplace(node, Nomination{pod_key, ResourceVec(), now_ms_ + options_.nomination_ttl_ms, gang_id, w.id});
}

void Engine::EndNomination(Nominations::iterator it) {
  if (auto w = workloads_.find(it->second.workload); w != workloads_.end()) --w->second.nominations;
  nominations_.erase(it);
}

bool Engine::AwaitingVictims(const Workload& w) const {
  if (w.nominations == 0) return false;
  for (const auto& [node, nom] : nominations_) {
    if (nom.workload != w.id) continue;
    // Nominated nodes are the preemptor's alone: a pod leaving one leaves for it.
    for (PodId p : snapshot_.node(node).pods) {
      auto tr = tracked_.find(snapshot_.pod(p).pod.Key());
      if (tr != tracked_.end() && tr->second.evicting) return true;
    }
  }
  return false;
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
  if (it != tracked_.end() && it->second.evicting) preemptor_.NoteEvicting(*tree_, it->second, false);
  const bool blocked = o.result == EvictionOutcome::Result::kBlocked;
  preemptor_.NoteEvictionRefused(o.pod_key, blocked, now_ms_);
  timers_changed_.insert(o.pod_key);
  --stats_.preemptions;
  if (blocked) ++stats_.evictions_blocked;
  // The preemptor's hold on the node goes; it chooses again (other victims).
  DropNominationsOf(o.preemptor_key);
  capacity_freed_ = true;
}

}  // namespace drover
