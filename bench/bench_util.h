// Small helpers shared by queue_bench and placement_bench: a monotonic clock,
// /proc/self/status readings, medians and a seeded generator. Header-only.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/rng.h"

namespace drover::bench {

inline double NowSec() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// VmRSS / VmHWM etc. in kB (-1 if unreadable).
inline long StatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') return std::atol(line.c_str() + n + 1);
  }
  return -1;
}
inline long RssKb() { return StatusKb("VmRSS"); }
inline long HwmKb() { return StatusKb("VmHWM"); }

inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// q in [0, 1], nearest-rank.
inline double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size()) + 0.999999);
  i = std::clamp<size_t>(i, 1, v.size());
  return v[i - 1];
}

using drover::Rng;  // core/rng.h

// Keeps the optimizer from discarding a computed value.
template <typename T>
inline void Keep(const T& v) {
  asm volatile("" : : "g"(&v) : "memory");
}

}  // namespace drover::bench
