// placement_bench: the Engine's placement throughput, cycle latency and memory
// on synthetic clusters (sim/generator.h: T4/A10G/L4/A100/H100 and CPU nodes;
// notebooks, shared GPUs, a10+ inference, 1-8 GPU training and gangs, CPU pods)
// with a 100,000-pod backlog in a 10 x 10 queue tree (100 leaves, weights only).
//
//   placement_bench                                   # 1k, 5k, 10k nodes x every policy, 3 runs each
//   placement_bench --nodes 10000 --policies binpack --runs 1
//   placement_bench --one --nodes 10000 --policy binpack   # one run in this process, RESULT line only
//   placement_bench --one ... --decisions FILE  # also every decision, one line each (bench/decision_log.h)
//   placement_bench --one ... --per-attempt     # also each attempt's cost by phase, pod kind and outcome
//                                               # (bench/attempt_costs.h: RESULT keys fill_con_ok_us=...)
//   placement_bench --one ... --constrained PCT # PCT% of single pods with required inter-pod rules
//   placement_bench --one ... --constrained PCT --inert  # the same rules, selecting no pod
//   placement_bench --one ... --preferred PCT   # PCT% in groups where half prefer the group's zone
//
// Each run is a fresh process (so RSS deltas are clean); figures are medians of
// --runs. One run, all on this thread, only RunCycle timed for the cycle figures:
//   setup  : node events, then the backlog's pod events (timed: events/s; RSS
//            deltas: memory per node and per pending pod)
//   fill   : cycles of at most --cycle workloads on the empty cluster until no
//            workload is offerable (the first look at the whole backlog)
//   steady : --steady cycles; before each, --churn running pods complete and as
//            many new pods are submitted (backlog stays at --pending); binds are
//            confirmed by pod events after each cycle, as the sim actuator does
//   full   : --full cycles like steady but with --full-churn (20) completions:
//            the cluster stays full and most attempts are unschedulable
// Every table has a row `naive-scan` (bench/naive_scan.h): not a policy, the reference
// a full scan of filter + MostAllocated over flat arrays gives on the same input, and
// a last table divides each policy's steady binds/s by it.
// Policies that score every feasible node (CandidateLimit 0: fgd, drover-frag
// and the FGD baselines) run with --slow-scale (1/10) of the backlog, cycle and
// churn by default; the table says so. Figures only: nothing asserts a time.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "bench/attempt_costs.h"
#include "bench/bench_util.h"
#include "bench/decision_log.h"
#include "bench/naive_scan.h"
#include "core/strings.h"
#include "placement/engine.h"
#include "placement/policy.h"
#include "queues/config.h"
#include "sim/generator.h"

