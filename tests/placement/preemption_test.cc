// Preemption: only for an entitled pod, the smallest victim set, never Tier 0,
// the preemptor nominated, and no ping-pong over a long contended run.
#include <map>
#include <random>
#include <set>

#include "tests/placement/harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

constexpr const char* kQueues = kTwoTeamsAndScratch;

EngineOptions AtOnceNoReservations() {
  EngineOptions o = PreemptAtOnce();
  o.reservation_after_ms = 0;
  return o;
}

}  // namespace

TEST_CASE("preemption_picks_the_minimal_victim_set_and_nominates_the_preemptor", "[placement][preemption]") {
  Harness h(kQueues, AtOnceNoReservations());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  // team-b uses all 16 A100 (8 borrowed). a100-0: four 2-GPU pods (two victims would
  // be needed); a100-1: one 4-GPU pod (one victim) and 4 GPUs of Tier 0.
  for (int i = 0; i < 4; ++i) h.AddRunning(GpuPod("b2-" + std::to_string(i), "team-b", 2, "", 1), "a100-0");
  h.AddRunning(GpuPod("b4", "team-b", 4, "", 1), "a100-1");
  h.AddRunning(GpuPod("b-t0", "team-b", 4, "", 0), "a100-1");
  h.AddPod(GpuPod("a", "team-a", 4));
  Decisions d = h.Cycle();  // evicted pods are deleted, as the cluster would
  REQUIRE(d.evictions.size() == 1);
  CHECK(d.evictions[0].pod_key == "ns/b4");
  CHECK(d.evictions[0].preemptor_key == "ns/a");
  REQUIRE(d.pending.size() == 1);
  CHECK(d.pending[0].pod_key == "ns/a");
  CHECK(d.pending[0].nominated_node == "a100-1");
  h.Cycle();
  CHECK(h.NodeOf("ns/a") == "a100-1");
  for (int i = 0; i < 4; ++i) CHECK(h.NodeOf("ns/b2-" + std::to_string(i)) == "a100-0");
}

TEST_CASE("preemption_takes_tier2_first_and_never_tier0", "[placement][preemption]") {
  SECTION("in-queue: a Tier 1 pod evicts the Tier 2 pod, not the Tier 0 one") {
    Harness h(R"(
queues:
  children:
    - name: q
      guaranteed: {gpu: {A100: 8}}
)", AtOnceNoReservations());
    h.AddNode(GpuNode("a100-0", kA100, 8));
    h.AddRunning(GpuPod("t0", "q", 4, "", 0), "a100-0");
    h.AddRunning(GpuPod("t2", "q", 4, "", 2), "a100-0");
    h.AddPod(GpuPod("p", "q", 4, "", 1));
    Decisions d = h.Cycle();
    REQUIRE(d.evictions.size() == 1);
    CHECK(d.evictions[0].pod_key == "ns/t2");
  }
  SECTION("only Tier 0 could make room: nothing is evicted") {
    Harness h(R"(
queues:
  children:
    - name: q
      guaranteed: {gpu: {A100: 8}}
)", AtOnceNoReservations());
    h.AddNode(GpuNode("a100-0", kA100, 8));
    h.AddRunning(GpuPod("t0a", "q", 4, "", 0), "a100-0");
    h.AddRunning(GpuPod("t0b", "q", 4, "", 0), "a100-0");
    Pod p = GpuPod("p", "q", 4, "", 0);
    p.priority = 1000;  // outranks them by priority, but Tier 0 is never preempted
    h.AddPod(p);
    Decisions d = h.Cycle();
    CHECK(d.evictions.empty());
    CHECK_FALSE(h.Bound("ns/p"));
  }
  SECTION("reclaim: borrowed Tier 2 before borrowed Tier 1") {
    Harness h(kQueues, AtOnceNoReservations());
    h.AddNode(GpuNode("a100-0", kA100, 8));
    h.AddNode(GpuNode("a100-1", kA100, 8));
    h.AddRunning(GpuPod("b-t0", "team-b", 8, "", 0), "a100-0");
    h.AddRunning(GpuPod("b-t1", "team-b", 4, "", 1), "a100-1");
    h.AddRunning(GpuPod("b-t2", "team-b", 4, "", 2), "a100-1");
    h.AddPod(GpuPod("a", "team-a", 4));
    Decisions d = h.Cycle();
    REQUIRE(d.evictions.size() == 1);
    CHECK(d.evictions[0].pod_key == "ns/b-t2");
  }
}

