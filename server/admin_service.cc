// The admin API's handlers: authentication, request checks, and the mapping of
// published status and store records to drover.admin.v1 messages.
#include "server/admin_service.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "core/strings.h"
#include "drover/admin/v1/admin.grpc.pb.h"
#include "server/text_diff.h"
#include "spdlog/spdlog.h"

namespace drover {
namespace {

namespace pb = ::drover::admin::v1;

constexpr int kDefaultPendingPage = 100;
constexpr int kDefaultRevisionPage = 50;
constexpr int kAheadListed = 10;

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}
grpc::Status Invalid(std::string_view field, std::string_view what) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, StrCat(field, ": ", what));
}

// The byte offset of the first invalid UTF-8 sequence, or -1.
int64_t FirstBadUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return static_cast<int64_t>(i);
    for (int k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return static_cast<int64_t>(i);
    }
    i += n;
  }
  return -1;
}

grpc::Status CheckDocument(const std::string& doc) {
  if (doc.size() > kMaxDocumentBytes) {
    return Invalid("document", StrCat(doc.size(), " bytes; the limit is ", kMaxDocumentBytes, " bytes (16 MiB)"));
  }
  if (int64_t at = FirstBadUtf8(doc); at >= 0) return Invalid("document", StrCat("not valid UTF-8 at byte ", at));
  return grpc::Status::OK;
}

// A page size: 0 = `fallback`; negative is an error; capped at kMaxPage.
grpc::Status PageSize(int32_t requested, int fallback, int* out) {
  if (requested < 0) return Invalid("page_size", StrCat(requested, " is negative"));
  *out = requested == 0 ? fallback : std::min<int>(requested, kMaxPage);
  return grpc::Status::OK;
}

// A page token we issued: a non-negative decimal; "" = 0.
grpc::Status PageToken(const std::string& token, int64_t* out) {
  *out = 0;
  if (token.empty()) return grpc::Status::OK;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), *out);
  if (ec != std::errc() || end != token.data() + token.size() || *out < 0) {
    return Invalid("page_token", StrCat("\"", CutForMessage(token), "\" is not a token this server issued"));
  }
  return grpc::Status::OK;
}

void FillQueue(const QueueStatus& q, const PendingSection& pending, pb::Queue* out) {
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
  std::array<int64_t, 3> pending_by_tier{};
  for (const PendingWorkload& w : pending.workloads) {
    if ((w.queue == q.path || w.queue.starts_with(q.path + ".")) && w.tier >= 0 && w.tier < 3) ++pending_by_tier[w.tier];
  }
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

bool InSubtree(const std::string& queue, const std::string& root) {
  return root.empty() || queue == root || queue.starts_with(root + ".");
}

void AddErrors(const std::vector<ConfigError>& errors, google::protobuf::RepeatedPtrField<pb::ValidationError>* out) {
  for (const ConfigError& e : errors) {
    pb::ValidationError* v = out->Add();
    v->set_path(e.path);
    v->set_message(e.message);
    v->set_line(e.line);
    v->set_column(e.column);
  }
}

}  // namespace

class AdminServer::Service final : public pb::Admin::Service {
 public:
  Service(AdminBackend* backend, const AdminOptions* options) : backend_(backend), options_(options) {}

  grpc::Status ListQueues(grpc::ServerContext* ctx, const pb::ListQueuesRequest*, pb::ListQueuesResponse* out) override {
    if (grpc::Status s = Reader(ctx); !s.ok()) return s;
    std::shared_ptr<const ClusterStatus> st = backend_->CurrentStatus();
    for (const QueueStatus& q : st->queues) FillQueue(q, *st->pending, out->add_queues());
    out->set_config_revision(st->config.revision);
    return grpc::Status::OK;
  }

