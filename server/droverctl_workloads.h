// droverctl's verbs on workloads: `get pending`, `get running` and `explain pod`.
#pragma once

#include <string>

#include "server/droverctl_client.h"

namespace drover::ctl {

// `get pending`: pending workloads in queue order (-o wide: whole messages).
// `tier` < 0: any; `limit` 0: the server's default page. Returns an exit code.
int GetPending(Client& c, const std::string& queue, int tier, const std::string& reason, int limit);

// The filter of `get running`.
struct RunningFilter {
  std::string queue;     // a subtree; "" = all
  int tier = -1;         // < 0: any
  std::string gpu_type;  // "" = any
  int limit = 0;         // 0: the server's default page
};
// `get running`: running pods and gangs, queue by queue, with their GPUs, nodes
// and age (-o wide: state, every node, start time). Returns an exit code.
int GetRunning(Client& c, const RunningFilter& filter);

// `explain pod NS/NAME`: why it waits, the nodes by reason, who is ahead, its
// timeline. kUsage when `pod` is not NAMESPACE/NAME.
int ExplainPod(Client& c, const std::string& pod);

}  // namespace drover::ctl
