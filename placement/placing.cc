// Placing a workload: the node for each pod (filters, the node index's cheap
// skips, the policy's score), the decision assumed in the snapshot at once, and
// rolled back if the workload cannot be placed whole.
#include <algorithm>

#include "core/strings.h"
#include "placement/engine.h"

namespace drover {

ResourceVec Engine::Reserved(NodeId node, const std::string& for_pod) const {
  auto it = nominations_.find(node);
  if (it == nominations_.end() || it->second.pod_key == for_pod) return ResourceVec();
  // A gang's nominated space is open to all its members.
  if (it->second.gang_workload != 0 && it->second.gang_workload == placing_workload_) return ResourceVec();
  return it->second.reserve;
}

// Offers one node to the policy; false once enough feasible nodes were scored.
bool Engine::Consider(const Pod& pod, NodeId id, Choice* choice, FailureTally* tally, int* feasible, double* best) {
  if (domain_active_ && !domain_mask_[id]) return true;  // outside the topology domain being tried
  ++stats_.nodes_considered;
  const NodeState& st = snapshot_.node(id);
  const Taint* taint = nullptr;
  // Space nominated for another pending preemptor is not free to this pod.
  const ResourceVec* held = nullptr;
  if (!nominations_.empty()) {
    if (auto n = nominations_.find(id); n != nominations_.end() && n->second.pod_key != pod.Key() &&
                                        (n->second.gang_workload == 0 || n->second.gang_workload != placing_workload_)) {
      held = &n->second.reserve;
    }
  }
  FilterFailure f = CheckNodeFree(pod, st, held, &taint);
  if (!reservations_.empty() && (f == FilterFailure::kNone || f >= FilterFailure::kInsufficientCpu) &&
      reservations_.ReservedForOther(id, placing_workload_)) {
    f = FilterFailure::kReserved;
  }
  if (f == FilterFailure::kNone && constraint_active_) f = constraint_check_.Check(st.node);
  if (f != FilterFailure::kNone) {
    if (f == FilterFailure::kInsufficientGpu && held != nullptr && !held->IsZero()) f = FilterFailure::kReserved;
    tally->Add(f, st, taint, catalog_);
    return true;
  }
  scratch_devices_.clear();
  const double score = policy_->Score(pod, id, snapshot_, &scratch_devices_);
  // Preferred inter-pod terms and ScheduleAnyway spread break ties between nodes the
  // policy scores the same: they never outweigh packing (placement/README.md).
  const int64_t preference = preference_active_ ? constraint_check_.Preference(st.node) : 0;
  if (choice->node == kNoNode || score > *best || (preference_active_ && score == *best && preference > best_preference_)) {
    *best = score;
    best_preference_ = preference;
    choice->node = id;
    choice->devices = scratch_devices_;
  }
  const int limit = policy_->CandidateLimit();
  return !(limit > 0 && ++*feasible >= limit);
}

bool Engine::TallySpec(const Pod& pod, NodeId id, FilterFailure otherwise, FailureTally* tally) const {
  const NodeState& st = snapshot_.node(id);
  const Taint* taint = nullptr;
  const FilterFailure f = CheckNodeSpec(pod, st.node, &taint);
  tally->Add(f == FilterFailure::kNone ? otherwise : f, st, taint, catalog_);
  return f == FilterFailure::kNone;
}

int Engine::TallySpecOfType(const Pod& pod, GpuTypeId t, FailureTally* tally, FilterFailure otherwise) const {
  constexpr size_t kSpecsPerGroup = 16;  // distinct pod specs kept per node group; the oldest goes first
  if (spec_tallies_generation_ != snapshot_.node_spec_generation()) {
    spec_tallies_.clear();
    spec_tallies_generation_ = snapshot_.node_spec_generation();
  }
  std::vector<SpecTally>& group = spec_tallies_[t + 1];
  for (const SpecTally& s : group) {
    if (s.otherwise == otherwise && s.tolerations == pod.tolerations && s.node_selector == pod.node_selector &&
        s.required_affinity == pod.required_affinity) {
      tally->Merge(s.tally);
      return s.passed;
    }
  }
  SpecTally fresh{pod.tolerations, pod.node_selector, pod.required_affinity, otherwise, {}, 0};
  auto visit = [&](NodeId id) {
    fresh.passed += TallySpec(pod, id, otherwise, &fresh.tally);
    return true;
  };
  if (t == kNoGpuType) {
    for (NodeId id : index_.cpu_nodes()) visit(id);
  } else {
    index_.Visit(t, 0, true, visit);
  }
  tally->Merge(fresh.tally);
  if (group.size() >= kSpecsPerGroup) group.erase(group.begin());
  group.push_back(std::move(fresh));
  return group.back().passed;
}

bool Engine::ChooseOnType(const Pod& pod, GpuTypeId t, Choice* choice, FailureTally* tally) {
  const int min_free = pod.gpu_milli_per_device >= 1000 ? pod.gpu_devices : 0;
  const bool ascending = policy_->PrefersFullNodes();
  // A policy that ranks nodes itself (placement/node_classes.h) offers them best
  // first: the first node that passes the filters is the choice. Preferred
  // inter-pod terms break ties between equal scores, so they take the scan below.
  if (!preference_active_) {
    int feasible = 0;
    double best = 0;
    FailureTally unused;
    const bool ranked = policy_->VisitRanked(pod, GpuTypeMask{1} << t, snapshot_, [&](NodeId id) {
      Consider(pod, id, choice, &unused, &feasible, &best);
      return choice->node == kNoNode;
    });
    if (choice->node != kNoNode) return true;
    if (ranked) return ExactPass(pod, t, min_free, ascending, choice, tally);
  }
  // First pass: nodes surely too small for the pod are skipped unseen. They only
  // feed the failure tally, which matters only if no node fits: then a second,
  // exact pass offers every node in the same order and builds the explanation.
  {
    int feasible = 0;
    double best = 0;
    FailureTally unused;
    index_.Visit(t, min_free, ascending, [&](NodeId id) {
      if (index_.SurelyTooSmall(pod, id)) {
        ++stats_.nodes_skipped;
        return true;
      }
      return Consider(pod, id, choice, &unused, &feasible, &best);
    });
    if (choice->node != kNoNode) return true;
  }
  return ExactPass(pod, t, min_free, ascending, choice, tally);
}

bool Engine::ExactPass(const Pod& pod, GpuTypeId t, int min_free, bool ascending, Choice* choice,
                       FailureTally* tally) {
  int feasible = 0;
  double best = 0;
  int visited = 0;
  index_.Visit(t, min_free, ascending, [&](NodeId id) {
    ++visited;
    return Consider(pod, id, choice, tally, &feasible, &best);
  });
  if (choice->node == kNoNode && visited < static_cast<int>(index_.nodes_of_type(t))) {
    // Nodes with too few free GPUs were not offered: counted under the first filter
    // that turns the pod away, as kube-scheduler would.
    for (int free = 0; free < min_free; ++free) {
      for (NodeId id : index_.Bucket(t, free)) TallySpec(pod, id, FilterFailure::kInsufficientGpu, tally);
    }
  }
  return choice->node != kNoNode;
}

bool Engine::ChooseNode(const Pod& pod, QueueId leaf, int tier, Choice* choice, FailureTally* tally) {
  // The pod's inter-pod rules (kube-scheduler's PreFilter state) are computed once,
  // and only when its queue admits it on some type: a refused attempt offers no node.
  constraint_active_ = false;
  preference_active_ = false;
  bool prepared = false;
  auto prepare = [&] {
    if (prepared || !topology_.enabled()) return;
    prepared = true;
    constraint_active_ = constraint_check_.Prepare(pod, topology_);
    preference_active_ = constraint_check_.PrepareScore(pod, topology_, options_.existing_terms);
  };
  if (!pod.WantsGpu()) {
    absl::StatusOr<Charge> c = tree_->ChargeFor(pod, kNoGpuType);
    const std::string why = tree_->CheckAdmit(leaf, *c, tier);
    if (!why.empty()) {
      tally->AddQueueReason(why);
      return false;
    }
    tally->NoteAdmitted();
    choice->charge = *c;
    prepare();
    // CPU-only pods go to CPU nodes first, then to the busiest GPU nodes, so they
    // do not strand GPUs on empty nodes. As in ChooseOnType, a first pass skips
    // nodes surely too small; only if it finds none, an exact pass builds the tally.
    FailureTally unused;
    for (const bool skip_small : {true, false}) {
      FailureTally* t_or_unused = skip_small ? &unused : tally;
      int feasible = 0;
      double best = 0;
      auto offer = [&](NodeId id) {
        if (skip_small && index_.SurelyTooSmall(pod, id)) {
          ++stats_.nodes_skipped;
          return true;
        }
        return Consider(pod, id, choice, t_or_unused, &feasible, &best);
      };
      for (NodeId id : index_.cpu_nodes()) {
        if (!offer(id)) break;
      }
      if (choice->node != kNoNode) return true;
      for (GpuTypeId t : catalog_.AllByRank()) {
        index_.Visit(t, 0, true, offer);
        if (choice->node != kNoNode) return true;
      }
    }
    return false;
  }
  std::string error;
  const GpuTypeMask mask = AllowedGpuTypes(pod, catalog_, &error);
  // Types passed over, with the queue's refusal ("" = the pod may not use the type):
  // their nodes are counted only if no node is found, so a placement that succeeds
  // never walks them.
  std::vector<std::pair<GpuTypeId, std::string>> passed_over;
  // Lowest-ranked allowed type first: keep the big GPUs for those who need them.
  for (GpuTypeId t : catalog_.AllByRank()) {
    if (index_.nodes_of_type(t) == 0) continue;
    if (!(mask & (GpuTypeMask{1} << t))) {
      passed_over.emplace_back(t, "");
      continue;
    }
    absl::StatusOr<Charge> c = tree_->ChargeFor(pod, t);
    std::string refused;
    if (!tree_->MayUseType(leaf, t)) {
      refused = StrCat("queue ", tree_->queue(leaf).path, " has no quota for ", catalog_.type(t).name);
    } else if (!c.ok()) {
      refused = std::string(c.status().message());
    } else {
      refused = tree_->CheckAdmit(leaf, *c, tier);
    }
    if (!refused.empty()) {
      passed_over.emplace_back(t, std::move(refused));
      continue;
    }
    tally->NoteAdmitted();
    choice->charge = *c;
    prepare();
    if (ChooseOnType(pod, t, choice, tally)) return true;
  }
  TallySpecOfType(pod, kNoGpuType, tally, FilterFailure::kInsufficientGpu);
  for (auto& [t, refused] : passed_over) {
    // The queue clause names only types the pod could otherwise run on.
    if (TallySpecOfType(pod, t, tally) > 0 && !refused.empty()) tally->AddQueueReason(refused);
  }
  return false;
}

void Engine::Commit(const std::string& key, PodId pid, const Choice& c, Decisions* out) {
  Tracked& tr = tracked_[key];
  const PodEntry& e = snapshot_.pod(pid);
  const Workload& w = workloads_[tr.workload];
  (void)snapshot_.Assume(pid, c.node, c.devices);
  tr.leaf = w.leaf;
  tr.tier = w.tier;
  tr.charge = c.charge;
  tree_->Add(tr.leaf, tr.charge, tr.tier);
  order_->OnUsageChanged(tr.leaf);
  tr.charged = true;
  tr.started_ms = now_ms_;
  NoteCharged(e.pod, tr);
  // Space held for this pod as a preemptor is released wherever it lands (a gang's
  // once all its members are placed: TryPlace may still roll them back).
  if (w.gang.empty() && DropNominationsOf(key)) capacity_freed_ = true;
  out->binds.push_back(Binding{key, e.pod.uid, snapshot_.node(c.node).node.name, c.devices, tree_->queue(tr.leaf).path,
                               tr.tier, std::max<int64_t>(0, now_ms_ - e.pod.creation_ms)});
}

void Engine::Rollback(const std::string& key) {
  Tracked& tr = tracked_[key];
  snapshot_.Forget(key);
  if (tr.charged) {
    tree_->Remove(tr.leaf, tr.charge, tr.tier);
    order_->OnUsageChanged(tr.leaf);
    tr.charged = false;
    NoteUncharged(tr);
  }
}

bool Engine::TryPlace(Workload& w, Decisions* out, Wait* why) {
  ++stats_.placement_tries;
  // Members already running count: a replacement for a preempted or failed
  // member joins its running gang.
  const auto running = w.gang.empty() ? gang_running_.end() : gang_running_.find(w.gang);
  const int already = running == gang_running_.end() ? 0 : running->second;
  if (static_cast<int>(w.members.size()) + already < w.min_members) {
    *why = Wait{PendingCode::kWaitingForGang,
                StrCat("gang ", w.gang, " waits for its members: ", w.members.size(), " of ", w.min_members, " pending")};
    return false;
  }
  if (w.topology_required >= 0 || w.topology_preferred >= 0) return TryPlaceTopology(w, out, why);
  return PlaceMembers(w, out, why, /*reuse_reason=*/true);
}

bool Engine::PlaceMembers(Workload& w, Decisions* out, Wait* why, bool reuse_reason) {
  placing_workload_ = w.id;  // its own reserved node is open to it
  Decisions staged;
  std::vector<std::string> placed;
  for (const std::string& key : w.members) {
    const PodId pid = snapshot_.FindPod(key);
    const PodEntry& e = snapshot_.pod(pid);
    Choice c;
    FailureTally tally;
    if (!ChooseNode(e.pod, w.leaf, w.tier, &c, &tally)) {
      const uint64_t sig = tally.Signature() ^ static_cast<uint64_t>(placed.size());
      why->code = tally.Code();
      why->nodes = tally.Counts(snapshot_.live_nodes());
      if (!reuse_reason || sig != w.reason_sig || w.reason.empty()) {
        if (reuse_reason) w.reason_sig = sig;
        why->message = tally.Message(snapshot_.live_nodes());
      } else {
        why->message = w.reason;
      }
      if (!w.gang.empty() && why->message != w.reason) {
        why->message = StrCat("gang ", w.gang, ": ", placed.size(), "/", w.members.size(), " members fit; ", why->message);
      }
      for (const std::string& p : placed) Rollback(p);
      placing_workload_ = 0;
      return false;
    }
    Commit(key, pid, c, &staged);
    placed.push_back(key);
  }
  for (Binding& b : staged.binds) out->binds.push_back(std::move(b));
  if (!w.gang.empty()) {
    for (const std::string& key : placed) {
      if (DropNominationsOf(key)) capacity_freed_ = true;
    }
  }
  placing_workload_ = 0;
  return true;
}

}  // namespace drover