TEST_CASE("an_unentitled_pod_never_preempts", "[placement][preemption]") {
  Harness h(kQueues, AtOnceNoReservations());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  h.AddRunning(GpuPod("b0", "team-b", 8, "", 2), "a100-0");
  h.AddRunning(GpuPod("b1", "team-b", 8, "", 2), "a100-1");  // 8 borrowed, all Tier 2
  SECTION("a queue with no guaranteed, however high its priority") {
    Pod p = GpuPod("s", "scratch", 4, "", 1);
    p.priority = 100000;
    h.AddPod(p);
    CHECK(h.Cycle().evictions.empty());
  }
  SECTION("a queue whose guaranteed this pod would exceed") {
    h.AddPod(GpuPod("a-big", "team-a", 8));
    Decisions d = h.Cycle();
    REQUIRE(d.evictions.size() == 1);  // 8 is within team-a's guaranteed: entitled
    h.Cycle();
    REQUIRE(h.Bound("ns/a-big"));
    h.AddPod(GpuPod("a-more", "team-a", 1));  // 9 > 8 guaranteed: not entitled
    CHECK(h.Cycle().evictions.empty());
    CHECK_FALSE(h.Bound("ns/a-more"));
  }
  SECTION("in its own queue, a pod that does not outrank the running ones") {
    Harness q(R"(
queues:
  children:
    - name: q
)", AtOnceNoReservations());
    q.AddNode(GpuNode("a100-0", kA100, 8));
    q.AddRunning(GpuPod("r1", "q", 8, "", 1), "a100-0");
    q.AddPod(GpuPod("same-tier", "q", 4, "", 1));
    q.AddPod(GpuPod("lower-tier", "q", 4, "", 2));
    CHECK(q.Cycle().evictions.empty());
  }
}

