// droverctl's verbs on workloads (droverctl_workloads.h).
#include "server/droverctl_workloads.h"

#include <cstdio>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace drover::ctl {
namespace {

// How long since `since_ms` at `now_ms` (the scheduler's clock), like kubectl's
// AGE: "45s", "12m", "3h20m", "2d4h".
std::string Age(int64_t now_ms, int64_t since_ms) {
  const int64_t s = std::max<int64_t>(0, (now_ms - since_ms) / 1000);
  if (s < 120) return StrCat(s, "s");
  if (s < 3600) return StrCat(s / 60, "m");
  if (s < 2 * 86400) return s % 3600 / 60 == 0 ? StrCat(s / 3600, "h") : StrCat(s / 3600, "h", s % 3600 / 60, "m");
  return s % 86400 / 3600 == 0 ? StrCat(s / 86400, "d") : StrCat(s / 86400, "d", s % 86400 / 3600, "h");
}

// "8 A100", "0.5 A100", "-" without GPUs.
std::string Gpus(const pb::RunningWorkload& w) {
  if (w.gpu_milli() == 0) return "-";
  return w.gpu_type().empty() ? Milli(w.gpu_milli()) : StrCat(Milli(w.gpu_milli()), " ", w.gpu_type());
}

// The first node, and how many more: "a-1", "a-1 (+3)".
std::string NodesShort(const pb::RunningWorkload& w) {
  if (w.nodes_size() == 0) return "-";
  return w.nodes_size() == 1 ? w.nodes(0) : StrCat(w.nodes(0), " (+", w.nodes_size() - 1, ")");
}

}  // namespace

int GetPending(Client& c, const std::string& queue, int tier, const std::string& reason, int limit) {
  pb::ListPendingRequest req;
  req.set_queue(queue);
  if (tier >= 0) {
    req.set_tier(tier);
    req.set_has_tier(true);
  }
  req.set_reason(reason);
  req.set_page_size(limit);
  pb::ListPendingResponse resp;
  if (int rc = c.Call(&pb::Admin::Stub::ListPending, req, &resp); rc != kOk) return rc;
  if (PrintStructured(c.globals(), resp)) return kOk;
  std::vector<std::vector<std::string>> rows = {{"WORKLOAD", "PODS", "QUEUE", "TIER", "POSITION", "REASON", "MESSAGE"}};
  for (const pb::PendingWorkload& w : resp.workloads()) {
    rows.push_back({w.workload(), StrCat(w.pods_size()), w.queue().empty() ? "-" : w.queue(), StrCat(w.tier()),
                    w.position() > 0 ? StrCat(w.position()) : "-", w.reason(),
                    c.globals().output == "wide" ? w.message() : std::string(drover::CutForMessage(w.message(), 60))});
  }
  PrintTable(rows);
  std::printf("\n%d of %lld pending workloads%s\n", resp.workloads_size(), static_cast<long long>(resp.total()),
              resp.next_page_token().empty() ? "" : " (more: raise --limit)");
  return kOk;
}

int ExplainPod(Client& c, const std::string& pod) {
  const size_t slash = pod.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == pod.size()) {
    std::fprintf(stderr, "droverctl: explain pod: \"%s\" is not NAMESPACE/NAME\n", pod.c_str());
    return kUsage;
  }
  pb::ExplainRequest req;
  req.set_namespace_(pod.substr(0, slash));
  req.set_name(pod.substr(slash + 1));
  pb::Explanation e;
  if (int rc = c.Call(&pb::Admin::Stub::Explain, req, &e); rc != kOk) return rc;
  if (PrintStructured(c.globals(), e)) return kOk;
  if (e.pending()) {
    const pb::PendingWorkload& w = e.workload();
    std::printf("Pod %s is pending: %s\n  %s\n", e.pod().c_str(), w.reason().c_str(),
                w.message().empty() ? "(not tried yet)" : w.message().c_str());
    std::printf("Queue:    %s (tier %d)\nPosition: %lld of %lld pending in the queue\n", w.queue().c_str(), w.tier(),
                static_cast<long long>(w.position()), static_cast<long long>(e.queue_pending()));
    if (e.nodes_by_reason_size() > 0) {
      std::printf("Nodes:    0/%d available\n", e.nodes_total());
      std::vector<std::vector<std::string>> rows = {{"  NODES", "REASON", "DETAIL"}};
      for (const pb::NodeReason& r : e.nodes_by_reason()) rows.push_back({StrCat("  ", r.nodes()), r.reason(), r.message()});
      PrintTable(rows);
    }
    if (e.ahead_size() > 0) std::printf("Ahead:    %s%s\n", absl::StrJoin(e.ahead(), ", ").c_str(), w.position() - 1 > e.ahead_size() ? ", ..." : "");
  } else {
    std::printf("Pod %s is not pending.\n", e.pod().c_str());
  }
  if (e.timeline_size() > 0) {
    std::printf("\nTimeline:\n");
    std::vector<std::vector<std::string>> rows = {{"  TIME (UNIX MS)", "EVENT", "REASON", "NODE", "DETAIL"}};
    for (const pb::TimelineEvent& t : e.timeline()) {
      rows.push_back({StrCat("  ", t.unix_ms()), t.kind(), t.reason().empty() ? "-" : t.reason(),
                      t.node().empty() ? "-" : t.node(), t.by().empty() ? t.message() : StrCat("by ", t.by())});
    }
    PrintTable(rows);
  }
  return kOk;
}

int GetRunning(Client& c, const RunningFilter& f) {
  pb::ListRunningRequest req;
  req.set_queue(f.queue);
  if (f.tier >= 0) {
    req.set_tier(f.tier);
    req.set_has_tier(true);
  }
  req.set_gpu_type(f.gpu_type);
  req.set_page_size(f.limit);
  pb::ListRunningResponse resp;
  if (int rc = c.Call(&pb::Admin::Stub::ListRunning, req, &resp); rc != kOk) return rc;
  if (PrintStructured(c.globals(), resp)) return kOk;
  const bool wide = c.globals().output == "wide";
  std::vector<std::vector<std::string>> rows = {{"WORKLOAD", "PODS", "QUEUE", "TIER", "GPUS", "NODES", "AGE"}};
  if (wide) rows.back().insert(rows.back().end(), {"STATE", "SINCE (MS)"});
  for (const pb::RunningWorkload& w : resp.workloads()) {
    rows.push_back({w.workload(), StrCat(w.pods_size()), w.queue(), StrCat(w.tier()), Gpus(w),
                    wide ? absl::StrJoin(w.nodes(), ",") : NodesShort(w), Age(resp.now_ms(), w.running_since_ms())});
    if (wide) rows.back().insert(rows.back().end(), {w.state(), StrCat(w.running_since_ms())});
  }
  PrintTable(rows);
  std::printf("\n%d of %lld running workloads%s\n", resp.workloads_size(), static_cast<long long>(resp.total()),
              resp.next_page_token().empty() ? "" : " (more: raise --limit)");
  return kOk;
}

}  // namespace drover::ctl
