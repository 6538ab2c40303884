#include "server/config_history.h"

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
  return Append(text, author, source, now_unix_ms);
}

int64_t ConfigHistory::RecordApplied(const std::string& text, const std::string& author,
                                     store::v1::RevisionSource source, int64_t now_unix_ms) {
  MutexLock lock(&mu_);
  return Append(text, author, source, now_unix_ms);
}

int64_t ConfigHistory::RecordAdmin(const std::string& text, const std::string& author, const std::string& comment,
                                   int64_t rolled_back_from, int64_t now_unix_ms) {
  MutexLock lock(&mu_);
  return Append(text, author,
                rolled_back_from > 0 ? store::v1::REVISION_SOURCE_ROLLBACK : store::v1::REVISION_SOURCE_ADMIN_API,
                now_unix_ms, comment, rolled_back_from);
}

int64_t ConfigHistory::Append(const std::string& text, const std::string& author, store::v1::RevisionSource source,
                              int64_t now_unix_ms, const std::string& comment, int64_t rolled_back_from) {
  const std::string hash = Sha256Hex(text);
  if (store_ == nullptr) return ++active_;
  Revision r;
  r.set_author(author);
  r.set_source(source);
  r.set_document(text);
  r.set_applied_unix_ms(now_unix_ms);
  r.set_comment(comment);
  r.set_rolled_back_from(rolled_back_from);
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
  const bool rollback = source == store::v1::REVISION_SOURCE_ROLLBACK;
  Audit(author, rollback ? "config.rollback" : "config.apply",
        StrCat(rollback ? StrCat("to revision ", rolled_back_from, ", ") : "", "sha256 ", hash.substr(0, 12),
               comment.empty() ? "" : StrCat(": ", comment)),
        stored.ok() ? StrCat("revision ", active_) : StrCat("revision ", active_, " not stored: ", stored.status().message()),
        now_unix_ms);
  return active_;
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