// Two teams with 16 guaranteed each on 32 GPUs, both with a bottomless backlog of
// pods of random tier and priority; pods complete at random and evicted pods are
// resubmitted. Every eviction must be entitled, and no preemption is ever undone
// by the pod it displaced (A evicts B, then B evicts A).
TEST_CASE("no_ping_pong_in_a_long_contended_run", "[placement][preemption]") {
  Harness h(R"(
queues:
  children:
    - name: a
      guaranteed: {gpu: {A100: 16}}
    - name: b
      guaranteed: {gpu: {A100: 16}}
)", AtOnceNoReservations());
  for (int i = 0; i < 4; ++i) h.AddNode(GpuNode("a100-" + std::to_string(i), kA100, 8));
  std::mt19937_64 rng(42);
  std::map<std::string, Pod> pods;  // every pod ever submitted, by key
  std::map<std::string, int> pending_by_queue;
  int next = 0;
  auto submit = [&](const std::string& queue) {
    const int tier = static_cast<int>(rng() % 3);
    Pod p = GpuPod(queue + std::to_string(next++), queue, tier == 0 ? 2 : (rng() % 2 ? 2 : 4), "", tier);
    p.priority = static_cast<int32_t>(rng() % 3);
    pods[p.Key()] = p;
    h.AddPod(p);
  };
  // b starts alone and borrows the whole cluster; a arrives later.
  for (int i = 0; i < 20; ++i) submit("b");
  h.Cycle();
  const GpuTypeId a100 = h.engine->catalog().FindType("A100");
  std::set<std::pair<std::string, std::string>> preempted;  // (preemptor, victim)
  std::vector<std::string> running;
  int evictions = 0;
  std::map<std::string, int> evicted_times;
  std::map<QueueId, int64_t> usage_at_start;
  for (int cycle = 0; cycle < 400; ++cycle) {
    if (cycle == 5) {
      for (int i = 0; i < 20; ++i) submit("a");
    }
    // Keep both backlogs deep; complete a random running pod now and then.
    for (const std::string q : {"a", "b"}) {
      if (cycle >= 5 || q == "b") {
        while (h.engine->queues().queue(h.engine->queues().Find("root." + q)).pending_pods < 6) submit(q);
      }
    }
    running.clear();
    for (const auto& [key, p] : pods) {
      if (h.Bound(key)) running.push_back(key);
    }
    if (!running.empty() && rng() % 4 == 0) h.DeletePod(running[rng() % running.size()]);

    for (const char* q : {"root.a", "root.b"}) {
      const QueueId id = h.engine->queues().Find(q);
      usage_at_start[id] = h.engine->queues().queue(id).usage[QGpu(a100)];
    }
    Decisions d = h.engine->RunCycle(h.now_ms);
    h.now_ms += 1000;
    std::map<QueueId, int64_t> taken;
    for (const Eviction& ev : d.evictions) {
      ++evictions;
      CHECK(++evicted_times[ev.pod_key] <= h.engine->options().max_preemptions_per_pod);
      const Pod& victim = pods.at(ev.pod_key);
      const Pod& preemptor = pods.at(ev.preemptor_key);
      INFO(ev.pod_key << " evicted by " << ev.preemptor_key << ": " << ev.reason);
      CHECK(victim.annotations.Get("drover.io/tier") != nullptr);
      CHECK(*victim.annotations.Get("drover.io/tier") != "0");  // never Tier 0
      CHECK_FALSE(preempted.contains({ev.pod_key, ev.preemptor_key}));  // no ping-pong
      preempted.insert({ev.preemptor_key, ev.pod_key});
      const QueueTree& t = h.engine->queues();
      const QueueId vq = t.Find("root." + *victim.annotations.Get("drover.io/queue"));
      const QueueId pq = t.Find("root." + *preemptor.annotations.Get("drover.io/queue"));
      if (vq == pq) {
        // In-queue: the preemptor outranks its victim.
        const int vt = std::stoi(*victim.annotations.Get("drover.io/tier"));
        const int pt = std::stoi(*preemptor.annotations.Get("drover.io/tier"));
        CHECK((pt < vt || (pt == vt && preemptor.priority > victim.priority)));
      } else {
        // Reclaim: the preemptor's queue stays within its guaranteed, the victim's at or above it.
        CHECK(usage_at_start[pq] + preemptor.requests[Res::kGpu] <= t.queue(pq).guaranteed[QGpu(a100)]);
        taken[vq] += victim.requests[Res::kGpu];
        CHECK(t.queue(vq).usage[QGpu(a100)] - taken[vq] >= t.queue(vq).guaranteed[QGpu(a100)]);
      }
    }
    // Carry the decisions out; evicted pods come back as new submissions of the same pod.
    for (const Binding& b : d.binds) {
      Pod bound = pods.at(b.pod_key);
      bound.node_name = b.node;
      bound.phase = PodPhase::kRunning;
      bound.gpu_device_ids = b.gpu_devices;
      h.AddPod(bound);
    }
    for (const Eviction& ev : d.evictions) {
      h.DeletePod(ev.pod_key);
      h.AddPod(pods.at(ev.pod_key));
    }
    REQUIRE(h.engine->CheckInvariants().empty());
  }
  CHECK(evictions > 0);  // the run did contend
}

