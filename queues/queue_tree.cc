#include "queues/queue_tree.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/quantity.h"
#include "core/strings.h"

namespace drover {

QueueTree::QueueTree(const QueueConfig& config) : config_(config) {
  Build(config_.root, kNoQueue);
  cluster_.fill(0);
  RecomputeMax(root());
}

QVec QueueTree::SpecToVec(const QuotaSpec& spec, int64_t unset) const {
  QVec v;
  v.fill(unset);
  if (spec.cpu_millis) v[kQCpu] = *spec.cpu_millis;
  if (spec.memory_bytes) v[kQMemory] = *spec.memory_bytes;
  for (const auto& [type, milli] : spec.gpu_millis) {
    const GpuTypeId t = config_.catalog.FindType(type);
    if (t != kNoGpuType) v[QGpu(t)] = milli;  // validated already
  }
  return v;
}

QueueId QueueTree::Build(const QueueSpec& spec, QueueId parent) {
  const QueueId id = static_cast<QueueId>(queues_.size());
  queues_.emplace_back();
  {
    Queue& q = queues_[id];
    q.name = spec.name.empty() ? "root" : spec.name;
    q.path = spec.path.empty() ? q.name : spec.path;
    q.parent = parent;
    q.weight = spec.weight > 0 ? spec.weight : 1.0;
    q.guaranteed = SpecToVec(spec.guaranteed, -1);
    q.max_explicit = SpecToVec(spec.max, -1);
    q.submit = spec.submit;
    q.limits = spec.limits;
    by_path_[q.path] = id;
  }
  QVec child_sum{};
  for (const QueueSpec& c : spec.children) {
    const QueueId cid = Build(c, id);
    queues_[id].children.push_back(cid);
    for (int d = 0; d < kQDims; ++d) child_sum[d] += queues_[cid].guaranteed[d];
  }
  Queue& q = queues_[id];
  for (int d = 0; d < kQDims; ++d) {
    if (q.guaranteed[d] < 0) q.guaranteed[d] = child_sum[d];  // derived from the children
  }
  return id;
}

void QueueTree::SetClusterCapacity(const QVec& capacity) {
  if (capacity != cluster_) ++capacity_generation_;
  cluster_ = capacity;
  RecomputeMax(root());
}

void QueueTree::RecomputeMax(QueueId id) {
  Queue& q = queues_[id];
  for (int d = 0; d < kQDims; ++d) {
    const int64_t inherited = q.parent == kNoQueue ? cluster_[d] : queues_[q.parent].max[d];
    q.max[d] = q.max_explicit[d] >= 0 ? q.max_explicit[d] : inherited;
    // A root max set above the cluster is still bounded by what exists.
    if (q.parent == kNoQueue && q.max_explicit[d] >= 0) q.max[d] = std::min(q.max[d], cluster_[d]);
  }
  for (QueueId c : q.children) RecomputeMax(c);
}

absl::StatusOr<QueueId> QueueTree::LeafFor(const Pod& pod) const {
  std::string path;
  std::string rule;
  if (!pod.intent.queue.empty()) {
    path = pod.intent.queue;
    rule = StrCat("annotation ", annotations::kQueue);
  } else if (auto it = config_.namespace_queues.find(pod.namespace_); it != config_.namespace_queues.end()) {
    path = it->second;
    rule = StrCat("namespace mapping for ", pod.namespace_);
  } else if (!config_.default_queue.empty()) {
    path = config_.default_queue;
    rule = "default queue";
  } else if (queues_.size() == 1) {
    return root();  // a tree with only a root takes every pod
  } else {
    return absl::InvalidArgumentError(StrCat("pod ", pod.Key(), " names no queue (annotation ", annotations::kQueue,
                                             "), its namespace has no mapping, and there is no default queue"));
  }
  QueueId id = Find(path);
  if (id == kNoQueue && path.rfind("root.", 0) != 0 && path != "root") id = Find(StrCat("root.", path));
  if (id == kNoQueue) {
    return absl::NotFoundError(StrCat("pod ", pod.Key(), ": queue \"", path, "\" (from ", rule, ") does not exist"));
  }
  if (!queues_[id].leaf()) {
    return absl::InvalidArgumentError(
        StrCat("pod ", pod.Key(), ": queue \"", path, "\" (from ", rule, ") is not a leaf; pods go to leaf queues"));
  }
  if (queues_[id].draining) {
    return absl::FailedPreconditionError(
        StrCat("pod ", pod.Key(), ": queue \"", path, "\" was removed from the configuration and is draining"));
  }
  if (!pod.intent.queue.empty()) {
    if (std::string refused = CheckSubmit(id, pod); !refused.empty()) return absl::PermissionDeniedError(refused);
  }
  return id;
}

namespace {
bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}
bool GrantsRequester(const SubmitAcl& acl, const Requester* r) {
  if (r == nullptr) return false;
  if (!r->username.empty() && Contains(acl.users, r->username)) return true;
  return std::any_of(r->groups.begin(), r->groups.end(), [&](const std::string& g) { return Contains(acl.groups, g); });
}
std::string DescribeGrant(const std::string& path, const SubmitAcl& acl, bool with_principals) {
  std::string out = StrCat(path, ".submit.namespaces [", absl::StrJoin(acl.namespaces, ", "), "]");
  if (with_principals && !acl.users.empty()) StrAppend(&out, ", users [", absl::StrJoin(acl.users, ", "), "]");
  if (with_principals && !acl.groups.empty()) StrAppend(&out, ", groups [", absl::StrJoin(acl.groups, ", "), "]");
  return out;
}
}  // namespace

