// AttemptCosts: placement_bench's --per-attempt observer (placement/engine.h's
// AttemptObserver). It times each workload's attempt in RunCycle and files it by
// phase, by pod kind (carrying required inter-pod rules or not) and by outcome:
//   ok   placed
//   fail nodes were filtered and it did not fit (includes any preemption search)
//   skip answered without filtering (a failed shape this cycle, an earlier answer)
// and counts the attempts per pod, so a pod retried every cycle shows.
//
//   AttemptCosts costs;  engine->set_attempt_observer(&costs);
//   costs.SetPhase(0);  engine->RunCycle(...);  ...
//   costs.Print(stdout);  // " fill_con_ok_n=... fill_con_ok_us=... ..." (RESULT keys)
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "bench/bench_util.h"
#include "placement/engine.h"

namespace drover::bench {

class AttemptCosts : public AttemptObserver {
 public:
  static constexpr int kPhases = 3;  // fill, steady, full
  // Attempts from now on count for phase `p` (0..kPhases-1).
  void SetPhase(int p) { phase_ = p; }

  void BeforeAttempt() override { start_ = std::chrono::steady_clock::now(); }
  void AfterAttempt(const AttemptReport& r) override {
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start_).count();
    const int outcome = r.placed ? 0 : r.tried ? 1 : 2;
    Bucket& b = buckets_[phase_][r.constrained][outcome];
    ++b.n;
    b.total_us += us;
    b.nodes += r.nodes_considered;
    b.us.push_back(static_cast<float>(us));
    ++tries_[phase_][r.constrained][r.pod_key];
  }

  // Appends `<phase>_<con|unc>_<ok|fail|skip>_{n,us,p50,p99,nodes}` (us = mean
  // microseconds per attempt, nodes = mean nodes considered) and
  // `<phase>_<con|unc>_{pods,max_tries}` (distinct pods attempted, most attempts
  // of one pod) to a RESULT line.
  void Print(std::FILE* out) const {
    static const char* const kPhase[kPhases] = {"fill", "steady", "full"};
    static const char* const kKind[2] = {"unc", "con"};
    static const char* const kOutcome[3] = {"ok", "fail", "skip"};
    for (int p = 0; p < kPhases; ++p) {
      for (int k = 0; k < 2; ++k) {
        for (int o = 0; o < 3; ++o) {
          const Bucket& b = buckets_[p][k][o];
          std::vector<double> v(b.us.begin(), b.us.end());
          const double n = static_cast<double>(std::max<int64_t>(b.n, 1));
          std::fprintf(out, " %s_%s_%s_n=%lld %s_%s_%s_us=%.2f %s_%s_%s_p50=%.2f %s_%s_%s_p99=%.2f %s_%s_%s_nodes=%.1f",
                       kPhase[p], kKind[k], kOutcome[o], static_cast<long long>(b.n), kPhase[p], kKind[k], kOutcome[o],
                       b.total_us / n, kPhase[p], kKind[k], kOutcome[o], Percentile(v, 0.5), kPhase[p], kKind[k],
                       kOutcome[o], Percentile(v, 0.99), kPhase[p], kKind[k], kOutcome[o], static_cast<double>(b.nodes) / n);
        }
        int max_tries = 0;
        for (const auto& [key, n] : tries_[p][k]) max_tries = std::max(max_tries, n);
        std::fprintf(out, " %s_%s_pods=%zu %s_%s_max_tries=%d", kPhase[p], kKind[k], tries_[p][k].size(), kPhase[p],
                     kKind[k], max_tries);
      }
    }
  }

 private:
  struct Bucket {
    int64_t n = 0;
    double total_us = 0;
    int64_t nodes = 0;  // considered, summed
    std::vector<float> us;
  };
  int phase_ = 0;
  std::chrono::steady_clock::time_point start_;
  Bucket buckets_[kPhases][2][3];
  absl::flat_hash_map<std::string, int> tries_[kPhases][2];  // pod -> attempts
};

}  // namespace drover::bench