namespace {

// A 30 s preemption delay, and team-b using all 16 A100 (8 borrowed), all Tier 2.
EngineOptions DelayedPreemption() {
  EngineOptions o;
  o.reservation_after_ms = 0;
  o.preemption_delay_ms = 30 * 1000;
  return o;
}

void FillWithBorrowedTier2(Harness& h) {
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  h.AddRunning(GpuPod("b0", "team-b", 8, "", 2), "a100-0");
  h.AddRunning(GpuPod("b1", "team-b", 8, "", 2), "a100-1");
}

}  // namespace

TEST_CASE("preemption_waits_for_the_delay_and_is_not_needed_when_capacity_frees", "[placement][preemption]") {
  Harness h(kQueues, DelayedPreemption());
  FillWithBorrowedTier2(h);
  h.AddPod(GpuPod("a", "team-a", 4));                         // entitled to reclaim
  SECTION("no eviction before the delay; the engine asks to be woken when it ends") {
    CHECK(h.Cycle(10 * 1000).evictions.empty());  // t = 0: first failed attempt
    CHECK(h.engine->NextWakeupMs() == 30 * 1000);
    CHECK(h.Cycle(20 * 1000).evictions.empty());  // t = 10 s
    h.now_ms = 29 * 1000;
    CHECK(h.Cycle().evictions.empty());           // t = 29 s
    h.now_ms = 30 * 1000;
    Decisions d = h.Cycle();                      // t = 30 s: the delay is over
    REQUIRE(d.evictions.size() == 1);
    CHECK(d.evictions[0].preemptor_key == "ns/a");
    CHECK(h.engine->stats().preemptions == 1);
  }
  SECTION("capacity that frees within the delay is used instead") {
    CHECK(h.Cycle(10 * 1000).evictions.empty());
    h.DeletePod("ns/b1");  // completes on its own
    Decisions d = h.Cycle();
    CHECK(d.evictions.empty());
    REQUIRE(d.binds.size() == 1);
    CHECK(d.binds[0].pod_key == "ns/a");
    h.now_ms = 60 * 1000;
    CHECK(h.Cycle().evictions.empty());
    CHECK(h.engine->stats().preemptions == 0);
  }
}

TEST_CASE("a_tier0_pod_reclaims_its_guaranteed_without_the_delay", "[placement][preemption]") {
  Harness h(kQueues, DelayedPreemption());
  FillWithBorrowedTier2(h);
  h.AddPod(GpuPod("a-t0", "team-a", 4, "", 0));
  Decisions d = h.Cycle();
  REQUIRE(d.evictions.size() == 1);
  CHECK(d.evictions[0].preemptor_key == "ns/a-t0");
}

namespace {

// batch's one guaranteed GPU keeps one of its pods from reclaim.
constexpr const char* kGangQueues = R"(
queues:
  children:
    - name: train
      guaranteed: {gpu: {A100: 16}}
    - name: batch
      guaranteed: {gpu: {A100: 1}}
)";

// batch has no guaranteed: all it runs is borrowed.
constexpr const char* kGangQueuesBatchBorrows = R"(
queues:
  children:
    - name: train
      guaranteed: {gpu: {A100: 16}}
    - name: batch
)";

}  // namespace

