// store_crash_child DIR SEED: opens a RocksStore in DIR and streams applies,
// rollbacks and usage writes until killed. Before each configuration write it
// prints "begin N" and after it returns "ack N SHA256" (flushed), so the parent
// (crash_test.cc) knows exactly what was acknowledged when its SIGKILL landed.
// store_crash_child --hold DIR: opens, prints "open", and sleeps until killed.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "store/rocks_store.h"

namespace {

int Fail(const absl::Status& s) {
  std::printf("error %s\n", s.ToString().c_str());
  std::fflush(stdout);
  return 1;
}

drover::UsageSample Sample(int q, int t, int64_t ms, int64_t v) {
  drover::UsageSample s;
  s.set_queue("root.q" + std::to_string(q));
  s.set_gpu_type("T" + std::to_string(t));
  s.set_unix_ms(ms);
  s.set_allocated(v);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--hold") {
    absl::StatusOr<std::unique_ptr<drover::RocksStore>> s = drover::RocksStore::Open(argv[2]);
    if (!s.ok()) return Fail(s.status());
    std::printf("open\n");
    std::fflush(stdout);
    while (true) pause();
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: store_crash_child DIR SEED | --hold DIR\n");
    return 2;
  }
  absl::StatusOr<std::unique_ptr<drover::RocksStore>> opened = drover::RocksStore::Open(argv[1]);
  if (!opened.ok()) return Fail(opened.status());
  drover::Store& store = **opened;
  std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
  absl::StatusOr<drover::Revision> active = store.Active();
  int64_t expected = active.ok() ? active->revision() : 0;
  int64_t clock_ms = 1'000'000'000'000 + static_cast<int64_t>(rng() % 1'000'000) * 60'000;
  std::printf("start %lld\n", static_cast<long long>(expected));
  std::fflush(stdout);
  while (true) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 6 || expected < 2) {
      // A document of 100 bytes to 64 KiB, so that some writes span several pages.
      std::string doc = "queues:  # revision " + std::to_string(expected + 1) + "\n";
      doc.append(100 + rng() % 65'000, static_cast<char>('a' + rng() % 26));
      drover::Revision r;
      r.set_document(doc);
      r.set_author("crash-child");
      r.set_source(drover::store::v1::REVISION_SOURCE_ADMIN_API);
      std::printf("begin %lld\n", static_cast<long long>(expected + 1));
      std::fflush(stdout);
      absl::StatusOr<drover::Revision> done = store.Apply(expected, std::move(r));
      if (!done.ok()) return Fail(done.status());
      expected = done->revision();
      std::printf("ack %lld %s\n", static_cast<long long>(expected), done->sha256().c_str());
    } else if (op < 8) {
      const int64_t to = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(expected));
      std::printf("begin %lld\n", static_cast<long long>(expected + 1));
      std::fflush(stdout);
      absl::StatusOr<drover::Revision> done = store.Rollback(to, "crash-child", "rollback", expected, clock_ms);
      if (!done.ok()) return Fail(done.status());
      expected = done->revision();
      std::printf("ack %lld %s\n", static_cast<long long>(expected), done->sha256().c_str());
    } else {
      std::vector<drover::UsageSample> pass;
      for (int q = 0; q < 50; ++q) {
        for (int t = 0; t < 6; ++t) pass.push_back(Sample(q, t, clock_ms, static_cast<int64_t>(rng() % 8000)));
      }
      clock_ms += 60'000;
      if (absl::Status s = store.RecordUsage(pass); !s.ok()) return Fail(s);
      std::printf("usage %lld\n", static_cast<long long>(clock_ms));
    }
    std::fflush(stdout);
  }
}
