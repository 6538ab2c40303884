#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <random>

#include "placement/policies_frag.h"

namespace drover::frag {
namespace {

// The FGD paper's definition, shape by shape (its simulator's NodeGpuShareFragAmount).
double BruteForceFrag(const std::vector<WeightedShape>& shapes, GpuTypeId type, int64_t cpu_left,
                      const std::vector<int32_t>& free) {
  double idle = 0;
  for (int32_t f : free) idle += f;
  double frag = 0;
  for (const WeightedShape& w : shapes) {
    const Shape& s = w.shape;
    int fitting = 0;
    double slivers = 0;
    for (int32_t f : free) {
      if (f >= s.milli_per_device) {
        ++fitting;
      } else {
        slivers += f;
      }
    }
    const bool type_ok = type >= 0 && ((s.types >> type) & 1);
    const bool fits = s.gpu_devices > 0 && type_ok && cpu_left >= s.cpu_milli && fitting >= s.gpu_devices;
    frag += w.weight * (fits ? slivers : idle);
  }
  return frag;
}

TEST_CASE("frag_model_matches_the_papers_definition_on_random_states", "[frag]") {
  std::mt19937_64 rng(12345);
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int round = 0; round < 40; ++round) {
    std::vector<WeightedShape> shapes;
    const int n_shapes = uni(1, 25);
    for (int i = 0; i < n_shapes; ++i) {
      Shape s;
      s.cpu_milli = 1000 * uni(0, 40);
      const int kind = uni(0, 3);
      s.gpu_devices = kind == 0 ? 0 : kind == 1 ? 1 : (1 << uni(0, 3));
      s.milli_per_device = s.gpu_devices == 0 ? 0 : (kind == 1 ? 10 * uni(1, 100) : 1000);
      s.types = uni(0, 2) == 0 ? kAnyGpuType : static_cast<GpuTypeMask>(uni(1, 7));
      shapes.push_back(WeightedShape{s, uni(1, 100) / 100.0});
    }
    FragModel model;
    model.Reset(shapes);
    for (int probe = 0; probe < 50; ++probe) {
      std::vector<int32_t> free(uni(1, 8));
      for (int32_t& f : free) f = uni(0, 4) == 0 ? 1000 : 10 * uni(0, 100);
      std::sort(free.begin(), free.end(), std::greater<int32_t>());
      const GpuTypeId type = uni(0, 2);
      const int64_t cpu_left = 1000 * uni(0, 45);
      INFO("round " << round << " probe " << probe);
      CHECK(model.Frag(type, cpu_left, free.data(), static_cast<int>(free.size())) ==
            Approx(BruteForceFrag(shapes, type, cpu_left, free)).margin(1e-6));
    }
  }
}

// drover-frag's measure, shape by shape: whole copies the node's GPU, CPU and memory allow.
double BruteForceCopiesFrag(const std::vector<WeightedShape>& shapes, GpuTypeId type, int64_t cpu_left,
                            int64_t memory_left, const std::vector<int32_t>& free) {
  double idle = 0;
  for (int32_t f : free) idle += f;
  double frag = 0;
  for (const WeightedShape& w : shapes) {
    const Shape& s = w.shape;
    int64_t copies = 0;
    if (s.gpu_devices > 0 && type >= 0 && ((s.types >> type) & 1)) {
      int64_t per_device = 0;
      for (int32_t f : free) per_device += f / s.milli_per_device;
      copies = per_device / s.gpu_devices;
      if (s.cpu_milli > 0) copies = std::min(copies, cpu_left / s.cpu_milli);
      if (s.memory_bytes > 0) copies = std::min(copies, memory_left / s.memory_bytes);
    }
    frag += w.weight * (idle - static_cast<double>(copies * s.gpu_devices * s.milli_per_device));
  }
  return frag;
}

TEST_CASE("copies_frag_model_matches_its_definition_on_random_states", "[frag]") {
  std::mt19937_64 rng(777);
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int round = 0; round < 40; ++round) {
    std::vector<WeightedShape> shapes;
    for (int i = uni(1, 25); i > 0; --i) {
      Shape s;
      s.cpu_milli = 1000 * uni(0, 40);
      s.memory_bytes = uni(0, 1) * int64_t{1 << 20} * uni(1, 64);
      const int kind = uni(0, 3);
      s.gpu_devices = kind == 0 ? 0 : kind == 1 ? 1 : (1 << uni(0, 3));
      s.milli_per_device = s.gpu_devices == 0 ? 0 : (kind == 1 ? 10 * uni(1, 100) : 1000);
      s.types = uni(0, 2) == 0 ? kAnyGpuType : static_cast<GpuTypeMask>(uni(1, 7));
      shapes.push_back(WeightedShape{s, uni(1, 100) / 100.0});
    }
    CopiesFragModel model;
    model.Reset(shapes);
    for (int probe = 0; probe < 50; ++probe) {
      std::vector<int32_t> free(uni(1, 8));
      for (int32_t& f : free) f = uni(0, 4) == 0 ? 1000 : 10 * uni(0, 100);
      const GpuTypeId type = uni(0, 2);
      const int64_t cpu_left = 1000 * uni(0, 45);
      const int64_t memory_left = int64_t{1 << 20} * uni(0, 300);
      INFO("round " << round << " probe " << probe);
      CHECK(model.Frag(type, cpu_left, memory_left, free.data(), static_cast<int>(free.size())) ==
            Approx(BruteForceCopiesFrag(shapes, type, cpu_left, memory_left, free)).margin(1e-6));
    }
  }
}

TEST_CASE("shape_counter_keeps_the_most_popular_shapes_up_to_the_coverage", "[frag]") {
  ShapeCounter c;
  const Shape a{1000, 1, 500, kAnyGpuType}, b{2000, 1, 1000, kAnyGpuType}, d{3000, 0, 0, kAnyGpuType};
  for (int i = 0; i < 6; ++i) c.Add(a);
  for (int i = 0; i < 3; ++i) c.Add(b);
  c.Add(d);
  std::vector<WeightedShape> t = c.Typical(0.85);  // 60% + 30% reaches 85%
  REQUIRE(t.size() == 2);
  CHECK(t[0].shape == a);
  CHECK(t[0].weight == Approx(6.0 / 9.0));
  CHECK(t[1].weight == Approx(3.0 / 9.0));
  CHECK(c.Typical(1.0).size() == 3);
  const uint64_t v = c.version();
  c.Scale(0.5);
  CHECK(c.version() != v);
  CHECK(c.total() == Approx(5.0));
}

}  // namespace
}  // namespace drover::frag