  grpc::Status GetQueue(grpc::ServerContext* ctx, const pb::GetQueueRequest* req, pb::Queue* out) override {
    if (grpc::Status s = Reader(ctx); !s.ok()) return s;
    if (req->path().empty()) return Invalid("path", "empty; name a queue, e.g. root.research");
    std::shared_ptr<const ClusterStatus> st = backend_->CurrentStatus();
    const QueueStatus* q = st->FindQueue(req->path());
    if (q == nullptr) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, StrCat("path: \"", CutForMessage(req->path()), "\" is not a queue"));
    }
    FillQueue(*q, *st->pending, out);
    return grpc::Status::OK;
  }

  grpc::Status GetConfig(grpc::ServerContext* ctx, const pb::GetConfigRequest*, pb::ConfigRevision* out) override {
    if (grpc::Status s = Reader(ctx); !s.ok()) return s;
    absl::StatusOr<Revision> active = backend_->AdminStore()->Active();
    if (!active.ok()) return ToGrpc(active.status());
    FillRevision(*active, /*with_document=*/true, out);
    return grpc::Status::OK;
  }

  grpc::Status DiffConfig(grpc::ServerContext* ctx, const pb::DiffConfigRequest* req, pb::DiffConfigResponse* out) override {
    if (grpc::Status s = Reader(ctx); !s.ok()) return s;
    if (grpc::Status s = CheckDocument(req->document()); !s.ok()) return s;
    std::vector<ConfigError> errors;
    (void)ParseQueueConfig(req->document(), "document", &errors);
    AddErrors(errors, out->mutable_errors());
    absl::StatusOr<Revision> active = backend_->AdminStore()->Active();
    const std::string before = active.ok() ? active->document() : "";
    out->set_active_revision(active.ok() ? active->revision() : 0);
    out->set_diff(UnifiedDiff(before, req->document(), StrCat("revision ", out->active_revision()), "proposed"));
    return grpc::Status::OK;
  }

  grpc::Status ApplyConfig(grpc::ServerContext* ctx, const pb::ApplyConfigRequest* req, pb::ApplyConfigResponse* out) override {
    absl::StatusOr<Principal> who = Authenticate(ctx);
    if (!who.ok()) return ToGrpc(who.status());
    if (grpc::Status s = CheckDocument(req->document()); !s.ok()) return s;
    if (req->expected_revision() < 0) return Invalid("expected_revision", StrCat(req->expected_revision(), " is negative"));
    if (req->comment().size() > 4096) return Invalid("comment", StrCat(req->comment().size(), " bytes; the limit is 4096"));
    if (int64_t at = FirstBadUtf8(req->comment()); at >= 0) return Invalid("comment", StrCat("not valid UTF-8 at byte ", at));
    return Write(*who, req->document(), req->expected_revision(), req->comment(), req->dry_run(), 0, out);
  }

  grpc::Status Rollback(grpc::ServerContext* ctx, const pb::RollbackRequest* req, pb::ApplyConfigResponse* out) override {
    absl::StatusOr<Principal> who = Authenticate(ctx);
    if (!who.ok()) return ToGrpc(who.status());
    if (req->to_revision() <= 0) return Invalid("to_revision", StrCat(req->to_revision(), " is not a revision (they count from 1)"));
    if (req->expected_revision() < 0) return Invalid("expected_revision", StrCat(req->expected_revision(), " is negative"));
    absl::StatusOr<Revision> to = backend_->AdminStore()->GetRevision(req->to_revision());
    if (absl::IsNotFound(to.status())) return Invalid("to_revision", StrCat(req->to_revision(), " does not exist"));
    if (!to.ok()) return ToGrpc(to.status());
    const std::string comment = req->comment().empty() ? StrCat("rollback to revision ", req->to_revision()) : req->comment();
    return Write(*who, to->document(), req->expected_revision(), comment, req->dry_run(), req->to_revision(), out);
  }

  grpc::Status ListRevisions(grpc::ServerContext* ctx, const pb::ListRevisionsRequest* req,
                             pb::ListRevisionsResponse* out) override {
    if (grpc::Status s = Reader(ctx); !s.ok()) return s;
    int size = 0;
    int64_t before = 0;
    if (grpc::Status s = PageSize(req->page_size(), kDefaultRevisionPage, &size); !s.ok()) return s;
    if (grpc::Status s = PageToken(req->page_token(), &before); !s.ok()) return s;
    absl::StatusOr<RevisionPage> page = backend_->AdminStore()->ListRevisions(before, size);
    if (!page.ok()) return ToGrpc(page.status());
    for (const Revision& r : page->revisions) FillRevision(r, /*with_document=*/false, out->add_revisions());
    if (page->next_before > 0) out->set_next_page_token(StrCat(page->next_before));
    return grpc::Status::OK;
  }

  grpc::Status ListPending(grpc::ServerContext* ctx, const pb::ListPendingRequest* req, pb::ListPendingResponse* out) override {
    if (grpc::Status s = Reader(ctx); !s.ok()) return s;
    int size = 0;
    int64_t offset = 0;
    if (grpc::Status s = PageSize(req->page_size(), kDefaultPendingPage, &size); !s.ok()) return s;
    if (grpc::Status s = PageToken(req->page_token(), &offset); !s.ok()) return s;
    if (req->has_tier() && (req->tier() < 0 || req->tier() > 2)) return Invalid("tier", StrCat(req->tier(), " is not 0, 1 or 2"));
    std::shared_ptr<const ClusterStatus> st = backend_->CurrentStatus();
    if (!req->queue().empty() && st->FindQueue(req->queue()) == nullptr) {
      return Invalid("queue", StrCat("\"", CutForMessage(req->queue()), "\" is not a queue"));
    }
    int64_t matched = 0;
    for (const PendingWorkload& w : st->pending->workloads) {
      if (!InSubtree(w.queue, req->queue()) || (req->has_tier() && w.tier != req->tier())) continue;
      if (!req->reason().empty() && PendingCodeName(w.code) != req->reason()) continue;
      if (matched >= offset && out->workloads_size() < size) FillPending(w, KeyAt(*st->pending, &w), out->add_workloads());
      ++matched;
    }
    out->set_total(matched);
    if (offset + out->workloads_size() < matched) out->set_next_page_token(StrCat(offset + out->workloads_size()));
    return grpc::Status::OK;
  }

  grpc::Status Explain(grpc::ServerContext* ctx, const pb::ExplainRequest* req, pb::Explanation* out) override {
    if (grpc::Status s = Reader(ctx); !s.ok()) return s;
    if (req->namespace_().empty()) return Invalid("namespace", "empty");
    if (req->name().empty()) return Invalid("name", "empty");
    const std::string key = StrCat(req->namespace_(), "/", req->name());
    out->set_pod(key);
    std::shared_ptr<const ClusterStatus> st = backend_->CurrentStatus();
    FillWaiting(*st, key, out);
    // A gang's events are kept under the gang ("ns/gang"), each naming its member.
    const std::string& workload = out->pending() ? out->workload().workload() : key;
    absl::StatusOr<std::vector<TimelineEvent>> events = backend_->AdminStore()->Timeline(workload, kMaxPage);
    if (events.ok()) AddTimeline(*events, out);
    if (workload != key && (events = backend_->AdminStore()->Timeline(key, kMaxPage)).ok()) AddTimeline(*events, out);
    if (!out->pending() && out->timeline_size() == 0) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, StrCat("pod ", key, ": not pending and no timeline in the store"));
    }
    return grpc::Status::OK;
  }

  grpc::Status GetInventory(grpc::ServerContext* ctx, const pb::GetInventoryRequest* req, pb::Inventory* out) override {
    if (grpc::Status s = Reader(ctx); !s.ok()) return s;
    std::shared_ptr<const ClusterStatus> st = backend_->CurrentStatus();
    for (const GpuInventory& g : st->gpus) {
      pb::GpuTypeInventory* t = out->add_types();
      t->set_type(g.type);
      t->set_nodes(g.nodes);
      t->set_total(g.total);
      t->set_allocated_milli(g.allocated_milli);
      t->set_free(g.free);
      t->set_whole_nodes_free(g.whole_nodes_free);
      t->set_stranded(g.stranded);
    }
    if (!req->nodes()) return grpc::Status::OK;
    for (const NodeGpuStatus& n : st->nodes) {
      pb::NodeInventory* o = out->add_nodes();
      o->set_name(n.name);
      o->set_type(n.type);
      o->set_schedulable(n.schedulable);
      o->set_gpus(n.gpus);
      o->set_free_gpus(n.free_gpus);
      o->set_allocated_milli(n.allocated_milli);
    }
    return grpc::Status::OK;
  }

  grpc::Status ListAudit(grpc::ServerContext* ctx, const pb::ListAuditRequest* req, pb::ListAuditResponse* out) override {
    if (grpc::Status s = Reader(ctx); !s.ok()) return s;
    if (req->limit() < 0) return Invalid("limit", StrCat(req->limit(), " is negative"));
    AuditFilter filter;
    filter.actor = req->actor();
    filter.target_prefix = req->target_prefix();
    filter.limit = req->limit() == 0 ? 100 : std::min<int>(req->limit(), kMaxPage);
    absl::StatusOr<std::vector<AuditRecord>> records = backend_->AdminStore()->ListAudit(filter);
    if (!records.ok()) return ToGrpc(records.status());
    for (const AuditRecord& a : *records) {
      pb::AuditRecord* r = out->add_records();
      r->set_sequence(a.sequence());
      r->set_unix_ms(a.unix_ms());
      r->set_actor(a.actor());
      r->set_action(a.action());
      r->set_target(a.target());
      r->set_reason(a.reason());
      r->set_result(a.result());
    }
    return grpc::Status::OK;
  }

 private:
  // The caller, from "authorization: Bearer TOKEN". Unauthenticated without a
  // token (or with one no one holds).
  absl::StatusOr<Principal> Authenticate(grpc::ServerContext* ctx) const {
    const auto& md = ctx->client_metadata();
    auto it = md.find("authorization");
    if (it == md.end()) {
      if (options_->anonymous_read) return Principal{"system:anonymous", {}, true};
      return absl::UnauthenticatedError("no credentials: send \"authorization: Bearer TOKEN\" (droverctl --token or DROVER_TOKEN)");
    }
    const std::string_view value(it->second.data(), it->second.size());
    constexpr std::string_view kBearer = "Bearer ";
    if (!value.starts_with(kBearer)) return absl::UnauthenticatedError("authorization: expected \"Bearer TOKEN\"");
    std::optional<Principal> p = options_->tokens ? options_->tokens->Find(value.substr(kBearer.size())) : std::nullopt;
    if (!p) return absl::UnauthenticatedError("authorization: the token is not known to this droverd (--admin-tokens)");
    return *p;
  }

  // Any authenticated principal (or anyone, with anonymous reads) may read.
  grpc::Status Reader(grpc::ServerContext* ctx) const {
    absl::StatusOr<Principal> p = Authenticate(ctx);
    return p.ok() ? grpc::Status::OK : ToGrpc(p.status());
  }

  // Pending facts of pod `key`: its workload, position and who is ahead of it.
  static void FillWaiting(const ClusterStatus& st, const std::string& key, pb::Explanation* out) {
    const PendingWorkload* mine = nullptr;
    for (const PendingWorkload& w : st.pending->workloads) {
      if (std::find(w.pod_keys.begin(), w.pod_keys.end(), key) != w.pod_keys.end()) mine = &w;
      if (mine) break;
    }
    if (mine == nullptr) return;
    out->set_pending(true);
    FillPending(*mine, KeyAt(*st.pending, mine), out->mutable_workload());
    std::vector<const PendingWorkload*> ahead;
    int64_t in_queue = 0;
    for (const PendingWorkload& w : st.pending->workloads) {
      if (w.queue != mine->queue || mine->queue.empty()) continue;
      ++in_queue;
      if (w.position > 0 && w.position < mine->position) ahead.push_back(&w);
    }
    std::sort(ahead.begin(), ahead.end(), [](auto* a, auto* b) { return a->position < b->position; });
    out->set_queue_pending(in_queue);
    for (size_t i = 0; i < ahead.size() && i < kAheadListed; ++i) {
      out->add_ahead(KeyAt(*st.pending, ahead[i]));
    }
  }

  // Validates, authorizes, diffs and (unless a dry run) applies `text`; audits the outcome of a real write.
  grpc::Status Write(const Principal& who, const std::string& text, int64_t expected, const std::string& comment,
                     bool dry_run, int64_t rollback_of, pb::ApplyConfigResponse* out) {
    const std::string action = rollback_of > 0 ? "config.rollback" : "config.apply";
    std::vector<ConfigError> errors;
    absl::StatusOr<QueueConfig> proposed = ParseQueueConfig(text, "document", &errors);
    absl::StatusOr<Revision> active = backend_->AdminStore()->Active();
    if (!active.ok() && !absl::IsNotFound(active.status())) return ToGrpc(active.status());
    const std::string active_text = active.ok() ? active->document() : "";
    const int64_t active_rev = active.ok() ? active->revision() : 0;
    out->set_revision(active_rev);
    out->set_diff(UnifiedDiff(active_text, text, StrCat("revision ", active_rev), "proposed"));
    if (!proposed.ok()) {
      AddErrors(errors, out->mutable_errors());
      if (!dry_run) Audit(who, action, comment, StrCat("refused: ", errors.size(), " validation errors"));
      return grpc::Status::OK;
    }
    absl::StatusOr<QueueConfig> active_cfg = active.ok() ? ParseQueueConfig(active_text, "active") : DefaultQueueConfig();
    if (!active_cfg.ok()) active_cfg = DefaultQueueConfig();  // an old document that no longer parses: cluster admins only
    if (absl::Status s = AuthorizeChange(who, *active_cfg, active_text, text); !s.ok()) {
      if (!dry_run) Audit(who, action, comment, StrCat("denied: ", s.message()));
      return ToGrpc(s);
    }
    if (expected != active_rev) {
      const std::string msg = StrCat("expected_revision ", expected, " is not the active revision ", active_rev,
                                     ": the document changed since; diff against revision ", active_rev, " and apply again");
      if (!dry_run) Audit(who, action, comment, StrCat("conflict: ", msg));
      return grpc::Status(grpc::StatusCode::ABORTED, msg);
    }
    if (dry_run) return grpc::Status::OK;
    absl::StatusOr<AdminApplied> applied =
        backend_->ApplyAdmin(AdminWrite{text, *std::move(proposed), expected, who.user, comment, rollback_of});
    if (!applied.ok()) {
      // The backend audits what it applied; a refusal here (conflict, loop stopped) is audited here.
      Audit(who, action, comment, StrCat("refused: ", applied.status().message()));
      return ToGrpc(applied.status());
    }
    out->set_applied(true);
    out->set_revision(applied->revision);
    for (const std::string& n : applied->notes) out->add_notes(n);
    return grpc::Status::OK;
  }

  void Audit(const Principal& who, const std::string& action, const std::string& reason, const std::string& result) {
    spdlog::info("audit: actor=\"{}\" action={} target=config reason=\"{}\" result=\"{}\"", who.user, action,
                 CutForMessage(reason), CutForMessage(result));
    AuditRecord a;
    a.set_unix_ms(absl::ToUnixMillis(absl::Now()));
    a.set_actor(who.user);
    a.set_action(action);
    a.set_target("config");
    a.set_reason(reason);
    a.set_result(result);
    (void)backend_->AdminStore()->AppendAudit(std::move(a));
  }

  AdminBackend* backend_;
  const AdminOptions* options_;
};

AdminServer::AdminServer(AdminBackend* backend, AdminOptions options)
    : options_(std::move(options)), service_(std::make_unique<Service>(backend, &options_)) {}

AdminServer::~AdminServer() { Stop(); }

absl::StatusOr<int> AdminServer::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  const std::string address = StrCat(options_.host, ":", options_.port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service_.get());
  // Room for a whole document (queues/config.h's limit) and the request around it,
  // so an oversized document is refused by our check, naming the field.
  builder.SetMaxReceiveMessageSize(static_cast<int>(kMaxDocumentBytes) + (1 << 20));
  builder.SetMaxSendMessageSize(static_cast<int>(kMaxDocumentBytes) + (1 << 20));
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    server_.reset();
    return absl::UnavailableError(StrCat("--admin-port: cannot listen on ", address, " (in use?)"));
  }
  server_->GetHealthCheckService()->SetServingStatus(true);
  return port;
}

void AdminServer::Stop() {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
  server_.reset();
}

}  // namespace drover
