// A contended replay for comparing schedulers (issue 9 part 2): a seeded, synthetic
// workload built from real pieces, and the three set-ups the talk compares.
//
//   ASSIGN_OR_RETURN(replay::Workload w, replay::Load(spec));
//   ASSIGN_OR_RETURN(replay::VariantSetup s, replay::MakeVariant(w, replay::Variant::kV1Pools));
//   auto engine = Engine::Create(s.config, s.options);  SimCluster sim(s.input);  ...
//
// The workload is OURS, not a published one. Its pieces:
//  - cluster: the openb GPU nodes (Alibaba cluster-trace-gpu-v2023), all of them or
//    one in `node_stride` (sorted by model, GPUs, CPU, memory, name), types as in the trace;
//  - pod shapes: rows of an openb pod list drawn uniformly with replacement (CPU,
//    memory, whole or shared GPUs); duration = the row's deletion_time -
//    scheduled_time, the median of those for rows without scheduled_time, capped to
//    [min_duration_s, max_duration_s];
//  - arrivals: Poisson, compressed so that offered GPU demand is `peak_load` x the
//    cluster's GPUs for `peak_hours`, then `offpeak_load` x for `offpeak_hours`
//    (offered demand = arrival rate x E[GPUs x duration] of the draws). The window
//    opens in a busy period: at time 0 the jobs that a steady stream at
//    `initial_load` would have in flight are submitted at once (drawn length-biased,
//    with the remaining part of their duration, at least 1 min), so demand exceeds
//    capacity from the start rather than after the day-long pods have built up;
//  - teams: one leaf queue per non-zero Helios Venus VC of the last day; a team's
//    guaranteed GPUs of each type follow its VC share of `guaranteed_fraction` of that
//    type's GPUs, in whole nodes (these nodes are also its Tier-0 pool in variant b);
//    jobs go to team i with probability ~ share_i x load_i (load_i lognormal, seeded);
//  - tiers: `tier_mix` (0, 1, 2) per job; priority 2000/1000/0 by tier. Tier 0 is for
//    jobs that fit the team's guaranteed nodes: a Tier-0 draw that fits none of them
//    (and every gang: training jobs) becomes Tier 1 (counted in tier0_demoted);
//  - gangs: `gang_member_fraction` of pods are members of gangs of 2-4 copies of one
//    multi-GPU row, with drover.io/gang and drover.io/gang-min-members = size.
// Everything comes from `seed` (splitmix64): the same spec and tables always give the
// same workload.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "placement/engine.h"
#include "queues/config.h"
#include "sim/simulator.h"

