// Nodes, pods and engines built in code, shared by the placement and queue tests
// (tests/placement/harness.h, tests/queues/engine_harness.h).
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
inline constexpr const char* kA10 = "NVIDIA-A10";
inline constexpr const char* kT4 = "Tesla-T4";

// Two teams with 8 A100 guaranteed each and one with none: the preemption tests'
// queues (tests/placement/preemption_test.cc, tests/sim/sim_e2e_test.cc).
inline constexpr const char* kTwoTeamsAndScratch = R"(
queues:
  children:
    - name: team-a
      guaranteed: {gpu: {A100: 8}}
    - name: team-b
      guaranteed: {gpu: {A100: 8}}
    - name: scratch
)";

inline Node GpuNode(const std::string& name, const std::string& product, int gpus) {
  Node n;
  n.name = name;
  n.labels.Set("kubernetes.io/hostname", name);
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

// A pod of `gpus` whole GPUs in `queue` (no annotation when empty), 1 core, 1 GiB.
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
  if (!queue.empty()) p.annotations.Set("drover.io/queue", queue);
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

// Preemption at the first failed attempt (no preemption_delay_ms), for tests of
// who is evicted; the delay itself is tested in tests/placement/preemption_test.cc.
inline EngineOptions PreemptAtOnce() {
  EngineOptions o;
  o.preemption_delay_ms = 0;
  return o;
}

inline std::unique_ptr<Engine> MakeEngine(const char* yaml, EngineOptions options = {}) {
  auto cfg = ParseQueueConfig(yaml, "test.yaml");
  REQUIRE(cfg.ok());
  auto e = Engine::Create(*cfg, std::move(options));
  REQUIRE(e.ok());
  return std::move(*e);
}

inline QueueConfig ParseOrDie(const std::string& yaml) {
  absl::StatusOr<QueueConfig> cfg = ParseQueueConfig(yaml, "test.yaml");
  INFO((cfg.ok() ? std::string() : std::string(cfg.status().message())));
  REQUIRE(cfg.ok());
  return *cfg;
}

}  // namespace drover::testing
