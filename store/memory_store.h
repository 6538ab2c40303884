// MemoryStore: the Store contract in memory (sorted maps per column family).
// For tests, and for droverd in a cluster without --state-dir: nothing
// survives the process.
//
//   MemoryStore store;               // or MemoryStore(StoreOptions{...})
//   store.Apply(0, revision);
#pragma once

#include "store/record_store.h"

namespace drover {

class MemoryStore : public RecordStore {
 public:
  explicit MemoryStore(StoreOptions options = {});
};

}  // namespace drover
