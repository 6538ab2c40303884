// A cluster without an engine, for the tests of the engine's parts (Preemptor,
// Reservations): a snapshot, a queue tree and a node index kept in step by hand,
// and the engine's records of the pods running on it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/model.h"
#include "placement/preemptor.h"
#include "placement/reservations.h"
#include "tests/placement/harness.h"

namespace drover::testing {

struct BareCluster {
  QueueConfig cfg;
  GpuCatalog catalog;
  Snapshot snap;
  QueueTree tree;
  NodeIndex index;
  absl::flat_hash_map<std::string, TrackedPod> pods;
  QVec capacity{};

  explicit BareCluster(const char* yaml) : cfg(ParseOrDie(yaml)), catalog(cfg.catalog), snap(&catalog), tree(cfg) {}

  void AddNode(const Node& n) {
    (void)snap.UpsertNode(n);
    const NodeId id = snap.FindNode(n.name);
    index.Update(snap, id);
    capacity[QGpu(snap.node(id).node.gpu_type)] += n.allocatable[Res::kGpu];
    capacity[kQCpu] += n.allocatable[Res::kCpu];
    capacity[kQMemory] += n.allocatable[Res::kMemory];
    tree.SetClusterCapacity(capacity);
  }
  // A pod of ours running on `node` since `started_ms`, charged to its queues.
  void Run(Pod p, const std::string& node, int64_t started_ms) {
    p.node_name = node;
    p.phase = PodPhase::kRunning;
    DecodePodIntent(&p);
    TrackedPod t;
    t.leaf = tree.LeafForRunning(p);
    t.tier = tree.TierFor(p);
    t.charge = *tree.ChargeFor(p, snap.node(snap.FindNode(node)).node.gpu_type);
    t.charged = true;
    t.started_ms = started_ms;
    tree.Add(t.leaf, t.charge, t.tier);
    const std::string key = p.Key();
    snap.UpsertPod(std::move(p));
    index.Update(snap, snap.FindNode(node));
    pods[key] = t;
  }
  PreemptionView View(std::function<bool(NodeId)> held = {}) {
    return PreemptionView{&snap, &tree, &index, &catalog, &pods, std::move(held)};
  }
  ReservationView ReservationsView(std::function<bool(NodeId)> nominated = {}) {
    return ReservationView{&snap, &tree, &index, &catalog, &pods, std::move(nominated)};
  }
  PreemptionRequest Request(const std::vector<const Pod*>& members, bool each_member_evicts) {
    PreemptionRequest r;
    r.members = members;
    r.leaf = *tree.LeafFor(*members[0]);
    r.tier = tree.TierFor(*members[0]);
    r.priority = members[0]->priority;
    r.each_member_evicts = each_member_evicts;
    return r;
  }
  std::string NodeName(NodeId id) const { return snap.node(id).node.name; }
};

inline Pod Decoded(Pod p) {
  DecodePodIntent(&p);
  return p;
}

}  // namespace drover::testing
