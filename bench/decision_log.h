// DecisionLog: every decision of a run as one line of text, for the fingerprint
// check (scripts/fingerprint.sh): two builds that decide the same write the same
// lines. It is an Actuator, so a SimCluster can mirror its decisions into it
// (SimCluster::set_mirror); a bench that drives the engine itself calls Record.
//
//   DecisionLog log(file, &sim);  sim.set_mirror(&log);  ... run ...
//
// Lines, with the virtual time in ms:
//   <t> bind <pod> <node> <devices,...>
//   <t> evict <pod> by <preemptor>: <reason>
//   <t> pending <pod> [<nominated node>]: <message>
// Header-only; bench/ only.
#pragma once

#include <cstdio>
#include <string>

#include "absl/strings/str_join.h"
#include "core/cluster.h"

namespace drover::bench {

class DecisionLog : public Actuator {
 public:
  // `out` and `clock` outlive the log; `out` nullptr: records nothing.
  DecisionLog(std::FILE* out, const Clock* clock) : out_(out), clock_(clock) {}

  // A header line separating runs ("## <name>").
  void Section(const std::string& name) {
    if (out_ != nullptr) std::fprintf(out_, "## %s\n", name.c_str());
  }
  void Record(const Decisions& d) {
    for (const Eviction& e : d.evictions) Evict(e);
    for (const Binding& b : d.binds) Bind(b);
    for (const PendingReason& p : d.pending) RecordPending(p);
  }

  void Bind(const Binding& b) override {
    if (out_ == nullptr) return;
    std::fprintf(out_, "%lld bind %s %s %s\n", Now(), b.pod_key.c_str(), b.node.c_str(),
                 absl::StrJoin(b.gpu_devices, ",").c_str());
  }
  void Evict(const Eviction& e) override {
    if (out_ == nullptr) return;
    std::fprintf(out_, "%lld evict %s by %s: %s\n", Now(), e.pod_key.c_str(), e.preemptor_key.c_str(),
                 e.reason.c_str());
  }
  void RecordPending(const PendingReason& p) override {
    if (out_ == nullptr) return;
    std::fprintf(out_, "%lld pending %s [%s]: %s\n", Now(), p.pod_key.c_str(), p.nominated_node.c_str(),
                 p.message.c_str());
  }
  void CollectOutcomes(std::vector<BindOutcome>*) override {}
  void CollectEvictionOutcomes(std::vector<EvictionOutcome>*) override {}

 private:
  long long Now() const { return clock_ == nullptr ? 0 : static_cast<long long>(clock_->NowMillis()); }

  std::FILE* out_;
  const Clock* clock_;
};

}  // namespace drover::bench
