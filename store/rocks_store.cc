#include "store/rocks_store.h"

#include <filesystem>
#include <system_error>

#include "core/strings.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/write_batch.h"

namespace drover {
namespace {

bool Has(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

class RocksKv : public Kv {
 public:
  RocksKv(std::string dir, rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles)
      : dir_(std::move(dir)), db_(db), handles_(std::move(handles)) {}

  ~RocksKv() override {
    for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
    delete db_;
  }

  absl::Status Write(const KvBatch& batch, bool sync) override {
    rocksdb::WriteBatch wb;
    for (const KvBatch::Entry& e : batch.entries()) {
      rocksdb::ColumnFamilyHandle* h = Handle(e.family);
      switch (e.op) {
        case KvBatch::Op::kPut: wb.Put(h, e.key, e.value); break;
        case KvBatch::Op::kDelete: wb.Delete(h, e.key); break;
        case KvBatch::Op::kDeleteRange:
          if (e.key < e.value) wb.DeleteRange(h, e.key, e.value);
          break;
      }
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    rocksdb::Status s = db_->Write(wo, &wb);
    return s.ok() ? absl::OkStatus() : RocksError(s.ToString(), dir_, "write");
  }

  absl::StatusOr<std::optional<std::string>> Get(Family f, std::string_view key) const override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Handle(f), ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return RocksError(s.ToString(), dir_, StrCat("read of ", FamilyName(f)));
    return std::optional<std::string>(std::move(value));
  }

  absl::Status Scan(Family f, std::string_view begin, std::string_view end, bool reverse,
                    const KvVisitor& visit) const override {
    if (!end.empty() && end <= begin) return absl::OkStatus();
    rocksdb::ReadOptions ro;
    const rocksdb::Slice lower = ToSlice(begin), upper = ToSlice(end);
    ro.iterate_lower_bound = &lower;
    if (!end.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, Handle(f)));
    if (reverse) {
      for (it->SeekToLast(); it->Valid(); it->Prev()) {
        if (!visit(std::string_view(it->key().data(), it->key().size()),
                   std::string_view(it->value().data(), it->value().size()))) {
          break;
        }
      }
    } else {
      for (it->Seek(lower); it->Valid(); it->Next()) {
        if (!visit(std::string_view(it->key().data(), it->key().size()),
                   std::string_view(it->value().data(), it->value().size()))) {
          break;
        }
      }
    }
    rocksdb::Status s = it->status();
    return s.ok() ? absl::OkStatus() : RocksError(s.ToString(), dir_, StrCat("scan of ", FamilyName(f)));
  }

  int64_t EstimateCount(Family f) const override {
    uint64_t n = 0;
    db_->GetIntProperty(Handle(f), "rocksdb.estimate-num-keys", &n);
    return static_cast<int64_t>(n);
  }

  std::string path() const override { return dir_; }

  absl::Status Compact() override {
    rocksdb::CompactRangeOptions o;
    o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;  // also files already at the bottom
    for (size_t i = 1; i < handles_.size(); ++i) {
      rocksdb::Status s = db_->CompactRange(o, handles_[i], nullptr, nullptr);
      if (!s.ok()) return RocksError(s.ToString(), dir_, StrCat("compact ", FamilyName(static_cast<Family>(i - 1))));
    }
    return absl::OkStatus();
  }

 private:
  rocksdb::ColumnFamilyHandle* Handle(Family f) const { return handles_[static_cast<size_t>(f) + 1]; }

  std::string dir_;
  rocksdb::DB* db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // [0] = default, then Family order
};

rocksdb::ColumnFamilyOptions FamilyOptions(Family f) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  o.compression = rocksdb::kLZ4Compression;
  o.bottommost_compression = rocksdb::kZSTD;
  const bool small = f == Family::kMeta || f == Family::kRevisions || f == Family::kAudit || f == Family::kTimers;
  o.write_buffer_size = small ? (4 << 20) : (32 << 20);
  return o;
}

absl::Status MakeDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return RocksError(ec.message(), dir, "create the directory");
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(StrCat("--state-dir \"", dir, "\": not a directory"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RocksError(std::string_view m, std::string_view dir, std::string_view what) {
  const std::string text = StrCat("store \"", dir, "\": cannot ", what, ": ", m);
  if (Has(m, "lock") && (Has(m, "Resource temporarily unavailable") || Has(m, "hold by current process") ||
                         Has(m, "Resource busy"))) {
    return absl::UnavailableError(StrCat(text, " (another droverd holds this store: give each its own --state-dir)"));
  }
  if (Has(m, "No space left on device") || Has(m, "Disk quota exceeded")) {
    return absl::ResourceExhaustedError(StrCat(text, " (the disk is full)"));
  }
  if (Has(m, "Permission denied") || Has(m, "Read-only file system") || Has(m, "Operation not permitted")) {
    return absl::PermissionDeniedError(StrCat(text, " (not writable)"));
  }
  if (Has(m, "Not a directory") || Has(m, "File exists")) return absl::FailedPreconditionError(text);
  if (Has(m, "Corruption")) return absl::DataLossError(text);
  return absl::UnavailableError(text);
}

absl::StatusOr<std::unique_ptr<RocksStore>> RocksStore::Open(const std::string& dir, StoreOptions options) {
  if (dir.empty()) return absl::InvalidArgumentError("--state-dir: empty path");
  if (absl::Status s = MakeDirectory(dir); !s.ok()) return s;
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.keep_log_file_num = 3;
  db_options.max_background_jobs = 2;
  db_options.max_total_wal_size = 64 << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (int i = 0; i < kFamilyCount; ++i) {
    const Family f = static_cast<Family>(i);
    families.emplace_back(std::string(FamilyName(f)), FamilyOptions(f));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, families, &handles, &db);
  if (!s.ok()) return RocksError(s.ToString(), dir, "open");
  std::unique_ptr<RocksStore> store(new RocksStore(std::make_unique<RocksKv>(dir, db, std::move(handles)), options));
  if (absl::Status l = store->Load(); !l.ok()) return l;
  return store;
}

}  // namespace drover
