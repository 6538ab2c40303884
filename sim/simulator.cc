#include "sim/simulator.h"

#include <algorithm>
#include <charconv>

#include "core/strings.h"

namespace drover {

SimCluster::SimCluster(SimInput input) : input_(std::move(input)) {
  for (const Namespace& ns : input_.namespaces) {
    ClusterEvent e;
    e.kind = ClusterEvent::Kind::kNamespaceUpsert;
    e.ns = ns;
    events_.push_back(std::move(e));
  }
  for (size_t i = 0; i < input_.nodes.size(); ++i) {
    const SimNode& n = input_.nodes[i];
    Schedule(n.add_ms, Kind::kNodeAdd, i);
    if (n.cordon_ms >= 0) Schedule(n.cordon_ms, Kind::kNodeCordon, i);
    if (n.remove_ms >= 0) Schedule(n.remove_ms, Kind::kNodeRemove, i);
  }
  for (size_t i = 0; i < input_.pods.size(); ++i) {
    pod_index_[input_.pods[i].pod.Key()] = i;
    Schedule(input_.pods[i].submit_ms, Kind::kSubmit, i);
  }
  // Everything due at time 0 is there before the first cycle.
  now_ms_ = timeline_.empty() ? 0 : std::min<int64_t>(0, timeline_.top().at_ms);
  totals_.start_ms = now_ms_;
  while (!timeline_.empty() && timeline_.top().at_ms <= now_ms_) {
    Timed t = timeline_.top();
    timeline_.pop();
    Fire(t);
  }
}

void SimCluster::Schedule(int64_t at, Kind kind, size_t index, uint64_t generation) {
  timeline_.push(Timed{at, seq_++, kind, index, generation});
}

size_t SimCluster::Drain(std::vector<ClusterEvent>* out) {
  const size_t n = events_.size();
  for (ClusterEvent& e : events_) out->push_back(std::move(e));
  events_.clear();
  return n;
}

Pod SimCluster::PodFor(size_t pod_index, const std::string& node) const {
  Pod p = input_.pods[pod_index].pod;
  p.creation_ms = now_ms_;
  p.node_name = node;
  p.phase = node.empty() ? PodPhase::kPending : PodPhase::kRunning;
  return p;
}

void SimCluster::Submit(size_t pod_index, bool resubmission) {
  const SimPod& sp = input_.pods[pod_index];
  const std::string key = sp.pod.Key();
  if (pending_.contains(key) || running_.contains(key)) {
    totals_.violations.push_back(StrCat("pod ", key, " submitted while it still exists (duplicate name in input)"));
    return;
  }
  PodRecord r;
  r.key = key;
  if (const std::string* q = sp.pod.annotations.Get(annotations::kQueue)) r.queue = *q;
  if (const std::string* t = sp.pod.annotations.Get(annotations::kTier)) {
    std::from_chars(t->data(), t->data() + t->size(), r.tier);
  }
  r.gpu_milli = sp.pod.requests[Res::kGpu];
  r.submit_ms = now_ms_;
  r.resubmission = resubmission;
  r.scheduler_name = sp.pod.scheduler_name;
  records_.push_back(r);
  pending_[key] = records_.size() - 1;
  events_.push_back(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, PodFor(pod_index, "")});
}

void SimCluster::Fire(const Timed& t) {
  switch (t.kind) {
    case Kind::kSubmit:
      Submit(t.index);
      break;
    case Kind::kComplete: {
      const std::string key = input_.pods[t.index].pod.Key();
      Complete(key, t.generation, false);
      break;
    }
    case Kind::kNodeAdd: {
      const Node& n = input_.nodes[t.index].node;
      NodeLive live{t.index, {}, std::vector<int32_t>(n.gpu_count, 0), 0};
      nodes_[n.name] = live;
      Tally(live, +1);
      gpu_capacity_ += n.allocatable[Res::kGpu];
      events_.push_back(ClusterEvent{ClusterEvent::Kind::kNodeUpsert, n, {}});
      break;
    }
    case Kind::kNodeCordon: {
      SimNode& sn = input_.nodes[t.index];
      sn.node.unschedulable = true;
      if (nodes_.contains(sn.node.name)) events_.push_back(ClusterEvent{ClusterEvent::Kind::kNodeUpsert, sn.node, {}});
      break;
    }
    case Kind::kNodeRemove: {
      const std::string name = input_.nodes[t.index].node.name;
      auto it = nodes_.find(name);
      if (it == nodes_.end()) break;
      // Pods on a removed node fail and are resubmitted, as their controller would.
      std::vector<std::string> victims;
      for (const auto& [key, live] : running_) {
        if (live.node == name) victims.push_back(key);
      }
      std::sort(victims.begin(), victims.end());
      for (const std::string& key : victims) Complete(key, running_[key].generation, true);
      gpu_capacity_ -= input_.nodes[t.index].node.allocatable[Res::kGpu];
      Tally(it->second, -1);
      nodes_.erase(it);
      ClusterEvent e{ClusterEvent::Kind::kNodeDelete, {}, {}};
      e.node.name = name;
      events_.push_back(std::move(e));
      break;
    }
  }
}

