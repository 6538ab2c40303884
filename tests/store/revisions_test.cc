// Store contract: configuration revisions (compare-and-set, rollback, history).
#include <atomic>
#include <thread>

#include "tests/store/store_fixture.h"

namespace drover::testing {
namespace {

TEMPLATE_TEST_CASE("apply_is_compare_and_set_on_the_active_revision", "[store]", MemoryFactory, RocksFactory) {
  TestType f;
  auto store = f.Open();
  REQUIRE(store->Active().status().code() == absl::StatusCode::kNotFound);
  absl::StatusOr<Revision> r1 = store->Apply(0, Doc("queues: {}"));
  REQUIRE(r1.ok());
  CHECK(r1->revision() == 1);
  CHECK(r1->sha256() == Sha256Hex("queues: {}"));
  CHECK(r1->author() == "file:/q.yaml");
  SECTION("a stale expected revision is refused, naming both") {
    absl::StatusOr<Revision> stale = store->Apply(0, Doc("other"));
    REQUIRE(stale.status().code() == absl::StatusCode::kAborted);
    CHECK_THAT(std::string(stale.status().message()),
               Catch::Contains("expected active revision 0") && Catch::Contains("active revision is 1"));
    CHECK(store->Active()->revision() == 1);
  }
  SECTION("the expected revision applies the next one") {
    REQUIRE(store->Apply(1, Doc("v2")).ok());
    CHECK(store->Active()->revision() == 2);
    CHECK(store->Active()->document() == "v2");
    CHECK(store->GetRevision(1)->document() == "queues: {}");
    CHECK(store->GetRevision(3).status().code() == absl::StatusCode::kNotFound);
  }
}

TEMPLATE_TEST_CASE("concurrent_applies_with_the_same_expected_revision_one_wins", "[store]", MemoryFactory,
                   RocksFactory) {
  TestType f;
  auto store = f.Open();
  REQUIRE(store->Apply(0, Doc("base")).ok());
  for (int round = 0; round < 5; ++round) {
    const int64_t expected = store->Active()->revision();
    std::atomic<int> wins{0}, aborted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        absl::StatusOr<Revision> r = store->Apply(expected, Doc("from thread " + std::to_string(t)));
        if (r.ok()) ++wins;
        if (r.status().code() == absl::StatusCode::kAborted) ++aborted;
      });
    }
    for (std::thread& t : threads) t.join();
    CHECK(wins == 1);
    CHECK(aborted == 7);
    CHECK(store->Active()->revision() == expected + 1);
  }
}

TEMPLATE_TEST_CASE("rollback_creates_a_new_revision_equal_to_the_old_one", "[store]", MemoryFactory, RocksFactory) {
  TestType f;
  auto store = f.Open();
  REQUIRE(store->Apply(0, Doc("one")).ok());
  REQUIRE(store->Apply(1, Doc("two")).ok());
  absl::StatusOr<Revision> r = store->Rollback(1, "alice", "two broke team-a", 2, 5000);
  REQUIRE(r.ok());
  CHECK(r->revision() == 3);
  CHECK(r->document() == "one");
  CHECK(r->sha256() == Sha256Hex("one"));
  CHECK(r->source() == store::v1::REVISION_SOURCE_ROLLBACK);
  CHECK(r->rolled_back_from() == 1);
  CHECK(r->author() == "alice");
  CHECK(store->Active()->revision() == 3);
  CHECK(store->Rollback(1, "bob", "", 2, 6000).status().code() == absl::StatusCode::kAborted);
  CHECK(store->Rollback(9, "bob", "", 3, 6000).status().code() == absl::StatusCode::kNotFound);
  CHECK(store->Active()->revision() == 3);
}

Revision Mirrored(int64_t n, const std::string& doc) {
  Revision r = Doc(doc);
  r.set_revision(n);
  r.set_source(store::v1::REVISION_SOURCE_IMPORT);
  return r;
}

