// The published status as JSON, served at GET /api/v1/status on droverd's HTTP
// port (a read-only view for scripts and tests until the admin API lands).
// Field names are the C++ names in lowerCamelCase; quantities as in status.h.
#pragma once

#include <string>

#include "server/status.h"

namespace drover {

// `with_nodes`: include the per-node list (large on big clusters).
std::string FormatStatusJson(const ClusterStatus& status, bool with_nodes);

}  // namespace drover
