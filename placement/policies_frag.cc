#include "placement/policies_frag.h"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace drover::frag {

void ShapeCounter::Add(const Shape& s, double weight) {
  auto [it, inserted] = index_.try_emplace(s, static_cast<int>(shapes_.size()));
  if (inserted) shapes_.push_back(WeightedShape{s, 0.0});
  shapes_[it->second].weight += weight;
  total_ += weight;
  ++version_;
}

void ShapeCounter::Scale(double factor) {
  for (WeightedShape& w : shapes_) w.weight *= factor;
  total_ *= factor;
  ++version_;
}

std::vector<WeightedShape> ShapeCounter::Typical(double coverage) const {
  std::vector<WeightedShape> sorted = shapes_;
  std::sort(sorted.begin(), sorted.end(), [](const WeightedShape& a, const WeightedShape& b) {
    if (a.weight != b.weight) return a.weight > b.weight;
    return std::tie(a.shape.cpu_milli, a.shape.milli_per_device, a.shape.gpu_devices, a.shape.types) <
           std::tie(b.shape.cpu_milli, b.shape.milli_per_device, b.shape.gpu_devices, b.shape.types);
  });
  const double want = coverage * total_;
  double sum = 0;
  size_t keep = 0;
  while (keep < sorted.size() && (sum < want || keep == 0)) sum += sorted[keep++].weight;
  sorted.resize(keep);
  if (sum > 0) {
    for (WeightedShape& w : sorted) w.weight /= sum;
  }
  return sorted;
}

