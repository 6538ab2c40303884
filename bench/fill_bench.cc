// fill_bench: the FGD paper's "fill" experiment on the openb trace, for every pod
// list x policy x seed, beside the paper's published numbers.
//
//   fill_bench                 # all lists in the trace folder, all policies, 10 seeds
//   fill_bench --quick         # the `default` list only
//   fill_bench --lists default,cpu050 --policies fgd,drover-frag --seeds 3 --threads 2
//
// Writes <out>/table.md (also printed), <out>/fill.csv (one row per run),
// <out>/curves_default.csv and SVG charts of unallocated GPU vs arrival on
// `default`. Defaults: --traces <source>/../shared/traces/alibaba-gpu-v2023-openb/csv,
// --out <source>/results/fill (--quick: <source>/results/fill/quick). Seeds are
// 42, 43, ... as in the paper's scripts. Progress and failures go to stderr.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "placement/policy.h"
#include "sim/fill.h"
#include "sim/openb.h"
#include "sim/svg.h"

namespace drover {
namespace {

struct Args {
  std::string traces = std::string(DROVER_SOURCE_DIR) + "/../shared/traces/alibaba-gpu-v2023-openb/csv";
  std::string out = std::string(DROVER_SOURCE_DIR) + "/results/fill";
  std::vector<std::string> lists;  // empty = every openb_pod_list_*.csv
  std::vector<std::string> policies = {"random", "dotprod", "gpuclustering", "gpupacking", "bestfit",
                                       "fgd",    "drover-frag", "gpu-frag", "binpack", "spread"};
  int seeds = 10;
  int threads = 2;
  bool out_given = false;
  std::string decisions;  // --decisions FILE: one line per run with its decisions' digest (fingerprint check)
};

// Published unallocated GPU % at 100% arrival (mean, SD), FGD paper via the README.
struct Published {
  double mean, sd;
};
const std::map<std::string, std::map<std::string, Published>>& PublishedTable() {
  static const auto* t = new std::map<std::string, std::map<std::string, Published>>{
      {"default", {{"random", {13.70, .31}}, {"dotprod", {9.38, .18}}, {"gpuclustering", {8.35, .58}},
                   {"gpupacking", {8.22, .50}}, {"bestfit", {7.14, .14}}, {"fgd", {4.77, .10}}}},
      {"cpu050", {{"random", {10.98, .25}}, {"dotprod", {6.97, .18}}, {"gpuclustering", {6.48, .33}},
                  {"gpupacking", {6.54, .30}}, {"bestfit", {6.44, .12}}, {"fgd", {5.00, .11}}}},
      {"cpu200", {{"random", {16.97, .26}}, {"dotprod", {12.55, .58}}, {"gpuclustering", {10.33, .36}},
                  {"gpupacking", {10.02, .46}}, {"bestfit", {7.85, .20}}, {"fgd", {5.18, .15}}}},
      {"gpushare40", {{"random", {15.14, .32}}, {"dotprod", {10.70, .13}}, {"gpuclustering", {10.24, .58}},
                      {"gpupacking", {10.23, .50}}, {"bestfit", {8.56, .19}}, {"fgd", {6.04, .07}}}},
      {"gpushare80", {{"random", {19.38, .27}}, {"dotprod", {15.86, .18}}, {"gpuclustering", {15.50, .51}},
                      {"gpupacking", {15.35, .47}}, {"bestfit", {13.34, .23}}, {"fgd", {10.92, .10}}}},
      {"gpuspec10", {{"random", {13.74, .24}}, {"dotprod", {9.83, .37}}, {"gpuclustering", {8.04, .67}},
                     {"gpupacking", {7.76, .62}}, {"bestfit", {6.90, .20}}, {"fgd", {5.34, .18}}}},
      {"gpuspec33", {{"random", {16.13, .25}}, {"dotprod", {20.18, .24}}, {"gpuclustering", {18.91, .21}},
                     {"gpupacking", {17.78, .37}}, {"bestfit", {19.61, .26}}, {"fgd", {12.16, .17}}}},
      {"multigpu20", {{"random", {13.08, .49}}, {"dotprod", {8.15, .30}}, {"gpuclustering", {6.66, .57}},
                      {"gpupacking", {6.50, .60}}, {"bestfit", {6.27, .24}}, {"fgd", {4.47, .15}}}},
      {"multigpu50", {{"random", {18.72, .79}}, {"dotprod", {5.27, .19}}, {"gpuclustering", {4.31, .27}},
                      {"gpupacking", {3.94, .29}}, {"bestfit", {4.38, .17}}, {"fgd", {2.91, .10}}}},
  };
  return *t;
}

// The published row a policy of ours is compared with: its namesake, or FGD for ours.
const Published* PublishedFor(const std::string& list, const std::string& policy) {
  auto l = PublishedTable().find(list);
  if (l == PublishedTable().end()) return nullptr;
  auto p = l->second.find(policy == "drover-frag" || policy == "gpu-frag" ? "fgd" : policy);
  return p == l->second.end() ? nullptr : &p->second;
}

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (flag == "--quick") {
      a->lists = {"default"};
    } else if (flag == "--lists") {
      a->lists = absl::StrSplit(value(), ',', absl::SkipEmpty());
    } else if (flag == "--policies") {
      a->policies = absl::StrSplit(value(), ',', absl::SkipEmpty());
    } else if (flag == "--seeds") {
      if (!absl::SimpleAtoi(value(), &a->seeds) || a->seeds < 1) return false;
    } else if (flag == "--threads") {
      if (!absl::SimpleAtoi(value(), &a->threads) || a->threads < 1) return false;
    } else if (flag == "--traces") {
      a->traces = value();
    } else if (flag == "--decisions") {
      a->decisions = value();
    } else if (flag == "--out") {
      a->out = value();
      a->out_given = true;
    } else {
      return false;
    }
  }
  return true;
}