// A team below its guaranteed reclaims it for a gang: victims on as many nodes as
// the gang needs, the nodes held for the gang until it binds there.
TEST_CASE("a_gang_reclaims_its_guaranteed_on_several_nodes", "[placement][preemption]") {
  Harness h(kGangQueuesBatchBorrows, AtOnceNoReservations());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  // batch borrows both nodes with 1-GPU Tier-2 pods.
  for (int i = 0; i < 16; ++i) h.AddPod(GpuPod("b" + std::to_string(i), "batch", 1, "", 2));
  h.Cycle();
  for (int i = 0; i < 16; ++i) REQUIRE(h.Bound("ns/b" + std::to_string(i)));
  h.AddPod(GangMember("job", 0, 2, "train", 8));
  h.AddPod(GangMember("job", 1, 2, "train", 8));
  Decisions d = h.Cycle();  // the evicted pods are deleted, as the cluster would
  CHECK(d.evictions.size() == 16);
  for (const Eviction& e : d.evictions) CHECK(e.preemptor_key.rfind("ns/job-", 0) == 0);
  CHECK_THAT(h.engine->WhyPending("ns/job-0"), Catch::Contains("Preempting 16 pod(s) on 2 node(s) for the gang"));
  // A new batch pod does not take the space held for the gang.
  h.AddPod(GpuPod("late", "batch", 1, "", 2));
  h.Cycle();
  CHECK(h.Bound("ns/job-0"));
  CHECK(h.Bound("ns/job-1"));
  CHECK(h.NodeOf("ns/job-0") != h.NodeOf("ns/job-1"));
  CHECK_FALSE(h.Bound("ns/late"));
}

// All or none: a gang that cannot be given every node it needs evicts nobody.
TEST_CASE("a_gang_preempts_all_or_none", "[placement][preemption]") {
  Harness h(kGangQueues, AtOnceNoReservations());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  // a100-1 keeps a Tier-0 pod of batch (never evicted): only a100-0 can be freed.
  h.AddRunning(GpuPod("b-t0", "batch", 1, "", 0), "a100-1");
  for (int i = 0; i < 15; ++i) h.AddPod(GpuPod("b" + std::to_string(i), "batch", 1, "", 2));
  h.Cycle();
  h.AddPod(GangMember("job", 0, 2, "train", 8));
  h.AddPod(GangMember("job", 1, 2, "train", 8));
  Decisions d = h.Cycle();
  CHECK(d.evictions.empty());
  CHECK(h.engine->stats().preemptions == 0);
  // With 7 GPUs per member it fits: one member where the Tier-0 pod stays.
  h.DeletePod("ns/job-0");
  h.DeletePod("ns/job-1");
  h.AddPod(GangMember("small", 0, 2, "train", 7));
  h.AddPod(GangMember("small", 1, 2, "train", 7));
  d = h.Cycle();
  CHECK_FALSE(d.evictions.empty());
  h.Cycle();
  CHECK(h.Bound("ns/small-0"));
  CHECK(h.Bound("ns/small-1"));
  CHECK(h.Bound("ns/b-t0"));
}

// A gang whose queue would go above its guaranteed is not entitled to reclaim.
TEST_CASE("a_gang_beyond_its_guaranteed_does_not_reclaim", "[placement][preemption]") {
  Harness h(kGangQueues, AtOnceNoReservations());
  for (int n = 0; n < 3; ++n) h.AddNode(GpuNode("a100-" + std::to_string(n), kA100, 8));
  for (int i = 0; i < 24; ++i) h.AddPod(GpuPod("b" + std::to_string(i), "batch", 1, "", 2));
  h.Cycle();
  for (int m = 0; m < 3; ++m) h.AddPod(GangMember("job", m, 3, "train", 8));  // 24 GPUs > 16 guaranteed
  Decisions d = h.Cycle();
  CHECK(d.evictions.empty());
}

// A victim's queue directly under the common ancestor is its own branch: what it
// gives up counts once. team-b borrows exactly 2 GPUs; team-a's 2-GPU pod takes
// both back (counted twice, the second would seem to cut into team-b's guaranteed).
TEST_CASE("reclaim_takes_all_that_a_sibling_queue_borrowed", "[placement][preemption]") {
  Harness h(kQueues, AtOnceNoReservations());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  h.AddRunning(GpuPod("a-run", "team-a", 6, "", 1), "a100-0");
  for (int i = 0; i < 2; ++i) h.AddRunning(GpuPod("b-x" + std::to_string(i), "team-b", 1, "", 2), "a100-0");
  for (int i = 0; i < 8; ++i) h.AddRunning(GpuPod("b-y" + std::to_string(i), "team-b", 1, "", 2), "a100-1");
  h.AddPod(GpuPod("a-new", "team-a", 2, "", 1));
  Decisions d = h.Cycle();
  CHECK(d.evictions.size() == 2);
  h.Cycle();
  CHECK(h.Bound("ns/a-new"));
}

