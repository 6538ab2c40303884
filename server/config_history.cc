#include "server/config_history.h"

#include <algorithm>

#include "core/strings.h"
#include "spdlog/spdlog.h"

namespace drover {

int64_t ConfigHistory::RecordInitial(const std::string& text, const std::string& author,
                                     store::v1::RevisionSource source, int64_t now_unix_ms) {
  MutexLock lock(&mu_);
  if (store_ != nullptr) {
    absl::StatusOr<Revision> active = store_->Active();
    if (active.ok()) {
      active_ = active->revision();
      if (active->sha256() == Sha256Hex(text)) {
        spdlog::info("configuration: the document is revision {} of the store ({} by {})", active_,
                     store::v1::RevisionSource_Name(active->source()), active->author());
        return active_;
      }
    } else if (active.status().code() != absl::StatusCode::kNotFound) {
      health_->Note(active.status(), "configuration revisions");
    }
  }
  if (mirror_ != nullptr) return 0;  // recorded when this replica leads (TakeOver)
  absl::StatusOr<int64_t> r = Append(text, author, source, now_unix_ms);
  return r.ok() ? *r : active_;
}

absl::StatusOr<int64_t> ConfigHistory::RecordApplied(const std::string& text, const std::string& author,
                                     store::v1::RevisionSource source, int64_t now_unix_ms) {
  MutexLock lock(&mu_);
  return Append(text, author, source, now_unix_ms);
}

absl::StatusOr<int64_t> ConfigHistory::RecordAdmin(const std::string& text, const std::string& author, const std::string& comment,
                                   int64_t rolled_back_from, int64_t now_unix_ms) {
  MutexLock lock(&mu_);
  return Append(text, author,
                rolled_back_from > 0 ? store::v1::REVISION_SOURCE_ROLLBACK : store::v1::REVISION_SOURCE_ADMIN_API,
                now_unix_ms, comment, rolled_back_from);
}

absl::StatusOr<int64_t> ConfigHistory::Append(const std::string& text, const std::string& author,
                                              store::v1::RevisionSource source, int64_t now_unix_ms,
                                              const std::string& comment, int64_t rolled_back_from) {
  const std::string hash = Sha256Hex(text);
  if (store_ == nullptr) return ++active_;
  Revision r;
  r.set_author(author);
  r.set_source(source);
  r.set_document(text);
  r.set_applied_unix_ms(now_unix_ms);
  r.set_comment(comment);
  r.set_rolled_back_from(rolled_back_from);
  const bool rollback = source == store::v1::REVISION_SOURCE_ROLLBACK;
  const std::string action = rollback ? "config.rollback" : "config.apply";
  const std::string reason = StrCat(rollback ? StrCat("to revision ", rolled_back_from, ", ") : "", "sha256 ",
                                    hash.substr(0, 12), comment.empty() ? "" : StrCat(": ", comment));
  if (mirror_ != nullptr) {
    if (!leading_) {
      return absl::FailedPreconditionError("this replica does not lead (or has not imported the mirror yet): the "
                                           "leader records revisions");
    }
    absl::StatusOr<Revision> recorded = AppendMirrored(std::move(r));
    Audit(author, action, reason,
          recorded.ok() ? StrCat("revision ", recorded->revision(), " (mirrored)")
                        : StrCat("not recorded: ", recorded.status().message()),
          now_unix_ms);
    if (!recorded.ok()) return recorded.status();
    return recorded->revision();
  }
  absl::StatusOr<Revision> stored = absl::UnknownError("not written");
  (void)health_->Write("configuration revision", [&] {
    stored = store_->Apply(active_, r);
    if (stored.status().code() == absl::StatusCode::kAborted) {
      // Another writer moved the active revision (a later admin API): the document
      // the engine now runs is still the newest, so apply it on top.
      if (absl::StatusOr<Revision> now = store_->Active(); now.ok()) stored = store_->Apply(now->revision(), r);
    }
    return stored.status();
  });
  active_ = stored.ok() ? stored->revision() : active_ + 1;
  Audit(author, action, reason,
        stored.ok() ? StrCat("revision ", active_) : StrCat("revision ", active_, " not stored: ", stored.status().message()),
        now_unix_ms);
  return active_;
}

absl::StatusOr<Revision> ConfigHistory::AppendMirrored(Revision r) {
  r.set_schema_version(kSchemaVersion);
  r.set_revision(active_ + 1);
  r.set_sha256(Sha256Hex(r.document()));
  if (absl::Status s = mirror_->Create(r); !s.ok()) {
    // Another replica wrote this number: our view is stale; import again before recording.
    if (absl::IsAborted(s)) leading_ = false;
    return s;
  }
  absl::StatusOr<Revision> stored = absl::UnknownError("not written");
  (void)health_->Write("configuration revision", [&] {
    stored = store_->Apply(active_, r);
    return stored.status();
  });
  if (stored.ok() && stored->revision() != r.revision()) {
    // The store numbered it otherwise (a revision this history did not know of): import again.
    leading_ = false;
    stored = absl::InternalError(StrCat("the store numbered revision ", r.revision(), " as ", stored->revision()));
  }
  if (!stored.ok()) {
    // Both or neither: take the mirrored copy back, so no replica imports a revision never acknowledged.
    absl::Status undone = mirror_->Delete(r.revision());
    return absl::UnavailableError(StrCat(
        "revision ", r.revision(), " was mirrored but not stored locally (", stored.status().message(), "); ",
        undone.ok() ? "the mirrored copy was deleted"
                    : StrCat("deleting the mirrored copy failed too (", undone.message(),
                             "): a replica that leads next will import it")));
  }
  active_ = r.revision();
  return *std::move(stored);
}

void ConfigHistory::SetMirror(RevisionMirror* mirror) {
  MutexLock lock(&mu_);
  mirror_ = mirror;
  leading_ = false;
}

bool ConfigHistory::leading() const {
  MutexLock lock(&mu_);
  return mirror_ == nullptr || leading_;
}

void ConfigHistory::StepDown() {
  MutexLock lock(&mu_);
  if (leading_) spdlog::info("configuration: no longer leading; revisions are recorded by the leader");
  leading_ = false;
}

std::optional<Revision> ConfigHistory::NewestBy(const std::string& author) const {
  int64_t before = 0;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<RevisionPage> p = store_->ListRevisions(before, 100);
    if (!p.ok()) return std::nullopt;
    for (Revision& r : p->revisions) {
      if (r.author() == author) return std::move(r);
    }
    if (p->next_before == 0) break;
    before = p->next_before;
  }
  return std::nullopt;
}

