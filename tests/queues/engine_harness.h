// Test helpers for the queue semantics as the engine applies them: nodes and
// pods built in code, an engine whose binds and evictions are confirmed the way
// the cluster would confirm them, and an independent recount of queue usage.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "placement/engine.h"
#include "queues/config.h"
#include "tests/common/fixtures.h"

namespace drover::testing {

// Every queue's usage recounted from the snapshot: the charges of the bound (or
// assumed) pods of this scheduler, under their leaf and every ancestor. Returns
// one line per queue whose usage differs from the tree's.
inline std::vector<std::string> RecountUsage(const Engine& engine) {
  const QueueTree& tree = engine.queues();
  const Snapshot& snap = engine.snapshot();
  std::vector<QVec> usage(static_cast<size_t>(tree.size()), QVec{});
  std::vector<std::string> problems;
  for (PodId id = 0; id < snap.pod_slots(); ++id) {
    const PodEntry& e = snap.pod(id);
    if (!e.live || e.counted_on == kNoNode || e.pod.scheduler_name != engine.options().scheduler_name) continue;
    if (e.pod.IsTerminal()) continue;
    QueueId leaf = kNoQueue;
    if (const std::string* q = e.pod.annotations.Get("drover.io/queue")) leaf = tree.Find(*q);
    if (leaf == kNoQueue) {
      absl::StatusOr<QueueId> l = tree.LeafFor(e.pod);
      leaf = l.ok() ? *l : kNoQueue;
    }
    if (leaf == kNoQueue) {
      problems.push_back("pod " + e.pod.Key() + " runs in no known queue");
      continue;
    }
    const GpuTypeId landed = e.pod.gpu_devices > 0 ? snap.node(e.counted_on).node.gpu_type : kNoGpuType;
    absl::StatusOr<Charge> c = tree.ChargeFor(e.pod, landed);
    REQUIRE(c.ok());
    tree.ForEachAncestor(leaf, [&](QueueId q) {
      usage[q][kQCpu] += c->cpu_millis;
      usage[q][kQMemory] += c->memory_bytes;
      if (c->gpu_type != kNoGpuType) usage[q][QGpu(c->gpu_type)] += c->gpu_millis;
    });
  }
  for (QueueId q = 0; q < tree.size(); ++q) {
    if (tree.queue(q).path.empty()) continue;  // pruned
    if (usage[q] != tree.queue(q).usage) problems.push_back("queue " + tree.queue(q).path + ": usage differs from its pods");
  }
  return problems;
}

// An engine fed by hand. Cycle() confirms every bind and carries out every
// eviction (the pod is deleted), as a cluster would between two cycles.
struct Harness {
  std::unique_ptr<Engine> engine;
  explicit Harness(const std::string& yaml, EngineOptions options = {}) {
    absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Create(ParseOrDie(yaml), options);
    REQUIRE(e.ok());
    engine = std::move(*e);
  }
  void AddNode(const Node& n) { engine->Apply(ClusterEvent{ClusterEvent::Kind::kNodeUpsert, n, {}}); }
  void Submit(Pod p, int64_t created_ms = 0) {
    p.creation_ms = created_ms;
    engine->Apply(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, p});
  }
  void Delete(const std::string& key) {
    ClusterEvent del{ClusterEvent::Kind::kPodDelete, {}, {}};
    const size_t slash = key.find('/');
    del.pod.namespace_ = key.substr(0, slash);
    del.pod.name = key.substr(slash + 1);
    engine->Apply(del);
  }
  Decisions Cycle(int64_t now_ms = 0) {
    Decisions d = engine->RunCycle(now_ms);
    for (const Binding& b : d.binds) {
      Pod bound = engine->snapshot().pod(engine->snapshot().FindPod(b.pod_key)).pod;
      bound.node_name = b.node;
      bound.phase = PodPhase::kRunning;
      bound.gpu_device_ids = b.gpu_devices;
      engine->Apply(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, bound});
    }
    for (const Eviction& ev : d.evictions) Delete(ev.pod_key);
    CHECK(engine->CheckInvariants().empty());
    CHECK(RecountUsage(*engine).empty());
    return d;
  }
  std::string NodeOf(const std::string& key) const {
    const PodId id = engine->snapshot().FindPod(key);
    return id == kNoPod ? "(gone)" : engine->snapshot().pod(id).pod.node_name;
  }
  int64_t Usage(const std::string& queue, const std::string& type) const {
    const QueueTree& t = engine->queues();
    const QueueId q = t.Find(queue);
    REQUIRE(q != kNoQueue);
    const GpuTypeId gt = engine->catalog().FindType(type);
    REQUIRE(gt != kNoGpuType);
    return t.queue(q).usage[QGpu(gt)];
  }
  static std::string Reasons(const Decisions& d) {
    std::string all;
    for (const PendingReason& p : d.pending) all += p.pod_key + ": " + p.message + "\n";
    return all;
  }
  static bool Mentions(const Decisions& d, const std::string& key, const std::string& text) {
    for (const PendingReason& p : d.pending) {
      if (p.pod_key == key && p.message.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

}  // namespace drover::testing