// Every openb_pod_list_<name>.csv in the folder, `default` first.
std::vector<std::string> DiscoverLists(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    const std::string prefix = "openb_pod_list_", suffix = ".csv";
    if (f.rfind(prefix, 0) == 0 && f.size() > prefix.size() + suffix.size() &&
        f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0) {
      names.push_back(f.substr(prefix.size(), f.size() - prefix.size() - suffix.size()));
    }
  }
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    if ((a == "default") != (b == "default")) return a == "default";
    return a < b;
  });
  return names;
}

// One pod list with the catalog it was loaded into.
struct Workload {
  std::string name;
  GpuCatalog catalog;
  std::vector<Pod> pods;
};

struct Run {
  size_t list = 0;
  std::string policy;
  uint64_t seed = 0;
  fill::FillResult result;
  std::string error;
};

void RunAll(const Args& args, const std::vector<Node>& nodes, const std::vector<Workload>& lists,
            std::vector<Run>* runs) {
  std::atomic<size_t> next{0};
  std::mutex print_mu;
  auto worker = [&]() {
    for (size_t i = next++; i < runs->size(); i = next++) {
      Run& run = (*runs)[i];
      auto policy = MakePolicy(run.policy, run.seed);
      absl::StatusOr<fill::FillResult> r = policy.ok() ? fill::RunFill(nodes, lists[run.list].pods, lists[run.list].catalog,
                                                                       policy->get(), fill::FillOptions{1.3, run.seed})
                                                       : absl::StatusOr<fill::FillResult>(policy.status());
      std::lock_guard<std::mutex> lock(print_mu);
      if (!r.ok()) {
        run.error = std::string(r.status().message());
        std::fprintf(stderr, "%s/%s/%llu: %s\n", lists[run.list].name.c_str(), run.policy.c_str(),
                     static_cast<unsigned long long>(run.seed), run.error.c_str());
        continue;
      }
      run.result = *std::move(r);
      const auto& f = run.result.failed_milli_by_kind;
      std::fprintf(stderr,
                   "[%zu/%zu] %-11s %-13s seed %llu: %6.2f%% unallocated, %.1fs; failed GPUs by 100%%: "
                   "shared %.0f, 1-GPU %.0f, 2-7 %.0f, 8 %.0f\n",
                   i + 1, runs->size(), lists[run.list].name.c_str(), run.policy.c_str(),
                   static_cast<unsigned long long>(run.seed), run.result.unallocated_at_100, run.result.seconds,
                   f[0] / 1000.0, f[1] / 1000.0, f[2] / 1000.0, f[3] / 1000.0);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < args.threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
}

struct Stats {
  double mean = 0, sd = 0, placements_per_s = 0;
  int n = 0;
};

// Mean and sample SD of unallocated % over the seeds of (list, policy).
Stats Summarize(const std::vector<Run>& runs, size_t list, const std::string& policy) {
  Stats s;
  std::vector<double> v;
  double pods = 0, seconds = 0;
  for (const Run& r : runs) {
    if (r.list != list || r.policy != policy || !r.error.empty()) continue;
    v.push_back(r.result.unallocated_at_100);
    pods += r.result.pods;
    seconds += r.result.seconds;
  }
  s.n = static_cast<int>(v.size());
  if (v.empty()) return s;
  for (double x : v) s.mean += x / s.n;
  for (double x : v) s.sd += s.n > 1 ? (x - s.mean) * (x - s.mean) / (s.n - 1) : 0;
  s.sd = std::sqrt(s.sd);
  s.placements_per_s = seconds > 0 ? pods / seconds : 0;
  return s;
}

std::string Cell(const Stats& s, const Published* p) {
  if (s.n == 0) return "failed";
  std::string c = absl::StrFormat("%.2f ± %.2f", s.mean, s.sd);
  if (p != nullptr) absl::StrAppendFormat(&c, " (%.2f, %+.2f)", p->mean, s.mean - p->mean);
  return c;
}

// Mean failed GPUs by kind (fill::FillResult::failed_milli_by_kind) over the seeds.
std::string FailedByKind(const std::vector<Run>& runs, size_t list, const std::string& policy) {
  double sum[4] = {0, 0, 0, 0};
  int n = 0;
  for (const Run& r : runs) {
    if (r.list != list || r.policy != policy || !r.error.empty()) continue;
    for (int k = 0; k < 4; ++k) sum[k] += r.result.failed_milli_by_kind[k] / 1000.0;
    ++n;
  }
  if (n == 0) return "failed";
  return absl::StrFormat("%.1f / %.1f / %.1f / %.1f", sum[0] / n, sum[1] / n, sum[2] / n, sum[3] / n);
}

std::string Table(const Args& args, const std::vector<Workload>& lists, const std::vector<Run>& runs) {
  std::string t = absl::StrFormat(
      "# Fill benchmark: unallocated GPU %% at 100%% arrival\n\n"
      "Mean ± sample SD over %d seeds (42..%d). In parentheses: the FGD paper's published mean and our "
      "difference (ours − published; negative = fewer GPUs left unallocated). `drover-frag` and `gpu-frag` "
      "are compared with the published FGD. Lists without published numbers show ours only.\n\n",
      args.seeds, 41 + args.seeds);
  absl::StrAppend(&t, "| list | ", absl::StrJoin(args.policies, " | "), " |\n|---|");
  for (size_t i = 0; i < args.policies.size(); ++i) t += "---|";
  t += "\n";
  for (size_t l = 0; l < lists.size(); ++l) {
    absl::StrAppend(&t, "| ", lists[l].name, " |");
    for (const std::string& p : args.policies) {
      absl::StrAppend(&t, " ", Cell(Summarize(runs, l, p), PublishedFor(lists[l].name, p)), " |");
    }
    t += "\n";
  }
  absl::StrAppend(&t,
                  "\n## Failed GPU demand by pod shape before arrivals reach 100%\n\n"
                  "GPUs requested by the pods that found no node while arrivals were at most 100% of the cluster's "
                  "GPUs, mean over the seeds, as `shared / 1 GPU / 2-7 GPUs / 8 GPUs` (shared: a fraction of one "
                  "device; the others: whole GPUs per pod).\n\n| list | ",
                  absl::StrJoin(args.policies, " | "), " |\n|---|");
  for (size_t i = 0; i < args.policies.size(); ++i) t += "---|";
  t += "\n";
  for (size_t l = 0; l < lists.size(); ++l) {
    absl::StrAppend(&t, "| ", lists[l].name, " |");
    for (const std::string& p : args.policies) absl::StrAppend(&t, " ", FailedByKind(runs, l, p), " |");
    t += "\n";
  }
  absl::StrAppend(&t,
                  "\nPlacement throughput of the fill loop (pods per second, one core, 1213 nodes; every feasible "
                  "node scored, except gpu-frag, which scores each class of equal node states once: the same "
                  "choice), on ",
                  lists[0].name, ":\n\n| policy | pods/s |\n|---|---|\n");
  for (const std::string& p : args.policies) {
    absl::StrAppendFormat(&t, "| %s | %.0f |\n", p, Summarize(runs, 0, p).placements_per_s);
  }
  return t;
}

std::string Csv(const std::vector<Workload>& lists, const std::vector<Run>& runs) {
  std::string c =
      "list,policy,seed,unallocated_pct_at_100,pods,placed,failed,seconds,failed_gpus_shared,failed_gpus_1,"
      "failed_gpus_2to7,failed_gpus_8,error\n";
  for (const Run& r : runs) {
    const int64_t* f = r.result.failed_milli_by_kind;
    absl::StrAppendFormat(&c, "%s,%s,%d,%.4f,%d,%d,%d,%.3f,%.1f,%.1f,%.1f,%.1f,%s\n", lists[r.list].name, r.policy,
                          r.seed, r.result.unallocated_at_100, r.result.pods, r.result.placed, r.result.failed,
                          r.result.seconds, f[0] / 1000.0, f[1] / 1000.0, f[2] / 1000.0, f[3] / 1000.0, r.error);
  }
  return c;
}

// Mean unallocated % per arrival bucket over the seeds of (list 0, policy).
std::vector<std::pair<double, double>> MeanCurve(const std::vector<Run>& runs, const std::string& policy) {
  std::vector<double> sum;
  std::vector<int> n;
  for (const Run& r : runs) {
    if (r.list != 0 || r.policy != policy || !r.error.empty()) continue;
    const auto& a = r.result.allocation_by_arrival;
    if (sum.size() < a.size()) sum.resize(a.size(), 0), n.resize(a.size(), 0);
    for (size_t b = 0; b < a.size(); ++b) {
      if (std::isnan(a[b])) continue;
      sum[b] += 100.0 - a[b];
      ++n[b];
    }
  }
  std::vector<std::pair<double, double>> pts;
  for (size_t b = 0; b < sum.size(); ++b) {
    pts.emplace_back(static_cast<double>(b), n[b] > 0 ? sum[b] / n[b] : std::nan(""));
  }
  return pts;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  return static_cast<bool>(f);
}

void WriteCurves(const Args& args, const std::vector<Workload>& lists, const std::vector<Run>& runs) {
  svg::LineChart full;
  full.title = absl::StrCat("Unallocated GPU vs arrived GPU requests, ", lists[0].name, " (mean of ", args.seeds,
                            " seeds)");
  full.x_label = "arrived GPU requests (% of cluster GPUs)";
  full.y_label = "unallocated GPU (%)";
  std::string csv = "arrival_pct,policy,unallocated_pct\n";
  for (const std::string& p : args.policies) {
    svg::Series s{p, MeanCurve(runs, p)};
    for (const auto& [x, y] : s.points) {
      if (!std::isnan(y)) absl::StrAppendFormat(&csv, "%.0f,%s,%.4f\n", x, p, y);
    }
    full.series.push_back(std::move(s));
  }
  svg::LineChart zoom = full;
  zoom.title = absl::StrCat("Zoom: arrival 80-130%, ", lists[0].name);
  zoom.x_range = {{80, 130}};
  zoom.y_range = {{0, 22}};
  full.x_range = {{0, 130}};
  full.y_range = {{0, 100}};
  WriteFile(absl::StrCat(args.out, "/curves_", lists[0].name, ".csv"), csv);
  WriteFile(absl::StrCat(args.out, "/", lists[0].name, "_unallocated.svg"), svg::Render(full));
  WriteFile(absl::StrCat(args.out, "/", lists[0].name, "_unallocated_zoom.svg"), svg::Render(zoom));
}

// One line per run, in a fixed order: list, policy, seed, placed, failed, digest.
bool WriteDecisions(const std::string& path, const std::vector<Workload>& lists, std::vector<Run> runs) {
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) {
    return std::tie(a.list, a.policy, a.seed) < std::tie(b.list, b.policy, b.seed);
  });
  std::string text;
  for (const Run& r : runs) {
    absl::StrAppend(&text, lists[r.list].name, " ", r.policy, " seed=", r.seed, " placed=", r.result.placed,
                    " failed=", r.result.failed, " digest=", absl::Hex(r.result.decisions_digest, absl::kZeroPad16),
                    r.error.empty() ? "" : " error=", r.error, "\n");
  }
  return WriteFile(path, text);
}

