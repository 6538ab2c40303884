// The seam for Drover's durable state (queue configuration revisions, application
// records, usage samples, audit log). The RocksDB implementation arrives with its
// own issue; the daemon and the admin API will talk only to this interface.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace drover {

struct QueueRevision {
  int64_t revision = 0;
  int64_t applied_ms = 0;
  std::string author;
  std::string comment;
  std::string yaml;  // the quota-as-code document as applied
};

class Store {
 public:
  virtual ~Store() = default;
  // Appends a revision and makes it active, atomically. Returns its number.
  virtual absl::StatusOr<int64_t> ApplyRevision(QueueRevision revision) = 0;
  virtual absl::StatusOr<QueueRevision> ActiveRevision() const = 0;
  virtual absl::StatusOr<std::vector<QueueRevision>> History(int64_t limit) const = 0;
};

}  // namespace drover
