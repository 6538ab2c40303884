// A small driver for placement tests: an Engine fed with node and pod events, whose
// decisions are carried out the way a cluster would (binds confirmed by pod
// events, evictions by deletions), with helpers to build GPU nodes and pods.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "placement/engine.h"
#include "queues/config.h"
#include "tests/common/fixtures.h"

namespace drover::testing {

struct Harness {
  std::unique_ptr<Engine> engine;
  int64_t now_ms = 0;

  explicit Harness(const char* yaml, EngineOptions options = {}) : engine(MakeEngine(yaml, std::move(options))) {}

  void AddNode(const drover::Node& n) { engine->Apply(ClusterEvent{ClusterEvent::Kind::kNodeUpsert, n, {}}); }
  void DeleteNode(const std::string& name) {
    ClusterEvent e{ClusterEvent::Kind::kNodeDelete, {}, {}};
    e.node.name = name;
    engine->Apply(e);
  }
  void AddPod(const drover::Pod& p) { engine->Apply(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, p}); }
  void DeletePod(const std::string& key) {
    ClusterEvent del{ClusterEvent::Kind::kPodDelete, {}, {}};
    const size_t slash = key.find('/');
    del.pod.namespace_ = key.substr(0, slash);
    del.pod.name = key.substr(slash + 1);
    engine->Apply(del);
  }
  // A Namespace event: `name` now has `labels` (namespaceSelector reads them).
  void SetNamespace(const std::string& name, const drover::Labels& labels) {
    ClusterEvent e;
    e.kind = ClusterEvent::Kind::kNamespaceUpsert;
    e.ns = drover::Namespace{name, labels};
    engine->Apply(e);
  }
  // A pod bound by the cluster (for example, already running before Drover started).
  void AddRunning(drover::Pod p, const std::string& node) {
    p.node_name = node;
    p.phase = PodPhase::kRunning;
    AddPod(p);
  }
  // Runs a cycle at now_ms (then advances it by step_ms), confirms every bind as
  // the cluster would and deletes every evicted pod. Checks the engine's invariants.
  Decisions Cycle(int64_t step_ms = 1000) { return CycleAndCarry(step_ms, /*evicted_leave=*/true); }
  // Like Cycle, but an evicted pod only starts terminating, as an API server shows
  // it during its grace period: deletionTimestamp set, still on its node. The test
  // removes it later (DeletePod).
  Decisions CycleVictimsTerminate(int64_t step_ms = 1000) { return CycleAndCarry(step_ms, /*evicted_leave=*/false); }
  void MarkTerminating(const std::string& key) {
    drover::Pod p = engine->snapshot().pod(engine->snapshot().FindPod(key)).pod;
    p.deleting = true;
    AddPod(p);
  }
  Decisions CycleAndCarry(int64_t step_ms, bool evicted_leave) {
    Decisions d = engine->RunCycle(now_ms);
    now_ms += step_ms;
    for (const Binding& b : d.binds) {
      const PodEntry& e = engine->snapshot().pod(engine->snapshot().FindPod(b.pod_key));
      drover::Pod bound = e.pod;
      bound.node_name = b.node;
      bound.phase = PodPhase::kRunning;
      bound.gpu_device_ids = b.gpu_devices;
      AddPod(bound);
    }
    for (const Eviction& ev : d.evictions) {
      if (evicted_leave) {
        DeletePod(ev.pod_key);
      } else {
        MarkTerminating(ev.pod_key);
      }
    }
    const std::vector<std::string> problems = engine->CheckInvariants();
    INFO((problems.empty() ? std::string() : problems[0]));
    REQUIRE(problems.empty());
    return d;
  }
  std::string NodeOf(const std::string& key) const {
    const PodId id = engine->snapshot().FindPod(key);
    return id == kNoPod ? "(gone)" : engine->snapshot().pod(id).pod.node_name;
  }
  bool Bound(const std::string& key) const {
    const std::string n = NodeOf(key);
    return !n.empty() && n != "(gone)";
  }
  int FreeGpus(const std::string& node) const {
    return static_cast<int>(engine->snapshot().Free(engine->snapshot().FindNode(node))[Res::kGpu] / 1000);
  }
};

}  // namespace drover::testing