namespace drover::replay {

inline constexpr std::string_view kNamespace = "replay";
// Node label and taint key of variant b's per-team Tier-0 pools (value: the team).
inline constexpr std::string_view kPoolKey = "replay.drover.io/pool";
inline constexpr std::string_view kTeamLabel = "replay.drover.io/team";
inline constexpr std::string_view kTierLabel = "replay.drover.io/tier";
inline constexpr int32_t kTierPriority[3] = {2000, 1000, 0};

struct ReplaySpec {
  std::string openb_dir;  // folder of the openb CSV files
  std::string pod_list = "openb_pod_list_default.csv";
  std::string node_list = "openb_node_list_gpu_node.csv";
  std::string helios_csv;  // helios-venus-vc-gpus/cluster_gpu_number.csv
  int node_stride = 4;     // keep one GPU node in this many (1 = all)
  uint64_t seed = 1;
  // A working day (replay_bench's "day" scenario): demand above capacity for the
  // 6 peak hours, below it for the rest of the day; the window opens with the
  // day's mean load in flight. replay_bench's "overload" scenario is 6 h at 1.5x,
  // 10 h at 0.5x, opening at 1.5x.
  double peak_hours = 6, offpeak_hours = 18;
  double peak_load = 1.2, offpeak_load = 0.65;  // offered GPU demand / cluster GPUs
  double initial_load = 0.8;  // work in flight at time 0, same unit; < 0 = peak_load, 0 = empty cluster
  int64_t min_duration_s = 600, max_duration_s = 24 * 3600;
  std::array<double, 3> tier_mix = {0.2, 0.6, 0.2};
  double gang_member_fraction = 0.02;  // of all pods
  double guaranteed_fraction = 0.4;    // of each GPU type, spread over the teams
  double team_load_sigma = 0.5;        // lognormal spread of the teams' demand
  int64_t submit_granularity_ms = 1000;
  // Drover's variants wait this long before preempting (droverd --preemption-delay;
  // its default). Variants a and b preempt at once, as kube-scheduler does.
  int64_t drover_preemption_delay_ms = 30 * 1000;
};

struct Team {
  std::string name;       // queue name (lower-cased VC id)
  std::string helios_id;  // VC column in the Helios file
  int helios_gpus = 0;    // VC size on the last day
  double share = 0;       // helios_gpus / sum of all VCs that day
  double load = 1;        // demand factor: jobs ~ share x load
  std::map<std::string, int64_t> guaranteed;  // GPU type -> GPUs (whole nodes)
  std::vector<std::string> pool_nodes;        // the nodes behind `guaranteed`
  int64_t guaranteed_gpus() const;
  std::string queue_path() const { return "root." + name; }
};

struct PodInfo {
  int team = 0;
  int tier = 1;
  std::string gang;  // job name for gang members, "" for single pods
  int gang_size = 1;
  size_t row = 0;    // row of the pod list it was drawn from
  bool median_duration = false;  // the row had no scheduled_time
  bool initial = false;          // in flight at time 0: duration is the remaining part
  bool tier0_demoted = false;
};

struct Workload {
  ReplaySpec spec;
  std::vector<SimNode> nodes;  // gpu_type unresolved: the engine's catalog resolves it
  std::vector<SimPod> pods;    // Drover's form: drover.io/queue, drover.io/tier, priority
  std::vector<PodInfo> info;   // parallel to pods
  std::vector<Team> teams;
  std::map<std::string, int64_t> gpus_by_type;  // GPUs of the cluster, by type
  int64_t gpu_capacity = 0;                     // GPUs
  int64_t horizon_ms = 0;                       // end of the arrival window
  int64_t median_duration_s = 0;
  int64_t tier0_demoted = 0;
  double expected_gpu_hours_per_job = 0;
  absl::flat_hash_map<std::string, size_t> by_key;  // pod key -> index
  std::map<std::string, std::string> node_pool;     // node name -> team, for pool nodes

  const PodInfo* Info(const std::string& pod_key) const;
};

// The three input tables as text (tests pass small ones); `source` names in errors.
struct TraceText {
  std::string nodes_csv, pods_csv, helios_csv;
};

absl::StatusOr<Workload> Build(const ReplaySpec& spec, const TraceText& text);
// Reads spec.openb_dir/{node_list,pod_list} and spec.helios_csv, then Build.
absl::StatusOr<Workload> Load(const ReplaySpec& spec);

// Last-day VC sizes of a Helios cluster_gpu_number.csv: (vc id, GPUs) for non-zero VCs.
absl::StatusOr<std::vector<std::pair<std::string, int>>> ParseHeliosLastDay(std::string_view csv);

// The set-ups compared, on the same workload and seed.
enum class Variant {
  kDefault,        // (a) kube-scheduler-like: spread, one root queue, priority preemption
  kV1Pools,        // (b) the talk's version 1: per-team Tier-0 node pools, binpack, preempt Tier 2 only
  kDroverBinpack,  // (c) Drover: queues per team keyed by GPU type, borrowing, binpack
  kDroverFrag,     // (c) the same with the drover-frag policy
};
std::vector<Variant> AllVariants();
std::string_view VariantName(Variant v);   // "a-default", "b-v1-pools", "c-drover-binpack", "c-drover-frag"
std::string_view VariantTitle(Variant v);  // one line for people

struct VariantSetup {
  Variant variant = Variant::kDefault;
  std::string queues_yaml;  // the quota-as-code document it runs with
  QueueConfig config;       // parsed from queues_yaml (plus the pod list's GPU classes)
  EngineOptions options;
  SimInput input;
};
absl::StatusOr<VariantSetup> MakeVariant(const Workload& w, Variant v);

}  // namespace drover::replay