int Main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: fill_bench [--quick] [--lists a,b] [--policies p,q] [--seeds N] [--threads N] "
                 "[--traces DIR] [--out DIR] [--decisions FILE]\n");
    return 2;
  }
  const bool quick = args.lists.size() == 1 && args.lists[0] == "default";
  if (quick && !args.out_given) args.out += "/quick";  // keep the full table
  if (args.lists.empty()) args.lists = DiscoverLists(args.traces);
  if (args.lists.empty()) {
    std::fprintf(stderr, "fill_bench: no openb_pod_list_*.csv in %s\n", args.traces.c_str());
    return 1;
  }
  GpuCatalog base;
  absl::StatusOr<std::vector<Node>> nodes = openb::LoadNodes(args.traces + "/openb_node_list_gpu_node.csv", &base);
  if (!nodes.ok()) {
    std::fprintf(stderr, "fill_bench: %s\n", std::string(nodes.status().message()).c_str());
    return 1;
  }
  std::vector<Workload> lists;
  for (const std::string& name : args.lists) {
    Workload w{name, base, {}};
    absl::StatusOr<std::vector<Pod>> pods =
        openb::LoadPods(absl::StrCat(args.traces, "/openb_pod_list_", name, ".csv"), &w.catalog);
    if (!pods.ok()) {
      std::fprintf(stderr, "fill_bench: %s\n", std::string(pods.status().message()).c_str());
      return 1;
    }
    w.pods = *std::move(pods);
    lists.push_back(std::move(w));
  }
  std::vector<Run> runs;
  for (size_t l = 0; l < lists.size(); ++l) {
    for (const std::string& p : args.policies) {
      for (int s = 0; s < args.seeds; ++s) runs.push_back(Run{l, p, static_cast<uint64_t>(42 + s), {}, {}});
    }
  }
  // Slow policies first, so the two threads finish together.
  std::stable_sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) {
    auto slow = [](const std::string& p) { return p == "fgd" || p == "drover-frag" || p == "gpu-frag"; };
    return slow(a.policy) > slow(b.policy);
  });
  RunAll(args, *nodes, lists, &runs);
  std::filesystem::create_directories(args.out);
  const std::string table = Table(args, lists, runs);
  std::printf("%s", table.c_str());
  bool ok = WriteFile(args.out + "/table.md", table) && WriteFile(args.out + "/fill.csv", Csv(lists, runs));
  WriteCurves(args, lists, runs);
  for (const Run& r : runs) ok = ok && r.error.empty();
  if (!args.decisions.empty()) ok = WriteDecisions(args.decisions, lists, runs) && ok;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace drover

int main(int argc, char** argv) { return drover::Main(argc, argv); }
