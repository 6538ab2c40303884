#include "core/resources.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "core/strings.h"
#include "core/quantity.h"

namespace drover {
namespace {

// Slot names are written once, under the mutex, before the slot count that makes
// them visible is raised; readers of an id they were handed need no lock.
struct Registry {
  std::mutex mu;
  std::array<std::string, Res::kMax> names{"cpu", "memory", "pods", "ephemeral-storage", std::string(kNvidiaGpu)};
  int used = Res::kFirstExtended;
  std::vector<std::string> gpu_names{std::string(kNvidiaGpu)};
};

Registry& Reg() {
  static Registry* r = new Registry();
  return *r;
}

ResourceId FindLocked(Registry& r, std::string_view name) {
  if (std::find(r.gpu_names.begin(), r.gpu_names.end(), name) != r.gpu_names.end()) return Res::kGpu;
  for (int i = 0; i < r.used; ++i) {
    if (r.names[i] == name) return i;
  }
  return -1;
}

}  // namespace

absl::StatusOr<ResourceId> InternResource(std::string_view name) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  if (ResourceId id = FindLocked(r, name); id >= 0) return id;
  if (r.used >= Res::kMax) {
    return absl::ResourceExhaustedError(StrCat("resource \"", name, "\": more than ", Res::kMax - Res::kFirstExtended,
                                                     " distinct extended resources"));
  }
  r.names[r.used] = std::string(name);
  return r.used++;
}

ResourceId FindResource(std::string_view name) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  return FindLocked(r, name);
}

std::string_view ResourceName(ResourceId id) { return Reg().names[id]; }

void AddGpuResourceName(std::string_view name) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  if (std::find(r.gpu_names.begin(), r.gpu_names.end(), name) == r.gpu_names.end()) {
    r.gpu_names.emplace_back(name);
  }
}

bool IsGpuResourceName(std::string_view name) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  return std::find(r.gpu_names.begin(), r.gpu_names.end(), name) != r.gpu_names.end();
}

double ResourceVec::DominantShare(const ResourceVec& total) const {
  double best = 0;
  for (int i = 0; i < Res::kMax; ++i) {
    if (total.v_[i] > 0) best = std::max(best, static_cast<double>(v_[i]) / static_cast<double>(total.v_[i]));
  }
  return best;
}

std::string FormatAmount(ResourceId id, int64_t amount) {
  switch (id) {
    case Res::kCpu:
      return FormatMilli(amount);
    case Res::kMemory:
    case Res::kEphemeralStorage:
      return FormatBytes(amount);
    case Res::kGpu:
      if (amount % 1000 == 0) return StrCat(amount / 1000);
      return StrCat(static_cast<double>(amount) / 1000.0);
    default:
      return StrCat(amount);
  }
}

std::string ResourceVec::ToString() const {
  std::string out;
  for (int i = 0; i < Res::kMax; ++i) {
    if (v_[i] == 0) continue;
    StrAppend(&out, out.empty() ? "" : " ", ResourceName(i), "=", FormatAmount(i, v_[i]));
  }
  return out.empty() ? "(none)" : out;
}

}  // namespace drover
