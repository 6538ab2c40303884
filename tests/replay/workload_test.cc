// The replay's workload generator and the three variant set-ups (sim/replay.h).
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

#include "core/strings.h"
#include "queues/queue_tree.h"
#include "tests/replay/replay_fixture.h"

namespace drover::replay {
namespace {

using testing::SmallSpec;
using testing::SmallTables;

Workload MustBuild(const ReplaySpec& spec) {
  absl::StatusOr<Workload> w = Build(spec, SmallTables());
  INFO((w.ok() ? std::string() : std::string(w.status().message())));
  REQUIRE(w.ok());
  return std::move(*w);
}

// Everything of a pod the engine reads, as one string.
std::string Describe(const SimPod& p) {
  std::string s = StrCat(p.pod.Key(), "@", p.submit_ms, "+", p.duration_ms, " r=", p.pod.requests.ToString(), " pr=",
                         p.pod.priority, " sel=", p.pod.node_selector.size(), " tol=", p.pod.tolerations.size());
  for (const auto& [k, v] : p.pod.annotations.items()) StrAppend(&s, " ", k, "=", v);
  return s;
}

// A big sample for proportions: 24 h at 50x the cluster's GPUs.
ReplaySpec BigSpec(uint64_t seed) {
  ReplaySpec s = SmallSpec(seed);
  s.peak_hours = 24;
  s.peak_load = 50;
  s.offpeak_hours = 0;
  return s;
}

TEST_CASE("replay_workload_is_deterministic_per_seed", "[replay]") {
  const Workload a = MustBuild(BigSpec(7));
  const Workload b = MustBuild(BigSpec(7));
  const Workload c = MustBuild(BigSpec(8));
  REQUIRE(a.pods.size() > 1000);
  REQUIRE(a.pods.size() == b.pods.size());
  for (size_t i = 0; i < a.pods.size(); ++i) {
    REQUIRE(Describe(a.pods[i]) == Describe(b.pods[i]));
    REQUIRE(a.info[i].team == b.info[i].team);
    REQUIRE(a.info[i].tier == b.info[i].tier);
  }
  for (size_t t = 0; t < a.teams.size(); ++t) CHECK(a.teams[t].load == b.teams[t].load);
  // Another seed gives another workload.
  size_t same = 0;
  for (size_t i = 0; i < std::min(a.pods.size(), c.pods.size()); ++i) same += Describe(a.pods[i]) == Describe(c.pods[i]);
  CHECK(same < a.pods.size() / 10);
}

TEST_CASE("replay_tier_mix_and_gangs_are_within_tolerance", "[replay]") {
  const Workload w = MustBuild(BigSpec(3));
  const double n = static_cast<double>(w.pods.size());
  double tiers[3] = {0, 0, 0};
  std::map<std::string, std::vector<size_t>> gangs;
  for (size_t i = 0; i < w.pods.size(); ++i) {
    ++tiers[w.info[i].tier];
    if (!w.info[i].gang.empty()) gangs[w.info[i].gang].push_back(i);
    // The annotation says the same as the record, and the priority follows the tier.
    CHECK(*w.pods[i].pod.annotations.Get(annotations::kTier) == StrCat(w.info[i].tier));
    CHECK(w.pods[i].pod.priority == kTierPriority[w.info[i].tier]);
  }
  INFO("tiers " << tiers[0] / n << " " << tiers[1] / n << " " << tiers[2] / n << ", demoted " << w.tier0_demoted);
  // Tier-0 draws that fit none of the team's guaranteed nodes (and gangs) became Tier 1.
  const double demoted = static_cast<double>(w.tier0_demoted) / n;
  CHECK(std::abs(tiers[0] / n + demoted - 0.2) < 0.03);
  CHECK(std::abs(tiers[1] / n - demoted - 0.6) < 0.03);
  CHECK(std::abs(tiers[2] / n - 0.2) < 0.03);
  size_t members = 0;
  for (const auto& [name, idx] : gangs) {
    members += idx.size();
    const SimPod& first = w.pods[idx[0]];
    CHECK(idx.size() >= 2);
    CHECK(idx.size() <= 4);
    CHECK(first.pod.gpu_devices >= 2);  // gangs are multi-GPU pods
    CHECK(w.info[idx[0]].tier != 0);     // and training jobs, never Tier 0
    for (size_t i : idx) {
      const SimPod& p = w.pods[i];
      CHECK(*p.pod.annotations.Get(annotations::kGang) == name);
      CHECK(*p.pod.annotations.Get(annotations::kGangMinMembers) == StrCat(idx.size()));
      CHECK(p.submit_ms == first.submit_ms);
      CHECK(p.duration_ms == first.duration_ms);
      CHECK(p.pod.requests == first.pod.requests);
      CHECK(w.info[i].team == w.info[idx[0]].team);
      CHECK(w.info[i].tier == w.info[idx[0]].tier);
    }
  }
  INFO("gang members " << members << " of " << n << " in " << gangs.size() << " gangs");
  CHECK(gangs.size() > 10);
  CHECK(std::abs(static_cast<double>(members) / n - 0.02) < 0.01);
  // Pods without a gang annotation are not gang members.
  for (size_t i = 0; i < w.pods.size(); ++i) {
    CHECK((w.pods[i].pod.annotations.Get(annotations::kGang) == nullptr) == w.info[i].gang.empty());
  }
}

TEST_CASE("replay_durations_are_capped_and_unscheduled_rows_take_the_median", "[replay]") {
  const Workload w = MustBuild(BigSpec(5));
  // Known durations 100, 3000, 7200, 200000, 3000, 7200: the median (lower middle) is 3000 s.
  CHECK(w.median_duration_s == 3000);
  std::map<std::string, int64_t> by_row;  // trace row -> duration seen
  std::set<size_t> rows_seen;
  for (size_t i = 0; i < w.pods.size(); ++i) {
    const int64_t d = w.pods[i].duration_ms;
    rows_seen.insert(w.info[i].row);
    const int64_t want[] = {600, 3000, 7200, 86400, 3000, 3000, 3000, 7200};  // rows p-00 .. p-07
    if (w.info[i].initial) {
      // In flight at time 0: the remaining part of the capped duration, at least 1 min.
      CHECK(d >= 60 * 1000);
      CHECK(d <= want[w.info[i].row] * 1000);
    } else {
      CHECK(d == want[w.info[i].row] * 1000);
    }
    CHECK(w.info[i].median_duration == (w.info[i].row == 4 || w.info[i].row == 5));
  }
  CHECK(rows_seen.size() == 8);
}

TEST_CASE("replay_arrivals_exceed_capacity_in_the_peak_then_ease", "[replay]") {
  ReplaySpec spec = SmallSpec(11);
  spec.peak_hours = 12;
  spec.offpeak_hours = 12;
  spec.peak_load = 2.0;
  spec.offpeak_load = 0.5;
  spec.initial_load = 0;  // the arrival stream alone (work in flight at time 0 is tested below)
  const Workload w = MustBuild(spec);
  CHECK(w.gpu_capacity == 8 * 8 + 6 * 2 + 4);
  CHECK(w.nodes.size() == 18);  // the CPU-only node is left out
  CHECK(w.horizon_ms == 24 * 3600 * 1000LL);
  double peak = 0, off = 0;
  for (const SimPod& p : w.pods) {
    REQUIRE(p.submit_ms >= 0);
    REQUIRE(p.submit_ms < w.horizon_ms);
    const double gpu_h = static_cast<double>(p.pod.requests[Res::kGpu]) / 1000.0 * static_cast<double>(p.duration_ms) / 3.6e6;
    (p.submit_ms < 12 * 3600 * 1000LL ? peak : off) += gpu_h;
  }
  const double peak_load = peak / (12.0 * static_cast<double>(w.gpu_capacity));
  const double off_load = off / (12.0 * static_cast<double>(w.gpu_capacity));
  INFO("offered load: peak " << peak_load << ", off-peak " << off_load);
  CHECK(peak_load > 1.4);  // demand well above capacity (2.0 expected; the sample is small)
  CHECK(peak_load < 2.8);
  CHECK(off_load < 1.0);
}

TEST_CASE("replay_guarantees_follow_helios_vc_sizes_in_whole_nodes", "[replay]") {
  const Workload w = MustBuild(SmallSpec(1));
  // Last day: vcAa 64, vcBb 32, vcDd 16 (vcCc is 0 that day), largest first.
  REQUIRE(w.teams.size() == 3);
  CHECK(w.teams[0].name == "vcaa");
  CHECK(w.teams[1].name == "vcbb");
  CHECK(w.teams[2].name == "vcdd");
  CHECK(w.teams[0].share == Approx(64.0 / 112));
  std::map<std::string, int> node_gpus;
  for (const SimNode& n : w.nodes) node_gpus[n.node.name] = n.node.gpu_count;
  std::map<std::string, int64_t> sum_by_type;
  std::set<std::string> pooled;
  for (const Team& t : w.teams) {
    int64_t pool_gpus = 0;
    for (const std::string& n : t.pool_nodes) {
      CHECK(pooled.insert(n).second);  // a node is in one pool at most
      CHECK(w.node_pool.at(n) == t.name);
      pool_gpus += node_gpus.at(n);
    }
    CHECK(pool_gpus == t.guaranteed_gpus());  // the pool is exactly the guaranteed
    for (const auto& [type, g] : t.guaranteed) sum_by_type[type] += g;
  }
  for (const auto& [type, gpus] : w.gpus_by_type) {
    // 40% of each type, give or take half a node.
    const double node = type == "G2" ? 8 : type == "T4" ? 2 : 1;
    CHECK(std::abs(static_cast<double>(sum_by_type[type]) - 0.4 * static_cast<double>(gpus)) <= node / 2 + 1e-9);
  }
  CHECK(w.teams[0].guaranteed_gpus() > w.teams[1].guaranteed_gpus());
  CHECK(w.teams[1].guaranteed_gpus() > w.teams[2].guaranteed_gpus());
}

TEST_CASE("replay_variants_are_configured_as_specified", "[replay]") {
  ReplaySpec spec = SmallSpec(2);
  spec.peak_load = 6;
  const Workload w = MustBuild(spec);
  REQUIRE(w.pods.size() > 20);
  bool saw_tier[3] = {false, false, false};
  for (const PodInfo& i : w.info) saw_tier[i.tier] = true;
  REQUIRE((saw_tier[0] && saw_tier[1] && saw_tier[2]));

  SECTION("a: spread, one root queue, priorities only") {
    auto s = MakeVariant(w, Variant::kDefault);
    REQUIRE(s.ok());
    CHECK(s->options.policy == "spread");
    CHECK(s->options.preemption);
    CHECK(QueueTree(s->config).size() == 1);
    for (size_t i = 0; i < s->input.pods.size(); ++i) {
      const Pod& p = s->input.pods[i].pod;
      CHECK(p.annotations.Get(annotations::kQueue) == nullptr);
      CHECK(p.annotations.Get(annotations::kTier) == nullptr);
      CHECK(p.priority == kTierPriority[w.info[i].tier]);
      CHECK(p.node_selector.empty());
    }
    for (const SimNode& n : s->input.nodes) CHECK(n.node.taints.empty());
  }
  SECTION("b: Tier-0 pools by taint and nodeSelector, binpack, only Tier 2 preemptible") {
    auto s = MakeVariant(w, Variant::kV1Pools);
    REQUIRE(s.ok());
    CHECK(s->options.policy == "binpack");
    CHECK(QueueTree(s->config).size() == 1);
    int tainted = 0;
    for (const SimNode& n : s->input.nodes) {
      auto pool = w.node_pool.find(n.node.name);
      if (pool == w.node_pool.end()) {
        CHECK(n.node.taints.empty());
        CHECK(n.node.labels.Get(kPoolKey) == nullptr);
        continue;
      }
      ++tainted;
      REQUIRE(n.node.taints.size() == 1);
      CHECK(n.node.taints[0].key == kPoolKey);
      CHECK(n.node.taints[0].value == pool->second);
      CHECK(*n.node.labels.Get(kPoolKey) == pool->second);
    }
    CHECK(tainted == static_cast<int>(w.node_pool.size()));
    CHECK(tainted > 0);
    for (size_t i = 0; i < s->input.pods.size(); ++i) {
      const Pod& p = s->input.pods[i].pod;
      const PodInfo& info = w.info[i];
      CHECK(p.annotations.Get(annotations::kQueue) == nullptr);
      CHECK(*p.annotations.Get(annotations::kTier) == (info.tier == 2 ? "2" : "1"));
      if (info.tier == 0) {
        REQUIRE(p.node_selector.Get(kPoolKey) != nullptr);
        CHECK(*p.node_selector.Get(kPoolKey) == w.teams[info.team].name);
        REQUIRE(p.tolerations.size() == 1);
        CHECK(p.tolerations[0].value == w.teams[info.team].name);
      } else {
        CHECK(p.node_selector.empty());
        CHECK(p.tolerations.empty());
      }
    }
  }
  SECTION("c: a queue per team with its guaranteed per GPU type; binpack and drover-frag") {
    for (Variant v : {Variant::kDroverBinpack, Variant::kDroverFrag}) {
      auto s = MakeVariant(w, v);
      REQUIRE(s.ok());
      CHECK(s->options.policy == (v == Variant::kDroverBinpack ? "binpack" : "drover-frag"));
      QueueTree tree(s->config);
      CHECK(tree.size() == 1 + static_cast<int>(w.teams.size()));
      for (const Team& t : w.teams) {
        const QueueId q = tree.Find(t.queue_path());
        REQUIRE(q != kNoQueue);
        for (const auto& [type, g] : t.guaranteed) {
          const GpuTypeId id = s->config.catalog.FindType(type);
          REQUIRE(id != kNoGpuType);
          CHECK(tree.queue(q).guaranteed[QGpu(id)] == g * 1000);
        }
      }
      for (size_t i = 0; i < s->input.pods.size(); ++i) {
        const Pod& p = s->input.pods[i].pod;
        CHECK(*p.annotations.Get(annotations::kQueue) == w.teams[w.info[i].team].queue_path());
        CHECK(*p.annotations.Get(annotations::kTier) == StrCat(w.info[i].tier));
        CHECK(p.node_selector.empty());
      }
      for (const SimNode& n : s->input.nodes) CHECK(n.node.taints.empty());
    }
  }
}

TEST_CASE("replay_rejects_bad_specs_and_tables", "[replay]") {
  ReplaySpec spec = SmallSpec(1);
  spec.max_duration_s = 10;  // below the floor
  CHECK_FALSE(Build(spec, SmallTables()).ok());
  TraceText t = SmallTables();
  t.helios_csv = "date,vcA,total\n2020-09-28,0,0\n";
  CHECK_FALSE(Build(SmallSpec(1), t).ok());
  auto vcs = ParseHeliosLastDay(SmallTables().helios_csv);
  REQUIRE(vcs.ok());
  CHECK(vcs->size() == 3);
}

}  // namespace
}  // namespace drover::replay