void FragModel::Reset(const std::vector<WeightedShape>& shapes) {
  shapes_ = shapes;
  total_weight_ = 0;
  groups_.clear();
  m_values_.clear();
  cpu_values_.clear();
  for (const WeightedShape& w : shapes_) {
    total_weight_ += w.weight;
    if (w.shape.gpu_devices == 0) continue;
    groups_.push_back(w.shape.gpu_devices);
    m_values_.push_back(std::clamp(w.shape.milli_per_device, 1, 1000));
    cpu_values_.push_back(w.shape.cpu_milli);
  }
  for (auto* v : {&groups_, &m_values_}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  std::sort(cpu_values_.begin(), cpu_values_.end());
  cpu_values_.erase(std::unique(cpu_values_.begin(), cpu_values_.end()), cpu_values_.end());
  m_count_le_.assign(1001, 0);
  for (int x = 0, k = 0; x <= 1000; ++x) {
    while (k < static_cast<int>(m_values_.size()) && m_values_[k] <= x) ++k;
    m_count_le_[x] = k;
  }
  for (TypeTable& t : tables_) t.built = false;
}

const FragModel::TypeTable& FragModel::TableFor(GpuTypeId type) {
  // Slot kMaxGpuTypes holds nodes of no known type: only shapes accepting any type.
  const size_t slot = type >= 0 && type < kMaxGpuTypes ? static_cast<size_t>(type) : kMaxGpuTypes;
  if (tables_.size() <= slot) tables_.resize(slot + 1);
  TypeTable& t = tables_[slot];
  if (t.built) return t;
  const size_t nm = m_values_.size() + 1, nc = cpu_values_.size() + 1;
  t.cells.assign(groups_.size() * nm * nc, 0.0);
  for (const WeightedShape& w : shapes_) {
    const Shape& s = w.shape;
    if (s.gpu_devices == 0) continue;
    const bool allowed = slot == kMaxGpuTypes ? s.types == kAnyGpuType : ((s.types >> slot) & 1) != 0;
    if (!allowed) continue;
    const size_t g = std::lower_bound(groups_.begin(), groups_.end(), s.gpu_devices) - groups_.begin();
    const size_t m = m_count_le_[std::clamp(s.milli_per_device, 1, 1000)];  // rank + 1
    const size_t c = std::lower_bound(cpu_values_.begin(), cpu_values_.end(), s.cpu_milli) - cpu_values_.begin() + 1;
    t.cells[(g * nm + m) * nc + c] += w.weight;
  }
  for (size_t g = 0; g < groups_.size(); ++g) {
    double* base = &t.cells[g * nm * nc];
    for (size_t m = 0; m < nm; ++m) {
      for (size_t c = 0; c < nc; ++c) {
        double v = base[m * nc + c];
        if (m > 0) v += base[(m - 1) * nc + c];
        if (c > 0) v += base[m * nc + c - 1];
        if (m > 0 && c > 0) v -= base[(m - 1) * nc + c - 1];
        base[m * nc + c] = v;
      }
    }
  }
  t.built = true;
  return t;
}

double FragModel::Frag(GpuTypeId type, int64_t cpu_left, const int32_t* free_desc, int n) {
  double idle = 0;
  for (int i = 0; i < n; ++i) idle += free_desc[i];
  if (idle <= 0 || shapes_.empty()) return 0;
  const int cpu_count =
      static_cast<int>(std::upper_bound(cpu_values_.begin(), cpu_values_.end(), cpu_left) - cpu_values_.begin());
  double usable = 0;
  if (cpu_count > 0 && !groups_.empty()) {
    const TypeTable& t = TableFor(type);
    for (int g = 0; g < static_cast<int>(groups_.size()); ++g) {
      const int k = groups_[g];
      if (k > n) break;
      // For m in (free_desc[j], free_desc[j-1]] exactly j devices have >= m free;
      // a shape fits if j >= k, and can then use the free of those j devices.
      double prefix = 0;
      for (int i = 0; i < k - 1; ++i) prefix += free_desc[i];
      for (int j = k; j <= n; ++j) {
        prefix += free_desc[j - 1];
        const int hi = std::clamp(free_desc[j - 1], 0, 1000);
        const int lo = j < n ? std::clamp(free_desc[j], 0, 1000) : 0;
        if (hi == lo) continue;
        const double w = Cell(t, g, m_count_le_[hi], cpu_count) - Cell(t, g, m_count_le_[lo], cpu_count);
        usable += prefix * w;
      }
    }
  }
  return total_weight_ * idle - usable;
}

void CopiesFragModel::Reset(const std::vector<WeightedShape>& shapes) {
  shapes_ = shapes;
  total_weight_ = 0;
  sizes_.clear();
  for (const WeightedShape& w : shapes_) {
    total_weight_ += w.weight;
    if (w.shape.gpu_devices > 0) sizes_.push_back(std::clamp(w.shape.milli_per_device, 1, 1000));
  }
  std::sort(sizes_.begin(), sizes_.end());
  sizes_.erase(std::unique(sizes_.begin(), sizes_.end()), sizes_.end());
  copies_of_.assign(sizes_.size(), std::vector<int16_t>(1001, 0));
  for (size_t i = 0; i < sizes_.size(); ++i) {
    for (int f = 0; f <= 1000; ++f) copies_of_[i][f] = static_cast<int16_t>(f / sizes_[i]);
  }
  entries_.clear();
  built_.clear();
  copies_.assign(sizes_.size(), 0);
}

const std::vector<CopiesFragModel::Entry>& CopiesFragModel::EntriesFor(GpuTypeId type) {
  const size_t slot = type >= 0 && type < kMaxGpuTypes ? static_cast<size_t>(type) : kMaxGpuTypes;
  if (entries_.size() <= slot) {
    entries_.resize(slot + 1);
    built_.resize(slot + 1, 0);
  }
  if (built_[slot]) return entries_[slot];
  for (const WeightedShape& w : shapes_) {
    const Shape& s = w.shape;
    if (s.gpu_devices == 0) continue;
    const bool allowed = slot == kMaxGpuTypes ? s.types == kAnyGpuType : ((s.types >> slot) & 1) != 0;
    if (!allowed) continue;
    const int m = std::clamp(s.milli_per_device, 1, 1000);
    entries_[slot].push_back(Entry{w.weight * s.gpu_devices * m,
                                   static_cast<int>(std::lower_bound(sizes_.begin(), sizes_.end(), m) - sizes_.begin()),
                                   s.gpu_devices, std::max<int64_t>(s.cpu_milli, 0),
                                   std::max<int64_t>(s.memory_bytes, 0)});
  }
  built_[slot] = 1;
  return entries_[slot];
}

double CopiesFragModel::Frag(GpuTypeId type, int64_t cpu_left, int64_t memory_left, const int32_t* free, int n) {
  double idle = 0;
  for (int i = 0; i < n; ++i) idle += free[i];
  if (idle <= 0 || total_weight_ <= 0) return 0;
  for (size_t i = 0; i < sizes_.size(); ++i) {
    int c = 0;
    for (int d = 0; d < n; ++d) c += copies_of_[i][std::clamp(free[d], 0, 1000)];
    copies_[i] = c;
  }
  const int64_t cpu = std::max<int64_t>(cpu_left, 0);
  const int64_t memory = std::max<int64_t>(memory_left, 0);
  double usable = 0;
  for (const Entry& e : EntriesFor(type)) {
    int64_t copies = copies_[e.size] / e.devices;
    if (copies > 0 && e.cpu_milli > 0) copies = std::min(copies, cpu / e.cpu_milli);
    if (copies > 0 && e.memory_bytes > 0) copies = std::min(copies, memory / e.memory_bytes);
    usable += e.weight * static_cast<double>(copies);
  }
  return total_weight_ * idle - usable;
}

}  // namespace drover::frag
