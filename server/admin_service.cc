// The admin API's handlers: authentication, request checks, and the mapping of
// published status and store records to drover.admin.v1 messages.
#include "server/admin_service.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <semaphore>
#include <thread>

#include "core/status_macros.h"
#include "core/strings.h"
#include "drover/admin/v1/admin.grpc.pb.h"
#include "server/admin_reads.h"
#include "server/text_diff.h"
#include "spdlog/spdlog.h"

namespace drover {
namespace {

namespace pb = ::drover::admin::v1;

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

void AddErrors(const std::vector<ConfigError>& errors, google::protobuf::RepeatedPtrField<pb::ValidationError>* out) {
  for (const ConfigError& e : errors) {
    pb::ValidationError* v = out->Add();
    v->set_path(e.path);
    v->set_message(e.message);
    v->set_line(e.line);
    v->set_column(e.column);
  }
}

// Lowers the calling thread's CPU priority to nice 19, once per thread: gRPC's
// threads then serve the API behind the scheduling loop. At nice 19 a thread
// weighs 15 against the loop's 1024 in Linux's scheduler, so a burst of calls
// takes at most a few percent of the loop's core on a small machine, yet reads
// still progress when the loop never idles (SCHED_IDLE could starve them for as
// long as the loop is busy). bench/README.md, admin_bench, has the figures.
void YieldToTheLoop() {
  thread_local bool lowered = false;
  if (lowered) return;
  lowered = true;
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
}

}  // namespace

class AdminServer::Service final : public pb::Admin::Service {
 public:
  Service(AdminBackend* backend, const AdminOptions* options)
      : backend_(backend), options_(options), reads_(backend), limits_(options->rate) {}

  grpc::Status ListQueues(grpc::ServerContext* ctx, const pb::ListQueuesRequest*, pb::ListQueuesResponse* out) override {
    return Read(ctx, [&] { return absl::StatusOr<pb::ListQueuesResponse>(reads_.ListQueues()); }, out);
  }

  grpc::Status GetQueue(grpc::ServerContext* ctx, const pb::GetQueueRequest* req, pb::Queue* out) override {
    return Read(ctx, [&] { return reads_.GetQueue(*req); }, out);
  }

  grpc::Status GetConfig(grpc::ServerContext* ctx, const pb::GetConfigRequest*, pb::ConfigRevision* out) override {
    return Read(ctx, [&] { return reads_.GetConfig(); }, out);
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
    if (absl::Status s = backend_->AcceptsWrites(); !s.ok() && !req->dry_run()) return ToGrpc(s);
    if (grpc::Status s = CheckDocument(req->document()); !s.ok()) return s;
    if (req->expected_revision() < 0) return Invalid("expected_revision", StrCat(req->expected_revision(), " is negative"));
    if (req->comment().size() > 4096) return Invalid("comment", StrCat(req->comment().size(), " bytes; the limit is 4096"));
    if (int64_t at = FirstBadUtf8(req->comment()); at >= 0) return Invalid("comment", StrCat("not valid UTF-8 at byte ", at));
    return Write(*who, req->document(), req->expected_revision(), req->comment(), req->dry_run(), 0, out);
  }

  grpc::Status Rollback(grpc::ServerContext* ctx, const pb::RollbackRequest* req, pb::ApplyConfigResponse* out) override {
    absl::StatusOr<Principal> who = Authenticate(ctx);
    if (!who.ok()) return ToGrpc(who.status());
    if (absl::Status s = backend_->AcceptsWrites(); !s.ok() && !req->dry_run()) return ToGrpc(s);
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
    return Read(ctx, [&] { return reads_.ListRevisions(*req); }, out);
  }

  grpc::Status ListPending(grpc::ServerContext* ctx, const pb::ListPendingRequest* req, pb::ListPendingResponse* out) override {
    return Read(ctx, [&] { return reads_.ListPending(*req); }, out);
  }

  grpc::Status ListRunning(grpc::ServerContext* ctx, const pb::ListRunningRequest* req, pb::ListRunningResponse* out) override {
    return Read(ctx, [&] { return reads_.ListRunning(*req); }, out);
  }

  grpc::Status Explain(grpc::ServerContext* ctx, const pb::ExplainRequest* req, pb::Explanation* out) override {
    return Read(ctx, [&] { return reads_.Explain(*req); }, out);
  }

  grpc::Status GetInventory(grpc::ServerContext* ctx, const pb::GetInventoryRequest* req, pb::Inventory* out) override {
    return Read(ctx, [&] { return absl::StatusOr<pb::Inventory>(reads_.GetInventory(*req)); }, out);
  }

