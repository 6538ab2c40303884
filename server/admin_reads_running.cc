// The admin API's running list (AdminReads::ListRunning): request checks and the
// mapping of the published status's running section to drover.admin.v1.
#include <algorithm>

#include "server/admin_reads.h"
#include "server/admin_reads_internal.h"

namespace drover {
namespace {

namespace pb = ::drover::admin::v1;
using admin_reads::Invalid;
using admin_reads::InSubtree;

constexpr int kDefaultRunningPage = 100;

std::string StateOf(const RunningWorkload& w) {
  if (w.evicting > 0) return "Terminating";
  if (w.assumed > 0) return "Binding";
  return "Running";
}

void FillRunning(const RunningWorkload& w, pb::RunningWorkload* out) {
  out->set_workload(w.workload);
  for (const std::string& p : w.pod_keys) out->add_pods(p);
  out->set_queue(w.queue);
  out->set_tier(w.tier);
  out->set_gpu_type(w.gpu_type);
  out->set_gpu_milli(w.gpu_milli);
  for (const std::string& n : w.nodes) out->add_nodes(n);
  out->set_running_since_ms(w.since_ms);
  out->set_state(StateOf(w));
}

// The filter's checks against the status: tier 0..2, a queue and a GPU type that exist.
absl::Status CheckRunningFilter(const pb::ListRunningRequest& req, const ClusterStatus& st) {
  if (req.has_tier() && (req.tier() < 0 || req.tier() > 2)) return Invalid("tier", StrCat(req.tier(), " is not 0, 1 or 2"));
  if (!req.queue().empty() && st.FindQueue(req.queue()) == nullptr) {
    return Invalid("queue", StrCat("\"", CutForMessage(req.queue()), "\" is not a queue"));
  }
  if (!req.gpu_type().empty() &&
      std::none_of(st.gpus.begin(), st.gpus.end(), [&](const GpuInventory& g) { return g.type == req.gpu_type(); })) {
    return Invalid("gpu_type", StrCat("\"", CutForMessage(req.gpu_type()), "\" is not a GPU type of this cluster"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<pb::ListRunningResponse> AdminReads::ListRunning(const pb::ListRunningRequest& req) const {
  int size = 0;
  int64_t offset = 0;
  if (absl::Status s = admin_reads::PageSize(req.page_size(), kDefaultRunningPage, &size); !s.ok()) return s;
  if (absl::Status s = admin_reads::PageToken(req.page_token(), &offset); !s.ok()) return s;
  std::shared_ptr<const ClusterStatus> st = backend_->CurrentStatus();
  if (absl::Status s = CheckRunningFilter(req, *st); !s.ok()) return s;
  pb::ListRunningResponse out;
  int64_t matched = 0;
  for (const RunningWorkload& w : st->running->workloads) {
    if (!InSubtree(w.queue, req.queue()) || (req.has_tier() && w.tier != req.tier())) continue;
    if (!req.gpu_type().empty() && w.gpu_type != req.gpu_type()) continue;
    if (matched >= offset && out.workloads_size() < size) FillRunning(w, out.add_workloads());
    ++matched;
  }
  out.set_total(matched);
  out.set_now_ms(st->running->as_of_ms);
  if (offset + out.workloads_size() < matched) out.set_next_page_token(StrCat(offset + out.workloads_size()));
  return out;
}

}  // namespace drover
