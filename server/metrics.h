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

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "server/daemon.h"
#include "server/status.h"

namespace drover {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

class Metrics {
 public:
  // `board` must outlive this object.
  explicit Metrics(const StatusBoard* board);

  // Records one cycle's duration, the waiting time of each pod it bound, and
  // each eviction it decided by kind and the victim's tier (loop thread).
  void ObserveCycle(const Daemon::CycleRecord& cycle);
  // The text exposition of every series (any thread).
  std::string Render() const;
  // Adds families computed at each scrape by `collect` (any thread; must be thread-safe).
  // Before the HTTP server starts.
  void AddCollector(std::function<std::vector<prometheus::MetricFamily>()> collect) {
    collectors_.push_back(std::move(collect));
  }

 private:
  const StatusBoard* board_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Histogram>* cycle_seconds_;
  prometheus::Family<prometheus::Histogram>* wait_seconds_;
  prometheus::Family<prometheus::Counter>* victims_;
  std::vector<std::function<std::vector<prometheus::MetricFamily>()>> collectors_;
};

class StoreHealth;
// The store's health: `drover_store_degraded` (1 while writes fail or it did not
// open), `drover_store_write_failures_total`, and
// `drover_store_write_duration_seconds{kind}` (timeline, audit, usage, timers,
// configuration revision, retention). `health` must outlive the collector's use.
std::function<std::vector<prometheus::MetricFamily>()> StoreHealthCollector(const StoreHealth* health);

namespace k8s {
class HttpClient;
class KubeClusterSource;
}  // namespace k8s

// API client requests by verb and code, and the informers' lists, watches,
// relists and errors by resource: `drover_apiserver_requests_total{verb,code}`,
// `drover_watch_*_total{resource}`. Both must outlive the collector's use.
std::function<std::vector<prometheus::MetricFamily>()> KubeClientCollector(const k8s::HttpClient* http,
                                                                          const k8s::KubeClusterSource* source);

}  // namespace drover