TEMPLATE_TEST_CASE("import_makes_the_store_agree_with_the_mirror", "[store]", MemoryFactory, RocksFactory) {
  TestType f;
  auto store = f.Open();
  REQUIRE(store->Apply(0, Doc("one")).ok());
  REQUIRE(store->Apply(1, Doc("local two")).ok());
  REQUIRE(store->Apply(2, Doc("local three, never mirrored")).ok());
  SECTION("the mirror wins: missing and differing revisions are written, newer local ones dropped") {
    absl::StatusOr<std::vector<int64_t>> written =
        store->ImportRevisions({Mirrored(2, "two"), Mirrored(1, "one")});  // any order
    REQUIRE(written.ok());
    CHECK(*written == std::vector<int64_t>{2});  // 1 agrees already
    CHECK(store->Active()->revision() == 2);
    CHECK(store->Active()->document() == "two");
    CHECK(store->Active()->sha256() == Sha256Hex("two"));
    CHECK(store->GetRevision(3).status().code() == absl::StatusCode::kNotFound);
    CHECK(store->Stats().revisions == 2);
    // Numbering goes on above the newest mirrored revision.
    absl::StatusOr<Revision> next = store->Apply(2, Doc("after import"));
    REQUIRE(next.ok());
    CHECK(next->revision() == 3);
    if constexpr (TestType::kPersistent) {
      store.reset();
      store = f.Open();
      CHECK(store->Active()->revision() == 3);
      CHECK(store->GetRevision(2)->document() == "two");
      CHECK(store->Stats().revisions == 3);
    }
  }
  SECTION("revisions above the local ones are added and the newest becomes active") {
    absl::StatusOr<std::vector<int64_t>> written =
        store->ImportRevisions({Mirrored(1, "one"), Mirrored(2, "local two"), Mirrored(3, "local three, never mirrored"),
                                Mirrored(4, "four"), Mirrored(5, "five")});
    REQUIRE(written.ok());
    CHECK(*written == std::vector<int64_t>{4, 5});
    CHECK(store->Active()->revision() == 5);
    CHECK(store->GetRevision(4)->source() == store::v1::REVISION_SOURCE_IMPORT);
    CHECK(store->Stats().revisions == 5);
  }
  SECTION("an empty mirror changes nothing") {
    REQUIRE(store->ImportRevisions({}).ok());
    CHECK(store->Active()->revision() == 3);
  }
  SECTION("bad input is refused before anything is written, naming the revision") {
    absl::StatusOr<std::vector<int64_t>> dup = store->ImportRevisions({Mirrored(4, "a"), Mirrored(4, "b")});
    REQUIRE(dup.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(dup.status().message()), Catch::Contains("revision 4 appears twice"));
    absl::StatusOr<std::vector<int64_t>> zero = store->ImportRevisions({Mirrored(0, "a")});
    CHECK(zero.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(store->Active()->revision() == 3);
    CHECK(store->GetRevision(4).status().code() == absl::StatusCode::kNotFound);
  }
}

TEMPLATE_TEST_CASE("history_is_newest_first_and_paged", "[store]", MemoryFactory, RocksFactory) {
  TestType f;
  auto store = f.Open();
  for (int i = 0; i < 25; ++i) REQUIRE(store->Apply(i, Doc("v" + std::to_string(i + 1))).ok());
  std::vector<int64_t> seen;
  int64_t before = 0;
  int pages = 0;
  do {
    absl::StatusOr<RevisionPage> page = store->ListRevisions(before, 10);
    REQUIRE(page.ok());
    for (const Revision& r : page->revisions) seen.push_back(r.revision());
    before = page->next_before;
    ++pages;
  } while (before != 0 && pages < 10);
  CHECK(pages == 3);
  REQUIRE(seen.size() == 25);
  for (size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == 25 - static_cast<int64_t>(i));
  CHECK(store->ListRevisions(0, 1'000'000)->revisions.size() == 25);  // capped at kMaxPage, here all
}

TEMPLATE_TEST_CASE("audit_lists_newest_first_with_filters", "[store]", MemoryFactory, RocksFactory) {
  TestType f;
  auto store = f.Open();
  auto add = [&](int64_t ms, std::string actor, std::string action, std::string target) {
    AuditRecord a;
    a.set_unix_ms(ms);
    a.set_actor(std::move(actor));
    a.set_action(std::move(action));
    a.set_target(std::move(target));
    a.set_reason("because");
    a.set_result("ok");
    REQUIRE(store->AppendAudit(a).ok());
  };
  add(100, "file:/q.yaml", "config.apply", "config");
  add(200, "scheduler", "preempt", "pod/team-a/p1");
  add(300, "scheduler", "preempt", "pod/team-b/p2");
  add(400, "alice", "config.rollback", "config");
  AuditFilter all;
  std::vector<AuditRecord> r = *store->ListAudit(all);
  REQUIRE(r.size() == 4);
  CHECK(r[0].unix_ms() == 400);
  CHECK(r[0].sequence() == 4);
  CHECK(r[3].sequence() == 1);
  AuditFilter by_actor;
  by_actor.actor = "scheduler";
  CHECK(store->ListAudit(by_actor)->size() == 2);
  AuditFilter by_target;
  by_target.target_prefix = "pod/team-a/";
  REQUIRE(store->ListAudit(by_target)->size() == 1);
  CHECK(store->ListAudit(by_target)->front().target() == "pod/team-a/p1");
  AuditFilter window;
  window.from_unix_ms = 200;
  window.to_unix_ms = 400;
  CHECK(store->ListAudit(window)->size() == 2);
  AuditFilter limited;
  limited.limit = 3;
  CHECK(store->ListAudit(limited)->size() == 3);
}

TEST_CASE("rocks_store_keeps_revisions_audit_and_sequences_across_reopen", "[store]") {
  RocksFactory f;
  {
    auto store = f.Open();
    REQUIRE(store->Apply(0, Doc("one")).ok());
    REQUIRE(store->Apply(1, Doc("two")).ok());
    REQUIRE(store->Rollback(1, "alice", "", 2, 9).ok());
    AuditRecord a;
    a.set_action("config.apply");
    REQUIRE(store->AppendAudit(a).ok());
  }
  auto store = f.Open();
  CHECK(store->Active()->revision() == 3);
  CHECK(store->Active()->document() == "one");
  CHECK(store->ListRevisions(0, 10)->revisions.size() == 3);
  CHECK(store->Apply(2, Doc("x")).status().code() == absl::StatusCode::kAborted);
  CHECK(store->Apply(3, Doc("four"))->revision() == 4);
  AuditRecord b;
  CHECK(*store->AppendAudit(b) == 2);
  CHECK(store->Stats().revisions == 4);
  CHECK(store->Stats().audit_records == 2);
}

}  // namespace
}  // namespace drover::testing
