#include "sim/replay.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/rng.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "placement/filters.h"
#include "sim/openb.h"

namespace drover::replay {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat(path, ": cannot open the file"));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::string_view StripCr(absl::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

bool ParseInt(absl::string_view s, int64_t* v) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// name -> trace duration in seconds (deletion_time - scheduled_time), -1 without scheduled_time.
absl::StatusOr<std::map<std::string, int64_t>> TraceDurations(std::string_view csv) {
  std::vector<absl::string_view> lines = absl::StrSplit(ToAbsl(csv), '\n');
  if (lines.empty()) return absl::InvalidArgumentError("pod list: empty");
  std::vector<absl::string_view> header = absl::StrSplit(StripCr(lines[0]), ',');
  int name = -1, sched = -1, del = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "name") name = static_cast<int>(i);
    if (header[i] == "scheduled_time") sched = static_cast<int>(i);
    if (header[i] == "deletion_time") del = static_cast<int>(i);
  }
  if (name < 0 || sched < 0 || del < 0) {
    return absl::InvalidArgumentError("pod list: needs columns name, scheduled_time and deletion_time for durations");
  }
  std::map<std::string, int64_t> out;
  for (size_t i = 1; i < lines.size(); ++i) {
    absl::string_view line = StripCr(lines[i]);
    if (line.empty()) continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, ',');
    if (f.size() != header.size()) return absl::InvalidArgumentError(StrCat("pod list:", i + 1, ": wrong field count"));
    int64_t s = -1, d = -1;
    if (!f[sched].empty() && !ParseInt(f[sched], &s)) {
      return absl::InvalidArgumentError(StrCat("pod list:", i + 1, ": bad scheduled_time"));
    }
    if (!f[del].empty() && !ParseInt(f[del], &d)) {
      return absl::InvalidArgumentError(StrCat("pod list:", i + 1, ": bad deletion_time"));
    }
    out[std::string(f[name])] = (s >= 0 && d >= s) ? d - s : -1;
  }
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Labels Without(const Labels& in, std::initializer_list<std::string_view> keys) {
  Labels out;
  for (const auto& [k, v] : in.items()) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) out.Set(k, v);
  }
  return out;
}

// The gpu_types section for the trace's models that the built-in catalog lacks.
std::string GpuTypesYaml(const Workload& w) {
  GpuCatalog builtin = GpuCatalog::Default();
  GpuCatalog openb_catalog = GpuCatalog::Default();
  (void)openb::AddGpuTypes(&openb_catalog);
  std::string out;
  for (const auto& [type, gpus] : w.gpus_by_type) {
    if (builtin.FindType(type) != kNoGpuType) continue;
    const GpuTypeId id = openb_catalog.FindType(type);
    const int rank = id == kNoGpuType ? 0 : openb_catalog.type(id).rank;
    StrAppend(&out, "  - {name: ", type, ", rank: ", rank, ", products: [", type, "]}\n");
  }
  return out.empty() ? "" : StrCat("gpu_types:\n", out);
}

}  // namespace

int64_t Team::guaranteed_gpus() const {
  int64_t n = 0;
  for (const auto& [t, g] : guaranteed) n += g;
  return n;
}

const PodInfo* Workload::Info(const std::string& pod_key) const {
  auto it = by_key.find(pod_key);
  return it == by_key.end() ? nullptr : &info[it->second];
}

absl::StatusOr<std::vector<std::pair<std::string, int>>> ParseHeliosLastDay(std::string_view csv) {
  std::vector<absl::string_view> lines = absl::StrSplit(ToAbsl(csv), '\n', absl::SkipWhitespace());
  if (lines.size() < 2) return absl::InvalidArgumentError("helios csv: needs a header and at least one day");
  std::vector<absl::string_view> header = absl::StrSplit(StripCr(lines[0]), ',');
  std::vector<absl::string_view> last = absl::StrSplit(StripCr(lines.back()), ',');
  if (last.size() != header.size()) return absl::InvalidArgumentError("helios csv: last line has the wrong field count");
  std::vector<std::pair<std::string, int>> out;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "date" || header[i] == "total") continue;
    int64_t v = 0;
    if (!ParseInt(last[i], &v) || v < 0) {
      return absl::InvalidArgumentError(StrCat("helios csv: ", header[i], " = \"", last[i], "\" is not a count"));
    }
    if (v > 0) out.emplace_back(std::string(header[i]), static_cast<int>(v));
  }
  if (out.empty()) return absl::InvalidArgumentError("helios csv: no VC has GPUs on the last day");
  return out;
}