void SimCluster::Bind(const Binding& b) {
  if (mirror_ != nullptr) mirror_->Bind(b);
  auto refuse = [&](BindOutcome::Result r, std::string msg) {
    ++totals_.refused_binds;
    totals_.violations.push_back(StrCat("bind ", b.pod_key, " -> ", b.node, ": ", msg));
    outcomes_.push_back(BindOutcome{b.pod_key, r, std::move(msg)});
  };
  auto pit = pending_.find(b.pod_key);
  if (pit == pending_.end()) {
    if (running_.contains(b.pod_key)) return refuse(BindOutcome::Result::kConflict, "pod is already bound");
    return refuse(BindOutcome::Result::kGone, "pod does not exist");
  }
  auto nit = nodes_.find(b.node);
  if (nit == nodes_.end()) return refuse(BindOutcome::Result::kFailed, "node does not exist");
  const size_t idx = pod_index_[b.pod_key];
  const Pod& pod = input_.pods[idx].pod;
  NodeLive& nl = nit->second;
  const Node& node = input_.nodes[nl.index].node;
  // Admission as a kubelet does it: resources, then our device assignment.
  if (!(nl.used + pod.requests).FitsIn(node.allocatable)) {
    return refuse(BindOutcome::Result::kFailed, StrCat("does not fit: needs ", pod.requests.ToString(), ", free ",
                                                       (node.allocatable - nl.used).ToString()));
  }
  if (static_cast<int>(b.gpu_devices.size()) != pod.gpu_devices) {
    return refuse(BindOutcome::Result::kFailed, "wrong number of GPU devices");
  }
  for (int d : b.gpu_devices) {
    if (d < 0 || d >= node.gpu_count || nl.device_used[d] + pod.gpu_milli_per_device > 1000) {
      return refuse(BindOutcome::Result::kFailed, StrCat("GPU device ", d, " is not free enough"));
    }
  }
  Tally(nl, -1);
  nl.used += pod.requests;
  for (int d : b.gpu_devices) nl.device_used[d] += pod.gpu_milli_per_device;
  ++nl.pods;
  Tally(nl, +1);
  gpu_allocated_ += pod.requests[Res::kGpu];
  const size_t rec = pit->second;
  pending_.erase(pit);
  reasons_.erase(b.pod_key);
  records_[rec].bound_ms = now_ms_;
  const uint64_t gen = ++generation_;
  running_[b.pod_key] = Live{idx, rec, b.node, gen, pod.requests, b.gpu_devices};
  ++totals_.binds;
  totals_.peak_alloc_ratio = std::max(totals_.peak_alloc_ratio, gpu_capacity_ > 0 ? static_cast<double>(gpu_allocated_) / gpu_capacity_ : 0.0);
  Pod bound = PodFor(idx, b.node);
  bound.creation_ms = records_[rec].submit_ms;
  bound.gpu_device_ids = b.gpu_devices;
  events_.push_back(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, bound});
  outcomes_.push_back(BindOutcome{b.pod_key, BindOutcome::Result::kBound, ""});
  if (input_.pods[idx].duration_ms >= 0) Schedule(now_ms_ + input_.pods[idx].duration_ms, Kind::kComplete, idx, gen);
}

void SimCluster::Complete(const std::string& key, uint64_t generation, bool evicted) {
  auto it = running_.find(key);
  if (it == running_.end() || it->second.generation != generation) return;  // stale completion
  Live live = std::move(it->second);
  running_.erase(it);
  NodeLive& nl = nodes_[live.node];
  Tally(nl, -1);
  nl.used -= live.requests;
  const Pod& pod = input_.pods[live.pod_index].pod;
  for (int d : live.devices) nl.device_used[d] -= pod.gpu_milli_per_device;
  --nl.pods;
  Tally(nl, +1);
  gpu_allocated_ -= live.requests[Res::kGpu];
  ClusterEvent done{ClusterEvent::Kind::kPodDelete, {}, {}};
  done.pod.namespace_ = pod.namespace_;
  done.pod.name = pod.name;
  if (!evicted) {
    records_[live.record].finished_ms = now_ms_;
    ++totals_.completions;
    events_.push_back(std::move(done));
    return;
  }
  ++totals_.evictions;
  events_.push_back(std::move(done));
  const int preemptions = records_[live.record].preemptions + 1;
  records_[live.record].finished_ms = now_ms_;
  Submit(live.pod_index, true);  // the controller recreates it
  records_.back().preemptions = preemptions;
}