// A gang that found no victims searches again only after gang_preemption_retry_ms
// (its search spans many nodes), then preempts as soon as it may.
TEST_CASE("a_gang_searches_for_victims_again_after_the_retry_interval", "[placement][preemption]") {
  Harness h(kGangQueuesBatchBorrows, AtOnceNoReservations());
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddNode(GpuNode("a100-1", kA100, 8));
  Pod foreign = GpuPod("b-t0", "", 1);
  foreign.scheduler_name = "default-scheduler";  // not ours: never a victim
  h.AddRunning(foreign, "a100-1");
  for (int i = 0; i < 15; ++i) h.AddPod(GpuPod("b" + std::to_string(i), "batch", 1, "", 2));
  h.Cycle();
  h.AddPod(GangMember("job", 0, 2, "train", 8));
  h.AddPod(GangMember("job", 1, 2, "train", 8));
  h.now_ms = 100 * 1000;
  CHECK(h.Cycle().evictions.empty());  // a100-1 cannot be freed: b-t0 is not ours
  h.now_ms = 110 * 1000;
  h.DeletePod("ns/b-t0");                // now both nodes could be
  CHECK(h.Cycle().evictions.empty());    // within the retry interval
  h.now_ms = 130 * 1000;
  Decisions d = h.Cycle();
  CHECK(d.evictions.size() == 15);
  h.Cycle();
  CHECK(h.Bound("ns/job-0"));
  CHECK(h.Bound("ns/job-1"));
}

TEST_CASE("restored_timers_keep_the_preemption_delay_waited_and_the_preemption_counts_across_a_restart",
          "[placement][preemption]") {
  std::vector<std::pair<std::string, PodTimers>> saved;
  {
    Harness h(kQueues, DelayedPreemption());
    FillWithBorrowedTier2(h);
    h.AddPod(GpuPod("a", "team-a", 4));
    CHECK(h.Cycle(20 * 1000).evictions.empty());  // t = 0: first failed attempt
    saved = h.engine->TakeTimerChanges();
    REQUIRE(saved.size() == 1);
    CHECK(saved[0].first == "ns/a");
    CHECK(saved[0].second.waiting_since_ms == 0);
    CHECK(h.engine->TakeTimerChanges().empty());  // taken
  }
  SECTION("the delay counts from before the restart") {
    Harness h(kQueues, DelayedPreemption());
    h.engine->RestoreTimers({saved.begin(), saved.end()});
    FillWithBorrowedTier2(h);
    h.AddPod(GpuPod("a", "team-a", 4));
    h.now_ms = 20 * 1000;
    CHECK(h.Cycle(10 * 1000).evictions.empty());  // t = 20 s
    Decisions d = h.Cycle();                      // t = 30 s: 30 s since the first failure, not 10
    REQUIRE(d.evictions.size() == 1);
    std::vector<std::pair<std::string, PodTimers>> changes = h.engine->TakeTimerChanges();
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].second.preemptions == 1);  // the victim's count
  }
  SECTION("victims preempted max_preemptions_per_pod times before the restart are spared") {
    Harness h(kQueues, DelayedPreemption());
    h.engine->RestoreTimers({{"ns/b0", PodTimers{-1, 3}}, {"ns/b1", PodTimers{-1, 3}}});
    FillWithBorrowedTier2(h);
    h.AddPod(GpuPod("a", "team-a", 4));
    h.now_ms = 60 * 1000;
    CHECK(h.Cycle().evictions.empty());
    h.now_ms = 120 * 1000;
    CHECK(h.Cycle().evictions.empty());
  }
}