namespace drover {
namespace {

using bench::HwmKb;
using bench::Median;
using bench::NowSec;
using bench::Percentile;
using bench::Rng;
using bench::RssKb;

// Not a policy: the naive full scan of filter + MostAllocated (bench/naive_scan.h).
constexpr char kNaiveScan[] = "naive-scan";

struct Args {
  std::vector<int> nodes = {1000, 5000, 10000};
  std::vector<std::string> policies;  // empty = PolicyNames()
  int pending = 100000;
  int cycle = 1000;       // max workloads per cycle
  int steady = 50;
  int churn = 1000;
  int full = 20;
  int full_churn = 20;
  int fanout = 10;        // queue tree fanout x fanout leaves (0 = root only)
  int slow_scale = 10;    // divisor for policies that score every feasible node
  int runs = 3;
  uint64_t seed = 1;
  bool one = false;
  std::string policy = "binpack";
  std::string decisions;  // --decisions FILE (with --one)
  // --constrained PCT: nodes get zone/rack labels and PCT% of single pods carry a
  // required rule (half hostname anti-affinity, half zone spread, maxSkew 1, over
  // groups of 10 pods); 0 = the labels only (the baseline). Default: neither.
  int constrained = -1;
  // --preferred PCT: nodes get the labels and PCT% of single pods join groups of 100
  // (label pgrp), half of them preferring (zone affinity, weight 50) their group, the
  // other half carrying no term: running members' terms reach them (the Score symmetry).
  int preferred = -1;
  // --inert (with --constrained): the same rules and labels, but each selector asks for
  // a label no pod carries, so no rule ever refuses a node: the cost of the rules'
  // machinery without the cluster layout the rules make.
  bool inert = false;
  bool per_attempt = false;  // --per-attempt (with --one): time every attempt (bench/attempt_costs.h)
};

// Zone (16) and rack (of 8 nodes) labels; inter-pod rules on `pct`% of single pods.
void AddTopology(int pct, bool inert, SimInput* input) {
  for (size_t i = 0; i < input->nodes.size(); ++i) {
    input->nodes[i].node.labels.Set("topology.kubernetes.io/zone", StrCat("z", i % 16));
    input->nodes[i].node.labels.Set("example.com/rack", StrCat("r", i / 8));
  }
  for (size_t i = 0; i < input->pods.size(); ++i) {
    Pod& p = input->pods[i].pod;
    if (static_cast<int>(i % 100) >= pct || p.annotations.Get(annotations::kGang) != nullptr) continue;
    const std::string group = StrCat("c", i / 100);
    p.labels.Set("grp", group);
    LabelSelector sel;
    sel.present = true;
    sel.match_labels.emplace_back("grp", inert ? StrCat(group, "-nobody") : group);
    if ((i / 100) % 2 == 0) {
      PodAffinityTerm t;
      t.selector = sel;
      t.topology_key = "kubernetes.io/hostname";
      p.constraints.anti_affinity.push_back(t);
    } else {
      SpreadConstraint c;
      c.max_skew = 1;
      c.topology_key = "topology.kubernetes.io/zone";
      c.when_unsatisfiable = "DoNotSchedule";
      c.selector = sel;
      p.constraints.spread.push_back(c);
    }
  }
}

// Groups of 100 on `pct`% of single pods: even ones prefer their group's zone, odd
// ones are only preferred (AddTopology(0, ...) labels the nodes).
void AddPreferred(int pct, SimInput* input) {
  for (size_t i = 0; i < input->pods.size(); ++i) {
    Pod& p = input->pods[i].pod;
    if (static_cast<int>(i % 100) >= pct || p.annotations.Get(annotations::kGang) != nullptr) continue;
    const std::string group = StrCat("p", i / 100);
    p.labels.Set("pgrp", group);
    if (i % 2 != 0) continue;
    PodAffinityTerm t;
    t.selector.present = true;
    t.selector.match_labels.emplace_back("pgrp", group);
    t.topology_key = "topology.kubernetes.io/zone";
    t.weight = 50;
    p.constraints.preferred_affinity.push_back(t);
  }
}

QueueConfig MakeConfig(int fanout, std::vector<std::string>* leaves) {
  QueueConfig cfg = DefaultQueueConfig();
  (void)cfg.catalog.AddClass("a10+", {}, "A10");  // the generator's inference pods ask for it
  if (fanout <= 0) return cfg;
  cfg.root = QueueSpec{};
  cfg.root.name = "root";
  cfg.root.path = "root";
  for (int o = 0; o < fanout; ++o) {
    QueueSpec org;
    org.name = StrCat("o", o);
    org.path = StrCat("root.", org.name);
    org.weight = 1 + o % 3;
    for (int t = 0; t < fanout; ++t) {
      QueueSpec team;
      team.name = StrCat("t", t);
      team.path = StrCat(org.path, ".", team.name);
      team.weight = 1 + t % 2;
      leaves->push_back(team.path);
      org.children.push_back(std::move(team));
    }
    cfg.root.children.push_back(std::move(org));
  }
  return cfg;
}

struct Phase {
  int cycles = 0;
  int64_t binds = 0;
  int64_t unsched = 0;  // unschedulable attempts (incl. shape skips)
  double seconds = 0;   // RunCycle only
  int64_t considered = 0;  // nodes filtered (EngineStats::nodes_considered)
  int64_t skipped = 0;     // nodes passed over as surely too small
  std::vector<double> cycle_ms;
};

class Runner : public Clock {
 public:
  Runner(const Args& a, int pending, int cycle, int churn) : a_(a), pending_(pending), cycle_(cycle), churn_(churn) {}
  ~Runner() override {
    if (decisions_file_ != nullptr) std::fclose(decisions_file_);
  }
  int64_t NowMillis() const override { return now_ms_; }