std::string QueueTree::RequesterGrant(QueueId leaf, const Requester& requester) const {
  std::string group;
  for (QueueId q = leaf; q != kNoQueue; q = queues_[q].parent) {
    const SubmitAcl& acl = queues_[q].submit;
    if (!acl.set) continue;
    if (!requester.username.empty() && Contains(acl.users, requester.username)) return StrCat("user:", requester.username);
    for (const std::string& g : requester.groups) {
      if (group.empty() && Contains(acl.groups, g)) group = StrCat("group:", g);
    }
  }
  return group;
}

std::string QueueTree::CheckSubmit(QueueId leaf, const Pod& pod, const Requester* requester) const {
  if (!config_.submit_enforced) return "";
  Requester claimed;  // the engine's view: the principal the webhook vouched for
  if (requester == nullptr && !pod.intent.submit_grant_kind.empty()) {
    (pod.intent.submit_grant_kind == "user" ? claimed.username : claimed.groups.emplace_back()) =
        pod.intent.submit_grant_name;
  }
  const std::string& path = queues_[leaf].path;
  if (auto it = config_.namespace_queues.find(pod.namespace_); it != config_.namespace_queues.end() && it->second == path) {
    return "";
  }
  if (config_.default_queue == path) return "";
  std::vector<std::string> grants;
  for (QueueId q = leaf; q != kNoQueue; q = queues_[q].parent) {
    const SubmitAcl& acl = queues_[q].submit;
    if (!acl.set) continue;
    for (const std::string& ns : acl.namespaces) {
      if (ns == "*" || ns == pod.namespace_) return "";
    }
    if (GrantsRequester(acl, requester != nullptr ? requester : &claimed)) return "";
    if (grants.size() < 4) grants.push_back(DescribeGrant(queues_[q].path, acl, requester != nullptr));
  }
  const std::string who =
      requester != nullptr ? StrCat(" and user \"", requester->username, "\"")
      : claimed.username.empty() && claimed.groups.empty()
          ? ""
          : StrCat(" and ", annotations::kSubmitGrant, " \"", pod.intent.submit_grant_kind, ":",
                   pod.intent.submit_grant_name, "\"");
  return StrCat("pod ", pod.Key(), ": namespace \"", pod.namespace_, "\"", who, " may not submit to queue \"", path,
                "\" (from annotation ", annotations::kQueue, "): ",
                grants.empty() ? "no queue on its path has a submit section"
                               : StrCat("it is not in ", absl::StrJoin(grants, "; ")),
                requester == nullptr ? "; an admin of the queue may add it to submit.namespaces"
                                     : "; an admin of the queue may add it to submit.namespaces, users or groups");
}

