// RocksStore: the Store contract in a RocksDB directory (Debian's
// librocksdb-dev 7.8), one column family per record kind (store/README.md).
// Revisions and audit records are written with WriteOptions::sync (durable on
// return); a revision and the active-revision pointer go in one WriteBatch.
// Usage, timelines and timers are not synced: they are derivable from the
// cluster, and a crash loses at most the last seconds of them.
//
//   absl::StatusOr<std::unique_ptr<RocksStore>> s = RocksStore::Open("build/state", {});
//   if (!s.ok()) { log s.status(): it names the path and the cause; run without a store }
#pragma once

#include <memory>
#include <string>

#include "store/record_store.h"

namespace drover {

class RocksStore : public RecordStore {
 public:
  // Opens (creating when missing) the database in `dir` and loads its indexes.
  // Errors name `dir` and the cause: Unavailable when another process holds
  // the database's lock; PermissionDenied for a directory it may not write;
  // ResourceExhausted for a full disk; FailedPrecondition when `dir` is not a
  // directory; DataLoss when RocksDB finds its own files corrupt.
  static absl::StatusOr<std::unique_ptr<RocksStore>> Open(const std::string& dir, StoreOptions options = {});

 private:
  RocksStore(std::unique_ptr<Kv> kv, StoreOptions options) : RecordStore(std::move(kv), options) {}
};

// Maps a RocksDB error text (its Status::ToString) for `what` on `dir` to a
// Status with a code that says the cause. Exposed for tests.
absl::Status RocksError(std::string_view rocks_message, std::string_view dir, std::string_view what);

}  // namespace drover
