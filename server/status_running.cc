// The running workloads of the published status (BuildRunningSection).
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "server/status.h"

namespace drover {
namespace {

// A row under construction: its leaf queue's id orders the list.
struct Row {
  QueueId leaf = kNoQueue;
  RunningWorkload w;
};

void AddPod(const Engine& engine, const RunningPodView& p, Row* row) {
  RunningWorkload& w = row->w;
  const Node& node = engine.snapshot().node(p.node).node;
  w.pod_keys.push_back(p.key);
  if (std::find(w.nodes.begin(), w.nodes.end(), node.name) == w.nodes.end()) w.nodes.push_back(node.name);
  if (p.pod.WantsGpu()) {
    w.gpu_milli += p.pod.requests[Res::kGpu];
    if (w.gpu_type.empty() && node.gpu_type != kNoGpuType) w.gpu_type = engine.catalog().type(node.gpu_type).name;
  }
  w.since_ms = w.pod_keys.size() == 1 ? p.started_ms : std::min(w.since_ms, p.started_ms);
  w.assumed += p.assumed ? 1 : 0;
  w.evicting += p.evicting ? 1 : 0;
}

}  // namespace

std::shared_ptr<const RunningSection> BuildRunningSection(const Engine& engine, int64_t now_ms) {
  std::vector<Row> rows;
  absl::flat_hash_map<std::string, size_t> gang_rows;  // "ns/gang" -> its row
  engine.ForEachRunningPod([&](const RunningPodView& p) {
    size_t at = rows.size();
    if (!p.gang.empty()) {
      auto [it, fresh] = gang_rows.try_emplace(p.gang, rows.size());
      at = it->second;
      if (!fresh) return AddPod(engine, p, &rows[at]);
    }
    Row& row = rows.emplace_back();
    row.leaf = p.leaf;
    row.w.workload = p.gang.empty() ? p.key : p.gang;
    row.w.queue = engine.queues().queue(p.leaf).path;
    row.w.tier = p.tier;
    AddPod(engine, p, &row);
  });
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.leaf != b.leaf) return a.leaf < b.leaf;
    if (a.w.since_ms != b.w.since_ms) return a.w.since_ms < b.w.since_ms;
    return a.w.workload < b.w.workload;
  });
  auto out = std::make_shared<RunningSection>();
  out->as_of_ms = now_ms;
  out->workloads.reserve(rows.size());
  for (Row& r : rows) {
    std::sort(r.w.pod_keys.begin(), r.w.pod_keys.end());
    std::sort(r.w.nodes.begin(), r.w.nodes.end());
    out->workloads.push_back(std::move(r.w));
  }
  return out;
}

}  // namespace drover
