#include "placement/engine.h"

#include <algorithm>
#include <charconv>

#include "core/strings.h"

namespace drover {
namespace {

GpuTypeMask PodTypeMask(const Pod& pod, const GpuCatalog& catalog, std::string* error) {
  const std::string* req = pod.annotations.Get(annotations::kGpuType);
  if (req == nullptr || req->empty()) return kAnyGpuType;
  absl::StatusOr<GpuTypeMask> m = catalog.ResolveRequest(*req);
  if (!m.ok()) {
    *error = StrCat("annotation ", annotations::kGpuType, "=\"", *req, "\": ", m.status().message());
    return 0;
  }
  return *m;
}

int GangMin(const Pod& pod) {
  const std::string* v = pod.annotations.Get(annotations::kGangMinMembers);
  int n = 1;
  if (v != nullptr) std::from_chars(v->data(), v->data() + v->size(), n);
  return std::max(1, n);
}

}  // namespace

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
      policy_(std::move(policy)) {
  snapshot_.set_node_listener([this](NodeId id) {
    if (static_cast<size_t>(id) >= node_type_.size()) node_type_.resize(id + 1, -2);
    const NodeState& st = snapshot_.node(id);
    const GpuTypeId t = st.present ? st.node.gpu_type : -2;
    if (t != node_type_[id]) {
      node_type_[id] = t;
      index_dirty_ = true;
    }
  });
}

void Engine::Apply(const ClusterEvent& e) {
  switch (e.kind) {
    case ClusterEvent::Kind::kNodeUpsert: {
      const NodeId before = snapshot_.FindNode(e.node.name);
      const ResourceVec old_alloc = before == kNoNode ? ResourceVec() : snapshot_.node(before).node.allocatable;
      const bool was_ok = before != kNoNode && snapshot_.node(before).node.ready && !snapshot_.node(before).node.unschedulable;
      snapshot_.UpsertNode(e.node);
      const NodeId id = snapshot_.FindNode(e.node.name);
      const Node& n = snapshot_.node(id).node;
      if (!(old_alloc == n.allocatable) || (!was_ok && n.ready && !n.unschedulable)) capacity_freed_ = true;
      index_dirty_ = true;
      break;
    }
    case ClusterEvent::Kind::kNodeDelete:
      snapshot_.DeleteNode(e.node.name);
      index_dirty_ = true;
      break;
    case ClusterEvent::Kind::kPodUpsert:
      ApplyPod(e.pod);
      break;
    case ClusterEvent::Kind::kPodDelete:
      RemovePod(e.pod.Key());
      break;
  }
}

void Engine::Uncharge(Tracked& tr) {
  if (!tr.charged) return;
  tree_->Remove(tr.leaf, tr.charge, tr.tier);
  order_->OnUsageChanged(tr.leaf);
  tr.charged = false;
  capacity_freed_ = true;
}

void Engine::ApplyPod(const Pod& pod) {
  const std::string key = pod.Key();
  Tracked& tr = tracked_[key];
  const PodId before = snapshot_.FindPod(key);
  const NodeId node_before = before == kNoPod ? kNoNode : snapshot_.pod(before).counted_on;
  snapshot_.UpsertPod(pod);
  const PodEntry& entry = snapshot_.pod(snapshot_.FindPod(key));
  if (node_before != kNoNode && entry.counted_on != node_before) capacity_freed_ = true;
  const bool ours = pod.scheduler_name == options_.scheduler_name;
  const bool running = ours && entry.counted_on != kNoNode;
  const bool pending = ours && !entry.pod.IsBound() && !pod.IsTerminal() && !pod.deleting;
  if (running) {
    if (tr.workload != 0) RemovePending(key, tr);
    const GpuTypeId landed = snapshot_.node(entry.counted_on).node.gpu_type;
    if (tr.charged && tr.charge.gpu_type == (pod.gpu_devices > 0 ? landed : kNoGpuType)) return;  // confirmed assume
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
  if (!ours || pod.IsTerminal()) tracked_.erase(key);
}

void Engine::ChargeRunning(const std::string& key, Tracked& tr) {
  const PodEntry& e = snapshot_.pod(snapshot_.FindPod(key));
  tr.leaf = tree_->LeafForRunning(e.pod);
  absl::StatusOr<int> tier = tree_->TierFor(e.pod);
  tr.tier = tier.ok() ? *tier : config_.default_tier;
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
}

void Engine::RemovePod(const std::string& key) {
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

void Engine::AddPending(const Pod& pod, Tracked& tr) {
  std::string gang;
  if (const std::string* g = pod.annotations.Get(annotations::kGang); g != nullptr && !g->empty()) {
    gang = StrCat(pod.namespace_, "/", *g);
  }
  uint64_t wid = 0;
  if (!gang.empty()) {
    if (auto it = gangs_.find(gang); it != gangs_.end()) wid = it->second;
  }
  if (wid == 0) {
    wid = next_workload_++;
    Workload w;
    w.id = wid;
    w.gang = gang;
    w.min_members = gang.empty() ? 1 : GangMin(pod);
    absl::StatusOr<QueueId> leaf = tree_->LeafFor(pod);
    absl::StatusOr<int> tier = tree_->TierFor(pod);
    std::string type_error;
    PodTypeMask(pod, catalog_, &type_error);
    if (!leaf.ok()) {
      w.rejection = std::string(leaf.status().message());
    } else if (!tier.ok()) {
      w.rejection = std::string(tier.status().message());
    } else if (!type_error.empty()) {
      w.rejection = StrCat("pod ", pod.Key(), ": ", type_error);
    } else {
      w.leaf = *leaf;
      w.tier = *tier;
    }
    workloads_.emplace(wid, std::move(w));
    if (!gang.empty()) gangs_[gang] = wid;
  }
  Workload& w = workloads_[wid];
  w.members.push_back(pod.Key());
  tr.workload = wid;
  ++pending_pods_;
  if (w.rejection.empty()) {
    order_->Add(w.leaf, PendingItem{wid, pod.priority, pod.creation_ms});
  }
}

void Engine::RemovePending(const std::string& key, Tracked& tr) {
  auto it = workloads_.find(tr.workload);
  tr.workload = 0;
  if (it == workloads_.end()) return;
  Workload& w = it->second;
  auto m = std::find(w.members.begin(), w.members.end(), key);
  if (m == w.members.end()) return;
  w.members.erase(m);
  --pending_pods_;
  if (w.members.empty()) {
    order_->Remove(w.id);
    if (!w.gang.empty()) gangs_.erase(w.gang);
    workloads_.erase(it);
  }
}

void Engine::RefreshCapacity() {
  if (!index_dirty_) return;
  index_dirty_ = false;
  nodes_by_type_.assign(catalog_.size(), {});
  cpu_nodes_.clear();
  QVec cap{};
  for (NodeId id = 0; id < snapshot_.node_slots(); ++id) {
    const NodeState& st = snapshot_.node(id);
    if (!st.present) continue;
    if (st.node.gpu_type != kNoGpuType && st.node.gpu_count > 0) {
      nodes_by_type_[st.node.gpu_type].push_back(id);
      cap[QGpu(st.node.gpu_type)] += st.node.allocatable[Res::kGpu];
    } else {
      cpu_nodes_.push_back(id);
    }
    if (!st.node.ready) continue;
    cap[kQCpu] += st.node.allocatable[Res::kCpu];
    cap[kQMemory] += st.node.allocatable[Res::kMemory];
  }
  tree_->SetClusterCapacity(cap);
}

bool Engine::BestOnNodes(const Pod& pod, const std::vector<NodeId>& nodes, Choice* choice, FailureTally* tally) {
  const int limit = policy_->CandidateLimit();
  int feasible = 0;
  double best = 0;
  std::vector<int> devices;
  for (NodeId id : nodes) {
    const NodeState& st = snapshot_.node(id);
    const Taint* taint = nullptr;
    const FilterFailure f = CheckNode(pod, st, snapshot_.Free(id), &taint);
    if (f != FilterFailure::kNone) {
      tally->Add(f, st, taint, catalog_);
      continue;
    }
    devices.clear();
    const double score = policy_->Score(pod, id, snapshot_, &devices);
    if (choice->node == kNoNode || score > best) {
      best = score;
      choice->node = id;
      choice->devices = devices;
    }
    if (limit > 0 && ++feasible >= limit) break;
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
    choice->charge = *c;
    // CPU-only pods go to CPU nodes first, so they do not strand GPUs.
    if (BestOnNodes(pod, cpu_nodes_, choice, tally)) return true;
    for (const auto& nodes : nodes_by_type_) {
      if (BestOnNodes(pod, nodes, choice, tally)) return true;
    }
    return false;
  }
  std::string error;
  const GpuTypeMask mask = PodTypeMask(pod, catalog_, &error);
  for (NodeId id : cpu_nodes_) tally->Add(FilterFailure::kInsufficientGpu, snapshot_.node(id), nullptr, catalog_);
  // Lowest-ranked allowed type first: keep the big GPUs for those who need them.
  for (GpuTypeId t : catalog_.ByRank(kAnyGpuType)) {
    if (static_cast<size_t>(t) >= nodes_by_type_.size() || nodes_by_type_[t].empty()) continue;
    const std::vector<NodeId>& nodes = nodes_by_type_[t];
    auto skip_all = [&](FilterFailure f) {
      for (NodeId id : nodes) tally->Add(f, snapshot_.node(id), nullptr, catalog_);
    };
    if (!(mask & (GpuTypeMask{1} << t))) {
      skip_all(FilterFailure::kGpuType);
      continue;
    }
    if (!tree_->MayUseType(leaf, t)) {
      tally->AddQueueReason(StrCat("queue ", tree_->queue(leaf).path, " has no quota for ", catalog_.type(t).name));
      skip_all(FilterFailure::kGpuType);
      continue;
    }
    absl::StatusOr<Charge> c = tree_->ChargeFor(pod, t);
    if (!c.ok()) {
      tally->AddQueueReason(std::string(c.status().message()));
      skip_all(FilterFailure::kGpuType);
      continue;
    }
    if (std::string why = tree_->CheckAdmit(leaf, *c, tier); !why.empty()) {
      tally->AddQueueReason(why);
      skip_all(FilterFailure::kGpuType);
      continue;
    }
    choice->charge = *c;
    if (BestOnNodes(pod, nodes, choice, tally)) return true;
  }
  return false;
}

void Engine::Commit(const std::string& key, const Choice& c, Decisions* out) {
  Tracked& tr = tracked_[key];
  const PodEntry& e = snapshot_.pod(snapshot_.FindPod(key));
  const Workload& w = workloads_[tr.workload];
  (void)snapshot_.Assume(key, c.node, c.devices);
  tr.leaf = w.leaf;
  tr.tier = w.tier;
  tr.charge = c.charge;
  tree_->Add(tr.leaf, tr.charge, tr.tier);
  order_->OnUsageChanged(tr.leaf);
  tr.charged = true;
  out->binds.push_back(Binding{key, e.pod.uid, snapshot_.node(c.node).node.name, c.devices});
}

void Engine::Rollback(const std::string& key) {
  Tracked& tr = tracked_[key];
  snapshot_.Forget(key);
  if (tr.charged) {
    tree_->Remove(tr.leaf, tr.charge, tr.tier);
    order_->OnUsageChanged(tr.leaf);
    tr.charged = false;
  }
}

bool Engine::TryPlace(Workload& w, Decisions* out, std::string* why) {
  if (static_cast<int>(w.members.size()) < w.min_members) {
    *why = StrCat("gang ", w.gang, " waits for its members: ", w.members.size(), " of ", w.min_members, " pending");
    return false;
  }
  Decisions staged;
  std::vector<std::string> placed;
  for (const std::string& key : w.members) {
    const PodEntry& e = snapshot_.pod(snapshot_.FindPod(key));
    Choice c;
    FailureTally tally;
    if (!ChooseNode(e.pod, w.leaf, w.tier, &c, &tally)) {
      *why = tally.Message(snapshot_.live_nodes());
      if (!w.gang.empty()) {
        *why = StrCat("gang ", w.gang, ": ", placed.size(), "/", w.members.size(), " members fit; ", *why);
      }
      for (const std::string& p : placed) Rollback(p);
      return false;
    }
    Commit(key, c, &staged);
    placed.push_back(key);
  }
  for (Binding& b : staged.binds) out->binds.push_back(std::move(b));
  return true;
}

Decisions Engine::RunCycle(int64_t /*now_ms*/) {
  Decisions out;
  ++stats_.cycles;
  RefreshCapacity();
  if (capacity_freed_) {
    order_->UnblockAll();
    capacity_freed_ = false;
  }
  // Rejected workloads are explained once.
  for (auto& [id, w] : workloads_) {
    if (!w.rejection.empty() && w.reason != w.rejection) {
      w.reason = w.rejection;
      ++stats_.rejected;
      for (const std::string& m : w.members) out.pending.push_back(PendingReason{m, StrCat("rejected: ", w.rejection), ""});
    }
  }
  for (int n = 0; n < options_.max_workloads_per_cycle; ++n) {
    std::optional<std::pair<QueueId, uint64_t>> next = order_->Next();
    if (!next) break;
    Workload& w = workloads_[next->second];
    std::string why;
    if (TryPlace(w, &out, &why)) {
      stats_.binds += static_cast<int64_t>(w.members.size());
      if (!w.gang.empty()) ++stats_.gangs_placed;
      const std::vector<std::string> members = w.members;
      for (const std::string& key : members) RemovePending(key, tracked_[key]);
      continue;
    }
    ++stats_.unschedulable_attempts;
    order_->Block(w.id);
    if (why != w.reason) {
      w.reason = why;
      for (const std::string& m : w.members) out.pending.push_back(PendingReason{m, why, ""});
    }
  }
  tree_->PruneDrained();
  return out;
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
    AddPending(snapshot_.pod(id).pod, it->second);  // try again next cycle
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
  return problems;
}

}  // namespace drover