absl::StatusOr<Workload> Build(const ReplaySpec& spec, const TraceText& text) {
  if (spec.node_stride < 1) return absl::InvalidArgumentError("node_stride must be >= 1");
  if (spec.min_duration_s <= 0 || spec.max_duration_s < spec.min_duration_s) {
    return absl::InvalidArgumentError("durations: need 0 < min_duration_s <= max_duration_s");
  }
  if (spec.peak_hours < 0 || spec.offpeak_hours < 0 || spec.peak_hours + spec.offpeak_hours <= 0) {
    return absl::InvalidArgumentError("the arrival window is empty");
  }
  const double mix_sum = spec.tier_mix[0] + spec.tier_mix[1] + spec.tier_mix[2];
  if (mix_sum <= 0 || spec.tier_mix[0] < 0 || spec.tier_mix[1] < 0 || spec.tier_mix[2] < 0) {
    return absl::InvalidArgumentError("tier_mix must be non-negative with a positive sum");
  }
  Workload w;
  w.spec = spec;

  // Cluster: GPU nodes, sorted, one in node_stride.
  GpuCatalog scratch = GpuCatalog::Default();
  ASSIGN_OR_RETURN(std::vector<Node> all_nodes, openb::ParseNodes(text.nodes_csv, spec.node_list, &scratch));
  std::vector<Node> gpu_nodes;
  for (Node& n : all_nodes) {
    if (n.gpu_count > 0) gpu_nodes.push_back(std::move(n));
  }
  std::sort(gpu_nodes.begin(), gpu_nodes.end(), [](const Node& a, const Node& b) {
    return std::make_tuple(a.gpu_product, a.gpu_count, a.allocatable[Res::kCpu], a.allocatable[Res::kMemory], a.name) <
           std::make_tuple(b.gpu_product, b.gpu_count, b.allocatable[Res::kCpu], b.allocatable[Res::kMemory], b.name);
  });
  absl::flat_hash_map<std::string, size_t> node_at;
  for (size_t i = 0; i < gpu_nodes.size(); i += static_cast<size_t>(spec.node_stride)) {
    Node n = gpu_nodes[i];
    n.gpu_type = kNoGpuType;  // resolved by the engine's catalog
    n.labels.Set("kubernetes.io/hostname", n.name);
    w.gpus_by_type[n.gpu_product] += n.gpu_count;
    w.gpu_capacity += n.gpu_count;
    node_at[n.name] = w.nodes.size();
    w.nodes.push_back(SimNode{std::move(n), 0, -1, -1});
  }
  if (w.nodes.empty()) return absl::InvalidArgumentError("node list: no GPU nodes");

  // Teams and their guaranteed GPUs per type, in whole nodes.
  ASSIGN_OR_RETURN(auto vcs, ParseHeliosLastDay(text.helios_csv));
  std::sort(vcs.begin(), vcs.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  const double vc_total = std::accumulate(vcs.begin(), vcs.end(), 0.0, [](double s, const auto& v) { return s + v.second; });
  std::set<std::string> names;
  Rng team_rng(spec.seed * 0x5851f42d4c957f2dULL + 17);
  for (size_t i = 0; i < vcs.size(); ++i) {
    Team t;
    t.helios_id = vcs[i].first;
    t.helios_gpus = vcs[i].second;
    t.share = vcs[i].second / vc_total;
    t.name = Lower(t.helios_id);
    t.name.erase(std::remove_if(t.name.begin(), t.name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }),
                 t.name.end());
    if (t.name.empty() || names.contains(t.name)) t.name = StrCat("vc", i);
    names.insert(t.name);
    t.load = std::exp(spec.team_load_sigma * team_rng.Normal());
    w.teams.push_back(std::move(t));
  }
  for (const auto& [type, gpus] : w.gpus_by_type) {
    std::vector<size_t> of_type;
    for (size_t i = 0; i < w.nodes.size(); ++i) {
      if (w.nodes[i].node.gpu_product == type) of_type.push_back(i);
    }
    std::stable_sort(of_type.begin(), of_type.end(),
                     [&](size_t a, size_t b) { return w.nodes[a].node.gpu_count > w.nodes[b].node.gpu_count; });
    const double total_target = spec.guaranteed_fraction * static_cast<double>(gpus);
    std::vector<int64_t> got(w.teams.size(), 0);
    int64_t assigned = 0;
    for (size_t idx : of_type) {
      const int g = w.nodes[idx].node.gpu_count;
      if (static_cast<double>(assigned + g) > total_target + 0.5 * g) continue;
      size_t best = 0;
      double best_deficit = -1e18;
      for (size_t t = 0; t < w.teams.size(); ++t) {
        const double deficit = w.teams[t].share * total_target - static_cast<double>(got[t]);
        if (deficit > best_deficit + 1e-9) {
          best_deficit = deficit;
          best = t;
        }
      }
      got[best] += g;
      assigned += g;
      w.teams[best].pool_nodes.push_back(w.nodes[idx].node.name);
      w.node_pool[w.nodes[idx].node.name] = w.teams[best].name;
    }
    for (size_t t = 0; t < w.teams.size(); ++t) {
      if (got[t] > 0) w.teams[t].guaranteed[type] = got[t];
    }
  }

  // Pod shapes and durations.
  ASSIGN_OR_RETURN(std::vector<Pod> rows, openb::ParsePods(text.pods_csv, spec.pod_list, &scratch));
  if (rows.empty()) return absl::InvalidArgumentError("pod list: no pods");
  ASSIGN_OR_RETURN(auto trace_s, TraceDurations(text.pods_csv));
  std::vector<int64_t> known;
  for (const auto& [name, d] : trace_s) {
    if (d >= 0) known.push_back(d);
  }
  if (known.empty()) return absl::InvalidArgumentError("pod list: no row has a scheduled_time");
  std::sort(known.begin(), known.end());
  w.median_duration_s = known[(known.size() - 1) / 2];
  std::vector<int64_t> dur_ms(rows.size());
  std::vector<bool> from_median(rows.size());
  std::vector<size_t> multi;
  double e_single = 0, e_multi = 0;  // mean GPU-ms of one draw
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t raw = trace_s.at(rows[i].name);
    from_median[i] = raw < 0;
    dur_ms[i] = std::clamp(raw < 0 ? w.median_duration_s : raw, spec.min_duration_s, spec.max_duration_s) * 1000;
    const double gpu_ms = static_cast<double>(rows[i].requests[Res::kGpu]) / 1000.0 * static_cast<double>(dur_ms[i]);
    e_single += gpu_ms / static_cast<double>(rows.size());
    if (rows[i].gpu_devices >= 2) {
      multi.push_back(i);
      e_multi += gpu_ms;
    }
  }
  if (!multi.empty()) e_multi /= static_cast<double>(multi.size());
  const double m = std::clamp(spec.gang_member_fraction, 0.0, 0.9);
  const double q = multi.empty() ? 0.0 : m / (3.0 - 2.0 * m);  // gang jobs among jobs (3 members on average)
  const double e_job = (1 - q) * e_single + q * 3.0 * e_multi;
  if (e_job <= 0) return absl::InvalidArgumentError("pod list: no GPU demand");
  w.expected_gpu_hours_per_job = e_job / 3.6e6;

  std::vector<double> team_cum;
  double acc = 0;
  for (const Team& t : w.teams) team_cum.push_back(acc += t.share * t.load);
  // A Tier-0 pod runs only within its team's guaranteed, which is its pool's nodes:
  // its shape and its GPU-type allow-list (gpu_spec) must both fit one of them.
  auto fits_pool = [&](const Team& t, const Pod& p) {
    std::string error;
    const GpuTypeMask allowed = AllowedGpuTypes(p, scratch, &error);
    for (const std::string& n : t.pool_nodes) {
      const Node& node = w.nodes[node_at[n]].node;
      const GpuTypeId type = scratch.MatchProduct(node.gpu_product);
      const bool type_ok = p.gpu_devices == 0 || (type != kNoGpuType && (allowed >> type & 1) != 0);
      if (type_ok && p.requests.FitsIn(node.allocatable) && node.gpu_count >= p.gpu_devices) return true;
    }
    return false;
  };

  Rng rng(spec.seed);
  const int64_t peak_ms = static_cast<int64_t>(spec.peak_hours * 3.6e6);
  const int64_t off_ms = static_cast<int64_t>(spec.offpeak_hours * 3.6e6);
  w.horizon_ms = peak_ms + off_ms;
  const int64_t gran = std::max<int64_t>(1, spec.submit_granularity_ms);
  int64_t job = 0;
  // Length-biased draws for the jobs in flight at time 0: cumulative durations.
  std::vector<double> single_cum, multi_cum;
  double e_dur_single = 0, e_dur_multi = 0;
  for (size_t i = 0; i < rows.size(); ++i) single_cum.push_back(e_dur_single += static_cast<double>(dur_ms[i]));
  for (size_t i : multi) multi_cum.push_back(e_dur_multi += static_cast<double>(dur_ms[i]));
  e_dur_single /= static_cast<double>(rows.size());
  if (!multi.empty()) e_dur_multi /= static_cast<double>(multi.size());

  // One job: team, tier, gang or not, shape; pods appended. `initial`: drawn
  // length-biased, running for the rest of its duration.
  auto emit = [&](int64_t submit, bool initial, double gang_p) {
    const double ut = rng.Uniform() * acc;
    const int team = static_cast<int>(std::upper_bound(team_cum.begin(), team_cum.end(), ut) - team_cum.begin());
    const double uk = rng.Uniform() * mix_sum;
    int tier = uk < spec.tier_mix[0] ? 0 : uk < spec.tier_mix[0] + spec.tier_mix[1] ? 1 : 2;
    const bool gang = rng.Uniform() < gang_p;
    size_t row;
    if (!initial) {
      row = gang ? multi[rng.Index(multi.size())] : rng.Index(rows.size());
    } else if (gang) {
      const double u = rng.Uniform() * multi_cum.back();
      row = multi[std::min(multi.size() - 1, static_cast<size_t>(std::upper_bound(multi_cum.begin(), multi_cum.end(), u) -
                                                                  multi_cum.begin()))];
    } else {
      const double u = rng.Uniform() * single_cum.back();
      row = std::min(rows.size() - 1,
                     static_cast<size_t>(std::upper_bound(single_cum.begin(), single_cum.end(), u) - single_cum.begin()));
    }
    const int members = gang ? 2 + static_cast<int>(rng.Index(3)) : 1;
    int64_t duration = dur_ms[row];
    if (initial) duration = std::max<int64_t>(60 * 1000, static_cast<int64_t>(rng.Uniform() * static_cast<double>(duration)));
    const Team& tm = w.teams[std::min<size_t>(team, w.teams.size() - 1)];
    bool demoted = false;
    if (tier == 0 && (gang || !fits_pool(tm, rows[row]))) {
      tier = 1;
      demoted = true;
    }
    const std::string job_name = absl::StrFormat("j%06d", job++);
    for (int k = 0; k < members; ++k) {
      Pod p = rows[row];
      p.namespace_ = std::string(kNamespace);
      p.name = gang ? absl::StrFormat("%s-m%d", job_name, k) : job_name;
      p.uid = p.name;
      p.scheduler_name = "drover";
      p.creation_ms = submit;
      p.priority = kTierPriority[tier];
      p.priority_class = StrCat("tier-", tier);
      p.owner_kind = "Job";
      p.owner_name = job_name;
      p.labels.Set(std::string(kTeamLabel), tm.name);
      p.labels.Set(std::string(kTierLabel), StrCat(tier));
      p.annotations.Set(std::string(annotations::kQueue), tm.queue_path());
      p.annotations.Set(std::string(annotations::kTier), StrCat(tier));
      if (gang) {
        p.annotations.Set(std::string(annotations::kGang), job_name);
        p.annotations.Set(std::string(annotations::kGangMinMembers), StrCat(members));
      }
      PodInfo info;
      info.team = static_cast<int>(&tm - w.teams.data());
      info.tier = tier;
      info.gang = gang ? job_name : "";
      info.gang_size = members;
      info.row = row;
      info.median_duration = from_median[row];
      info.tier0_demoted = demoted;
      info.initial = initial;
      w.tier0_demoted += demoted ? 1 : 0;
      w.by_key[p.Key()] = w.pods.size();
      w.pods.push_back(SimPod{std::move(p), submit, duration});
      w.info.push_back(std::move(info));
    }
  };

  // In flight at time 0: the M/G/inf steady state of a stream at initial_load.
  const double initial_load = spec.initial_load < 0 ? spec.peak_load : spec.initial_load;
  if (initial_load > 0) {
    const double rate = initial_load * static_cast<double>(w.gpu_capacity) / e_job;  // jobs per ms
    const double e_dur_job = (1 - q) * e_dur_single + q * e_dur_multi;
    const int64_t n = static_cast<int64_t>(std::llround(rate * e_dur_job));
    const double q_init = e_dur_job > 0 ? q * e_dur_multi / e_dur_job : 0;  // gangs, length-biased
    for (int64_t i = 0; i < n; ++i) emit(0, true, q_init);
  }
  struct Phase {
    int64_t start, end;
    double load;
  };
  for (const Phase& ph : {Phase{0, peak_ms, spec.peak_load}, Phase{peak_ms, peak_ms + off_ms, spec.offpeak_load}}) {
    if (ph.load <= 0 || ph.end <= ph.start) continue;
    const double rate = ph.load * static_cast<double>(w.gpu_capacity) / e_job;  // jobs per ms
    double t = static_cast<double>(ph.start);
    while (true) {
      t += -std::log(1.0 - rng.Uniform()) / rate;
      if (t >= static_cast<double>(ph.end)) break;
      emit(std::min(ph.end - 1, static_cast<int64_t>(t) / gran * gran), false, q);
    }
  }
  return w;
}

