// The quota documents droverd applies, recorded in the store: each one a
// revision (author, source, sha256, the text) and an audit record; refused
// documents an audit record only. Revision numbers come from the store, so
// they continue across restarts; a document equal to the active revision at
// start is not a new revision.
//
//   ConfigHistory history(store, &health);
//   int64_t rev = history.RecordInitial(text, "file:/etc/drover/queues.yaml", REVISION_SOURCE_FILE, now_ms);
//   rev = history.RecordApplied(text2, ..., now_ms);
//
// When the store fails the apply still happens (the engine has it): numbering
// goes on from the last known revision, and StoreHealth says the store is degraded.
//
// In a cluster (SetMirror) the API server's mirror is the authority: a
// revision is created there first (revision_mirror.h), then stored (synced);
// if either fails it is not recorded (a mirrored copy whose local write failed
// is deleted again) and the caller is told. Only a leader that has imported the
// mirror (TakeOver) records; before that the Record* calls record nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "core/sync.h"
#include "server/revision_mirror.h"
#include "server/store_health.h"
#include "store/store.h"

namespace drover {

// The document a live source (file or ConfigMap) last put in force.
struct SourceDocument {
  std::string text;
  std::string author;  // "file:PATH", "configmap:NS/NAME"
  store::v1::RevisionSource kind = store::v1::REVISION_SOURCE_UNSPECIFIED;
};

class ConfigHistory {
 public:
  // `store` may be null: revisions are then numbered in this process only.
  ConfigHistory(Store* store, StoreHealth* health) : store_(store), health_(health) {}

  // Cluster mode: revisions are mirrored by `mirror` (not owned; it outlives
  // this) before they are stored, and recorded only between TakeOver and
  // StepDown. Call before any thread records.
  void SetMirror(RevisionMirror* mirror);

  // The document in force at start: the active revision's number when it is
  // the same text, else a new revision's (with a mirror: else 0, recorded at
  // TakeOver). Thread-safe.
  int64_t RecordInitial(const std::string& text, const std::string& author, store::v1::RevisionSource source,
                        int64_t now_unix_ms);
  // A document the engine has applied: a new revision. With a mirror:
  // FailedPrecondition while this replica does not lead (nothing recorded), or
  // the mirror's or the store's error (nothing recorded). Thread-safe.
  absl::StatusOr<int64_t> RecordApplied(const std::string& text, const std::string& author,
                                        store::v1::RevisionSource source, int64_t now_unix_ms);
  // A document an admin applied through the admin API: a new revision (source
  // ADMIN_API, or ROLLBACK with `rolled_back_from`), author `author`, with
  // `comment`, and an audit record. Errors as RecordApplied. Thread-safe.
  absl::StatusOr<int64_t> RecordAdmin(const std::string& text, const std::string& author, const std::string& comment,
                                      int64_t rolled_back_from, int64_t now_unix_ms);
  // A document that was refused (invalid, or the loop did not take it).
  void RecordRefused(const std::string& text, const std::string& author, const std::string& errors,
                     int64_t now_unix_ms);
  int64_t active() const;

  // This replica now leads (mirror set): imports every mirrored revision it
  // lacks (an audit record for each, so the change history survives failover),
  // mirrors its own active revision when the mirror is empty, and records
  // `source`'s document as a new revision when it changed since the newest
  // revision of that source (the source applies again only when its own text
  // changes). Returns the revision that must now be in force. From then on
  // Record* record. Unavailable (nothing changed) when the mirror cannot be read.
  absl::StatusOr<Revision> TakeOver(const SourceDocument& source, int64_t now_unix_ms);
  // This replica no longer leads: Record* record nothing until the next TakeOver.
  void StepDown();
  // Between TakeOver and StepDown (always true without a mirror).
  bool leading() const;

 private:
  absl::StatusOr<int64_t> Append(const std::string& text, const std::string& author, store::v1::RevisionSource source,
                                 int64_t now_unix_ms, const std::string& comment = "", int64_t rolled_back_from = 0)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Append with a mirror: mirrored, then stored; both or neither.
  absl::StatusOr<Revision> AppendMirrored(Revision r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The newest stored revision whose author is `author` (looks at most 1,000 back).
  std::optional<Revision> NewestBy(const std::string& author) const;
  void Audit(const std::string& author, const std::string& action, const std::string& reason,
             const std::string& result, int64_t now_unix_ms);

  Store* store_;
  StoreHealth* health_;
  RevisionMirror* mirror_ = nullptr;
  mutable Mutex mu_;
  int64_t active_ ABSL_GUARDED_BY(mu_) = 0;
  bool leading_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace drover