void SimCluster::Evict(const Eviction& e) {
  if (mirror_ != nullptr) mirror_->Evict(e);
  auto it = running_.find(e.pod_key);
  if (it == running_.end()) {
    eviction_outcomes_.push_back(EvictionOutcome{e.pod_key, e.preemptor_key, EvictionOutcome::Result::kGone, ""});
    return;
  }
  Complete(e.pod_key, it->second.generation, true);
  eviction_outcomes_.push_back(EvictionOutcome{e.pod_key, e.preemptor_key, EvictionOutcome::Result::kEvicted, ""});
}

void SimCluster::CollectEvictionOutcomes(std::vector<EvictionOutcome>* out) {
  for (EvictionOutcome& o : eviction_outcomes_) out->push_back(std::move(o));
  eviction_outcomes_.clear();
}

void SimCluster::RecordPending(const PendingReason& p) {
  if (mirror_ != nullptr) mirror_->RecordPending(p);
  if (pending_.contains(p.pod_key)) reasons_[p.pod_key] = p.message;
}

void SimCluster::CollectOutcomes(std::vector<BindOutcome>* out) {
  for (BindOutcome& o : outcomes_) out->push_back(std::move(o));
  outcomes_.clear();
}

void SimCluster::Accrue(int64_t to_ms) {
  const double dt = static_cast<double>(to_ms - now_ms_);
  if (dt <= 0) return;
  totals_.gpu_alloc_integral += static_cast<double>(gpu_allocated_) * dt;
  totals_.gpu_capacity_integral += static_cast<double>(gpu_capacity_) * dt;
  totals_.free_gpu_nodes_integral += static_cast<double>(free_gpu_nodes_) * dt;
  totals_.stranded_gpus_integral += static_cast<double>(stranded_gpus_) * dt;
}

void SimCluster::Tally(const NodeLive& nl, int sign) {
  if (nl.device_used.empty()) return;  // CPU node
  if (nl.pods == 0) {
    free_gpu_nodes_ += sign;
    return;
  }
  for (int32_t u : nl.device_used) stranded_gpus_ += u == 0 ? sign : 0;
}

bool SimCluster::Advance(int64_t until_ms, int64_t wake_ms) {
  if (wake_ms > now_ms_ && (until_ms < 0 || wake_ms <= until_ms) &&
      (timeline_.empty() || wake_ms < timeline_.top().at_ms)) {
    Accrue(wake_ms);
    now_ms_ = wake_ms;
    return true;
  }
  if (timeline_.empty()) return false;
  const int64_t next = timeline_.top().at_ms;
  if (until_ms >= 0 && next > until_ms) {
    Accrue(until_ms);
    now_ms_ = until_ms;
    return false;
  }
  Accrue(next);
  now_ms_ = next;
  while (!timeline_.empty() && timeline_.top().at_ms == next) {
    Timed t = timeline_.top();
    timeline_.pop();
    Fire(t);
  }
  return true;
}

std::vector<std::string> SimCluster::PendingKeys() const {
  std::vector<std::string> keys;
  for (const auto& [key, rec] : pending_) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

void SimCluster::Finish() { totals_.end_ms = now_ms_; }

int SimCluster::NodesWithIdleGpus() const {
  int n = 0;
  for (const auto& [name, nl] : nodes_) {
    n += std::any_of(nl.device_used.begin(), nl.device_used.end(), [](int32_t u) { return u == 0; }) ? 1 : 0;
  }
  return n;
}

int SimCluster::FreeGpuNodes() const {
  int n = 0;
  for (const auto& [name, nl] : nodes_) n += (!nl.device_used.empty() && nl.pods == 0) ? 1 : 0;
  return n;
}

int64_t SimCluster::StrandedGpus() const {
  int64_t n = 0;
  for (const auto& [name, nl] : nodes_) {
    if (nl.pods == 0) continue;
    for (int32_t u : nl.device_used) n += u == 0 ? 1 : 0;
  }
  return n;
}

}  // namespace drover