QueueId QueueTree::LeafForRunning(const Pod& pod) {
  absl::StatusOr<QueueId> leaf = LeafFor(pod);
  if (leaf.ok()) return *leaf;
  const std::string& a = pod.intent.queue;
  if (!a.empty()) {
    const QueueId existing = Find(a);
    if (existing != kNoQueue && queues_[existing].leaf()) return existing;  // draining: keep counting
    if (existing == kNoQueue) return AddDrainingPath(a.rfind("root", 0) == 0 ? a : StrCat("root.", a));
  }
  return root();
}

QueueId QueueTree::AddDrainingPath(std::string_view path) {
  std::vector<std::string> parts = absl::StrSplit(ToAbsl(path), '.');
  QueueId cur = root();
  std::string prefix = "root";
  for (size_t i = 1; i < parts.size(); ++i) {
    prefix = StrCat(prefix, ".", parts[i]);
    QueueId next = Find(prefix);
    if (next == kNoQueue) {
      next = static_cast<QueueId>(queues_.size());
      Queue q;
      q.name = parts[i];
      q.path = prefix;
      q.parent = cur;
      q.draining = true;
      q.guaranteed.fill(0);
      q.max_explicit.fill(-1);
      queues_.push_back(std::move(q));
      queues_[cur].children.push_back(next);
      by_path_[prefix] = next;
    }
    cur = next;
  }
  RecomputeMax(root());
  return cur;
}

int QueueTree::TierFor(const Pod& pod) const {
  if (pod.intent.tier != kTierUnset) return pod.intent.tier;
  if (auto it = config_.priority_class_tiers.find(pod.priority_class); it != config_.priority_class_tiers.end()) {
    return it->second;
  }
  return config_.default_tier;
}

absl::StatusOr<Charge> QueueTree::ChargeFor(const Pod& pod, GpuTypeId landed_type) const {
  Charge c;
  c.cpu_millis = pod.requests[Res::kCpu];
  c.memory_bytes = pod.requests[Res::kMemory];
  if (pod.gpu_devices == 0 || landed_type == kNoGpuType) return c;
  c.gpu_type = landed_type;
  c.gpu_millis = pod.requests[Res::kGpu];
  const std::string& type_name = config_.catalog.type(landed_type).name;
  for (const ProportionalPolicy& p : config_.proportional) {
    if (p.gpu_type != type_name) continue;
    const double gpus = static_cast<double>(c.gpu_millis) / 1000.0;
    double ratio = 1.0;  // how many GPU-equivalents the pod's cpu/memory amount to
    std::string over;
    if (p.cpu_millis_per_gpu && c.cpu_millis > gpus * static_cast<double>(*p.cpu_millis_per_gpu)) {
      ratio = std::max(ratio, static_cast<double>(c.cpu_millis) / (gpus * static_cast<double>(*p.cpu_millis_per_gpu)));
      over = StrCat("cpu ", FormatMilli(c.cpu_millis), " for ", FormatAmount(Res::kGpu, c.gpu_millis), " ", type_name,
                    " is above the limit of ", FormatMilli(*p.cpu_millis_per_gpu), " per GPU");
    }
    if (p.memory_bytes_per_gpu && c.memory_bytes > gpus * static_cast<double>(*p.memory_bytes_per_gpu)) {
      ratio = std::max(ratio,
                       static_cast<double>(c.memory_bytes) / (gpus * static_cast<double>(*p.memory_bytes_per_gpu)));
      if (over.empty()) {
        over = StrCat("memory ", FormatBytes(c.memory_bytes), " for ", FormatAmount(Res::kGpu, c.gpu_millis), " ",
                      type_name, " is above the limit of ", FormatBytes(*p.memory_bytes_per_gpu), " per GPU");
      }
    }
    if (over.empty()) break;
    if (p.action == ProportionalPolicy::Action::kReject) {
      return absl::InvalidArgumentError(StrCat("pod ", pod.Key(), ": ", over));
    }
    // GPU-equivalents, held below the int64 end (a double past it does not convert).
    c.gpu_millis = static_cast<int64_t>(std::min(static_cast<double>(c.gpu_millis) * ratio + 0.5, 0x1p62));
    break;
  }
  return c;
}

