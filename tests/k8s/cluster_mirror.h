// Test helper: applies ClusterEvents to maps, as the snapshot would, so tests can
// compare what the informer delivered with what the API server holds.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/cluster.h"
#include "k8s/decode.h"
#include "k8s/http_client.h"

namespace drover::k8s::testing {

struct ClusterMirror {
  std::map<std::string, Pod> pods;
  std::map<std::string, Node> nodes;
  std::map<std::string, Labels> namespaces;
  int pod_upserts = 0;
  int pod_deletes = 0;
  std::vector<std::string> deleted_pods;

  void Apply(std::vector<ClusterEvent>& events) {
    for (ClusterEvent& ev : events) {
      switch (ev.kind) {
        case ClusterEvent::Kind::kNodeUpsert: nodes[ev.node.name] = ev.node; break;
        case ClusterEvent::Kind::kNodeDelete: nodes.erase(ev.node.name); break;
        case ClusterEvent::Kind::kPodUpsert:
          ++pod_upserts;
          pods[ev.pod.Key()] = ev.pod;
          break;
        case ClusterEvent::Kind::kPodDelete:
          ++pod_deletes;
          deleted_pods.push_back(ev.pod.Key());
          pods.erase(ev.pod.Key());
          break;
        case ClusterEvent::Kind::kNamespaceUpsert: namespaces[ev.ns.name] = ev.ns.labels; break;
        case ClusterEvent::Kind::kNamespaceDelete: namespaces.erase(ev.ns.name); break;
      }
    }
    events.clear();
  }
};

// Every pod key the server holds now (one unpaginated LIST).
inline std::map<std::string, std::string> ServerPods(HttpClient* http) {
  std::map<std::string, std::string> out;  // key -> nodeName
  absl::StatusOr<HttpResponse> r = http->Send(HttpRequest{.path = "/api/v1/pods"});
  if (!r.ok() || r->status != 200) return out;
  Decoder dec;
  (void)dec.DecodePodList(
      r->body, [&](Pod&& p) { out[p.Key()] = p.node_name; }, [](std::string_view, const absl::Status&) {});
  return out;
}

inline std::map<std::string, std::string> MirrorPods(const ClusterMirror& m) {
  std::map<std::string, std::string> out;
  for (const auto& [k, p] : m.pods) out[k] = p.node_name;
  return out;
}

}  // namespace drover::k8s::testing
