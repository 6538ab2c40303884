// The reference placement_bench compares the engine with (issue 20): a naive full
// scan of filter + MostAllocated over flat arrays, no queues, no snapshot, no index.
//
//   NaiveScan scan(input, &catalog);
//   NaiveFigures f = scan.Run(100000, 50, 1000);   // backlog, steady cycles, churn
//
// For each pod, every node is filtered (GPU type, CPU, memory, pods, devices with
// room, the generator's one GPU taint tolerated or not) and the feasible ones scored
// by kube-scheduler's MostAllocated (mean used share after placement over CPU,
// memory and, on GPU nodes, GPU); the best takes the pod (whole GPUs: the lowest
// free devices; a shared GPU: the fullest device with room). The same phases as the
// engine's run: fill the empty cluster from the backlog in order, then cycles of
// `churn` completions (random running pods) and as many attempts from the backlog.
// Only placements are timed. Figures only; the arrays are the whole state.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "bench/bench_util.h"
#include "core/gpu_catalog.h"
#include "sim/generator.h"

namespace drover::bench {

struct NaiveFigures {
  int64_t fill_placed = 0, fill_attempts = 0;
  double fill_seconds = 0;
  int64_t steady_placed = 0, steady_attempts = 0;
  double steady_seconds = 0;
};

class NaiveScan {
 public:
  NaiveScan(const SimInput& in, GpuCatalog* catalog) : in_(in) {
    const size_t n = in.nodes.size();
    for (size_t i = 0; i < n; ++i) {
      const Node& node = in.nodes[i].node;
      const GpuTypeId t = node.gpu_count > 0 ? catalog->TypeForProduct(node.gpu_product) : kNoGpuType;
      type_.push_back(t);
      cpu_cap_.push_back(node.allocatable[Res::kCpu]);
      mem_cap_.push_back(node.allocatable[Res::kMemory]);
      cpu_free_.push_back(node.allocatable[Res::kCpu]);
      mem_free_.push_back(node.allocatable[Res::kMemory]);
      pods_free_.push_back(node.allocatable[Res::kPods]);
      tainted_.push_back(!node.taints.empty());
      dev_begin_.push_back(static_cast<int32_t>(dev_free_.size()));
      for (int d = 0; d < node.gpu_count; ++d) dev_free_.push_back(1000);
      dev_count_.push_back(static_cast<int8_t>(node.gpu_count));
    }
    for (const SimPod& p : in.pods) {
      const std::string* want = p.pod.annotations.Get(annotations::kGpuType);
      absl::StatusOr<GpuTypeMask> m = want != nullptr ? catalog->ResolveRequest(*want) : kAnyGpuType;
      mask_.push_back(m.ok() ? *m : 0);
      tolerates_.push_back(!p.pod.tolerations.empty());
    }
  }

