// Store contract: usage roll-ups and retention, timelines, timers, corrupt
// records, and (RocksStore) opening errors.
#include <fstream>

#include "tests/store/store_fixture.h"

namespace drover::testing {
namespace {

constexpr int64_t kMin = 60'000;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;

UsageSample Sample(std::string queue, std::string type, int64_t ms, int64_t allocated) {
  UsageSample s;
  s.set_queue(std::move(queue));
  s.set_gpu_type(std::move(type));
  s.set_unix_ms(ms);
  s.set_allocated(allocated);
  s.set_guaranteed(8000);
  s.set_effective_max(16000);
  s.set_borrowed(std::max<int64_t>(0, allocated - 8000));
  s.set_pending_demand(2000);
  s.set_pending_count(2);
  return s;
}

TimelineEvent Event(std::string workload, int64_t ms, store::v1::TimelineEventKind kind) {
  TimelineEvent e;
  e.set_workload(std::move(workload));
  e.set_unix_ms(ms);
  e.set_kind(kind);
  return e;
}

TEMPLATE_TEST_CASE("usage_rolls_up_into_minute_and_hour_points", "[store]", MemoryFactory, RocksFactory) {
  TestType f;
  auto store = f.Open();
  const int64_t t0 = 1000 * kDay;  // an hour boundary
  // Two hours of 30 s samples: allocated 1000 in the first hour, 3000 in the second.
  for (int64_t ms = t0; ms < t0 + 2 * kHour; ms += 30'000) {
    REQUIRE(store->RecordUsage({Sample("root.a", "A100", ms, ms < t0 + kHour ? 1000 : 3000),
                                Sample("root.b", "A100", ms, 500)}).ok());
  }
  UsageQuery q{"root.a", "A100", t0, t0 + 2 * kHour, kMin};
  std::vector<UsageSample> minutes = *store->QueryUsage(q);
  REQUIRE(minutes.size() == 120);
  CHECK(minutes[0].unix_ms() == t0);
  CHECK(minutes[0].samples() == 2);
  CHECK(minutes[0].allocated() == 1000);
  CHECK(minutes[119].allocated() == 3000);
  CHECK(minutes[0].borrowed() == 0);
  CHECK(minutes[0].pending_count() == 2);
  q.step_ms = kHour;
  std::vector<UsageSample> hours = *store->QueryUsage(q);
  REQUIRE(hours.size() == 2);
  CHECK(hours[0].samples() == 120);
  CHECK(hours[0].allocated() == 1000);
  CHECK(hours[1].allocated() == 3000);
  q.step_ms = 2 * kHour;
  REQUIRE(store->QueryUsage(q)->size() == 1);
  CHECK(store->QueryUsage(q)->front().allocated() == 2000);
  q.step_ms = 10 * kMin;  // from minute points
  REQUIRE(store->QueryUsage(q)->size() == 12);
  CHECK(store->QueryUsage(q)->front().samples() == 20);
  SECTION("bad queries are refused") {
    CHECK(store->QueryUsage({"root.a", "A100", t0, t0, kMin}).status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(store->QueryUsage({"root.a", "A100", t0, t0 + kHour, 1000}).status().code() ==
          absl::StatusCode::kInvalidArgument);
    CHECK(store->QueryUsage({"root.a", "A100", 0, 400 * kDay, kMin}).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  SECTION("an unknown series is empty") { CHECK(store->QueryUsage({"root.x", "A100", t0, t0 + kHour, kMin})->empty()); }
}

TEMPLATE_TEST_CASE("usage_retention_keeps_minutes_14_days_and_hours_400_days", "[store]", MemoryFactory,
                   RocksFactory) {
  TestType f;
  auto store = f.Open();
  const int64_t now = 1000 * kDay;
  for (int64_t age_days : {500, 300, 20, 10, 1}) {
    REQUIRE(store->RecordUsage({Sample("root.a", "T4", now - age_days * kDay, 100)}).ok());
  }
  REQUIRE(store->Prune(now).ok());
  const UsageQuery minutes{"root.a", "T4", now - 30 * kDay, now, kHour / 2};
  const UsageQuery hours{"root.a", "T4", now - 600 * kDay, now, kDay};
  CHECK(store->QueryUsage(minutes)->size() == 2);  // 10 and 1 days old
  CHECK(store->QueryUsage(hours)->size() == 4);    // all but 500 days old
  SECTION("a full compaction keeps exactly what retention kept") {
    REQUIRE(store->Compact().ok());
    CHECK(store->QueryUsage(minutes)->size() == 2);
    CHECK(store->QueryUsage(hours)->size() == 4);
    CHECK(store->QueryUsage(UsageQuery{"root.a", "T4", now - 600 * kDay, now - 400 * kDay, kDay})->empty());
  }
}

TEMPLATE_TEST_CASE("usage_series_beyond_the_cap_are_dropped_and_said", "[store]", MemoryFactory, RocksFactory) {
  TestType f;
  StoreOptions o;
  o.max_usage_series = 2;
  auto store = f.Open(o);
  absl::Status s = store->RecordUsage({Sample("a", "T4", kDay, 1), Sample("b", "T4", kDay, 1), Sample("c", "T4", kDay, 1)});
  CHECK(s.code() == absl::StatusCode::kResourceExhausted);
  CHECK(store->QueryUsage({"a", "T4", kDay, kDay + kMin, kMin})->size() == 1);
  CHECK(store->QueryUsage({"c", "T4", kDay, kDay + kMin, kMin})->empty());
}

TEMPLATE_TEST_CASE("timelines_keep_order_and_are_capped_per_workload_overall_and_by_age", "[store]", MemoryFactory,
                   RocksFactory) {
  TestType f;
  StoreOptions o;
  o.timeline_max_events_per_workload = 5;
  o.timeline_max_events = 12;
  o.timeline_max_age_ms = kDay;
  auto store = f.Open(o);
  using K = store::v1::TimelineEventKind;
  TimelineEvent bound = Event("team-a/p1", 300, K::TIMELINE_EVENT_KIND_BOUND);
  bound.set_node("node-1");
  bound.add_devices(0);
  bound.add_devices(1);
  REQUIRE(store->AppendTimeline({Event("team-a/p1", 100, K::TIMELINE_EVENT_KIND_SUBMITTED),
                                 Event("team-a/p1", 200, K::TIMELINE_EVENT_KIND_PENDING_REASON), bound})
              .ok());
  std::vector<TimelineEvent> t = *store->Timeline("team-a/p1", 100);
  REQUIRE(t.size() == 3);
  CHECK(t[0].kind() == K::TIMELINE_EVENT_KIND_SUBMITTED);
  CHECK(t[2].node() == "node-1");
  CHECK(t[2].devices_size() == 2);
  CHECK(t[0].sequence() < t[1].sequence());
  CHECK(store->Timeline("team-a/p", 100)->empty());  // a prefix of a key is another workload

  SECTION("per workload: the oldest go") {
    for (int i = 0; i < 10; ++i) REQUIRE(store->AppendTimeline({Event("team-a/p1", 1000 + i, K::TIMELINE_EVENT_KIND_PENDING_REASON)}).ok());
    t = *store->Timeline("team-a/p1", 100);
    REQUIRE(t.size() == 5);
    CHECK(t.front().unix_ms() == 1005);
    CHECK(store->Stats().timeline_events == 5);
  }
  SECTION("overall: the oldest go") {
    for (int w = 0; w < 5; ++w) {
      for (int i = 0; i < 3; ++i) {
        REQUIRE(store->AppendTimeline({Event("ns/w" + std::to_string(w), 1000 + w * 10 + i, K::TIMELINE_EVENT_KIND_PENDING_REASON)}).ok());
      }
    }
    CHECK(store->Stats().timeline_events == 12);
    CHECK(store->Timeline("team-a/p1", 100)->empty());
    CHECK(store->Timeline("ns/w4", 100)->size() == 3);
  }
  SECTION("overall, round after round: always the newest, then by age") {
    for (int i = 0; i < 40; ++i) {
      REQUIRE(store->AppendTimeline({Event("ns/r" + std::to_string(i), 1000 + i, K::TIMELINE_EVENT_KIND_SUBMITTED)}).ok());
    }
    CHECK(store->Stats().timeline_events == 12);
    CHECK(store->Timeline("ns/r27", 100)->empty());
    CHECK(store->Timeline("ns/r28", 100)->size() == 1);
    CHECK(store->Timeline("ns/r39", 100)->size() == 1);
    REQUIRE(store->AppendTimeline({Event("ns/late", 2 * kDay, K::TIMELINE_EVENT_KIND_SUBMITTED)}).ok());
    REQUIRE(store->Prune(2 * kDay + 1).ok());
    CHECK(store->Timeline("ns/r39", 100)->empty());
    CHECK(store->Timeline("ns/late", 100)->size() == 1);
    CHECK(store->Stats().timeline_events == 1);
  }
  SECTION("by age, at Prune") {
    REQUIRE(store->AppendTimeline({Event("ns/late", 2 * kDay, K::TIMELINE_EVENT_KIND_SUBMITTED)}).ok());
    REQUIRE(store->Prune(2 * kDay + 1).ok());
    CHECK(store->Timeline("team-a/p1", 100)->empty());
    CHECK(store->Timeline("ns/late", 100)->size() == 1);
    CHECK(store->Stats().timeline_events == 1);
  }
}

TEMPLATE_TEST_CASE("timers_are_replaced_deleted_and_listed", "[store]", MemoryFactory, RocksFactory) {
  TestType f;
  auto store = f.Open();
  WorkloadTimers a;
  a.set_workload("team-a/p1");
  a.set_waiting_since_unix_ms(1000);
  WorkloadTimers b = a;
  b.set_workload("team-b/p2");
  b.set_preemption_count(2);
  REQUIRE(store->PutTimers({a, b}).ok());
  a.set_preemption_count(1);
  REQUIRE(store->PutTimers({a}).ok());
  std::vector<WorkloadTimers> all = *store->AllTimers();
  REQUIRE(all.size() == 2);
  CHECK(all[0].workload() == "team-a/p1");
  CHECK(all[0].preemption_count() == 1);
  CHECK(all[0].waiting_since_unix_ms() == 1000);
  REQUIRE(store->DeleteTimers({"team-a/p1"}).ok());
  REQUIRE(store->AllTimers()->size() == 1);
  CHECK(store->AllTimers()->front().preemption_count() == 2);
}

TEMPLATE_TEST_CASE("a_record_that_does_not_decode_is_skipped_with_its_key_named", "[store]", MemoryFactory,
                   RocksFactory) {
  TestType f;
  auto store = f.Open();
  REQUIRE(store->Apply(0, Doc("one")).ok());
  KvBatch junk;
  junk.Put(Family::kRevisions, EncodeU64(2), std::string("\xff\xff\xff\xff", 4));
  junk.Put(Family::kTimers, "team-a/bad", std::string("\x0a\xff", 2));
  junk.Put(Family::kAudit, EncodeU64(1), std::string(1, '\x07'));
  REQUIRE(store->kv_for_testing()->Write(junk, true).ok());
  CHECK(store->ListRevisions(0, 10)->revisions.size() == 1);
  CHECK(store->GetRevision(2).status().code() == absl::StatusCode::kDataLoss);
  CHECK(store->AllTimers()->empty());
  CHECK(store->ListAudit({})->empty());
  StoreStats st = store->Stats();
  CHECK(st.decode_errors >= 4);
  CHECK_THAT(st.last_decode_error, Catch::Contains("audit key \"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01\""));
  CHECK(store->Active()->revision() == 1);
}

TEST_CASE("rocks_store_reopens_with_usage_timelines_and_timers", "[store]") {
  RocksFactory f;
  const int64_t t0 = 1000 * kDay;
  {
    auto store = f.Open();
    REQUIRE(store->RecordUsage({Sample("root.a", "A100", t0, 1000)}).ok());
    REQUIRE(store->AppendTimeline({Event("ns/p", t0, store::v1::TIMELINE_EVENT_KIND_SUBMITTED)}).ok());
    WorkloadTimers w;
    w.set_workload("ns/p");
    w.set_preemption_count(3);
    REQUIRE(store->PutTimers({w}).ok());
  }
  auto store = f.Open();
  // The hour's point continues after the restart instead of starting over.
  REQUIRE(store->RecordUsage({Sample("root.a", "A100", t0 + 10 * kMin, 3000)}).ok());
  std::vector<UsageSample> h = *store->QueryUsage({"root.a", "A100", t0, t0 + kHour, kHour});
  REQUIRE(h.size() == 1);
  CHECK(h[0].samples() == 2);
  CHECK(h[0].allocated() == 2000);
  REQUIRE(store->AppendTimeline({Event("ns/p", t0 + 1, store::v1::TIMELINE_EVENT_KIND_BOUND)}).ok());
  std::vector<TimelineEvent> t = *store->Timeline("ns/p", 10);
  REQUIRE(t.size() == 2);
  CHECK(t[1].sequence() == 2);
  CHECK(store->AllTimers()->front().preemption_count() == 3);
  CHECK(store->Stats().timeline_events == 2);
}

TEST_CASE("rocks_store_rebuilds_hour_points_a_crash_lost_from_the_minute_points", "[store]") {
  RocksFactory f;
  const int64_t t0 = 1000 * kDay;
  {
    auto store = f.Open();
    for (int m = 0; m < 30; ++m) REQUIRE(store->RecordUsage({Sample("root.a", "A100", t0 + m * kMin, 4000)}).ok());
  }  // a clean close writes the hour point; delete it as a crash would have lost it
  {
    auto store = f.Open();
    KvBatch lose;
    lose.Delete(Family::kUsageHour, UsageSeriesPrefix("root.a", "A100") + EncodeU64(static_cast<uint64_t>(t0)));
    REQUIRE(store->kv_for_testing()->Write(lose, true).ok());
  }
  auto store = f.Open();
  REQUIRE(store->RecordUsage({Sample("root.a", "A100", t0 + 3 * kHour, 1000)}).ok());
  std::vector<UsageSample> h = *store->QueryUsage({"root.a", "A100", t0, t0 + 4 * kHour, kHour});
  REQUIRE(h.size() == 2);
  CHECK(h[0].unix_ms() == t0);
  CHECK(h[0].samples() == 30);
  CHECK(h[0].allocated() == 4000);
  CHECK(h[1].allocated() == 1000);
}

TEST_CASE("rocks_store_corrupt_records_survive_reopen_and_are_skipped", "[store]") {
  RocksFactory f;
  {
    auto store = f.Open();
    REQUIRE(store->Apply(0, Doc("one")).ok());
    KvBatch junk;
    junk.Put(Family::kMeta, "active", std::string("\xff\xff", 2));
    junk.Put(Family::kRevisions, EncodeU64(7), "garbage\xff");
    REQUIRE(store->kv_for_testing()->Write(junk, true).ok());
  }
  auto store = f.Open();  // opens; takes the newest readable revision as active
  CHECK(store->Active()->revision() == 1);
  CHECK(store->Stats().decode_errors >= 2);
  CHECK_THAT(store->Stats().last_decode_error, Catch::Contains("store " + f.dir.path + "/db"));
}

TEST_CASE("rocks_store_open_errors_name_the_path_and_the_cause", "[store]") {
  TempDir dir;
  SECTION("locked by another opener") {
    absl::StatusOr<std::unique_ptr<RocksStore>> first = RocksStore::Open(dir.path + "/db");
    REQUIRE(first.ok());
    absl::StatusOr<std::unique_ptr<RocksStore>> second = RocksStore::Open(dir.path + "/db");
    REQUIRE(second.status().code() == absl::StatusCode::kUnavailable);
    CHECK_THAT(std::string(second.status().message()),
               Catch::Contains(dir.path + "/db") && Catch::Contains("another droverd holds this store"));
  }
  SECTION("a file where the directory should be") {
    std::ofstream(dir.path + "/file") << "x";
    absl::StatusOr<std::unique_ptr<RocksStore>> s = RocksStore::Open(dir.path + "/file");
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(std::string(s.status().message()), Catch::Contains(dir.path + "/file"));
  }
  SECTION("a missing directory is created") {
    CHECK(RocksStore::Open(dir.path + "/a/b/c").ok());
  }
  SECTION("causes map to codes") {
    CHECK(RocksError("IO error: No space left on device", "/d", "write").code() ==
          absl::StatusCode::kResourceExhausted);
    CHECK(RocksError("IO error: While mkdir: /d: Permission denied", "/d", "open").code() ==
          absl::StatusCode::kPermissionDenied);
    CHECK(RocksError("IO error: Read-only file system", "/d", "open").code() == absl::StatusCode::kPermissionDenied);
    CHECK(RocksError("Corruption: bad block", "/d", "read").code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(std::string(RocksError("IO error: No space left on device", "/d", "write").message()),
               Catch::Contains("store \"/d\": cannot write") && Catch::Contains("the disk is full"));
  }
}

}  // namespace
}  // namespace drover::testing