std::string QueueTree::DimName(const GpuCatalog& catalog, int dim) {
  if (dim == kQCpu) return "cpu";
  if (dim == kQMemory) return "memory";
  if (dim - 2 >= catalog.size()) return StrCat("gpu-type-", dim - 2);
  return catalog.type(dim - 2).name;
}

namespace {
std::string FormatDim(int dim, int64_t v) {
  if (dim == kQCpu) return FormatMilli(v);
  if (dim == kQMemory) return FormatBytes(v);
  return FormatAmount(Res::kGpu, v);
}
}  // namespace

std::string QueueTree::CheckAdmit(QueueId leaf, const Charge& c, int tier) const {
  const Queue& lq = queues_[leaf];
  if (lq.draining) return StrCat("queue ", lq.path, " is draining (removed from the configuration)");
  const int gdim = c.gpu_type == kNoGpuType ? -1 : QGpu(c.gpu_type);
  auto check = [&](const Queue& q, int dim, int64_t amount, const QVec& usage, const QVec& limit,
                   std::string_view what) -> std::string {
    // amount <= limit - usage, not usage + amount <= limit: the sum may pass int64
    // (usage and limit are never negative, so the difference cannot).
    if (amount <= 0 || amount <= limit[dim] - usage[dim]) return "";
    return StrCat("queue ", q.path, " at ", what, " for ", DimName(config_.catalog, dim), " (",
                  FormatDim(dim, usage[dim]), "/", FormatDim(dim, limit[dim]), ", pod needs ", FormatDim(dim, amount),
                  ")");
  };
  if (tier == 0) {
    // Tier 0 runs only within its queue's guaranteed.
    for (auto [dim, amount] : {std::pair{kQCpu, c.cpu_millis}, std::pair{kQMemory, c.memory_bytes}}) {
      if (lq.guaranteed[dim] > 0 || dim == gdim) {
        if (std::string r = check(lq, dim, amount, lq.usage_tier0, lq.guaranteed, "guaranteed (tier 0)"); !r.empty()) {
          return r;
        }
      }
    }
    if (gdim >= 0) {
      if (std::string r = check(lq, gdim, c.gpu_millis, lq.usage_tier0, lq.guaranteed, "guaranteed (tier 0)");
          !r.empty()) {
        return r;
      }
    }
  }
  std::string reason;
  ForEachAncestor(leaf, [&](QueueId id) {
    if (!reason.empty()) return;
    const Queue& q = queues_[id];
    if (q.over_max_by_config) {
      for (int d = 0; d < kQDims && reason.empty(); ++d) {
        if (q.usage[d] <= q.max[d]) continue;
        reason = StrCat("queue ", q.path, " is above its max for ", DimName(config_.catalog, d), " (",
                        FormatDim(d, q.usage[d]), "/", FormatDim(d, q.max[d]),
                        ") since a configuration change; it admits nothing until under");
      }
      if (!reason.empty()) return;
    }
    reason = check(q, kQCpu, c.cpu_millis, q.usage, q.max, "max");
    if (reason.empty()) reason = check(q, kQMemory, c.memory_bytes, q.usage, q.max, "max");
    if (reason.empty() && gdim >= 0) reason = check(q, gdim, c.gpu_millis, q.usage, q.max, "max");
    if (reason.empty() && q.limits.max_running_pods && q.running_pods >= *q.limits.max_running_pods) {
      reason = StrCat("queue ", q.path, " at its limit of ", *q.limits.max_running_pods, " running pods");
    }
  });
  return reason;
}

QueueId QueueTree::AtCountLimit(QueueId leaf, std::optional<int64_t> QueueLimits::*limit, int64_t Queue::*count) const {
  QueueId at = kNoQueue;
  ForEachAncestor(leaf, [&](QueueId id) {
    const Queue& q = queues_[id];
    const std::optional<int64_t>& max = q.limits.*limit;
    if (at == kNoQueue && max && q.*count >= *max) at = id;
  });
  return at;
}