  NaiveFigures Run(int backlog, int steady, int churn) {
    NaiveFigures f;
    size_t next = 0;
    std::vector<size_t> waiting;
    for (; next < static_cast<size_t>(backlog) && next < in_.pods.size(); ++next) waiting.push_back(next);
    auto attempt_all = [&](int64_t* placed, int64_t* attempts, double* seconds, int limit) {
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<size_t> still;
      int done = 0;
      for (size_t k = 0; k < waiting.size(); ++k) {
        if (done >= limit) {
          still.insert(still.end(), waiting.begin() + static_cast<std::ptrdiff_t>(k), waiting.end());
          break;
        }
        ++*attempts;
        const int node = Place(waiting[k]);
        if (node < 0) {
          still.push_back(waiting[k]);
          continue;
        }
        running_.push_back(Running{waiting[k], node, devices_});
        ++*placed;
        ++done;
      }
      waiting.swap(still);
      *seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    attempt_all(&f.fill_placed, &f.fill_attempts, &f.fill_seconds, 1 << 30);
    for (int c = 0; c < steady; ++c) {
      for (int i = 0; i < churn && !running_.empty(); ++i) {
        const size_t k = rng_.Below(running_.size());
        Release(running_[k]);
        running_[k] = running_.back();
        running_.pop_back();
        if (next < in_.pods.size()) waiting.push_back(next++);
      }
      attempt_all(&f.steady_placed, &f.steady_attempts, &f.steady_seconds, churn);
    }
    return f;
  }

 private:
  struct Running {
    size_t pod;
    int node;
    std::vector<int> devices;
  };
  std::vector<Running> running_;

  // The best node for pod `p` (-1: none), charged at once.
  int Place(size_t p) {
    const Pod& pod = in_.pods[p].pod;
    const int64_t cpu = pod.requests[Res::kCpu], mem = pod.requests[Res::kMemory], pods = pod.requests[Res::kPods];
    const int want = pod.gpu_devices;
    const int milli = want > 0 ? pod.gpu_milli_per_device : 0;
    const GpuTypeMask mask = mask_[p];
    const bool tolerates = tolerates_[p];
    int best = -1;
    double best_score = -1;
    const int n = static_cast<int>(type_.size());
    for (int i = 0; i < n; ++i) {
      if (cpu > cpu_free_[i] || mem > mem_free_[i] || pods > pods_free_[i] || (tainted_[i] && !tolerates)) continue;
      int gpu_free_milli = 0;
      if (want > 0) {
        if (type_[i] < 0 || ((mask >> type_[i]) & 1) == 0) continue;
        int fit = 0;
        for (int d = 0; d < dev_count_[i]; ++d) {
          const int free = dev_free_[dev_begin_[i] + d];
          fit += free >= milli ? 1 : 0;
          gpu_free_milli += free;
        }
        if (fit < want) continue;
      }
      double score = static_cast<double>(cpu_cap_[i] - cpu_free_[i] + cpu) / static_cast<double>(cpu_cap_[i]) +
                     static_cast<double>(mem_cap_[i] - mem_free_[i] + mem) / static_cast<double>(mem_cap_[i]);
      int dims = 2;
      if (dev_count_[i] > 0) {
        if (want == 0) {
          for (int d = 0; d < dev_count_[i]; ++d) gpu_free_milli += dev_free_[dev_begin_[i] + d];
        }
        score += 1.0 - static_cast<double>(gpu_free_milli - int64_t{want} * milli) / (1000.0 * dev_count_[i]);
        ++dims;
      }
      score /= dims;
      if (score > best_score) {
        best_score = score;
        best = i;
      }
    }
    if (best < 0) return -1;
    cpu_free_[best] -= cpu;
    mem_free_[best] -= mem;
    pods_free_[best] -= pods;
    devices_.clear();
    int32_t* dev = &dev_free_[dev_begin_[best]];
    if (want == 1 && milli < 1000) {
      int pick = -1;
      for (int d = 0; d < dev_count_[best]; ++d) {
        if (dev[d] >= milli && (pick < 0 || dev[d] < dev[pick])) pick = d;
      }
      devices_.push_back(pick);
    } else {
      for (int d = 0; d < dev_count_[best] && static_cast<int>(devices_.size()) < want; ++d) {
        if (dev[d] >= milli) devices_.push_back(d);
      }
    }
    for (int d : devices_) dev[d] -= milli;
    return best;
  }

  void Release(Running& r) {
    const Pod& pod = in_.pods[r.pod].pod;
    cpu_free_[r.node] += pod.requests[Res::kCpu];
    mem_free_[r.node] += pod.requests[Res::kMemory];
    pods_free_[r.node] += pod.requests[Res::kPods];
    for (int d : r.devices) dev_free_[dev_begin_[r.node] + d] += pod.gpu_milli_per_device;
  }

  const SimInput& in_;
  std::vector<GpuTypeId> type_;
  std::vector<int64_t> cpu_cap_, mem_cap_, cpu_free_, mem_free_, pods_free_;
  std::vector<char> tainted_;
  std::vector<int32_t> dev_begin_, dev_free_;
  std::vector<int8_t> dev_count_;
  std::vector<GpuTypeMask> mask_;
  std::vector<char> tolerates_;
  std::vector<int> devices_;
  Rng rng_{7};
};

}  // namespace drover::bench