  int Run(int nodes, const std::string& policy) {
    std::vector<std::string> leaves;
    QueueConfig cfg = MakeConfig(a_.fanout, &leaves);
    GenSpec spec;
    spec.nodes = nodes;
    spec.pods = pending_ + a_.steady * churn_ + a_.full * a_.full_churn + 1000;
    spec.seed = a_.seed;
    spec.queues = leaves;
    input_ = Generate(spec);
    if (a_.constrained >= 0 || a_.preferred >= 0) AddTopology(std::max(a_.constrained, 0), a_.inert, &input_);
    if (a_.preferred >= 0) AddPreferred(a_.preferred, &input_);
    if (policy == kNaiveScan) return RunNaive(nodes, cfg);
    EngineOptions opt;
    opt.policy = policy;
    opt.max_workloads_per_cycle = cycle_;
    absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Create(cfg, opt);
    if (!e.ok()) {
      std::fprintf(stderr, "%s\n", std::string(e.status().message()).c_str());
      return 1;
    }
    engine_ = std::move(*e);
    if (a_.per_attempt) engine_->set_attempt_observer(&costs_);
    if (!a_.decisions.empty()) {
      decisions_file_ = std::fopen(a_.decisions.c_str(), "w");
      if (decisions_file_ == nullptr) {
        std::fprintf(stderr, "cannot write %s\n", a_.decisions.c_str());
        return 1;
      }
      log_ = bench::DecisionLog(decisions_file_, this);
      log_.Section(StrCat("placement_bench nodes=", nodes, " policy=", policy, " pending=", pending_));
    }
    const long rss0 = RssKb();
    double t0 = NowSec();
    for (const SimNode& n : input_.nodes) engine_->Apply(ClusterEvent{ClusterEvent::Kind::kNodeUpsert, n.node, {}});
    const double node_s = NowSec() - t0;
    const long rss1 = RssKb();
    t0 = NowSec();
    while (next_pod_ < static_cast<size_t>(pending_)) Submit();
    const double pod_s = NowSec() - t0;
    const long rss2 = RssKb();
    const size_t pending_after = engine_->pending_pods();

    Phase fill, steady, full;
    for (int guard = 0; guard < 1000000; ++guard) {  // fill: until nothing is offerable
      const int64_t b = engine_->stats().binds;
      Cycle(&fill);
      if (engine_->stats().binds == b && engine_->stats().cycles > 1 && last_empty_) break;
    }
    if (std::getenv("PB_DEBUG")) {
      const EngineStats& st = engine_->stats();
      std::fprintf(stderr, "after fill: pending=%zu binds=%lld unsched=%lld rejected=%lld skips=%lld gangs=%lld cycles=%lld\n",
                   engine_->pending_pods(), (long long)st.binds, (long long)st.unschedulable_attempts, (long long)st.rejected,
                   (long long)st.shape_skips, (long long)st.gangs_placed, (long long)st.cycles);
    }
    costs_.SetPhase(1);
    for (int i = 0; i < a_.steady; ++i) {
      Churn(churn_);
      Cycle(&steady);
    }
    costs_.SetPhase(2);
    for (int i = 0; i < a_.full; ++i) {
      Churn(a_.full_churn);
      Cycle(&full);
    }
    const std::vector<std::string> problems = engine_->CheckInvariants();
    std::printf("RESULT nodes=%d policy=%s pending=%zu cycle=%d churn=%d node_ev_s=%.0f pod_ev_s=%.0f "
                "kb_node=%.3f b_pending=%.1f hwm_kb=%ld confirm_ev_s=%.0f running=%zu invariants=%zu",
                nodes, policy.c_str(), pending_after, cycle_, churn_, nodes / node_s, pending_ / pod_s,
                static_cast<double>(rss1 - rss0) / nodes, (rss2 - rss1) * 1024.0 / pending_, HwmKb(),
                event_count_ / std::max(event_s_, 1e-9), running_.size(), problems.size());
    for (auto [name, p] : {std::pair{"fill", &fill}, std::pair{"steady", &steady}, std::pair{"full", &full}}) {
      std::printf(" %s_cycles=%d %s_binds=%lld %s_unsched=%lld %s_s=%.6f %s_p50=%.4f %s_p99=%.4f %s_considered=%lld %s_skipped=%lld",
                  name, p->cycles, name, static_cast<long long>(p->binds), name, static_cast<long long>(p->unsched),
                  name, p->seconds, name, Percentile(p->cycle_ms, 0.5), name, Percentile(p->cycle_ms, 0.99), name,
                  static_cast<long long>(p->considered), name, static_cast<long long>(p->skipped));
    }
    if (digest_on_) std::printf(" decisions_digest=%016llx", static_cast<unsigned long long>(digest_));
    if (a_.per_attempt) costs_.Print(stdout);
    std::printf("\n");
    return problems.empty() ? 0 : 3;
  }

