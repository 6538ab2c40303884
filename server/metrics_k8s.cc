// KubeClientCollector: the Kubernetes adapter's counters as Prometheus families.
#include "k8s/http_client.h"
#include "k8s/informer.h"
#include "server/metrics.h"

namespace drover {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;

MetricFamily Counter(std::string name, std::string help) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Counter;
  return f;
}

void Add(MetricFamily& f, std::vector<ClientMetric::Label> labels, int64_t value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = static_cast<double>(value);
  f.metric.push_back(std::move(m));
}

}  // namespace

std::function<std::vector<MetricFamily>()> KubeClientCollector(const k8s::HttpClient* http,
                                                               const k8s::KubeClusterSource* source) {
  return [http, source] {
    std::vector<MetricFamily> out;
    MetricFamily requests = Counter("drover_apiserver_requests_total",
                                    "Requests to the API server by verb and HTTP status (\"error\": no response).");
    for (const auto& [key, n] : http->RequestCounts()) Add(requests, {{"verb", key.first}, {"code", key.second}}, n);
    out.push_back(std::move(requests));
    MetricFamily retries = Counter("drover_apiserver_retries_total", "Requests to the API server retried.");
    Add(retries, {}, http->retries());
    out.push_back(std::move(retries));
    MetricFamily connects = Counter("drover_apiserver_connections_opened_total",
                                    "Connections (TCP, with a TLS handshake on https) opened to the API server.");
    Add(connects, {}, http->connections_opened());
    out.push_back(std::move(connects));
    struct Field {
      const char* name;
      const char* help;
      int64_t k8s::Reflector::Stats::*value;
    };
    static constexpr Field kFields[] = {
        {"drover_watch_lists_total", "Complete lists by an informer.", &k8s::Reflector::Stats::lists},
        {"drover_watch_list_errors_total", "Lists by an informer that failed (then back-off).",
         &k8s::Reflector::Stats::list_errors},
        {"drover_watch_requests_total", "Watch requests started by an informer.", &k8s::Reflector::Stats::watches},
        {"drover_watch_relists_gone_total", "Watches that ended 410 Gone and forced a relist.",
         &k8s::Reflector::Stats::gone},
        {"drover_watch_errors_total", "Watches that ended in an error (then back-off).",
         &k8s::Reflector::Stats::watch_errors},
        {"drover_watch_silent_total", "Watches restarted after no event or bookmark within their bound.",
         &k8s::Reflector::Stats::silent_watches},
        {"drover_watch_events_total", "Watch events applied, bookmarks included.", &k8s::Reflector::Stats::watch_events},
        {"drover_watch_bad_objects_total", "Objects skipped because they did not decode.",
         &k8s::Reflector::Stats::bad_objects},
    };
    const k8s::Reflector::Stats nodes = source->nodes().stats(), pods = source->pods().stats(),
                                namespaces = source->namespaces().stats();
    for (const Field& f : kFields) {
      MetricFamily family = Counter(f.name, f.help);
      Add(family, {{"resource", "nodes"}}, nodes.*(f.value));
      Add(family, {{"resource", "pods"}}, pods.*(f.value));
      Add(family, {{"resource", "namespaces"}}, namespaces.*(f.value));
      out.push_back(std::move(family));
    }
    return out;
  };
}

}  // namespace drover
