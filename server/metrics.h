// Prometheus metrics for droverd, served as text at GET /metrics.
//
//   Metrics metrics(&board);                         // reads the published status at scrape time
//   loop.AddObserver([&](const Daemon::CycleRecord& c) { metrics.ObserveCycle(c); });
//   http.Get("/metrics", [&](const HttpRequest&) { return HttpResponse{200, metrics.Render(), kMetricsContentType}; });
//
// Two kinds of series. Most are read from the latest ClusterStatus when scraped
// (queues, pending work, GPU inventory, engine counters, leadership, configuration),
// so scraping never touches the engine and costs the loop nothing. Histograms of
// cycle time and of pods' waiting time are observed on the loop thread as cycles run.
//
// Conventions (promtool check metrics is clean): drover_ prefix, base units
// (seconds, bytes, cores, GPUs as devices), _total counters. Labels are bounded:
// queue (at most the document's 10,000 queues), resource (GPU types, cpu, memory),
// tier (0-2), reason (PendingCode names), kind/result (a few values). Never a pod
// or node name. server/README.md lists every series.
#pragma once

#include <memory>
#include <string>

#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/daemon.h"
#include "server/status.h"

namespace drover {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

class Metrics {
 public:
  // `board` must outlive this object.
  explicit Metrics(const StatusBoard* board);

  // Records one cycle's duration and the waiting time of each pod it bound (loop thread).
  void ObserveCycle(const Daemon::CycleRecord& cycle);
  // The text exposition of every series (any thread).
  std::string Render() const;

 private:
  const StatusBoard* board_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Histogram>* cycle_seconds_;
  prometheus::Family<prometheus::Histogram>* wait_seconds_;
};

}  // namespace drover
