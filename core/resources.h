// Resource vectors over named dimensions, cheap to add, subtract and compare.
//
//   ResourceVec req;  req[Res::kCpu] = 500; req[Res::kGpu] = 1000;
//   if (req.FitsIn(node_free)) ...
//
// Units per dimension: cpu in millicores, memory and ephemeral-storage in bytes,
// pods in pods, GPUs in milli-GPUs (1000 = one whole device), other extended
// resources (nvidia.com/mig-1g.10gb, ...) in whole units. Extended resource names
// are interned process-wide into a fixed number of slots, so a vector is a flat
// array and every operation is a short loop with no allocation.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace drover {

using ResourceId = int;

namespace Res {
inline constexpr ResourceId kCpu = 0;
inline constexpr ResourceId kMemory = 1;
inline constexpr ResourceId kPods = 2;
inline constexpr ResourceId kEphemeralStorage = 3;
inline constexpr ResourceId kGpu = 4;
inline constexpr ResourceId kFirstExtended = 5;
inline constexpr ResourceId kMax = 16;
}  // namespace Res

// The GPU resource name on nodes and pods (whole devices).
inline constexpr std::string_view kNvidiaGpu = "nvidia.com/gpu";

// Returns the id for a Kubernetes resource name. cpu/memory/pods/ephemeral-storage
// and the configured GPU resource names map to the fixed slots; any other name is
// interned. Error when the table is full (the name is in the message).
[[nodiscard]] absl::StatusOr<ResourceId> InternResource(std::string_view name);
// Looks a name up without interning; -1 if unknown.
ResourceId FindResource(std::string_view name);
// The display name of a slot ("cpu", "nvidia.com/gpu", ...).
std::string_view ResourceName(ResourceId id);
// Registers another resource name that means whole GPU devices (for example
// "alibabacloud.com/gpu-count"). Idempotent.
void AddGpuResourceName(std::string_view name);
bool IsGpuResourceName(std::string_view name);

class ResourceVec {
 public:
  ResourceVec() { v_.fill(0); }

  int64_t& operator[](ResourceId id) { return v_[id]; }
  int64_t operator[](ResourceId id) const { return v_[id]; }

  ResourceVec& operator+=(const ResourceVec& o) {
    for (int i = 0; i < Res::kMax; ++i) v_[i] += o.v_[i];
    return *this;
  }
  ResourceVec& operator-=(const ResourceVec& o) {
    for (int i = 0; i < Res::kMax; ++i) v_[i] -= o.v_[i];
    return *this;
  }
  // += whose sums stop at INT64_MAX / INT64_MIN instead of wrapping: for totals of
  // amounts read from input (a pod's containers), where a wrapped, negative request
  // would fit anywhere.
  ResourceVec& AddSaturating(const ResourceVec& o) {
    for (int i = 0; i < Res::kMax; ++i) {
      if (__builtin_add_overflow(v_[i], o.v_[i], &v_[i])) v_[i] = o.v_[i] > 0 ? INT64_MAX : INT64_MIN;
    }
    return *this;
  }
  friend ResourceVec operator+(ResourceVec a, const ResourceVec& b) { return a += b; }
  friend ResourceVec operator-(ResourceVec a, const ResourceVec& b) { return a -= b; }
  bool operator==(const ResourceVec& o) const { return v_ == o.v_; }

  // True if every dimension of this is <= the same dimension of `capacity`.
  bool FitsIn(const ResourceVec& capacity) const {
    for (int i = 0; i < Res::kMax; ++i) {
      if (v_[i] > capacity.v_[i]) return false;
    }
    return true;
  }
  // First dimension where this exceeds `capacity`, or -1.
  ResourceId FirstExceeding(const ResourceVec& capacity) const {
    for (int i = 0; i < Res::kMax; ++i) {
      if (v_[i] > capacity.v_[i]) return i;
    }
    return -1;
  }
  // FirstExceeding(total - used - held) without building the difference; `held` may be null.
  ResourceId FirstExceedingLeft(const ResourceVec& total, const ResourceVec& used, const ResourceVec* held) const {
    for (int i = 0; i < Res::kMax; ++i) {
      const int64_t left = total.v_[i] - used.v_[i];
      if (v_[i] > (held != nullptr ? left - held->v_[i] : left)) return i;
    }
    return -1;
  }
  bool AnyNegative() const {
    for (int64_t x : v_) {
      if (x < 0) return true;
    }
    return false;
  }
  bool IsZero() const {
    for (int64_t x : v_) {
      if (x != 0) return false;
    }
    return true;
  }
  // max over dimensions with nonzero total of this[i] / total[i]; 0 if none.
  double DominantShare(const ResourceVec& total) const;

  // "cpu=500m memory=1Gi nvidia.com/gpu=1" (nonzero dimensions only).
  std::string ToString() const;

 private:
  std::array<int64_t, Res::kMax> v_;
};

// Formats one amount of a dimension in its natural unit ("500m", "64Gi", "1.5" GPUs).
std::string FormatAmount(ResourceId id, int64_t amount);

}  // namespace drover