  grpc::Status QueryUsage(grpc::ServerContext* ctx, const pb::QueryUsageRequest* req, pb::QueryUsageResponse* out) override {
    return Read(ctx, [&] { return reads_.QueryUsage(*req); }, out);
  }

  grpc::Status ListAudit(grpc::ServerContext* ctx, const pb::ListAuditRequest* req, pb::ListAuditResponse* out) override {
    return Read(ctx, [&] { return reads_.ListAudit(*req); }, out);
  }

 private:
  // The caller: a verified client certificate's CN and O, else "authorization:
  // Bearer TOKEN". Unauthenticated without either (or with a token no one holds);
  // ResourceExhausted when the caller is over its rate limit.
  absl::StatusOr<Principal> Authenticate(grpc::ServerContext* ctx) {
    YieldToTheLoop();
    absl::StatusOr<Principal> who = Identify(ctx);
    if (!who.ok()) return who;
    RETURN_IF_ERROR(limits_.Admit(who->user));
    return who;
  }

  // A verified client certificate first (as kube-apiserver's x509 authenticator), then the bearer token.
  absl::StatusOr<Principal> Identify(grpc::ServerContext* ctx) const {
    if (!options_->tls.client_ca.empty()) {
      if (std::optional<Principal> p = PrincipalFromPeer(*ctx->auth_context())) return *p;
    }
    const auto& md = ctx->client_metadata();
    auto it = md.find("authorization");
    std::optional<std::string_view> value;
    if (it != md.end()) value = std::string_view(it->second.data(), it->second.size());
    return AuthenticateBearer(value, options_->authn.get(), options_->anonymous_read);
  }

  // An authenticated read: `answer()` (absl::StatusOr<Message>), computed only once
  // the caller may read and is within its rate limit.
  template <typename Message, typename Answer>
  grpc::Status Read(grpc::ServerContext* ctx, Answer answer, Message* out) {
    if (grpc::Status s = Reader(ctx); !s.ok()) return s;
    // A free read slot, waited for until shortly before the call's deadline (a tenth
    // of the time left, at most 1 s, so the caller gets the reason rather than
    // DEADLINE_EXCEEDED), and at most kReadWait.
    const auto now = std::chrono::system_clock::now();
    const auto margin = std::min<std::chrono::system_clock::duration>(std::chrono::seconds(1),
                                                                      std::max(ctx->deadline() - now, {}) / 10);
    const auto until = std::min(ctx->deadline() - margin, now + kReadWait);
    if (!read_slots_.try_acquire_until(until)) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          StrCat("admin reads are busy: ", read_slot_count_, " compute at once and none came free before ",
                                 "the call's deadline (or 30 s); try again"));
    }
    struct Release {
      std::counting_semaphore<kMaxReadSlots>* slots;
      ~Release() { slots->release(); }
    } release{&read_slots_};
    absl::StatusOr<Message> result = answer();
    if (!result.ok()) return ToGrpc(result.status());
    *out = *std::move(result);
    return grpc::Status::OK;
  }

  // Any authenticated principal (or anyone, with anonymous reads) may read.
  grpc::Status Reader(grpc::ServerContext* ctx) {
    absl::StatusOr<Principal> p = Authenticate(ctx);
    return p.ok() ? grpc::Status::OK : ToGrpc(p.status());
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
  AdminReads reads_;
  PrincipalRateLimits limits_;
  // Reads are CPU work on the published status: more at once than half the
  // cores adds no throughput and takes the scheduling loop's core (a flood of
  // 50 clients raised the cycle p99 by 35-186% on 2 cores; bench/admin_bench).
  // The rest wait, blocked, for a slot.
  static constexpr std::ptrdiff_t kMaxReadSlots = 64;
  static constexpr std::chrono::seconds kReadWait{30};
  const std::ptrdiff_t read_slot_count_ = std::clamp<std::ptrdiff_t>(
      options_->read_slots > 0 ? options_->read_slots : std::thread::hardware_concurrency() / 2, 1, kMaxReadSlots);
  std::counting_semaphore<kMaxReadSlots> read_slots_{read_slot_count_};
};

AdminServer::AdminServer(AdminBackend* backend, AdminOptions options)
    : options_(std::move(options)), service_(std::make_unique<Service>(backend, &options_)) {}

AdminServer::~AdminServer() { Stop(); }

absl::StatusOr<int> AdminServer::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds = AdminServerCredentials(options_.tls);
  if (!creds.ok()) return creds.status();
  grpc::ServerBuilder builder;
  int port = 0;
  const std::string address = StrCat(options_.host, ":", options_.port);
  builder.AddListeningPort(address, *creds, &port);
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
