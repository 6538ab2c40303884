// The engine's record of one pod of ours: what it is charged to its queues, and
// whether it waits. Read by the Preemptor (victims) and Reservations (how long a
// node's pods have run); written by the Engine only.
#pragma once

#include <cstdint>
#include <string>

#include "core/cluster.h"
#include "queues/queue_tree.h"

namespace drover {

struct TrackedPod {
  bool charged = false;     // its charge is on its leaf and ancestors (bound or assumed)
  QueueId leaf = kNoQueue;
  int tier = 1;
  Charge charge;
  uint64_t workload = 0;    // pending workload id, 0 if none
  int64_t started_ms = 0;   // when it was charged (bound or assumed)
  bool evicting = false;    // eviction decided, not yet gone
  std::string gang;         // "ns/gang" while charged
  QueueId pending_leaf = kNoQueue;  // counted in the tree's pending_pods
  std::string app;          // AppCounter key while charged
  std::string pending_app;  // AppCounter key while counted pending
};

}  // namespace drover