absl::StatusOr<Revision> ConfigHistory::TakeOver(const SourceDocument& source, int64_t now_unix_ms) {
  MutexLock lock(&mu_);
  if (mirror_ == nullptr || store_ == nullptr) return absl::FailedPreconditionError("TakeOver: no mirror");
  absl::StatusOr<std::vector<Revision>> mirrored = mirror_->List();
  if (!mirrored.ok()) return mirrored.status();
  const bool mirror_empty = mirrored->empty();
  std::vector<Revision> records = *mirrored;  // the audit trail of what is imported
  absl::StatusOr<std::vector<int64_t>> written = store_->ImportRevisions(*std::move(mirrored));
  if (!written.ok()) {
    health_->Note(written.status(), "configuration revisions");
    return absl::UnavailableError(StrCat("importing the mirrored revisions: ", written.status().message()));
  }
  for (int64_t n : *written) {
    const Revision& r = *std::find_if(records.begin(), records.end(), [n](const Revision& x) { return x.revision() == n; });
    const bool rollback = r.source() == store::v1::REVISION_SOURCE_ROLLBACK;
    Audit(r.author(), rollback ? "config.rollback" : "config.apply",
          StrCat(rollback ? StrCat("to revision ", r.rolled_back_from(), ", ") : "", "sha256 ", r.sha256().substr(0, 12),
                 r.comment().empty() ? "" : StrCat(": ", r.comment())),
          StrCat("revision ", n, " (imported from ", mirror_->Where(), ")"), r.applied_unix_ms());
  }
  absl::StatusOr<Revision> active = store_->Active();
  active_ = active.ok() ? active->revision() : 0;
  if (mirror_empty && active.ok()) {
    // Revisions kept from before mirroring: the active one goes to the API server first.
    if (absl::Status s = mirror_->Create(*active); !s.ok()) return s;
  }
  if (!written->empty()) {
    spdlog::info("configuration: imported {} revisions from {}; revision {} is active", written->size(),
                 mirror_->Where(), active_);
  }
  leading_ = true;
  std::optional<Revision> last_of_source = source.text.empty() ? std::nullopt : NewestBy(source.author);
  if (!source.text.empty() && (!last_of_source || last_of_source->sha256() != Sha256Hex(source.text))) {
    // The source changed since it was last recorded (or never was): it wins, as a new revision.
    absl::StatusOr<int64_t> n = Append(source.text, source.author, source.kind, now_unix_ms);
    if (!n.ok()) {
      leading_ = false;
      return n.status();
    }
  }
  return store_->Active();
}

void ConfigHistory::RecordRefused(const std::string& text, const std::string& author, const std::string& errors,
                                  int64_t now_unix_ms) {
  Audit(author, "config.refuse", StrCat("sha256 ", Sha256Hex(text).substr(0, 12)), StrCat("refused: ", errors),
        now_unix_ms);
}

void ConfigHistory::Audit(const std::string& author, const std::string& action, const std::string& reason,
                          const std::string& result, int64_t now_unix_ms) {
  // The structured line ships the record off the pod (the log pipeline) whether or not the store takes it.
  spdlog::info("audit: actor=\"{}\" action={} target=config reason=\"{}\" result=\"{}\"", author, action, reason,
               CutForMessage(result));
  if (store_ == nullptr) return;
  AuditRecord a;
  a.set_unix_ms(now_unix_ms);
  a.set_actor(author);
  a.set_action(action);
  a.set_target("config");
  a.set_reason(reason);
  a.set_result(result);
  (void)health_->Write("audit", [&] { return store_->AppendAudit(std::move(a)).status(); });
}

int64_t ConfigHistory::active() const {
  MutexLock lock(&mu_);
  return active_;
}

}  // namespace drover
