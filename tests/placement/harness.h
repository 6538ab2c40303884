// A small driver for placement tests: an Engine fed with node and pod events, whose
// decisions are carried out the way a cluster would (binds confirmed by pod
// events, evictions by deletions), with helpers to build GPU nodes and pods.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "placement/engine.h"
#include "queues/config.h"

namespace drover::testing {

inline constexpr const char* kA100 = "NVIDIA-A100-SXM4-80GB";
inline constexpr const char* kH100 = "NVIDIA-H100-80GB-HBM3";
inline constexpr const char* kA10G = "NVIDIA-A10G";
inline constexpr const char* kT4 = "Tesla-T4";

inline Node GpuNode(const std::string& name, const std::string& product, int gpus) {
  Node n;
  n.name = name;
  n.allocatable[Res::kCpu] = 96000;
  n.allocatable[Res::kMemory] = 1024LL << 30;
  n.allocatable[Res::kPods] = 110;
  n.allocatable[Res::kGpu] = gpus * 1000LL;
  n.gpu_count = gpus;
  n.gpu_product = product;
  return n;
}

inline Node CpuNode(const std::string& name) {
  Node n;
  n.name = name;
  n.allocatable[Res::kCpu] = 32000;
  n.allocatable[Res::kMemory] = 128LL << 30;
  n.allocatable[Res::kPods] = 110;
  return n;
}

inline Pod GpuPod(const std::string& name, const std::string& queue, int gpus, const std::string& type = "",
                  int tier = -1) {
  Pod p;
  p.namespace_ = "ns";
  p.name = name;
  p.uid = name;
  p.scheduler_name = "drover";
  p.requests[Res::kCpu] = 1000;
  p.requests[Res::kMemory] = 1LL << 30;
  p.requests[Res::kPods] = 1;
  p.requests[Res::kGpu] = gpus * 1000LL;
  p.gpu_devices = gpus;
  p.gpu_milli_per_device = gpus > 0 ? 1000 : 0;
  p.annotations.Set("drover.io/queue", queue);
  if (!type.empty()) p.annotations.Set("drover.io/gpu-type", type);
  if (tier >= 0) p.annotations.Set("drover.io/tier", std::to_string(tier));
  return p;
}

// A pod sharing one GPU: `milli` of a device.
inline Pod SharedGpuPod(const std::string& name, const std::string& queue, int milli) {
  Pod p = GpuPod(name, queue, 1);
  p.requests[Res::kGpu] = milli;
  p.gpu_milli_per_device = milli;
  return p;
}

inline Pod GangMember(const std::string& gang, int i, int min, const std::string& queue, int gpus,
                      const std::string& type = "") {
  Pod p = GpuPod(gang + "-" + std::to_string(i), queue, gpus, type);
  p.annotations.Set("drover.io/gang", gang);
  p.annotations.Set("drover.io/gang-min-members", std::to_string(min));
  return p;
}

inline std::unique_ptr<Engine> MakeEngine(const char* yaml, EngineOptions options = {}) {
  auto cfg = ParseQueueConfig(yaml, "test.yaml");
  REQUIRE(cfg.ok());
  auto e = Engine::Create(*cfg, std::move(options));
  REQUIRE(e.ok());
  return std::move(*e);
}

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
  // A pod bound by the cluster (for example, already running before Drover started).
  void AddRunning(drover::Pod p, const std::string& node) {
    p.node_name = node;
    p.phase = PodPhase::kRunning;
    AddPod(p);
  }
  // Runs a cycle at now_ms (then advances it by step_ms), confirms every bind as
  // the cluster would and deletes every evicted pod. Checks the engine's invariants.
  Decisions Cycle(int64_t step_ms = 1000) {
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
    for (const Eviction& ev : d.evictions) DeletePod(ev.pod_key);
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
