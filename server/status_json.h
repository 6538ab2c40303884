// The published status as JSON, served at GET /api/v1/status on droverd's HTTP
// port (a read-only view for scripts and tests until the admin API lands).
// Field names are the C++ names in lowerCamelCase; quantities as in status.h.
#pragma once

#include <string>

#include "server/status.h"

namespace drover {

struct StatusJsonOptions {
  bool nodes = false;        // include the per-node list (large on big clusters)
  size_t pending_limit = 100;  // pending workloads listed at most (pendingTotal counts them all)
  std::string pending_queue;   // only this queue's subtree ("" = all)
};

std::string FormatStatusJson(const ClusterStatus& status, const StatusJsonOptions& options);

}  // namespace drover
