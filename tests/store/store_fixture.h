// Factories for the store contract suite: each test runs against MemoryStore
// and RocksStore (TEMPLATE_TEST_CASE over MemoryFactory, RocksFactory).
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/memory_store.h"
#include "store/rocks_store.h"

namespace drover::testing {

// A fresh directory under /tmp, removed with the object.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/drover-store-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

struct MemoryFactory {
  static constexpr bool kPersistent = false;
  std::unique_ptr<RecordStore> Open(StoreOptions options = {}) { return std::make_unique<MemoryStore>(options); }
};

struct RocksFactory {
  static constexpr bool kPersistent = true;
  TempDir dir;
  std::unique_ptr<RecordStore> Open(StoreOptions options = {}) {
    absl::StatusOr<std::unique_ptr<RocksStore>> s = RocksStore::Open(dir.path + "/db", options);
    INFO(s.status().ToString());
    REQUIRE(s.ok());
    return *std::move(s);
  }
};

inline Revision Doc(std::string text, std::string author = "file:/q.yaml") {
  Revision r;
  r.set_document(std::move(text));
  r.set_author(std::move(author));
  r.set_source(store::v1::REVISION_SOURCE_FILE);
  r.set_applied_unix_ms(1000);
  return r;
}

}  // namespace drover::testing
