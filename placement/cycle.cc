// The scheduling cycle: holds expiring, each workload's attempt (place, preempt,
// reserve or explain), blocked workloads and their shapes, wake-ups, queue
// positions and the engine's invariants (listings: listing.cc).
#include <algorithm>

#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "core/quantity.h"
#include "core/strings.h"
#include "placement/engine.h"

namespace drover {

Decisions Engine::RunCycle(int64_t now_ms) {
  Decisions out;
  now_ms_ = now_ms;
  ++stats_.cycles;
  RefreshCapacity();
  ExpireHolds();
  if (now_ms_ >= next_prune_ms_) {
    // Per-pod history that would otherwise only grow (Preemptor::Prune).
    preemptor_.Prune(now_ms_, [&](const std::string& key) { return tracked_.contains(key); });
    next_prune_ms_ = now_ms_ + 60 * 1000;
  }
  failed_shapes_.clear();
  const size_t explained_from = out.pending.size();
  for (int n = 0; n < options_.max_workloads_per_cycle; ++n) {
    std::optional<std::pair<QueueId, uint64_t>> next = order_->Next();
    if (!next) break;
    Workload& w = workloads_[next->second];
    if (attempt_observer_ == nullptr) {
      Attempt(w, &out);
    } else {
      ObservedAttempt(w, &out);
    }
  }
  SetQueuePositions(&out, explained_from);
  ExplainRejections(&out);
  tree_->PruneDrained();
  restored_waiting_.clear();  // pods present at start have arrived by the first cycle
  return out;
}

void Engine::ExpireHolds() {
  for (auto it = nominations_.begin(); it != nominations_.end();) {
    auto next = std::next(it);
    if (it->second.expires_ms <= now_ms_) {
      EndNomination(it);
      capacity_freed_ = true;
    }
    it = next;
  }
  if (!reservations_.empty()) CheckReservations();
  FireWakeups();
  // Pods that started counting: only waiters they may help look again (kube-scheduler's
  // queueing hints); a pod that counts frees nothing for anyone else.
  if (waiters_overflow_) capacity_freed_ = true;
  if (!waiters_helped_.empty() && !capacity_freed_) UnblockWaiters();
  waiters_helped_.clear();
  waiters_overflow_ = false;
  if (capacity_freed_) {
    UnblockAfterCapacityChange();
    capacity_freed_ = false;
  }
}

void Engine::Attempt(Workload& w, Decisions* out) {
  // The workload's first pending pod, looked up once when first needed (its slot
  // is stable through the cycle: no pod is added or removed).
  PodId head_id = kNoPod;
  auto head = [&]() -> const Pod& {
    if (head_id == kNoPod) head_id = snapshot_.FindPod(w.members[0]);
    return snapshot_.pod(head_id).pod;
  };
  // A pod held by max_running_apps last time gets its shape back (held, it had none).
  if (w.app_limited && w.gang.empty()) w.shape = ShapeKey(head(), w);
  w.app_limited = false;
  // A pod shaped exactly like one that just failed, in the same queue and tier,
  // fails the same way: skip the work (kube-scheduler's equivalence idea).
  uint64_t shape = w.shape;
  Wait why;
  bool preempting = false;  // evicting for it, or waiting for pods evicted for it
  // A pod holding a reservation or a nomination sees more room than its
  // shape-mates: never skipped, and its failure says nothing about theirs.
  if (w.reserved_node != kNoNode || w.nominations > 0) shape = 0;
  if (std::optional<std::string> apps = RunningAppLimit(w)) {
    // Waits for a running application of its queue to end, holding nothing: no
    // shape group (pods of running applications with its shape are not held
    // back by it), no reservation, no preemption.
    why = Wait{PendingCode::kApplicationLimit, *std::move(apps)};
    w.app_limited = true;
    w.shape = 0;
    shape = 0;
    if (w.reserved_node != kNoNode) ReleaseReservation(w.reserved_node);
    DropNominationsOf(w.members[0]);
  } else if (auto f = failed_shapes_.find(shape); shape != 0 && f != failed_shapes_.end()) {
    ++stats_.shape_skips;
    why = f->second;
  } else if (w.gang.empty() && !w.reason.empty() && !MightFitWholeGpus(head()) && !MightPreempt(w, head())) {
    why = Wait{w.code, w.reason, w.nodes};  // no node has enough free GPUs of any type: same answer as before
    if (shape != 0) failed_shapes_.emplace(shape, why);
  } else if (TryPlace(w, out, &why)) {
    Placed(w);
    return;
  } else if (AwaitingVictims(w)) {
    // Like kube-scheduler's nominated node with victims still terminating: no new
    // preemption; its hold stays until they are gone (or it expires), and so does
    // the explanation that named them.
    why = Wait{PendingCode::kWaitingForPreemption, w.reason.empty() ? std::move(why.message) : w.reason,
               w.reason.empty() ? std::move(why.nodes) : w.nodes};
    preempting = true;
  } else if (MightPreempt(w, head()) && PreemptionDue(w) && TryPreempt(w, out, &why.message)) {
    why.code = PendingCode::kWaitingForPreemption;
    preempting = true;
    shape = 0;  // its evictions change the picture for the same shape
  } else if (shape != 0) {
    failed_shapes_.emplace(shape, why);
  }
  ++stats_.unschedulable_attempts;
  if (w.waiting_since_ms < 0) w.waiting_since_ms = now_ms_;
  if (w.first_failed_ms < 0) {
    w.first_failed_ms = now_ms_;
    NoteTimersChanged(w);
  }
  if (!preempting) {
    if (std::optional<std::string> never = NeverFits(w, head())) {
      // Not pending forever: rejected with the reason, until the cluster or config changes.
      w.rejection = StrCat(w.gang.empty() ? StrCat("pod ", w.members[0]) : StrCat("gang ", w.gang),
                           " can never be placed: ", *never);
      w.never_fits = true;
      never_fits_.push_back(w.id);
      order_->Remove(w.id);
      unexplained_rejections_.push_back(w.id);
      return;
    }
    if (!w.app_limited && MayReserve(w)) TryReserve(w);
    if (!w.app_limited) WakeToReserve(w, head());
  }
  if (w.reserved_node != kNoNode) {
    const std::string note = ReservationNote(w);
    if (!absl::EndsWith(why.message, note)) why.message += note;
    why.code = PendingCode::kWaitingForDrain;
  }
  BlockWorkload(w);
  Explain(w, std::move(why), out);
}

void Engine::ObservedAttempt(Workload& w, Decisions* out) {
  // Copied first: a placed workload is gone after Attempt.
  const std::string key = w.members[0];
  const PodId head = w.member_ids.empty() ? snapshot_.FindPod(key) : w.member_ids[0];
  const bool constrained = head != kNoPod && snapshot_.pod(head).pod.constraints.HasRequired();
  const int pods = static_cast<int>(w.members.size());
  const int64_t binds = stats_.binds, tries = stats_.placement_tries, considered = stats_.nodes_considered;
  attempt_observer_->BeforeAttempt();
  Attempt(w, out);
  attempt_observer_->AfterAttempt(AttemptReport{key, pods, constrained, stats_.placement_tries != tries,
                                                stats_.binds != binds, stats_.nodes_considered - considered});
}

void Engine::Placed(Workload& w) {
  stats_.binds += static_cast<int64_t>(w.members.size());
  if (!w.gang.empty()) ++stats_.gangs_placed;
  // The next workload of the same shape may fit too.
  if (auto g = blocked_by_shape_.find(w.shape); w.shape != 0 && g != blocked_by_shape_.end() && !g->second.empty()) {
    UnblockWorkload(workloads_[g->second.begin()->second]);
  }
  const std::vector<std::string> members = w.members;
  for (const std::string& key : members) RemovePending(key, tracked_[key]);
}

void Engine::Explain(Workload& w, Wait why, Decisions* out) {
  std::string nominated;
  for (const auto& [node, nom] : nominations_) {
    if (nom.pod_key == w.members[0] || (nom.gang_workload != 0 && nom.gang_workload == w.id)) {
      // Several for a gang: the first by name, not the hash map's order.
      const std::string& name = snapshot_.node(node).node.name;
      if (nominated.empty() || name < nominated) nominated = name;
    }
  }
  // Space is held for it while its victims leave: that is what it waits for.
  if (!nominated.empty() && (why.code == PendingCode::kUnschedulable || why.code == PendingCode::kReservedElsewhere)) {
    why.code = PendingCode::kWaitingForPreemption;
  }
  w.code = why.code;
  w.nodes = std::move(why.nodes);
  if (why.message == w.reason) return;  // told already
  w.reason = std::move(why.message);
  for (const std::string& m : w.members) out->pending.push_back(PendingReason{m, w.reason, nominated, w.code, 0});
}

void Engine::SetQueuePositions(Decisions* out, size_t from) {
  if (out->pending.size() <= from) return;
  // The workload a reason was given for, if it still waits (one may have been
  // offered again and placed later in the same cycle).
  auto workload_of = [&](const std::string& key) -> const Workload* {
    auto tr = tracked_.find(key);
    if (tr == tracked_.end() || tr->second.workload == 0) return nullptr;
    auto w = workloads_.find(tr->second.workload);
    return w == workloads_.end() ? nullptr : &w->second;
  };
  // Each leaf with a new explanation is walked once, and only up to the last
  // workload explained: O(that one's position), not O(the leaf's pending).
  absl::flat_hash_map<QueueId, absl::flat_hash_map<uint64_t, int64_t>> wanted;  // leaf -> workload -> position
  for (size_t i = from; i < out->pending.size(); ++i) {
    if (const Workload* w = workload_of(out->pending[i].pod_key)) wanted[w->leaf].emplace(w->id, 0);
  }
  for (auto& [leaf, positions] : wanted) {
    int64_t position = 0;
    size_t left = positions.size();
    order_->ForEachInLeafWhile(leaf, [&](uint64_t id) {
      ++position;
      if (auto it = positions.find(id); it != positions.end() && it->second == 0) {
        it->second = position;
        --left;
      }
      return left > 0;
    });
  }
  for (size_t i = from; i < out->pending.size(); ++i) {
    if (const Workload* w = workload_of(out->pending[i].pod_key)) out->pending[i].queue_position = wanted[w->leaf][w->id];
  }
}

void Engine::ExplainRejections(Decisions* out) {
  // Rejected workloads are explained once.
  for (uint64_t id : unexplained_rejections_) {
    auto it = workloads_.find(id);
    if (it == workloads_.end()) continue;
    Workload& w = it->second;
    w.reason = w.rejection;
    w.code = PendingCode::kRejected;
    ++stats_.rejected;
    for (const std::string& m : w.members) {
      out->pending.push_back(PendingReason{m, StrCat("rejected: ", w.rejection), "", PendingCode::kRejected, 0});
    }
  }
  unexplained_rejections_.clear();
  for (const std::string& m : unexplained_members_) {
    auto t = tracked_.find(m);
    if (t == tracked_.end()) continue;
    auto it = workloads_.find(t->second.workload);
    if (it == workloads_.end() || it->second.rejection.empty()) continue;
    out->pending.push_back(PendingReason{m, StrCat("rejected: ", it->second.rejection), "", PendingCode::kRejected, 0});
  }
  unexplained_members_.clear();
}

std::optional<std::string> Engine::NeverFits(const Workload& w, const Pod& pod) const {
  const int64_t members = std::max<int64_t>(w.min_members, static_cast<int64_t>(w.members.size()));
  std::string error;
  const GpuTypeMask mask = pod.WantsGpu() ? AllowedGpuTypes(pod, catalog_, &error) : 0;
  std::string why;
  auto node_can_hold = [&](NodeId id) {
    const Node& n = snapshot_.node(id).node;
    return pod.requests.FitsIn(n.allocatable) && n.gpu_count >= pod.gpu_devices;
  };
  if (!pod.WantsGpu()) {
    for (NodeId id = 0; id < snapshot_.node_slots(); ++id) {
      if (snapshot_.node(id).present && node_can_hold(id)) return std::nullopt;
    }
    return StrCat("requests ", pod.requests.ToString(), " are larger than any node's allocatable");
  }
  for (GpuTypeId t : catalog_.AllByRank()) {
    if (!(mask & (GpuTypeMask{1} << t)) || index_.nodes_of_type(t) == 0) continue;
    bool any_node = false;
    index_.Visit(t, 0, false, [&](NodeId id) { return !(any_node = node_can_hold(id)); });
    if (!any_node) {
      why = StrCat("no ", catalog_.type(t).name, " node can hold ", pod.requests.ToString());
      continue;
    }
    absl::StatusOr<Charge> c = tree_->ChargeFor(pod, t);
    if (!c.ok()) {
      why = std::string(c.status().message());
      continue;
    }
    const int64_t total = c->gpu_millis * members;
    std::string over;
    tree_->ForEachAncestor(w.leaf, [&](QueueId q) {
      if (over.empty() && total > tree_->queue(q).max[QGpu(t)]) {
        over = StrCat("needs ", FormatAmount(Res::kGpu, total), " ", catalog_.type(t).name, ", above the max of queue ",
                      tree_->queue(q).path, " (", FormatAmount(Res::kGpu, tree_->queue(q).max[QGpu(t)]), ")");
      }
    });
    if (over.empty()) return std::nullopt;
    why = over;
  }
  return why.empty() ? StrCat("no node has a GPU type it accepts (", catalog_.MaskToString(mask), ")") : why;
}

bool Engine::MightFitWholeGpus(const Pod& pod) const {
  if (!pod.WantsGpu() || pod.gpu_milli_per_device < 1000) return true;  // not decidable cheaply
  std::string error;
  const GpuTypeMask mask = AllowedGpuTypes(pod, catalog_, &error);
  for (GpuTypeId t = 0; t < catalog_.size(); ++t) {
    if ((mask & (GpuTypeMask{1} << t)) && index_.BestFree(t) >= pod.gpu_devices) return true;
  }
  return false;
}

bool Engine::MightPreempt(const Workload& w, const Pod& pod) const {
  if (!options_.preemption || !pod.WantsGpu() || w.leaf == kNoQueue) return false;
  // A gang asks for its pending members' GPUs together (members are alike, or close).
  const int64_t gpu = pod.requests[Res::kGpu] * static_cast<int64_t>(w.members.size());
  const Queue& lq = tree_->queue(w.leaf);
  for (int tier = w.tier + 1; tier <= 2; ++tier) {
    if (lq.running_by_tier[tier] > 0) return true;  // in-queue victims by tier
  }
  if (pod.priority > 0 && lq.running_by_tier[std::clamp(w.tier, 0, 2)] > 0) return true;
  for (int d = 2; d < kQDims; ++d) {  // reclaim: within guaranteed for some type
    if (lq.guaranteed[d] > 0 && lq.usage[d] + gpu <= lq.guaranteed[d]) return true;
  }
  return false;
}

bool Engine::PreemptionDue(Workload& w) {
  if (w.tier == 0) return true;  // guaranteed capacity, whenever it asks: no wait
  const int64_t since = w.first_failed_ms < 0 ? now_ms_ : w.first_failed_ms;
  if (now_ms_ - since >= options_.preemption_delay_ms) return true;
  WakeAt(w, since + options_.preemption_delay_ms);
  return false;
}

void Engine::WakeAt(Workload& w, int64_t at_ms) {
  if (w.wakeup_ms >= 0 && w.wakeup_ms <= at_ms && w.wakeup_ms > now_ms_) return;  // an earlier one is pending
  w.wakeup_ms = at_ms;
  wakeups_.emplace(at_ms, w.id);
}

void Engine::FireWakeups() {
  while (!wakeups_.empty() && wakeups_.top().first <= now_ms_) {
    const auto [at, id] = wakeups_.top();
    wakeups_.pop();
    auto it = workloads_.find(id);
    if (it == workloads_.end() || it->second.wakeup_ms != at) continue;  // gone, or superseded
    it->second.wakeup_ms = -1;
    UnblockWorkload(it->second);
  }
}

void Engine::BlockWorkload(Workload& w) {
  if (w.blocked) return;
  w.blocked = true;
  order_->Block(w.id);
  if (!w.gang.empty() && w.shape == 0 && w.rejection.empty() && !w.app_limited &&
      static_cast<int64_t>(w.members.size()) >= w.min_members) {
    w.shape = GangShape(w);  // complete gangs of identical members retry head-first, like pods
  }
  if (w.shape != 0) {
    blocked_by_shape_[w.shape].emplace(w.seq, w.id);
  } else {
    blocked_unshaped_.push_back(w.id);
  }
}

void Engine::UnblockWorkload(Workload& w) {
  if (!w.blocked) return;
  w.blocked = false;
  order_->Unblock(w.id);
  if (w.shape == 0) return;  // removed from blocked_unshaped_ lazily
  auto g = blocked_by_shape_.find(w.shape);
  if (g == blocked_by_shape_.end()) return;
  g->second.erase({w.seq, w.id});
  if (g->second.empty()) blocked_by_shape_.erase(g);
}

void Engine::NoteWaitersHelpedBy(const Labels& labels) {
  waiting_on_pods_.ForMatching(labels, [&](const std::string& key) {
    auto tr = tracked_.find(key);
    if (tr == tracked_.end() || tr->second.workload == 0 || waiters_overflow_) return;
    if (waiters_helped_.size() >= kMaxWaitersKept) {
      waiters_overflow_ = true;
      waiters_helped_.clear();
      return;
    }
    waiters_helped_.push_back(tr->second.workload);
  });
}

void Engine::UnblockWaiters() {
  std::vector<uint64_t>& ids = waiters_helped_;
  std::sort(ids.begin(), ids.end());  // arrival order, not the hash map's
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (uint64_t id : ids) {
    if (auto it = workloads_.find(id); it != workloads_.end()) UnblockWorkload(it->second);
  }
}

void Engine::UnblockAfterCapacityChange() {
  std::vector<uint64_t> heads;
  for (const auto& [shape, group] : blocked_by_shape_) heads.push_back(group.begin()->second);
  std::sort(heads.begin(), heads.end());  // arrival order, not the hash map's
  for (uint64_t id : heads) UnblockWorkload(workloads_[id]);
  std::vector<uint64_t> gangs;
  gangs.swap(blocked_unshaped_);
  for (uint64_t id : gangs) {
    if (auto it = workloads_.find(id); it != workloads_.end()) UnblockWorkload(it->second);
  }
  // A pod holding a reservation looks again whenever anything frees: its node may be drained.
  reservations_.ForEach([&](NodeId, const drover::Reservations::Held& r) {
    if (auto it = workloads_.find(r.workload); it != workloads_.end()) UnblockWorkload(it->second);
  });
  // So does a preemptor holding a nomination: its victims may be gone. It need not
  // head its shape group, whose head, without the held space, may fail every time.
  for (const auto& [node, nom] : nominations_) {
    if (auto it = workloads_.find(nom.workload); it != workloads_.end()) UnblockWorkload(it->second);
  }
}

uint64_t Engine::GangShape(const Workload& w) const {
  // Order-insensitive over the members, plus the member count and minimum: two
  // gangs with this key fail and fit the same way.
  uint64_t sum = 0;
  for (const std::string& key : w.members) sum += ShapeKey(snapshot_.pod(snapshot_.FindPod(key)).pod, w);
  const uint64_t h = absl::HashOf(sum, w.members.size(), w.min_members, std::string_view("gang"));
  return h == 0 ? 1 : h;
}

uint64_t Engine::ShapeKey(const Pod& pod, const Workload& w) const {
  // Everything filters, admission and scoring read from the pod.
  std::string k = StrCat(w.leaf, "|", w.tier, "|", pod.priority, "|", pod.gpu_devices, "|", pod.gpu_milli_per_device);
  for (ResourceId r = 0; r < Res::kMax; ++r) StrAppend(&k, "|", pod.requests[r]);
  if (!pod.intent.gpu_type.empty()) StrAppend(&k, "|t=", pod.intent.gpu_type);
  if (!pod.intent.topology_required.empty() || !pod.intent.topology_preferred.empty()) {
    StrAppend(&k, "|topo=", pod.intent.topology_required, "/", pod.intent.topology_preferred);
  }
  for (const Toleration& t : pod.tolerations) {
    StrAppend(&k, "|tol=", t.key, static_cast<int>(t.op), t.value, t.effect ? static_cast<int>(*t.effect) : -1);
  }
  for (const auto& [key, v] : pod.node_selector.items()) StrAppend(&k, "|ns=", key, "=", v);
  for (const NodeSelectorTerm& term : pod.required_affinity) {
    StrAppend(&k, "|term");
    for (const auto* reqs : {&term.match_expressions, &term.match_fields}) {
      for (const NodeSelectorRequirement& r : *reqs) {
        StrAppend(&k, "|", r.key, static_cast<int>(r.op));
        for (const std::string& v : r.values) StrAppend(&k, ",", v);
      }
    }
  }
  // Pod (anti-)affinity and spread read the pod's labels and its own terms: no shape-mates.
  if (!pod.constraints.empty()) StrAppend(&k, "|pod=", pod.Key());
  // With the index on, running pods' anti-affinity may refuse a pod for its labels:
  // shape-mates share them. (A pod that arrived before the index was on keeps its shape.)
  if (topology_.enabled()) {
    StrAppend(&k, "|", pod.namespace_);
    for (const auto& [key, v] : pod.labels.items()) StrAppend(&k, "|l=", key, "=", v);
  }
  const uint64_t h = absl::HashOf(k);
  return h == 0 ? 1 : h;
}

void Engine::OnOutcome(const BindOutcome& o) {
  if (o.result == BindOutcome::Result::kBound) return;
  ++stats_.bind_failures;
  auto it = tracked_.find(o.pod_key);
  const PodId id = snapshot_.FindPod(o.pod_key);
  if (it == tracked_.end() || id == kNoPod || !snapshot_.pod(id).assumed) return;
  Rollback(o.pod_key);
  capacity_freed_ = true;
  if (o.result == BindOutcome::Result::kGone) {
    RemovePod(o.pod_key);
  } else if (o.result == BindOutcome::Result::kFailed) {
    AddPending(snapshot_.pod(id).pod, it->second, /*new_arrival=*/false);  // try again next cycle
  }
  // kConflict: someone else bound it; the next event tells where.
}

std::string Engine::WhyPending(const std::string& pod_key) const {
  auto it = tracked_.find(pod_key);
  if (it == tracked_.end() || it->second.workload == 0) return "";
  auto w = workloads_.find(it->second.workload);
  return w == workloads_.end() ? "" : w->second.reason;
}

std::vector<std::string> Engine::CheckInvariants() const {
  std::vector<std::string> problems = snapshot_.CheckInvariants();
  for (std::string& p : tree_->CheckInvariants()) problems.push_back(std::move(p));
  // Application counts (max_*_apps) agree with the pods behind them, leaf by leaf.
  for (std::string& p : apps_.CheckAgainst(*tree_)) problems.push_back(std::move(p));
  // Each pending workload counts the nodes nominated for it.
  absl::flat_hash_map<uint64_t, int> held;
  for (const auto& [node, nom] : nominations_) ++held[nom.workload];
  for (const auto& [id, w] : workloads_) {
    const auto it = held.find(id);
    for (size_t i = 0; i < w.members.size(); ++i) {
      if (i >= w.member_ids.size() || w.member_ids[i] != snapshot_.FindPod(w.members[i])) {
        problems.push_back(StrCat("workload of pod ", w.members[i], ": its snapshot id is out of step"));
        break;
      }
    }
    const int n = it == held.end() ? 0 : it->second;
    if (w.nominations != n) {
      problems.push_back(StrCat("workload of pod ", w.members.empty() ? "(none)" : w.members[0], ": nominations = ",
                                w.nominations, ", but ", n, " node(s) are nominated for it"));
    }
  }
  return problems;
}

}  // namespace drover