 private:
  // The reference (bench/naive_scan.h) on the same input, phases and RESULT keys.
  int RunNaive(int nodes, QueueConfig& cfg) {
    bench::NaiveScan scan(input_, &cfg.catalog);
    const bench::NaiveFigures f = scan.Run(pending_, a_.steady, churn_);
    std::printf("RESULT nodes=%d policy=%s pending=%d cycle=%d churn=%d invariants=0", nodes, kNaiveScan, pending_,
                cycle_, churn_);
    std::printf(" fill_cycles=1 fill_binds=%lld fill_unsched=%lld fill_s=%.6f", static_cast<long long>(f.fill_placed),
                static_cast<long long>(f.fill_attempts - f.fill_placed), f.fill_seconds);
    std::printf(" steady_cycles=%d steady_binds=%lld steady_unsched=%lld steady_s=%.6f\n", a_.steady,
                static_cast<long long>(f.steady_placed), static_cast<long long>(f.steady_attempts - f.steady_placed),
                f.steady_seconds);
    return 0;
  }

  void Submit() {
    if (next_pod_ >= input_.pods.size()) return;
    const SimPod& sp = input_.pods[next_pod_++];
    ClusterEvent ev{ClusterEvent::Kind::kPodUpsert, {}, sp.pod};
    ev.pod.creation_ms = sp.submit_ms;
    engine_->Apply(ev);
  }

  void Churn(int n) {
    const double t0 = NowSec();
    for (int i = 0; i < n && !running_.empty(); ++i) {
      const size_t k = rng_.Below(running_.size());
      ClusterEvent ev{ClusterEvent::Kind::kPodDelete, {}, {}};
      const Pod& p = input_.pods[running_[k]].pod;
      ev.pod.namespace_ = p.namespace_;
      ev.pod.name = p.name;
      engine_->Apply(ev);
      running_[k] = running_.back();
      running_.pop_back();
      Submit();
      ++event_count_;
    }
    event_s_ += NowSec() - t0;
  }

