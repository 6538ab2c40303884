#include "placement/engine.h"

#include <algorithm>
#include <charconv>
#include <tuple>

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
    policy_->NodeChanged(snapshot_, id);
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
  NamespaceLabels namespaces = snapshot_.namespaces();  // the cluster's, not the configuration's
  snapshot_ = Snapshot(&catalog_);
  snapshot_.set_namespaces(std::move(namespaces));
  policy_->ForgetNodes();
  InstallNodeListener();
  topology_ = TopologyIndex(&snapshot_);  // enabled again by the first pod with constraints
  domains_.Invalidate();
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
  unexplained_members_.clear();
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
      topology_.OnNodesChanged();
      if (before == kNoNode) AdoptPodsOf(id);
      break;
    }
    case ClusterEvent::Kind::kNodeDelete:
      // Holds are keyed by node slot, which a later node may reuse.
      DropNodeHolds(snapshot_.FindNode(e.node.name));
      snapshot_.DeleteNode(e.node.name);
      index_dirty_ = true;
      topology_.OnNodesChanged();
      break;
    case ClusterEvent::Kind::kPodUpsert:
      ApplyPod(e.pod);  // decodes its intent
      break;
    case ClusterEvent::Kind::kPodDelete:
      RemovePod(e.pod.Key());
      break;
    case ClusterEvent::Kind::kNamespaceUpsert:
    case ClusterEvent::Kind::kNamespaceDelete: {
      const bool changed = e.kind == ClusterEvent::Kind::kNamespaceUpsert ? snapshot_.UpsertNamespace(e.ns)
                                                                        : snapshot_.DeleteNamespace(e.ns.name);
      // Pods waiting on inter-pod rules may now pass (or fail) a namespaceSelector:
      // they look again. Running pods stay (IgnoredDuringExecution).
      if (changed && topology_.enabled()) capacity_freed_ = true;
      break;
    }
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

void Engine::EnableTopology() {
  snapshot_.set_pod_listener([this](PodId id, bool counted) {
    topology_.OnCounted(id, counted);
    if (counted && !waiting_on_pods_.empty() && !waiters_overflow_) NoteWaitersHelpedBy(snapshot_.pod(id).pod.labels);
  });
  topology_.Enable();
}

void Engine::ApplyPod(Pod pod) {
  DecodePodIntent(&pod);
  if (!topology_.enabled() && !pod.constraints.empty()) EnableTopology();
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
    if (tr.workload == 0) {
      policy_->Observe(entry.pod);  // fragmentation-aware policies learn the demand's shapes
      AddPending(entry.pod, tr);
    }
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
      EndNomination(n++);
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
  if (!pod.constraints.affinity.empty() || pod.constraints.HasHardSpread()) waiting_on_pods_.Add(pod);
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
    } else if (std::string topology = ResolveTopology(pod, w); !topology.empty()) {
      w.rejection = std::move(topology);
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
    if (auto r = restored_waiting_.find(pod.Key()); r != restored_waiting_.end()) {
      w.first_failed_ms = w.waiting_since_ms = r->second;  // waiting before a restart
      restored_waiting_.erase(r);
    }
    if (!w.rejection.empty()) unexplained_rejections_.push_back(wid);
    workloads_.emplace(wid, std::move(w));
    if (!gang.empty()) gangs_[gang] = wid;
  } else if (Workload& g = workloads_[wid]; g.rejection.empty()) {
    if (std::string mismatch = GangMismatch(g, pod); !mismatch.empty()) RejectWorkload(g, std::move(mismatch));
  } else {
    unexplained_members_.push_back(pod.Key());  // joins a gang already rejected: told why too
  }
  Workload& w = workloads_[wid];
  w.members.push_back(pod.Key());
  w.member_ids.push_back(snapshot_.FindPod(w.members.back()));
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

