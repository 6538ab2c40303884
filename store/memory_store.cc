#include "store/memory_store.h"

#include <array>
#include <map>

#include "absl/base/thread_annotations.h"
#include "core/sync.h"

namespace drover {
namespace {

// Sorted maps under one mutex. std::string compares as unsigned bytes (char_traits<char>::compare uses memcmp), like RocksDB's default comparator.
class MemoryKv : public Kv {
 public:
  absl::Status Write(const KvBatch& batch, bool) override {
    MutexLock lock(&mu_);
    for (const KvBatch::Entry& e : batch.entries()) {
      auto& m = maps_[static_cast<int>(e.family)];
      switch (e.op) {
        case KvBatch::Op::kPut: m[e.key] = e.value; break;
        case KvBatch::Op::kDelete: m.erase(e.key); break;
        case KvBatch::Op::kDeleteRange:
          if (e.key < e.value) m.erase(m.lower_bound(e.key), m.lower_bound(e.value));
          break;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> Get(Family f, std::string_view key) const override {
    MutexLock lock(&mu_);
    const auto& m = maps_[static_cast<int>(f)];
    auto it = m.find(std::string(key));
    if (it == m.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  absl::Status Scan(Family f, std::string_view begin, std::string_view end, bool reverse,
                    const KvVisitor& visit) const override {
    MutexLock lock(&mu_);
    const auto& m = maps_[static_cast<int>(f)];
    auto lo = m.lower_bound(std::string(begin));
    auto hi = end.empty() ? m.end() : m.lower_bound(std::string(end));
    if (!end.empty() && std::string_view(end) <= begin) return absl::OkStatus();
    if (!reverse) {
      for (auto it = lo; it != hi; ++it) {
        if (!visit(it->first, it->second)) break;
      }
    } else {
      for (auto it = hi; it != lo;) {
        --it;
        if (!visit(it->first, it->second)) break;
      }
    }
    return absl::OkStatus();
  }

  int64_t EstimateCount(Family f) const override {
    MutexLock lock(&mu_);
    return static_cast<int64_t>(maps_[static_cast<int>(f)].size());
  }

  std::string path() const override { return ""; }

 private:
  mutable Mutex mu_;
  std::array<std::map<std::string, std::string, std::less<>>, kFamilyCount> maps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

MemoryStore::MemoryStore(StoreOptions options) : RecordStore(std::make_unique<MemoryKv>(), options) {
  (void)Load();  // nothing to load, and no I/O to fail
}

}  // namespace drover