  void Cycle(Phase* ph) {
    now_ms_ += 1000;
    const int64_t b0 = engine_->stats().binds, u0 = engine_->stats().unschedulable_attempts;
    const int64_t c0 = engine_->stats().nodes_considered, s0 = engine_->stats().nodes_skipped;
    const double t0 = NowSec();
    Decisions d = engine_->RunCycle(now_ms_);
    const double dt = NowSec() - t0;
    ph->cycles++;
    ph->seconds += dt;
    ph->cycle_ms.push_back(dt * 1e3);
    ph->binds += engine_->stats().binds - b0;
    ph->unsched += engine_->stats().unschedulable_attempts - u0;
    ph->considered += engine_->stats().nodes_considered - c0;
    ph->skipped += engine_->stats().nodes_skipped - s0;
    if (std::getenv("PB_DEBUG")) {
      static int shown = 0;
      for (const PendingReason& r : d.pending) {
        if (shown < 5 && r.message.rfind("rejected", 0) == 0) { std::fprintf(stderr, "%s: %s\n", r.pod_key.c_str(), r.message.c_str()); ++shown; }
      }
    }
    log_.Record(d);
    if (digest_on_) {  // PB_DIGEST=1: fingerprint of every decision, to check that a change keeps them
      for (const Binding& b : d.binds) {
        Digest(b.pod_key);
        Digest(b.node);
        for (int dev : b.gpu_devices) Digest(StrCat(dev));
      }
      for (const Eviction& e : d.evictions) {
        Digest(e.pod_key);
        Digest(e.preemptor_key);
      }
      for (const PendingReason& r : d.pending) {
        Digest(r.pod_key);
        Digest(r.message);
        Digest(r.nominated_node);
      }
    }
    last_empty_ = d.binds.empty() && d.evictions.empty() && engine_->stats().unschedulable_attempts == u0;
    // Confirm the binds as the cluster would (pod events with nodeName set).
    const double t1 = NowSec();
    for (const Binding& b : d.binds) {
      const size_t idx = IndexOf(b.pod_key);
      ClusterEvent ev{ClusterEvent::Kind::kPodUpsert, {}, input_.pods[idx].pod};
      ev.pod.creation_ms = input_.pods[idx].submit_ms;
      ev.pod.node_name = b.node;
      ev.pod.phase = PodPhase::kRunning;
      ev.pod.gpu_device_ids = b.gpu_devices;
      engine_->Apply(ev);
      running_.push_back(idx);
      ++event_count_;
    }
    event_s_ += NowSec() - t1;
  }