absl::StatusOr<Workload> Load(const ReplaySpec& spec) {
  TraceText text;
  ASSIGN_OR_RETURN(text.nodes_csv, ReadFile(StrCat(spec.openb_dir, "/", spec.node_list)));
  ASSIGN_OR_RETURN(text.pods_csv, ReadFile(StrCat(spec.openb_dir, "/", spec.pod_list)));
  ASSIGN_OR_RETURN(text.helios_csv, ReadFile(spec.helios_csv));
  return Build(spec, text);
}

std::vector<Variant> AllVariants() {
  return {Variant::kDefault, Variant::kV1Pools, Variant::kDroverBinpack, Variant::kDroverFrag};
}

std::string_view VariantName(Variant v) {
  switch (v) {
    case Variant::kDefault: return "a-default";
    case Variant::kV1Pools: return "b-v1-pools";
    case Variant::kDroverBinpack: return "c-drover-binpack";
    case Variant::kDroverFrag: return "c-drover-frag";
  }
  return "?";
}

std::string_view VariantTitle(Variant v) {
  switch (v) {
    case Variant::kDefault:
      return "(a) default-scheduler behaviour: spread, one root queue, priority preemption (Tier 0 > 1 > 2)";
    case Variant::kV1Pools:
      return "(b) talk's version 1: per-team Tier-0 node pools (taint + nodeSelector), binpack, preempt Tier 2 only";
    case Variant::kDroverBinpack:
      return "(c) Drover: queue per team keyed by GPU type, borrowing, tiers, binpack";
    case Variant::kDroverFrag:
      return "(c) Drover: the same queues with the drover-frag policy";
  }
  return "?";
}