std::string Engine::GangMismatch(const Workload& w, const Pod& pod) const {
  absl::StatusOr<QueueId> leaf = tree_->LeafFor(pod);
  if (!leaf.ok()) return StrCat("gang ", w.gang, ": member ", pod.Key(), ": ", leaf.status().message());
  if (*leaf != w.leaf) {
    return StrCat("gang ", w.gang, ": members name different queues (", w.members[0], " is in queue ",
                  tree_->queue(w.leaf).path, ", ", pod.Key(), " in queue ", tree_->queue(*leaf).path,
                  "); a gang is charged to one queue, so all its members must name the same queue");
  }
  if (const int tier = tree_->TierFor(pod); tier != w.tier) {
    return StrCat("gang ", w.gang, ": members have different tiers (", w.members[0], " has tier ", w.tier, ", ",
                  pod.Key(), " tier ", tier, "); all members of a gang must have the same tier");
  }
  const PodIntent& head = snapshot_.pod(w.member_ids[0]).pod.intent;
  for (const auto& [annotation, ours, theirs] :
       {std::tuple{annotations::kTopologyRequired, &head.topology_required, &pod.intent.topology_required},
        std::tuple{annotations::kTopologyPreferred, &head.topology_preferred, &pod.intent.topology_preferred}}) {
    if (*ours == *theirs) continue;
    auto shown = [](const std::string& v) { return v.empty() ? std::string("none") : StrCat("\"", v, "\""); };
    return StrCat("gang ", w.gang, ": members name different topology levels (", w.members[0], " has ", annotation,
                  " ", shown(*ours), ", ", pod.Key(), " ", shown(*theirs),
                  "); all members of a gang must ask for the same topology");
  }
  return "";
}

void Engine::RejectWorkload(Workload& w, std::string why) {
  for (const std::string& m : w.members) {
    auto t = tracked_.find(m);
    if (t == tracked_.end() || t->second.pending_leaf == kNoQueue) continue;
    Tracked& tr = t->second;
    tree_->AddPendingPods(tr.pending_leaf, -1);
    apps_.Count(tree_.get(), tr.pending_leaf, tr.pending_app, 0, -1);
    tr.pending_app.clear();
    tr.pending_leaf = kNoQueue;
  }
  if (!w.members.empty()) DropNominationsOf(w.members[0]);
  if (w.reserved_node != kNoNode) ReleaseReservation(w.reserved_node);
  UnblockWorkload(w);
  order_->Remove(w.id);
  w.never_fits = false;
  w.rejection = std::move(why);
  unexplained_rejections_.push_back(w.id);
}

void Engine::RemovePending(const std::string& key, Tracked& tr) {
  waiting_on_pods_.Remove(key);
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
  if (w.first_failed_ms >= 0) timers_changed_.insert(key);  // no longer waiting
  if (!w.gang.empty()) {
    UnblockWorkload(w);  // leaves its shape group under the old key
    w.shape = 0;
  }
  w.member_ids.erase(w.member_ids.begin() + (m - w.members.begin()));
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


void Engine::RestoreTimers(absl::flat_hash_map<std::string, PodTimers> timers) {
  for (auto& [key, t] : timers) {
    preemptor_.RestoreCount(key, t.preemptions, now_ms_);
    if (t.waiting_since_ms >= 0) restored_waiting_[key] = t.waiting_since_ms;
  }
}

void Engine::NoteTimersChanged(const Workload& w) {
  for (const std::string& key : w.members) timers_changed_.insert(key);
}

std::vector<std::pair<std::string, PodTimers>> Engine::TakeTimerChanges() {
  std::vector<std::pair<std::string, PodTimers>> out;
  out.reserve(timers_changed_.size());
  for (const std::string& key : timers_changed_) {
    PodTimers t;
    t.preemptions = preemptor_.PreemptedCount(key);
    if (auto tr = tracked_.find(key); tr != tracked_.end() && tr->second.workload != 0) {
      if (auto w = workloads_.find(tr->second.workload); w != workloads_.end()) t.waiting_since_ms = w->second.first_failed_ms;
    }
    out.emplace_back(key, t);
  }
  timers_changed_.clear();
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace drover