  void Digest(std::string_view s) {  // FNV-1a: the same in every process, unlike absl::Hash
    for (char c : s) digest_ = (digest_ ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    digest_ = (digest_ ^ 0xff) * 1099511628211ULL;
  }

  size_t IndexOf(const std::string& key) {
    if (index_.empty()) {
      for (size_t i = 0; i < input_.pods.size(); ++i) index_.emplace(input_.pods[i].pod.Key(), i);
    }
    return index_.at(key);
  }

  const Args& a_;
  const int pending_, cycle_, churn_;
  SimInput input_;
  std::unique_ptr<Engine> engine_;
  size_t next_pod_ = 0;
  std::vector<size_t> running_;
  absl::flat_hash_map<std::string, size_t> index_;
  Rng rng_{7};
  int64_t now_ms_ = 0;
  bool last_empty_ = false;
  const bool digest_on_ = std::getenv("PB_DIGEST") != nullptr;
  std::FILE* decisions_file_ = nullptr;
  bench::DecisionLog log_{nullptr, nullptr};
  uint64_t digest_ = 14695981039346656037ULL;
  bench::AttemptCosts costs_;
  int64_t event_count_ = 0;
  double event_s_ = 0;
};

bool ScoresEveryNode(const std::string& policy) {
  if (policy == kNaiveScan) return false;
  absl::StatusOr<std::unique_ptr<ScoringPolicy>> p = MakePolicy(policy);
  return p.ok() && (*p)->CandidateLimit() == 0;
}

using Result = std::map<std::string, std::string>;

Result ParseResult(const std::string& line) {
  Result r;
  for (absl::string_view kv : absl::StrSplit(line.substr(line.find(' ') + 1), ' ', absl::SkipEmpty())) {
    const size_t eq = kv.find('=');
    if (eq != absl::string_view::npos) r[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  return r;
}

double Num(const Result& r, const std::string& k) {
  auto it = r.find(k);
  return it == r.end() ? 0 : std::atof(it->second.c_str());
}

double MedianOf(const std::vector<Result>& rs, const std::string& k) {
  std::vector<double> v;
  for (const Result& r : rs) v.push_back(Num(r, k));
  return Median(v);
}

int Driver(const Args& a, const char* self) {
  std::vector<std::string> policies = a.policies.empty() ? PolicyNames() : a.policies;
  // The reference is always measured beside the policies (issue 20's speed bar).
  if (std::find(policies.begin(), policies.end(), kNaiveScan) == policies.end()) policies.push_back(kNaiveScan);
  std::printf("placement_bench: median of %d runs (fresh process each); backlog %d pods, cycles of <= %d workloads, "
              "steady %d cycles x %d completions, full %d cycles x %d completions, %d-leaf queue tree\n",
              a.runs, a.pending, a.cycle, a.steady, a.churn, a.full, a.full_churn, a.fanout * a.fanout);
  struct Row {
    int nodes;
    std::string policy;
    std::vector<Result> runs;
  };
  std::vector<Row> rows;
  for (int nodes : a.nodes) {
    for (const std::string& policy : policies) {
      Row row{nodes, policy, {}};
      for (int r = 0; r < a.runs; ++r) {
        const std::string cmd =
            StrCat(self, " --one --nodes ", nodes, " --policy ", policy, " --pending ", a.pending, " --cycle ", a.cycle,
                   " --steady ", a.steady, " --churn ", a.churn, " --full ", a.full, " --full-churn ", a.full_churn,
                   " --fanout ", a.fanout, " --slow-scale ", a.slow_scale, " --seed ", a.seed);
        FILE* f = popen(cmd.c_str(), "r");
        char buf[8192];
        std::string line;
        while (f != nullptr && std::fgets(buf, sizeof buf, f) != nullptr) line += buf;
        const int rc = f != nullptr ? pclose(f) : -1;
        const size_t at = line.find("RESULT ");
        if (rc != 0 || at == std::string::npos) {
          std::fprintf(stderr, "run failed (rc %d): %s\n%s\n", rc, cmd.c_str(), line.c_str());
          continue;
        }
        row.runs.push_back(ParseResult(line.substr(at)));
        std::fprintf(stderr, "done: %d nodes, %s, run %d\n", nodes, policy.c_str(), r + 1);
      }
      if (!row.runs.empty()) rows.push_back(std::move(row));
    }
  }
  std::printf("\n%-6s %-13s %-6s %6s %8s %11s %11s %9s %9s %9s\n", "nodes", "policy", "phase", "cycles", "binds",
              "binds/s", "unsched/s", "us/bind", "p50 ms", "p99 ms");
  for (const Row& row : rows) {
    const bool scaled = Num(row.runs[0], "cycle") != a.cycle;
    for (const char* ph : {"fill", "steady", "full"}) {
      const std::string p = ph;
      const double s = MedianOf(row.runs, p + "_s");
      const double binds = MedianOf(row.runs, p + "_binds");
      const double unsched = MedianOf(row.runs, p + "_unsched");
      std::printf("%-6d %-13s %-6s %6.0f %8.0f %11.0f %11.0f %9.2f %9.3f %9.3f%s\n", row.nodes,
                  (row.policy + (scaled ? "*" : "")).c_str(), ph, MedianOf(row.runs, p + "_cycles"), binds,
                  s > 0 ? binds / s : 0, s > 0 ? unsched / s : 0, binds > 0 ? s * 1e6 / binds : 0,
                  MedianOf(row.runs, p + "_p50"), MedianOf(row.runs, p + "_p99"), "");
    }
  }
  std::printf("(* = scores every feasible node: backlog, cycle and churn divided by %d)\n", a.slow_scale);
  // Each policy's steady binds/s over the naive scan's at the same size (issue 20's bar: >= 1).
  std::printf("\n%-6s %-13s %14s %14s %8s\n", "nodes", "policy", "steady binds/s", "naive binds/s", "ratio");
  for (const Row& row : rows) {
    if (row.policy == kNaiveScan) continue;
    for (const Row& ref : rows) {
      if (ref.nodes != row.nodes || ref.policy != kNaiveScan) continue;
      auto rate = [](const Row& r) {
        const double s = MedianOf(r.runs, "steady_s");
        return s > 0 ? MedianOf(r.runs, "steady_binds") / s : 0;
      };
      const double mine = rate(row), naive = rate(ref);
      std::printf("%-6d %-13s %14.0f %14.0f %8.2f\n", row.nodes, row.policy.c_str(), mine, naive,
                  naive > 0 ? mine / naive : 0);
    }
  }
  std::printf("\n%-6s %-13s %9s %10s %12s %11s %12s %12s %10s\n", "nodes", "policy", "pending", "kB/node",
              "B/pending", "VmHWM MB", "node ev/s", "pod ev/s", "conf ev/s");
  for (const Row& row : rows) {
    std::printf("%-6d %-13s %9.0f %10.2f %12.0f %11.0f %12.0f %12.0f %10.0f\n", row.nodes, row.policy.c_str(),
                MedianOf(row.runs, "pending"), MedianOf(row.runs, "kb_node"), MedianOf(row.runs, "b_pending"),
                MedianOf(row.runs, "hwm_kb") / 1024, MedianOf(row.runs, "node_ev_s"), MedianOf(row.runs, "pod_ev_s"),
                MedianOf(row.runs, "confirm_ev_s"));
  }
  return 0;
}

std::vector<int> Ints(const std::string& s) {
  std::vector<int> out;
  for (absl::string_view p : absl::StrSplit(s, ',', absl::SkipEmpty())) out.push_back(std::atoi(std::string(p).c_str()));
  return out;
}

int Main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--one" || k == "--per-attempt" || k == "--inert") {
      (k == "--one" ? a.one : k == "--inert" ? a.inert : a.per_attempt) = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", k.c_str());
      return 2;
    }
    const std::string v = argv[++i];
    if (k == "--nodes") a.nodes = Ints(v);
    else if (k == "--policies") a.policies = absl::StrSplit(v, ',', absl::SkipEmpty());
    else if (k == "--policy") a.policy = v;
    else if (k == "--pending") a.pending = std::atoi(v.c_str());
    else if (k == "--cycle") a.cycle = std::atoi(v.c_str());
    else if (k == "--steady") a.steady = std::atoi(v.c_str());
    else if (k == "--churn") a.churn = std::atoi(v.c_str());
    else if (k == "--full") a.full = std::atoi(v.c_str());
    else if (k == "--full-churn") a.full_churn = std::atoi(v.c_str());
    else if (k == "--fanout") a.fanout = std::atoi(v.c_str());
    else if (k == "--slow-scale") a.slow_scale = std::max(1, std::atoi(v.c_str()));
    else if (k == "--runs") a.runs = std::atoi(v.c_str());
    else if (k == "--seed") a.seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--decisions") a.decisions = v;
    else if (k == "--constrained") a.constrained = std::atoi(v.c_str());
    else if (k == "--preferred") a.preferred = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (!a.one) {
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 2;
    self[n] = 0;
    return Driver(a, self);
  }
  const int scale = ScoresEveryNode(a.policy) ? a.slow_scale : 1;
  Runner r(a, a.pending / scale, std::max(1, a.cycle / scale), std::max(1, a.churn / scale));
  return r.Run(a.nodes.empty() ? 1000 : a.nodes[0], a.policy);
}

}  // namespace
}  // namespace drover

int main(int argc, char** argv) { return drover::Main(argc, argv); }
