// A seeded pseudo-random sequence that is the same on every platform and
// standard library (std:: distributions are not): splitmix64. Simulations,
// generators, the fill benchmark and the benches draw from it so that a seed
// always gives the same run.
//
//   Rng rng(seed);
//   if (rng.Uniform() < 0.3) ...;        // [0, 1)
//   int64_t s = rng.Range(60, 3600);      // [lo, hi]
//   size_t i = rng.Below(v.size());       // [0, n)
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace drover {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1), 53 bits.
  double Uniform() { return static_cast<double>(Next() >> 11) / 9007199254740992.0; }
  // Uniform integer in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Uniform() * static_cast<double>(hi - lo + 1));
  }
  // Uniform index in [0, n) from Uniform().
  size_t Index(size_t n) { return static_cast<size_t>(Uniform() * static_cast<double>(n)); }
  // Uniform in [0, n) by multiply-shift (no modulo bias).
  size_t Below(size_t n) { return static_cast<size_t>((static_cast<unsigned __int128>(Next()) * n) >> 64); }
  // Standard normal (Box-Muller).
  double Normal() {
    const double u1 = 1.0 - Uniform(), u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

}  // namespace drover
