#include "server/live_config.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <unistd.h>

namespace drover {
namespace {

constexpr const char* kMax8 = "queues:\n  children:\n    - name: team\n      max: {gpu: {A100: 8}}\n";
constexpr const char* kMax16 = "queues:\n  children:\n    - name: team\n      max: {gpu: {A100: 16}}\n";
// Two errors at once: a negative quantity and an unknown field.
constexpr const char* kInvalid =
    "queues:\n  children:\n    - name: team\n      max: {gpu: {A100: -3}}\n      colour: blue\n";

struct TempFile {
  TempFile() {
    char tmpl[] = "/tmp/drover-live-config-XXXXXX";
    const int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    path = tmpl;
  }
  ~TempFile() { std::remove(path.c_str()); }
  void Write(const std::string& text) const { std::ofstream(path, std::ios::trunc) << text; }
  std::string path;
};

struct Applied {
  std::vector<QueueConfig> configs;
  absl::Status next = absl::OkStatus();  // what the next apply returns
  LiveConfig::ApplyFn Fn() {
    return [this](QueueConfig c) -> absl::StatusOr<std::vector<std::string>> {
      if (!next.ok()) return next;
      configs.push_back(std::move(c));
      return std::vector<std::string>{};
    };
  }
};

int64_t MaxA100(const QueueConfig& c) {
  REQUIRE(c.root.children.size() == 1);
  const auto& gpu = c.root.children[0].max.gpu_millis;
  auto it = gpu.find("A100");
  REQUIRE(it != gpu.end());
  return it->second / 1000;
}

TEST_CASE("a_changed_valid_document_becomes_the_next_revision", "[server][config]") {
  TempFile f;
  f.Write(kMax8);
  Applied applied;
  LiveConfig live(std::make_unique<FileConfigSource>(f.path), applied.Fn());
  absl::StatusOr<QueueConfig> first = live.LoadInitial();
  REQUIRE(first.ok());
  CHECK(live.status().revision == 1);
  CHECK_FALSE(live.CheckOnce());  // unchanged: nothing applied
  CHECK(applied.configs.empty());
  f.Write(kMax16);
  CHECK(live.CheckOnce());
  REQUIRE(applied.configs.size() == 1);
  CHECK(MaxA100(applied.configs[0]) == 16);
  CHECK(live.status().revision == 2);
  CHECK(live.status().hash == ContentHash(kMax16));
}

TEST_CASE("an_invalid_document_is_refused_with_every_error_and_the_running_one_stays", "[server][config]") {
  TempFile f;
  f.Write(kMax8);
  Applied applied;
  LiveConfig live(std::make_unique<FileConfigSource>(f.path), applied.Fn());
  REQUIRE(live.LoadInitial().ok());
  f.Write(kInvalid);
  CHECK_FALSE(live.CheckOnce());
  CHECK(applied.configs.empty());
  const ConfigStatus s = live.status();
  CHECK(s.revision == 1);
  CHECK(s.hash == ContentHash(kMax8));
  CHECK(s.last_error.find("-3") != std::string::npos);
  CHECK(s.last_error.find("colour") != std::string::npos);
  // The loop refusing (e.g. stopping) is not a new revision either.
  f.Write(kMax16);
  applied.next = absl::UnavailableError("loop stopped");
  CHECK_FALSE(live.CheckOnce());
  CHECK(live.status().revision == 1);
  applied.next = absl::OkStatus();
  // Nor is a source that cannot be read.
  std::remove(f.path.c_str());
  CHECK_FALSE(live.CheckOnce());
  f.Write(kMax16);
  CHECK(live.CheckOnce());
  CHECK(live.status().revision == 2);
  CHECK(live.status().last_error.empty());
}

TEST_CASE("the_polling_thread_applies_a_change_and_a_requested_check", "[server][config]") {
  TempFile f;
  f.Write(kMax8);
  Applied applied;
  Mutex mu;
  std::vector<int64_t> seen;
  LiveConfig live(std::make_unique<FileConfigSource>(f.path), [&](QueueConfig c) {
    MutexLock lock(&mu);
    seen.push_back(MaxA100(c));
    return absl::StatusOr<std::vector<std::string>>(std::vector<std::string>{});
  });
  REQUIRE(live.LoadInitial().ok());
  live.Start(absl::Hours(1));  // only RequestCheck (SIGHUP) makes it look
  f.Write(kMax16);
  live.RequestCheck();
  for (int i = 0; i < 100 && live.status().revision < 2; ++i) absl::SleepFor(absl::Milliseconds(20));
  live.Stop();
  CHECK(live.status().revision == 2);
  MutexLock lock(&mu);
  CHECK(seen == std::vector<int64_t>{16});
}

TEST_CASE("an_oversized_or_missing_file_is_an_error_naming_it", "[server][config]") {
  FileConfigSource missing("/nonexistent/queues.yaml");
  absl::StatusOr<std::string> r = missing.Read();
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).find("/nonexistent/queues.yaml") != std::string::npos);
  TempFile f;
  f.Write(std::string(17 << 20, '#'));
  absl::StatusOr<std::string> big = FileConfigSource(f.path).Read();
  REQUIRE_FALSE(big.ok());
  CHECK(std::string(big.status().message()).find("limit") != std::string::npos);
}

}  // namespace
}  // namespace drover
