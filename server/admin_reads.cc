// The admin API's reads: request checks and the mapping of published status
// and store records to drover.admin.v1 messages.
#include "server/admin_reads.h"

#include <algorithm>
#include <array>

#include "absl/container/flat_hash_map.h"
#include "core/strings.h"
#include "server/admin_reads_internal.h"

namespace drover {
namespace {

namespace pb = ::drover::admin::v1;
using admin_reads::Invalid;
using admin_reads::InSubtree;
using admin_reads::PageSize;
using admin_reads::PageToken;

constexpr int kDefaultPendingPage = 100;
constexpr int kDefaultRevisionPage = 50;
constexpr int kDefaultAuditLimit = 100;
constexpr int kAheadListed = 10;
constexpr int64_t kDefaultUsageWindowSeconds = 6 * 3600;
constexpr int64_t kMaxUsageWindowSeconds = 400LL * 24 * 3600;  // the store's hour points' retention
constexpr int64_t kUsageStepsByDefault = 120;
constexpr int64_t kMaxUsagePoints = kMaxPage * 10;  // Store::QueryUsage's cap

std::string SourceName(store::v1::RevisionSource s) {
  switch (s) {
    case store::v1::REVISION_SOURCE_FILE: return "file";
    case store::v1::REVISION_SOURCE_CONFIGMAP: return "configmap";
    case store::v1::REVISION_SOURCE_ADMIN_API: return "admin-api";
    case store::v1::REVISION_SOURCE_ROLLBACK: return "rollback";
    case store::v1::REVISION_SOURCE_IMPORT: return "import";
    default: return "unspecified";
  }
}

void FillRevision(const Revision& r, bool with_document, pb::ConfigRevision* out) {
  out->set_revision(r.revision());
  if (with_document) out->set_document(r.document());
  out->set_sha256(r.sha256());
  out->set_author(r.author());
  out->set_source(SourceName(r.source()));
  out->set_comment(r.comment());
  out->set_applied_unix_ms(r.applied_unix_ms());
  out->set_rolled_back_from(r.rolled_back_from());
}

// "" or a PendingCode name.
absl::Status CheckReason(const std::string& reason) {
  if (reason.empty()) return absl::OkStatus();
  std::string names;
  for (int c = 0; c <= static_cast<int>(PendingCode::kWaitingForDrain); ++c) {
    const std::string_view name = PendingCodeName(static_cast<PendingCode>(c));
    if (name == reason) return absl::OkStatus();
    StrAppend(&names, names.empty() ? "" : ", ", name);
  }
  return Invalid("reason", StrCat("\"", CutForMessage(reason), "\" is not a reason code (", names, ")"));
}

bool IsGpuResource(const std::string& resource) { return resource != "cpu" && resource != "memory"; }

using TierCounts = std::array<int64_t, 3>;

// Pending workloads by tier for every queue (a workload counts in its leaf and
// every ancestor): O(pending x depth) once, not O(pending) per queue.
absl::flat_hash_map<std::string, TierCounts> PendingByTier(const PendingSection& pending) {
  absl::flat_hash_map<std::string, TierCounts> out;
  for (const PendingWorkload& w : pending.workloads) {
    if (w.queue.empty() || w.tier < 0 || w.tier > 2) continue;
    for (size_t end = w.queue.find('.'); ; end = w.queue.find('.', end + 1)) {
      ++out[w.queue.substr(0, end)][w.tier];
      if (end == std::string::npos) break;
    }
  }
  return out;
}

void FillQueue(const QueueStatus& q, const TierCounts& pending_by_tier, pb::Queue* out) {
  out->set_path(q.path);
  out->set_parent(q.parent);
  out->set_leaf(q.leaf);
  out->set_draining(q.draining);
  out->set_over_max_by_config(q.over_max_by_config);
  out->set_weight(q.weight);
  out->set_fair_share(q.share);
  out->set_running_pods(q.running_pods);
  out->set_pending_pods(q.pending_pods);
  for (int64_t n : q.running_by_tier) out->add_running_by_tier(n);
  for (int64_t n : pending_by_tier) out->add_pending_by_tier(n);
  for (const QueueDimStatus& d : q.dims) {
    pb::ResourceUsage* r = out->add_resources();
    r->set_resource(d.resource);
    r->set_guaranteed(d.guaranteed);
    r->set_max(d.max);
    r->set_usage(d.usage);
    r->set_borrowed(d.borrowed);
    r->set_pending_demand(d.pending_demand);
  }
}

// `key`: the workload's timeline key (PendingSection::workload_keys).
void FillPending(const PendingWorkload& w, const std::string& key, pb::PendingWorkload* out) {
  out->set_workload(key);
  for (const std::string& p : w.pod_keys) out->add_pods(p);
  out->set_queue(w.queue);
  out->set_tier(w.tier);
  out->set_reason(std::string(PendingCodeName(w.code)));
  out->set_message(w.message);
  out->set_position(w.position);
  out->set_waiting_since_ms(w.waiting_since_ms);
}

std::string KindName(store::v1::TimelineEventKind k) {
  std::string name = store::v1::TimelineEventKind_Name(k);
  constexpr std::string_view kPrefix = "TIMELINE_EVENT_KIND_";
  if (name.starts_with(kPrefix)) name = name.substr(kPrefix.size());
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

// The timeline key of `w`, an element of `p.workloads`.
std::string KeyAt(const PendingSection& p, const PendingWorkload* w) {
  const size_t i = static_cast<size_t>(w - p.workloads.data());
  if (i < p.workload_keys.size()) return p.workload_keys[i];
  return w->pod_keys.empty() ? "" : w->pod_keys.front();
}

void AddTimeline(const std::vector<TimelineEvent>& events, pb::Explanation* out) {
  for (const TimelineEvent& e : events) {
    pb::TimelineEvent* t = out->add_timeline();
    t->set_unix_ms(e.unix_ms());
    t->set_kind(KindName(e.kind()));
    t->set_reason(e.reason());
    t->set_message(e.message());
    t->set_node(e.node());
    t->set_by(e.by());
  }
}

// Sets a pending page's total, time and next-page token (when more matched past it).
void FinishPendingPage(int64_t matched, int64_t offset, int64_t as_of_ms, pb::ListPendingResponse* out) {
  out->set_total(matched);
  out->set_now_ms(as_of_ms);
  if (offset + out->workloads_size() < matched) out->set_next_page_token(StrCat(offset + out->workloads_size()));
}

// The node counts of a pending workload's last attempt, most nodes first (ties in FilterFailure order).
void FillNodeReasons(const NodeFailures& nodes, pb::Explanation* out) {
  if (nodes.counts.empty()) return;
  out->set_nodes_total(nodes.total_nodes);
  std::vector<std::pair<FilterFailure, int32_t>> sorted(nodes.counts.begin(), nodes.counts.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [failure, count] : sorted) {
    pb::NodeReason* r = out->add_nodes_by_reason();
    r->set_reason(std::string(FilterFailureCode(failure)));
    r->set_message(std::string(FilterFailureText(failure)));
    r->set_nodes(count);
  }
}

// Pending facts of pod `key`: its workload, position, nodes by reason and who is ahead of it.
void FillWaiting(const ClusterStatus& st, const std::string& key, pb::Explanation* out) {
  const PendingSection& pending = *st.pending;
  const PendingSection::Lookup& lookup = pending.lookup();
  auto found = lookup.by_pod.find(key);
  if (found == lookup.by_pod.end()) return;
  const PendingWorkload* mine = &pending.workloads[found->second];
  out->set_pending(true);
  FillPending(*mine, KeyAt(pending, mine), out->mutable_workload());
  FillNodeReasons(mine->nodes, out);
  if (mine->queue.empty()) {
    out->set_queue_pending(0);
    return;
  }
  auto queue = lookup.by_queue.find(mine->queue);
  if (queue == lookup.by_queue.end()) return;
  out->set_queue_pending(static_cast<int64_t>(queue->second.size()));
  // By position: the first ones are the nearest to the head of the queue.
  for (size_t i : queue->second) {
    const PendingWorkload& w = pending.workloads[i];
    if (w.position <= 0 || w.position >= mine->position || out->ahead_size() >= static_cast<int>(kAheadListed)) break;
    out->add_ahead(KeyAt(pending, &w));
  }
}

// The window and step of a usage query, checked.
absl::Status UsageWindow(const pb::QueryUsageRequest& req, int64_t* window_s, int64_t* step_s) {
  if (req.window_seconds() < 0 || req.window_seconds() > kMaxUsageWindowSeconds) {
    return Invalid("window_seconds", StrCat(req.window_seconds(), " is not in 0..", kMaxUsageWindowSeconds, " (400 days)"));
  }
  *window_s = req.window_seconds() == 0 ? kDefaultUsageWindowSeconds : req.window_seconds();
  if (req.step_seconds() != 0 && req.step_seconds() < 60) {
    return Invalid("step_seconds", StrCat(req.step_seconds(), " is under 60 (usage is kept per minute)"));
  }
  *step_s = req.step_seconds() != 0 ? req.step_seconds()
                                    : std::max<int64_t>(60, (*window_s + kUsageStepsByDefault - 1) / kUsageStepsByDefault);
  if (*window_s / *step_s > kMaxUsagePoints) {
    return Invalid("step_seconds", StrCat(*step_s, " makes ", *window_s / *step_s, " points over the window; the limit is ",
                                          kMaxUsagePoints));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<pb::ConfigRevision> AdminReads::GetConfig() const {
  absl::StatusOr<Revision> active = backend_->AdminStore()->Active();
  if (!active.ok()) return active.status();
  pb::ConfigRevision out;
  FillRevision(*active, /*with_document=*/true, &out);
  return out;
}

absl::StatusOr<pb::ListRevisionsResponse> AdminReads::ListRevisions(const pb::ListRevisionsRequest& req) const {
  int size = 0;
  int64_t before = 0;
  if (absl::Status s = PageSize(req.page_size(), kDefaultRevisionPage, &size); !s.ok()) return s;
  if (absl::Status s = PageToken(req.page_token(), &before); !s.ok()) return s;
  absl::StatusOr<RevisionPage> page = backend_->AdminStore()->ListRevisions(before, size);
  if (!page.ok()) return page.status();
  pb::ListRevisionsResponse out;
  for (const Revision& r : page->revisions) FillRevision(r, /*with_document=*/false, out.add_revisions());
  if (page->next_before > 0) out.set_next_page_token(StrCat(page->next_before));
  return out;
}

absl::StatusOr<pb::ListAuditResponse> AdminReads::ListAudit(const pb::ListAuditRequest& req) const {
  if (req.limit() < 0) return Invalid("limit", StrCat(req.limit(), " is negative"));
  if (req.since_unix_ms() < 0) return Invalid("since_unix_ms", StrCat(req.since_unix_ms(), " is negative"));
  if (req.until_unix_ms() < 0) return Invalid("until_unix_ms", StrCat(req.until_unix_ms(), " is negative"));
  if (req.until_unix_ms() > 0 && req.until_unix_ms() <= req.since_unix_ms()) {
    return Invalid("until_unix_ms", StrCat(req.until_unix_ms(), " is not after since_unix_ms ", req.since_unix_ms()));
  }
  AuditFilter filter;
  filter.from_unix_ms = req.since_unix_ms();
  if (req.until_unix_ms() > 0) filter.to_unix_ms = req.until_unix_ms();
  filter.actor = req.actor();
  filter.target_prefix = req.target_prefix();
  filter.limit = req.limit() == 0 ? kDefaultAuditLimit : std::min<int>(req.limit(), kMaxPage);
  absl::StatusOr<std::vector<AuditRecord>> records = backend_->AdminStore()->ListAudit(filter);
  if (!records.ok()) return records.status();
  pb::ListAuditResponse out;
  for (const AuditRecord& a : *records) {
    pb::AuditRecord* r = out.add_records();
    r->set_sequence(a.sequence());
    r->set_unix_ms(a.unix_ms());
    r->set_actor(a.actor());
    r->set_action(a.action());
    r->set_target(a.target());
    r->set_reason(a.reason());
    r->set_result(a.result());
  }
  return out;
}

pb::ListQueuesResponse AdminReads::ListQueues() const {
  pb::ListQueuesResponse out;
  std::shared_ptr<const ClusterStatus> st = backend_->CurrentStatus();
  const absl::flat_hash_map<std::string, TierCounts> pending = PendingByTier(*st->pending);
  for (const QueueStatus& q : st->queues) {
    auto it = pending.find(q.path);
    FillQueue(q, it == pending.end() ? TierCounts{} : it->second, out.add_queues());
  }
  out.set_config_revision(st->config.revision);
  return out;
}

absl::StatusOr<pb::Queue> AdminReads::GetQueue(const pb::GetQueueRequest& req) const {
  if (req.path().empty()) return Invalid("path", "empty; name a queue, e.g. root.research");
  std::shared_ptr<const ClusterStatus> st = backend_->CurrentStatus();
  const QueueStatus* q = st->FindQueue(req.path());
  if (q == nullptr) return absl::NotFoundError(StrCat("path: \"", CutForMessage(req.path()), "\" is not a queue"));
  TierCounts pending{};
  for (const PendingWorkload& w : st->pending->workloads) {
    if (InSubtree(w.queue, q->path) && w.tier >= 0 && w.tier < 3) ++pending[w.tier];
  }
  pb::Queue out;
  FillQueue(*q, pending, &out);
  return out;
}

absl::StatusOr<pb::ListPendingResponse> AdminReads::ListPending(const pb::ListPendingRequest& req) const {
  int size = 0;
  int64_t offset = 0;
  if (absl::Status s = PageSize(req.page_size(), kDefaultPendingPage, &size); !s.ok()) return s;
  if (absl::Status s = PageToken(req.page_token(), &offset); !s.ok()) return s;
  if (req.has_tier() && (req.tier() < 0 || req.tier() > 2)) return Invalid("tier", StrCat(req.tier(), " is not 0, 1 or 2"));
  if (absl::Status s = CheckReason(req.reason()); !s.ok()) return s;
  std::shared_ptr<const ClusterStatus> st = backend_->CurrentStatus();
  if (!req.queue().empty() && st->FindQueue(req.queue()) == nullptr) {
    return Invalid("queue", StrCat("\"", CutForMessage(req.queue()), "\" is not a queue"));
  }
  pb::ListPendingResponse out;
  const std::vector<PendingWorkload>& all = st->pending->workloads;
  if (req.queue().empty() && !req.has_tier() && req.reason().empty()) {
    // Unfiltered (the page's and droverctl's default): the page alone is read, not
    // the whole backlog, so readers cost the loop's caches little.
    const int64_t total = static_cast<int64_t>(all.size());
    for (int64_t i = offset; i < total && out.workloads_size() < size; ++i) {
      FillPending(all[i], KeyAt(*st->pending, &all[i]), out.add_workloads());
    }
    FinishPendingPage(total, offset, st->pending->as_of_ms, &out);
    return out;
  }
  int64_t matched = 0;
  for (const PendingWorkload& w : all) {
    if (!InSubtree(w.queue, req.queue()) || (req.has_tier() && w.tier != req.tier())) continue;
    if (!req.reason().empty() && PendingCodeName(w.code) != req.reason()) continue;
    if (matched >= offset && out.workloads_size() < size) FillPending(w, KeyAt(*st->pending, &w), out.add_workloads());
    ++matched;
  }
  FinishPendingPage(matched, offset, st->pending->as_of_ms, &out);
  return out;
}

absl::StatusOr<pb::Explanation> AdminReads::Explain(const pb::ExplainRequest& req) const {
  if (req.namespace_().empty()) return Invalid("namespace", "empty");
  if (req.name().empty()) return Invalid("name", "empty");
  const std::string key = StrCat(req.namespace_(), "/", req.name());
  pb::Explanation out;
  out.set_pod(key);
  std::shared_ptr<const ClusterStatus> st = backend_->CurrentStatus();
  FillWaiting(*st, key, &out);
  // A gang's events are kept under the gang ("ns/gang"), each naming its member.
  const std::string workload = out.pending() ? out.workload().workload() : key;
  absl::StatusOr<std::vector<TimelineEvent>> events = backend_->AdminStore()->Timeline(workload, kMaxPage);
  if (events.ok()) AddTimeline(*events, &out);
  if (workload != key && (events = backend_->AdminStore()->Timeline(key, kMaxPage)).ok()) AddTimeline(*events, &out);
  if (!out.pending() && out.timeline_size() == 0) {
    return absl::NotFoundError(StrCat("pod ", CutForMessage(key), ": not pending and no timeline in the store"));
  }
  return out;
}

pb::Inventory AdminReads::GetInventory(const pb::GetInventoryRequest& req) const {
  pb::Inventory out;
  std::shared_ptr<const ClusterStatus> st = backend_->CurrentStatus();
  for (const GpuInventory& g : st->gpus) {
    pb::GpuTypeInventory* t = out.add_types();
    t->set_type(g.type);
    t->set_nodes(g.nodes);
    t->set_total(g.total);
    t->set_allocated_milli(g.allocated_milli);
    t->set_free(g.free);
    t->set_whole_nodes_free(g.whole_nodes_free);
    t->set_stranded(g.stranded);
  }
  if (!req.nodes()) return out;
  for (const NodeGpuStatus& n : st->nodes) {
    pb::NodeInventory* o = out.add_nodes();
    o->set_name(n.name);
    o->set_type(n.type);
    o->set_schedulable(n.schedulable);
    o->set_gpus(n.gpus);
    o->set_free_gpus(n.free_gpus);
    o->set_allocated_milli(n.allocated_milli);
  }
  return out;
}

absl::StatusOr<pb::QueryUsageResponse> AdminReads::QueryUsage(const pb::QueryUsageRequest& req) const {
  if (req.queue().empty()) return Invalid("queue", "empty; name a queue, e.g. root.research");
  int64_t window_s = 0;
  int64_t step_s = 0;
  if (absl::Status s = UsageWindow(req, &window_s, &step_s); !s.ok()) return s;
  std::shared_ptr<const ClusterStatus> st = backend_->CurrentStatus();
  const QueueStatus* q = st->FindQueue(req.queue());
  if (q == nullptr) return Invalid("queue", StrCat("\"", CutForMessage(req.queue()), "\" is not a queue"));
  std::vector<std::string> types;
  for (const QueueDimStatus& d : q->dims) {
    if (IsGpuResource(d.resource) && (req.gpu_type().empty() || d.resource == req.gpu_type())) types.push_back(d.resource);
  }
  if (!req.gpu_type().empty() && types.empty()) {
    const bool known = std::any_of(st->gpus.begin(), st->gpus.end(), [&](const GpuInventory& g) { return g.type == req.gpu_type(); });
    if (!known) return Invalid("gpu_type", StrCat("\"", CutForMessage(req.gpu_type()), "\" is not a GPU type of this cluster"));
    types.push_back(req.gpu_type());  // known, but the queue has none of it now: its history may
  }
  pb::QueryUsageResponse out;
  out.set_queue(q->path);
  out.set_to_unix_ms(backend_->StoreTimeBaseMs() + st->now_ms + 1);
  out.set_from_unix_ms(out.to_unix_ms() - window_s * 1000);
  out.set_step_seconds(step_s);
  for (const std::string& type : types) {
    absl::StatusOr<std::vector<UsageSample>> points =
        backend_->AdminStore()->QueryUsage(UsageQuery{q->path, type, out.from_unix_ms(), out.to_unix_ms(), step_s * 1000});
    if (!points.ok()) return points.status();
    pb::UsageSeries* series = out.add_series();
    series->set_gpu_type(type);
    for (const UsageSample& s : *points) {
      pb::UsagePoint* p = series->add_points();
      p->set_unix_ms(s.unix_ms());
      p->set_allocated(s.allocated());
      p->set_guaranteed(s.guaranteed());
      p->set_effective_max(s.effective_max());
      p->set_borrowed(s.borrowed());
      p->set_pending_demand(s.pending_demand());
    }
  }
  return out;
}

}  // namespace drover