std::string QueueTree::CheckCount(QueueId leaf, std::optional<int64_t> QueueLimits::*limit, int64_t Queue::*count,
                                  std::string_view what) const {
  const QueueId at = AtCountLimit(leaf, limit, count);
  if (at == kNoQueue) return "";
  return StrCat("queue ", queues_[at].path, " at its limit of ", *(queues_[at].limits.*limit), what);
}

std::string QueueTree::CheckPendingLimit(QueueId leaf) const {
  return CheckCount(leaf, &QueueLimits::max_pending_pods, &Queue::pending_pods, " pending pods");
}

std::string QueueTree::CheckRunningAppLimit(QueueId leaf) const {
  return CheckCount(leaf, &QueueLimits::max_running_apps, &Queue::running_apps,
                    " running applications (max_running_apps)");
}

bool QueueTree::AtRunningAppLimit(QueueId leaf) const {
  return AtCountLimit(leaf, &QueueLimits::max_running_apps, &Queue::running_apps) != kNoQueue;
}

std::string QueueTree::CheckPendingAppLimit(QueueId leaf) const {
  return CheckCount(leaf, &QueueLimits::max_pending_apps, &Queue::pending_apps,
                    " waiting applications (max_pending_apps)");
}

void QueueTree::AddPendingPods(QueueId leaf, int delta) {
  ForEachAncestor(leaf, [&](QueueId id) { queues_[id].pending_pods += delta; });
}

void QueueTree::AddRunningApps(QueueId leaf, int delta) {
  ForEachAncestor(leaf, [&](QueueId id) { queues_[id].running_apps += delta; });
}

void QueueTree::AddPendingApps(QueueId leaf, int delta) {
  ForEachAncestor(leaf, [&](QueueId id) { queues_[id].pending_apps += delta; });
}

bool QueueTree::AboveMax(const Queue& q) {
  for (int d = 0; d < kQDims; ++d) {
    if (q.usage[d] > q.max[d]) return true;
  }
  return false;
}

std::vector<std::string> QueueTree::MarkOverMaxByConfig() {
  std::vector<std::string> over;
  for (Queue& q : queues_) {
    q.over_max_by_config = AboveMax(q);
    q.max_lowered_by_config = q.over_max_by_config;
    if (q.over_max_by_config) over.push_back(q.path);
  }
  return over;
}

void QueueTree::Add(QueueId leaf, const Charge& c, int tier) {
  ForEachAncestor(leaf, [&](QueueId id) {
    Queue& q = queues_[id];
    q.usage[kQCpu] += c.cpu_millis;
    q.usage[kQMemory] += c.memory_bytes;
    if (c.gpu_type != kNoGpuType) q.usage[QGpu(c.gpu_type)] += c.gpu_millis;
    for (int d : {kQCpu, kQMemory}) q.peak_usage[d] = std::max(q.peak_usage[d], q.usage[d]);
    if (c.gpu_type != kNoGpuType) {
      q.peak_usage[QGpu(c.gpu_type)] = std::max(q.peak_usage[QGpu(c.gpu_type)], q.usage[QGpu(c.gpu_type)]);
    }
    for (int d : {kQCpu, kQMemory, c.gpu_type == kNoGpuType ? kQCpu : QGpu(c.gpu_type)}) {
      q.peak_borrowed[d] = std::max(q.peak_borrowed[d], q.usage[d] - q.guaranteed[d]);
    }
    ++q.running_pods;
    if (q.max_lowered_by_config && !q.over_max_by_config) q.over_max_by_config = AboveMax(q);
  });
  ++queues_[leaf].running_by_tier[std::clamp(tier, 0, 2)];
  if (tier == 0) {
    Queue& q = queues_[leaf];
    q.usage_tier0[kQCpu] += c.cpu_millis;
    q.usage_tier0[kQMemory] += c.memory_bytes;
    if (c.gpu_type != kNoGpuType) q.usage_tier0[QGpu(c.gpu_type)] += c.gpu_millis;
  }
}

