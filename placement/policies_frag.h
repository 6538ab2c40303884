// The fragmentation measure of the FGD paper (Weng et al., ATC'23), learned online.
//
//   ShapeCounter seen;                       // popularity of pod shapes so far
//   seen.Add(ShapeOf(pod, mask));
//   FragModel model;
//   model.Reset(seen.Typical(0.95));         // the paper's "typical pods"
//   double f = model.Frag(type, cpu_left, free_desc, n);   // expected idle GPU lost
//
// A node's fragmentation, for a shape s with popularity p_s, is the idle GPU (milli)
// that s could not use there: all of it if s does not fit the node at all (too
// little CPU or GPU, wrong GPU type, or s is CPU-only), otherwise the idle slivers
// on devices with less free than s needs per device. Frag = sum over s of p_s times
// that. FragModel answers it in O(devices) per node state, independent of the
// number of shapes, through prefix-summed popularity tables per GPU type.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/gpu_catalog.h"

namespace drover::frag {

// A pod's demand as fragmentation sees it. CPU-only: gpu_devices == 0.
struct Shape {
  int64_t cpu_milli = 0;
  int gpu_devices = 0;
  int milli_per_device = 0;           // 1..1000 for GPU shapes
  GpuTypeMask types = kAnyGpuType;    // GPU types it accepts
  int64_t memory_bytes = 0;           // 0 where the measure ignores memory (FGD)
  bool operator==(const Shape&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const Shape& s) {
    return H::combine(std::move(h), s.cpu_milli, s.gpu_devices, s.milli_per_device, s.types, s.memory_bytes);
  }
};

struct WeightedShape {
  Shape shape;
  double weight = 0;
};

// Popularity of the shapes seen so far. Weights are counts unless Scale() decays them.
class ShapeCounter {
 public:
  void Add(const Shape& s, double weight = 1.0);
  // Multiplies every weight by `factor` (0 < factor <= 1): exponential forgetting.
  void Scale(double factor);
  double total() const { return total_; }
  // Changes on every Add/Scale; lets callers rebuild derived models lazily.
  uint64_t version() const { return version_; }
  // The most popular shapes, in popularity order (ties: smaller CPU, GPU milli,
  // devices, types first), whose weights first reach `coverage` (0..1] of the
  // total; weights renormalized to sum to 1. Empty if nothing was seen.
  std::vector<WeightedShape> Typical(double coverage) const;

 private:
  absl::flat_hash_map<Shape, int> index_;
  std::vector<WeightedShape> shapes_;
  double total_ = 0;
  uint64_t version_ = 0;
};

// Fragmentation of node states under a fixed weighted shape set.
class FragModel {
 public:
  // Replaces the shape set (weights as given, usually summing to 1).
  void Reset(const std::vector<WeightedShape>& shapes);
  bool empty() const { return shapes_.empty(); }
  // Expected idle milli-GPU the shapes could not use on a node of GPU `type` with
  // `cpu_left` millicores free and free milli per device `free_desc[0..n)`, sorted
  // in descending order.
  double Frag(GpuTypeId type, int64_t cpu_left, const int32_t* free_desc, int n);

 private:
  // Popularity prefix sums for one GPU type: [group][m rank][cpu rank].
  struct TypeTable {
    bool built = false;
    std::vector<double> cells;
  };
  const TypeTable& TableFor(GpuTypeId type);
  double Cell(const TypeTable& t, int group, int m_count, int cpu_count) const {
    return t.cells[(static_cast<size_t>(group) * (m_values_.size() + 1) + m_count) * (cpu_values_.size() + 1) +
                   cpu_count];
  }

  std::vector<WeightedShape> shapes_;
  double total_weight_ = 0;
  std::vector<int> groups_;           // distinct device counts of GPU shapes
  std::vector<int> m_values_;         // distinct milli per device, ascending
  std::vector<int64_t> cpu_values_;   // distinct CPU requests, ascending
  std::vector<int> m_count_le_;       // [x] = number of m_values_ <= x, x in 0..1000
  std::vector<TypeTable> tables_;     // by GpuTypeId
};

// drover-frag's measure. Like FragModel, a shape that does not fit the node loses
// all of its idle GPU; but a shape that fits can only use the GPU that whole copies
// of it would take, as many copies as the node's free GPU, CPU and memory allow:
//   usable(s) = copies(s) * devices(s) * milli(s),
//   copies(s) = min(sum over devices of floor(free / milli) [shared GPU]
//                   or floor(fully free devices / devices) [whole GPUs],
//                   floor(cpu_left / cpu(s)), floor(memory_left / memory(s))).
// So a 0.47-GPU shape on a device with 530 free wastes 60, not 0, and GPUs on a
// node whose CPU is nearly gone count as lost. O(shapes + devices x sizes) per node.
class CopiesFragModel {
 public:
  void Reset(const std::vector<WeightedShape>& shapes);
  bool empty() const { return total_weight_ <= 0; }
  // As FragModel::Frag, with the node's free memory; `free` in any order.
  double Frag(GpuTypeId type, int64_t cpu_left, int64_t memory_left, const int32_t* free, int n);

 private:
  struct Entry {
    double weight;       // popularity x devices x milli: GPU used per copy, weighted
    int size;            // index into sizes_
    int devices;
    int64_t cpu_milli;     // 0 = needs none
    int64_t memory_bytes;  // 0 = needs none
  };
  const std::vector<Entry>& EntriesFor(GpuTypeId type);

  std::vector<WeightedShape> shapes_;
  double total_weight_ = 0;
  std::vector<int> sizes_;                      // distinct milli per device, ascending
  std::vector<std::vector<int16_t>> copies_of_; // [size][free] = free / size (1000: 1 if whole)
  std::vector<std::vector<Entry>> entries_;     // by GPU type slot
  std::vector<char> built_;
  std::vector<int> copies_;                     // scratch: copies per size for one node
};

}  // namespace drover::frag
