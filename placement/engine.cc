#include "placement/engine.h"

#include <algorithm>
#include <charconv>

#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "core/quantity.h"
#include "core/strings.h"

namespace drover {

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(QueueConfig config, EngineOptions options) {
  absl::StatusOr<std::unique_ptr<ScoringPolicy>> policy = MakePolicy(options.policy, options.seed);
  if (!policy.ok()) return policy.status();
  return std::unique_ptr<Engine>(new Engine(std::move(config), std::move(options), std::move(*policy)));
}

Engine::Engine(QueueConfig config, EngineOptions options, std::unique_ptr<ScoringPolicy> policy)
    : options_(std::move(options)),
      config_(std::move(config)),
      catalog_(config_.catalog),
      snapshot_(&catalog_),
      tree_(std::make_unique<QueueTree>(config_)),
      order_(std::make_unique<PendingOrder>(tree_.get())),
      policy_(std::move(policy)),
      reservations_({options_.reservation_after_ms, options_.reservation_max_hold_ms, options_.max_reservations,
                     options_.reservation_min_gpus}),
      preemptor_({options_.max_preemptions_per_pod, options_.pdb_backoff_ms, options_.forget_preempted_after_ms}),
      apps_(config_.application_label) {
  InstallNodeListener();
}

void Engine::InstallNodeListener() {
  snapshot_.set_node_listener([this](NodeId id) {
    index_.Update(snapshot_, id);
    if (static_cast<size_t>(id) >= node_type_.size()) node_type_.resize(id + 1, -2);
    const NodeState& st = snapshot_.node(id);
    const GpuTypeId t = st.present ? st.node.gpu_type : -2;
    if (t != node_type_[id]) {
      node_type_[id] = t;
      index_dirty_ = true;
    }
  });
}

std::vector<std::string> Engine::ApplyConfig(QueueConfig config) {
  // Take the cluster as it is, then rebuild every derived structure under the new tree.
  std::vector<Node> nodes;
  for (NodeId id = 0; id < snapshot_.node_slots(); ++id) {
    if (!snapshot_.node(id).present) continue;
    nodes.push_back(snapshot_.node(id).node);
    nodes.back().gpu_type = kNoGpuType;  // re-resolved through the new catalog
  }
  struct Held {
    Pod pod;
    bool assumed;
    std::vector<int> devices;
  };
  std::vector<Held> pods;
  for (PodId id = 0; id < snapshot_.pod_slots(); ++id) {
    const PodEntry& e = snapshot_.pod(id);
    if (e.live) pods.push_back(Held{e.pod, e.assumed, e.devices});
  }
  // Running pods first, then binds in flight, then pending pods: a pending pod's
  // application is then known to be running (max_pending_apps) whatever the slot order.
  std::stable_sort(pods.begin(), pods.end(), [](const Held& a, const Held& b) {
    auto rank = [](const Held& h) { return h.assumed ? 1 : h.pod.IsBound() ? 0 : 2; };
    return rank(a) < rank(b);
  });
  config_ = std::move(config);
  catalog_ = config_.catalog;
  snapshot_ = Snapshot(&catalog_);
  InstallNodeListener();
  order_.reset();
  tree_ = std::make_unique<QueueTree>(config_);
  order_ = std::make_unique<PendingOrder>(tree_.get());
  index_ = NodeIndex();
  node_type_.clear();
  index_dirty_ = true;
  tracked_.clear();
  workloads_.clear();
  gangs_.clear();
  gang_running_.clear();
  apps_ = AppCounter(config_.application_label);
  nominations_.clear();
  reservations_.Clear();
  preemptor_.ForgetEvicting();
  blocked_by_shape_.clear();
  blocked_unshaped_.clear();
  unexplained_rejections_.clear();
  never_fits_.clear();
  pending_pods_ = 0;
  for (Node& n : nodes) Apply(ClusterEvent{ClusterEvent::Kind::kNodeUpsert, std::move(n), {}});
  RefreshCapacity();
  for (Held& h : pods) {
    if (!h.assumed) {
      ApplyPod(h.pod);
      continue;
    }
    // A bind in flight stays assumed on its node.
    const std::string key = h.pod.Key();
    const NodeId node = snapshot_.FindNode(h.pod.node_name);
    h.pod.node_name.clear();
    h.pod.gpu_device_ids.clear();
    ApplyPod(h.pod);
    Tracked& tr = tracked_[key];
    if (node == kNoNode || !snapshot_.Assume(key, node, h.devices).ok()) continue;
    if (tr.workload != 0) RemovePending(key, tr);
    ChargeRunning(key, tr);
  }
  capacity_freed_ = true;
  return tree_->MarkOverMaxByConfig();
}

void Engine::Apply(const ClusterEvent& e) {
  switch (e.kind) {
    case ClusterEvent::Kind::kNodeUpsert: {
      const NodeId before = snapshot_.FindNode(e.node.name);
      const ResourceVec old_alloc = before == kNoNode ? ResourceVec() : snapshot_.node(before).node.allocatable;
      const bool was_ok = before != kNoNode && snapshot_.node(before).node.ready && !snapshot_.node(before).node.unschedulable;
      if (std::string w = snapshot_.UpsertNode(e.node); !w.empty() && warnings_.size() < 1000) {
        warnings_.push_back(std::move(w));
      }
      const NodeId id = snapshot_.FindNode(e.node.name);
      const Node& n = snapshot_.node(id).node;
      if (!(old_alloc == n.allocatable) || (!was_ok && n.ready && !n.unschedulable)) capacity_freed_ = true;
      index_dirty_ = true;
      if (before == kNoNode) AdoptPodsOf(id);
      break;
    }
    case ClusterEvent::Kind::kNodeDelete:
      // Holds are keyed by node slot, which a later node may reuse.
      DropNodeHolds(snapshot_.FindNode(e.node.name));
      snapshot_.DeleteNode(e.node.name);
      index_dirty_ = true;
      break;
    case ClusterEvent::Kind::kPodUpsert:
      ApplyPod(e.pod);  // decodes its intent
      break;
    case ClusterEvent::Kind::kPodDelete:
      RemovePod(e.pod.Key());
      break;
  }
}

void Engine::Uncharge(Tracked& tr) {
  if (!tr.charged) return;
  if (tr.evicting) preemptor_.NoteEvicting(*tree_, tr, false);
  tree_->Remove(tr.leaf, tr.charge, tr.tier);
  order_->OnUsageChanged(tr.leaf);
  tr.charged = false;
  NoteUncharged(tr);
  capacity_freed_ = true;
}

std::optional<std::string> Engine::RunningAppLimit(const Workload& w) const {
  if (w.leaf == kNoQueue || !tree_->AtRunningAppLimit(w.leaf)) return std::nullopt;
  // Already running: its further pods are not limited. (Its key was kept when it was counted pending.)
  auto tr = tracked_.find(w.members[0]);
  if (tr != tracked_.end()) {
    if (apps_.IsRunning(tr->second.pending_app)) return std::nullopt;
  }
  return StrCat("its application has no pod running and ", tree_->CheckRunningAppLimit(w.leaf));
}

void Engine::NoteCharged(const Pod& pod, Tracked& tr) {
  if (tr.leaf != kNoQueue) {
    tr.app = apps_.KeyOf(tr.leaf, pod);
    apps_.Count(tree_.get(), tr.leaf, tr.app, 1, 0);
  }
  if (pod.intent.gang.empty()) return;
  tr.gang = StrCat(pod.namespace_, "/", pod.intent.gang);
  ++gang_running_[tr.gang];
}

void Engine::NoteUncharged(Tracked& tr) {
  if (!tr.app.empty()) {
    apps_.Count(tree_.get(), tr.leaf, tr.app, -1, 0);
    tr.app.clear();
  }
  if (tr.gang.empty()) return;
  if (--gang_running_[tr.gang] <= 0) gang_running_.erase(tr.gang);
  tr.gang.clear();
}

void Engine::ApplyPod(Pod pod) {
  DecodePodIntent(&pod);
  const std::string key = pod.Key();
  Tracked& tr = tracked_[key];
  const PodId before = snapshot_.FindPod(key);
  const NodeId node_before = before == kNoPod ? kNoNode : snapshot_.pod(before).counted_on;
  const bool ours = pod.scheduler_name == options_.scheduler_name;
  const bool terminal = pod.IsTerminal();
  const bool leaving = terminal || pod.deleting;
  const bool wants_gpu = pod.gpu_devices > 0;
  snapshot_.UpsertPod(std::move(pod));
  const PodEntry& entry = snapshot_.pod(snapshot_.FindPod(key));
  if (node_before != kNoNode && entry.counted_on != node_before) capacity_freed_ = true;
  const bool running = ours && entry.counted_on != kNoNode;
  const bool pending = ours && !entry.pod.IsBound() && !leaving;
  if (running) {
    if (tr.workload != 0) RemovePending(key, tr);
    const GpuTypeId landed = snapshot_.node(entry.counted_on).node.gpu_type;
    if (tr.charged && tr.charge.gpu_type == (wants_gpu ? landed : kNoGpuType)) return;  // confirmed assume
    Uncharge(tr);
    ChargeRunning(key, tr);
    return;
  }
  Uncharge(tr);
  if (pending) {
    if (tr.workload == 0) AddPending(entry.pod, tr);
    return;
  }
  if (tr.workload != 0) RemovePending(key, tr);
  if (!ours || terminal) tracked_.erase(key);
}

void Engine::AdoptPodsOf(NodeId id) {
  // Nodes and pods come from separate informers, so a pod bound to a node can
  // arrive before the node (at start-up, or when a node is re-created). The
  // snapshot counts such pods on the node once it appears; their queues are
  // charged here, or admission would not see the capacity they hold.
  std::vector<Pod> adopted;
  for (PodId p : snapshot_.node(id).pods) {
    const Pod& pod = snapshot_.pod(p).pod;
    if (pod.scheduler_name != options_.scheduler_name) continue;
    auto it = tracked_.find(pod.Key());
    if (it == tracked_.end() || !it->second.charged) adopted.push_back(pod);
  }
  for (const Pod& pod : adopted) ApplyPod(pod);
}

void Engine::ChargeRunning(const std::string& key, Tracked& tr) {
  const PodEntry& e = snapshot_.pod(snapshot_.FindPod(key));
  tr.leaf = tree_->LeafForRunning(e.pod);
  tr.tier = tree_->TierFor(e.pod);
  const GpuTypeId landed = e.pod.gpu_devices > 0 ? snapshot_.node(e.counted_on).node.gpu_type : kNoGpuType;
  absl::StatusOr<Charge> c = tree_->ChargeFor(e.pod, landed);
  if (!c.ok()) {  // running already: charge what it holds, whatever the policy says
    tr.charge = Charge{e.pod.requests[Res::kCpu], e.pod.requests[Res::kMemory], landed,
                       landed == kNoGpuType ? 0 : e.pod.requests[Res::kGpu]};
  } else {
    tr.charge = *c;
  }
  tree_->Add(tr.leaf, tr.charge, tr.tier);
  order_->OnUsageChanged(tr.leaf);
  tr.charged = true;
  tr.started_ms = tr.started_ms > 0 ? tr.started_ms : now_ms_;
  NoteCharged(e.pod, tr);
}

bool Engine::DropNominationsOf(const std::string& key) {
  if (nominations_.empty()) return false;
  bool dropped = false;
  // A gang member's: the whole gang's, whichever member each nomination names.
  uint64_t gang = 0;
  if (auto t = tracked_.find(key); t != tracked_.end() && t->second.workload != 0) {
    if (auto w = workloads_.find(t->second.workload); w != workloads_.end() && !w->second.gang.empty()) gang = w->first;
  }
  for (const auto& [node, nom] : nominations_) {
    if (nom.pod_key == key && nom.gang_workload != 0) gang = nom.gang_workload;
  }
  for (auto n = nominations_.begin(); n != nominations_.end();) {
    if (n->second.pod_key == key || (gang != 0 && n->second.gang_workload == gang)) {
      nominations_.erase(n++);
      dropped = true;
    } else {
      ++n;
    }
  }
  return dropped;
}

void Engine::RemovePod(const std::string& key) {
  DropNominationsOf(key);
  auto it = tracked_.find(key);
  if (it != tracked_.end()) {
    Uncharge(it->second);
    if (it->second.workload != 0) RemovePending(key, it->second);
    tracked_.erase(it);
  }
  const PodId id = snapshot_.FindPod(key);
  if (id != kNoPod && snapshot_.pod(id).counted_on != kNoNode) capacity_freed_ = true;
  snapshot_.DeletePod(key);
}

void Engine::AddPending(const Pod& pod, Tracked& tr, bool new_arrival) {
  // A pod whose intent is malformed is rejected alone: it joins no gang.
  const std::string gang =
      pod.intent.gang.empty() || !pod.intent.invalid.empty() ? "" : StrCat(pod.namespace_, "/", pod.intent.gang);
  uint64_t wid = 0;
  if (!gang.empty()) {
    if (auto it = gangs_.find(gang); it != gangs_.end()) wid = it->second;
  }
  if (wid == 0) {
    wid = next_workload_++;
    Workload w;
    w.id = wid;
    w.gang = gang;
    w.min_members = gang.empty() ? 1 : pod.intent.gang_min_members;
    absl::StatusOr<QueueId> leaf = tree_->LeafFor(pod);
    std::string type_error;
    AllowedGpuTypes(pod, catalog_, &type_error);
    if (!pod.intent.invalid.empty()) {
      w.rejection = pod.intent.invalid;
    } else if (!leaf.ok()) {
      w.rejection = std::string(leaf.status().message());
    } else if (!type_error.empty()) {
      w.rejection = StrCat("pod ", pod.Key(), ": ", type_error);
    } else if (std::string limit = tree_->CheckPendingLimit(*leaf); !limit.empty()) {
      w.rejection = StrCat("pod ", pod.Key(), ": ", limit);
    } else if (std::string apps = !new_arrival || apps_.Known(apps_.KeyOf(*leaf, pod)) ? "" : tree_->CheckPendingAppLimit(*leaf);
               !apps.empty()) {
      w.rejection = StrCat("pod ", pod.Key(), ": a new application, and ", apps);
    } else {
      w.leaf = *leaf;
      w.tier = tree_->TierFor(pod);
    }
    w.seq = wid;
    w.submitted_ms = pod.creation_ms;
    if (!w.rejection.empty()) unexplained_rejections_.push_back(wid);
    workloads_.emplace(wid, std::move(w));
    if (!gang.empty()) gangs_[gang] = wid;
  }
  Workload& w = workloads_[wid];
  w.members.push_back(pod.Key());
  tr.workload = wid;
  ++pending_pods_;
  if (w.rejection.empty()) {
    tr.pending_leaf = w.leaf;
    tree_->AddPendingPods(w.leaf, 1);
    tr.pending_app = apps_.KeyOf(w.leaf, pod);
    apps_.Count(tree_.get(), w.leaf, tr.pending_app, 0, 1);
  }
  if (!w.gang.empty()) {
    UnblockWorkload(w);  // a new member may complete the gang
    w.shape = 0;         // and changes its shape (recomputed when it blocks)
  }
  if (w.rejection.empty() && w.members.size() == 1) {
    if (w.gang.empty()) w.shape = ShapeKey(pod, w);
    order_->Add(w.leaf, PendingItem{wid, pod.priority, pod.creation_ms});
  }
}

void Engine::RemovePending(const std::string& key, Tracked& tr) {
  if (tr.pending_leaf != kNoQueue) {
    tree_->AddPendingPods(tr.pending_leaf, -1);
    apps_.Count(tree_.get(), tr.pending_leaf, tr.pending_app, 0, -1);
    tr.pending_app.clear();
    tr.pending_leaf = kNoQueue;
  }
  auto it = workloads_.find(tr.workload);
  tr.workload = 0;
  if (it == workloads_.end()) return;
  Workload& w = it->second;
  auto m = std::find(w.members.begin(), w.members.end(), key);
  if (m == w.members.end()) return;
  if (!w.gang.empty()) {
    UnblockWorkload(w);  // leaves its shape group under the old key
    w.shape = 0;
  }
  w.members.erase(m);
  --pending_pods_;
  if (w.members.empty()) {
    if (w.reserved_node != kNoNode) ReleaseReservation(w.reserved_node);
    UnblockWorkload(w);
    order_->Remove(w.id);
    if (!w.gang.empty()) gangs_.erase(w.gang);
    workloads_.erase(it);
  }
}

void Engine::RefreshCapacity() {
  if (!index_dirty_) return;
  index_dirty_ = false;
  // Nodes changed: workloads that could never fit get another look.
  for (uint64_t id : never_fits_) {
    auto it = workloads_.find(id);
    if (it == workloads_.end() || !it->second.never_fits) continue;
    Workload& w = it->second;
    w.never_fits = false;
    w.rejection.clear();
    const Pod& pod = snapshot_.pod(snapshot_.FindPod(w.members[0])).pod;
    order_->Add(w.leaf, PendingItem{w.id, pod.priority, pod.creation_ms});
  }
  never_fits_.clear();
  QVec cap{};
  for (NodeId id = 0; id < snapshot_.node_slots(); ++id) {
    const NodeState& st = snapshot_.node(id);
    if (!st.present) continue;
    // Sums saturate (core/quantity.h): two nodes of 7Ei memory must not wrap the root's max negative.
    if (st.node.gpu_type != kNoGpuType && st.node.gpu_count > 0) {
      int64_t& gpus = cap[QGpu(st.node.gpu_type)];
      gpus = SaturatingAdd(gpus, st.node.allocatable[Res::kGpu]);
    }
    // A node that is not ready offers nothing new, but its pods keep what they hold:
    // counting it keeps them within the root's max.
    const ResourceVec& offered = st.node.ready ? st.node.allocatable : st.used;
    cap[kQCpu] = SaturatingAdd(cap[kQCpu], offered[Res::kCpu]);
    cap[kQMemory] = SaturatingAdd(cap[kQMemory], offered[Res::kMemory]);
  }
  tree_->SetClusterCapacity(cap);
}

ResourceVec Engine::Reserved(NodeId node, const std::string& for_pod) const {
  auto it = nominations_.find(node);
  if (it == nominations_.end() || it->second.pod_key == for_pod) return ResourceVec();
  // A gang's nominated space is open to all its members.
  if (it->second.gang_workload != 0 && it->second.gang_workload == placing_workload_) return ResourceVec();
  return it->second.reserve;
}

// Offers one node to the policy; false once enough feasible nodes were scored.
bool Engine::Consider(const Pod& pod, NodeId id, Choice* choice, FailureTally* tally, int* feasible, double* best) {
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
  if (f != FilterFailure::kNone) {
    if (f == FilterFailure::kInsufficientGpu && held != nullptr && !held->IsZero()) f = FilterFailure::kReserved;
    tally->Add(f, st, taint, catalog_);
    return true;
  }
  scratch_devices_.clear();
  const double score = policy_->Score(pod, id, snapshot_, &scratch_devices_);
  if (choice->node == kNoNode || score > *best) {
    *best = score;
    choice->node = id;
    choice->devices = scratch_devices_;
  }
  const int limit = policy_->CandidateLimit();
  return !(limit > 0 && ++*feasible >= limit);
}

bool Engine::ChooseOnType(const Pod& pod, GpuTypeId t, Choice* choice, FailureTally* tally) {
  const int min_free = pod.gpu_milli_per_device >= 1000 ? pod.gpu_devices : 0;
  const bool ascending = policy_->PrefersFullNodes();
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
  int feasible = 0;
  double best = 0;
  int visited = 0;
  index_.Visit(t, min_free, ascending, [&](NodeId id) {
    ++visited;
    return Consider(pod, id, choice, tally, &feasible, &best);
  });
  if (choice->node == kNoNode) {
    tally->AddCount(FilterFailure::kInsufficientGpu, static_cast<int>(index_.nodes_of_type(t)) - visited,
                    catalog_.type(t).name);
  }
  return choice->node != kNoNode;
}

bool Engine::ChooseNode(const Pod& pod, QueueId leaf, int tier, Choice* choice, FailureTally* tally) {
  if (!pod.WantsGpu()) {
    absl::StatusOr<Charge> c = tree_->ChargeFor(pod, kNoGpuType);
    const std::string why = tree_->CheckAdmit(leaf, *c, tier);
    if (!why.empty()) {
      tally->AddQueueReason(why);
      return false;
    }
    tally->NoteAdmitted();
    choice->charge = *c;
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
  tally->AddCount(FilterFailure::kInsufficientGpu, static_cast<int>(index_.cpu_nodes().size()), "");
  // Lowest-ranked allowed type first: keep the big GPUs for those who need them.
  for (GpuTypeId t : catalog_.AllByRank()) {
    const int n = static_cast<int>(index_.nodes_of_type(t));
    if (n == 0) continue;
    if (!(mask & (GpuTypeMask{1} << t))) {
      tally->AddCount(FilterFailure::kGpuType, n, "");
      continue;
    }
    if (!tree_->MayUseType(leaf, t)) {
      tally->AddQueueReason(StrCat("queue ", tree_->queue(leaf).path, " has no quota for ", catalog_.type(t).name));
      tally->AddCount(FilterFailure::kGpuType, n, "");
      continue;
    }
    absl::StatusOr<Charge> c = tree_->ChargeFor(pod, t);
    if (!c.ok()) {
      tally->AddQueueReason(std::string(c.status().message()));
      tally->AddCount(FilterFailure::kGpuType, n, "");
      continue;
    }
    if (std::string why = tree_->CheckAdmit(leaf, *c, tier); !why.empty()) {
      tally->AddQueueReason(why);
      tally->AddCount(FilterFailure::kGpuType, n, "");
      continue;
    }
    tally->NoteAdmitted();
    choice->charge = *c;
    if (ChooseOnType(pod, t, choice, tally)) return true;
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
  out->binds.push_back(Binding{key, e.pod.uid, snapshot_.node(c.node).node.name, c.devices});
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
  // Members already running count: a replacement for a preempted or failed
  // member joins its running gang.
  const auto running = w.gang.empty() ? gang_running_.end() : gang_running_.find(w.gang);
  const int already = running == gang_running_.end() ? 0 : running->second;
  if (static_cast<int>(w.members.size()) + already < w.min_members) {
    *why = Wait{PendingCode::kWaitingForGang,
                StrCat("gang ", w.gang, " waits for its members: ", w.members.size(), " of ", w.min_members, " pending")};
    return false;
  }
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
      if (sig != w.reason_sig || w.reason.empty()) {
        w.reason_sig = sig;
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
    Attempt(workloads_[next->second], &out);
  }
  SetQueuePositions(&out, explained_from);
  ExplainRejections(&out);
  tree_->PruneDrained();
  return out;
}

void Engine::ExpireHolds() {
  for (auto it = nominations_.begin(); it != nominations_.end();) {
    auto next = std::next(it);
    if (it->second.expires_ms <= now_ms_) {
      nominations_.erase(it);
      capacity_freed_ = true;
    }
    it = next;
  }
  if (!reservations_.empty()) CheckReservations();
  FireWakeups();
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
  // A pod holding a reservation sees more room than its shape-mates: never skipped.
  if (w.reserved_node != kNoNode) shape = 0;
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
    why = Wait{w.code, w.reason};  // no node has enough free GPUs of any type: same answer as before
    if (shape != 0) failed_shapes_.emplace(shape, why);
  } else if (TryPlace(w, out, &why)) {
    Placed(w);
    return;
  } else if (MightPreempt(w, head()) && PreemptionDue(w) && TryPreempt(w, out, &why.message)) {
    why.code = PendingCode::kWaitingForPreemption;
    shape = 0;  // its evictions change the picture for the same shape
  } else if (shape != 0) {
    failed_shapes_.emplace(shape, why);
  }
  ++stats_.unschedulable_attempts;
  if (w.waiting_since_ms < 0) w.waiting_since_ms = now_ms_;
  if (w.first_failed_ms < 0) w.first_failed_ms = now_ms_;
  const bool preempting = !out->evictions.empty() && out->evictions.back().preemptor_key == w.members[0];
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
  // Each leaf with a new explanation is walked once: O(its pending workloads).
  absl::flat_hash_map<QueueId, absl::flat_hash_map<uint64_t, int64_t>> wanted;  // leaf -> workload -> position
  for (size_t i = from; i < out->pending.size(); ++i) {
    if (const Workload* w = workload_of(out->pending[i].pod_key)) wanted[w->leaf].emplace(w->id, 0);
  }
  for (auto& [leaf, positions] : wanted) {
    int64_t position = 0;
    order_->ForEachInLeaf(leaf, [&](uint64_t id) {
      ++position;
      if (auto it = positions.find(id); it != positions.end()) it->second = position;
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

std::vector<PendingWorkload> Engine::ListPending() const {
  std::vector<PendingWorkload> out;
  out.reserve(workloads_.size());
  auto add = [&](const Workload& w, int64_t position) {
    const std::string queue = w.leaf == kNoQueue ? "" : tree_->queue(w.leaf).path;
    const std::string message = w.code == PendingCode::kRejected ? StrCat("rejected: ", w.reason) : w.reason;
    out.push_back(PendingWorkload{w.members, queue, w.tier, w.code, message, position, w.submitted_ms});
  };
  for (QueueId q = 0; q < tree_->size(); ++q) {
    int64_t position = 0;
    order_->ForEachInLeaf(q, [&](uint64_t id) { add(workloads_.at(id), ++position); });
  }
  std::vector<const Workload*> rejected;
  for (const auto& [id, w] : workloads_) {
    if (!order_->Contains(id)) rejected.push_back(&w);
  }
  std::sort(rejected.begin(), rejected.end(), [](const Workload* a, const Workload* b) { return a->seq < b->seq; });
  for (const Workload* w : rejected) add(*w, 0);
  return out;
}

std::vector<std::string> Engine::CheckInvariants() const {
  std::vector<std::string> problems = snapshot_.CheckInvariants();
  for (std::string& p : tree_->CheckInvariants()) problems.push_back(std::move(p));
  // Application counts (max_*_apps) agree with the pods behind them, leaf by leaf.
  for (std::string& p : apps_.CheckAgainst(*tree_)) problems.push_back(std::move(p));
  return problems;
}

}  // namespace drover