void QueueTree::Remove(QueueId leaf, const Charge& c, int tier) {
  ForEachAncestor(leaf, [&](QueueId id) {
    Queue& q = queues_[id];
    q.usage[kQCpu] -= c.cpu_millis;
    q.usage[kQMemory] -= c.memory_bytes;
    if (c.gpu_type != kNoGpuType) q.usage[QGpu(c.gpu_type)] -= c.gpu_millis;
    --q.running_pods;
    if (q.over_max_by_config) q.over_max_by_config = AboveMax(q);
  });
  --queues_[leaf].running_by_tier[std::clamp(tier, 0, 2)];
  if (tier == 0) {
    Queue& q = queues_[leaf];
    q.usage_tier0[kQCpu] -= c.cpu_millis;
    q.usage_tier0[kQMemory] -= c.memory_bytes;
    if (c.gpu_type != kNoGpuType) q.usage_tier0[QGpu(c.gpu_type)] -= c.gpu_millis;
  }
}

double QueueTree::Share(QueueId id) const {
  const Queue& q = queues_[id];
  bool uses_gpu = false;
  for (int d = 2; d < kQDims; ++d) uses_gpu = uses_gpu || q.usage[d] > 0;
  double share = 0;
  for (int d = 0; d < kQDims; ++d) {
    const int64_t used = q.usage[d];
    const int64_t guaranteed = q.guaranteed[d];
    if (used <= 0 || (d < 2 && uses_gpu && guaranteed <= 0)) continue;
    double s;
    if (used <= guaranteed) {
      s = static_cast<double>(used) / static_cast<double>(guaranteed);
    } else {
      // Usage of something the cluster does not have counts as all of it.
      const double borrowed =
          cluster_[d] > 0 ? static_cast<double>(used - guaranteed) / static_cast<double>(cluster_[d]) : 1.0;
      s = 1.0 + borrowed / q.weight;
    }
    share = std::max(share, s);
  }
  return share;
}

int64_t QueueTree::Borrowed(QueueId id, int dim) const {
  const Queue& q = queues_[id];
  return std::max<int64_t>(0, q.usage[dim] - q.guaranteed[dim]);
}

QueueId QueueTree::Find(std::string_view path) const {
  auto it = by_path_.find(ToAbsl(path));
  return it == by_path_.end() ? kNoQueue : it->second;
}

int QueueTree::PruneDrained() {
  int pruned = 0;
  for (QueueId id = 0; id < size(); ++id) {
    Queue& q = queues_[id];
    if (!q.draining || !q.children.empty() || q.running_pods > 0 || q.parent == kNoQueue) continue;
    auto& siblings = queues_[q.parent].children;
    siblings.erase(std::remove(siblings.begin(), siblings.end(), id), siblings.end());
    by_path_.erase(q.path);
    q.parent = kNoQueue;
    q.path.clear();
    ++pruned;  // the slot stays (ids are stable) but is unreachable
  }
  return pruned;
}

std::vector<std::string> QueueTree::CheckInvariants() const {
  std::vector<std::string> problems;
  for (QueueId id = 0; id < size(); ++id) {
    const Queue& q = queues_[id];
    if (q.path.empty()) continue;
    for (int d = 0; d < kQDims; ++d) {
      if (q.usage[d] < 0) problems.push_back(StrCat("queue ", q.path, ": negative usage of ", DimName(config_.catalog, d)));
      if (q.usage[d] > q.max[d] && !q.draining && !q.over_max_by_config) {
        problems.push_back(StrCat("queue ", q.path, " above max for ", DimName(config_.catalog, d), " (",
                                  FormatDim(d, q.usage[d]), "/", FormatDim(d, q.max[d]), ")"));
      }
    }
    if (q.children.empty()) continue;
    QVec sum{};
    for (QueueId c : q.children) {
      for (int d = 0; d < kQDims; ++d) sum[d] += queues_[c].usage[d];
    }
    if (sum != q.usage) problems.push_back(StrCat("queue ", q.path, ": usage differs from the sum of its children"));
  }
  return problems;
}

}  // namespace drover
