// The ordered key-value seam under RecordStore: column families of byte-ordered
// keys, atomic batches, range scans. RocksKv (rocks_store.cc) keeps them in
// RocksDB, MemoryKv (memory_store.cc) in sorted maps, like LevelDB's memenv
// beside its POSIX env. Keys compare as unsigned bytes in both.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace drover {

// One column family per record kind (store/README.md lists the keys).
enum class Family : int {
  kMeta = 0,        // "active" -> ActiveRevision
  kRevisions,       // revision (8 bytes, big-endian) -> Revision
  kAudit,           // sequence (8, BE) -> AuditRecord
  kUsageMinute,     // queue \0 gpu_type \0 bucket start ms (8, BE) -> UsageSample (sums)
  kUsageHour,       // the same, hour buckets
  kTimeline,        // workload \0 sequence (8, BE) -> TimelineEvent
  kTimelineIndex,   // sequence (8, BE) -> time ms (8, BE) + workload
  kTimers,          // workload -> WorkloadTimers
};
inline constexpr int kFamilyCount = 8;
// "meta", "revisions", ...: the RocksDB column family name and the name in messages.
std::string_view FamilyName(Family f);

// Writes applied together, all or none.
class KvBatch {
 public:
  enum class Op { kPut, kDelete, kDeleteRange };
  struct Entry {
    Op op;
    Family family;
    std::string key;    // kDeleteRange: begin
    std::string value;  // kDeleteRange: end (exclusive)
  };
  void Put(Family f, std::string key, std::string value) { entries_.push_back({Op::kPut, f, std::move(key), std::move(value)}); }
  void Delete(Family f, std::string key) { entries_.push_back({Op::kDelete, f, std::move(key), {}}); }
  void DeleteRange(Family f, std::string begin, std::string end) {
    entries_.push_back({Op::kDeleteRange, f, std::move(begin), std::move(end)});
  }
  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;
};

// Visits one key and value; returns false to stop the scan.
using KvVisitor = std::function<bool(std::string_view key, std::string_view value)>;

class Kv {
 public:
  virtual ~Kv() = default;
  // Applies `batch` atomically; `sync` = durable on return (fsync of the log).
  virtual absl::Status Write(const KvBatch& batch, bool sync) = 0;
  // The value at `key`, nullopt if absent.
  virtual absl::StatusOr<std::optional<std::string>> Get(Family f, std::string_view key) const = 0;
  // Visits keys in [begin, end) (end "" = to the family's end) in order, or in
  // reverse order when `reverse`, until `visit` returns false.
  virtual absl::Status Scan(Family f, std::string_view begin, std::string_view end, bool reverse,
                            const KvVisitor& visit) const = 0;
  // How many keys `f` holds: exact in memory, RocksDB's estimate on disk.
  virtual int64_t EstimateCount(Family f) const = 0;
  // The directory, "" in memory.
  virtual std::string path() const = 0;
  // Rewrites every family in full, so deleted keys and range tombstones stop
  // costing space and reads now rather than at some later compaction. Takes
  // time proportional to the data; a no-op in memory.
  virtual absl::Status Compact() { return absl::OkStatus(); }
};

// Key encoding: fixed 8-byte big-endian integers sort like the numbers (for
// non-negative values, which is all the store writes).
std::string EncodeU64(uint64_t v);
uint64_t DecodeU64(std::string_view eight_bytes);
// Printable form of a key for messages: text kept, other bytes as \xNN, cut at 120 bytes.
std::string PrintableKey(std::string_view key);

}  // namespace drover
