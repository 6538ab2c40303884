// What the admin API needs from the daemon (server/Process implements it), and
// the write it hands over: separate from the gRPC server so that the web page's
// JSON endpoints (page_routes.h) read through the same interface.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "queues/config.h"
#include "server/status.h"
#include "store/store.h"

namespace drover {

// A validated document an admin wants in force.
struct AdminWrite {
  std::string text;
  QueueConfig config;
  int64_t expected_revision = 0;  // compare-and-set
  std::string author;             // the principal
  std::string comment;
  int64_t rolled_back_from = 0;   // a rollback: the revision whose document this is
};

struct AdminApplied {
  int64_t revision = 0;
  std::vector<std::string> notes;  // the engine's (queues left above their max)
};

// What the admin API needs from the daemon (server/Process implements it).
class AdminBackend {
 public:
  virtual ~AdminBackend() = default;
  // The latest published status; never null.
  virtual std::shared_ptr<const ClusterStatus> CurrentStatus() const = 0;
  // The store; never null once the daemon runs.
  virtual Store* AdminStore() const = 0;
  // Applies `write` on the loop thread and records it as the next revision,
  // if the active revision is still write.expected_revision. Aborted naming the
  // expected and the actual revision when it is not; Unavailable or
  // DeadlineExceeded when the loop did not take it. Serialized with other writes.
  virtual absl::StatusOr<AdminApplied> ApplyAdmin(AdminWrite write) = 0;
  // Whether this replica takes writes now: OK, or the status a write gets
  // (FailedPrecondition naming the leader on a standby). Checked before any work.
  virtual absl::Status AcceptsWrites() const { return absl::OkStatus(); }
  // The store's time at loop time 0: a record's unix_ms is this plus the loop
  // clock (the simulator's clock is virtual and starts at 0; a cluster's is real).
  virtual int64_t StoreTimeBaseMs() const { return 0; }
};

}  // namespace drover
