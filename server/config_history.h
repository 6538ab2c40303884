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
#pragma once

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "core/sync.h"
#include "server/store_health.h"
#include "store/store.h"

namespace drover {

class ConfigHistory {
 public:
  // `store` may be null: revisions are then numbered in this process only.
  ConfigHistory(Store* store, StoreHealth* health) : store_(store), health_(health) {}

  // The document in force at start: the active revision's number when it is
  // the same text, else a new revision's. Thread-safe.
  int64_t RecordInitial(const std::string& text, const std::string& author, store::v1::RevisionSource source,
                        int64_t now_unix_ms);
  // A document the engine has applied: a new revision. Thread-safe.
  int64_t RecordApplied(const std::string& text, const std::string& author, store::v1::RevisionSource source,
                        int64_t now_unix_ms);
  // A document an admin applied through the admin API: a new revision (source
  // ADMIN_API, or ROLLBACK with `rolled_back_from`), author `author`, with
  // `comment`, and an audit record. Thread-safe.
  int64_t RecordAdmin(const std::string& text, const std::string& author, const std::string& comment,
                      int64_t rolled_back_from, int64_t now_unix_ms);
  // A document that was refused (invalid, or the loop did not take it).
  void RecordRefused(const std::string& text, const std::string& author, const std::string& errors,
                     int64_t now_unix_ms);
  int64_t active() const;

 private:
  int64_t Append(const std::string& text, const std::string& author, store::v1::RevisionSource source,
                 int64_t now_unix_ms, const std::string& comment = "", int64_t rolled_back_from = 0)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Audit(const std::string& author, const std::string& action, const std::string& reason,
             const std::string& result, int64_t now_unix_ms);

  Store* store_;
  StoreHealth* health_;
  mutable Mutex mu_;
  int64_t active_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace drover
