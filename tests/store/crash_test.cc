// Crash test: store_crash_child streams applies, rollbacks and usage writes
// into a RocksStore; this test SIGKILLs it at random points and, after every
// kill, reopens the store and checks that it opens cleanly, that every
// acknowledged revision is there whole (its sha256 matches its document), that
// the active revision is the last acknowledged one or the one whose apply had
// begun, and that nothing fails to decode. DROVER_CRASH_KILLS sets the number
// of kills (default 10; scripts/store_crash.sh runs 50+).
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>

#include "tests/store/store_fixture.h"

extern char** environ;

namespace drover::testing {
namespace {

struct Child {
  pid_t pid = -1;
  int out = -1;  // read end of its stdout
};

Child Spawn(std::vector<std::string> args) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  Child c;
  REQUIRE(posix_spawn(&c.pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  c.out = fds[0];
  return c;
}

// Reads what the child printed until `deadline`, or until a line starting with `until` when given.
std::string ReadFor(const Child& c, std::chrono::milliseconds within, const std::string& until = "") {
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{c.out, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    const ssize_t n = read(c.out, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (!until.empty() && text.find(until) != std::string::npos) break;
  }
  return text;
}

void KillAndReap(Child& c, std::string* rest) {
  kill(c.pid, SIGKILL);
  int status = 0;
  waitpid(c.pid, &status, 0);
  char buf[4096];
  ssize_t n;
  while ((n = read(c.out, buf, sizeof buf)) > 0) rest->append(buf, static_cast<size_t>(n));  // what it printed before dying
  close(c.out);
}

struct Tally {
  std::map<int64_t, std::string> acked;  // revision -> sha256, over all runs
  int64_t last_acked = 0;
  int64_t begun_after_ack = 0;  // "begin N" with no "ack N" in the last run
  int active_is_last_acked = 0;
  int active_is_begun = 0;
  int64_t rollbacks_or_applies = 0;
  int64_t usage_passes = 0;
};

void ReadLog(const std::string& log, Tally* t) {
  std::istringstream in(log);
  std::string word;
  t->begun_after_ack = 0;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    l >> word;
    if (word == "error") FAIL("child: " << line);
    if (word == "begin") {
      l >> t->begun_after_ack;
    } else if (word == "ack" && line.size() > 4 && line.back() != ' ') {
      int64_t rev = 0;
      std::string sha;
      l >> rev >> sha;
      if (sha.size() != 64) continue;  // cut mid-line by the kill: not acknowledged
      t->acked[rev] = sha;
      t->last_acked = rev;
      t->begun_after_ack = 0;
      ++t->rollbacks_or_applies;
    } else if (word == "usage") {
      ++t->usage_passes;
    }
  }
}

void CheckStore(const std::string& dir, Tally* t) {
  absl::StatusOr<std::unique_ptr<RocksStore>> s = RocksStore::Open(dir);
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  RocksStore& store = **s;
  for (const auto& [rev, sha] : t->acked) {
    absl::StatusOr<Revision> r = store.GetRevision(rev);
    INFO("revision " << rev);
    REQUIRE(r.ok());
    CHECK(r->sha256() == sha);
    CHECK(Sha256Hex(r->document()) == sha);  // whole, not half-written
  }
  const int64_t active = store.Active().ok() ? store.Active()->revision() : 0;
  if (active == t->last_acked) {
    ++t->active_is_last_acked;
  } else {
    INFO("active " << active << ", last acknowledged " << t->last_acked << ", begun " << t->begun_after_ack);
    REQUIRE(active == t->begun_after_ack);
    REQUIRE(active == t->last_acked + 1);
    ++t->active_is_begun;
    t->last_acked = active;  // the next run continues from it
  }
  const RevisionPage page = *store.ListRevisions(0, kMaxPage);
  for (const Revision& r : page.revisions) CHECK(Sha256Hex(r.document()) == r.sha256());
  REQUIRE(store.QueryUsage({"root.q1", "T1", 0, 1'000'000'000'000 + int64_t{2'000'000} * 60'000, int64_t{3'600'000} * 24 * 30})
              .ok());
  CHECK(store.Stats().decode_errors == 0);
}

int Kills() {
  const char* env = std::getenv("DROVER_CRASH_KILLS");
  return env ? std::max(1, std::atoi(env)) : 10;
}

TEST_CASE("store_survives_sigkill_during_applies_rollbacks_and_usage_writes", "[store][crash]") {
  TempDir dir;
  const std::string db = dir.path + "/db";
  const int kills = Kills();
  std::mt19937_64 rng(std::random_device{}());
  Tally t;
  for (int k = 0; k < kills; ++k) {
    Child c = Spawn({DROVER_CRASH_CHILD, db, std::to_string(rng())});
    // Let it open (up to 5 s), then run for 5-300 ms more before the kill.
    std::string log = ReadFor(c, std::chrono::seconds(5), "start");
    log += ReadFor(c, std::chrono::milliseconds(5 + rng() % 295));
    KillAndReap(c, &log);
    ReadLog(log, &t);
    CheckStore(db, &t);
  }
  std::printf("store crash test: %d kills, %zu acknowledged revisions all present and whole, %lld usage passes; "
              "active = last acknowledged after %d kills, = the one begun after %d\n",
              kills, t.acked.size(), static_cast<long long>(t.usage_passes), t.active_is_last_acked, t.active_is_begun);
  CHECK(t.acked.size() > static_cast<size_t>(kills));
}

TEST_CASE("a_store_locked_by_another_process_is_refused_naming_path_and_cause", "[store]") {
  TempDir dir;
  const std::string db = dir.path + "/db";
  Child holder = Spawn({DROVER_CRASH_CHILD, "--hold", db});
  std::string log = ReadFor(holder, std::chrono::seconds(10), "open");
  REQUIRE(log.find("open") != std::string::npos);
  absl::StatusOr<std::unique_ptr<RocksStore>> s = RocksStore::Open(db);
  std::string rest;
  KillAndReap(holder, &rest);
  REQUIRE(s.status().code() == absl::StatusCode::kUnavailable);
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains(db) && Catch::Contains("LOCK") && Catch::Contains("another droverd holds this store"));
  CHECK(RocksStore::Open(db).ok());  // free again once the holder is gone
}

}  // namespace
}  // namespace drover::testing