absl::StatusOr<VariantSetup> MakeVariant(const Workload& w, Variant v) {
  VariantSetup s;
  s.variant = v;
  s.options.scheduler_name = "drover";
  s.options.seed = w.spec.seed;
  s.options.preemption = true;
  const std::string types = GpuTypesYaml(w);
  StrAppend(&s.queues_yaml, "# ", VariantTitle(v), "\n# Generated by sim/replay.cc for the synthetic replay (seed ",
            w.spec.seed, ").\n", types);
  s.input.nodes = w.nodes;
  s.input.pods = w.pods;
  switch (v) {
    case Variant::kDefault:
      // One root queue: no quotas, no tiers (every pod is tier 1 to the engine); the
      // priorities 2000/1000/0 alone order and preempt, as kube-scheduler's do.
      s.options.policy = "spread";
      s.options.preemption_delay_ms = 0;  // kube-scheduler preempts at the first failed attempt
      StrAppend(&s.queues_yaml, "# no queues: a single root queue limited only by the cluster\n");
      for (SimPod& p : s.input.pods) {
        p.pod.annotations = Without(p.pod.annotations, {annotations::kQueue, annotations::kTier});
      }
      break;
    case Variant::kV1Pools: {
      // Tier 0 runs only on its team's pool (nodes labelled and tainted for it);
      // Tiers 1 and 2 share the rest. Tier 0 and 1 are engine tier 1, Tier 2 engine
      // tier 2: in one root queue the only preemption is of Tier 2 by Tier 0/1, and
      // Tier 0 never meets a Tier-2 pod on its pool.
      s.options.policy = "binpack";
      s.options.preemption_delay_ms = 0;  // a kube-scheduler preemption plugin: at the first failed attempt
      StrAppend(&s.queues_yaml, "# no queues: Tier-0 pools are node labels/taints ", kPoolKey, "=<team>\n");
      for (SimNode& n : s.input.nodes) {
        auto it = w.node_pool.find(n.node.name);
        if (it == w.node_pool.end()) continue;
        n.node.labels.Set(std::string(kPoolKey), it->second);
        n.node.taints.push_back(Taint{std::string(kPoolKey), it->second, TaintEffect::kNoSchedule});
      }
      for (size_t i = 0; i < s.input.pods.size(); ++i) {
        Pod& p = s.input.pods[i].pod;
        const PodInfo& info = w.info[i];
        p.annotations = Without(p.annotations, {annotations::kQueue, annotations::kTier});
        p.annotations.Set(std::string(annotations::kTier), info.tier == 2 ? "2" : "1");
        if (info.tier == 0) {
          const std::string& team = w.teams[info.team].name;
          p.node_selector.Set(std::string(kPoolKey), team);
          p.tolerations.push_back(Toleration{std::string(kPoolKey), Toleration::Op::kEqual, team, TaintEffect::kNoSchedule});
        }
      }
      break;
    }
    case Variant::kDroverBinpack:
    case Variant::kDroverFrag: {
      s.options.policy = v == Variant::kDroverBinpack ? "binpack" : "drover-frag";
      s.options.preemption_delay_ms = w.spec.drover_preemption_delay_ms;
      StrAppend(&s.queues_yaml, "queues:\n  name: root\n  children:\n");
      for (const Team& t : w.teams) {
        StrAppend(&s.queues_yaml, "    - name: ", t.name, "    # Helios VC ", t.helios_id, ": ", t.helios_gpus, " GPUs\n");
        if (t.guaranteed.empty()) continue;
        std::string gpu;
        for (const auto& [type, n] : t.guaranteed) StrAppend(&gpu, gpu.empty() ? "" : ", ", type, ": ", n);
        StrAppend(&s.queues_yaml, "      guaranteed: {gpu: {", gpu, "}}\n");
      }
      break;
    }
  }
  ASSIGN_OR_RETURN(s.config, ParseQueueConfig(s.queues_yaml, StrCat(VariantName(v), ".yaml")));
  // Multi-type gpu_spec requests ("A|B") of the pod list are classes of the same name.
  std::set<std::string> classes;
  for (const SimPod& p : s.input.pods) {
    const std::string* t = p.pod.annotations.Get(annotations::kGpuType);
    if (t != nullptr && t->find('|') != std::string::npos) classes.insert(*t);
  }
  for (const std::string& c : classes) {
    std::vector<std::string> members = absl::StrSplit(c, '|');
    RETURN_IF_ERROR(s.config.catalog.AddClass(c, members, ""));
  }
  return s;
}

}  // namespace drover::replay
